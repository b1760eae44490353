# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Builds ``ansible_facts.sriov`` from PCI device records.

The records come from sysfs (``pci_sysfs.read_pci_devices``) and from libvirt node
devices (``node_device.parse_pci_device``), with the same keys; assignments come from
domain XML (``domain_xml.parse_assigned_pci``) and VF settings from iproute2
(``iproute2.parse_vf_info``). This file only merges and classifies.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

VFIO_DRIVERS = ('vfio-pci', 'pci-stub')
# PCI base classes (the first byte of the class code)
CLASS_NETWORK = '02'
CLASS_DISPLAY = '03'
CLASS_BRIDGE = '06'
CLASS_ACCELERATOR = '12'
CLASS_NVME = '0108'
_EMPTY = (None, [], {})


def merge_records(*sources):
    """One record per PCI address. A value from an earlier source wins; a later source
    fills what the earlier ones could not tell. ``sources`` lists who told about it.

    A VF that only its PF's document names (its own node device XML was not given)
    gets a record of its own with its address, PF and index, the PF's ``sources``, and
    every other value unknown (``known_from_pf``)."""
    merged = {}
    for records in sources:
        for record in records or []:
            current = merged.get(record['address'])
            if current is None:
                current = merged[record['address']] = dict(record, sources=[])
                current.pop('source', None)
            else:
                for key, value in record.items():
                    if key != 'source' and current.get(key) in _EMPTY and value not in _EMPTY:
                        current[key] = value
                    elif key == 'pcie_link' and current.get(key) and value:
                        # sysfs knows no port number, libvirt does.
                        current[key] = dict(value, **dict((k, v) for k, v in current[key].items() if v is not None))
            if record['source'] not in current['sources']:
                current['sources'].append(record['source'])
    for record in list(merged.values()):
        for index, vf_address in (record.get('virtfns') or {}).items():
            vf = merged.get(vf_address)
            if vf is None:
                vf = merged[vf_address] = {'address': vf_address, 'sources': list(record['sources']),
                                           'known_from_pf': True}
            vf['physfn'] = vf.get('physfn') or record['address']
            if vf.get('vf_index') is None:
                vf['vf_index'] = int(index)
    return merged


def passthrough_kind(class_id):
    if not class_id:
        return None
    if class_id.startswith(CLASS_NVME):
        return 'nvme'
    return {CLASS_DISPLAY: 'gpu', CLASS_NETWORK: 'network', CLASS_ACCELERATOR: 'accelerator'}.get(class_id[:2])


def build_sriov(records, assignments=None, vf_settings=None, names=None, iommu=None, host_use=None):
    """``ansible_facts.sriov`` from merged records.

    ``assignments``: address -> ``{domain, mac, vlan}`` of the domain that uses it, or
    None when no domain was read (then ``assigned_to`` and ``free_vfs`` are unknown). ``vf_settings``: PF address ->
    {vf index -> {mac, vlan, trust, spoofchk}} from iproute2. ``names``:
    (vendor_id, device_id) -> (vendor_name, device_name) from pci.ids. ``iommu``:
    ``pci_sysfs.read_iommu`` of the host, None when its /sys was not read. ``host_use``:
    ``procfs.read_host_use`` of the host, None when its /proc was not read; without
    them, whether a device is a passthrough candidate may be unknown.
    """
    names = names or {}
    vf_settings = vf_settings or {}
    known = assignments is not None
    assignments = assignments or {}
    pfs, vfs, others = [], [], []
    for address in sorted(records):
        record = records[address]
        if record.get('physfn'):
            vfs.append(record)
        elif record.get('sriov_capable') or record.get('virtfns'):
            pfs.append(record)
        elif passthrough_kind(record.get('class_id')):
            others.append(record)

    def identity(record):
        vendor_name, device_name = names.get((record.get('vendor_id'), record.get('device_id')), (None, None))
        return {
            'address': record['address'],
            'vendor_id': record.get('vendor_id'),
            'device_id': record.get('device_id'),
            'vendor_name': record.get('vendor_name') or vendor_name,
            'device_name': record.get('device_name') or device_name,
            'class_id': record.get('class_id'),
            'driver': record.get('driver'),
            'numa_node': record.get('numa_node'),
            'iommu_group': record.get('iommu_group'),
            'pcie_link': record.get('pcie_link'),
            'sources': record['sources'],
        }

    iommu_active = None if iommu is None or iommu.get('groups') is None else iommu['groups'] > 0

    def candidacy(record):
        candidate, reason, peers = passthrough_verdict(record, records, iommu_active, host_use)
        return {'candidate': candidate, 'reason': reason, 'iommu_group_peers': peers}

    def assigned(address):
        return assignments.get(address, {}).get('domain') if known else None

    physical_functions = []
    for record in pfs:
        netdevs = record.get('netdevs') or []
        first = netdevs[0] if netdevs else {}
        entry = identity(record)
        entry.update({
            'total_vfs': record.get('total_vfs'),
            'num_vfs': record.get('num_vfs') if record.get('num_vfs') is not None else (
                len(record['virtfns']) if record.get('virtfns') else None),
            'vf_device_id': record.get('vf_device_id'),
            'interfaces': netdevs,
            'interface': first.get('name'),
            'mac': first.get('mac'),
            'mtu': first.get('mtu'),
            'link_state': first.get('link_state'),
            'speed_mbps': first.get('speed_mbps'),
            'eswitch_mode': first.get('eswitch_mode'),
        })
        physical_functions.append(entry)

    virtual_functions = []
    for record in vfs:
        netdevs = record.get('netdevs') or []
        settings = vf_settings.get(record['physfn'], {}).get(record.get('vf_index'), {})
        # The domain's <interface type='hostdev'> names the MAC and VLAN it gives the VF.
        use = assignments.get(record['address'], {})
        entry = identity(record)
        entry.update({
            'pf_address': record['physfn'],
            'vf_index': record.get('vf_index'),
            'passthrough_ready': None if record.get('known_from_pf') else record.get('driver') == 'vfio-pci',
            'interface': netdevs[0]['name'] if netdevs else None,
            'mac': settings.get('mac') or use.get('mac') or (netdevs[0].get('mac') if netdevs else None),
            'vlan': settings.get('vlan') or use.get('vlan'),
            'trust': settings.get('trust'),
            'spoofchk': settings.get('spoofchk'),
            'assigned_to': assigned(record['address']),
        })
        entry.update(candidacy(record))
        virtual_functions.append(entry)

    passthrough_devices = []
    for record in others:
        entry = identity(record)
        entry.update({
            'kind': passthrough_kind(record.get('class_id')),
            'iommu_group_viable': group_viable(record, records),
            'assigned_to': assigned(record['address']),
        })
        entry.update(candidacy(record))
        passthrough_devices.append(entry)

    by_vendor = {}
    for device in passthrough_devices:
        vendor = device['vendor_name'] or device['vendor_id'] or 'unknown'
        by_vendor[vendor] = by_vendor.get(vendor, 0) + 1
    return {
        'physical_functions': physical_functions,
        'virtual_functions': virtual_functions,
        'passthrough_devices': passthrough_devices,
        'summary': {
            'capable': bool(physical_functions),
            'configured': bool(virtual_functions),
            # A PF whose VF limit is unknown (older libvirt prints no maxCount)
            # leaves the sum unknown too.
            'max_vfs': None if any(pf['total_vfs'] is None for pf in physical_functions)
            else sum(pf['total_vfs'] for pf in physical_functions),
            'total_vfs': len(virtual_functions),
            # Free: a VM may be given it, so no domain uses it and the host does not either.
            'free_vfs': len([vf for vf in virtual_functions if not vf['assigned_to'] and vf.get('candidate') is not False])
            if known else None,
            'assignments_known': known,
            'passthrough_by_vendor': by_vendor,
            'passthrough_candidates': len([d for d in passthrough_devices if d['candidate'] is True]),
            'iommu_active': iommu_active,
            'iommu_groups': None if iommu is None else iommu.get('groups'),
        },
    }


def group_viable(record, records):
    """Every device of the IOMMU group is bound to vfio-pci or pci-stub, or is a bridge.

    None when the group or one of its members cannot be judged."""
    members = record.get('iommu_group_devices')
    if record.get('iommu_group') is None or not members:
        return None
    verdict = True
    for address in members:
        member = records.get(address)
        if member is None or (member.get('class_id') is None and member.get('driver') is None):
            verdict = None
            continue
        if (member.get('class_id') or '').startswith(CLASS_BRIDGE):
            continue
        if member.get('driver') not in VFIO_DRIVERS:
            return False
    return verdict


NO_IOMMU = ('the host has no IOMMU: the kernel made no IOMMU groups (turn on VT-d or AMD-Vi in the firmware '
            'and boot with intel_iommu=on or amd_iommu=on)')


def _names(path, name):
    """True when ``path`` is ``/dev/<name>``."""
    return bool(path) and path.startswith('/dev/') and path.rpartition('/')[2] == name


def _disk_uses(disk, mounts, swaps):
    """What the host does with one disk and its partitions; None when unknown."""
    uses = []
    for part in [disk] + list(disk.get('partitions') or []):
        what = 'disk %s' % part['name'] if part is disk else 'partition %s' % part['name']
        # The device number names the disk for most file systems; btrfs gives an
        # anonymous 0:N there, so the source path counts too.
        points = [m['mount_point'] for m in mounts or []
                  if (part.get('dev') and m['dev'] == part['dev']) or _names(m.get('source'), part['name'])]
        if points:
            uses.append('%s is mounted on %s' % (what, ', '.join(sorted(set(points)))))
        if any(_names(name, part['name']) for name in swaps or []):
            uses.append('%s is in use as swap' % what)
        # A holder (device-mapper, md, bcache) is built on it: LVM, RAID or encryption in use.
        if part.get('holders'):
            uses.append('%s is held by %s' % (what, ', '.join(part['holders'])))
    if uses or (mounts is not None and swaps is not None):
        return uses
    return None


def _netdev_uses(netdev, routes, ipv6):
    """What makes the host use one network interface; None when unknown."""
    uses = []
    up = netdev.get('admin_up')
    if up is None and netdev.get('link_state') == 'up':
        up = True
    if up:
        uses.append('is up')
    if ipv6 is not None and netdev['name'] in ipv6:
        uses.append('has IPv6 addresses')
    if routes is not None and netdev['name'] in routes:
        uses.append('carries the default route' if routes[netdev['name']] else 'carries routes')
    if netdev.get('master'):
        uses.append('is a port of %s' % netdev['master'])
    if uses:
        return ['interface %s %s' % (netdev['name'], _and(uses))]
    if up is None or routes is None or ipv6 is None:
        return None
    return []


def _and(parts):
    return parts[0] if len(parts) == 1 else '%s and %s' % (', '.join(parts[:-1]), parts[-1])


def host_uses(record, host_use):
    """What the host itself uses on a PCI function: a list of phrases, [] for nothing,
    None when that cannot be told.

    A function bound to vfio-pci or pci-stub, or to no driver, carries nothing for the
    host. Otherwise only a sysfs record lists its interfaces and disks, and /proc
    (``host_use``) says which of them are up, routed, mounted or swap."""
    driver = record.get('driver')
    if record.get('known_from_pf'):
        return None
    if driver in VFIO_DRIVERS or (driver is None and record.get('sources')):
        return []
    if 'sysfs' not in (record.get('sources') or ()):
        return None
    host_use = host_use or {}
    uses, unknown = [], False
    if record.get('boot_vga'):
        uses.append('it is the boot VGA device, which shows the host console')
    for netdev in record.get('netdevs') or []:
        found = _netdev_uses(netdev, host_use.get('routes'), host_use.get('ipv6_address_interfaces'))
        unknown = unknown or found is None
        uses.extend(found or [])
    for disk in record.get('block_devices') or []:
        found = _disk_uses(disk, host_use.get('mounts'), host_use.get('swaps'))
        unknown = unknown or found is None
        uses.extend(found or [])
    return None if unknown and not uses else uses


def passthrough_verdict(record, records, iommu_active, host_use):
    """``(candidate, reason, peers)``: whether a VM may be given this function without
    taking something from the host, and if not, or if that is unknown, why.

    All must hold: the host has an IOMMU; the function is in an IOMMU group; the host
    uses nothing on it (``host_uses``); every other member of the group is a bridge or
    also unused by the host. ``peers`` are the group's other members that are not
    bridges: VFIO hands a group to one VM only, so they go to the same VM (or stay on
    vfio-pci). ``reason`` is None for a candidate."""
    if record.get('known_from_pf'):
        return None, ('only the document of its PF %s names it; its driver, IOMMU group and use by the host are '
                      'unknown (give its own node device XML as well)' % record['physfn']), None
    blockers, unknowns = [], []
    group = record.get('iommu_group')
    if iommu_active is False:
        blockers.append(NO_IOMMU)
    elif group is None:
        blockers.append('it is in no IOMMU group, so VFIO cannot isolate it (is the IOMMU on?)')

    uses = host_uses(record, host_use)
    if uses is None:
        unknowns.append('whether the host uses it is unknown: only %s told about it, which does not say which '
                        'interfaces and disks the host uses (run virtumancer.hostcaps.sriov_facts on the host)'
                        % ', '.join(record.get('sources') or ['nothing']))
    elif uses:
        blockers.append('the host uses it: %s' % '; '.join(uses))

    peers = None
    members = record.get('iommu_group_devices')
    if group is not None and members is not None:
        peers = []
        for address in members:
            if address == record['address']:
                continue
            member = records.get(address)
            if member is None:
                peers.append(address)
                unknowns.append('IOMMU group %s also holds %s, which was not read' % (group, address))
                continue
            if (member.get('class_id') or '').startswith(CLASS_BRIDGE):
                continue
            peers.append(address)
            member_uses = host_uses(member, host_use)
            if member_uses is None:
                unknowns.append('IOMMU group %s also holds %s, and whether the host uses that is unknown' % (group, address))
            elif member_uses:
                blockers.append('IOMMU group %s also holds %s, which the host uses: %s' % (group, address, '; '.join(member_uses)))
    elif group is not None:
        unknowns.append('the members of IOMMU group %s are unknown' % group)

    if blockers:
        return False, '; '.join(blockers), peers
    if unknowns:
        return None, '; '.join(unknowns), peers
    return True, None, peers
