# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The exact engine (``engine='cp-sat'``): the batch as one CP-SAT model of OR-tools,
for small and medium batches, started from the heuristic's answer.

A boolean ``x[item, host]`` for every admissible host of an item (``item.feasible``, less
the hosts where the item alone already breaks a rule), a boolean per guest NUMA node and
host cell, and the indicators the rules need. Each constraint states one rule of
placement_model on the final state, so it holds whatever order the items are committed in:

- rule_capacity: per host and class, ``used + sum(demand) <= capacity`` under every
  placement policy of the items on that host (a policy whose capacity is below the
  loosest one binds through an indicator "this policy has an item here");
- rule_groups: the members of a hard group on a host, existing members included, at
  most its max_per_host;
- rule_affinity_hosts: a hard affinity group without max_per_host goes to the hosts that
  hold members already, or else all to one host;
- fit_cells: each guest NUMA node on one host cell, the nodes of a VM on distinct cells,
  and per cell the pinned CPUs, the hugepages of each size and the memory of the nodes
  without hugepages within what is free.

The objective is lexicographic, solved in stages, each stage keeping the value the one
before reached: (1) the most VMs placed; (2) the soft group rules as
placement_model.soft_penalty counts them, before balance as in the heuristic's score;
(3) the strategy of the items' placement policies: under pack, the hosts not in use before
that pack items open; under spread, the highest utilisation (in thousandths) over the
scored classes of the hosts that spread items may use, each class measured against its
capacity under the spread policies. A batch with items of both strategies minimises both
at once, one host that pack opens weighing more than any difference in utilisation.
Two stages then refine the optimum without changing the status: under spread the
utilisations made even (a convex measure: how far each host is above each tenth), and
ties broken by host name (the sum of the positions of the chosen hosts in name order).

``solve`` returns the status:

- ``optimal``: stages 1 to 3 were proven optimal;
- ``feasible``: one of them ran out of time with a solution; the heuristic then still
  places what the solver left unplaced where it fits;
- ``heuristic-fallback``: the solver found no solution in time (or one the rules refuse,
  which would be a defect), or the batch has more than MAX_PAIRS pairs of item and
  admissible host; the answer is the heuristic's.

Deterministic: one worker, a fixed seed, the model built in item and host name order, and
the search bounded in CP-SAT's deterministic time (DETERMINISTIC_SHARE of ``time_limit``),
so the same input gives the same answer whatever the machine's speed, unless the wall
clock (``time_limit`` itself, the heuristic's start included) stops a stage first on a
machine under heavy load.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import time

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.placement_heuristic import Placement, place
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.placement_heuristic import solve as heuristic
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.placement_model import (
    EPSILON, SCORED, node_room, rule_affinity_hosts, rule_capacity, rule_groups,
)

MISSING = "engine cp-sat needs the Python package ortools on the controller: pip install ortools; or use engine='heuristic'"
FALLBACK = 'heuristic-fallback'
# The most (item, admissible host) pairs a model is built for.
MAX_PAIRS = 200000
SEED = 1
# Utilisation in thousandths: finer steps only slow the proof down.
UTIL_SCALE = 1000
# The search is bounded in CP-SAT's deterministic time, a share of time_limit: on a
# machine under load a second of deterministic time took about 3 seconds of wall time, and
# time_limit still caps the wall time.
DETERMINISTIC_SHARE = 0.25
# The share of the budget left that each stage but the last may take, and the most a stage
# that only refines an optimum (balance, host names) may take of the whole budget.
STAGE_SHARE = 0.5
REFINE_SHARE = 0.02
# Steps (tenths) of the convex measure that evens out the utilisations under spread.
BALANCE_STEPS = 10


def solve(items, states, member_hosts, time_limit):
    """``(placement, status)`` of ``items`` on the hosts ``states``; see the module
    docstring for the status. Raises ImportError (the message names the fix) without
    ortools."""
    try:
        from ortools.sat.python import cp_model
    except ImportError:
        raise ImportError(MISSING)
    if not hasattr(cp_model.CpModel, 'new_bool_var'):
        raise ImportError(MISSING.replace('pip install ortools', 'pip install "ortools>=9.8"'))
    deadline = time.time() + time_limit
    start = heuristic(items, states, member_hosts)
    if sum(len(item.feasible) for item in items) > MAX_PAIRS:
        # A model this large takes more memory and time to build than any time limit
        # leaves it to improve anything: the heuristic's answer stands.
        return start, FALLBACK
    hint = {}
    for item in items:
        if id(item) in start.host_of:
            hint[id(item)] = (start.host_of[id(item)], start.layout[id(item)])
            start.take(item, member_hosts)
    found, status = _Model(cp_model, items, states, member_hosts).solve(hint, time_limit, deadline)
    if found is None:
        return heuristic(items, states, member_hosts), FALLBACK
    placement = Placement()
    for item in items:
        if id(item) not in found:
            continue
        host, layout = found[id(item)]
        if not _admits(host, item, member_hosts, layout):
            for placed in items:
                if id(placed) in placement.host_of:
                    placement.take(placed, member_hosts)
            return heuristic(items, states, member_hosts), FALLBACK
        placement.put(item, host, member_hosts, layout=layout)
    if status != 'optimal':
        for strategy in ('pack', 'spread'):
            left = [item for item in items if id(item) not in placement.host_of and item.policy.strategy == strategy]
            place(left, states, strategy, member_hosts, placement)
    return placement, status


def _admits(host, item, member_hosts, layout):
    """The rules of placement_model agree with the solver: the item fits the host now,
    on the cells of ``layout``."""
    if rule_capacity(host, item) or rule_groups(host, item) or rule_affinity_hosts(host, item, member_hosts):
        return False
    taken = {}
    for nodes, found in zip(item.numa, layout):
        for node, index in found or ():
            for kind, amount, free in node_room(host.cells[index], nodes[node]):
                taken[index, kind] = taken.get((index, kind), 0) + amount
                if free is None or taken[index, kind] > free:
                    return False
    return True


def _room(capacity, base):
    """What whole demands may add to ``base`` within ``capacity`` (never below 0: a host
    already over takes nothing more of that class)."""
    return max(0, int(math.floor(capacity - base + EPSILON)))


def _whole(amount):
    return int(math.ceil(amount - EPSILON))


class _Model(object):

    def __init__(self, cp_model, items, states, member_hosts):
        self.cp_model = cp_model
        self.model = cp_model.CpModel()
        self.items = items
        self.hosts = sorted(states, key=lambda host: host.name)
        self.x = {}  # (item index, host name) -> var
        self.cells = {}  # (item index, vm index, host name) -> [{cell index: var} per guest node]
        self.on_host = {}  # host name -> [(item index, var)]
        self.penalty = []
        self.balance = []
        self.derived = []  # (var, its value as a function of the others'), in creation order
        self._admissible(member_hosts)
        self.opened = self._opened()
        for host in self.hosts:
            self._capacity(host)
            self._numa(host)
        for name in sorted(set(group for item in items for group in item.group_counts)):
            self._group(name, member_hosts)
        self.strategy = self._strategy()

    # -- variables ---------------------------------------------------------------------

    def _admissible(self, member_hosts):
        feasible = set()
        for index, item in enumerate(self.items):
            for host in item.feasible:
                feasible.add((index, host.name))
        for index, item in enumerate(self.items):
            for host in self.hosts:
                if (index, host.name) not in feasible or not self._may_hold(host, item, member_hosts):
                    continue
                var = self.x[index, host.name] = self.model.new_bool_var('x%d_%s' % (index, host.order))
                self.on_host.setdefault(host.name, []).append((index, var))
            self.model.add_at_most_one(self.x[index, host.name] for host in self.hosts if (index, host.name) in self.x)

    def _may_hold(self, host, item, member_hosts):
        """False when the item alone breaks a rule on the host as it is before the batch."""
        if rule_capacity(host, item) or rule_groups(host, item) or rule_affinity_hosts(host, item, member_hosts):
            return False
        for nodes in item.numa:
            if nodes is None:
                continue
            if not host.cells or len(nodes) > len(host.cells):
                return False
            if any(not self._cells_for(host, node) for node in nodes):
                return False
        return True

    @staticmethod
    def _cells_for(host, node):
        return [index for index, cell in enumerate(host.cells)
                if all(free is not None and amount <= free for kind, amount, free in node_room(cell, node))]

    def _opened(self):
        """host name -> "pack items open this host", for the hosts not in use before."""
        found = {}
        for host in self.hosts:
            packed = [var for index, var in self.on_host.get(host.name, ()) if self.items[index].policy.strategy == 'pack']
            if packed and not host.in_use():
                found[host.name] = self._any(packed, 'open_%s' % host.order)
        return found

    # -- rule_capacity -----------------------------------------------------------------

    def _capacity(self, host):
        here = self.on_host.get(host.name)
        if not here:
            return
        fixed = list(host.policies)
        candidates = []
        for index, var in here:
            for policy in self.items[index].policies:
                if policy not in fixed and policy not in candidates:
                    candidates.append(policy)
        indicators = {}
        for name in sorted(set(name for index, var in here for name in self.items[index].demand)):
            terms = [(_whole(self.items[index].demand[name]), var) for index, var in here if self.items[index].demand.get(name, 0) > 0]
            base = host.load.get(name, 0)
            rooms = {}
            for policy in fixed + candidates:
                capacity = host.capacity(policy).get(name)
                if capacity is not None:
                    rooms[policy] = _room(capacity, base)
            if not terms or not rooms:
                continue  # no inventory: the per-host verdict said whether that may be unconfirmed
            # Any item that takes the class brings its policies along, so the loosest room
            # binds always; a fixed policy (already on the host) binds always too.
            loosest = max(rooms.values())
            for policy in fixed:
                loosest = min(loosest, rooms.get(policy, loosest))
            load = sum(amount * var for amount, var in terms)
            total = sum(amount for amount, var in terms)
            if host.name in self.opened and all(self.items[index].policy.strategy == 'pack' for index, var in here):
                # Stated with the host's open indicator, the capacity bounds the hosts pack opens.
                self.model.add(load <= loosest * self.opened[host.name])
            elif total > loosest:
                self.model.add(load <= loosest)
            for policy in candidates:
                if policy in rooms and rooms[policy] < loosest and total > rooms[policy]:
                    if policy.name not in indicators:
                        indicators[policy.name] = self._policy_here(host, policy, here)
                    self.model.add(load <= rooms[policy]).only_enforce_if(indicators[policy.name])

    def _policy_here(self, host, policy, here):
        return self._any([var for index, var in here if policy in self.items[index].policies], 'p_%s_%s' % (host.order, policy.name))

    def _any(self, variables, label):
        """A boolean that each of ``variables`` implies: in a hint, whether any is set."""
        found = self.model.new_bool_var(label)
        for var in variables:
            self.model.add_implication(var, found)
        self.derived.append((found, lambda value: int(any(value(var) for var in variables))))
        return found

    # -- fit_cells ---------------------------------------------------------------------

    def _numa(self, host):
        use = {}  # (cell index, kind) -> ([(amount, var)], free)
        for index, var in self.on_host.get(host.name, ()):
            item = self.items[index]
            for vm, nodes in enumerate(item.numa):
                if nodes is None:
                    continue
                per_node = []
                on_cell = {}
                for node in nodes:
                    options = {}
                    for cell in self._cells_for(host, node):
                        choice = options[cell] = self.model.new_bool_var('c%d_%d_%s_%d' % (index, vm, host.order, cell))
                        on_cell.setdefault(cell, []).append(choice)
                        for kind, amount, free in node_room(host.cells[cell], node):
                            use.setdefault((cell, kind), ([], free))[0].append((amount, choice))
                    self.model.add(sum(options.values()) == var)
                    per_node.append(options)
                for choices in on_cell.values():
                    self.model.add_at_most_one(choices)  # distinct cells for the nodes of one VM
                self.cells[index, vm, host.name] = per_node
        for key in sorted(use, key=str):
            terms, free = use[key]
            if sum(amount for amount, var in terms) > free:
                self.model.add(sum(amount * var for amount, var in terms) <= free)

    # -- rule_groups, rule_affinity_hosts, soft rules ----------------------------------

    def _group(self, name, member_hosts):
        members = [(index, item.group_counts[name], item.group(name)) for index, item in enumerate(self.items) if name in item.group_counts]
        for host in self.hosts:
            here = [(index, count, group, self.x[index, host.name]) for index, count, group in members if (index, host.name) in self.x]
            if not here:
                continue
            initial = host.groups.get(name, 0)
            load = sum(count * var for index, count, group, var in here)
            total = sum(count for index, count, group, var in here)
            hard = [(group.max_per_host, var) for index, count, group, var in here if group is not None and group.hard and group.max_per_host]
            limits = set(limit for limit, var in hard)
            if len(hard) == len(here) and len(limits) == 1:
                if initial + total > hard[0][0]:
                    self.model.add(load <= max(0, hard[0][0] - initial))
            else:
                for limit, var in hard:
                    if initial + total > limit:
                        self.model.add(load <= max(0, limit - initial)).only_enforce_if(var)
            soft = [group for index, count, group, var in here if group is not None and not group.hard]
            spread_out = [group.max_per_host or 1 for group in soft if group.kind == 'anti_affinity']
            if spread_out and initial + total > min(spread_out):
                limit = min(spread_out)
                over = self.model.new_int_var(0, initial + total - limit, 'over_%s_%s' % (host.order, name))
                self.model.add(over >= load + initial - limit)
                self.derived.append((over, lambda value, counted=[(count, var) for index, count, group, var in here], initial=initial, limit=limit:
                                     max(0, initial + sum(count * value(var) for count, var in counted) - limit)))
                self.penalty.append(over)
            if any(group.kind == 'affinity' for group in soft) and not initial:
                self.penalty.append(self._any([var for index, count, group, var in here], 'joined_%s_%s' % (host.order, name)))
        together = [index for index, count, group in members
                    if group is not None and group.hard and group.kind == 'affinity' and not group.max_per_host]
        if together and not member_hosts.get(name):
            # No member runs yet: the first item's host becomes the group's only host.
            chosen = dict((host.name, self._any([self.x[index, host.name] for index in together if (index, host.name) in self.x],
                                                'at_%s_%s' % (host.order, name))) for host in self.hosts)
            self.model.add_at_most_one(chosen.values())
            for index, count, group in members:
                for host in self.hosts:
                    if (index, host.name) not in self.x:
                        continue
                    if index not in together:
                        self.model.add(self.x[index, host.name] + sum(chosen.values()) - chosen[host.name] <= 1)

    # -- objective ---------------------------------------------------------------------

    def _strategy(self):
        """The strategy objective; under spread also ``self.balance``, a convex measure of
        the hosts' utilisations (the sum over hosts of how far each is above each tenth)."""
        opened = [self.opened[host.name] for host in self.hosts if host.name in self.opened]
        rows = {}  # host -> [(capacity, base, terms)]
        for host in self.hosts:
            here = self.on_host.get(host.name, ())
            policies = []
            for index, var in here:
                if self.items[index].policy.strategy == 'spread' and self.items[index].policy not in policies:
                    policies.append(self.items[index].policy)
            for name in SCORED if policies else ():
                capacities = [found for found in (host.capacity(policy).get(name) for policy in policies) if found]
                capacity = int(round(min(capacities))) if capacities else 0
                if capacity <= 0:
                    continue
                base = _whole(host.load.get(name, 0))
                terms = [(_whole(self.items[index].demand[name]), var) for index, var in here if self.items[index].demand.get(name, 0) > 0]
                rows.setdefault(host.name, []).append((capacity, base, terms))
        if not rows:
            return sum(opened) if opened else None
        tops = {}
        for name, found in rows.items():
            tops[name] = max(-(-UTIL_SCALE * (base + sum(amount for amount, var in terms)) // capacity) for capacity, base, terms in found)
        highest = self.model.new_int_var(0, max(tops.values()), 'highest_utilisation')
        utilisations = []
        for name in sorted(rows):
            utilisation = self.model.new_int_var(0, tops[name], 'utilisation_%s' % name)
            for capacity, base, terms in rows[name]:
                self.model.add(capacity * utilisation >= UTIL_SCALE * (base + sum(amount * var for amount, var in terms)))
            self.model.add(highest >= utilisation)
            self.derived.append((utilisation, lambda value, found=rows[name]: max(
                -(-UTIL_SCALE * (base + sum(amount * value(var) for amount, var in terms)) // capacity) for capacity, base, terms in found)))
            utilisations.append(utilisation)
            for step in range(BALANCE_STEPS):
                floor = step * UTIL_SCALE // BALANCE_STEPS
                if floor >= tops[name]:
                    break
                above = self.model.new_int_var(0, tops[name] - floor, 'above_%s_%d' % (name, step))
                self.model.add(above >= utilisation - floor)
                self.derived.append((above, lambda value, utilisation=utilisation, floor=floor: max(0, value(utilisation) - floor)))
                self.balance.append(above)
        self.derived.append((highest, lambda value: max(value(utilisation) for utilisation in utilisations)))
        return (max(tops.values()) + 1) * sum(opened) + highest if opened else highest

    # -- solving -----------------------------------------------------------------------

    def hint(self, start):
        """Starts the search from ``start`` (id(item) -> (host, layout)), with every
        variable hinted: CP-SAT drops a hint it cannot complete within a few conflicts."""
        values = {}
        for index, item in enumerate(self.items):
            host, layout = start.get(id(item), (None, None))
            for other in self.hosts:
                if (index, other.name) in self.x:
                    values[self.x[index, other.name].index] = int(other is host)
            for vm in range(len(item.numa)):
                for other in self.hosts:
                    cells = dict(layout[vm] or ()) if other is host and layout else {}
                    for node, options in enumerate(self.cells.get((index, vm, other.name), ())):
                        for cell, var in options.items():
                            values[var.index] = int(cells.get(node) == cell)

        def value(var):
            return values.get(var.index, 0)
        for var, rule in self.derived:
            values[var.index] = rule(value)
        for index, found in sorted(values.items()):
            self.model.add_hint(self.model.get_int_var_from_proto_index(index), found)

    def _hint_all(self, solver):
        """Hints every variable with its value in ``solver``'s last solution."""
        self.model.clear_hints()
        for index in range(len(self.model.proto.variables)):
            var = self.model.get_int_var_from_proto_index(index)
            self.model.add_hint(var, solver.value(var))

    def _solver(self, seconds, deterministic):
        solver = self.cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = SEED
        # CP-SAT's full presolve (symmetries, repeated passes, linear overlaps) spent the
        # whole budget of a 500 VMs x 50 hosts batch before the search could start.
        solver.parameters.symmetry_detection_deterministic_time_limit = 0.1
        solver.parameters.max_presolve_iterations = 1
        solver.parameters.find_big_linear_overlap = False
        solver.parameters.max_time_in_seconds = max(0.0, seconds)
        solver.parameters.max_deterministic_time = max(0.0, deterministic)
        return solver

    def _stages(self, start):
        """``[(name, objective, counts)]``: the stages in order; a stage that does not
        count refines an optimum without changing the status when it runs out of time."""
        placeable = [index for index in range(len(self.items)) if any((index, host.name) in self.x for host in self.hosts)]
        stages = []
        if all(id(self.items[index]) in start for index in placeable):
            # The heuristic placed every item that has a host: stage 1 is won already.
            for index in placeable:
                self.model.add_exactly_one(self.x[index, host.name] for host in self.hosts if (index, host.name) in self.x)
        else:
            stages.append(('placed', -sum(len(self.items[index].names) * var for (index, name), var in sorted(self.x.items())), True))
        if self.penalty:
            stages.append(('soft', sum(self.penalty), True))
        if self.strategy is not None:
            stages.append(('strategy', self.strategy, True))
        if self.balance:
            stages.append(('balance', sum(self.balance), False))
        rank = dict((host.name, position) for position, host in enumerate(self.hosts))
        stages.append(('host names', sum(rank[name] * var for (index, name), var in sorted(self.x.items())), False))
        return stages

    def solve(self, start, time_limit, deadline):
        """``(found, status)``: found is id(item) -> (host, layout) of the placed items
        (None when the solver found no solution in time); ``start`` the heuristic's
        answer, in the same form."""
        if not self.x:
            return {}, 'optimal'
        self.hint(start)
        stages = self._stages(start)
        found, status = None, 'optimal'
        budget = DETERMINISTIC_SHARE * time_limit
        refining = REFINE_SHARE * time_limit
        reserve = refining * len([stage for stage in stages if not stage[2]])
        for position, (name, objective, counts) in enumerate(stages):
            left = deadline - time.time()
            if left <= 0 or budget <= 0:
                if counts:
                    status = 'feasible'
                break
            if counts:
                # The stages that count split what the refining ones leave, each the half
                # of it but the last, which takes it all.
                share = STAGE_SHARE if any(stage[2] for stage in stages[position + 1:]) else 1.0
                seconds, deterministic = left * share * (1.0 - reserve / budget if budget > reserve else 0.0), (budget - reserve) * share
            else:
                reserve -= refining
                seconds, deterministic = left, min(budget, refining)
            if deterministic <= 0:
                continue
            self.model.minimize(objective)
            solver = self._solver(seconds, deterministic)
            result = solver.solve(self.model)
            budget -= solver.deterministic_time
            if result not in (self.cp_model.OPTIMAL, self.cp_model.FEASIBLE):
                if counts:
                    status = 'feasible'
                break
            value = int(round(solver.objective_value))
            if result == self.cp_model.OPTIMAL:
                self.model.add(objective == value)
            else:
                self.model.add(objective <= value)
                if counts:
                    status = 'feasible'
            found = self._read(solver)
            self._hint_all(solver)
        return found, (status if found is not None else None)

    def _read(self, solver):
        found = {}
        by_name = dict((host.name, host) for host in self.hosts)
        for (index, name), var in sorted(self.x.items(), key=lambda entry: entry[0]):
            if solver is None or not solver.boolean_value(var):
                continue
            item = self.items[index]
            layout = []
            for vm in range(len(item.numa)):
                per_node = self.cells.get((index, vm, name))
                if per_node is None:
                    layout.append(None)
                    continue
                layout.append([(node, next(cell for cell, choice in sorted(options.items()) if solver.boolean_value(choice)))
                               for node, options in enumerate(per_node)])
            found[id(item)] = (by_name[name], layout)
        return found
