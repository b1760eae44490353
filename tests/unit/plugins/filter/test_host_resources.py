# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host_resources filter: a thin wrapper that accepts facts as playbooks hold them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.virtumancer.hostcaps.plugins.filter.host_resources import FilterModule, host_resources
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.capabilities import parse_capabilities
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.host_facts import FactSources, build_facts

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'libvirt')
MILAN = 'debian12-epyc-milan-kvm.caps.xml'


@pytest.fixture(scope='module')
def facts():
    with open(os.path.join(FIXTURES, MILAN)) as handle:
        capabilities = parse_capabilities(handle.read())
    return build_facts(FactSources({'capabilities': lambda: capabilities}))


def test_filter_is_registered():
    assert FilterModule().filters() == {'host_resources': host_resources}


def test_facts_in_inventory_out(facts):
    assert host_resources(facts) == facts['resources']


def test_ratios_and_reserved_are_applied(facts):
    vcpu = host_resources(facts, allocation_ratios={'VCPU': 4.0}, reserved={'VCPU': 1})['VCPU']
    assert (vcpu['allocation_ratio'], vcpu['reserved']) == (4.0, 1)


def test_sriov_beside_the_facts_is_used(facts):
    holder = {'libvirt_host_caps': facts, 'sriov': {'summary': {'total_vfs': 8, 'free_vfs': 7}}}
    assert host_resources(holder)['SRIOV_NET_VF']['used'] == 1


def test_hostvars_holder_is_accepted(facts):
    assert host_resources({'ansible_facts': {'libvirt_host_caps': facts}}) == facts['resources']


def test_bad_ratio_becomes_a_filter_error(facts):
    with pytest.raises(AnsibleFilterError) as err:
        host_resources(facts, allocation_ratios={'VCPU': 'lots'})
    message = str(err.value)
    assert message.startswith('host_resources: ') and 'VCPU' in message and "'lots'" in message


def test_input_that_is_not_a_mapping_is_refused():
    with pytest.raises(AnsibleFilterError) as err:
        host_resources('hv1')
    assert "string 'hv1'" in str(err.value)


def test_other_schema_version_is_refused(facts):
    with pytest.raises(AnsibleFilterError) as err:
        host_resources(dict(facts, schema_version=0))
    assert 'schema_version is 0' in str(err.value)
