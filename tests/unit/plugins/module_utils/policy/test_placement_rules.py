# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vm_place's rules, one at a time, through place_vms on hosts built from the captured
AMD EPYC SEV host (tests/unit/placement_fleet.py). Each rule has a pair of cases that
differ in that rule only (one MiB, one trait, one member, one page) and each runs on both
engines, which must agree."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import sys

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy import placement_heuristic
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.placement import place_vms
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.placement_model import HostState, Item, Policy, fits
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_hosts import read_host
from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import facts_from
from ansible_collections.virtumancer.hostcaps.tests.unit.placement_fleet import (
    CELL_CPUS, HOST_MEMORY_MB, SEV, hostvars, sev_facts, vm,
)
from ansible_collections.virtumancer.hostcaps.tests.unit.plugins.module_utils.policy.test_vm_hosts import sriov_host

ENGINES = ['heuristic', pytest.param('cp-sat', marks=pytest.mark.skipif(
    not __import__('importlib').util.find_spec('ortools'), reason='ortools is a test requirement'))]
GiB = 1024


@pytest.fixture(params=ENGINES)
def engine(request):
    return request.param


def place(vms, hosts, catalog=None, engine='heuristic', **options):
    return place_vms(vms, catalog=catalog, hosts=hosts, engine=engine, **options)


def where(answer):
    """vm -> host of the placements."""
    return dict((entry['vm'], entry['host']) for entry in answer['placements'])


def codes(answer, name):
    """The reason codes of unplaced VM ``name`` (None when it was placed)."""
    for entry in answer['unplaced']:
        if entry['vm'] == name:
            return entry['codes']
    return None


def policy(name='default', **entry):
    entry['name'] = name
    return entry


def catalog(*policies, **sections):
    found = dict(sections)
    found['placement_policies'] = list(policies)
    return found


# -- capacity per class -----------------------------------------------------------------


@pytest.mark.parametrize('second_mb, placed', [(4096, True), (4097, False)])
def test_capacity_one_more_mib_than_the_batch_left_does_not_fit(engine, second_mb, placed):
    """Each VM alone passes vm_validate's check; together they must fit the capacity."""
    answer = place([vm('a', memory_mb=4096), vm('b', memory_mb=second_mb)], {'hv1': hostvars(memory_mb=8192)}, engine=engine)
    assert answer['problems'] == []
    assert len(answer['placements']) == (2 if placed else 1)
    if not placed:
        unplaced = answer['unplaced'][0]
        assert unplaced['codes'] == {'capacity_exceeded': 1}
        assert unplaced['reasons'] == ['1 host (hv1): MEMORY_MB needs %d, most free %d' % (
            unplaced['vm'] == 'a' and 4096 or second_mb, 8192 - (second_mb if unplaced['vm'] == 'a' else 4096))]


@pytest.mark.parametrize('memory_mb, placed', [(4096, True), (4097, False)])
def test_capacity_counts_the_domains_on_the_host_defined_or_running(engine, memory_mb, placed):
    hosts = {'hv1': hostvars(memory_mb=4096 + 3072, running=[('old01', True, 1, 1024), ('old02', False, 1, 2048)])}
    answer = place([vm('db01', memory_mb=memory_mb)], hosts, engine=engine)
    assert ('db01' in where(answer)) is placed
    assert answer['hosts']['hv1']['resources']['MEMORY_MB']['used'] == 3072


@pytest.mark.parametrize('reserved_mb, placed', [(HOST_MEMORY_MB - 8192, True), (HOST_MEMORY_MB - 8191, False)])
def test_the_policy_reserved_memory_is_kept_back(engine, reserved_mb, placed):
    rules = catalog(policy(reserved={'MEMORY_MB': reserved_mb}))
    answer = place([vm('db01', memory_mb=8192)], {'hv1': hostvars()}, rules, engine=engine)
    assert ('db01' in where(answer)) is placed


@pytest.mark.parametrize('reserved_mb, placed', [(0, True), (1, False)])
def test_the_host_own_reserved_memory_is_kept_back(engine, reserved_mb, placed):
    hosts = {'hv1': hostvars(memory_mb=8192, reserved={'MEMORY_MB': HOST_MEMORY_MB - 8192 + reserved_mb})}
    answer = place([vm('db01', memory_mb=8192)], hosts, engine=engine)
    assert ('db01' in where(answer)) is placed


@pytest.mark.parametrize('ratio, placed', [(2.0, True), (1.5, False)])
def test_the_policy_allocation_ratio_multiplies_the_vcpus(engine, ratio, placed):
    rules = catalog(policy(allocation_ratios={'VCPU': ratio}))
    vms = [vm('a', vcpus=16), vm('b', vcpus=16)]
    answer = place(vms, {'hv1': hostvars(vcpus=16)}, rules, engine=engine)
    assert len(answer['placements']) == (2 if placed else 1)


@pytest.mark.parametrize('ratio, placed', [(2.0, True), (1.5, False)])
def test_the_host_own_allocation_ratio_multiplies_the_vcpus(engine, ratio, placed):
    vms = [vm('a', vcpus=16), vm('b', vcpus=16)]
    answer = place(vms, {'hv1': hostvars(vcpus=16, ratios={'VCPU': ratio})}, engine=engine)
    assert len(answer['placements']) == (2 if placed else 1)


@pytest.mark.parametrize('tight_mb, placed', [(24576, 3), (24575, 2)])
def test_a_host_with_vms_of_two_policies_holds_within_the_smaller_capacity(engine, tight_mb, placed):
    """The host holds 24576 MiB under the loose policy; the tight one keeps more back, so
    with its VM on the host every VM there must fit in its capacity."""
    rules = catalog(policy('loose', strategy='pack'), policy('tight', strategy='pack', reserved={'MEMORY_MB': HOST_MEMORY_MB - tight_mb}))
    vms = [vm('t1', memory_mb=8192, placement_policy='tight'), vm('l1', memory_mb=8192, placement_policy='loose'),
           vm('l2', memory_mb=8192, placement_policy='loose')]
    answer = place(vms, {'hv1': hostvars(memory_mb=24576)}, rules, engine=engine)
    assert len(answer['placements']) == placed
    memory = answer['hosts']['hv1']['resources']['MEMORY_MB']
    assert memory['placed'] <= memory['capacity']


@pytest.mark.parametrize('second', [False, True])
def test_sriov_vfs_are_a_class_the_batch_shares(engine, tmp_path, second):
    """The E810 has 4 VFs: the domain web01 uses 2 and the host 1, so 1 is free. Each VM
    alone passes the per-host check; a second must fit in what the first left."""
    facts = sev_facts()
    hosts = {'hv1': {'ansible_facts': {'libvirt_host_caps': facts, 'sriov': sriov_host(str(tmp_path))}}}
    vms = [vm('nfv01', sriov_vfs=1)] + ([vm('nfv02', sriov_vfs=1)] if second else [])
    answer = place(vms, hosts, engine=engine)
    assert answer['problems'] == []
    assert len(answer['placements']) == 1
    if second:
        assert answer['unplaced'][0]['codes'] == {'capacity_exceeded': 1}


@pytest.mark.parametrize('second, placed', [([], 2), ([{'vendor': '10de', 'device': '2236'}], 1)])
def test_a_pci_device_goes_to_one_vm_of_the_batch(engine, tmp_path, second, placed):
    """The host has one NVIDIA A10 ready for passthrough: each VM alone passes, the
    second one that asks for it finds it taken."""
    hosts = {'hv1': {'ansible_facts': {'libvirt_host_caps': sev_facts(), 'sriov': sriov_host(str(tmp_path))}}}
    vms = [vm('gpu01', pci_devices=[{'vendor': '10de', 'device': '2236'}]), vm('gpu02', pci_devices=second)]
    answer = place(vms, hosts, engine=engine)
    assert answer['problems'] == []
    assert len(answer['placements']) == placed
    if placed == 1:
        assert answer['unplaced'][0]['reasons'] == ['1 host (hv1): PCI device 10de:2236 needs 1, most free 0']


@pytest.mark.parametrize('second_gb, placed', [(50, 2), (51, 1)])
def test_a_storage_pool_holds_the_disks_of_the_batch(engine, second_gb, placed):
    """default-pool has 100 GiB: each disk alone fits, both must fit together."""
    vms = [vm('a', disk_gb=50, disks=[{'size_gb': 50, 'pool': 'default-pool'}]),
           vm('b', disk_gb=second_gb, disks=[{'size_gb': second_gb, 'pool': 'default-pool'}])]
    answer = place(vms, {'hv1': hostvars(disk_gb=100)}, engine=engine)
    assert answer['problems'] == []
    assert len(answer['placements']) == placed
    if placed == 1:
        assert answer['unplaced'][0]['codes'] == {'capacity_exceeded': 1}


# -- traits, host patterns, unconfirmed hosts -------------------------------------------


@pytest.mark.parametrize('where_from', ['vm', 'resource_class', 'policy'])
@pytest.mark.parametrize('host_has, placed', [(True, True), (False, False)])
def test_a_required_trait_from_vm_resource_class_or_policy(engine, where_from, host_has, placed):
    rules = catalog(policy(required_traits=['CUSTOM_FAST'] if where_from == 'policy' else []),
                    resource_classes=[{'name': 'fast', 'vcpus': 2, 'memory_mb': 4096, 'disk_gb': 0,
                                       'required_traits': ['CUSTOM_FAST'] if where_from == 'resource_class' else []}])
    more = {'resource_class': 'fast'}
    if where_from == 'vm':
        more['required_traits'] = ['CUSTOM_FAST']
    hosts = {'hv1': hostvars(traits=['CUSTOM_FAST'] if host_has else [])}
    answer = place([vm('web01', **more)], hosts, rules, engine=engine)
    assert ('web01' in where(answer)) is placed
    if not placed:
        assert codes(answer, 'web01') == {'trait_missing': 1}


@pytest.mark.parametrize('where_from', ['vm', 'resource_class', 'policy'])
@pytest.mark.parametrize('host_has, placed', [(False, True), (True, False)])
def test_a_forbidden_trait_from_vm_resource_class_or_policy(engine, where_from, host_has, placed):
    rules = catalog(policy(forbidden_traits=['CUSTOM_NOISY'] if where_from == 'policy' else []),
                    resource_classes=[{'name': 'quiet', 'vcpus': 2, 'memory_mb': 4096, 'disk_gb': 0,
                                       'forbidden_traits': ['CUSTOM_NOISY'] if where_from == 'resource_class' else []}])
    more = {'resource_class': 'quiet'}
    if where_from == 'vm':
        more['forbidden_traits'] = ['CUSTOM_NOISY']
    hosts = {'hv1': hostvars(traits=['CUSTOM_NOISY'] if host_has else [])}
    answer = place([vm('web01', **more)], hosts, rules, engine=engine)
    assert ('web01' in where(answer)) is placed
    if not placed:
        assert codes(answer, 'web01') == {'trait_forbidden': 1}


def test_the_policy_hosts_patterns_choose_the_hosts(engine):
    rules = catalog(policy(strategy='pack', hosts=['rack9-*']))
    hosts = {'hv1': hostvars(), 'rack9-a': hostvars(), 'rack10-a': hostvars()}
    answer = place([vm('web01'), vm('web02')], hosts, rules, engine=engine)
    assert set(where(answer).values()) == {'rack9-a'}


@pytest.mark.parametrize('allow, placed', [(True, True), (False, False)])
def test_allow_unconfirmed_uses_a_host_that_cannot_confirm(engine, allow, placed):
    """Without domain capabilities (a read-only connection) the host cannot confirm the
    vCPUs a machine takes."""
    hosts = {'hv1': {'ansible_facts': {'libvirt_host_caps': facts_from(SEV)}}}
    answer = place([vm('web01')], hosts, catalog(policy(allow_unconfirmed=allow)), engine=engine)
    assert ('web01' in where(answer)) is placed
    if placed:
        assert 'domain_capabilities is null' in answer['placements'][0]['why']['unconfirmed']
    else:
        assert 'allow_unconfirmed: true would' in answer['unplaced'][0]['reasons'][0]


# -- groups -------------------------------------------------------------------------------


def anti_affinity(max_per_host=1, hard=True, members=None, strategy='pack'):
    group = {'name': 'web', 'max_per_host': max_per_host, 'hard': hard}
    if members:
        group['members'] = members
    return catalog(policy(strategy=strategy, anti_affinity=[group]))


@pytest.mark.parametrize('replicas, placed', [(2, 2), (3, 2)])
def test_hard_anti_affinity_one_more_member_than_hosts(engine, replicas, placed):
    vms = [vm('web%02d' % n, groups=['web']) for n in range(replicas)]
    answer = place(vms, {'hv1': hostvars(), 'hv2': hostvars()}, anti_affinity(), engine=engine)
    assert len(answer['placements']) == placed
    assert len(set(where(answer).values())) == placed
    if replicas > placed:
        assert answer['unplaced'][0]['codes'] == {'anti_affinity_full': 2}


@pytest.mark.parametrize('running, host', [(['web-a', 'web-b'], 'hv2'), (['web-a'], 'hv1')])
def test_the_third_replica_respects_the_two_running(engine, running, host):
    """max 2 per host; hv1 runs the members named web-a and web-b (the pattern web-*), and
    one domain that is not a member."""
    listed = [(name, True, 1, 1024) for name in running] + [('db-a', True, 1, 1024)]
    hosts = {'hv1': hostvars(running=listed), 'hv2': hostvars()}
    answer = place([vm('web-c', groups=['web'])], hosts, anti_affinity(2, members=['web-*']), engine=engine)
    assert where(answer) == {'web-c': host}


def test_the_third_replica_finds_no_host_when_only_the_full_one_is_left(engine):
    hosts = {'hv1': hostvars(running=[('web-a', True, 1, 1024), ('web-b', False, 1, 1024)])}
    answer = place([vm('web-c', groups=['web'])], hosts, anti_affinity(2, members=['web-*']), engine=engine)
    assert answer['unplaced'][0]['reasons'] == ['1 host (hv1): hard anti-affinity group web already has 2 here (max 2 per host)']


@pytest.mark.parametrize('hard, placed', [(True, 1), (False, 2)])
def test_soft_anti_affinity_is_weighed_not_enforced(engine, hard, placed):
    answer = place([vm('web01', groups=['web']), vm('web02', groups=['web'])], {'hv1': hostvars()},
                   anti_affinity(hard=hard), engine=engine)
    assert len(answer['placements']) == placed


def test_soft_anti_affinity_outweighs_packing(engine):
    answer = place([vm('web01', groups=['web']), vm('web02', groups=['web'])], {'hv1': hostvars(), 'hv2': hostvars()},
                   anti_affinity(hard=False), engine=engine)
    assert sorted(where(answer).values()) == ['hv1', 'hv2']


def test_hard_affinity_keeps_the_group_together_where_a_member_runs(engine):
    rules = catalog(policy(strategy='spread', affinity=[{'name': 'db', 'members': ['db-*']}]))
    hosts = {'hv1': hostvars(), 'hv2': hostvars(running=[('db-a', True, 1, 1024)]), 'hv3': hostvars()}
    answer = place([vm('db-b', groups=['db']), vm('db-c', groups=['db'])], hosts, rules, engine=engine)
    assert where(answer) == {'db-b': 'hv2', 'db-c': 'hv2'}


@pytest.mark.parametrize('size_mb, placed', [(8192, 2), (8193, 0)])
def test_hard_affinity_places_the_group_together_or_not_at_all(engine, size_mb, placed):
    rules = catalog(policy(strategy='spread', affinity=[{'name': 'db'}]))
    hosts = {'hv1': hostvars(memory_mb=16384), 'hv2': hostvars(memory_mb=16384)}
    answer = place([vm('db-a', memory_mb=8192, groups=['db']), vm('db-b', memory_mb=size_mb, groups=['db'])], hosts, rules,
                   engine=engine)
    assert len(answer['placements']) == placed
    assert len(set(where(answer).values())) == min(placed, 1)


# -- NUMA -------------------------------------------------------------------------------


@pytest.mark.parametrize('free_cell1, placed', [(4, True), (3, False)])
def test_hugepages_come_from_one_cell_per_guest_node(engine, free_cell1, placed):
    """8 GiB of 1G pages on two guest nodes: 4 pages from each of two cells. With one page
    fewer in cell 1 the host still has 9 free in all, which vm_validate's check passes."""
    hosts = {'hv1': hostvars(free_pages={0: {1048576: 5}, 1: {1048576: free_cell1}})}
    answer = place([vm('db01', memory_mb=8 * GiB, hugepages='1G', numa_nodes=2)], hosts, engine=engine)
    assert answer['problems'] == []
    assert ('db01' in where(answer)) is placed
    if placed:
        numa = answer['placements'][0]['numa']
        assert sorted(node['host_cell'] for node in numa) == [0, 1]
        assert [node['pages'] for node in numa] == [4, 4]
    else:
        assert codes(answer, 'db01') == {'numa_no_fit': 1}


@pytest.mark.parametrize('memory_gib, placed', [(4, True), (5, False)])
def test_a_guest_node_takes_its_hugepages_from_a_single_cell(engine, memory_gib, placed):
    hosts = {'hv1': hostvars(free_pages={0: {1048576: 4}, 1: {1048576: 4}})}
    answer = place([vm('db01', memory_mb=memory_gib * GiB, hugepages='1G')], hosts, engine=engine)
    assert ('db01' in where(answer)) is placed


@pytest.mark.parametrize('vcpus, placed', [(CELL_CPUS, True), (CELL_CPUS + 1, False)])
def test_dedicated_cpus_of_a_guest_node_come_from_one_cell(engine, vcpus, placed):
    answer = place([vm('rt01', vcpus=vcpus, cpu={'dedicated': True})], {'hv1': hostvars()}, engine=engine)
    assert answer['problems'] == []
    assert ('rt01' in where(answer)) is placed


@pytest.mark.parametrize('third, placed', [(12, 3), (13, 2)])
def test_dedicated_cpus_per_cell_add_up_over_the_batch(engine, third, placed):
    vms = [vm('rt01', vcpus=20, cpu={'dedicated': True}), vm('rt02', vcpus=20, cpu={'dedicated': True}),
           vm('rt03', vcpus=third, cpu={'dedicated': True})]
    answer = place(vms, {'hv1': hostvars()}, engine=engine)
    assert len(answer['placements']) == placed


@pytest.mark.parametrize('nodes, placed', [(2, True), (3, False)])
def test_guest_nodes_take_distinct_cells(engine, nodes, placed):
    answer = place([vm('rt01', vcpus=6, cpu={'dedicated': True}, numa_nodes=nodes)], {'hv1': hostvars()}, engine=engine)
    assert ('rt01' in where(answer)) is placed
    if placed:
        assert sorted(node['host_cell'] for node in answer['placements'][0]['numa']) == [0, 1]


# -- stability, determinism, strategy ------------------------------------------------------


def test_an_existing_vm_stays_where_it_is(engine):
    hosts = {'hv1': hostvars(), 'hv2': hostvars(running=[('web01', True, 2, 4096)])}
    answer = place([vm('web01'), vm('web02')], hosts, catalog(policy(strategy='spread')), engine=engine)
    existing = [entry for entry in answer['placements'] if entry['existing']]
    assert [(entry['vm'], entry['host']) for entry in existing] == [('web01', 'hv2')]
    assert where(answer)['web02'] == 'hv1'


@pytest.mark.parametrize('strategy', ['pack', 'spread'])
def test_ties_go_to_the_host_name(engine, strategy):
    hosts = dict((name, hostvars()) for name in ('hv-c', 'hv-a', 'hv-b'))
    answer = place([vm('web01')], hosts, catalog(policy(strategy=strategy)), engine=engine)
    assert where(answer) == {'web01': 'hv-a'}


@pytest.mark.parametrize('strategy, hosts_used', [('pack', 1), ('spread', 2)])
def test_pack_shares_a_host_spread_does_not(engine, strategy, hosts_used):
    answer = place([vm('web01'), vm('web02')], {'hv1': hostvars(), 'hv2': hostvars()}, catalog(policy(strategy=strategy)),
                   engine=engine)
    assert answer['summary']['hosts_used'] == hosts_used


def test_spread_balances_the_highest_utilisation(engine):
    """Two small hosts and a large one: the large one takes the big VM and one more."""
    hosts = {'hv1': hostvars(vcpus=8), 'hv2': hostvars(vcpus=8), 'hv3': hostvars(vcpus=32)}
    vms = [vm('big', vcpus=8)] + [vm('s%d' % n, vcpus=4) for n in range(4)]
    answer = place(vms, hosts, catalog(policy(strategy='spread')), engine=engine)
    highest = max(entry['resources']['VCPU']['utilization'] for entry in answer['hosts'].values())
    assert highest == 0.5


def test_a_batch_of_pack_and_spread_policies_keeps_each_strategy(engine):
    """The pack VMs share a host; the spread VMs go to the two emptier ones."""
    rules = catalog(policy('packed', strategy='pack'), policy('spread', strategy='spread'))
    hosts = dict(('hv%d' % n, hostvars(vcpus=16)) for n in range(3))
    vms = [vm('p%d' % n, vcpus=4, placement_policy='packed') for n in range(3)] + \
        [vm('s%d' % n, vcpus=2, placement_policy='spread') for n in range(3)]
    answer = place(vms, hosts, rules, engine=engine)
    on = where(answer)
    packed = set(on['p%d' % n] for n in range(3))
    assert len(packed) == 1
    assert sorted(set(on['s%d' % n] for n in range(3))) == sorted(set(hosts) - packed)


@pytest.mark.parametrize('strategy', ['pack', 'spread'])
def test_the_same_input_in_any_order_gives_the_same_answer(engine, strategy):
    rules = catalog(policy(strategy=strategy, anti_affinity=[{'name': 'web', 'max_per_host': 2}]))
    hosts = dict(('hv%d' % n, hostvars(vcpus=16, memory_mb=32768, traits=['CUSTOM_FAST'] if n % 2 else [])) for n in range(5))
    vms = [vm('vm%02d' % n, vcpus=1 + n % 4, memory_mb=2048 * (1 + n % 3), groups=['web'] if n % 3 == 0 else [],
              required_traits=['CUSTOM_FAST'] if n % 5 == 0 else []) for n in range(30)]
    first = place(vms, hosts, rules, engine=engine)
    shuffled = list(vms)
    random.Random(7).shuffle(shuffled)
    reordered = dict(sorted(hosts.items(), reverse=True))
    second = place(shuffled, reordered, rules, engine=engine)
    for answer in (first, second):
        answer.pop('engine')
    assert first == second


# -- the model itself ---------------------------------------------------------------------


def test_a_policy_whose_item_moved_away_no_longer_limits_the_host():
    """An item of the tight policy put on a host and taken off again (an undone move)
    leaves the loose policy's capacity."""
    state = HostState(read_host('hv1', hostvars(memory_mb=16384)), 0)
    tight = Policy('tight', {'reserved': {'MEMORY_MB': HOST_MEMORY_MB - 4096}})
    loose = Policy('loose', {})
    placement, member_hosts = placement_heuristic.Placement(), {}
    moved = Item([dict(vm('t1', memory_mb=1024), groups=[])], lambda entry: tight)
    placement.put(moved, state, member_hosts)
    placement.take(moved, member_hosts)
    big = Item([dict(vm('l1', memory_mb=8192), groups=[])], lambda entry: loose)
    assert fits(state, big, member_hosts) is None


# -- the cp-sat engine ----------------------------------------------------------------------


def test_cp_sat_without_ortools_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, 'ortools', None)
    monkeypatch.setitem(sys.modules, 'ortools.sat.python', None)
    with pytest.raises(ImportError, match=r"engine cp-sat needs the Python package ortools on the controller: pip install ortools; "
                                          r"or use engine='heuristic'"):
        place([vm('web01')], {'hv1': hostvars()}, engine='cp-sat')


def test_cp_sat_reports_optimal_when_it_proves_it():
    pytest.importorskip('ortools')
    answer = place([vm('web01'), vm('web02')], {'hv1': hostvars(), 'hv2': hostvars()}, engine='cp-sat')
    assert answer['engine']['status'] == 'optimal'
    assert answer['engine']['used'] == 'cp-sat'


def test_cp_sat_gives_the_score_terms_and_the_cells_it_chose():
    pytest.importorskip('ortools')
    hosts = {'hv1': hostvars(free_pages={0: {1048576: 2}, 1: {1048576: 4}})}
    answer = place([vm('db01', memory_mb=4 * GiB, hugepages='1G'), vm('web01')], hosts, catalog(policy(strategy='pack')),
                   engine='cp-sat')
    by_vm = dict((entry['vm'], entry) for entry in answer['placements'])
    assert by_vm['web01']['why']['terms']['host_in_use'] in (True, False)
    assert [(node['host_cell'], node['pages']) for node in by_vm['db01']['numa']] == [(1, 4)]


def test_cp_sat_falls_back_to_the_heuristic_when_time_runs_out_before_a_solution():
    pytest.importorskip('ortools')
    vms = [vm('web%02d' % n) for n in range(20)]
    hosts = dict(('hv%d' % n, hostvars()) for n in range(4))
    fallback = place(vms, hosts, engine='cp-sat', time_limit=1e-9)
    assert fallback['engine']['status'] == 'heuristic-fallback'
    assert where(fallback) == where(place(vms, hosts))


def test_cp_sat_leaves_a_batch_above_its_size_limit_to_the_heuristic(monkeypatch):
    pytest.importorskip('ortools')
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy import placement_cpsat
    vms = [vm('web%02d' % n) for n in range(20)]
    hosts = dict(('hv%d' % n, hostvars()) for n in range(4))
    monkeypatch.setattr(placement_cpsat, 'MAX_PAIRS', 79)  # 20 VMs x 4 hosts: 80 pairs
    answer = place(vms, hosts, engine='cp-sat', time_limit=60)
    assert answer['engine']['status'] == 'heuristic-fallback'
    assert where(answer) == where(place(vms, hosts))
    monkeypatch.setattr(placement_cpsat, 'MAX_PAIRS', 80)
    assert place(vms, hosts, engine='cp-sat', time_limit=60)['engine']['status'] in ('optimal', 'feasible')
