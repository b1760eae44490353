# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PCI device records from the kernel's ``bus/pci/devices`` in /sys.

One record per PCI function: identity (vendor, device, subsystem, class), binding
(driver), placement (NUMA node, IOMMU group and its members), SR-IOV (capability,
VF counts, PF/VF links) and the network devices the function carries. The libvirt
node device parser returns records with the same keys (``source`` tells them apart),
so the two can be merged. ``None`` means the kernel did not expose the value; an
attribute that cannot be read never drops the device.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.sysfs import read_file

# Attributes read from every device directory: (file, record key, width of the id).
_ID_ATTRS = (
    ('vendor', 'vendor_id', 4),
    ('device', 'device_id', 4),
    ('subsystem_vendor', 'subsystem_vendor_id', 4),
    ('subsystem_device', 'subsystem_device_id', 4),
    ('class', 'class_id', 6),
)


def _hex_id(text, width):
    # vendor/device/class print as 0x%04x / 0x%06x, sriov_vf_device as bare %x.
    if not text:
        return None
    text = text.lower()
    if text.startswith('0x'):
        text = text[2:]
    try:
        int(text, 16)
    except ValueError:
        return None
    return text.zfill(width)


def _int(text):
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _link_name(path):
    """The last component of a symlink's target (``../../../bus/pci/drivers/ice``
    -> ``ice``), or None when there is no such link."""
    try:
        return os.readlink(path).rpartition('/')[2] or None
    except OSError:
        return None


def _netdevs(net_dir):
    try:
        names = sorted(os.listdir(net_dir))
    except OSError:
        return []
    netdevs = []
    for name in names:
        prefix = net_dir + '/' + name + '/'
        speed = _int(read_file(prefix + 'speed'))
        netdevs.append({
            'name': name,
            'mac': read_file(prefix + 'address'),
            'mtu': _int(read_file(prefix + 'mtu')),
            'link_state': read_file(prefix + 'operstate'),
            # Virtual and down links report -1 or refuse the read (EINVAL).
            'speed_mbps': speed if speed is not None and speed > 0 else None,
            # mlx5 (and drivers copying it) expose the devlink eswitch mode here;
            # others need devlink netlink, which a file reader cannot ask.
            'eswitch_mode': read_file(prefix + 'compat/devlink/mode'),
        })
    return netdevs


def _device_netdevs(prefix, names):
    if 'net' in names:
        return _netdevs(prefix + 'net')
    # virtio-net hangs its net/ under the virtio bus device (<pci>/virtio2/net/eth0).
    netdevs = []
    for name in names:
        if name.startswith('virtio') and name[6:].isdigit():
            netdevs.extend(_netdevs(prefix + name + '/net'))
    return netdevs


def _group_devices(groups_dir, group, cache):
    if group not in cache:
        try:
            cache[group] = sorted(os.listdir(groups_dir + str(group) + '/devices'))
        except OSError:
            cache[group] = None
    members = cache[group]
    return list(members) if members is not None else None


def _read_device(address, prefix, groups_dir, group_cache):
    try:
        names = set(os.listdir(prefix))
    except OSError:
        names = set()
    record = {'address': address}
    for attr, key, width in _ID_ATTRS:
        record[key] = _hex_id(read_file(prefix + attr), width)
    record['vendor_name'] = None
    record['device_name'] = None
    record['driver'] = _link_name(prefix + 'driver') if 'driver' in names else None
    numa_node = _int(read_file(prefix + 'numa_node'))
    record['numa_node'] = numa_node if numa_node is not None and numa_node >= 0 else None

    group = _int(_link_name(prefix + 'iommu_group')) if 'iommu_group' in names else None
    record['iommu_group'] = group
    record['iommu_group_devices'] = _group_devices(groups_dir, group, group_cache) if group is not None else None

    sriov_capable = 'sriov_totalvfs' in names
    record['sriov_capable'] = sriov_capable
    if sriov_capable:
        record['total_vfs'] = _int(read_file(prefix + 'sriov_totalvfs'))
        record['num_vfs'] = _int(read_file(prefix + 'sriov_numvfs'))
        record['vf_device_id'] = _hex_id(read_file(prefix + 'sriov_vf_device'), 4)
    else:
        record['total_vfs'] = record['num_vfs'] = record['vf_device_id'] = None
    record['physfn'] = _link_name(prefix + 'physfn') if 'physfn' in names else None
    record['vf_index'] = None
    virtfns = []
    for name in names if sriov_capable else ():
        if name.startswith('virtfn') and name[6:].isdigit():
            target = _link_name(prefix + name)
            if target is not None:
                virtfns.append((int(name[6:]), target))
    virtfns.sort()
    record['virtfns'] = dict(virtfns)
    record['netdevs'] = _device_netdevs(prefix, names)
    record['source'] = 'sysfs'
    return record


def read_pci_devices(root):
    """Every PCI function under ``<root>/bus/pci/devices``, sorted by address.

    None when the directory does not exist (no PCI bus, or /sys not mounted there).
    A VF's ``vf_index`` comes from its PF's ``virtfnN`` link, so it is only known
    when the PF is listed as well, as it always is on a real host.
    """
    devices_dir = os.path.join(root, 'bus', 'pci', 'devices')
    try:
        addresses = sorted(os.listdir(devices_dir))
    except OSError:
        return None
    groups_dir = os.path.join(root, 'kernel', 'iommu_groups') + '/'
    group_cache = {}
    records = []
    by_address = {}
    for address in addresses:
        record = _read_device(address.lower(), devices_dir + '/' + address + '/', groups_dir, group_cache)
        records.append(record)
        by_address[record['address']] = record
    for record in records:
        for index, vf_address in record['virtfns'].items():
            vf = by_address.get(vf_address)
            if vf is not None and vf['physfn'] == record['address']:
                vf['vf_index'] = index
    return records
