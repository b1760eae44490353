# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The data of the fleet report: plain host facts in, a plain model out.

Every host is read as placement reads it (``policy/vm_hosts.read_host``), so the capacity
of a resource class is placement's ``(total - reserved) * allocation_ratio``
(``effective_inventory``, with the host's own ``hostcaps_allocation_ratios`` and
``hostcaps_reserved``) and a host's traits are those placement matches VMs against. The
utilisation shown is ``used / capacity``. fleet_html.py draws the model; the report role
keeps its ``summary``.

A host is never left out: one without facts, with facts placement cannot read, or with
facts older than ``max_age`` is listed with its state and the reason.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from collections.abc import Mapping

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.facts_input import as_list, dig
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.freshness import collected_time, format_age, parse_max_age
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import describe, short_repr
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.resources import RESOURCE_CLASSES
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.traits import normalize_custom_traits
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_hosts import (
    HostWithMalformedFacts, HostWithoutFacts, effective_inventory, read_host,
)
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.store.factsince import SinceError, iso_utc, parse_since

# The state of a host in the report, worst last.
OK, STALE, MALFORMED, NO_FACTS = 'ok', 'stale', 'malformed', 'no_facts'
STATES = (OK, STALE, MALFORMED, NO_FACTS)
UNITS = {'MEMORY_MB': 'MiB', 'DISK_GB': 'GiB', 'VCPU': 'vCPU', 'PCPU': 'CPU', 'SRIOV_NET_VF': 'VF', 'PGPU': 'GPU',
         'MEM_ENCRYPTION_CONTEXT': 'ASID'}
# Drift entries shown per host; the count of the others is kept.
MAX_CHANGES_PER_HOST = 200
TRAITS_PATH = 'libvirt_host_caps.traits'


class ReportInputError(ValueError):
    """An argument of the report as a whole is wrong (not one host's facts)."""


def _seconds(max_age):
    """``max_age`` in seconds, as ``hostcaps_max_age`` is read everywhere; not given is no limit."""
    if max_age is None or max_age == '':
        return 0
    try:
        return parse_max_age(max_age, 'max_age')
    except ValueError as exc:
        raise ReportInputError(str(exc))


def _epoch(value, name):
    """``value`` (epoch seconds, or an ISO 8601 time) as epoch seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and 'T' in value:
        try:
            return parse_since(value, 0.0)
        except SinceError:
            pass
    raise ReportInputError('%s: %s is not a time; give an ISO 8601 time such as 2026-12-03T20:00:00Z' % (name, short_repr(value)))


def _collected(facts):
    """Epoch seconds of the facts' ``collected_at``, or None."""
    collected = collected_time(facts)
    return None if collected is None else collected.timestamp()


def _facts_of(data):
    """(libvirt_host_caps, sriov) beside a host's variables, for what the view does not keep."""
    holder = data.get('ansible_facts') if isinstance(data, Mapping) and isinstance(data.get('ansible_facts'), Mapping) else data
    if not isinstance(holder, Mapping):
        return {}, None
    if isinstance(holder.get('libvirt_host_caps'), Mapping):
        return holder['libvirt_host_caps'], holder.get('sriov') if isinstance(holder.get('sriov'), Mapping) else None
    return holder, None


def _resources(view):
    """``{class: {total, reserved, allocation_ratio, used, capacity, free, utilisation}}``."""
    found = {}
    for name, (capacity, used) in sorted(effective_inventory(view).items()):
        inventory = view.resources[name]
        ratio = view.own_ratios.get(name, inventory['allocation_ratio'])
        reserved = view.own_reserved.get(name, inventory['reserved'])
        found[name] = {
            'total': inventory['total'], 'reserved': reserved, 'allocation_ratio': ratio, 'used': used,
            'capacity': capacity, 'free': capacity - used,
            'utilisation': float(used) / capacity if capacity > 0 else None,
        }
    return found


def _host_info(facts):
    info = facts.get('host_info') if isinstance(facts.get('host_info'), Mapping) else {}
    keys = ('arch', 'cpu_model', 'cpu_vendor', 'sockets', 'cores', 'threads', 'numa_nodes', 'online_cpus', 'memory_mb',
            'libvirt_version', 'hypervisor', 'hypervisor_version', 'hostname')
    found = dict((key, info.get(key)) for key in keys)
    found['uri'] = facts.get('uri')
    errors = facts.get('errors') if isinstance(facts.get('errors'), list) else []
    found['fact_errors'] = len([e for e in errors if not isinstance(e, Mapping) or e.get('severity', 'error') == 'error'])
    return found


def _pci_name(device):
    vendor = device.get('vendor_name') or device.get('vendor_id') or 'unknown vendor'
    name = device.get('device_name') or device.get('device_id') or 'unknown device'
    return '%s %s' % (vendor, name)


def _sriov(host, sriov):
    """The host's PFs (with their VFs, free ones when known) and passthrough devices."""
    if not isinstance(sriov, Mapping):
        return None, [], []
    vfs = [vf for vf in as_list(sriov.get('virtual_functions')) if isinstance(vf, Mapping)]
    known = dig(sriov, 'summary', 'assignments_known') is True
    functions = []
    for pf in as_list(sriov.get('physical_functions')):
        if not isinstance(pf, Mapping):
            continue
        own = [vf for vf in vfs if vf.get('pf_address') == pf.get('address')]
        functions.append({
            'host': host, 'address': pf.get('address'), 'name': _pci_name(pf), 'driver': pf.get('driver'),
            'interface': pf.get('interface'), 'speed_mbps': pf.get('speed_mbps'), 'numa_node': pf.get('numa_node'),
            'max_vfs': pf.get('total_vfs'), 'vfs': len(own),
            'vfs_free': len([vf for vf in own if not vf.get('assigned_to') and vf.get('candidate') is not False]) if known else None,
            'vfs_assigned': sorted(set(str(vf['assigned_to']) for vf in own if vf.get('assigned_to'))),
        })
    devices = []
    for device in as_list(sriov.get('passthrough_devices')):
        if not isinstance(device, Mapping):
            continue
        devices.append({
            'host': host, 'address': device.get('address'), 'kind': device.get('kind'), 'name': _pci_name(device),
            'driver': device.get('driver'), 'numa_node': device.get('numa_node'), 'iommu_group': device.get('iommu_group'),
            'candidate': device.get('candidate'), 'reason': device.get('reason'), 'assigned_to': device.get('assigned_to'),
        })
    summary = sriov.get('summary') if isinstance(sriov.get('summary'), Mapping) else {}
    own = {
        'physical_functions': len(functions), 'max_vfs': summary.get('max_vfs'), 'vfs': len(vfs),
        'vfs_free': summary.get('free_vfs'),
        'gpus': len([d for d in devices if d['kind'] == 'gpu']),
        'gpus_candidate': len([d for d in devices if d['kind'] == 'gpu' and d['candidate'] is True]),
        'passthrough_candidates': len([d for d in devices if d['candidate'] is True]),
    }
    return own, functions, devices


def _read(name, data, custom_traits, now, max_age):
    """One host of the report."""
    entry = {'name': name, 'state': OK, 'reason': None, 'collected_at': None, 'age_seconds': None,
             'resources': {}, 'traits': [], 'sriov': None}
    try:
        view = read_host(name, data, custom_traits)
    except HostWithoutFacts as exc:
        entry.update(state=NO_FACTS, reason=str(exc))
        return entry, [], []
    except (HostWithMalformedFacts, ValueError) as exc:
        # One host's bad facts or settings: that host is named, the others are reported.
        entry.update(state=MALFORMED, reason=str(exc))
        return entry, [], []
    facts, sriov = _facts_of(data)
    collected = _collected(facts)
    entry['collected_at'] = facts.get('collected_at') if collected is not None else None
    entry.update(_host_info(facts))
    if collected is None:
        if max_age:
            entry.update(state=STALE, reason='its facts carry no collected_at, so their age is unknown')
    else:
        entry['age_seconds'] = int(now - collected)
        if max_age and now - collected > max_age:
            entry.update(state=STALE, reason='facts collected %s ago, more than max_age %s'
                         % (format_age(now - collected), format_age(max_age)))
    entry['resources'] = _resources(view)
    entry['traits'] = sorted(view.traits)
    entry['sriov'], functions, devices = _sriov(name, sriov)
    return entry, functions, devices


def _class_order(name):
    return (RESOURCE_CLASSES.index(name) if name in RESOURCE_CLASSES else len(RESOURCE_CLASSES), name)


def _totals(hosts, classes):
    totals = {}
    for name in classes:
        capacity = used = total = 0
        count = 0
        for host in hosts:
            found = host['resources'].get(name)
            if found is None:
                continue
            count += 1
            capacity += found['capacity']
            used += found['used']
            total += found['total']
        totals[name] = {'hosts': count, 'total': total, 'capacity': capacity, 'used': used, 'free': capacity - used,
                        'utilisation': float(used) / capacity if capacity > 0 else None, 'unit': UNITS.get(name, '')}
    return totals


def _drift(drift, since, names):
    """``{since, hosts: [{host, new, changes, more, traits_added, traits_removed}],
    unchanged, not_recorded}`` from ``{host: [change, ...]}`` (the factdb lookup's diff)."""
    if drift is None:
        return None
    if not isinstance(drift, Mapping):
        raise ReportInputError('drift: expected a mapping of host name to its changes (the factdb lookup\'s diff with since), got %s'
                               % describe(drift))
    changed, unchanged = [], []
    for host in sorted(drift, key=str):
        changes = drift[host]
        if not isinstance(changes, list) or not all(isinstance(c, Mapping) and isinstance(c.get('path'), str) for c in changes):
            raise ReportInputError('drift.%s: expected the list of changes of query(\'virtumancer.hostcaps.factdb\', \'diff\', '
                                   'host=..., since=...), each with path and op, got %s' % (short_repr(host, 40), describe(changes)))
        if not changes:
            unchanged.append(host)
            continue
        # Compared with nothing: the host was first recorded after since.
        new = any('.' not in c['path'] and '[' not in c['path'] and c.get('op') == 'added' for c in changes)
        added = sorted(str(c.get('new')) for c in changes if c['path'] == TRAITS_PATH and c.get('op') == 'added')
        removed = sorted(str(c.get('old')) for c in changes if c['path'] == TRAITS_PATH and c.get('op') == 'removed')
        others = [c for c in changes if c['path'] != TRAITS_PATH]
        shown = [] if new else [dict((key, c.get(key)) for key in ('path', 'op', 'old', 'new') if key in c)
                                for c in others[:MAX_CHANGES_PER_HOST]]
        changed.append({'host': host, 'new': new, 'changes': shown, 'more': 0 if new else max(0, len(others) - MAX_CHANGES_PER_HOST),
                        'count': len(changes), 'traits_added': [] if new else added, 'traits_removed': removed})
    return {'since': since, 'hosts': changed, 'unchanged': unchanged,
            'not_recorded': sorted((name for name in names if name not in drift), key=str)}


def build_fleet(hosts, drift=None, drift_since=None, max_age=None, now=None, custom_traits=None, title=None):
    """The report model of ``hosts`` (host name -> ``hostvars[host]``, its
    ``ansible_facts``, or None for a host without facts).

    ``drift``: host name -> the factdb lookup's ``diff`` of that host since
    ``drift_since`` (hosts left out have no history in the store); None: no drift section.
    ``max_age``: seconds, or ``1d``/``12h``; older facts make the host ``stale`` (0: no limit).
    ``now``: epoch seconds or ISO time (default: the time of the call).
    ``custom_traits``: the catalog's hardware traits, as placement takes them.
    Raises ReportInputError (a ValueError) on a wrong argument.
    """
    if not isinstance(hosts, Mapping):
        raise ReportInputError('hosts: expected a mapping of host name to that host\'s facts (hostvars[host] or its ansible_facts), '
                               'got %s' % describe(hosts))
    now = time.time() if now is None else _epoch(now, 'generated_at')
    max_age = _seconds(max_age)
    try:
        items = [{'name': name, 'query': query} for name, query in normalize_custom_traits(custom_traits)]
    except ValueError as exc:
        raise ReportInputError('hardware_traits: %s' % exc)
    entries, functions, devices = [], [], []
    for name in sorted(hosts, key=str):
        entry, own_functions, own_devices = _read(str(name), hosts[name], items, now, max_age)
        entries.append(entry)
        functions.extend(own_functions)
        devices.extend(own_devices)
    with_facts = [entry for entry in entries if entry['state'] in (OK, STALE)]
    # A class no host has any of (PCPU until dedicated CPUs are inventoried) is no column.
    classes = sorted(set(name for entry in with_facts for name, found in entry['resources'].items() if found['total']),
                     key=_class_order)
    trait_counts = {}
    for entry in with_facts:
        for trait in entry['traits']:
            trait_counts[trait] = trait_counts.get(trait, 0) + 1
    since = None
    if drift == '':
        # What a template gives for none on ansible-core 2.17: no drift section either.
        drift = None
    if drift is not None:
        if drift_since is None or drift_since == '':
            raise ReportInputError('drift_since: the moment the drift is counted from is needed with drift; give the since the '
                                   'factdb lookup was given (2026-11-26T08:00:00Z or 7d)')
        try:
            since = iso_utc(parse_since(drift_since, now))
        except SinceError as exc:
            raise ReportInputError('drift_%s' % exc)
    drift_model = _drift(drift, since, [entry['name'] for entry in with_facts])
    counts = dict((state, len([e for e in entries if e['state'] == state])) for state in STATES)
    totals = _totals(with_facts, classes)
    summary = {
        'hosts': len(entries), 'with_facts': len(with_facts), 'fresh': counts[OK], 'stale': counts[STALE],
        'without_facts': counts[NO_FACTS], 'malformed': counts[MALFORMED],
        'attention': [{'host': e['name'], 'state': e['state'], 'reason': e['reason']} for e in entries if e['state'] != OK],
        'utilisation': dict((name, totals[name]['utilisation']) for name in classes),
        'traits': len(trait_counts),
        'physical_functions': len(functions),
        'vfs': sum((e['sriov'] or {}).get('vfs') or 0 for e in with_facts),
        'vfs_free': sum((e['sriov'] or {}).get('vfs_free') or 0 for e in with_facts),
        'gpus': len([d for d in devices if d['kind'] == 'gpu']),
        'gpus_candidate': len([d for d in devices if d['kind'] == 'gpu' and d['candidate'] is True]),
        'drift_since': since,
        'hosts_changed': None if drift_model is None else len(drift_model['hosts']),
    }
    return {
        'title': title or 'Fleet report',
        'generated_at': iso_utc(now),
        'max_age_seconds': max_age,
        'hosts': entries,
        'classes': classes,
        'totals': totals,
        'traits': sorted(trait_counts.items(), key=lambda item: (-item[1], item[0])),
        'physical_functions': functions,
        'passthrough_devices': devices,
        'drift': drift_model,
        'summary': summary,
    }
