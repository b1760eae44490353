# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Placement of a batch of VMs on the hosts whose facts are known; the engine behind the
``vm_place`` filter (docs/placement.md).

1. Validation exactly as ``vm_validate`` does it (vm_validate.check_input, add_verdicts):
   a host is admissible for a VM only when its per-host verdict passes, or cannot confirm
   and the VM's placement policy says ``allow_unconfirmed``.
2. The model (placement_model): hosts with what their domains hold, and items.
3. An engine places the items: placement_heuristic (default) or placement_cpsat.
4. The answer: placements with the score terms that chose each host, unplaced VMs with
   their reasons summarised over the hosts, each host's projected usage.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import gc
import time

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy import placement_heuristic
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.host_devices import HostDevices, assign_batch, needs_cells, vfs_wanted
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.placement_model import (
    BUILTIN_POLICY, HostState, Item, Policy, fits, score,
)
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_hosts import (
    AMOUNT_RULES, PASS, UNKNOWN, compile_request, evaluate, evaluate_rule,
)
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_validate import UNCHECKED_FIELDS, InputError, add_verdicts, check_input
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.facts_input import unwrap_host_facts
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import describe, short_repr

ENGINES = ('heuristic', 'cp-sat')
MAX_TIME_LIMIT = 3600
# Distinct messages of one code shown before they are summed up as one line.
MESSAGES_PER_CODE = 3


def _check_options(engine, time_limit):
    if engine not in ENGINES:
        raise InputError('engine must be %s, got %s' % (' or '.join(ENGINES), describe(engine)))
    if isinstance(time_limit, bool) or not isinstance(time_limit, (int, float)) or not 0 < time_limit <= MAX_TIME_LIMIT:
        raise InputError('time_limit must be a number of seconds above 0 and at most %d, got %s; e.g. time_limit=10'
                         % (MAX_TIME_LIMIT, describe(time_limit)))


def place_vms(vms, catalog=None, hosts=None, engine='heuristic', time_limit=10, gathered=None):
    """The placement of ``vms`` on ``hosts`` (host -> hostvars[host] or its facts), as
    ``{placements, unplaced, hosts, problems, engine, summary}``. Raises InputError for
    input that cannot be placed at all (the message names it)."""
    _check_options(engine, time_limit)
    if hosts is None:
        raise InputError('hosts is required: map each host name to hostvars[host] (or its ansible_facts)')
    # A batch allocates millions of small objects and leaves no cycles to collect: the
    # cyclic collector would only walk every host's facts again and again (a quarter of
    # the time of 10,000 VMs on 1,000 hosts). It runs again, as before, once placed.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _place(vms, catalog, hosts, engine, time_limit, gathered)
    finally:
        if collecting:
            gc.enable()


def _place(vms, catalog, hosts, engine, time_limit, gathered):
    started = time.time()
    checked = check_input(vms, catalog, hosts, 'first', gathered)
    policies = _policies(checked.catalog)
    resolved = [vm for vm in checked.resolved if vm is not None and vm['name'] not in checked.duplicates]
    states = [HostState(view, order) for order, view in enumerate(checked.index.views)] if checked.index else []
    existing = _existing(resolved, states)
    movable = sorted((vm for vm in resolved if vm['name'] not in existing), key=lambda vm: vm['name'])
    outcomes = _verdicts(movable, states)
    if checked.index is not None:
        # A VM that some host passes has no verdict problem: only the others are checked again.
        add_verdicts(checked, satisfied=set(name for name, failed in outcomes.items() if len(failed) < len(states)))
    member_hosts = _groups_on_hosts(resolved, states, policies)
    items = _items(movable, outcomes, states, policies) if checked.index else []
    status = 'heuristic'
    if engine == 'cp-sat':
        from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy import placement_cpsat
        placed, status = placement_cpsat.solve(items, states, member_hosts, time_limit)
    else:
        placed = placement_heuristic.solve(items, states, member_hosts)
    answer = _answer(vms, checked, resolved, existing, items, placed, states, member_hosts, policies)
    _hand_out_devices(answer['placements'], resolved, hosts)
    answer['engine'] = {'requested': engine, 'used': engine, 'status': status, 'seconds': round(time.time() - started, 3)}
    return answer


# -- building the model ----------------------------------------------------------------


def _policies(catalog):
    found = dict((name, Policy(name, entry)) for name, entry in catalog.placement_policies.items())
    if BUILTIN_POLICY not in found:
        found[BUILTIN_POLICY] = Policy(BUILTIN_POLICY, {})
    return found


def _existing(resolved, states):
    """VM name -> the host where a domain of that name already is (the first by name)."""
    found = {}
    names = set(vm['name'] for vm in resolved)
    for host in states:
        for domain in host.view.domains or ():
            if domain in names and domain not in found:
                found[domain] = host
    return found


def _groups_on_hosts(resolved, states, policies):
    """Counts on every host the existing members of each group: domains whose name
    matches a member pattern of the group, or that are a VM of the batch joining it.
    Returns group -> the hosts holding members."""
    patterns, joining = {}, {}
    for policy in policies.values():
        for name, group in policy.groups.items():
            patterns.setdefault(name, set()).update(group.members)
    for vm in resolved:
        for name in vm['groups']:
            joining.setdefault(name, set()).add(vm['name'])
    member_hosts = {}
    names = set(patterns) | set(joining)
    for host in states:
        domains = host.view.domains
        if not domains:
            continue
        for name in names:
            members = [domain for domain in domains if domain in joining.get(name, ())
                       or any(fnmatch.fnmatchcase(domain, pattern) for pattern in patterns.get(name, ()))]
            if members:
                host.groups[name] = len(members)
                member_hosts.setdefault(name, set()).add(host.name)
    return member_hosts


def _policy_of(policies):
    def policy_of(vm):
        return policies[vm['placement_policy'] or BUILTIN_POLICY]
    return policy_of


def _bundles(movable, policies):
    """The VMs as lists placed in one go: the members of a hard affinity group together
    (in blocks of its max_per_host), every other VM on its own."""
    bundled, bundles = set(), []
    for vm in movable:
        if vm['name'] in bundled:
            continue
        policy = policies[vm['placement_policy'] or BUILTIN_POLICY]
        group = next((policy.groups[name] for name in sorted(vm['groups'])
                      if policy.groups[name].kind == 'affinity' and policy.groups[name].hard), None)
        if group is None:
            bundles.append([vm])
            continue
        members = [other for other in movable if group.name in other['groups'] and other['name'] not in bundled]
        block = group.max_per_host or len(members)
        for start in range(0, len(members), block):
            bundles.append(members[start:start + block])
        bundled.update(other['name'] for other in members)
    return bundles


def _items(movable, outcomes, states, policies):
    """The items to place, each with its admissible hosts and, for the others, why not
    (``outcomes``: from _verdicts)."""
    by_name = dict((host.name, host) for host in states)
    names = sorted(by_name)
    shared, hosts_keys = {}, {}
    items = []
    alike = {}  # _alike of a VM alone -> the first item of such a VM
    policy_of = _policy_of(policies)
    for vms in _bundles(movable, policies):
        same = _alike(vms[0]) if len(vms) == 1 else None
        item = Item(vms, policy_of, alike.get(same))
        if same is not None:
            alike.setdefault(same, item)
        allows = [policies[vm['placement_policy'] or BUILTIN_POLICY].allow_unconfirmed for vm in vms]
        key = (tuple(id(outcomes[vm['name']]) for vm in vms), tuple(allows))
        if key not in shared:
            # VMs that ask the same of the hosts share one set of admissible hosts; the
            # engines only read it.
            verdicts, unconfirmed = {}, {}
            for vm, allow in zip(vms, allows):
                for name, outcome in outcomes[vm['name']]:
                    if name in verdicts:
                        continue
                    if outcome[0] == UNKNOWN and allow:
                        unconfirmed.setdefault(name, outcome)
                        continue
                    verdicts[name] = outcome
            feasible = [by_name[name] for name in names if name not in verdicts]
            hosts_key = hosts_keys.setdefault(tuple(host.name for host in feasible), len(hosts_keys))
            shared[key] = (verdicts, unconfirmed, feasible, hosts_key)
        item.verdicts, item.unconfirmed, item.feasible, item.hosts_key = shared[key]
        items.append(item)
    return items


# The fields whose amounts the host rules compare against a limit of the host (vm_hosts:
# vcpus, memory, hugepages, dedicated CPUs, room in a storage pool).
AMOUNTS = ('vcpus', 'memory_mb', 'disk_gb')


def _alike(vm):
    """Equal for VMs that ask the same of the hosts because all their values but the name
    are the very same objects: VMs that vm_spec resolved once (its memo). The VMs stay
    alive during the batch, so an id is never reused meanwhile."""
    keys, ids = tuple(vm), list(map(id, vm.values()))
    ids[keys.index('name')] = 0
    return (keys, tuple(ids))


def _verdicts(vms, states):
    """VM name -> ``[(host name, outcome)]`` of the hosts whose per-host verdict is not a pass,
    in host order; VMs that ask the same of the hosts share the list.

    Every rule of vm_hosts fails an amount only when it is more than a limit, so a VM that
    passes a host passes it with less. VMs that differ only in their amounts (a shape) are
    first checked once with the largest of each amount: a host that passes it passes them
    all. A host it fails on a rule that reads no amount (vm_hosts.AMOUNT_RULES) fails them
    all with that same outcome: the rules before that one do not fail the largest, so they
    fail no smaller VM either. Only the other hosts are checked per VM. A batch of many
    sizes then costs one check per shape and host, not one per size and host."""
    shapes, known = {}, {}
    for vm in vms:
        same = _alike(vm)
        found = known.get(same)
        if found is None:
            found = known[same] = _shape(vm)
        shape, amounts = found
        shapes.setdefault(shape, {}).setdefault(amounts, []).append(vm)
    found = {}
    for sizes in shapes.values():
        largest, most = _largest(sizes)
        request = compile_request(largest)
        # (host, outcome, whether every size of the shape gets that outcome) of the hosts it does not pass
        refused = []
        for host in states:
            outcome, rule = evaluate_rule(host.view, request)
            if outcome[0] != PASS:
                refused.append((host, outcome, rule is not None and rule not in AMOUNT_RULES))
        failed_most = [(host.name, outcome) for host, outcome, dummy in refused]
        settled = all(same for dummy, dummy, same in refused)
        for amounts, group in sizes.items():
            if amounts == most or settled:
                failed = failed_most
            else:
                request = compile_request(group[0])
                failed = []
                for host, outcome, same in refused:
                    if not same:
                        outcome = evaluate(host.view, request)
                        if outcome[0] == PASS:
                            continue
                    failed.append((host.name, outcome))
            for member in group:
                found[member['name']] = failed
    return found


def _shape(vm):
    """``(shape, amounts)`` of a resolved VM: a string of what it asks of a host apart from
    its amounts, and the amounts. Equal strings mean equal requests (two equal VMs whose
    keys came in another order only share less)."""
    rest = [(key, value) for key, value in vm.items() if key not in UNCHECKED_FIELDS and key not in AMOUNTS and key != 'disks']
    disks = [[(key, value) for key, value in disk.items() if key != 'size_gb'] for disk in vm['disks']]
    amounts = tuple(vm[key] for key in AMOUNTS) + tuple(disk['size_gb'] for disk in vm['disks'])
    return repr((rest, disks)), amounts


def _largest(sizes):
    """``(VM, amounts)``: a VM of one shape with the largest of every amount among
    ``sizes`` (amounts -> the VMs of the shape that have them)."""
    most = tuple(max(column) for column in zip(*sizes))
    largest = dict(next(iter(sizes.values()))[0])
    largest.update(zip(AMOUNTS, most))
    largest['disks'] = [dict(disk, size_gb=size) for disk, size in zip(largest['disks'], most[len(AMOUNTS):])]
    return largest, most


# -- the answer ------------------------------------------------------------------------


def _answer(vms, checked, resolved, existing, items, placed, states, member_hosts, policies):
    placements, unplaced = [], []
    for vm in resolved:
        host = existing.get(vm['name'])
        if host is not None:
            host.vms.append(vm['name'])
            placements.append({'vm': vm['name'], 'host': host.name, 'policy': vm['placement_policy'] or BUILTIN_POLICY,
                               'existing': True, 'numa': None, 'devices': None,
                               'why': {'existing': True, 'message': 'a domain named %s is already defined on %s; it stays there'
                                                                    % (vm['name'], host.name)}})
    for item in items:
        host = placed.host_of.get(id(item))
        if host is None:
            reasons, codes = _reasons(item, states, member_hosts)
            for name in item.names:
                unplaced.append({'vm': name, 'policy': item.policy.name, 'reasons': reasons, 'codes': codes})
            continue
        # The terms as the host was when the engine chose it.
        dummy, terms = score(host, item, item.policy.strategy, placed.terms.get(id(item)))
        layout = placed.layout.get(id(item)) or [None] * len(item.vms)
        for vm, cells in zip(item.vms, layout):
            why = {'strategy': item.policy.strategy, 'terms': terms, 'admissible_hosts': len(item.feasible)}
            if len(item.names) > 1:
                why['together_with'] = [name for name in item.names if name != vm['name']]
            if host.name in item.unconfirmed:
                why['unconfirmed'] = item.unconfirmed[host.name][3]
            placements.append({'vm': vm['name'], 'host': host.name, 'policy': item.policy.name, 'existing': False,
                               'numa': _numa(vm, item, cells, host), 'devices': {'vfs': [], 'pci': []}, 'why': why})
    unplaced.extend(_invalid(vms, checked))
    placements.sort(key=lambda entry: entry['vm'])
    unplaced.sort(key=lambda entry: entry['vm'])
    used = set(entry['host'] for entry in placements)
    return {
        'placements': placements,
        'unplaced': unplaced,
        'hosts': dict((host.name, _usage(host, policies)) for host in states),
        'problems': checked.problems,
        'summary': {'vms': len(vms), 'placed': len(placements), 'existing': len(existing), 'unplaced': len(unplaced),
                    'hosts_used': len(used)},
    }


def _hand_out_devices(placements, resolved, hosts):
    """Names the VFs, passthrough devices and pinned host CPUs of every VM the batch
    placed (host_devices), host by host in VM name order: the counts above only said
    that there are enough."""
    by_name = dict((vm['name'], vm) for vm in resolved)
    on_host = {}
    for entry in placements:
        vm = by_name[entry['vm']]
        if not entry['existing'] and (vfs_wanted(vm) or vm['pci_devices'] or needs_cells(vm)):
            on_host.setdefault(entry['host'], []).append((vm, entry))
    for host, placed in on_host.items():
        facts, sriov = unwrap_host_facts(hosts[host])
        assign_batch(HostDevices(facts, sriov), placed)


def _numa(vm, item, cells, host):
    if not cells:
        return None
    nodes = item.numa[item.vms.index(vm)]
    found = []
    for node, index in cells:
        memory, cpus, page_kb, pages = nodes[node]
        found.append({'guest_node': node, 'host_cell': host.cells[index].id, 'memory_mb': memory, 'pinned_cpus': cpus,
                      'page_kb': page_kb, 'pages': pages})
    return found


def _invalid(vms, checked):
    """Unplaced entries of the VMs that validation refused on their own."""
    found = []
    for position, vm in enumerate(vms):
        if checked.resolved[position] is not None and checked.resolved[position]['name'] not in checked.duplicates:
            continue
        label = checked.resolved[position]['name'] if checked.resolved[position] else None
        if label is None:
            name = vm.get('name') if isinstance(vm, dict) else None
            label = name if isinstance(name, str) and any(p['vm'] == name for p in checked.problems) else 'vms[%d]' % position
        messages = [p['message'] for p in checked.problems if p['vm'] == label and p['severity'] == 'error']
        found.append({'vm': label, 'policy': None, 'codes': {'invalid': 1},
                      'reasons': ['invalid: %s' % ('; '.join(messages[:5]) or 'see problems')]})
    return found


def _usage(host, policies):
    own = [policies[BUILTIN_POLICY]]
    used_policies = sorted(host.policies, key=lambda p: p.name) or own
    resources = {}
    for name in sorted(set(host.capacity(own[0])) | set(host.placed)):
        capacity = host.limit(name, used_policies)
        if (':' in name or not capacity) and not host.placed.get(name):
            continue  # devices and pools the batch does not use, classes the host has none of
        used, placed = host.used.get(name, 0), host.placed.get(name, 0)
        resources[name] = {
            'capacity': _number(capacity), 'used': _number(used), 'placed': _number(placed),
            'free': None if capacity is None else _number(capacity - used - placed),
            'utilization': round((used + placed) / float(capacity), 4) if capacity else None,
        }
    return {'resources': resources, 'vms': sorted(host.vms)}


def _number(value):
    if value is None:
        return None
    return int(value) if float(value).is_integer() else round(value, 2)


# -- why a VM found no host ------------------------------------------------------------


def _reasons(item, states, member_hosts):
    """``(reasons, codes)``: one line per kind of refusal with the number of hosts, the
    most common first, and ``{code: hosts}``."""
    lines = {}
    for host in states:
        outcome = item.verdicts.get(host.name)
        if outcome is not None:
            verdict, code, field, message = outcome
            key = (code, message)
            text = message if verdict != UNKNOWN else '%s; placement policy %s does not allow unconfirmed hosts (allow_unconfirmed: true would)' % (
                message, item.policy.name)
        else:
            found = fits(host, item, member_hosts)
            if found is None:
                continue  # not reached: the engines leave nothing unplaced that fits
            code, details = found
            key, text = _dynamic_line(code, details, item)
        entry = lines.setdefault(key, [code, text, [], []])
        entry[2].append(host.name)
        if outcome is None and found[0] == 'capacity_exceeded' and found[1]['capacity']:
            entry[3].append(found[1]['free'])
    by_code = {}
    for key, (code, text, hosts, frees) in lines.items():
        by_code.setdefault(code, []).append((key, text, hosts, frees))
    rows = []
    for code, entries in by_code.items():
        if len(entries) > MESSAGES_PER_CODE and code != 'capacity_exceeded':
            hosts = sorted(h for entry in entries for h in entry[2])
            rows.append((len(hosts), code, '%s: %s, e.g. %s' % (_hosts(hosts), code, entries[0][1])))
            continue
        for key, text, hosts, frees in entries:
            if frees:
                text = '%s, most free %s' % (text, _number(max(frees)))
            rows.append((len(hosts), code, '%s: %s' % (_hosts(sorted(hosts)), text)))
    rows.sort(key=lambda row: (-row[0], row[1], row[2]))
    if not states:
        return ['no host has facts to place it on'], {'no_host_facts': 1}
    codes = {}
    for key, (code, text, hosts, frees) in lines.items():
        codes[code] = codes.get(code, 0) + len(hosts)
    return [row[2] for row in rows], codes


def _hosts(names):
    shown = ', '.join(names[:5]) + (', ...' if len(names) > 5 else '')
    return '%d host%s (%s)' % (len(names), '' if len(names) == 1 else 's', shown)


def _dynamic_line(code, details, item):
    if code == 'capacity_exceeded':
        name = details['class']
        label = name
        if name.startswith('pool:'):
            label = 'storage pool %s (GiB)' % name[5:]
        elif name.startswith('pci:'):
            label = 'PCI device %s' % name[4:]
        if details['capacity'] == 0:
            return (code, name, 0), '%s needs %s; the host has none%s' % (
                label, _number(details['need']), ' (no active storage pool)' if name == 'DISK_GB' else '')
        return (code, name), '%s needs %s' % (label, _number(details['need']))
    if code in ('anti_affinity_full', 'affinity_full'):
        group = item.group(details['group'])
        return (code, details['group'], details['here']), '%s already has %d here (max %d per host)%s' % (
            group.describe().split(' (max')[0], details['here'], details['max'],
            ', adding %d together' % details['adding'] if details['adding'] > 1 else '')
    if code == 'affinity_elsewhere':
        return (code, details['group']), 'hard affinity group %s has its members on %s' % (details['group'], ', '.join(details['hosts']))
    if code == 'numa_no_fit':
        if not details['cells']:
            return (code, 0), 'NUMA: the facts list no NUMA cells to fit its hugepages or dedicated CPUs in'
        needs = '; '.join(', '.join('node %d: %s' % (index, _node_text(node)) for index, node in enumerate(nodes))
                          for nodes in details['nodes'])
        return (code,), 'NUMA: no %d distinct host cell(s) have room for its guest nodes (%s)' % (
            max(len(nodes) for nodes in details['nodes']), needs)
    return (code,), short_repr(details)


def _node_text(node):
    memory, cpus, page_kb, pages = node
    parts = []
    if page_kb:
        parts.append('%d free %s pages' % (pages, '1G' if page_kb == 1048576 else '2M' if page_kb == 2048 else '%dK' % page_kb))
    else:
        parts.append('%d MiB' % memory)
    if cpus:
        parts.append('%d pinned CPUs' % cpus)
    return ' and '.join(parts)
