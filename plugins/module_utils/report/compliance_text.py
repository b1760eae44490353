# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The short table of a compliance results document for the play output: one line per
rule with its counts and the first hosts that fail it, however many hosts there are."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report.text import xml_safe

COLUMNS = (('pass', 'PASS'), ('fail', 'FAIL'), ('error', 'ERROR'), ('waived', 'WAIVED'), ('not_applicable', 'N/A'),
           ('skipped', 'SKIPPED'))
HOSTS_SHOWN = 3


def compliance_table(document):
    """The table as text, one line per row."""
    rules = document['rules']
    counts = dict((rule['name'], dict((verdict, 0) for verdict, dummy in COLUMNS)) for rule in rules)
    failing = dict((rule['name'], []) for rule in rules)
    for result in document['results']:
        counts[result['rule']][result['verdict']] += 1
        if result['verdict'] in ('fail', 'error'):
            failing[result['rule']].append(result['host'])
    name_width = max([len('RULE')] + [len(xml_safe(rule['name'], 60)) for rule in rules])
    header = ['RULE'.ljust(name_width), 'SEVERITY'] + [label for dummy, label in COLUMNS] + ['FAILING HOSTS']
    widths = [name_width, 8] + [max(len(label), 5) for dummy, label in COLUMNS]
    lines = ['  '.join(text.ljust(width) for text, width in zip(header, widths + [0])).rstrip()]
    for rule in rules:
        hosts = failing[rule['name']]
        shown = ', '.join(xml_safe(host, 40) for host in hosts[:HOSTS_SHOWN])
        if len(hosts) > HOSTS_SHOWN:
            shown += ' and %d more' % (len(hosts) - HOSTS_SHOWN)
        cells = [xml_safe(rule['name'], 60), rule['severity']] + [str(counts[rule['name']][verdict]) for verdict, dummy in COLUMNS]
        lines.append('  '.join(text.ljust(width) for text, width in zip(cells + [shown], widths + [0])).rstrip())
    summary = document.get('summary') or {}
    verdicts = summary.get('verdicts') or {}
    lines.append('%d host(s) x %d rule(s): %s; %d blocking at or above %s' % (
        len(document['hosts']), len(rules), ', '.join('%d %s' % (verdicts.get(verdict, 0), verdict) for verdict, dummy in COLUMNS),
        summary.get('blocking', 0), document.get('fail_on', 'error')))
    return '\n'.join(lines) + '\n'
