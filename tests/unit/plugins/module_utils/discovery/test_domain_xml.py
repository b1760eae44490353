# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.domain_xml import parse_assigned_pci, parse_tunable_devices
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.xmlparse import XMLInputError


def domain(*devices):
    return "<domain type='kvm'><name>vm1</name><devices>%s</devices></domain>" % ''.join(devices)


def assigned(fixture_xml, name):
    return parse_assigned_pci(fixture_xml(name))


def test_hostdev_assigns_its_source_address(fixture_xml):
    hostdevs = [entry for entry in assigned(fixture_xml, 'web01-hostdev-vf.domain.xml') if entry['kind'] == 'hostdev']
    assert hostdevs == [{'address': '0000:3b:01.0', 'domain': 'web01', 'kind': 'hostdev', 'mac': None, 'vlan': None, 'active': None}]


def test_hostdev_interface_assigns_its_vf_with_mac_and_vlan(fixture_xml):
    interfaces = [entry for entry in assigned(fixture_xml, 'web01-hostdev-vf.domain.xml') if entry['kind'] == 'interface']
    assert interfaces == [{'address': '0000:3b:01.1', 'domain': 'web01', 'kind': 'interface', 'mac': '52:54:00:6d:90:02', 'vlan': 42, 'active': None}]


def test_assignments_follow_document_order(fixture_xml):
    # libvirt prints interfaces before hostdevs whatever order they were defined in.
    assert [entry['kind'] for entry in assigned(fixture_xml, 'web01-hostdev-vf.domain.xml')] == ['interface', 'hostdev']


def test_usb_hostdev_is_ignored(fixture_xml):
    # web01 also has a USB hostdev; only the two PCI functions are reported.
    assert len(assigned(fixture_xml, 'web01-hostdev-vf.domain.xml')) == 2


def test_usb_hostdev_alone_assigns_nothing():
    usb = "<hostdev mode='subsystem' type='usb'><source><vendor id='0x046d'/><product id='0xc077'/></source></hostdev>"
    assert parse_assigned_pci(domain(usb)) == []


def test_domain_without_passthrough_assigns_nothing(fixture_xml):
    assert assigned(fixture_xml, 'db01-no-passthrough.domain.xml') == []


def test_guest_side_pci_address_is_not_a_host_device():
    hostdev = ("<hostdev mode='subsystem' type='pci' managed='yes'>"
               "<source><address domain='0x0000' bus='0x3b' slot='0x01' function='0x2'/></source>"
               "<address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/></hostdev>")
    assert [entry['address'] for entry in parse_assigned_pci(domain(hostdev))] == ['0000:3b:01.2']


def test_hostdev_without_mode_is_a_subsystem_hostdev():
    hostdev = "<hostdev type='pci'><source><address domain='0x0000' bus='0x3b' slot='0x01' function='0x3'/></source></hostdev>"
    assert [entry['address'] for entry in parse_assigned_pci(domain(hostdev))] == ['0000:3b:01.3']


def test_hostdev_interface_without_vlan_or_mac():
    interface = "<interface type='hostdev'><source><address type='pci' domain='0x0000' bus='0x3b' slot='0x01' function='0x3'/></source></interface>"
    entry = parse_assigned_pci(domain(interface))[0]
    assert (entry['mac'], entry['vlan']) == (None, None)


def test_network_interface_is_not_an_assignment():
    interface = "<interface type='network'><mac address='52:54:00:12:34:56'/><source network='sriov-pool'/></interface>"
    assert parse_assigned_pci(domain(interface)) == []


def test_defined_domain_leaves_active_to_the_caller(fixture_xml):
    assert {entry['active'] for entry in assigned(fixture_xml, 'web01-hostdev-vf.domain.xml')} == {None}


def test_malformed_domain_xml_names_the_document():
    with pytest.raises(XMLInputError, match='domain XML is not well-formed'):
        parse_assigned_pci('<domain><name>web01</name>')


def test_malformed_domain_xml_names_the_given_domain():
    with pytest.raises(XMLInputError, match="domain 'web01' must have the root element <domain>, got <device>"):
        parse_assigned_pci('<device/>', what="domain 'web01'")


# -- parse_tunable_devices ---------------------------------------------------------


def test_tunable_devices_of_a_running_domain(fixture_xml):
    devices = parse_tunable_devices(fixture_xml('qos01-live.domain.xml'))
    assert devices['disks'] == [
        {'target': 'vda', 'device': 'disk', 'bus': 'virtio', 'has_source': True},
        {'target': 'sda', 'device': 'cdrom', 'bus': 'sata', 'has_source': False},
    ]
    assert devices['interfaces'] == [
        {'mac': '52:54:00:51:05:01', 'target': 'vnet8', 'type': 'network', 'network': 'hcqos-probe'},
        {'mac': '52:54:00:51:05:02', 'target': None, 'type': 'user', 'network': None},
    ]


def test_tunable_interfaces_of_a_definition_have_no_host_device(fixture_xml):
    interfaces = parse_tunable_devices(fixture_xml('qos01-inactive.domain.xml'))['interfaces']
    assert [(item['mac'], item['target']) for item in interfaces] == [('52:54:00:51:05:01', None), ('52:54:00:51:05:02', None)]


def test_tunable_hostdev_interface_keeps_its_type(fixture_xml):
    interfaces = parse_tunable_devices(fixture_xml('web01-hostdev-vf.domain.xml'))['interfaces']
    assert interfaces == [{'mac': '52:54:00:6d:90:02', 'target': None, 'type': 'hostdev', 'network': None}]


def test_tunable_disk_without_target_is_left_out():
    assert parse_tunable_devices(domain("<disk type='file' device='disk'><source file='/a'/></disk>"))['disks'] == []


def test_tunable_mac_is_lower_case():
    xml = domain("<interface type='bridge'><mac address='52:54:00:AB:CD:EF'/><source bridge='br0'/></interface>")
    assert parse_tunable_devices(xml)['interfaces'][0]['mac'] == '52:54:00:ab:cd:ef'


def test_tunable_devices_of_bad_xml_is_an_input_error():
    with pytest.raises(XMLInputError):
        parse_tunable_devices('<network/>')
