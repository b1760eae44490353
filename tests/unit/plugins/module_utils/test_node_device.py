# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.node_device import (
    is_sriov_physical_function, parse_net_device,
)

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
