# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PCI device records from the kernel's ``bus/pci/devices`` in /sys.

One record per PCI function: identity (vendor, device, subsystem, class), binding
(driver), placement (NUMA node, IOMMU group and its members), the PCIe link,
SR-IOV (capability, VF counts, PF/VF links), and the network and block devices the
function carries, which tell whether the host uses it. The libvirt
node device parser returns records with the same keys (``source`` tells them apart),
so the two can be merged. ``None`` means the kernel did not expose the value; an
attribute that cannot be read never drops the device.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

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


_PCI_ADDRESS = re.compile(r'^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$')
# IFF_UP in include/uapi/linux/if.h: the interface is administratively up.
_IFF_UP = 0x1


def _int(text):
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _hex_int(text):
    try:
        return int(text, 16) if text else None
    except ValueError:
        return None


def _gts(text):
    """``8.0 GT/s PCIe`` (or ``8 GT/s`` before Linux 5.4) -> 8.0; ``Unknown`` -> None."""
    try:
        return float(text.split()[0]) or None
    except (AttributeError, IndexError, ValueError):
        return None


def _pcie_link(prefix, names):
    """The link from ``max_link_speed``/``max_link_width`` (what the device and its
    slot can do) and ``current_link_*`` (what was trained). Functions without a PCIe
    link (integrated endpoints, VFs) have no such files or read Unknown and 0."""
    if 'max_link_speed' not in names and 'current_link_speed' not in names:
        return None
    link = {
        'max_speed_gts': _gts(read_file(prefix + 'max_link_speed')),
        'max_width': _int(read_file(prefix + 'max_link_width')) or None,
        'speed_gts': _gts(read_file(prefix + 'current_link_speed')),
        'width': _int(read_file(prefix + 'current_link_width')) or None,
        # sysfs does not say which port of the link the function is.
        'port': None,
    }
    return link if any(value is not None for value in link.values()) else None


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
        flags = _hex_int(read_file(prefix + 'flags'))
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
            'admin_up': None if flags is None else bool(flags & _IFF_UP),
            # A bridge or bond port: the host uses it through its master.
            'master': _link_name(prefix + 'master'),
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
    record['block_devices'] = []
    # Only VGA-class functions have boot_vga; 1 marks the one the firmware drew the console on.
    boot_vga = read_file(prefix + 'boot_vga') if 'boot_vga' in names else None
    record['boot_vga'] = None if boot_vga is None else boot_vga == '1'
    record['pcie_link'] = _pcie_link(prefix, names)
    record['source'] = 'sysfs'
    return record


def _block_device(path, name):
    holders = path + '/holders'
    try:
        held_by = sorted(os.listdir(holders))
    except OSError:
        held_by = None
    return {'name': name, 'dev': read_file(path + '/dev'), 'holders': held_by}


def _block_devices(root):
    """``{pci address: [disk]}`` for every disk in ``block`` whose device path runs
    through a PCI function; a disk belongs to the deepest one (the controller, not the
    bridges above it). Each disk lists its partitions, each with its own holders."""
    block_dir = os.path.join(root, 'block')
    try:
        names = sorted(os.listdir(block_dir))
    except OSError:
        return {}
    by_address = {}
    for name in names:
        path = os.path.realpath(os.path.join(block_dir, name))
        addresses = [part for part in path.split('/') if _PCI_ADDRESS.match(part)]
        if not addresses:
            continue
        disk = _block_device(path, name)
        try:
            children = sorted(os.listdir(path))
        except OSError:
            children = []
        disk['partitions'] = [_block_device(path + '/' + child, child) for child in children
                              if os.path.exists(path + '/' + child + '/partition')]
        by_address.setdefault(addresses[-1], []).append(disk)
    return by_address


def read_iommu(root):
    """``{groups}``: how many IOMMU groups the kernel made (``kernel/iommu_groups``), None
    when that directory does not exist.

    The groups decide whether the host has a working IOMMU: the kernel makes them only
    while an IOMMU driver runs, whatever the firmware tables say, and VFIO needs them.
    ``class/iommu`` is not asked, since not every IOMMU driver registers a unit there.
    Groups named ``vfio-noiommu`` are VFIO's unsafe no-IOMMU mode, which isolates nothing
    and which libvirt does not use; they do not count."""
    groups_dir = os.path.join(root, 'kernel', 'iommu_groups')
    try:
        groups = [name for name in os.listdir(groups_dir)
                  if read_file(os.path.join(groups_dir, name, 'name')) != 'vfio-noiommu']
    except OSError:
        return {'groups': None}
    return {'groups': len(groups)}


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
    for address, disks in _block_devices(root).items():
        if address in by_address:
            by_address[address]['block_devices'] = disks
    for record in records:
        for index, vf_address in record['virtfns'].items():
            vf = by_address.get(vf_address)
            if vf is not None and vf['physfn'] == record['address']:
                vf['vf_index'] = index
    return records
