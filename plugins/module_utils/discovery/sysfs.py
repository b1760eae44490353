# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readers for the host facts that only the kernel's /sys tells.

Every function takes the sysfs root (``/sys`` normally, another path when the host's
/sys is mounted into a container) and returns plain data; ``None`` means the kernel
did not expose the value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os


def read_file(path):
    """The stripped text of one attribute file, or None when it cannot be read.

    sysfs attributes are at most a page; os.open/os.read avoid the text layer of
    open(), which costs more than the read itself on a tree of hundreds of VFs.
    Reads fail in more ways than a missing file: ``speed`` of a down link raises
    EINVAL, some drivers refuse attributes with EPERM or EOPNOTSUPP.
    """
    try:
        handle = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        data = os.read(handle, 8192)
    except OSError:
        return None
    finally:
        os.close(handle)
    try:
        return data.strip().decode('ascii')
    except UnicodeDecodeError:
        return None


def read_attr(root, *parts):
    """The stripped content of one sysfs attribute, or None when it cannot be read."""
    return read_file(os.path.join(root, *parts))


def _int_attr(root, *parts):
    value = read_attr(root, *parts)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def read_ksm(root):
    """Kernel samepage merging state from ``kernel/mm/ksm``."""
    base = os.path.join(root, 'kernel', 'mm', 'ksm')
    if not os.path.isdir(base):
        return None
    run = _int_attr(base, 'run')
    merge_across_nodes = _int_attr(base, 'merge_across_nodes')
    return {
        # run: 0 stopped, 1 running, 2 stopped and unmerged
        'run': run,
        'enabled': None if run is None else run == 1,
        'pages_shared': _int_attr(base, 'pages_shared'),
        'pages_sharing': _int_attr(base, 'pages_sharing'),
        'merge_across_nodes': None if merge_across_nodes is None else merge_across_nodes == 1,
    }


def count_iommu_groups(root):
    """Number of IOMMU groups in ``kernel/iommu_groups``; 0 when the IOMMU is off."""
    base = os.path.join(root, 'kernel', 'iommu_groups')
    if not os.path.isdir(base):
        return None
    return len([name for name in os.listdir(base) if name.isdigit()])


def read_kvm_nested(root):
    """Nested virtualization from the ``nested`` parameter of kvm_intel or kvm_amd."""
    for module in ('kvm_intel', 'kvm_amd'):
        value = read_attr(root, 'module', module, 'parameters', 'nested')
        if value is not None:
            return {'module': module, 'enabled': value.upper() in ('Y', '1')}
    return None


def read_net_interfaces(root):
    """Host network interfaces from ``class/net``: kind, MAC, state, MTU, members."""
    base = os.path.join(root, 'class', 'net')
    if not os.path.isdir(base):
        return None
    interfaces = []
    for name in sorted(os.listdir(base)):
        path = os.path.join(base, name)
        operstate = read_attr(path, 'operstate')
        interfaces.append({
            'name': name,
            'type': _net_kind(path),
            'mac': read_attr(path, 'address'),
            'active': None if operstate is None else operstate in ('up', 'unknown'),
            'mtu': _int_attr(path, 'mtu'),
            'members': _members(path),
            'vlan_tag': None,
            'speed_mbps': _speed(path),
            'source': 'sysfs',
        })
    return interfaces


def _speed(path):
    # Virtual and down links report -1 or refuse the read.
    speed = _int_attr(path, 'speed')
    return speed if speed is not None and speed > 0 else None


def _net_kind(path):
    if os.path.isdir(os.path.join(path, 'bridge')):
        return 'bridge'
    if os.path.isdir(os.path.join(path, 'bonding')):
        return 'bond'
    uevent = read_attr(path, 'uevent') or ''
    for line in uevent.splitlines():
        if line.startswith('DEVTYPE='):
            return {'vlan': 'vlan', 'bridge': 'bridge', 'bond': 'bond'}.get(line[8:], line[8:])
    if read_attr(path, 'type') == '772':
        return 'loopback'
    if os.path.exists(os.path.join(path, 'device')):
        return 'ethernet'
    return 'virtual'


def _members(path):
    brif = os.path.join(path, 'brif')
    if os.path.isdir(brif):
        return sorted(os.listdir(brif))
    slaves = read_attr(path, 'bonding', 'slaves')
    if slaves is not None:
        return sorted(slaves.split())
    return []
