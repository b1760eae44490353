# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The default placement engine: fast, deterministic, plain Python.

- ``pack`` fills one host at a time, hosts in use first, each time with the item whose
  demand lines up best with the room left, each class weighed by the share of the
  capacity the batch asks of it (the bin-centric weighted dot-product heuristic of vector
  bin packing; the largest few items that fit per class are weighed), then tries to
  empty the least used hosts into the others.
- ``spread`` puts the largest items first, each on the host whose highest utilisation
  after it is lowest (a heap per set of admissible hosts finds the few emptiest), then
  levels: the most loaded host shares its items out again with a host emptiest in its
  most loaded class (or overall), or swaps one, until it cannot be relieved.
- Then every item still unplaced is tried on every admissible host once more, moving one
  placed item elsewhere when that makes room, so that nothing is reported unplaced while
  a host could take it.
- A small batch (PORTFOLIO_PAIRS) is also placed in other orders, the items with the
  fewest admissible hosts first and, under pack, item by item (each on the fullest host in
  use, else on the host that can take the most of the batch) and smallest first; the best
  by VMs placed, soft group rules, then hosts in use (pack) or highest utilisation
  (spread) is kept, and then improved by ruin and recreate while VMs are left unplaced
  or, under pack, more hosts are in use than a lower bound.

Items are ordered by size, then name, and hosts by name: the same input always gives the
same output, whatever the order of the VMs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import bisect
import heapq
import random
from itertools import zip_longest
from operator import gt, mul

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.placement_model import (
    EPSILON, SCORED, choice, commit, fit_key, fits, hosts_key, soft_penalty, soft_terms, uncommit,
)

# The most hosts spread weighs for one item, emptiest first (most items stop far sooner).
SPREAD_CANDIDATES = 6
# Kinds of items pack weighs for each placement, per class they mostly take: the next ones
# that fit, largest first. Weighing every kind costs items x kinds on a large batch.
PACK_CANDIDATES = 8
# Bounds on the improvement moves, counted in fit checks, so that large batches stay fast
# and the result does not depend on the machine's speed.
MOVE_BUDGET = 400000
# Hosts in a row that pack's emptying fails on before it stops.
EMPTY_PATIENCE = 32


class Placement(object):
    """The engine's answer: item -> host (or None) and the NUMA layouts."""

    def __init__(self):
        self.host_of = {}
        self.layout = {}
        self.terms = {}

    def put(self, item, host, member_hosts, terms=None, layout=None):
        """Commits ``item`` to ``host`` (on the NUMA cells of ``layout`` when the engine
        chose them), keeping what the score terms of that choice read (``terms``, a
        placement_model.choice, when an undone move puts it back)."""
        self.terms[id(item)] = terms or choice(host, item)
        self.layout[id(item)] = commit(host, item, member_hosts, layout)
        self.host_of[id(item)] = host

    def take(self, item, member_hosts):
        host = self.host_of.pop(id(item))
        uncommit(host, item, member_hosts, self.layout.pop(id(item)))
        return host, self.terms.pop(id(item))


def reference_capacity(hosts, policy):
    """The mean capacity per scored class over the hosts: the unit that makes classes
    comparable when ordering items."""
    totals, counts = {}, {}
    for host in hosts:
        for name, capacity in host.capacity(policy).items():
            if name in SCORED and capacity > 0:
                totals[name] = totals.get(name, 0) + capacity
                counts[name] = counts.get(name, 0) + 1
    return dict((name, totals[name] / counts[name]) for name in totals)


def size_of(item, reference):
    return max([item.demand.get(name, 0) / reference[name] for name in reference] or [0])


def _order(items, reference):
    for item in items:
        item.size = size_of(item, reference)
    return sorted(items, key=lambda item: (-item.size, -len(item.names), item.names[0]))


def solve(items, hosts, member_hosts):
    """The ``Placement`` of ``items`` on ``hosts``: the items of pack policies first, then
    those of spread policies."""
    placement = Placement()
    for strategy in ('pack', 'spread'):
        place([item for item in items if item.policy.strategy == strategy], hosts, strategy, member_hosts, placement)
    return placement


def place(items, hosts, strategy, member_hosts, placement=None):
    """Places ``items`` (not yet placed) on ``hosts`` with ``strategy``; returns the
    ``Placement``."""
    placement = placement or Placement()
    if not items:
        return placement
    reference = reference_capacity(hosts, items[0].policy)
    ordered = _order(items, reference)
    constructions = PACK if strategy == 'pack' else SPREAD
    if sum(len(item.feasible) for item in items) > PORTFOLIO_PAIRS:
        _construct(constructions[0], ordered, hosts, strategy, member_hosts, placement)
        return placement
    bound = _hosts_bound(ordered, hosts) if strategy == 'pack' else None
    best, best_key = None, None
    for construction in constructions:
        trial = Placement()
        _construct(construction, ordered, hosts, strategy, member_hosts, trial)
        key = _quality(ordered, hosts, strategy, trial)
        for item in ordered:
            if id(item) in trial.host_of:
                trial.take(item, member_hosts)
        if best is None or key < best_key:
            best, best_key = construction, key
    _construct(best, ordered, hosts, strategy, member_hosts, placement)
    _improve(ordered, hosts, strategy, member_hosts, placement, bound)
    return placement


def _construct(construction, ordered, hosts, strategy, member_hosts, placement):
    construction(ordered, hosts, member_hosts, placement)
    if strategy == 'pack':
        _empty_hosts(ordered, hosts, member_hosts, placement)
    else:
        _level(ordered, hosts, member_hosts, placement)
    _sweep(ordered, hosts, strategy, member_hosts, placement)


def _quality(ordered, hosts, strategy, placement):
    """The sort key of a placement, lower is better: the most VMs placed, the soft group
    rules, then under pack the fewest hosts in use and the fullest ones (the sum of squared
    loads, which rewards a nearly empty host that empties further), under spread the
    lowest highest load and the evenest loads; then the VMs placed and their hosts, by
    name."""
    placed = sum(len(item.names) for item in ordered if id(item) in placement.host_of)
    policy = ordered[0].policy
    loads = [_load(host, policy) for host in hosts if host.in_use()]
    squares = sum(load * load for load in loads)
    penalty = soft_penalty(hosts, ordered)
    # Last, of placements alike, the one whose VMs, in name order, go to the hosts first
    # by name (which also places the first by name of VMs alike).
    names = sorted((name, placement.host_of[id(item)].name) for item in ordered if id(item) in placement.host_of
                   for name in item.names)
    if strategy == 'pack':
        return (-placed, penalty, len(loads), -squares, names)
    return (-placed, penalty, max(loads or [0.0]), squares, names)


def _host_rank(ordered, hosts):
    """Sort key of the hosts to open: the most of the batch a host can take first, in the
    classes the batch loads most (per class the smaller of its capacity and the demand
    of the items it admits), then by name."""
    policy = ordered[0].policy
    demand, capacity, admitted = {}, {}, {}
    for item in ordered:
        for name, amount in item.demand.items():
            demand[name] = demand.get(name, 0) + amount
            for host in item.feasible:
                here = admitted.setdefault(host.name, {})
                here[name] = here.get(name, 0) + amount
    for host in hosts:
        for name, amount in host.capacity(policy).items():
            if name in demand and amount > 0:
                capacity[name] = capacity.get(name, 0) + amount
    weight = dict((name, demand[name] / capacity[name] / capacity[name]) for name in capacity)

    def rank(host):
        room, wanted = host.capacity(policy), admitted.get(host.name, {})
        return (-sum(weight[name] * min(room.get(name, 0), wanted.get(name, 0)) for name in weight), host.name)
    return rank


def _fill(ordered, hosts, member_hosts, placement):
    """Item-centric pack: each item on the best host by ``_choose``."""
    rank = _host_rank(ordered, hosts)
    for item in ordered:
        best = _choose(item, 'pack', member_hosts, rank)
        if best is not None:
            placement.put(item, best, member_hosts)


def _choose(item, strategy, member_hosts, rank, closed=None, budget=None):
    """The host ``item`` fits best, never ``closed``: by score, except that under pack the
    host to open is the first by ``rank`` (the host that can take the most of the batch,
    where the score would take the smallest)."""
    best, best_key = None, None
    for host in item.feasible:
        if host.name == closed:
            continue
        if budget is not None:
            budget[0] -= 1
        key = fit_key(host, item, member_hosts, strategy)
        if key is None:
            continue
        if strategy == 'pack' and not host.in_use():
            key = (key[0], 1, rank(host))
        if best is None or key < best_key:
            best, best_key = host, key
    return best


def _in_order(construction, key):
    """``construction`` over the items sorted by ``key``."""
    def build(ordered, hosts, member_hosts, placement):
        construction(sorted(ordered, key=key), hosts, member_hosts, placement)
    return build


def _fewest_hosts_first(item):
    return (len(item.feasible), -item.size, item.names[0])


def _smallest_first(item):
    return (item.size, item.names[0])


# -- pack ------------------------------------------------------------------------------


def _room_vector(host, policy, classes):
    """Per class of ``classes``: the share of the host's capacity under ``policy`` still
    free, and the amount still free (EPSILON above, never below it; infinite for a class
    the host has no inventory of)."""
    capacity = host.capacity(policy)
    load = host.load
    shares, free = [], []
    for name in classes:
        limit = capacity.get(name)
        if limit is None:
            shares.append(0.0)
            free.append(_UNLIMITED)
            continue
        left = limit - load.get(name, 0)
        shares.append(max(0.0, left) / limit if limit > 0 else 0.0)
        free.append(max(0.0, left) + EPSILON)
    return shares, tuple(free)


def _weighing(host, policy, classes, weights, shares):
    """What ``_pack`` multiplies an item's amounts by (in ``classes`` order) to weigh how
    well it lines up with the room left on ``host``: per class its weight, over the
    capacity under the item's ``policy``, times the share of the room free."""
    capacity = host.capacity(policy)
    return tuple(weights.get(name, 0.0) * share / capacity[name] if capacity.get(name) else 0.0
                 for name, share in zip(classes, shares))


def _scarcity(items, hosts, policy):
    """``{class: weight}``: the share of the hosts' capacity the items ask for, so that the
    classes that run out first weigh most when choosing what fills a host (the weighted dot
    product of Panigrahy et al., Heuristics for Vector Bin Packing, 2011)."""
    demand, capacity = {}, {}
    for item in items:
        for name, amount in item.demand.items():
            demand[name] = demand.get(name, 0) + amount
    for host in hosts:
        for name, amount in host.capacity(policy).items():
            if amount > 0:
                capacity[name] = capacity.get(name, 0) + amount
    return dict((name, demand[name] / float(capacity[name])) for name in demand if capacity.get(name))


def _pack(ordered, hosts, member_hosts, placement):
    policy = ordered[0].policy
    kinds, admitted = {}, {}
    for item in ordered:
        key = (tuple(p.name for p in item.policies), tuple(sorted(item.demand.items())), hosts_key(item),
               tuple(sorted(item.group_counts.items())), repr(item.numa))
        kinds.setdefault(key, []).append(item)
        if hosts_key(item) not in admitted:
            admitted[hosts_key(item)] = set(id(h) for h in item.feasible)
    weights = _scarcity(ordered, hosts, policy)
    reference = reference_capacity(hosts, policy)
    # Every kind's amounts as a vector over the classes of the batch (in name order, as
    # item.demand_order), so that a kind is weighed and told short in C.
    classes = sorted(set(name for item in ordered for name in item.demand))
    # Kinds by the scored class they take most of (in SCORED order, then the others), each
    # list largest first: an item that lines up with the room left on one class is among
    # the first few of that class's list.
    by_class = dict((name, []) for name in SCORED + (None,))
    for queue in kinds.values():
        queue.reverse()  # pop() takes the largest, then the first name
        head = queue[-1]
        shares = [(head.demand.get(name, 0) / reference[name], name) for name in SCORED if name in reference]
        top = max(shares) if shares else (0, None)
        amounts = tuple(head.demand.get(name, 0) for name in classes)
        by_class[top[1] if top[0] > 0 else None].append((admitted[hosts_key(head)], (queue, amounts)))
    host_order = sorted(hosts, key=lambda h: (0 if h.in_use() else 1, -_capacity_weight(h, policy), h.name))
    for host in host_order:
        for entries in by_class.values():
            entries[:] = [entry for entry in entries if entry[1][0]]  # the kinds left
        lists = [[kind for allowed, kind in entries if id(host) in allowed] for entries in by_class.values()]
        while True:
            shares, free = _room_vector(host, policy, classes)
            weighing = {policy: _weighing(host, policy, classes, weights, shares)}
            best, best_value, best_list = None, None, None
            for kinds_left in lists:
                kept, weighed = [], 0
                for position, kind in enumerate(kinds_left):
                    queue, amounts = kind
                    if not queue:
                        continue
                    item = queue[-1]
                    if item.policy is policy and any(map(gt, amounts, free)):
                        continue  # the host only fills up, so this kind will not fit it later either
                    kept.append(kind)
                    if item.policy not in weighing:
                        weighing[item.policy] = _weighing(host, item.policy, classes, weights, shares)
                    value = sum(map(mul, amounts, weighing[item.policy]))
                    if best is None or value > best_value + 1e-12:
                        best, best_value, best_list = kind, value, kinds_left
                    weighed += 1
                    if weighed == PACK_CANDIDATES:
                        kept.extend(kinds_left[position + 1:])
                        break
                kinds_left[:] = kept
            if best is None:
                break
            if fits(host, best[0][-1], member_hosts) is not None:
                # Every rule is checked on the kind chosen only; one that breaks a rule
                # here will not fit later either, as the host only fills up.
                for position, kind in enumerate(best_list):
                    if kind is best:
                        del best_list[position]
                        break
                continue
            placement.put(best[0].pop(), host, member_hosts)


_UNLIMITED = float('inf')


def _capacity_weight(host, policy):
    return sum(capacity for name, capacity in host.capacity(policy).items() if name in SCORED and capacity > 0)


def _empty_hosts(ordered, hosts, member_hosts, placement):
    """Moves every item off the least used hosts when the others can take them all; it
    stops after EMPTY_PATIENCE hosts in a row that could not be emptied, since the hosts
    after them hold more."""
    budget = [MOVE_BUDGET]
    failures = 0
    by_host = {}
    for item in ordered:
        host = placement.host_of.get(id(item))
        if host is not None:
            by_host.setdefault(host.name, []).append(item)
    candidates = sorted((h for h in hosts if h.name in by_host and h.existing_domains == 0),
                        key=lambda h: (len(by_host[h.name]), h.name))
    for host in candidates:
        if budget[0] <= 0 or failures >= EMPTY_PATIENCE:
            break
        items = by_host.get(host.name) or []
        if not items or host.existing_domains:
            continue
        moved = []
        ok = True
        for item in items:
            dummy, terms = placement.take(item, member_hosts)
            target = _best_other(item, host, placement, member_hosts, budget, by_host)
            if target is None:
                placement.put(item, host, member_hosts, terms)
                ok = False
                break
            placement.put(item, target, member_hosts)
            moved.append((item, target, terms))
        if ok:
            failures = 0
            by_host.pop(host.name, None)
            for item, target, terms in moved:
                by_host.setdefault(target.name, []).append(item)
            continue
        failures += 1
        for item, target, terms in reversed(moved):
            placement.take(item, member_hosts)
            placement.put(item, host, member_hosts, terms)


def _best_other(item, avoid, placement, member_hosts, budget, by_host):
    """The host in use other than ``avoid`` that ``item`` fits best, where the soft group
    rules weigh no more than on ``avoid``: emptying a host never costs a soft rule."""
    best, best_key = None, None
    limit = soft_terms(avoid, item)[0]
    for host in item.feasible:
        if host is avoid or not host.in_use() or host.name not in by_host:
            continue
        budget[0] -= 1
        key = fit_key(host, item, member_hosts, 'pack')
        if key is None or key[0] > limit:
            continue
        if best is None or key < best_key:
            best, best_key = host, key
    return best


# -- spread ----------------------------------------------------------------------------


def _load(host, policy):
    """The host's highest utilisation over the scored classes under ``policy``."""
    load, highest = host.load, 0.0
    for name, capacity in zip(SCORED, host.scored_capacity(policy)):
        value = load.get(name, 0) / capacity
        if value > highest:
            highest = value
    return highest


def _spread(ordered, hosts, member_hosts, placement):
    heaps = {}  # (policy, admissible hosts) -> (heap, policy)
    version = dict((id(host), 0) for host in hosts)
    holders = {}  # host -> the heap keys it is in

    def heap_for(item):
        key = (item.policy.name, hosts_key(item))
        if key not in heaps:
            heap = [(_load(h, item.policy), h.name, version[id(h)], h) for h in item.feasible]
            heapq.heapify(heap)
            heaps[key] = (heap, item.policy)
            for host in item.feasible:
                holders.setdefault(id(host), []).append(key)
        return heaps[key][0]

    # fit_key of an item without groups or NUMA needs reads only the host, which changes
    # only when its version does, and what the item asks, which items alike share (the
    # same demand object): the next item alike weighs mostly the same hosts again.
    known = {}  # (host id, version, id of the item's demand) -> fit_key

    for item in ordered:
        if not item.feasible:
            continue
        popped = []
        alike = id(item.demand) if not item.joined and item.numa_free else None
        if item.soft:
            # Soft group rules can prefer any host, so every admissible one is weighed.
            candidates = [(host, fit_key(host, item, member_hosts, 'spread')) for host in item.feasible]
        else:
            heap = heap_for(item)
            candidates = []
            while heap and len(candidates) < SPREAD_CANDIDATES:
                entry = heapq.heappop(heap)
                if entry[2] != version[id(entry[3])]:
                    continue  # the host changed since; its newer entry is in the heap
                popped.append(entry)
                if alike is None:
                    key = fit_key(entry[3], item, member_hosts, 'spread')
                else:
                    seen = (id(entry[3]), entry[2], alike)
                    key = known[seen] if seen in known else known.setdefault(seen, fit_key(entry[3], item, member_hosts, 'spread'))
                if key is not None:
                    candidates.append((entry[3], key))
        chosen, chosen_key = None, None
        for host, key in candidates:
            if key is not None and (chosen is None or key < chosen_key):
                chosen, chosen_key = host, key
        for entry in popped:
            if entry[3] is not chosen:
                heapq.heappush(heap, entry)
        if chosen is None:
            continue
        placement.put(item, chosen, member_hosts)
        version[id(chosen)] += 1
        loads = {}
        for key in holders.get(id(chosen), ()):
            heap, policy = heaps[key]
            if policy.name not in loads:
                loads[policy.name] = _load(chosen, policy)
            heapq.heappush(heap, (loads[policy.name], chosen.name, version[id(chosen)], chosen))


# -- levelling: spread, after the construction --------------------------------------------


class _Level(object):
    """What levelling reads: per held item its amounts of the scored classes, per host
    its capacities of them under the policy (0: none), as tuples in SCORED order."""

    def __init__(self, policy, items, placement):
        self.policy = policy
        self.placement = placement
        self.amounts = dict((id(item), tuple(item.demand.get(name, 0) for name in SCORED)) for item in items)
        self.largest_first = dict((item, (-item.size, item.names[0])) for item in items)
        self.caps = {}
        self.admitted = {}
        for item in items:
            if hosts_key(item) not in self.admitted:
                self.admitted[hosts_key(item)] = set(id(host) for host in item.feasible)

    def capacity(self, host):
        found = self.caps.get(id(host))
        if found is None:
            limits = host.capacity(self.policy)
            found = self.caps[id(host)] = tuple(float(limits.get(name) or 0) for name in SCORED)
        return found

    def loads(self, host):
        """The host's utilisation per scored class it has: [(class index, utilisation)]."""
        caps = self.capacity(host)
        return [(k, (host.load.get(name, 0)) / caps[k]) for k, name in enumerate(SCORED) if caps[k] > 0]

    def allows(self, item, host):
        return id(host) in self.admitted[hosts_key(item)]

    def room(self, first, second, limit):
        """Whether the two hosts together hold less than ``limit`` of every class: no
        exchange between them can take both below it otherwise."""
        caps = [self.capacity(first), self.capacity(second)]
        for k, name in enumerate(SCORED):
            total = 0
            for side, host in enumerate((first, second)):
                if caps[side][k] > 0:
                    total += host.load.get(name, 0)
            if total >= limit * (caps[0][k] + caps[1][k]):
                return False
        return True

    def split(self, items, first, second, limit):
        """``[(item, host)]`` sharing ``items`` (now on ``first`` or ``second``) out
        between the two, largest first, each where the higher utilisation after it is
        lower; None unless both end below ``limit``. Amounts only: the move checks every
        rule."""
        sides = []
        for host in (first, second):
            # Infinite for a class the host has none of: it then weighs nothing.
            sides.append((host, host.scored_capacity(self.policy), [host.load.get(name, 0) for name in SCORED]))
        where = dict((id(host), side) for host, dummy, side in sides)
        for item in items:
            have = where[id(self.placement.host_of[id(item)])]
            for k, amount in enumerate(self.amounts[id(item)]):
                have[k] -= amount
        plan = []
        for item in sorted(items, key=self.largest_first.__getitem__):
            amounts, allowed = self.amounts[id(item)], self.admitted[hosts_key(item)]
            best, best_value = None, limit
            for side in sides:
                if id(side[0]) in allowed:
                    value = 0.0
                    for have, amount, capacity in zip(side[2], amounts, side[1]):
                        if (have + amount) / capacity > value:
                            value = (have + amount) / capacity
                    if value < best_value:
                        best, best_value = side, value
            if best is None:
                return None
            have = best[2]
            for k, amount in enumerate(amounts):
                have[k] += amount
            plan.append((item, best[0]))
        for host, scored, have in sides:
            for amount, capacity in zip(have, scored):
                if amount / capacity >= limit:
                    return None
        return plan

    def swap(self, mine, theirs, first, second, limit, worst):
        """``[(item, host)]``: one item of ``first`` to ``second``, alone or for one of
        ``second``'s, such that both end below ``limit``; None when there is none. Of
        ``theirs`` only those whose amount of class ``worst`` (an index) lies in the
        window that takes ``first`` below the limit and keeps ``second`` below it are
        weighed."""
        caps = [self.capacity(first), self.capacity(second)]
        used = [[host.load.get(name, 0) for name in SCORED] for host in (first, second)]
        classes = [k for k in range(len(SCORED)) if caps[0][k] > 0 and caps[1][k] > 0]
        if worst not in classes:
            return None
        offers = sorted((self.amounts[id(other)][worst], other.names[0], other) for other in theirs if self.allows(other, first))
        keys = [offer[0] for offer in offers]

        def below(side, adding, removing):
            return all((used[side][k] + adding[k] - removing[k]) / caps[side][k] < limit for k in classes)
        nothing = (0,) * len(SCORED)
        for item in mine:
            if not self.allows(item, second):
                continue
            amounts = self.amounts[id(item)]
            if below(1, amounts, nothing) and below(0, nothing, amounts):
                return [(item, second)]
            # first: used0 - item + other < limit * caps0; second: used1 + item - other < limit * caps1.
            high = limit * caps[0][worst] - used[0][worst] + amounts[worst]
            low = used[1][worst] + amounts[worst] - limit * caps[1][worst]
            for position in range(bisect.bisect_right(keys, low), len(offers)):
                if keys[position] >= high:
                    break
                other = offers[position][2]
                back = self.amounts[id(other)]
                if below(0, back, amounts) and below(1, amounts, back):
                    return [(item, second), (other, first)]
        return None


def _level(ordered, hosts, member_hosts, placement):
    """Spread, after the construction: lowers the highest utilisation. The items of the
    most loaded host and of a partner (one of the hosts emptiest in its most loaded class,
    or emptiest overall) are shared out again between the two, largest first, each where
    the higher utilisation stays lowest; failing that, one item moves to the partner,
    alone or for one of the partner's. When both then end below where the former was, the
    items move. Again, until the most loaded host cannot be relieved or the budget (in
    hosts paired) is spent. Each step lowers one host and leaves the other below it, so
    it ends. Items in soft groups stay where their rules put them."""
    held = {}
    for item in ordered:
        host = placement.host_of.get(id(item))
        if host is not None and not item.soft:
            held.setdefault(id(host), []).append(item)
    level = _Level(ordered[0].policy, [item for items in held.values() for item in items], placement)
    version, top = {}, []
    lows = dict((k, []) for k in range(len(SCORED) + 1))  # per class index, and by the highest class

    def push(host):
        version[id(host)] = stamp = version.get(id(host), -1) + 1
        loads = level.loads(host)
        highest = max([value for k, value in loads] or [0.0])
        heapq.heappush(top, (-highest, host.name, stamp, host))
        heapq.heappush(lows[len(SCORED)], (highest, host.name, stamp, host))
        for k, value in loads:
            heapq.heappush(lows[k], (value, host.name, stamp, host))

    def emptiest(heap, avoid):
        found, kept = [], []
        while heap and len(found) < LEVEL_CANDIDATES:
            entry = heapq.heappop(heap)
            if entry[2] != version[id(entry[3])]:
                continue
            kept.append(entry)
            if entry[3] is not avoid:
                found.append(entry[3])
        for entry in kept:
            heapq.heappush(heap, entry)
        return found

    for host in hosts:
        push(host)
    budget = LEVEL_BUDGET
    while budget > 0 and top:
        entry = top[0]
        host = entry[3]
        if entry[2] != version[id(host)]:
            heapq.heappop(top)
            continue
        loads = level.loads(host)
        if not loads or not held.get(id(host)):
            return
        limit = -entry[0] - EPSILON
        worst = max(loads, key=lambda pair: (pair[1], -pair[0]))[0]
        # In turns: the emptiest in the class, the emptiest overall, the next of each...
        partners = []
        for pair in zip_longest(emptiest(lows[worst], host), emptiest(lows[len(SCORED)], host)):
            partners.extend(other for other in pair if other is not None and other not in partners)
        for other in partners:
            budget -= 1
            if not level.room(host, other, limit):
                continue
            mine, theirs = held.get(id(host), []), held.get(id(other), [])
            plan = level.split(mine + theirs, host, other, limit) or level.swap(mine, theirs, host, other, limit, worst)
            if plan is not None and _move(plan, placement, member_hosts):
                held[id(host)] = [item for item in mine + theirs if placement.host_of[id(item)] is host]
                held[id(other)] = [item for item in mine + theirs if placement.host_of[id(item)] is other]
                push(host)
                push(other)
                break
        else:
            return


def _move(plan, placement, member_hosts):
    """Moves each item of ``plan`` to its host when every rule admits it there; True when
    done, else everything stays where it was."""
    moving = [(item, target) for item, target in plan if placement.host_of[id(item)] is not target]
    saved = [(item, placement.host_of[id(item)], placement.layout[id(item)], placement.terms[id(item)]) for item, target in moving]
    for item, target in moving:
        placement.take(item, member_hosts)
    done = []
    for item, target in moving:
        if fits(target, item, member_hosts) is not None:
            for placed in done:
                placement.take(placed, member_hosts)
            for item, host, layout, terms in saved:
                placement.put(item, host, member_hosts, terms, layout)
            return False
        placement.put(item, target, member_hosts)
        done.append(item)
    return True


# How each strategy builds a placement. A batch of up to PORTFOLIO_PAIRS (item, admissible
# host) pairs tries each and keeps the best by _quality; a larger one takes the first,
# whose work per item stays near O(log hosts). The item-centric fills catch what the
# bin-centric pass misses on small fleets of unlike hosts: the items with the fewest hosts
# first (traits, groups), and the smallest first (the most VMs when not all fit).
PACK = [_pack, _in_order(_fill, _fewest_hosts_first), _in_order(_fill, _smallest_first)]
SPREAD = [_spread, _in_order(_spread, _fewest_hosts_first)]
PORTFOLIO_PAIRS = 20000
# Spread's levelling: the pairs of hosts it may weigh in all, and the partners it weighs
# for the most loaded host, the emptiest in its most loaded class and the emptiest overall.
LEVEL_BUDGET = 20000
LEVEL_CANDIDATES = 4
# Ruin and recreate on a small batch: the fit checks it may spend, the steps in a row
# without a better placement after which it stops, and the seed of its choices.
RUIN_BUDGET = 4000
RUIN_PATIENCE = 40
RUIN_SEED = 1


# -- ruin and recreate: small batches ---------------------------------------------------


def _improve(ordered, hosts, strategy, member_hosts, placement, bound):
    """Ruin and recreate (Schrimpf et al.) while it may still pay: takes the items off a
    host (one an unplaced item could use, or under pack the emptiest, kept empty) and some
    of another, puts them and the unplaced items back largest first in a slightly shuffled
    order, and keeps the result when it is no worse. The random numbers come from a fixed
    seed and the work is counted in fit checks: the result depends on the input only."""
    rng = random.Random(RUIN_SEED)
    budget = [RUIN_BUDGET]
    rank = _host_rank(ordered, hosts)
    best = _quality(ordered, hosts, strategy, placement)
    stale = 0
    while budget[0] > 0 and stale < RUIN_PATIENCE:
        unplaced = [item for item in ordered if id(item) not in placement.host_of and item.feasible]
        held = {}
        for item in ordered:
            host = placement.host_of.get(id(item))
            if host is not None:
                held.setdefault(host.name, []).append(item)
        names = sorted(held)
        closed = None
        if unplaced:
            wanted = unplaced[rng.randrange(len(unplaced))]
            ruined = wanted.feasible[rng.randrange(len(wanted.feasible))].name
        elif bound is not None and best[2] > bound and names:  # best[2]: the hosts in use
            closed = ruined = min(names, key=lambda name: (len(held[name]), rng.random()))
        else:
            return
        removed = list(held.get(ruined, ()))
        if names:
            other = names[rng.randrange(len(names))]
            removed.extend(item for item in held[other] if other != ruined and rng.random() < 0.5)
        saved = [(item, placement.host_of[id(item)], placement.layout[id(item)], placement.terms[id(item)]) for item in removed]
        for item in removed:
            placement.take(item, member_hosts)
        pending = [item for item in ordered if id(item) not in placement.host_of and item.feasible]
        pending.sort(key=lambda item: (-item.size * (0.75 + 0.5 * rng.random()), item.names[0]))
        added = []
        for item in pending:
            target = _choose(item, strategy, member_hosts, rank, closed, budget)
            if target is not None:
                placement.put(item, target, member_hosts)
                added.append(item)
        found = _quality(ordered, hosts, strategy, placement)
        stale = 0 if found < best else stale + 1
        if found <= best:
            best = found
            continue
        for item in added:
            placement.take(item, member_hosts)
        for item, host, layout, terms in saved:
            placement.put(item, host, member_hosts, terms, layout)


def _hosts_bound(ordered, hosts):
    """A lower bound on the hosts in use: those in use already, plus per class the fewest
    of the others, largest room first, that hold what the batch needs beyond the room of
    the former."""
    policy = ordered[0].policy
    demand = {}
    for item in ordered:
        for name, amount in item.demand.items():
            demand[name] = demand.get(name, 0) + amount

    def room(host, name):
        return max(0.0, (host.capacity(policy).get(name) or 0) - host.load.get(name, 0))
    fixed = [host for host in hosts if host.in_use()]
    needed = len(fixed)
    for name, amount in demand.items():
        total, count = sum(room(host, name) for host in fixed), len(fixed)
        for found in sorted((room(host, name) for host in hosts if not host.in_use()), reverse=True):
            if total >= amount:
                break
            total += found
            count += 1
        needed = max(needed, count)
    return needed


# -- the sweep: nothing unplaced while a host could take it ---------------------------


def _sweep(ordered, hosts, strategy, member_hosts, placement):
    budget = [MOVE_BUDGET]
    for item in ordered:
        if id(item) in placement.host_of or not item.feasible:
            continue
        target = _best_fit(item, strategy, member_hosts)
        if target is not None:
            placement.put(item, target, member_hosts)
            continue
        _make_room(item, ordered, strategy, member_hosts, placement, budget)


def _best_fit(item, strategy, member_hosts):
    best, best_key = None, None
    for host in item.feasible:
        key = fit_key(host, item, member_hosts, strategy)
        if key is None:
            continue
        if best is None or key < best_key:
            best, best_key = host, key
    return best


def _make_room(item, ordered, strategy, member_hosts, placement, budget):
    """Moves one placed item to another host when that lets ``item`` in."""
    on_host = {}
    for other in ordered:
        host = placement.host_of.get(id(other))
        if host is not None:
            on_host.setdefault(id(host), []).append(other)
    for host in item.feasible:
        for other in sorted(on_host.get(id(host), ()), key=lambda o: (o.size, o.names[0])):
            if budget[0] <= 0:
                return False
            budget[0] -= len(other.feasible) + 1
            dummy, terms = placement.take(other, member_hosts)
            if fits(host, item, member_hosts) is None:
                target = next((h for h in other.feasible if h is not host and fits(h, other, member_hosts) is None), None)
                if target is not None:
                    placement.put(item, host, member_hosts)
                    placement.put(other, target, member_hosts)
                    return True
            placement.put(other, host, member_hosts, terms)
    return False
