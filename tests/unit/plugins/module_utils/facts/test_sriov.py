# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible_facts.sriov from fake sysfs trees laid out as the kernel lays out /sys, node
device and domain XML in libvirt's format, and iproute2's JSON."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.domain_xml import parse_assigned_pci
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.node_device import parse_pci_device
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.resources import derive_resources
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.sriov import build_sriov, merge_records
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.sriov_collect import gather_sriov
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.traits import derive_traits
from ansible_collections.virtumancer.hostcaps.tests.unit import sysfs_trees
from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import read_fixture

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures')
PCI_IDS = [os.path.join(FIXTURES, 'pci.ids')]


def ip_link(name):
    with open(os.path.join(FIXTURES, 'iproute2', name)) as handle:
        return handle.read()


def host(tmp_path, *scenarios):
    tree = sysfs_trees.SysfsTree(str(tmp_path))
    for scenario in scenarios:
        scenario(tree)
    return tree.root


def facts_of(tmp_path, *scenarios, **sources):
    return gather_sriov(host(tmp_path, *scenarios), pci_ids_paths=PCI_IDS, **sources)


def by_address(entries):
    return dict((entry['address'], entry) for entry in entries)


# -- Intel E810 with 4 VFs, 2 on vfio-pci --------------------------------------------


@pytest.fixture
def e810(tmp_path):
    return facts_of(tmp_path, sysfs_trees.intel_e810_4vf)


def test_e810_pf(e810):
    pf = e810['physical_functions'][0]
    assert (pf['address'], pf['driver'], pf['total_vfs'], pf['num_vfs'], pf['vf_device_id']) == (
        '0000:3b:00.0', 'ice', 128, 4, '1889')


def test_e810_pf_link(e810):
    pf = e810['physical_functions'][0]
    assert (pf['interface'], pf['mtu'], pf['link_state'], pf['speed_mbps']) == ('ens1f0', 9000, 'up', 25000)


def test_e810_names_from_pci_ids(e810):
    pf = e810['physical_functions'][0]
    assert pf['vendor_name'] == 'Intel Corporation'
    assert 'E810-C' in pf['device_name']


def test_e810_vfs_in_index_order_with_their_pf(e810):
    vfs = e810['virtual_functions']
    assert [vf['vf_index'] for vf in vfs] == [0, 1, 2, 3]
    assert set(vf['pf_address'] for vf in vfs) == {'0000:3b:00.0'}


def test_vfs_on_vfio_pci_are_passthrough_ready(e810):
    assert [vf['passthrough_ready'] for vf in e810['virtual_functions']] == [True, True, False, False]


def test_vf_netdev_and_mac_from_its_own_interface(e810):
    vf = by_address(e810['virtual_functions'])['0000:3b:01.2']
    assert (vf['interface'], vf['mac']) == ('ens1f0v2', '52:54:00:0e:81:02')


def test_without_libvirt_assignments_are_unknown(e810):
    assert e810['summary']['assignments_known'] is False
    assert e810['summary']['free_vfs'] is None
    assert all(vf['assigned_to'] is None for vf in e810['virtual_functions'])


def test_e810_summary(e810):
    summary = e810['summary']
    assert (summary['capable'], summary['configured'], summary['total_vfs'], summary['max_vfs']) == (True, True, 4, 128)


def test_sysfs_only_facts_say_their_source(e810):
    assert e810['physical_functions'][0]['sources'] == ['sysfs']
    assert e810['errors'] == []


def test_domain_assignment_marks_vfs_used(tmp_path):
    records = merge_records(sysfs_trees_records(tmp_path, sysfs_trees.intel_e810_4vf))
    assignments = dict((use['address'], use) for use in
                       parse_assigned_pci(read_fixture('web01-hostdev-vf.domain.xml')))
    facts = build_sriov(records, assignments)
    vfs = by_address(facts['virtual_functions'])
    assert vfs['0000:3b:01.1']['assigned_to'] == 'web01'
    assert (vfs['0000:3b:01.1']['mac'], vfs['0000:3b:01.1']['vlan']) == ('52:54:00:6d:90:02', 42)
    assert facts['summary']['free_vfs'] == 4 - len([vf for vf in vfs.values() if vf['assigned_to']])


def sysfs_trees_records(tmp_path, *scenarios):
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.pci_sysfs import read_pci_devices
    return read_pci_devices(host(tmp_path, *scenarios))


def test_vf_settings_from_iproute2(tmp_path):
    facts = facts_of(tmp_path, sysfs_trees.intel_e810_4vf,
                     ip_link_json=lambda: ip_link('intel-e810-4vf.ip-link.json'))
    vf0 = facts['virtual_functions'][0]
    assert (vf0['mac'], vf0['vlan'], vf0['trust'], vf0['spoofchk']) == ('52:54:00:12:34:01', 100, True, True)


def test_unset_vf_mac_in_iproute2_is_not_a_mac(tmp_path):
    facts = facts_of(tmp_path, sysfs_trees.intel_e810_4vf,
                     ip_link_json=lambda: ip_link('intel-e810-4vf.ip-link.json'))
    assert facts['virtual_functions'][3]['mac'] == '52:54:00:0e:81:03'  # its own netdev, not 00:00:...


def test_broken_iproute2_output_is_an_error_not_a_failure(tmp_path):
    facts = facts_of(tmp_path, sysfs_trees.intel_e810_4vf, ip_link_json=lambda: 'Object "link" is unknown')
    assert [e['source'] for e in facts['errors']] == ['iproute2']
    assert len(facts['virtual_functions']) == 4


def test_iproute2_of_a_host_without_vfs(tmp_path):
    facts = facts_of(tmp_path, sysfs_trees.plain_nic, ip_link_json=lambda: ip_link('debian12-no-sriov.ip-link.json'))
    assert facts['errors'] == []


# -- other NICs ----------------------------------------------------------------------


def test_mellanox_switchdev_eswitch_mode(tmp_path):
    pf = facts_of(tmp_path, sysfs_trees.mellanox_cx6_switchdev)['physical_functions'][0]
    assert (pf['interface'], pf['eswitch_mode']) == ('ens2f0np0', 'switchdev')


def test_pf_capable_with_zero_vfs(tmp_path):
    facts = facts_of(tmp_path, sysfs_trees.pf_capable_zero_vfs)
    assert (facts['summary']['capable'], facts['summary']['configured']) == (True, False)
    assert (facts['physical_functions'][0]['total_vfs'], facts['physical_functions'][0]['num_vfs']) == (64, 0)


def test_plain_nic_is_a_network_passthrough_candidate(tmp_path):
    facts = facts_of(tmp_path, sysfs_trees.plain_nic)
    assert facts['physical_functions'] == []
    assert [(d['address'], d['kind']) for d in facts['passthrough_devices']] == [('0000:02:00.0', 'network')]


def test_host_without_sriov_hardware(tmp_path):
    facts = facts_of(tmp_path, sysfs_trees.plain_nic)
    assert facts['summary']['capable'] is False
    assert facts['virtual_functions'] == []


# -- GPUs and IOMMU groups -----------------------------------------------------------


def test_gpu_alone_in_its_group_is_viable(tmp_path):
    gpu = facts_of(tmp_path, sysfs_trees.nvidia_gpu_alone)['passthrough_devices'][0]
    assert (gpu['kind'], gpu['iommu_group'], gpu['iommu_group_viable']) == ('gpu', 90, True)


def test_gpu_sharing_its_group_with_audio_on_another_driver_is_not_viable(tmp_path):
    devices = facts_of(tmp_path, sysfs_trees.gpu_with_audio_in_group)['passthrough_devices']
    assert [(d['address'], d['iommu_group_viable']) for d in devices] == [('0000:65:00.0', False)]


def test_bridges_in_the_group_do_not_spoil_it(tmp_path):
    tree = sysfs_trees.SysfsTree(str(tmp_path))
    tree.bridge('0000:00:01.0')
    tree.pci('0000:01:00.0', '10de', '2236', '030200', driver='vfio-pci', iommu_group=7, parent='0000:00:01.0')
    tree.iommu('0000:00:01.0', 7)
    gpu = gather_sriov(tree.root, pci_ids_paths=PCI_IDS)['passthrough_devices'][0]
    assert gpu['iommu_group_viable'] is True


def test_passthrough_devices_counted_per_vendor(tmp_path):
    facts = facts_of(tmp_path, sysfs_trees.nvidia_gpu_alone, sysfs_trees.plain_nic)
    assert facts['summary']['passthrough_by_vendor'] == {'NVIDIA Corporation': 1, 'Intel Corporation': 1}


# -- merging sysfs with libvirt ------------------------------------------------------


def test_sysfs_and_libvirt_records_merge_per_address(tmp_path):
    records = merge_records(sysfs_trees_records(tmp_path, sysfs_trees.intel_e810_4vf),
                            [parse_pci_device(read_fixture('intel-e810-pf-4vf.nodedev.xml'))])
    pf = records['0000:3b:00.0']
    assert pf['sources'] == ['sysfs', 'libvirt']
    assert pf['iommu_group'] == 40  # sysfs is read first and wins
    assert pf['pci_express'] == {'link_speed_gts': 16.0, 'link_width': 16}  # only libvirt tells


def test_libvirt_alone_computes_vf_indexes_from_the_pf(fixture_xml):
    records = merge_records([parse_pci_device(fixture_xml(name)) for name in
                             ('intel-e810-pf-4vf.nodedev.xml', 'intel-e810-vf.nodedev.xml')])
    facts = build_sriov(records)
    assert [(vf['address'], vf['vf_index']) for vf in facts['virtual_functions']] == [('0000:3b:01.0', 0)]


# -- feeding traits and resources ----------------------------------------------------


def test_sriov_traits(tmp_path):
    facts = facts_of(tmp_path, sysfs_trees.intel_e810_4vf, sysfs_trees.nvidia_gpu_alone,
                     ip_link_json=lambda: ip_link('intel-e810-4vf.ip-link.json'))
    traits = derive_traits({}, sriov=facts)
    assert traits == ['CUSTOM_PCI_10DE_2236', 'HW_NIC_SRIOV', 'HW_NIC_SRIOV_TRUSTED']


def test_no_trust_known_gives_no_trusted_trait(e810):
    assert 'HW_NIC_SRIOV_TRUSTED' not in derive_traits({}, sriov=e810)


def test_free_vfs_feed_sriov_net_vf(tmp_path):
    records = merge_records(sysfs_trees_records(tmp_path, sysfs_trees.intel_e810_4vf))
    facts = build_sriov(records, {'0000:3b:01.0': {'domain': 'web01'}})
    assert derive_resources({}, sriov=facts)['SRIOV_NET_VF'] == {
        'total': 4, 'reserved': 0, 'used': 1, 'allocation_ratio': 1.0}


def test_unknown_assignments_count_no_vf_as_used(e810):
    assert derive_resources({}, sriov=e810)['SRIOV_NET_VF']['used'] == 0


def test_free_gpus_feed_pgpu(tmp_path):
    records = merge_records(sysfs_trees_records(tmp_path, sysfs_trees.nvidia_gpu_alone,
                                                sysfs_trees.gpu_with_audio_in_group))
    facts = build_sriov(records, {'0000:ca:00.0': {'domain': 'render01'}})
    assert derive_resources({}, sriov=facts)['PGPU'] == {'total': 2, 'reserved': 0, 'used': 1, 'allocation_ratio': 1.0}
