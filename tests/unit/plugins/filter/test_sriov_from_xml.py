# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.virtumancer.hostcaps.plugins.filter.sriov_from_xml import FilterModule

sriov_from_xml = FilterModule().filters()['sriov_from_xml']
FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'libvirt')

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
    # web01 uses 01.0 and 01.1; the PF's document names 01.2 and 01.3 as well.
    assert [vf['assigned_to'] for vf in facts['virtual_functions']] == ['web01', 'web01', None, None]
    assert facts['summary']['free_vfs'] == 2


def test_without_domains_assignments_are_unknown(dump):
    assert sriov_from_xml(dump)['summary']['free_vfs'] is None


def test_garbage_names_the_document_and_the_fix():
    with pytest.raises(AnsibleFilterError, match='node device XML is not well-formed.*virsh nodedev-dumpxml'):
        sriov_from_xml(['<device>'])


def test_input_of_the_wrong_type():
    with pytest.raises(AnsibleFilterError, match='the input must be a list of XML strings, got mapping'):
        sriov_from_xml({'pci': '<device/>'})


# -- libvirt's own test data (tests/nodedevschemadata) --------------------------------

SRIOV_VFS = 'upstream-pci_0000_02_10_7_sriov_vfs.nodedev.xml'
NODEDEV_FIXTURES = sorted(name for name in os.listdir(FIXTURES) if name.endswith('.nodedev.xml'))


def test_vfs_known_only_from_their_pf_are_listed(fixture_xml):
    facts = sriov_from_xml([fixture_xml(SRIOV_VFS)])
    pf = facts['physical_functions'][0]
    assert (pf['address'], pf['num_vfs']) == ('0000:02:10.7', 4)
    assert [(vf['address'], vf['pf_address'], vf['vf_index'], vf['sources']) for vf in facts['virtual_functions']] == [
        ('0000:02:00.2', '0000:02:10.7', 0, ['libvirt']), ('0000:02:00.3', '0000:02:10.7', 1, ['libvirt']),
        ('0000:02:00.4', '0000:02:10.7', 2, ['libvirt']), ('0000:02:00.5', '0000:02:10.7', 3, ['libvirt'])]
    assert (facts['summary']['total_vfs'], facts['summary']['configured']) == (4, True)


def test_what_only_the_vf_document_tells_is_unknown(fixture_xml):
    vf = sriov_from_xml([fixture_xml(SRIOV_VFS)])['virtual_functions'][0]
    unknown = ('vendor_id', 'device_id', 'vendor_name', 'device_name', 'class_id', 'driver', 'numa_node',
               'iommu_group', 'pcie_link', 'passthrough_ready', 'interface', 'mac', 'vlan', 'trust', 'spoofchk',
               'assigned_to', 'candidate')
    assert dict((key, vf[key]) for key in unknown) == dict.fromkeys(unknown)
    assert vf['reason'].startswith('only the document of its PF 0000:02:10.7 names it')


def test_pf_without_max_count_leaves_max_vfs_unknown(fixture_xml):
    # libvirt's test PF prints <capability type='virt_functions'> without maxCount.
    assert sriov_from_xml([fixture_xml(SRIOV_VFS)])['summary']['max_vfs'] is None


def test_pcie_link_of_the_pf(fixture_xml):
    assert sriov_from_xml([fixture_xml(SRIOV_VFS)])['physical_functions'][0]['pcie_link'] == {
        'max_speed_gts': 2.5, 'max_width': 4, 'speed_gts': None, 'width': None, 'port': 0}


def test_a_vf_document_given_later_replaces_what_the_pf_told(fixture_xml):
    facts = sriov_from_xml([fixture_xml('intel-e810-pf-4vf.nodedev.xml'), fixture_xml('intel-e810-vf.nodedev.xml')])
    first = facts['virtual_functions'][0]
    assert (first['device_id'], first['driver'], first['iommu_group'], first['passthrough_ready']) == ('1889', 'vfio-pci', 150, True)


def _check_summary_agrees_with_lists(facts):
    pfs, vfs, summary = facts['physical_functions'], facts['virtual_functions'], facts['summary']
    assert summary['capable'] == bool(pfs)
    assert summary['configured'] == bool(vfs)
    assert summary['total_vfs'] == len(vfs)
    assert summary['free_vfs'] in (None, len([vf for vf in vfs if not vf['assigned_to']]))
    known_max = [pf['total_vfs'] for pf in pfs]
    assert summary['max_vfs'] == (None if None in known_max else sum(known_max))
    for pf in pfs:
        if pf['num_vfs'] is not None:
            assert pf['num_vfs'] == len([vf for vf in vfs if vf['pf_address'] == pf['address']]), pf['address']


def _check_every_device_has_a_verdict(facts):
    assert facts['summary']['passthrough_candidates'] == len([d for d in facts['passthrough_devices'] if d['candidate'] is True])
    for entry in facts['virtual_functions'] + facts['passthrough_devices']:
        assert entry['candidate'] in (True, False, None)
        assert (entry['reason'] is None) == (entry['candidate'] is True), entry


@pytest.mark.parametrize('name', NODEDEV_FIXTURES)
def test_summary_agrees_with_the_lists_for_each_document_alone(fixture_xml, name):
    _check_summary_agrees_with_lists(sriov_from_xml([fixture_xml(name)]))


def test_summary_agrees_with_the_lists_for_all_documents_together(fixture_xml):
    _check_summary_agrees_with_lists(sriov_from_xml([fixture_xml(name) for name in NODEDEV_FIXTURES],
                                                    domains=[fixture_xml('web01-hostdev-vf.domain.xml')]))


@pytest.mark.parametrize('name', NODEDEV_FIXTURES)
def test_every_device_has_a_candidate_verdict(fixture_xml, name):
    _check_every_device_has_a_verdict(sriov_from_xml([fixture_xml(name)]))
