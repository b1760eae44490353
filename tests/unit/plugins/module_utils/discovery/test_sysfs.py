# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""sysfs readers on trees laid out as the kernel lays out /sys (class/net entries are
symlinks into devices/, bridges have brif/ links, bonds a bonding/ directory)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery import sysfs


def write(root, path, content):
    full = os.path.join(str(root), path)
    if not os.path.isdir(os.path.dirname(full)):
        os.makedirs(os.path.dirname(full))
    with open(full, 'w') as handle:
        handle.write(content + '\n')


def netdev(root, name, device_path, attrs):
    """A net device under devices/ with its class/net symlink, like the kernel makes."""
    base = os.path.join('devices', device_path, 'net', name)
    for attr, value in attrs.items():
        write(root, os.path.join(base, attr), value)
    link_dir = os.path.join(str(root), 'class', 'net')
    if not os.path.isdir(link_dir):
        os.makedirs(link_dir)
    os.symlink(os.path.join('..', '..', base), os.path.join(link_dir, name))
    return os.path.join(str(root), base)


@pytest.fixture
def hypervisor_sys(tmp_path):
    root = tmp_path / 'sys'
    for name, value in (('run', '1'), ('pages_shared', '1200'), ('pages_sharing', '9800'),
                        ('merge_across_nodes', '0')):
        write(root, 'kernel/mm/ksm/' + name, value)
    for group in range(24):
        os.makedirs(str(root / 'kernel' / 'iommu_groups' / str(group) / 'devices'))
    write(root, 'module/kvm_intel/parameters/nested', 'Y')
    eth0 = netdev(root, 'eth0', 'pci0000:00/0000:00:03.0',
                  {'address': '3c:fd:fe:aa:bb:01', 'operstate': 'up', 'mtu': '9000', 'speed': '25000',
                   'type': '1', 'uevent': 'INTERFACE=eth0\nIFINDEX=2'})
    os.symlink('../../../0000:00:03.0', os.path.join(eth0, 'device'))
    eth1 = netdev(root, 'eth1', 'pci0000:00/0000:00:04.0',
                  {'address': '3c:fd:fe:aa:bb:02', 'operstate': 'down', 'mtu': '1500', 'speed': '-1',
                   'type': '1', 'uevent': 'INTERFACE=eth1'})
    os.symlink('../../../0000:00:04.0', os.path.join(eth1, 'device'))
    br0 = netdev(root, 'br0', 'virtual', {'address': '3c:fd:fe:aa:bb:01', 'operstate': 'up', 'mtu': '9000',
                                          'type': '1', 'uevent': 'DEVTYPE=bridge\nINTERFACE=br0'})
    os.makedirs(os.path.join(br0, 'bridge'))
    os.makedirs(os.path.join(br0, 'brif'))
    os.symlink('../../eth0/brport', os.path.join(br0, 'brif', 'eth0'))
    bond0 = netdev(root, 'bond0', 'virtual', {'address': '3c:fd:fe:aa:bb:05', 'operstate': 'up', 'mtu': '1500',
                                              'type': '1', 'uevent': 'DEVTYPE=bond\nINTERFACE=bond0'})
    write(bond0, 'bonding/slaves', 'eth2 eth3')
    netdev(root, 'eth0.100', 'virtual', {'address': '3c:fd:fe:aa:bb:01', 'operstate': 'up', 'mtu': '9000',
                                         'type': '1', 'uevent': 'DEVTYPE=vlan\nINTERFACE=eth0.100'})
    netdev(root, 'lo', 'virtual', {'address': '00:00:00:00:00:00', 'operstate': 'unknown', 'mtu': '65536',
                                   'type': '772', 'uevent': 'INTERFACE=lo'})
    return str(root)


def test_ksm_running(hypervisor_sys):
    assert sysfs.read_ksm(hypervisor_sys) == {
        'run': 1, 'enabled': True, 'pages_shared': 1200, 'pages_sharing': 9800, 'merge_across_nodes': False}


def test_ksm_absent_is_unknown(tmp_path):
    assert sysfs.read_ksm(str(tmp_path)) is None


def test_iommu_group_count(hypervisor_sys):
    assert sysfs.count_iommu_groups(hypervisor_sys) == 24


def test_iommu_groups_directory_absent_is_unknown(tmp_path):
    assert sysfs.count_iommu_groups(str(tmp_path)) is None


def test_nested_from_kvm_intel(hypervisor_sys):
    assert sysfs.read_kvm_nested(hypervisor_sys) == {'module': 'kvm_intel', 'enabled': True}


def test_nested_kvm_amd_zero_is_false(tmp_path):
    write(tmp_path, 'module/kvm_amd/parameters/nested', '0')
    assert sysfs.read_kvm_nested(str(tmp_path)) == {'module': 'kvm_amd', 'enabled': False}


def test_nested_without_kvm_vendor_module_is_unknown(tmp_path):
    assert sysfs.read_kvm_nested(str(tmp_path)) is None


def test_cgroup_v2_controllers_are_those_of_the_root_cgroup(tmp_path):
    write(tmp_path, 'fs/cgroup/cgroup.controllers', 'cpuset cpu io memory hugetlb pids rdma misc')
    write(tmp_path, 'fs/cgroup/cgroup.procs', '1')
    assert sysfs.read_cgroups(str(tmp_path)) == {
        'version': 2, 'controllers': ['cpu', 'cpuset', 'hugetlb', 'io', 'memory', 'misc', 'pids', 'rdma']}


def test_cgroup_v1_controllers_are_the_mounted_hierarchies_of_a_hybrid_host(tmp_path):
    # Debian 11's hybrid layout: one directory per hierarchy, links for co-mounted
    # controllers, the named systemd hierarchy and an empty v2 tree at unified.
    for hierarchy in ('cpu,cpuacct', 'blkio', 'cpuset', 'devices', 'memory', 'pids', 'systemd', 'unified'):
        write(tmp_path, 'fs/cgroup/%s/cgroup.procs' % hierarchy, '1')
    for link in ('cpu', 'cpuacct'):
        os.symlink('cpu,cpuacct', str(tmp_path / 'fs' / 'cgroup' / link))
    # A mount point whose hierarchy is not mounted holds no cgroup.procs.
    (tmp_path / 'fs' / 'cgroup' / 'freezer').mkdir()
    assert sysfs.read_cgroups(str(tmp_path)) == {
        'version': 1, 'controllers': ['blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'memory', 'pids']}


def test_no_cgroup_tree_is_unknown(tmp_path):
    assert sysfs.read_cgroups(str(tmp_path)) is None
    (tmp_path / 'fs' / 'cgroup').mkdir(parents=True)
    assert sysfs.read_cgroups(str(tmp_path)) is None


@pytest.fixture
def interfaces(hypervisor_sys):
    return dict((i['name'], i) for i in sysfs.read_net_interfaces(hypervisor_sys))


def test_interface_kinds(interfaces):
    kinds = dict((name, i['type']) for name, i in interfaces.items())
    assert kinds == {'eth0': 'ethernet', 'eth1': 'ethernet', 'br0': 'bridge', 'bond0': 'bond',
                     'eth0.100': 'vlan', 'lo': 'loopback'}


def test_bridge_and_bond_members(interfaces):
    assert interfaces['br0']['members'] == ['eth0']
    assert interfaces['bond0']['members'] == ['eth2', 'eth3']


def test_link_speed_and_unknown_speed(interfaces):
    assert interfaces['eth0']['speed_mbps'] == 25000
    assert interfaces['eth1']['speed_mbps'] is None


def test_operstate(interfaces):
    assert interfaces['eth0']['active'] is True
    assert interfaces['eth1']['active'] is False


def test_unreadable_attribute_leaves_field_null(hypervisor_sys):
    os.remove(os.path.join(hypervisor_sys, 'devices', 'virtual', 'net', 'br0', 'mtu'))
    found = dict((i['name'], i) for i in sysfs.read_net_interfaces(hypervisor_sys))
    assert found['br0']['mtu'] is None
    assert found['br0']['type'] == 'bridge'
