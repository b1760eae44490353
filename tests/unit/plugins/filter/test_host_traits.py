# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host_traits filter: a thin wrapper that accepts facts as playbooks hold them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.virtumancer.hostcaps.plugins.filter.host_traits import FilterModule, host_traits
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.capabilities import parse_capabilities
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.domain_capabilities import (
    parse_domain_capabilities,
)
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.host_facts import FactSources, build_facts

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'libvirt')
MILAN = 'debian12-epyc-milan-kvm.caps.xml'
MILAN_Q35 = 'debian12-epyc-milan-kvm.domcaps-q35.xml'
SRIOV = {'summary': {'capable': True}}


def read_fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


@pytest.fixture(scope='module')
def facts():
    """Milan facts as an offline dump gives them (capabilities plus q35 domcaps)."""
    capabilities = parse_capabilities(read_fixture(MILAN))
    entry = parse_domain_capabilities(read_fixture(MILAN_Q35))
    entry.update(requested_machine=None, default_machine=True)
    return build_facts(FactSources({'capabilities': lambda: capabilities, 'domain_capabilities': lambda: [entry]}))


def test_filter_is_registered():
    assert FilterModule().filters() == {'host_traits': host_traits}


def test_facts_in_traits_out(facts):
    assert host_traits(facts) == facts['traits']


def test_ansible_facts_holder_is_accepted(facts):
    assert host_traits({'libvirt_host_caps': facts}) == facts['traits']


def test_sriov_beside_the_facts_is_used(facts):
    assert 'HW_NIC_SRIOV' in host_traits({'libvirt_host_caps': facts, 'sriov': SRIOV})


def test_hostvars_holder_is_accepted(facts):
    hostvars = {'inventory_hostname': 'hv1', 'ansible_facts': {'libvirt_host_caps': facts, 'sriov': SRIOV}}
    assert 'HW_NIC_SRIOV' in host_traits(hostvars)


def test_explicit_sriov_wins_over_the_one_beside_the_facts(facts):
    holder = {'libvirt_host_caps': facts, 'sriov': SRIOV}
    assert 'HW_NIC_SRIOV' not in host_traits(holder, sriov={'summary': {'capable': False}})


def test_custom_traits_are_passed_on(facts):
    custom = [{'name': 'CUSTOM_AMD', 'query': "libvirt_host_caps.cpu_info.vendor == 'AMD'"}]
    assert 'CUSTOM_AMD' in host_traits(facts, custom_traits=custom)


@pytest.mark.parametrize('value, described', [('hv1', "string 'hv1'"), (None, 'null'), (['x'], "list ['x']"), (3, 'integer 3')])
def test_input_that_is_not_a_mapping_is_refused(value, described):
    with pytest.raises(AnsibleFilterError) as err:
        host_traits(value)
    message = str(err.value)
    assert 'got %s;' % described in message and 'ansible_facts.libvirt_host_caps' in message


def test_mapping_without_facts_is_refused():
    with pytest.raises(AnsibleFilterError) as err:
        host_traits({'ansible_hostname': 'hv1'})
    message = str(err.value)
    assert 'ansible_hostname' in message and 'virtumancer.hostcaps.libvirt_host_caps' in message


def test_other_schema_version_is_refused(facts):
    with pytest.raises(AnsibleFilterError) as err:
        host_traits(dict(facts, schema_version=2))
    message = str(err.value)
    assert 'schema_version is 2' in message and 'gather the facts again' in message


def test_libvirt_host_caps_that_is_not_a_mapping_is_refused():
    with pytest.raises(AnsibleFilterError) as err:
        host_traits({'libvirt_host_caps': None})
    assert 'libvirt_host_caps is null, not a mapping' in str(err.value)


def test_bad_custom_trait_becomes_a_filter_error(facts):
    with pytest.raises(AnsibleFilterError) as err:
        host_traits(facts, custom_traits={'fast': 'sriov'})
    assert str(err.value).startswith('host_traits: ') and 'CUSTOM_FAST' in str(err.value)
