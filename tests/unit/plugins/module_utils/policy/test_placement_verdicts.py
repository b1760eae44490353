# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vm_place checks VMs that differ only in their sizes once per host with the largest
sizes: each VM must still get its own verdict, with its own amounts in the reasons. And
what it turns off while it places is on again afterwards."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gc

import pytest

from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import facts_from
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.placement import place_vms
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_validate import InputError

# 2 CPUs and 4954 MiB; 64 CPUs and 257430 MiB.
SMALL = ('debian12-epyc-milan-kvm.caps.xml', 'debian12-epyc-milan-kvm.domcaps-q35.xml')
LARGE = ('amd-epyc-sev.caps.xml', 'amd-epyc-sev.domcaps-q35.xml')


@pytest.fixture(scope='module')
def hosts():
    return {'small': {'libvirt_host_caps': facts_from(*SMALL)}, 'large': {'libvirt_host_caps': facts_from(*LARGE)}}


def vm(name, memory_mb, vcpus=1):
    return {'name': name, 'vcpus': vcpus, 'memory_mb': memory_mb, 'disk_gb': 0}


def test_each_size_gets_its_own_verdict(hosts):
    answer = place_vms([vm('a-fits-both', 1024), vm('b-fits-large', 8192), vm('c-fits-none', 300000), vm('d-largest', 400000)],
                       hosts=hosts)
    placed = dict((entry['vm'], entry['host']) for entry in answer['placements'])
    assert placed['b-fits-large'] == 'large'
    assert 'a-fits-both' in placed
    reasons = dict((entry['vm'], entry['reasons']) for entry in answer['unplaced'])
    assert sorted(reasons) == ['c-fits-none', 'd-largest']
    assert all('needs 300000 MiB' in line for line in reasons['c-fits-none'])
    assert all('needs 400000 MiB' in line for line in reasons['d-largest'])


def test_a_smaller_vm_is_refused_with_its_own_amount(hosts):
    # b fails the small host on memory: the reason names 8192, not the 400000 of the largest VM of its shape.
    answer = place_vms([vm('a', 400000), vm('b', 8192), vm('filler', 250000)], hosts=hosts)
    assert answer['summary']['placed'] == 1
    reasons = dict((entry['vm'], entry['reasons']) for entry in answer['unplaced'])
    assert any('small' in line and 'needs 8192 MiB' in line for line in reasons['b'])


def test_vcpus_are_amounts_too(hosts):
    answer = place_vms([vm('a', 1024, vcpus=1), vm('b', 1024, vcpus=1000)], hosts=hosts)
    assert [entry['vm'] for entry in answer['placements']] == ['a']
    assert answer['unplaced'][0]['codes'] == {'vcpus_exceed_max': 2}
    assert 'needs 1000 vCPUs' in answer['unplaced'][0]['reasons'][0]


def test_the_cyclic_collector_is_on_again_after_a_call_and_after_a_refused_one(hosts):
    # place_vms turns it off while it places (it would only walk the facts again and again).
    place_vms([vm('a', 1024)], hosts=hosts)
    assert gc.isenabled()
    with pytest.raises(InputError):
        place_vms('not a list', hosts=hosts)
    assert gc.isenabled()


# -- the verdicts of many sizes, against one check per VM and host ---------------------

# Hosts that differ in what the rules read: memory kept back, a storage pool of some size,
# free hugepages, traits, CPUs, firmware, security features, no domain capabilities.
def _fleet():
    from ansible_collections.virtumancer.hostcaps.tests.unit.placement_fleet import hostvars, sev_facts
    few_pages = {0: {2048: 10, 1048576: 0}, 1: {2048: 0, 1048576: 1}}
    no_domcaps = sev_facts()
    no_domcaps['domain_capabilities'] = None
    return {
        'big': hostvars(disk_gb=2000, traits=['CUSTOM_FAST']),
        'little-memory': hostvars(memory_mb=8192, disk_gb=2000),
        'little-pool': hostvars(disk_gb=100, traits=['CUSTOM_FAST', 'CUSTOM_OLD']),
        'no-pool': hostvars(),
        'few-pages': hostvars(disk_gb=2000, free_pages=few_pages),
        'few-cpus': hostvars(vcpus=4, disk_gb=2000, traits=['CUSTOM_OLD']),
        'small': {'ansible_facts': {'libvirt_host_caps': facts_from(*SMALL)}},
        'tdx': {'ansible_facts': {'libvirt_host_caps': facts_from('intel-tdx.caps.xml', 'intel-tdx.domcaps-q35.xml')}},
        'no-uefi': {'ansible_facts': {'libvirt_host_caps': facts_from('intel-xeon-ht.caps.xml', 'x86-no-uefi.domcaps-q35.xml')}},
        'no-domcaps': {'ansible_facts': {'libvirt_host_caps': no_domcaps}},
    }


# (vcpus, memory_mb, disk sizes): some fit every host, some only the larger ones, some
# none. The largest of each set fails first on vcpus, memory_mb or a storage pool.
SIZES = ((1, 1024, (10, 20)), (2, 2048, (40, 40)), (4, 6144, (30, 60)), (8, 16384, (500, 200)), (64, 131072, (1000, 800)),
         (300, 409600, (3000, 10)))
MEMORY_SIZES = ((1, 1024, (10, 20)), (2, 2048, (40, 40)), (2, 6144, (40, 40)), (8, 16384, (30, 60)), (16, 409600, (100, 100)))
DISK_SIZES = ((1, 1024, (10, 20)), (2, 2048, (40, 40)), (4, 4096, (1500, 600)), (8, 8192, (3000, 10)))
# What the VMs of one shape ask apart from their amounts, and their sizes.
SHAPES = (
    ({}, SIZES),
    ({'required_traits': ['CUSTOM_FAST']}, SIZES),
    ({'forbidden_traits': ['CUSTOM_OLD']}, MEMORY_SIZES),
    ({'disks': [{'pool': 'default-pool'}, {'pool': 'default-pool', 'bus': 'sata'}]}, SIZES),
    ({'disks': [{'pool': 'default-pool'}, {'pool': 'default-pool'}], 'required_traits': ['CUSTOM_FAST']}, DISK_SIZES),
    ({'hugepages': '2M', 'required_traits': ['CUSTOM_FAST']}, SIZES),
    ({'hugepages': '1G'}, MEMORY_SIZES),
    ({'cpu': {'dedicated': True}, 'forbidden_traits': ['CUSTOM_OLD']}, SIZES),
    ({'firmware': 'efi', 'secure_boot': True, 'machine': 'q35', 'tpm': '2.0'}, MEMORY_SIZES),
    ({'memory_encryption': 'sev', 'machine': 'q35', 'firmware': 'efi'}, DISK_SIZES),
)


def _batch():
    vms = []
    for number, (shape, sizes) in enumerate(SHAPES):
        for vcpus, memory_mb, disk_sizes in sizes:
            found = {'name': 's%d-%d-%d' % (number, vcpus, memory_mb), 'vcpus': vcpus, 'memory_mb': memory_mb,
                     'disk_gb': sum(disk_sizes)}
            found.update((key, value) for key, value in shape.items() if key != 'disks')
            if 'disks' in shape:
                found['disks'] = [dict(disk, size_gb=size) for disk, size in zip(shape['disks'], disk_sizes)]
            vms.append(found)
            # The same definition under another name: resolved once, its values shared.
            vms.append(dict(found, name=found['name'] + '-copy'))
    return vms


def test_verdicts_of_many_sizes_are_those_of_one_check_per_vm_and_host():
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy import placement
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.placement_model import HostState
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_hosts import PASS, compile_request, evaluate
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_validate import check_input
    checked = check_input(_batch(), None, _fleet(), 'first', None)
    assert not checked.index.skipped and not checked.index.malformed
    resolved = [vm for vm in checked.resolved if vm is not None]
    assert len(resolved) == 2 * sum(len(sizes) for dummy, sizes in SHAPES)
    states = [HostState(view, order) for order, view in enumerate(checked.index.views)]
    found = placement._verdicts(resolved, states)
    codes = set()
    for vm in resolved:
        request = compile_request(vm)
        expected = [(host.name, outcome) for host, outcome in ((h, evaluate(h.view, request)) for h in states) if outcome[0] != PASS]
        assert found[vm['name']] == expected, vm['name']
        codes.update(outcome[1] for dummy, outcome in expected)
    # The fleet reaches the rules with and without amounts, failed and unconfirmed.
    assert {'memory_exceeds_host', 'vcpus_exceed_max', 'pool_full', 'pool_missing', 'hugepages_insufficient',
            'dedicated_cpus_exceed_host', 'trait_missing', 'trait_forbidden', 'efi_unavailable'} <= codes


def test_only_the_amount_rules_read_the_amounts():
    """placement checks a shape once with its largest amounts and keeps a failure of any
    other rule for every size: those rules must not read the amounts."""
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy import vm_hosts
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_validate import check_input
    checked = check_input(_batch(), None, _fleet(), 'first', None)
    by_shape = {}
    for vm in checked.resolved:
        by_shape.setdefault(vm['name'].split('-')[0], []).append(vm_hosts.compile_request(vm))
    compared = set()
    for requests in by_shape.values():
        for view in checked.index.views:
            target = view.target(requests[0].arch, requests[0].machine, requests[0].virt_type)
            for rule in requests[0].rules:
                if rule in vm_hosts.AMOUNT_RULES:
                    continue
                outcomes = set(rule(view, target, request) for request in requests)
                assert len(outcomes) == 1, (rule.__name__, view.name, outcomes)
                compared.add(rule.__name__)
    assert {'rule_target', 'rule_traits', 'rule_efi', 'rule_memory_encryption', 'rule_tpm'} <= compared
