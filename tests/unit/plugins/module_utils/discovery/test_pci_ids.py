# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names of PCI ids from a pci.ids file (tests/unit/fixtures/pci.ids is an excerpt
written in the real format)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.pci_ids import lookup_pci_names
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.pci_sysfs import read_pci_devices
from ansible_collections.virtumancer.hostcaps.tests.unit import sysfs_trees
from ansible_collections.virtumancer.hostcaps.tests.unit.sysfs_trees import SysfsTree

PCI_IDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'fixtures', 'pci.ids')


@pytest.fixture
def pci_ids():
    return (PCI_IDS,)


def test_known_vendor_and_device(pci_ids):
    assert lookup_pci_names([('8086', '1593')], pci_ids) == {
        ('8086', '1593'): ('Intel Corporation', 'Ethernet Controller E810-C for SFP')}


def test_names_for_every_device_of_the_e810_host(pci_ids):
    names = lookup_pci_names([('8086', '1593'), ('8086', '1889'), ('10de', '2236'), ('15b3', '101e')], pci_ids)
    assert names == {
        ('8086', '1593'): ('Intel Corporation', 'Ethernet Controller E810-C for SFP'),
        ('8086', '1889'): ('Intel Corporation', 'Ethernet Adaptive Virtual Function'),
        ('10de', '2236'): ('NVIDIA Corporation', 'GA102GL [A10]'),
        ('15b3', '101e'): ('Mellanox Technologies', 'ConnectX Family mlx5Gen Virtual Function'),
    }


def test_known_vendor_unknown_device(pci_ids):
    assert lookup_pci_names([('8086', 'ffee')], pci_ids) == {('8086', 'ffee'): ('Intel Corporation', None)}


def test_unknown_vendor(pci_ids):
    assert lookup_pci_names([('abcd', '0001')], pci_ids) == {('abcd', '0001'): (None, None)}


def test_subsystem_lines_are_not_devices(pci_ids):
    # "\t\t8086 0005  Ethernet Network Adapter E810-XXV-4" names a card, not device 0005.
    assert lookup_pci_names([('8086', '0005')], pci_ids) == {('8086', '0005'): ('Intel Corporation', None)}


def test_ids_in_kernel_spelling_are_looked_up_and_kept_as_keys(pci_ids):
    assert lookup_pci_names([('0x8086', '0x1533')], pci_ids) == {
        ('0x8086', '0x1533'): ('Intel Corporation', 'I210 Gigabit Network Connection')}


def test_unknown_vendor_id_none(pci_ids):
    assert lookup_pci_names([(None, None), ('10de', None)], pci_ids) == {
        (None, None): (None, None), ('10de', None): ('NVIDIA Corporation', None)}


def test_no_pci_ids_file(tmp_path):
    assert lookup_pci_names([('8086', '1593')], (str(tmp_path / 'misc' / 'pci.ids'),)) == {}


def test_first_existing_path_is_read(tmp_path, pci_ids):
    missing = str(tmp_path / 'pci.ids')
    assert lookup_pci_names([('1af4', '1041')], (missing,) + pci_ids) == {
        ('1af4', '1041'): ('Red Hat, Inc.', 'Virtio 1.0 network device')}


def write_ids(tmp_path, text):
    path = tmp_path / 'pci.ids'
    path.write_bytes(text.encode('latin-1') if isinstance(text, type(u'')) else text)
    return (str(path),)


def test_stops_after_the_last_requested_vendor(tmp_path):
    # Vendors are sorted: what follows 8088 is never read, so the out-of-order
    # impostor lines cannot rename 8086 nor add a device to it.
    paths = write_ids(tmp_path, u'8086  Intel Corporation\n\t1593  Ethernet Controller E810-C for SFP\n'
                                u'8088  Beijing Wangxun Technology Co., Ltd.\n'
                                u'8086  Impostor\n\tabcd  Impostor device\n')
    assert lookup_pci_names([('8086', '1593'), ('8086', 'abcd')], paths) == {
        ('8086', '1593'): ('Intel Corporation', 'Ethernet Controller E810-C for SFP'),
        ('8086', 'abcd'): ('Intel Corporation', None)}


def test_stops_at_the_class_section(tmp_path):
    # Subclass lines are TAB-indented like devices and the section may hold anything
    # after that; none of it is vendor data, so reading ends at the first "C " line.
    paths = write_ids(tmp_path, u'8086  Intel Corporation\nffff  Illegal Vendor ID\n\n'
                                u'C 02  Network controller\n\t0000  Ethernet controller\n'
                                u'8086  Impostor\n\t0000  Impostor device\n')
    assert lookup_pci_names([('ffff', '0000'), ('8086', '0000')], paths) == {
        ('ffff', '0000'): ('Illegal Vendor ID', None), ('8086', '0000'): ('Intel Corporation', None)}


def test_latin1_file_does_not_fail(tmp_path):
    paths = write_ids(tmp_path, u'1234  Soci\xe9t\xe9 G\xe9n\xe9rale\n\t0001  Carte r\xe9seau\n')
    vendor, device = lookup_pci_names([('1234', '0001')], paths)[('1234', '0001')]
    assert vendor.startswith('Soci') and device.startswith('Carte r')


def test_utf8_names(tmp_path):
    paths = write_ids(tmp_path, u'1234  Soci\xe9t\xe9\n'.encode('utf-8'))
    assert lookup_pci_names([('1234', '0001')], paths) == {('1234', '0001'): (u'Soci\xe9t\xe9', None)}


def test_fixture_names_every_device_of_the_scenario_hosts(tmp_path, pci_ids):
    tree = SysfsTree(tmp_path / 'sys')
    for scenario in (sysfs_trees.intel_e810_4vf, sysfs_trees.mellanox_cx6_switchdev, sysfs_trees.pf_capable_zero_vfs,
                     sysfs_trees.plain_nic, sysfs_trees.nvidia_gpu_alone, sysfs_trees.gpu_with_audio_in_group):
        scenario(tree)
    pairs = set((record['vendor_id'], record['device_id']) for record in read_pci_devices(tree.root))
    unnamed = sorted(pair for pair, names in lookup_pci_names(pairs, pci_ids).items() if None in names)
    assert unnamed == []
