# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PCI device records from fake /sys trees laid out as the kernel lays them out
(see tests/unit/sysfs_trees.py for the hosts)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.pci_sysfs import read_iommu, read_pci_devices
from ansible_collections.virtumancer.hostcaps.tests.unit import sysfs_trees
from ansible_collections.virtumancer.hostcaps.tests.unit.sysfs_trees import SysfsTree

RECORD_KEYS = set([
    'address', 'vendor_id', 'device_id', 'subsystem_vendor_id', 'subsystem_device_id', 'class_id',
    'vendor_name', 'device_name', 'driver', 'numa_node', 'iommu_group', 'iommu_group_devices',
    'sriov_capable', 'total_vfs', 'num_vfs', 'vf_device_id', 'physfn', 'vf_index', 'virtfns',
    'netdevs', 'block_devices', 'boot_vga', 'pcie_link', 'source',
])


def by_address(root):
    return dict((record['address'], record) for record in read_pci_devices(root))


@pytest.fixture
def tree(tmp_path):
    return SysfsTree(tmp_path / 'sys')


@pytest.fixture
def intel_e810_4vf(tree):
    sysfs_trees.intel_e810_4vf(tree)
    return by_address(tree.root)


@pytest.fixture
def mellanox_cx6_switchdev(tree):
    sysfs_trees.mellanox_cx6_switchdev(tree)
    return by_address(tree.root)


# The E810 host: one PF, four VFs (two on vfio-pci, two on iavf).

def test_e810_pf_record(intel_e810_4vf):
    assert intel_e810_4vf['0000:3b:00.0'] == {
        'address': '0000:3b:00.0',
        'vendor_id': '8086', 'device_id': '1593',
        'subsystem_vendor_id': '8086', 'subsystem_device_id': '0005',
        'class_id': '020000',
        'vendor_name': None, 'device_name': None,
        'driver': 'ice',
        'numa_node': 0,
        'iommu_group': 40, 'iommu_group_devices': ['0000:3b:00.0'],
        'sriov_capable': True, 'total_vfs': 128, 'num_vfs': 4, 'vf_device_id': '1889',
        'physfn': None, 'vf_index': None,
        'virtfns': {0: '0000:3b:01.0', 1: '0000:3b:01.1', 2: '0000:3b:01.2', 3: '0000:3b:01.3'},
        'netdevs': [{'name': 'ens1f0', 'mac': 'b4:96:91:aa:bb:00', 'mtu': 9000, 'link_state': 'up',
                     'speed_mbps': 25000, 'eswitch_mode': None, 'admin_up': True, 'master': None}],
        'block_devices': [], 'boot_vga': None,
        'pcie_link': {'max_speed_gts': 16.0, 'max_width': 16, 'speed_gts': 16.0, 'width': 16, 'port': None},
        'source': 'sysfs',
    }


def test_e810_vf_bound_to_vfio_has_no_netdev(intel_e810_4vf):
    assert intel_e810_4vf['0000:3b:01.1'] == {
        'address': '0000:3b:01.1',
        'vendor_id': '8086', 'device_id': '1889',
        'subsystem_vendor_id': '8086', 'subsystem_device_id': '0000',
        'class_id': '020000',
        'vendor_name': None, 'device_name': None,
        'driver': 'vfio-pci',
        'numa_node': 0,
        'iommu_group': 142, 'iommu_group_devices': ['0000:3b:01.1'],
        'sriov_capable': False, 'total_vfs': None, 'num_vfs': None, 'vf_device_id': None,
        'physfn': '0000:3b:00.0', 'vf_index': 1,
        'virtfns': {},
        'netdevs': [],
        'block_devices': [], 'boot_vga': None, 'pcie_link': None,
        'source': 'sysfs',
    }


def test_e810_vf_on_iavf_carries_its_netdev(intel_e810_4vf):
    vf = intel_e810_4vf['0000:3b:01.2']
    assert (vf['driver'], vf['physfn'], vf['vf_index']) == ('iavf', '0000:3b:00.0', 2)
    assert vf['netdevs'] == [{'name': 'ens1f0v2', 'mac': '52:54:00:0e:81:02', 'mtu': 1500, 'link_state': 'up',
                              'speed_mbps': 25000, 'eswitch_mode': None, 'admin_up': True, 'master': None}]


def test_down_link_speed_minus_one_is_unknown(intel_e810_4vf):
    netdev = intel_e810_4vf['0000:3b:01.3']['netdevs'][0]
    assert (netdev['link_state'], netdev['speed_mbps']) == ('down', None)


def test_records_sorted_by_address_with_every_key(tree):
    sysfs_trees.intel_e810_4vf(tree)
    records = read_pci_devices(tree.root)
    assert [record['address'] for record in records] == [
        '0000:3b:00.0', '0000:3b:01.0', '0000:3b:01.1', '0000:3b:01.2', '0000:3b:01.3']
    assert all(set(record) == RECORD_KEYS for record in records)


# Mellanox ConnectX-6 Dx in switchdev mode.

def test_cx6_eswitch_mode_from_compat_devlink(mellanox_cx6_switchdev):
    uplink = mellanox_cx6_switchdev['0000:5e:00.0']['netdevs'][0]
    assert (uplink['name'], uplink['eswitch_mode'], uplink['speed_mbps']) == ('ens2f0np0', 'switchdev', 100000)


def test_cx6_representors_are_netdevs_of_the_pf(mellanox_cx6_switchdev):
    names = [netdev['name'] for netdev in mellanox_cx6_switchdev['0000:5e:00.0']['netdevs']]
    assert names == ['ens2f0np0', 'ens2f0npf0vf0', 'ens2f0npf0vf1']


def test_cx6_netdev_without_compat_devlink_has_unknown_eswitch_mode(mellanox_cx6_switchdev):
    assert mellanox_cx6_switchdev['0000:5e:00.2']['netdevs'][0]['eswitch_mode'] is None


def test_cx6_vfs(mellanox_cx6_switchdev):
    vfs = dict((address, (record['device_id'], record['driver'], record['physfn'], record['vf_index']))
               for address, record in mellanox_cx6_switchdev.items() if record['physfn'])
    assert vfs == {'0000:5e:00.2': ('101e', 'mlx5_core', '0000:5e:00.0', 0),
                   '0000:5e:00.3': ('101e', 'vfio-pci', '0000:5e:00.0', 1)}


def test_cx6_pf_counts(mellanox_cx6_switchdev):
    pf = mellanox_cx6_switchdev['0000:5e:00.0']
    assert (pf['total_vfs'], pf['num_vfs'], pf['vf_device_id'], pf['numa_node']) == (8, 2, '101e', 1)


# Other hosts.

def test_x710_capable_with_zero_vfs(tree):
    sysfs_trees.pf_capable_zero_vfs(tree)
    pf = by_address(tree.root)['0000:af:00.0']
    assert (pf['sriov_capable'], pf['total_vfs'], pf['num_vfs'], pf['vf_device_id'], pf['virtfns']) == (
        True, 64, 0, '154c', {})


def test_i210_behind_root_port_is_not_sriov_capable(tree):
    sysfs_trees.plain_nic(tree)
    nic = by_address(tree.root)['0000:02:00.0']
    assert (nic['vendor_id'], nic['device_id'], nic['driver']) == ('8086', '1533', 'igb')
    assert (nic['sriov_capable'], nic['total_vfs'], nic['num_vfs'], nic['vf_device_id']) == (False, None, None, None)
    assert [netdev['name'] for netdev in nic['netdevs']] == ['eno1']


def test_root_port_is_listed_too(tree):
    sysfs_trees.plain_nic(tree)
    bridge = by_address(tree.root)['0000:00:1c.0']
    assert (bridge['class_id'], bridge['driver'], bridge['iommu_group']) == ('060400', 'pcieport', None)


def test_a10_gpu_alone_in_its_group(tree):
    sysfs_trees.nvidia_gpu_alone(tree)
    gpu = by_address(tree.root)['0000:ca:00.0']
    assert (gpu['class_id'], gpu['driver'], gpu['iommu_group'], gpu['iommu_group_devices']) == (
        '030200', 'vfio-pci', 90, ['0000:ca:00.0'])


def test_gpu_and_its_audio_function_share_a_group(tree):
    sysfs_trees.gpu_with_audio_in_group(tree)
    records = by_address(tree.root)
    gpu, audio = records['0000:65:00.0'], records['0000:65:00.1']
    assert gpu['iommu_group'] == audio['iommu_group'] == 30
    assert gpu['iommu_group_devices'] == audio['iommu_group_devices'] == ['0000:65:00.0', '0000:65:00.1']
    assert (gpu['class_id'], gpu['driver'], audio['class_id'], audio['driver']) == (
        '030000', 'vfio-pci', '040300', 'snd_hda_intel')


def test_group_devices_are_a_list_per_record(tree):
    sysfs_trees.gpu_with_audio_in_group(tree)
    records = by_address(tree.root)
    records['0000:65:00.0']['iommu_group_devices'].append('changed')
    assert records['0000:65:00.1']['iommu_group_devices'] == ['0000:65:00.0', '0000:65:00.1']


def test_synthetic_host_of_8_pfs_with_64_vfs(tree):
    sysfs_trees.synthetic_pfs(tree, pfs=8, vfs=64)
    records = read_pci_devices(tree.root)
    pfs = [record for record in records if record['sriov_capable']]
    assert (len(records), len(pfs)) == (8 + 8 * 64, 8)
    assert all(pf['num_vfs'] == 64 and len(pf['virtfns']) == 64 for pf in pfs)
    assert sorted(record['vf_index'] for record in records if record['physfn'] == '0000:18:00.0') == list(range(64))


# What the kernel does not tell.

def test_unbound_device_has_no_driver(tree):
    tree.pci('0000:00:1f.4', '8086', 'a1a3', '0c0500', subsystem=('15d9', '0888'))
    assert by_address(tree.root)['0000:00:1f.4']['driver'] is None


def test_numa_node_minus_one_is_unknown(tree):
    tree.pci('0000:00:1f.4', '8086', 'a1a3', '0c0500', numa=-1)
    assert by_address(tree.root)['0000:00:1f.4']['numa_node'] is None


def test_without_iommu_no_group(tree):
    tree.pci('0000:00:1f.4', '8086', 'a1a3', '0c0500')
    device = by_address(tree.root)['0000:00:1f.4']
    assert (device['iommu_group'], device['iommu_group_devices']) == (None, None)


def test_missing_subsystem_files_are_unknown(tree):
    tree.pci('0000:00:1f.4', '8086', 'a1a3', '0c0500', subsystem=None)
    device = by_address(tree.root)['0000:00:1f.4']
    assert (device['subsystem_vendor_id'], device['subsystem_device_id']) == (None, None)


def test_unreadable_speed_is_unknown_and_keeps_the_device(tree):
    sysfs_trees.intel_e810_4vf(tree)
    # A directory in place of the file: reading fails (EISDIR) even for root, as
    # `speed` fails with EINVAL on a real down link.
    tree.make_unreadable('0000:3b:00.0', 'net/ens1f0/speed')
    pf = by_address(tree.root)['0000:3b:00.0']
    assert pf['netdevs'][0]['speed_mbps'] is None
    assert (pf['netdevs'][0]['mtu'], pf['num_vfs']) == (9000, 4)


def test_unreadable_identity_attribute_is_unknown(tree):
    sysfs_trees.intel_e810_4vf(tree)
    tree.make_unreadable('0000:3b:01.0', 'vendor')
    vf = by_address(tree.root)['0000:3b:01.0']
    assert (vf['vendor_id'], vf['device_id'], vf['vf_index']) == (None, '1889', 0)


def test_dangling_attribute_link_is_unknown(tree):
    sysfs_trees.nvidia_gpu_alone(tree)
    numa_node = os.path.join(tree.device_dir('0000:ca:00.0'), 'numa_node')
    os.remove(numa_node)
    os.symlink('nowhere', numa_node)
    assert by_address(tree.root)['0000:ca:00.0']['numa_node'] is None


def test_no_pci_bus_directory_is_unknown(tmp_path):
    assert read_pci_devices(str(tmp_path)) is None


def test_empty_pci_bus_is_an_empty_list(tree):
    assert read_pci_devices(tree.root) == []


# What tells whether the host uses a function.

def test_virtio_nic_carries_its_netdev_under_the_virtio_device(tree, tmp_path):
    sysfs_trees.debian12_virtio_vm(tree, sysfs_trees.ProcTree(tmp_path / 'proc'))
    nic = by_address(tree.root)['0000:00:03.0']
    assert [(n['name'], n['admin_up'], n['master']) for n in nic['netdevs']] == [('eth0', True, None)]


def test_disk_belongs_to_its_controller_not_the_bridges_above(tree):
    tree.bridge('0000:00:1d.0')
    tree.pci('0000:3d:00.0', '144d', 'a80a', '010802', driver='nvme', parent='0000:00:1d.0')
    tree.disk('0000:3d:00.0', 'nvme0n1', '259:0', under='nvme/nvme0', partitions=[('nvme0n1p1', '259:1')])
    records = by_address(tree.root)
    assert records['0000:00:1d.0']['block_devices'] == []
    assert records['0000:3d:00.0']['block_devices'] == [{
        'name': 'nvme0n1', 'dev': '259:0', 'holders': [],
        'partitions': [{'name': 'nvme0n1p1', 'dev': '259:1', 'holders': []}]}]


def test_holders_of_a_disk_and_virtual_disks(tree, tmp_path):
    sysfs_trees.nvme_root_and_spares(tree, sysfs_trees.ProcTree(tmp_path / 'proc'))
    records = by_address(tree.root)
    assert records['0000:3e:00.0']['block_devices'][0]['holders'] == ['dm-0']
    # dm-0 is in block/ too, but under devices/virtual: no PCI function has it.
    assert [d['name'] for r in records.values() for d in r['block_devices']] == ['nvme0n1', 'nvme1n1', 'nvme2n1']


def test_boot_vga(tree):
    sysfs_trees.aspeed_bmc_vga(tree)
    sysfs_trees.nvidia_gpu_alone(tree)
    records = by_address(tree.root)
    assert (records['0000:04:00.0']['boot_vga'], records['0000:ca:00.0']['boot_vga']) == (True, None)


def test_pcie_link_from_sysfs(tree):
    tree.pci('0000:ca:00.0', '10de', '2236', '030200', **sysfs_trees.pcie_link('2.5 GT/s PCIe', 16, '16.0 GT/s PCIe', 16))
    assert by_address(tree.root)['0000:ca:00.0']['pcie_link'] == {
        'max_speed_gts': 16.0, 'max_width': 16, 'speed_gts': 2.5, 'width': 16, 'port': None}


def test_pcie_link_before_linux_5_4_and_untrained(tree):
    # "5 GT/s" without the PCIe suffix; a link that trained nothing reads Unknown and 0.
    tree.pci('0000:02:00.0', '8086', '10c9', '020000', **sysfs_trees.pcie_link('Unknown', 0, '5 GT/s', 4))
    assert by_address(tree.root)['0000:02:00.0']['pcie_link'] == {
        'max_speed_gts': 5.0, 'max_width': 4, 'speed_gts': None, 'width': None, 'port': None}


def test_iommu_groups(tree):
    assert read_iommu(tree.root) == {'groups': 0}
    sysfs_trees.gpu_with_audio_in_group(tree)
    sysfs_trees.nvidia_gpu_alone(tree)
    assert read_iommu(tree.root) == {'groups': 2}


def test_iommu_unknown_without_the_directory(tmp_path):
    assert read_iommu(str(tmp_path)) == {'groups': None}
