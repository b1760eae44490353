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
