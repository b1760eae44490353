# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.virtumancer.hostcaps.plugins.filter.sriov_from_xml import FilterModule

sriov_from_xml = FilterModule().filters()['sriov_from_xml']

NODE_DEVICES = ('intel-e810-pf-4vf.nodedev.xml', 'intel-e810-vf.nodedev.xml', 'nvidia-a10-gpu.nodedev.xml',
                'debian12-host-bridge.nodedev.xml', 'debian12-eth0.nodedev.xml')


@pytest.fixture
def dump(fixture_xml):
    return [fixture_xml(name) for name in NODE_DEVICES]


def test_same_structure_as_the_module(dump):
    facts = sriov_from_xml(dump)
    assert sorted(facts) == ['errors', 'passthrough_devices', 'physical_functions', 'summary', 'virtual_functions']
    assert facts['physical_functions'][0]['address'] == '0000:3b:00.0'
    assert facts['virtual_functions'][0]['pf_address'] == '0000:3b:00.0'


def test_names_come_from_the_node_device_xml(dump):
    pf = sriov_from_xml(dump)['physical_functions'][0]
    assert (pf['vendor_name'], pf['device_name']) == ('Intel Corporation', 'Ethernet Controller E810-C for SFP')


def test_sysfs_only_fields_are_empty(dump):
    pf = sriov_from_xml(dump)['physical_functions'][0]
    assert pf['interfaces'] == [] and pf['speed_mbps'] is None


def test_non_pci_devices_and_bridges_are_skipped(dump):
    facts = sriov_from_xml(dump)
    assert [d['address'] for d in facts['passthrough_devices']] == ['0000:af:00.0']


def test_domains_fill_assignments(dump, fixture_xml):
    facts = sriov_from_xml(dump, domains=[fixture_xml('web01-hostdev-vf.domain.xml'),
                                          fixture_xml('db01-no-passthrough.domain.xml')])
    assert facts['virtual_functions'][0]['assigned_to'] == 'web01'
    assert facts['summary']['free_vfs'] == 0


def test_without_domains_assignments_are_unknown(dump):
    assert sriov_from_xml(dump)['summary']['free_vfs'] is None


def test_garbage_names_the_document_and_the_fix():
    with pytest.raises(AnsibleFilterError, match='node device XML is not well-formed.*virsh nodedev-dumpxml'):
        sriov_from_xml(['<device>'])


def test_input_of_the_wrong_type():
    with pytest.raises(AnsibleFilterError, match='the input must be a list of XML strings, got mapping'):
        sriov_from_xml({'pci': '<device/>'})
