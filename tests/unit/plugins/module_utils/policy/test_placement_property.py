# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Properties of vm_place on random fleets and batches (hypothesis), each placement
rechecked by a checker written here from the plain numbers of the example, not from
placement_model:

- every placement keeps every hard rule: vm_validate's verdict for the VM on that host
  (traits and the rest), capacity per class with the host's domains counted, the hard
  anti-affinity counts with the running members, a hard affinity group on one host (the
  one its members run on), NUMA cells (distinct per guest node, pinned CPUs and 1G pages
  per cell);
- no VM is reported unplaced while a host could take it, given the other placements;
- the answer does not depend on the order of the VMs or of the hosts;
- the cp-sat engine keeps the same rules and places at least as many VMs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import itertools

import pytest

from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy import placement_heuristic, placement_model
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.placement import place_vms
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_validate import validate_vms
from ansible_collections.virtumancer.hostcaps.tests.unit.placement_fleet import CELL_CPUS, CELL_MEMORY_MB, hostvars, vm

settings.register_profile('placement', deadline=None, max_examples=150, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PLACEMENT = settings.get_profile('placement')

TRAITS = ('CUSTOM_FAST', 'CUSTOM_SSD')
DOMAINS = ('web-a', 'web-b', 'db-a', 'app-a')
PAGE_MB = 1024  # 1G pages only


@st.composite
def fleets(draw):
    """``(hosts, vms, strategy, max_per_host)`` as plain numbers."""
    hosts = {}
    for index in range(draw(st.integers(1, 4))):
        running = draw(st.lists(st.sampled_from(DOMAINS), unique=True, max_size=2))
        hosts['hv%d' % index] = {
            'vcpus': draw(st.sampled_from((4, 8, 16, 32))),
            'memory_mb': draw(st.sampled_from((8192, 16384, 32768))),
            'ratio': draw(st.sampled_from((1.0, 1.0, 2.0))),
            'traits': draw(st.lists(st.sampled_from(TRAITS), unique=True)),
            'running': [(name, draw(st.booleans()), draw(st.sampled_from((1, 2))), draw(st.sampled_from((1024, 2048))))
                        for name in running],
            'pages': [draw(st.integers(0, 4)), draw(st.integers(0, 4))],
        }
    vms = []
    for index in range(draw(st.integers(1, 10))):
        group = draw(st.sampled_from((None, None, 'web', 'db', 'soft')))
        name = draw(st.sampled_from(('web-a', 'web-c'))) if group == 'web' and index == 0 else '%s-%02d' % (group or 'vm', index)
        entry = {'name': name, 'vcpus': draw(st.sampled_from((1, 2, 4, 8))), 'memory_mb': draw(st.sampled_from((1024, 2048, 4096))),
                 'traits': draw(st.lists(st.sampled_from(TRAITS), unique=True, max_size=1)), 'groups': [group] if group else [],
                 'dedicated': draw(st.booleans()), 'hugepages': draw(st.booleans()), 'numa_nodes': draw(st.sampled_from((1, 1, 2)))}
        if not entry['dedicated'] and not entry['hugepages']:
            entry['numa_nodes'] = 1
        if all(other['name'] != name for other in vms):
            vms.append(entry)
    return hosts, vms, draw(st.sampled_from(('pack', 'spread'))), draw(st.sampled_from((1, 2)))


def arguments(hosts, vms, strategy, max_per_host):
    fleet = {}
    for name, host in hosts.items():
        fleet[name] = hostvars(vcpus=host['vcpus'], memory_mb=host['memory_mb'], traits=host['traits'], running=host['running'],
                               free_pages=dict((cell, {1048576: pages}) for cell, pages in enumerate(host['pages'])),
                               ratios={'VCPU': host['ratio']})
    definitions = []
    for entry in vms:
        more = {'required_traits': entry['traits'], 'groups': entry['groups'], 'numa_nodes': entry['numa_nodes']}
        if entry['dedicated']:
            more['cpu'] = {'dedicated': True}
        if entry['hugepages']:
            more['hugepages'] = '1G'
        definitions.append(vm(entry['name'], entry['vcpus'], entry['memory_mb'], **more))
    catalog = {'placement_policies': [{
        'name': 'default', 'strategy': strategy,
        'anti_affinity': [{'name': 'web', 'max_per_host': max_per_host, 'members': ['web-*']}, {'name': 'soft', 'hard': False}],
        'affinity': [{'name': 'db', 'members': ['db-*']}],
    }]}
    return definitions, catalog, fleet


# -- the independent checker ---------------------------------------------------------------


class Checker(object):
    """The example's rules, from its plain numbers."""

    def __init__(self, hosts, vms, strategy, max_per_host):
        self.hosts, self.vms, self.max_per_host = hosts, dict((entry['name'], entry) for entry in vms), max_per_host
        self.definitions, self.catalog, self.fleet = arguments(hosts, vms, strategy, max_per_host)
        self.verdicts = {}

    def admits(self, name, host):
        """vm_validate's verdict for the VM alone on that host: no problem against it."""
        key = (name, host)
        if key not in self.verdicts:
            definition = next(entry for entry in self.definitions if entry['name'] == name)
            problems = validate_vms([definition], self.catalog, {host: self.fleet[host]})
            self.verdicts[key] = not [found for found in problems if found['field'] == 'hosts' or found['severity'] == 'error']
        return self.verdicts[key]

    def members(self, host, group):
        """Members of ``group`` among the host's domains: the pattern, or a VM of the batch
        of that name that joins it."""
        return [name for name, active, vcpus, memory in self.hosts[host]['running']
                if fnmatch.fnmatchcase(name, group + '-*') or group in self.vms.get(name, {}).get('groups', ())]

    def new_on(self, answer, host):
        return [self.vms[entry['vm']] for entry in answer['placements'] if entry['host'] == host and not entry['existing']]

    def problems(self, answer, host, extra=None):
        """What breaks a hard rule on ``host`` in ``answer`` (plus the VMs ``extra``, each
        with a NUMA layout to find), as a list of strings."""
        spec = self.hosts[host]
        new = self.new_on(answer, host) + list(extra or ())
        found = []
        used_vcpus = sum(vcpus for name, active, vcpus, memory in spec['running'])
        used_memory = sum(memory for name, active, vcpus, memory in spec['running'])
        vcpus = used_vcpus + sum(entry['vcpus'] for entry in new)
        memory = used_memory + sum(entry['memory_mb'] for entry in new)
        if new and any(entry['vcpus'] for entry in new) and vcpus > spec['vcpus'] * spec['ratio']:
            found.append('VCPU %s > %s' % (vcpus, spec['vcpus'] * spec['ratio']))
        if new and memory > spec['memory_mb']:
            found.append('MEMORY_MB %s > %s' % (memory, spec['memory_mb']))
        joining = [entry for entry in new if 'web' in entry['groups']]
        if joining and len(self.members(host, 'web')) + len(joining) > self.max_per_host:
            found.append('web: %d running + %d' % (len(self.members(host, 'web')), len(joining)))
        found.extend(self.numa_problems(answer, host, extra or ()))
        return found

    def numa_problems(self, answer, host, extra):
        spec = self.hosts[host]
        cpus, pages, memory = [0, 0], [0, 0], [0, 0]
        found = []
        for entry in answer['placements']:
            if entry['host'] != host or entry['existing']:
                continue
            wanted = self.vms[entry['vm']]
            if not (wanted['dedicated'] or wanted['hugepages']):
                continue
            nodes = entry['numa'] or []
            if sorted(node['guest_node'] for node in nodes) != list(range(wanted['numa_nodes'])):
                found.append('%s: guest nodes %s' % (entry['vm'], nodes))
                continue
            if len(set(node['host_cell'] for node in nodes)) != len(nodes):
                found.append('%s: shares a cell' % entry['vm'])
            if sum(node['memory_mb'] for node in nodes) != wanted['memory_mb']:
                found.append('%s: memory split' % entry['vm'])
            for node in nodes:
                if wanted['dedicated']:
                    cpus[node['host_cell']] += node['pinned_cpus']
                if not wanted['hugepages']:
                    memory[node['host_cell']] += node['memory_mb']
                if wanted['hugepages']:
                    if node['pages'] * PAGE_MB < node['memory_mb']:
                        found.append('%s: too few pages' % entry['vm'])
                    pages[node['host_cell']] += node['pages']
        if sum(cpus) and any(cpus[cell] > CELL_CPUS for cell in range(2)):
            found.append('pinned CPUs per cell %s' % cpus)
        if any(pages[cell] > spec['pages'][cell] for cell in range(2)):
            found.append('1G pages per cell %s of %s' % (pages, spec['pages']))
        if any(memory[cell] > CELL_MEMORY_MB for cell in range(2)):
            found.append('memory of pinned guests per cell %s' % memory)
        wanting = [wanted for wanted in extra if wanted['dedicated'] or wanted['hugepages']]
        if wanting and not self.cells_fit(wanting, (cpus, pages, memory), spec['pages']):
            found.append('%s: no cells' % [wanted['name'] for wanted in wanting])
        return found

    @classmethod
    def cells_fit(cls, wanting, taken, free):
        """Some cells for every guest node of the VMs ``wanting``, distinct per VM, given
        what the cells have ``taken`` (pinned CPUs, 1G pages, memory without hugepages)."""
        if not wanting:
            return True
        wanted = wanting[0]
        nodes = wanted['numa_nodes']
        split = [(wanted['memory_mb'] // nodes + (1 if n < wanted['memory_mb'] % nodes else 0),
                  wanted['vcpus'] // nodes + (1 if n < wanted['vcpus'] % nodes else 0)) for n in range(nodes)]
        for cells in itertools.permutations(range(2), nodes):
            cpus, pages, memory = [list(found) for found in taken]
            for (node_memory, vcpus), cell in zip(split, cells):
                if wanted['dedicated']:
                    cpus[cell] += vcpus
                if wanted['hugepages']:
                    pages[cell] += -(-node_memory // PAGE_MB)
                else:
                    memory[cell] += node_memory
            if all(cpus[cell] <= CELL_CPUS and pages[cell] <= free[cell] and memory[cell] <= CELL_MEMORY_MB for cell in range(2)) and \
                    cls.cells_fit(wanting[1:], (cpus, pages, memory), free):
                return True
        return False

    def check(self, answer):
        placed = dict((entry['vm'], entry) for entry in answer['placements'])
        for name, entry in placed.items():
            first = next((host for host in sorted(self.hosts) if name in [d[0] for d in self.hosts[host]['running']]), None)
            assert entry['existing'] == (first is not None) and (first is None or entry['host'] == first), entry
            assert entry['existing'] or self.admits(name, entry['host']), (name, entry['host'])
        for host in self.hosts:
            assert self.problems(answer, host) == [], (host, answer['placements'])
        together = set(entry['host'] for entry in answer['placements'] if not entry['existing'] and 'db' in self.vms[entry['vm']]['groups'])
        running = set(host for host in self.hosts if self.members(host, 'db'))
        assert len(together) <= 1 and (not running or together <= running), (together, running)
        self.check_unplaced(answer, placed)

    def check_unplaced(self, answer, placed):
        """No host could take an unplaced VM (an unplaced hard affinity group as a whole)."""
        left = [self.vms[entry['vm']] for entry in answer['unplaced']]
        units = [[entry] for entry in left if 'db' not in entry['groups']]
        group = [entry for entry in left if 'db' in entry['groups']]
        if group:
            units.append(group)
        db_hosts = set(entry['host'] for entry in answer['placements'] if 'db' in self.vms[entry['vm']]['groups'])
        db_hosts |= set(host for host in self.hosts if self.members(host, 'db'))
        for unit in units:
            for host in sorted(self.hosts):
                if not all(self.admits(entry['name'], host) for entry in unit):
                    continue
                if 'db' in unit[0]['groups'] and db_hosts and host not in db_hosts:
                    continue
                taken = self.problems(answer, host, unit)
                assert taken != [], ('%s unplaced but %s could take it' % ([e['name'] for e in unit], host), answer['unplaced'])


def _without_timing(answer):
    """The answer less the engine's timing; the problems, which follow the order of the
    VMs as vm_validate's do, as a sorted list."""
    found = dict(answer)
    found.pop('engine')
    found['problems'] = sorted(found['problems'], key=lambda entry: (str(entry['vm']), entry['field'], entry['code']))
    return found


@PLACEMENT
@given(fleets())
def test_every_placement_keeps_the_hard_rules_and_nothing_placeable_is_left(example):
    hosts, vms, strategy, max_per_host = example
    answer = place_vms(*arguments(hosts, vms, strategy, max_per_host))
    Checker(hosts, vms, strategy, max_per_host).check(answer)


@PLACEMENT
@given(fleets(), st.randoms(use_true_random=False))
def test_the_answer_does_not_depend_on_the_input_order(example, rng):
    hosts, vms, strategy, max_per_host = example
    definitions, catalog, fleet = arguments(hosts, vms, strategy, max_per_host)
    first = place_vms(definitions, catalog, fleet)
    shuffled = list(definitions)
    rng.shuffle(shuffled)
    names = list(fleet)
    rng.shuffle(names)
    second = place_vms(shuffled, catalog, dict((name, fleet[name]) for name in names))
    assert _without_timing(first) == _without_timing(second)


@settings(PLACEMENT, max_examples=40)
@given(fleets())
def test_cp_sat_keeps_the_hard_rules_and_places_at_least_as_many(example):
    pytest.importorskip('ortools')
    hosts, vms, strategy, max_per_host = example
    exact = place_vms(*arguments(hosts, vms, strategy, max_per_host), engine='cp-sat', time_limit=5)
    Checker(hosts, vms, strategy, max_per_host).check(exact)
    heuristic = place_vms(*arguments(hosts, vms, strategy, max_per_host))
    if exact['engine']['status'] == 'optimal':
        assert exact['summary']['placed'] >= heuristic['summary']['placed']


@PLACEMENT
@given(fleets())
def test_fit_key_answers_as_fits_then_score_key_on_every_host_tried(example):
    """fit_key's one pass for the common item says what fits and score_key say, on every
    host and state the heuristic asks it about."""
    def both(host, item, member_hosts, strategy):
        found = placement_model.fit_key(host, item, member_hosts, strategy)
        expected = None if placement_model.fits(host, item, member_hosts) is not None else placement_model.score_key(host, item, strategy)
        assert found == expected, (host.name, item.names, strategy)
        return found

    hosts, vms, strategy, max_per_host = example
    placement_heuristic.fit_key = both
    try:
        place_vms(*arguments(hosts, vms, strategy, max_per_host))
    finally:
        placement_heuristic.fit_key = placement_model.fit_key
