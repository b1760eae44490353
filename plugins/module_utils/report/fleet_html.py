# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report as one self-contained HTML document, from the model of fleet.py.

Sections: fleet tiles, the hosts that need attention, capacity totals (an SVG bar chart),
the utilisation heat map (hosts x resource classes), the trait matrix, the SR-IOV and
GPU inventory, and the drift since a date. Charts are SVG written here; tables sort and
filter with the script of html.py. Every value goes through ``esc``: host, trait and
device names come from inventories and hardware, and are not trusted.

Markup is kept terse (a class per heat map bucket, no style attributes), because a fleet
of 1,000 hosts has some 100,000 cells.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.freshness import format_age
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report import html
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report.fleet import (
    MALFORMED, NO_FACTS, OK, STALE,
)

esc = html.esc

STATE_LABELS = {OK: 'ok', STALE: 'stale facts', MALFORMED: 'unreadable facts', NO_FACTS: 'no facts'}
# Utilisation buckets of 10 %, then "over capacity" and "no capacity".
BUCKETS = ('#e3f4e8', '#cdebd6', '#b6e2c1', '#d8e6a6', '#f0e68c', '#f8d77a', '#f7bd5f', '#f29d4f', '#e8744a', '#d9483b')
OVER, NONE = '#8e2bb5', '#f2f4f7'
VALUE_LIMIT = 160

STYLE = '''
.hm td.u { text-align: right; font-variant-numeric: tabular-nums; min-width: 4.5rem; }
%s
.hm td.ux { background: %s; color: #fff; } .hm td.un { background: %s; color: #98a2b3; }
.state-stale { color: var(--warn); background: var(--warn-bg); } .state-malformed, .state-no_facts { color: var(--fail); background: var(--fail-bg); }
.state-ok { color: var(--pass); }
.tm th.v { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; font-weight: 500; font-size: .8em; padding: .4rem .15rem; }
.tm td { text-align: center; padding: .15rem .3rem; } .tm td.h { text-align: left; white-space: nowrap; }
.tm td.y { color: #1d4ed8; } .tm tr.nf td.h { color: var(--fail); }
.chart text { font: 12px system-ui, sans-serif; fill: var(--ink); } .chart .muted { fill: var(--muted); }
.legend { display: flex; align-items: center; gap: .5rem; color: var(--muted); font-size: .9em; }
.tile.bad b { color: var(--fail); } .tile.warn b { color: var(--warn); } .tile small { color: var(--muted); }
.common { color: var(--muted); font-size: .9em; } .common code { margin-right: .35rem; }
td.path { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85em; }
td.op-added { color: var(--pass); } td.op-removed { color: var(--fail); } td.op-changed { color: var(--warn); }
nav a { margin-right: 1rem; }
.scroll { content-visibility: auto; contain-intrinsic-size: auto 30rem; }
''' % ('\n'.join('.hm td.u%d { background: %s; }' % (index, colour) for index, colour in enumerate(BUCKETS)), OVER, NONE)


def _number(value, digits=0):
    if value is None:
        return '?'
    if isinstance(value, float) and (digits or not value.is_integer()):
        return '{0:,.{1}f}'.format(value, digits or 1)
    return '{0:,}'.format(int(value))


def _percent(ratio):
    return '-' if ratio is None else '%d%%' % round(ratio * 100)


def _bucket(ratio):
    """The CSS class of a heat map cell."""
    if ratio is None:
        return 'un'
    if ratio > 1.0:
        return 'ux'
    return 'u%d' % min(int(ratio * 10), 9)


def _colour(ratio):
    if ratio is None:
        return NONE
    return OVER if ratio > 1.0 else BUCKETS[min(int(ratio * 10), 9)]


def _value(value):
    """A drift value, short: JSON, cut to VALUE_LIMIT characters."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return text if len(text) <= VALUE_LIMIT else text[:VALUE_LIMIT - 3] + '...'


def _tile(label, value, detail='', css=''):
    return u'<div class="tile %s"><span>%s</span><b>%s</b>%s</div>' % (
        esc(css), esc(label), esc(value), u'<small>%s</small>' % esc(detail) if detail else '')


def _tiles(model):
    summary, totals = model['summary'], model['totals']
    tiles = [_tile('Hosts', summary['hosts'], '%d with facts' % summary['with_facts'])]
    if summary['stale']:
        tiles.append(_tile('Stale facts', summary['stale'], 'older than %s' % format_age(model['max_age_seconds']), 'warn'))
    missing = summary['without_facts'] + summary['malformed']
    if missing:
        tiles.append(_tile('Without usable facts', missing, 'listed below', 'bad'))
    for name in ('VCPU', 'MEMORY_MB', 'DISK_GB'):
        found = totals.get(name)
        if found:
            tiles.append(_tile('%s used' % name, _percent(found['utilisation']),
                               '%s of %s %s' % (_number(found['used']), _number(found['capacity']), found['unit'])))
    if summary['vfs']:
        tiles.append(_tile('SR-IOV VFs', _number(summary['vfs']), '%s free where known' % _number(summary['vfs_free'])))
    if summary['gpus']:
        tiles.append(_tile('GPUs', summary['gpus'], '%d passthrough candidates' % summary['gpus_candidate']))
    tiles.append(_tile('Traits', summary['traits'], 'distinct, over the fleet'))
    if summary['hosts_changed'] is not None:
        tiles.append(_tile('Hosts changed', summary['hosts_changed'], 'since %s' % summary['drift_since'],
                           'warn' if summary['hosts_changed'] else ''))
    return u'<div class="tiles">%s</div>' % u''.join(tiles)


def _attention(model):
    hosts = [host for host in model['hosts'] if host['state'] != OK]
    head = u'<h2 id="attention">Hosts that need attention</h2>'
    if not hosts:
        limit = 'younger than %s' % format_age(model['max_age_seconds']) if model['max_age_seconds'] else 'of any age (no max age)'
        return head + u'<p>Every host has facts %s.</p>' % esc(limit)
    rows = u''.join(u'<tr><td>%s</td><td class="state-%s">%s</td><td>%s</td><td>%s</td></tr>' % (
        esc(host['name']), esc(host['state']), esc(STATE_LABELS[host['state']]), esc(host['collected_at'] or '-'),
        esc(host['reason'] or '')) for host in hosts)
    return head + (u'<p>These hosts are in the report, but their numbers are missing or old.</p>'
                   u'<div class="scroll"><table id="attention-table">%s<tbody>%s</tbody></table></div>'
                   % (html.sortable_header([('Host', ''), ('State', ''), ('Collected at', ''), ('Why', '')]), rows))


def _totals_chart(model):
    """One bar per resource class: capacity as the track, use as the fill."""
    classes = model['classes']
    if not classes:
        return u'<p>No host has facts, so there is no capacity to show.</p>'
    width, label_w, bar_w, row_h = 900, 190, 420, 30
    parts = [u'<svg class="chart" id="totals-chart" role="img" aria-label="Fleet capacity and use per resource class" '
             u'width="%d" height="%d" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg">'
             % (width, row_h * len(classes) + 10, width, row_h * len(classes) + 10)]
    for index, name in enumerate(classes):
        found = model['totals'][name]
        y = 5 + index * row_h
        ratio = found['utilisation']
        fill = 0 if ratio is None else min(ratio, 1.0) * bar_w
        text = '%s / %s %s (%s) on %d host(s)' % (
            _number(found['used']), _number(found['capacity']), found['unit'], _percent(ratio), found['hosts'])
        parts.append(
            u'<g><title>%s: %s</title><text x="0" y="%d">%s</text>'
            u'<rect x="%d" y="%d" width="%d" height="18" rx="3" fill="#eef0f3"/>'
            u'<rect x="%d" y="%d" width="%.1f" height="18" rx="3" fill="%s"/>'
            u'<text class="muted" x="%d" y="%d">%s</text></g>'
            % (esc(name), esc(text), y + 14, esc(name), label_w, y, bar_w, label_w, y, fill, _colour(ratio),
               label_w + bar_w + 10, y + 14, esc(text)))
    parts.append(u'</svg>')
    return u''.join(parts)


def _legend():
    stops = u''.join(u'<rect x="%d" y="0" width="24" height="14" fill="%s"/>' % (index * 24, colour)
                     for index, colour in enumerate(BUCKETS))
    return (u'<div class="legend"><span>0%%</span><svg width="%d" height="14" role="img" aria-label="utilisation colour scale" '
            u'xmlns="http://www.w3.org/2000/svg">%s</svg><span>100%%</span>'
            u'<svg width="24" height="14" aria-hidden="true" xmlns="http://www.w3.org/2000/svg"><rect width="24" height="14" fill="%s"/></svg>'
            u'<span>over capacity</span><svg width="24" height="14" aria-hidden="true" xmlns="http://www.w3.org/2000/svg">'
            u'<rect width="24" height="14" fill="%s"/></svg><span>none or unknown</span></div>'
            % (24 * len(BUCKETS), stops, OVER, NONE))


def _heat_cell(name, found):
    if found is None:
        return u'<td class="u un" data-sort="-1" title="%s: not inventoried">-</td>' % esc(name)
    title = '%s: %s used of %s = (total %s - reserved %s) x allocation ratio %s' % (
        name, _number(found['used']), _number(found['capacity']), _number(found['total']), _number(found['reserved']),
        _number(found['allocation_ratio'], 2) if isinstance(found['allocation_ratio'], float) else found['allocation_ratio'])
    ratio = found['utilisation']
    return u'<td class="u %s" data-sort="%s" title="%s">%s</td>' % (
        _bucket(ratio), '-1' if ratio is None else '%.4f' % ratio, esc(title), _percent(ratio))


def _heat_map(model):
    classes = model['classes']
    header = html.sortable_header([('Host', ''), ('State', '')] + [(name, 'num') for name in classes])
    rows = []
    for host in model['hosts']:
        cells = u''.join(_heat_cell(name, host['resources'].get(name)) for name in classes)
        rows.append(u'<tr data-state="%s"><th scope="row">%s</th><td class="state-%s">%s</td>%s</tr>' % (
            esc(host['state']), esc(host['name']), esc(host['state']), esc(STATE_LABELS[host['state']]), cells))
    states = [(state, STATE_LABELS[state]) for state in (OK, STALE, MALFORMED, NO_FACTS)]
    return (u'<h2 id="heatmap">Utilisation per host</h2>'
            u'<p>Use over capacity, where capacity is (total - reserved) x allocation ratio, as placement counts it. '
            u'Hover a cell for its numbers; click a column to sort.</p>%s'
            u'<div class="controls">%s%s<span><span data-count="heatmap-table">%d</span> host(s) shown</span></div>'
            u'<div class="scroll"><table id="heatmap-table" class="hm">%s<tbody>%s</tbody></table></div>'
            % (_legend(), html.filter_box('heatmap-table', 'Filter hosts'),
               html.filter_select('heatmap-table', 'data-state', 'State', states), len(rows), header, u''.join(rows)))


def _trait_matrix(model):
    with_facts = [host for host in model['hosts'] if host['state'] in (OK, STALE)]
    count = len(with_facts)
    common = [trait for trait, hosts in model['traits'] if hosts == count] if count > 1 else []
    varying = sorted(trait for trait, hosts in model['traits'] if trait not in common)
    index = dict((trait, position) for position, trait in enumerate(varying))
    parts = [u'<h2 id="traits">Trait matrix</h2>']
    if common:
        parts.append(u'<p class="common">Offered by every host with facts (%d): %s</p>'
                     % (len(common), u' '.join(u'<code>%s</code>' % esc(trait) for trait in sorted(common))))
    if not varying:
        parts.append(u'<p>No trait tells these hosts apart.</p>')
        return u''.join(parts)
    choices = [(format(position, 'x'), trait) for position, trait in enumerate(varying)]
    header = u'<thead><tr><th class="sortable" scope="col">Host</th>%s</tr></thead>' % u''.join(
        u'<th class="sortable v" scope="col" title="%s">%s</th>' % (esc(trait), esc(trait)) for trait in varying)
    rows = []
    for host in model['hosts']:
        offered = set(host['traits'])
        marks = u''.join(u'<td class="y">&#9679;</td>' if trait in offered else u'<td></td>' for trait in varying)
        tokens = u' '.join(format(index[trait], 'x') for trait in host['traits'] if trait in index)
        css = u'' if host['state'] in (OK, STALE) else u' class="nf"'
        rows.append(u'<tr%s data-t="%s"><td class="h">%s</td>%s</tr>' % (css, tokens, esc(host['name']), marks))
    parts.append(u'<p>The traits that tell hosts apart, as placement matches required and forbidden traits. '
                 u'Click a trait to sort the hosts that offer it first.</p>'
                 u'<div class="controls">%s%s<span><span data-count="trait-table">%d</span> host(s) shown</span></div>'
                 u'<div class="scroll"><table id="trait-table" class="tm">%s<tbody>%s</tbody></table></div>'
                 % (html.filter_box('trait-table', 'Filter hosts'), html.filter_select('trait-table', 'data-t', 'Offers', choices),
                    len(rows), header, u''.join(rows)))
    return u''.join(parts)


def _yes_no(value):
    return 'yes' if value is True else 'no' if value is False else 'unknown'


def _device_chart(devices):
    """GPUs by model, as horizontal bars."""
    models = {}
    for device in devices:
        if device['kind'] == 'gpu':
            models[device['name']] = models.get(device['name'], 0) + 1
    if not models:
        return u''
    ordered = sorted(models.items(), key=lambda item: (-item[1], item[0]))[:12]
    top, row_h, label_w, bar_w = ordered[0][1], 26, 330, 360
    parts = [u'<svg class="chart" id="gpu-chart" role="img" aria-label="GPUs by model" width="%d" height="%d" '
             u'xmlns="http://www.w3.org/2000/svg">' % (label_w + bar_w + 60, row_h * len(ordered) + 6)]
    for position, (name, number) in enumerate(ordered):
        y = 3 + position * row_h
        parts.append(u'<g><title>%s: %d</title><text x="0" y="%d">%s</text><rect x="%d" y="%d" width="%.1f" height="16" rx="3" '
                     u'fill="#6172f3"/><text class="muted" x="%.1f" y="%d">%d</text></g>'
                     % (esc(name), number, y + 13, esc(name if len(name) <= 48 else name[:45] + '...'), label_w, y,
                        max(2.0, bar_w * number / top), label_w + max(2.0, bar_w * number / top) + 6, y + 13, number))
    parts.append(u'</svg>')
    return u''.join(parts)


def _inventory(model):
    functions, devices = model['physical_functions'], model['passthrough_devices']
    parts = [u'<h2 id="inventory">SR-IOV and passthrough inventory</h2>']
    no_sriov = [host['name'] for host in model['hosts'] if host['state'] in (OK, STALE) and host['sriov'] is None]
    if no_sriov:
        parts.append(u'<p class="common">No sriov facts (run virtumancer.hostcaps.sriov_facts) on %d host(s): %s</p>'
                     % (len(no_sriov), esc(', '.join(no_sriov[:50]) + (' ...' if len(no_sriov) > 50 else ''))))
    parts.append(u'<h3>Physical functions</h3>')
    if functions:
        rows = u''.join(
            u'<tr><td>%s</td><td><code>%s</code></td><td>%s</td><td>%s</td><td>%s</td><td class="num">%s</td><td class="num">%s</td>'
            u'<td class="num">%s</td><td class="num">%s</td><td class="num">%s</td><td>%s</td></tr>' % (
                esc(pf['host']), esc(pf['address']), esc(pf['name']), esc(pf['driver'] or '-'), esc(pf['interface'] or '-'),
                esc(_number(pf['speed_mbps']) if pf['speed_mbps'] else '-'), esc('-' if pf['numa_node'] is None else pf['numa_node']),
                esc(_number(pf['max_vfs'])), pf['vfs'], esc('unknown' if pf['vfs_free'] is None else pf['vfs_free']),
                esc(', '.join(pf['vfs_assigned']) or '-'))
            for pf in functions)
        parts.append(u'<div class="controls">%s<span><span data-count="pf-table">%d</span> shown</span></div>'
                     u'<div class="scroll"><table id="pf-table">%s<tbody>%s</tbody></table></div>' % (
                         html.filter_box('pf-table', 'Filter functions'), len(functions),
                         html.sortable_header([('Host', ''), ('Address', ''), ('Device', ''), ('Driver', ''), ('Interface', ''),
                                               ('Speed Mb/s', 'num'), ('NUMA', 'num'), ('Max VFs', 'num'), ('VFs', 'num'),
                                               ('VFs free', 'num'), ('VFs used by', '')]), rows))
    else:
        parts.append(u'<p>No SR-IOV physical function on any host.</p>')
    parts.append(u'<h3>GPUs and other passthrough devices</h3>')
    if devices:
        parts.append(_device_chart(devices))
        rows = u''.join(
            u'<tr data-kind="%s"><td>%s</td><td><code>%s</code></td><td>%s</td><td>%s</td><td>%s</td><td class="num">%s</td>'
            u'<td class="num">%s</td><td class="%s">%s</td><td>%s</td><td>%s</td></tr>' % (
                esc(device['kind'] or ''), esc(device['host']), esc(device['address']), esc(device['kind'] or '-'), esc(device['name']),
                esc(device['driver'] or '-'), esc('-' if device['numa_node'] is None else device['numa_node']),
                esc('-' if device['iommu_group'] is None else device['iommu_group']),
                {True: 'pass', False: 'fail'}.get(device['candidate'], 'na'), _yes_no(device['candidate']),
                esc(device['assigned_to'] or '-'), esc(device['reason'] or ''))
            for device in devices)
        kinds = sorted(set(device['kind'] for device in devices if device['kind']))
        parts.append(u'<div class="controls">%s%s<span><span data-count="device-table">%d</span> shown</span></div>'
                     u'<div class="scroll"><table id="device-table">%s<tbody>%s</tbody></table></div>' % (
                         html.filter_box('device-table', 'Filter devices'),
                         html.filter_select('device-table', 'data-kind', 'Kind', [(kind, kind) for kind in kinds]), len(devices),
                         html.sortable_header([('Host', ''), ('Address', ''), ('Kind', ''), ('Device', ''), ('Driver', ''),
                                               ('NUMA', 'num'), ('IOMMU group', 'num'), ('Candidate', ''), ('Used by', ''),
                                               ('Why not', '')]), rows))
    else:
        parts.append(u'<p>No GPU, NVMe or accelerator that a VM could be given on any host.</p>')
    return u''.join(parts)


def _drift(model):
    drift = model['drift']
    if drift is None:
        return u''
    parts = [u'<h2 id="drift">Changes since %s</h2>' % esc(drift['since'])]
    parts.append(u'<p>%d host(s) changed, %d unchanged%s. From the factdb history: the facts current at %s against the latest.</p>'
                 % (len(drift['hosts']), len(drift['unchanged']),
                    ', %d with no history in the store' % len(drift['not_recorded']) if drift['not_recorded'] else '',
                    esc(drift['since'])))
    if drift['not_recorded']:
        parts.append(u'<p class="common">No history in the store: %s</p>' % esc(', '.join(drift['not_recorded'])))
    if not drift['hosts']:
        return u''.join(parts)
    rows = []
    for host in drift['hosts']:
        name = esc(host['host'])
        if host['new']:
            rows.append(u'<tr data-op="new"><td>%s</td><td class="path">(the whole host)</td><td class="op-added">new</td>'
                        u'<td colspan="2">first recorded after %s: every fact is new</td></tr>' % (name, esc(drift['since'])))
        for trait in host['traits_added']:
            rows.append(u'<tr data-op="added"><td>%s</td><td class="path">traits</td><td class="op-added">added</td><td></td>'
                        u'<td>%s</td></tr>' % (name, esc(trait)))
        for trait in host['traits_removed']:
            rows.append(u'<tr data-op="removed"><td>%s</td><td class="path">traits</td><td class="op-removed">removed</td>'
                        u'<td>%s</td><td></td></tr>' % (name, esc(trait)))
        for change in host['changes']:
            old, new = change.get('old'), change.get('new')
            rows.append(u'<tr data-op="%s"><td>%s</td><td class="path">%s</td><td class="op-%s">%s</td><td title="%s">%s</td>'
                        u'<td title="%s">%s</td></tr>' % (
                            esc(change['op']), name, esc(change['path']), esc(change['op']), esc(change['op']),
                            esc(_value(old)) if 'old' in change else '', esc(_value(old)) if 'old' in change else '',
                            esc(_value(new)) if 'new' in change else '', esc(_value(new)) if 'new' in change else ''))
        if host['more']:
            rows.append(u'<tr><td>%s</td><td colspan="4">and %d more change(s): query(\'virtumancer.hostcaps.factdb\', \'diff\', '
                        u'host=..., since=...) lists them all</td></tr>' % (name, host['more']))
    ops = [('new', 'new host'), ('added', 'added'), ('removed', 'removed'), ('changed', 'changed')]
    parts.append(u'<div class="controls">%s%s<span><span data-count="drift-table">%d</span> change(s) shown</span></div>'
                 u'<div class="scroll"><table id="drift-table">%s<tbody>%s</tbody></table></div>' % (
                     html.filter_box('drift-table', 'Filter changes'), html.filter_select('drift-table', 'data-op', 'Change', ops),
                     len(rows), html.sortable_header([('Host', ''), ('What', ''), ('Change', ''), ('Old', ''), ('New', '')]),
                     u''.join(rows)))
    return u''.join(parts)


def render_fleet(model):
    """The fleet report of ``model`` (fleet.build_fleet) as one HTML document."""
    nav = u'<nav>%s</nav>' % u''.join(u'<a href="#%s">%s</a>' % (anchor, label) for anchor, label in (
        ('attention', 'Attention'), ('capacity', 'Capacity'), ('heatmap', 'Heat map'), ('traits', 'Traits'),
        ('inventory', 'SR-IOV and GPUs')) + ((('drift', 'Changes'),) if model['drift'] is not None else ()))
    meta = u'<p class="meta">%d host(s); %s%s</p>' % (
        model['summary']['hosts'], u'facts older than %s count as stale' % esc(format_age(model['max_age_seconds']))
        if model['max_age_seconds'] else u'facts of any age count (no max age)',
        u'; changes since %s' % esc(model['drift']['since']) if model['drift'] is not None else u'')
    body = u''.join((
        meta, nav, _tiles(model), _attention(model),
        u'<h2 id="capacity">Fleet capacity</h2>', _totals_chart(model),
        _heat_map(model), _trait_matrix(model), _inventory(model), _drift(model),
    ))
    return html.page(model['title'], body, style=STYLE, generated_at=model['generated_at'])
