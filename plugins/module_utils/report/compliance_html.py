# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The single-file HTML report of a compliance results document (``policy/compliance.py``),
on the shared page of ``report/html.py``: a hosts x rules matrix coloured by verdict and
severity, sortable and filterable, and the rules with their counts. A click on a cell
shows the fact path, value, message and waiver behind it.

The evidence is embedded once, as JSON (``compliance-data``): ``details`` holds every
distinct (verdict, severity, message, fact path, value, waiver) and ``matrix[h][r]`` the
index of host h's result for rule r. Hosts of a fleet share most of their results, so a
1,000-host report stays a few MB. Every text from the facts or the inventory goes through
``xml_safe`` (control characters and undecodable bytes shown as escapes) and ``esc``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.freshness import format_age
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report.html import esc, filter_box, filter_select, json_data, page
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report.text import xml_safe

DATA_ID = 'compliance-data'
TABLE_ID = 'matrix'
# Verdict -> (cell text, css class); a failure's class also depends on its severity.
CELLS = {
    'pass': ('pass', 'pass'),
    'fail': ('FAIL', 'fail'),
    'error': ('ERROR', 'fail'),
    'waived': ('waived', 'waived'),
    'not_applicable': ('n/a', 'na'),
    'skipped': ('skipped', 'na'),
}
# The class of a cell, c-<verdict><severity> in one letter each: short, for 41,000 cells.
VERDICT_CODES = {'pass': 'p', 'fail': 'f', 'error': 'e', 'waived': 'w', 'not_applicable': 'n', 'skipped': 's'}
SEVERITY_CODES = {'info': 'i', 'warning': 'w', 'error': 'e', 'critical': 'c'}
VERDICT_CHOICES = [('fail', 'fail'), ('error', 'error'), ('waived', 'waived'), ('pass', 'pass'),
                   ('not_applicable', 'not applicable'), ('skipped', 'skipped')]
TEXT_LIMIT = 2000

STYLE = '''
#matrix td[class^="c-"] { text-align: center; cursor: pointer; white-space: nowrap; font-size: .85em; }
#matrix td.selected { box-shadow: inset 0 0 0 3px var(--ink); }
#matrix tbody tr { content-visibility: auto; contain-intrinsic-size: auto 1.9rem; }
#matrix th.rule { writing-mode: vertical-rl; transform: rotate(180deg); max-height: 14rem; font-weight: 600; }
#matrix th.rule.sev-warning, #matrix th.rule.sev-info { color: var(--warn); }
#matrix th.rule.sev-error, #matrix th.rule.sev-critical { color: var(--fail); }
#matrix td.host { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; white-space: nowrap; }
.legend span { display: inline-block; padding: .1rem .5rem; border-radius: .25rem; margin-right: .25rem; }
.detail dt { font-weight: 600; } .detail dd { margin: 0 0 .4rem 0; }
''' + ''.join(
    # One class per cell: 41,000 cells parse and style faster with one.
    '#matrix td.c-%s%s { color: var(--%s); background: var(--%s-bg);%s }\n' % (
        VERDICT_CODES[verdict], SEVERITY_CODES[severity], colour, colour,
        (' font-weight: 700; outline: 2px solid var(--fail); outline-offset: -2px;' if severity == 'critical' and verdict in ('fail', 'error') else '')
        + (' font-style: italic;' if verdict == 'error' else ''))
    for verdict, base in (('pass', 'pass'), ('fail', 'fail'), ('error', 'fail'), ('waived', 'waived'), ('not_applicable', 'na'),
                          ('skipped', 'na'))
    for severity in ('info', 'warning', 'error', 'critical')
    for colour in ['warn' if base == 'fail' and severity in ('info', 'warning') else base])


# Shows the evidence of a clicked cell; every value is set as text, never as markup.
SCRIPT = '''
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("compliance-data").textContent);
  var panel = document.getElementById("detail"), table = document.getElementById("matrix");
  var selected = null;
  function field(name, value) {
    var node = panel.querySelector("[data-field=\\"" + name + "\\"]");
    node.textContent = value;
    node.parentNode.hidden = value === "";
  }
  function show(cell) {
    var row = cell.parentNode, rule = cell.cellIndex - 2;
    var host = Number(row.getAttribute("data-h"));
    if (rule < 0 || isNaN(host)) { return; }
    var detail = data.details[data.matrix[host][rule]];
    if (selected) { selected.classList.remove("selected"); }
    selected = cell;
    cell.classList.add("selected");
    field("host", data.hosts[host]);
    field("rule", data.rules[rule].name + " (" + data.rules[rule].severity + ")" +
          (data.rules[rule].description ? ": " + data.rules[rule].description : ""));
    field("verdict", detail[0]);
    field("path", detail[3] === null ? "" : detail[3]);
    field("value", detail[3] === null ? "" : detail[4]);
    field("message", detail[2]);
    field("waiver", detail[5] || "");
    panel.hidden = false;
  }
  table.tBodies[0].addEventListener("click", function (event) {
    var cell = event.target.closest("td");
    if (cell && cell.cellIndex >= 2) { show(cell); }
  });
}());
'''


def _value_text(found):
    value = found.get('value')
    if found.get('truncated') or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _waiver_text(waiver):
    if not waiver:
        return None
    hosts = waiver.get('host')
    hosts = ', '.join(hosts) if isinstance(hosts, list) else hosts
    state = 'expired on' if waiver.get('expired') else 'waived until'
    return '%s %s (hosts %s, rule %s): %s' % (state, waiver.get('expires'), hosts, waiver.get('rule'), waiver.get('reason'))


def _detail(result):
    found = result.get('evidence') or {}
    return (result['verdict'], result['severity'], xml_safe(result['message'], TEXT_LIMIT),
            xml_safe(found['path'], TEXT_LIMIT) if found else None,
            xml_safe(_value_text(found), TEXT_LIMIT) if found else None,
            xml_safe(_waiver_text(result.get('waiver')), TEXT_LIMIT) if result.get('waiver') else None)


def _cell_class(result):
    return CELLS[result['verdict']][0], 'c-%s%s' % (VERDICT_CODES[result['verdict']], SEVERITY_CODES[result['severity']])


def compliance_html(document):
    """The HTML text of ``document``: one self-contained page."""
    rules = document['rules']
    rule_index = dict((rule['name'], index) for index, rule in enumerate(rules))
    hosts = document['hosts']
    host_index = dict((host, index) for index, host in enumerate(hosts))
    matrix = [[None] * len(rules) for dummy in hosts]
    cells = [[None] * len(rules) for dummy in hosts]
    details, detail_index = [], {}
    counts = dict((rule['name'], {}) for rule in rules)
    for result in document['results']:
        h, r = host_index[result['host']], rule_index[result['rule']]
        key = _detail(result)
        index = detail_index.get(key)
        if index is None:
            index = detail_index[key] = len(details)
            details.append(key)
        matrix[h][r] = index
        cells[h][r] = result
        tally = counts[result['rule']]
        tally[result['verdict']] = tally.get(result['verdict'], 0) + 1

    head = [u'<thead><tr><th class="sortable" scope="col">Host</th>'
            u'<th class="sortable num" scope="col" title="fail and error results">Violations</th>']
    for rule in rules:
        head.append(u'<th class="sortable rule sev-%s" scope="col" title="%s">%s</th>' % (
            esc(rule['severity']), esc(xml_safe('%s (%s): %s' % (rule['name'], rule['severity'], rule['description']), TEXT_LIMIT)),
            esc(xml_safe(rule['name'], 200))))
    head.append(u'</tr></thead>')

    rows = []
    for h, host in enumerate(hosts):
        verdicts, parts, violations = set(), [], 0
        for result in cells[h]:
            if result is None:
                parts.append(u'<td></td>')
                continue
            verdicts.add(result['verdict'])
            if result['verdict'] in ('fail', 'error'):
                violations += 1
            text, css = _cell_class(result)
            parts.append(u'<td class="%s">%s</td>' % (css, text))
        rows.append(u'<tr data-h="%d" data-verdicts="%s"><td class="host">%s</td><td class="num">%d</td>%s</tr>' % (
            h, u' '.join(sorted(verdicts)), esc(xml_safe(host, 1024)), violations, u''.join(parts)))

    summary = document.get('summary') or {}
    verdict_counts = summary.get('verdicts') or {}
    tiles = [(len(hosts), 'hosts'), (len(rules), 'rules')] + [
        (verdict_counts.get(verdict, 0), label) for verdict, label in VERDICT_CHOICES]
    tiles.append((summary.get('blocking', 0), 'blocking (at or above %s)' % document.get('fail_on', 'error')))

    rule_rows = []
    for rule in rules:
        tally = counts[rule['name']]
        rule_rows.append(u'<tr><td><code>%s</code></td><td>%s</td><td>%s</td><td><code>%s</code></td>%s</tr>' % (
            esc(xml_safe(rule['name'], 200)), esc(rule['severity']), esc(xml_safe(rule['description'], TEXT_LIMIT)),
            esc(xml_safe(json.dumps(rule['check'], sort_keys=True, ensure_ascii=False, default=str), TEXT_LIMIT)),
            u''.join(u'<td class="num">%d</td>' % tally.get(verdict, 0) for verdict, dummy in VERDICT_CHOICES)))

    body = [
        u'<p class="meta">%s; the play fails on violations at or above <b>%s</b>.</p>' % (
            u'Facts older than %s fail <code>facts_fresh</code>' % esc(format_age(document['max_age'])) if document.get('max_age')
            else u'Facts of any age pass <code>facts_fresh</code> (no max age)', esc(document.get('fail_on', 'error'))),
        u'<div class="tiles">%s</div>' % u''.join(u'<div class="tile"><b>%d</b>%s</div>' % (count, esc(label)) for count, label in tiles),
        u'<h2>Hosts &times; rules</h2>',
        u'<p class="legend"><span class="pass">pass</span><span class="fail">FAIL: error, critical</span>'
        u'<span class="warn">FAIL: warning, info</span><span class="waived">waived</span><span class="na">n/a, skipped</span>'
        u' Click a cell for the fact behind it.</p>',
        u'<div class="controls">', filter_box(TABLE_ID, 'Filter hosts and verdicts'),
        filter_select(TABLE_ID, 'data-verdicts', 'Verdict', VERDICT_CHOICES),
        u'<span><span data-count="%s">%d</span> of %d hosts shown</span></div>' % (TABLE_ID, len(hosts), len(hosts)),
        u'<div class="detail" id="detail" hidden><dl>%s</dl></div>' % u''.join(
            u'<div><dt>%s</dt><dd><pre data-field="%s"></pre></dd></div>' % (label, name) for name, label in (
                ('host', 'Host'), ('rule', 'Rule'), ('verdict', 'Verdict'), ('path', 'Fact'), ('value', 'Value'),
                ('message', 'Message'), ('waiver', 'Waiver'))),
        u'<div class="scroll"><table id="%s">' % TABLE_ID, u''.join(head), u'<tbody>', u'\n'.join(rows), u'</tbody></table></div>',
        u'<h2>Rules</h2><div class="scroll"><table id="rules"><thead><tr>%s</tr></thead><tbody>%s</tbody></table></div>' % (
            u''.join(u'<th class="sortable%s" scope="col">%s</th>' % (css, esc(label)) for label, css in (
                [('Rule', ''), ('Severity', ''), ('Description', ''), ('Check', '')]
                + [(label, ' num') for dummy, label in VERDICT_CHOICES])),
            u''.join(rule_rows)),
        json_data(DATA_ID, {
            'hosts': [xml_safe(host, 1024) for host in hosts],
            'rules': [{'name': xml_safe(rule['name'], 200), 'severity': rule['severity'],
                       'description': xml_safe(rule['description'], TEXT_LIMIT)} for rule in rules],
            'details': details,
            'matrix': matrix,
        }),
    ]
    title = u'Compliance of %d host%s against %d rules' % (len(hosts), '' if len(hosts) == 1 else 's', len(rules))
    return page(title, u'\n'.join(body), style=STYLE, script=SCRIPT, generated_at=document.get('generated_at'))
