# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What placement decides over: hosts with their capacity and what is already on them,
items (a VM, or the VMs of a hard affinity group that go together), and the rules that
say whether an item fits a host (``fits``) and how good that host is (``score``).

Both engines (placement_heuristic, placement_cpsat) read this model and commit through
it, so a constraint is stated once. Like the Kubernetes scheduler framework, each rule
answers one question; ``fits`` returns the first rule an item breaks on a host, which is
also what an unplaced VM's reasons are made of.

Capacity per resource class is ``used + amount <= (total - reserved) * allocation_ratio``,
with ``used`` what the host's domains hold (defined or running) plus what the batch put
there. On a host that takes VMs of several placement policies, every one of their limits
holds: the total stays within the smallest capacity among them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_hosts import HUGEPAGE_SIZES_KB, effective_inventory
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_spec import GROUP_KINDS

STRATEGIES = ('spread', 'pack')
BUILTIN_POLICY = 'default'
# Classes whose use is spread out or packed; the others are only limits.
SCORED = ('VCPU', 'MEMORY_MB', 'DISK_GB')
_NONE = float('inf')  # the scored capacity of a class the host has none of
_BY_NAME = sorted(range(len(SCORED)), key=SCORED.__getitem__)  # SCORED's indices, the classes in name order
# Memory encryption that takes one SEV ASID, the MEM_ENCRYPTION_CONTEXT os-resource-classes
# counts. SEV-ES and SEV-SNP take from the ES range, which vm_validate checks per host.
ASID_KINDS = ('sev',)
# Weight of one soft anti-affinity violation and of a soft affinity match, against a
# utilisation between 0 and 1: a soft rule outweighs balance, never a hard rule.
SOFT_WEIGHT = 1.0
EPSILON = 1e-9


class Group(object):
    __slots__ = ('name', 'kind', 'hard', 'max_per_host', 'members')

    def __init__(self, kind, entry):
        self.name, self.kind = entry['name'], kind
        self.hard = entry.get('hard') is not False
        self.max_per_host = entry.get('max_per_host') or (1 if kind == 'anti_affinity' else None)
        self.members = list(entry.get('members') or ())

    def describe(self):
        return '%s %s group %s%s' % ('hard' if self.hard else 'soft', self.kind.replace('_', '-'), self.name,
                                     ' (max %d per host)' % self.max_per_host if self.max_per_host else '')


class Policy(object):
    __slots__ = ('name', 'strategy', 'ratios', 'reserved', 'allow_unconfirmed', 'groups')

    def __init__(self, name, entry):
        self.name = name
        self.strategy = entry.get('strategy') or 'spread'
        self.ratios = dict(entry.get('allocation_ratios') or {})
        self.reserved = dict(entry.get('reserved') or {})
        self.allow_unconfirmed = entry.get('allow_unconfirmed') is True
        self.groups = {}
        for kind in GROUP_KINDS:
            for group in entry.get(kind) or ():
                self.groups.setdefault(group['name'], Group(kind, group))


class Cell(object):
    """A host NUMA cell: CPUs and memory for pinned guests, free hugepages by size."""

    __slots__ = ('id', 'cpus', 'cpus_used', 'memory_mb', 'memory_used', 'pages', 'pages_used')

    def __init__(self, cell_id, cpus, memory_mb, pages):
        self.id, self.cpus, self.memory_mb, self.pages = cell_id, cpus, memory_mb, pages
        self.cpus_used, self.memory_used, self.pages_used = 0, 0, {}


class HostState(object):
    """A host during placement. ``used`` is what its domains hold, ``placed`` what the
    batch adds, ``load`` the two together (what the rules compare); ``limits`` the capacity per class under each policy seen; ``policies``
    the placement policies of the items on it, each with how many items hold it there."""

    __slots__ = ('name', 'view', 'order', 'limits', 'scored', 'used', 'placed', 'load', 'cells', 'groups', 'vms', 'policies',
                 'existing_domains')

    def __init__(self, view, order):
        self.name, self.view, self.order = view.name, view, order
        self.limits, self.scored = {}, {}
        self.used, self.placed = {}, {}
        for name, (capacity, used) in effective_inventory(view).items():
            self.used[name] = used
        for pool, (active, available) in (view.pools or {}).items():
            if available is not None:
                self.used['pool:' + pool] = 0
        for (vendor, device), counts in view.pci.items():
            self.used['pci:%s:%s' % (vendor, device)] = 0
        self.load = dict(self.used)
        self.cells = None
        if view.cells:
            self.cells = [Cell(cell_id, cpus, memory, dict(pages)) for cell_id, cpus, memory, pages in view.cells]
        self.groups = {}
        self.vms = []
        self.policies = {}
        self.existing_domains = len(view.domains or ())

    def capacity(self, policy):
        """``{class: capacity}`` of this host under ``policy``."""
        found = self.limits.get(policy.name)
        if found is None:
            found = dict((name, capacity) for name, (capacity, used) in effective_inventory(self.view, policy.ratios, policy.reserved).items())
            for pool, (active, available) in (self.view.pools or {}).items():
                if available is not None:
                    found['pool:' + pool] = available
            for (vendor, device), counts in self.view.pci.items():
                # Devices not known to be taken; vm_validate says when that is unconfirmed.
                found['pci:%s:%s' % (vendor, device)] = counts[1]
            self.limits[policy.name] = found
        return found

    def scored_capacity(self, policy):
        """The capacity under ``policy`` of each scored class, in SCORED order; infinite
        for a class the host has none of, which then weighs nothing."""
        found = self.scored.get(policy.name)
        if found is None:
            capacity = self.capacity(policy)
            found = self.scored[policy.name] = tuple(
                float(capacity[name]) if (capacity.get(name) or 0) > 0 else _NONE for name in SCORED)
        return found

    def limit(self, name, policies):
        """The capacity of class ``name`` that every one of ``policies`` allows, or None
        when the host has no inventory of it."""
        found = None
        for policy in policies:
            capacity = self.capacity(policy).get(name)
            if capacity is not None and (found is None or capacity < found):
                found = capacity
        return found

    def in_use(self):
        return bool(self.vms) or self.existing_domains > 0


class Item(object):
    """What is placed in one go: one VM, or the VMs of a hard affinity group that must
    share a host. ``feasible`` lists the hosts whose per-host verdict admits every VM of
    it; ``verdicts`` says for the other hosts why not. Items whose VMs ask the same of
    the hosts share these (read only); ``hosts_key`` is the same small number for items
    with the same feasible hosts."""

    __slots__ = ('vms', 'names', 'policies', 'policy', 'demand', 'numa', 'group_counts', 'feasible', 'verdicts',
                 'unconfirmed', 'size', 'hosts_key', 'demand_order', 'joined', 'soft', 'numa_free',
                 'policy_set')

    def __init__(self, vms, policy_of, like=None):
        self.vms = vms
        self.names = [vm['name'] for vm in vms]
        self.feasible, self.verdicts, self.unconfirmed = [], {}, {}
        self.hosts_key = None
        self.size = None
        if like is not None:
            # An item whose VMs ask exactly what those of ``like`` ask, names aside: the
            # same demand, groups and policies, shared (the engines only read them).
            for slot in _ALIKE:
                setattr(self, slot, getattr(like, slot))
            return
        self.policies = []
        for vm in vms:
            policy = policy_of(vm)
            if policy not in self.policies:
                self.policies.append(policy)
        self.policy = self.policies[0]
        self.policy_set = frozenset(self.policies)
        self.demand = {}
        self.numa = []
        self.group_counts = {}
        for vm in vms:
            for name, amount in vm_demand(vm).items():
                self.demand[name] = self.demand.get(name, 0) + amount
            self.numa.append(numa_demand(vm))
            for group in vm.get('groups') or ():
                self.group_counts[group] = self.group_counts.get(group, 0) + 1
        # What the rules read on every host tried, worked out once: the demand by class
        # name, (name, count, definition) of the groups the VMs join, whether one of them
        # is soft, whether any VM needs NUMA cells.
        self.demand_order = tuple(sorted(self.demand.items()))
        self.joined = tuple((name, self.group_counts[name], self.group(name)) for name in sorted(self.group_counts)
                            if self.group(name) is not None)
        self.soft = any(not group.hard for dummy, dummy, group in self.joined)
        self.numa_free = all(nodes is None for nodes in self.numa)

    def group(self, name):
        """The definition of group ``name`` in the item's policies (the first that has it)."""
        for policy in self.policies:
            if name in policy.groups:
                return policy.groups[name]
        return None


_ALIKE = ('policies', 'policy', 'policy_set', 'demand', 'numa', 'group_counts', 'demand_order', 'joined', 'soft', 'numa_free')


def hosts_key(item):
    """Equal for items with the same feasible hosts: the number placement gave them, else
    their names."""
    return item.hosts_key if item.hosts_key is not None else tuple(host.name for host in item.feasible)


def vm_demand(vm):
    """``{class: amount}`` a resolved VM takes from a host."""
    demand = {'VCPU': vm['vcpus'], 'MEMORY_MB': vm['memory_mb'], 'DISK_GB': vm['disk_gb']}
    resources = vm.get('resources') or {}
    vfs = (vm.get('sriov_vfs') or 0) + (resources.get('SRIOV_NET_VF') or 0)
    if vfs:
        demand['SRIOV_NET_VF'] = vfs
    if vm.get('memory_encryption') in ASID_KINDS:
        demand['MEM_ENCRYPTION_CONTEXT'] = 1
    for name, amount in resources.items():
        if name != 'SRIOV_NET_VF' and amount:
            demand[name] = demand.get(name, 0) + amount
    for disk in vm.get('disks') or ():
        if disk.get('pool'):
            demand['pool:' + disk['pool']] = demand.get('pool:' + disk['pool'], 0) + (disk.get('size_gb') or 0)
    for device in vm.get('pci_devices') or ():
        key = 'pci:%s:%s' % (device['vendor'], device['device'])
        demand[key] = demand.get(key, 0) + (device.get('count') or 1)
    return dict((name, amount) for name, amount in demand.items() if amount)


def numa_demand(vm):
    """``[(memory_mb, pinned_cpus, page_kb, pages)]`` per guest NUMA node for a VM that
    must fit inside host cells (hugepages or dedicated CPUs, as Nova's NUMATopologyFilter
    requires), else None. Memory and vCPUs are split evenly, the first nodes taking the
    remainder, as libvirt guests are usually laid out."""
    page_kb = HUGEPAGE_SIZES_KB.get(vm.get('hugepages'))
    dedicated = bool((vm.get('cpu') or {}).get('dedicated'))
    if not page_kb and not dedicated:
        return None
    nodes = vm.get('numa_nodes') or 1
    nodes_out = []
    for node in range(nodes):
        memory = vm['memory_mb'] // nodes + (1 if node < vm['memory_mb'] % nodes else 0)
        cpus = vm['vcpus'] // nodes + (1 if node < vm['vcpus'] % nodes else 0)
        pages = -(-memory * 1024 // page_kb) if page_kb else 0
        nodes_out.append((memory, cpus if dedicated else 0, page_kb, pages))
    return nodes_out


# -- rules: does the item fit the host? None, or (code, details) ---------------------


def rule_capacity(host, item):
    only = None
    if len(item.policies) == 1 and host.policies.keys() <= item.policy_set:
        # The common case, checked on every host tried: one policy's limits.
        only = host.capacity(item.policy)
    else:
        policies = item.policies + [policy for policy in host.policies if policy not in item.policies]
    load = host.load
    for name, amount in item.demand_order:
        capacity = only.get(name) if only is not None else host.limit(name, policies)
        if capacity is None:
            continue  # no inventory: the per-host verdict said whether that may be unconfirmed
        free = capacity - load.get(name, 0)
        if amount > free + EPSILON:
            return 'capacity_exceeded', {'class': name, 'need': amount, 'free': free, 'capacity': capacity}
    return None


def rule_groups(host, item):
    for name, count, group in item.joined:
        if not group.hard:
            continue
        here = host.groups.get(name, 0)
        if group.max_per_host and here + count > group.max_per_host:
            code = 'anti_affinity_full' if group.kind == 'anti_affinity' else 'affinity_full'
            return code, {'group': name, 'here': here, 'max': group.max_per_host, 'adding': count}
    return None


def rule_affinity_hosts(host, item, member_hosts):
    """A hard affinity group without max_per_host whose members already run somewhere
    keeps the rest with them."""
    for name, count, group in item.joined:
        if not group.hard or group.kind != 'affinity' or group.max_per_host:
            continue
        holding = member_hosts.get(name)
        if holding and host.name not in holding:
            return 'affinity_elsewhere', {'group': name, 'hosts': sorted(holding)}
    return None


def fit_cells(host, item):
    """The host cell of every guest NUMA node of the item's VMs, as
    ``[[(node, cell index)]]`` per VM (None for a VM without NUMA needs), or None when
    they do not fit. Each guest node gets a distinct cell of its VM."""
    if item.numa_free:
        return [None] * len(item.numa)
    if not host.cells:
        return None
    taken = {}  # cell index -> (cpus, memory, {page_kb: pages}) taken by earlier VMs of the item
    layout = []
    for nodes in item.numa:
        if nodes is None:
            layout.append(None)
            continue
        found = _assign_nodes(host.cells, nodes, taken)
        if found is None:
            return None
        for node, index in found:
            memory, cpus, page_kb, pages = nodes[node]
            cpus_taken, memory_taken, pages_taken = taken.get(index, (0, 0, {}))
            pages_taken = dict(pages_taken)
            if page_kb:
                pages_taken[page_kb] = pages_taken.get(page_kb, 0) + pages
            taken[index] = (cpus_taken + cpus, memory_taken + (0 if page_kb else memory), pages_taken)
        layout.append(found)
    return layout


def node_room(cell, node):
    """What guest ``node`` takes from host ``cell``, as ``[(kind, amount, free)]`` (free
    None when the facts do not say): pinned CPUs, then its hugepages of their size, or
    else its memory."""
    memory, cpus, page_kb, pages = node
    room = []
    if cpus:
        room.append(('cpus', cpus, None if cell.cpus is None else cell.cpus - cell.cpus_used))
    if page_kb:
        free = cell.pages.get(page_kb)
        room.append((page_kb, pages, None if free is None else free - cell.pages_used.get(page_kb, 0)))
    else:
        room.append(('memory', memory, None if cell.memory_mb is None else cell.memory_mb - cell.memory_used))
    return room


def _cell_room(cell, taken, node):
    cpus_taken, memory_taken, pages_taken = taken
    taken = {'cpus': cpus_taken, 'memory': memory_taken}
    taken.update(pages_taken)
    return all(free is not None and taken.get(kind, 0) + amount <= free for kind, amount, free in node_room(cell, node))


def _assign_nodes(cells, nodes, taken):
    """Distinct cells for ``nodes``: a depth-first search over the cells in order, the
    one with the most free room first; guests have few nodes, hosts few cells."""
    order = sorted(range(len(cells)), key=lambda index: (_fullness(cells[index]), index))

    def search(node, used):
        if node == len(nodes):
            return []
        for index in order:
            if index in used or not _cell_room(cells[index], taken.get(index, (0, 0, {})), nodes[node]):
                continue
            rest = search(node + 1, used | {index})
            if rest is not None:
                return [(node, index)] + rest
        return None
    return search(0, frozenset())


def _fullness(cell):
    """Sorts the cell with the most free CPUs, then hugepages, then memory first."""
    pages = sum(free - cell.pages_used.get(size, 0) for size, free in cell.pages.items() if free is not None and size > 4)
    return (cell.cpus_used - (cell.cpus or 0), -pages, cell.memory_used - (cell.memory_mb or 0))


def fits(host, item, member_hosts):
    """None when ``item`` fits ``host`` now, else ``(code, details)`` of the first rule
    it breaks; ``details`` carries ``cells`` (the NUMA layout) when it fits."""
    found = rule_capacity(host, item)
    if found is not None or not item.joined and item.numa_free:
        return found
    found = rule_groups(host, item) or rule_affinity_hosts(host, item, member_hosts)
    if found is not None:
        return found
    if fit_cells(host, item) is None:
        return 'numa_no_fit', {'cells': len(host.cells or ()), 'nodes': [nodes for nodes in item.numa if nodes]}
    return None


def commit(host, item, member_hosts, layout=None):
    """Puts ``item`` on ``host``; returns the NUMA layout per VM: ``layout`` when the
    engine chose the cells itself (cp-sat), else the one ``fit_cells`` finds."""
    if layout is None:
        layout = fit_cells(host, item)
    for name, amount in item.demand.items():
        host.placed[name] = host.placed.get(name, 0) + amount
        host.load[name] = host.load.get(name, 0) + amount
    for name, count in item.group_counts.items():
        host.groups[name] = host.groups.get(name, 0) + count
        member_hosts.setdefault(name, set()).add(host.name)
    for policy in item.policies:
        host.policies[policy] = host.policies.get(policy, 0) + 1
    host.vms.extend(item.names)
    for nodes, found in zip(item.numa, layout or ()):
        for node, index in found or ():
            memory, cpus, page_kb, pages = nodes[node]
            cell = host.cells[index]
            cell.cpus_used += cpus
            if page_kb:
                cell.pages_used[page_kb] = cell.pages_used.get(page_kb, 0) + pages
            else:
                cell.memory_used += memory
    return layout


def uncommit(host, item, member_hosts, layout):
    """Takes ``item`` off ``host`` again (the heuristic's moves)."""
    for name, amount in item.demand.items():
        host.placed[name] -= amount
        host.load[name] -= amount
    for name, count in item.group_counts.items():
        host.groups[name] -= count
        if not host.groups[name]:
            member_hosts.get(name, set()).discard(host.name)
    for policy in item.policies:
        # A policy that left the host no longer limits what else it takes.
        host.policies[policy] -= 1
        if not host.policies[policy]:
            del host.policies[policy]
    for name in item.names:
        host.vms.remove(name)
    for nodes, found in zip(item.numa, layout or ()):
        for node, index in found or ():
            memory, cpus, page_kb, pages = nodes[node]
            cell = host.cells[index]
            cell.cpus_used -= cpus
            if page_kb:
                cell.pages_used[page_kb] -= pages
            else:
                cell.memory_used -= memory


# -- how good is the host? -------------------------------------------------------------


def soft_terms(host, item):
    """``(penalty, {term: value})`` of the soft group rules on this host."""
    penalty, terms = 0.0, {}
    for name, count, group in item.joined:
        if group.hard:
            continue
        here = host.groups.get(name, 0)
        if group.kind == 'anti_affinity':
            over = max(0, here + count - (group.max_per_host or 1))
            if over:
                penalty += SOFT_WEIGHT * over
                terms['soft_anti_affinity:%s' % name] = over
        elif here:
            penalty -= SOFT_WEIGHT
            terms['soft_affinity:%s' % name] = here
    return penalty, terms


def soft_penalty(hosts, items):
    """The soft group rules over a whole placement, as both engines weigh it against
    another: per host, the members of a soft anti-affinity group beyond its max per host,
    and per soft affinity group the hosts holding its members beyond the first."""
    spread_out, together = {}, set()
    for item in items:
        for name in item.group_counts:
            group = item.group(name)
            if group is None or group.hard:
                continue
            if group.kind == 'anti_affinity':
                limit = group.max_per_host or 1
                spread_out[name] = min(spread_out.get(name, limit), limit)
            else:
                together.add(name)
    penalty = 0
    for name, limit in spread_out.items():
        penalty += sum(max(0, host.groups.get(name, 0) - limit) for host in hosts)
    for name in together:
        penalty += max(0, len([host for host in hosts if host.groups.get(name, 0)]) - 1)
    return penalty


def choice(host, item):
    """What the terms of ``score`` read of ``host`` for ``item``: the loads of the scored
    classes, whether the host is in use, the soft group terms. The engines keep it when
    they choose a host, so that the answer says what chose it."""
    load = host.load
    return (tuple([load.get(name, 0) for name in SCORED]), host.in_use(), soft_terms(host, item) if item.joined else (0.0, {}))


def score(host, item, strategy, chosen=None):
    """``(sort key, terms)``: the lower the key the better the host for ``item``, as it
    is now or as ``chosen`` (a ``choice``) found it.

    spread: the highest utilisation over the scored classes after placing the item (as
    Kubernetes' balanced allocation and Nova's RAM weigher prefer the emptiest host).
    pack: a host already in use first, then the fullest after placing (best fit).
    Soft group rules come first in both; ties go to the host name."""
    loads, in_use, (penalty, terms) = chosen or choice(host, item)
    terms = dict(terms)
    scored, demand = host.scored_capacity(item.policy), item.demand
    utilization, highest = {}, 0.0
    for k in _BY_NAME:
        if scored[k] != _NONE:
            value = (loads[k] + demand.get(SCORED[k], 0)) / scored[k]
            utilization[SCORED[k]] = round(value, 4)
            if value > highest:
                highest = value
    terms['utilization'] = utilization
    key = _key(host, strategy, penalty, highest, in_use)
    if strategy == 'pack':
        terms['host_in_use'] = in_use
    else:
        terms['highest_utilization'] = round(key[1], 4)
    return key, terms


def score_key(host, item, strategy):
    """The sort key of ``score`` alone, without its terms: what the engines compare on
    every host they weigh."""
    penalty = soft_terms(host, item)[0] if item.joined else 0.0
    return _key(host, strategy, penalty, _highest(host.scored_capacity(item.policy), host.load, item.demand))


def _highest(scored, load, demand):
    """The highest utilisation over the scored classes once ``demand`` is added
    (``scored``: HostState.scored_capacity)."""
    highest = 0.0
    for name, capacity in zip(SCORED, scored):
        value = (load.get(name, 0) + demand.get(name, 0)) / capacity
        if value > highest:
            highest = value
    return highest


def fit_key(host, item, member_hosts, strategy):
    """``score_key`` of ``item`` on ``host`` when it fits there, else None: what the
    engines ask of every host they try. An item of one policy without groups or NUMA needs,
    on a host that holds no other policy, is told in one pass over its classes, by the
    same capacity rule and utilisation as ``fits`` and ``score_key``."""
    if item.joined or not item.numa_free or len(item.policies) != 1 or not host.policies.keys() <= item.policy_set:
        return None if fits(host, item, member_hosts) is not None else score_key(host, item, strategy)
    capacity = host.capacity(item.policy)
    load = host.load
    for name, amount in item.demand_order:
        limit = capacity.get(name)
        if limit is not None and amount > limit - load.get(name, 0) + EPSILON:
            return None
    return _key(host, strategy, 0.0, _highest(host.scored_capacity(item.policy), load, item.demand))


def _key(host, strategy, penalty, highest, in_use=None):
    if strategy == 'pack':
        return (penalty, 0 if (host.in_use() if in_use is None else in_use) else 1, 1.0 - highest, host.name)
    return (penalty, highest, host.name)
