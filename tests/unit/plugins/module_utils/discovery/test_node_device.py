# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.node_device import (
    is_sriov_physical_function, parse_net_device, parse_pci_device,
)
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.xmlparse import XMLInputError

# libvirt's documented shape of an SR-IOV capable function with no VF enabled yet.
E810_PF = """<device>
  <name>pci_0000_3b_00_0</name>
  <capability type='pci'>
    <class>0x020000</class>
    <domain>0</domain><bus>59</bus><slot>0</slot><function>0</function>
    <product id='0x1593'>Ethernet Controller E810-C for SFP</product>
    <vendor id='0x8086'>Intel Corporation</vendor>
    <capability type='virt_functions' maxCount='128'/>
  </capability>
</device>"""


def test_net_node_device_as_interface(fixture_xml):
    entry = parse_net_device(fixture_xml('debian12-eth0.nodedev.xml'))
    assert entry['name'] == 'eth0'
    assert entry['mac'] == '02:fc:00:00:00:01'
    assert entry['active'] is True
    assert entry['speed_mbps'] is None
    assert entry['type'] == 'ethernet'
    assert entry['source'] == 'node_device'


def test_pci_device_is_not_a_net_device(fixture_xml):
    assert parse_net_device(fixture_xml('debian12-virtio-net-pci.nodedev.xml')) is None


def test_virtio_nic_is_not_an_sriov_pf(fixture_xml):
    assert is_sriov_physical_function(fixture_xml('debian12-virtio-net-pci.nodedev.xml')) is False


def test_virt_functions_capability_marks_a_pf():
    assert is_sriov_physical_function(E810_PF) is True


def pci(fixture_xml, name):
    return parse_pci_device(fixture_xml(name))


def test_pci_record_has_the_keys_the_sysfs_reader_gives(fixture_xml):
    assert sorted(pci(fixture_xml, 'intel-e810-pf-4vf.nodedev.xml')) == sorted([
        'address', 'vendor_id', 'device_id', 'vendor_name', 'device_name', 'subsystem_vendor_id',
        'subsystem_device_id', 'class_id', 'driver', 'numa_node', 'iommu_group', 'iommu_group_devices',
        'sriov_capable', 'total_vfs', 'num_vfs', 'vf_device_id', 'physfn', 'vf_index', 'virtfns', 'netdevs',
        'pcie_link', 'block_devices', 'boot_vga', 'source',
    ])


def test_pci_address_from_decimal_elements_is_formatted_as_sysfs_does(fixture_xml):
    assert pci(fixture_xml, 'intel-e810-pf-4vf.nodedev.xml')['address'] == '0000:3b:00.0'
    assert pci(fixture_xml, 'nvidia-a10-gpu.nodedev.xml')['address'] == '0000:af:00.0'


def test_pci_address_elements_may_be_hex():
    record = parse_pci_device(E810_PF.replace('<bus>59</bus>', '<bus>0x3b</bus>').replace('<slot>0</slot>', '<slot>0x1f</slot>'))
    assert record['address'] == '0000:3b:1f.0'


def test_pci_address_of_a_captured_virtio_device(fixture_xml):
    assert pci(fixture_xml, 'debian12-virtio-net-pci.nodedev.xml')['address'] == '0000:00:03.0'


def test_pci_ids_are_four_lower_case_hex_digits(fixture_xml):
    record = pci(fixture_xml, 'nvidia-a10-gpu.nodedev.xml')
    assert (record['vendor_id'], record['device_id']) == ('10de', '2236')


def test_pci_ids_of_a_captured_host_bridge(fixture_xml):
    record = pci(fixture_xml, 'debian12-host-bridge.nodedev.xml')
    assert (record['vendor_id'], record['device_id'], record['class_id']) == ('8086', '0d57', '060000')


def test_pci_names_come_from_the_vendor_and_product_text(fixture_xml):
    record = pci(fixture_xml, 'mellanox-cx6-pf.nodedev.xml')
    assert (record['vendor_name'], record['device_name']) == ('Mellanox Technologies', 'MT28908 Family [ConnectX-6]')


def test_pci_names_are_none_when_libvirt_has_no_pci_ids_database(fixture_xml):
    record = pci(fixture_xml, 'debian12-virtio-blk-pci.nodedev.xml')
    assert (record['vendor_name'], record['device_name']) == (None, None)


def test_pci_class_is_six_hex_digits(fixture_xml):
    assert pci(fixture_xml, 'nvidia-a10-gpu.nodedev.xml')['class_id'] == '030200'
    assert pci(fixture_xml, 'debian12-virtio-blk-pci.nodedev.xml')['class_id'] == '018000'


def test_pci_class_is_unknown_when_libvirt_prints_none():
    assert parse_pci_device(E810_PF.replace('<class>0x020000</class>', ''))['class_id'] is None


def test_pci_driver_is_the_bound_kernel_driver(fixture_xml):
    assert pci(fixture_xml, 'intel-e810-pf-4vf.nodedev.xml')['driver'] == 'ice'
    assert pci(fixture_xml, 'intel-e810-vf.nodedev.xml')['driver'] == 'vfio-pci'


def test_pci_driver_is_none_for_an_unbound_device(fixture_xml):
    assert pci(fixture_xml, 'debian12-host-bridge.nodedev.xml')['driver'] is None


def test_pci_iommu_group_number(fixture_xml):
    assert pci(fixture_xml, 'intel-e810-pf-4vf.nodedev.xml')['iommu_group'] == 12


def test_pci_device_alone_in_its_iommu_group(fixture_xml):
    assert pci(fixture_xml, 'nvidia-a10-gpu.nodedev.xml')['iommu_group_devices'] == ['0000:af:00.0']


def test_pci_iommu_group_members_are_sorted(fixture_xml):
    record = pci(fixture_xml, 'nvidia-gpu-audio-group.nodedev.xml')
    assert record['iommu_group'] == 27
    assert record['iommu_group_devices'] == ['0000:65:00.0', '0000:65:00.1']


def test_pci_iommu_group_is_unknown_without_an_iommu(fixture_xml):
    record = pci(fixture_xml, 'debian12-virtio-net-pci.nodedev.xml')
    assert (record['iommu_group'], record['iommu_group_devices']) == (None, None)


def test_pci_numa_node(fixture_xml):
    assert pci(fixture_xml, 'mellanox-cx6-pf.nodedev.xml')['numa_node'] == 1


def test_pci_numa_node_is_unknown_when_absent(fixture_xml):
    assert pci(fixture_xml, 'nvidia-gpu-audio-group.nodedev.xml')['numa_node'] is None


def test_pci_numa_node_minus_one_is_unknown():
    assert parse_pci_device(E810_PF.replace('</capability>\n</device>', "<numa node='-1'/></capability>\n</device>"))['numa_node'] is None


def test_pf_with_vfs_counts_total_and_enabled_vfs(fixture_xml):
    record = pci(fixture_xml, 'intel-e810-pf-4vf.nodedev.xml')
    assert (record['sriov_capable'], record['total_vfs'], record['num_vfs']) == (True, 128, 4)


def test_pf_virtfns_keep_document_order(fixture_xml):
    assert pci(fixture_xml, 'intel-e810-pf-4vf.nodedev.xml')['virtfns'] == {
        0: '0000:3b:01.0', 1: '0000:3b:01.1', 2: '0000:3b:01.2', 3: '0000:3b:01.3',
    }


def test_pf_virtfns_order_is_not_address_order():
    swapped = E810_PF.replace(
        "<capability type='virt_functions' maxCount='128'/>",
        "<capability type='virt_functions' maxCount='128'>"
        "<address domain='0x0000' bus='0x3b' slot='0x01' function='0x1'/>"
        "<address domain='0x0000' bus='0x3b' slot='0x01' function='0x0'/></capability>")
    assert parse_pci_device(swapped)['virtfns'] == {0: '0000:3b:01.1', 1: '0000:3b:01.0'}


def test_pf_with_no_vf_enabled_is_sriov_capable_with_zero_vfs(fixture_xml):
    record = pci(fixture_xml, 'mellanox-cx6-pf.nodedev.xml')
    assert (record['sriov_capable'], record['total_vfs'], record['num_vfs'], record['virtfns']) == (True, 8, 0, {})


def test_device_without_sriov_has_no_vf_counts(fixture_xml):
    record = pci(fixture_xml, 'nvidia-a10-gpu.nodedev.xml')
    assert (record['sriov_capable'], record['total_vfs'], record['num_vfs'], record['virtfns']) == (False, None, None, {})


def test_vf_names_its_physical_function(fixture_xml):
    record = pci(fixture_xml, 'intel-e810-vf.nodedev.xml')
    assert record['physfn'] == '0000:3b:00.0'
    assert record['sriov_capable'] is False


def test_pf_has_no_physical_function(fixture_xml):
    assert pci(fixture_xml, 'intel-e810-pf-4vf.nodedev.xml')['physfn'] is None


def test_vf_index_and_vf_device_id_are_left_to_the_merge(fixture_xml):
    record = pci(fixture_xml, 'intel-e810-vf.nodedev.xml')
    assert (record['vf_index'], record['vf_device_id']) == (None, None)


def test_pcie_link_has_the_capability_and_the_trained_link(fixture_xml):
    assert pci(fixture_xml, 'mellanox-cx6-pf.nodedev.xml')['pcie_link'] == {
        'max_speed_gts': 16.0, 'max_width': 16, 'speed_gts': 8.0, 'width': 16, 'port': 0}


def test_pcie_link_fractional_speed(fixture_xml):
    assert pci(fixture_xml, 'nvidia-a10-gpu.nodedev.xml')['pcie_link'] == {
        'max_speed_gts': 16.0, 'max_width': 16, 'speed_gts': 2.5, 'width': 16, 'port': 0}


def test_pcie_link_of_a_vf_without_a_link_is_unknown(fixture_xml):
    # port='0' width='0' on both links: a port number alone is no link.
    assert pci(fixture_xml, 'intel-e810-vf.nodedev.xml')['pcie_link'] is None


def test_pcie_link_element_without_links_is_unknown(fixture_xml):
    assert pci(fixture_xml, 'debian12-host-bridge.nodedev.xml')['pcie_link'] is None
    assert pci(fixture_xml, 'upstream-pci_8086_0c0c_snd_hda_intel.nodedev.xml')['pcie_link'] is None


def test_pcie_link_that_trained_nothing_keeps_what_it_could_do(fixture_xml):
    # libvirt's own test data: a 2.5 GT/s x4 capability, <link validity='sta' width='0'/>.
    assert pci(fixture_xml, 'upstream-pci_0000_02_10_7_sriov_vfs.nodedev.xml')['pcie_link'] == {
        'max_speed_gts': 2.5, 'max_width': 4, 'speed_gts': None, 'width': None, 'port': 0}


def test_pf_document_lists_its_vf_addresses_in_order(fixture_xml):
    record = pci(fixture_xml, 'upstream-pci_0000_02_10_7_sriov_vfs.nodedev.xml')
    assert record['virtfns'] == {0: '0000:02:00.2', 1: '0000:02:00.3', 2: '0000:02:00.4', 3: '0000:02:00.5'}
    assert (record['sriov_capable'], record['total_vfs'], record['num_vfs']) == (True, None, 4)


def test_pci_record_says_it_came_from_libvirt(fixture_xml):
    record = pci(fixture_xml, 'intel-e810-pf-4vf.nodedev.xml')
    assert (record['source'], record['netdevs'], record['subsystem_vendor_id'], record['subsystem_device_id']) == ('libvirt', [], None, None)


def test_non_pci_node_device_is_not_a_pci_device(fixture_xml):
    assert parse_pci_device(fixture_xml('debian12-eth0.nodedev.xml')) is None


def test_malformed_node_device_xml_names_the_document():
    with pytest.raises(XMLInputError, match='node device XML is not well-formed'):
        parse_pci_device('<device><name>pci_0000_3b_00_0</name>')


def test_malformed_node_device_xml_names_the_given_document():
    with pytest.raises(XMLInputError, match="node device 'pci_0000_3b_00_0' is not well-formed"):
        parse_pci_device('<device>', what="node device 'pci_0000_3b_00_0'")


def test_pci_device_without_an_address_is_refused():
    with pytest.raises(XMLInputError, match="PCI device 'pci_0000_3b_00_0' needs numeric <domain>, <bus>"):
        parse_pci_device(E810_PF.replace('<bus>59</bus>', ''))
