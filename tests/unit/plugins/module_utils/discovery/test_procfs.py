# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the host uses, from fake /proc trees in the kernel's formats (see
tests/unit/sysfs_trees.py, ProcTree)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.procfs import (
    read_host_use, read_ipv6_address_interfaces, read_mounts, read_routes, read_swaps,
)
from ansible_collections.virtumancer.hostcaps.tests.unit.sysfs_trees import ProcTree


def test_mounts_with_device_numbers_and_escaped_paths(tmp_path):
    proc = ProcTree(tmp_path)
    proc.mount('/dev/vda', '254:0', '/')
    proc.mount('/dev/nvme0n1p2', '0:45', '/srv/my data', fstype='btrfs')
    mounts = read_mounts(proc.root)
    assert mounts[-2:] == [{'dev': '254:0', 'source': '/dev/vda', 'mount_point': '/'},
                           {'dev': '0:45', 'source': '/dev/nvme0n1p2', 'mount_point': '/srv/my data'}]
    assert mounts[0] == {'dev': '0:21', 'source': 'proc', 'mount_point': '/proc'}


def test_swaps_skip_the_header(tmp_path):
    proc = ProcTree(tmp_path)
    assert read_swaps(proc.root) == []
    proc.swap('/dev/nvme0n1p3')
    proc.swap('/swapfile', kind='file')
    assert read_swaps(proc.root) == ['/dev/nvme0n1p3', '/swapfile']


def test_default_route_and_other_routes_per_interface(tmp_path):
    proc = ProcTree(tmp_path)
    proc.route('eth0')
    proc.route('eth1', destination='000010AC', gateway='00000000', mask='0000FFFF')
    assert read_routes(proc.root) == {'eth0': True, 'eth1': False, 'lo': False}


def test_ipv6_default_route_counts_and_reject_routes_do_not(tmp_path):
    proc = ProcTree(tmp_path)
    with open(os.path.join(proc.root, 'net', 'ipv6_route'), 'w') as handle:
        handle.write(
            '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 '
            '00000400 00000002 00000000 00000003     eth0\n'
            '00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 '
            'ffffffff 00000001 00000000 00200200       lo\n')
    assert read_routes(proc.root) == {'eth0': True}


def test_kernel_without_ipv6_has_no_ipv6_routes_or_addresses(tmp_path):
    proc = ProcTree(tmp_path)
    proc.route('eth0')
    os.remove(os.path.join(proc.root, 'net', 'ipv6_route'))
    os.remove(os.path.join(proc.root, 'net', 'if_inet6'))
    assert read_routes(proc.root) == {'eth0': True}
    assert read_ipv6_address_interfaces(proc.root) == []


def test_ipv6_addresses_per_interface(tmp_path):
    proc = ProcTree(tmp_path)
    proc.address6('eth0')
    assert read_ipv6_address_interfaces(proc.root) == ['eth0', 'lo']


def test_missing_proc_is_unknown_not_empty(tmp_path):
    assert read_host_use(str(tmp_path / 'nothing')) == {
        'mounts': None, 'swaps': None, 'routes': None, 'ipv6_address_interfaces': None}


def test_this_machines_proc_reads(tmp_path):
    # Whatever the host, its own /proc is readable and / is mounted.
    use = read_host_use('/proc')
    assert '/' in [mount['mount_point'] for mount in use['mounts']]
    assert isinstance(use['routes'], dict) and isinstance(use['swaps'], list)
