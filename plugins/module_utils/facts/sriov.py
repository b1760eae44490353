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
    fills what the earlier ones could not tell. ``sources`` lists who told about it."""
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
            if record['source'] not in current['sources']:
                current['sources'].append(record['source'])
    for record in list(merged.values()):
        for index, vf_address in (record.get('virtfns') or {}).items():
            vf = merged.get(vf_address)
            if vf is not None:
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


def build_sriov(records, assignments=None, vf_settings=None, names=None):
    """``ansible_facts.sriov`` from merged records.

    ``assignments``: address -> ``{domain, mac, vlan}`` of the domain that uses it, or
    None when no domain was read (then ``assigned_to`` and ``free_vfs`` are unknown). ``vf_settings``: PF address ->
    {vf index -> {mac, vlan, trust, spoofchk}} from iproute2. ``names``:
    (vendor_id, device_id) -> (vendor_name, device_name) from pci.ids.
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
            'sources': record['sources'],
        }

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
            'pci_express': record.get('pci_express'),
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
            'passthrough_ready': record.get('driver') == 'vfio-pci',
            'interface': netdevs[0]['name'] if netdevs else None,
            'mac': settings.get('mac') or use.get('mac') or (netdevs[0].get('mac') if netdevs else None),
            'vlan': settings.get('vlan') or use.get('vlan'),
            'trust': settings.get('trust'),
            'spoofchk': settings.get('spoofchk'),
            'assigned_to': assigned(record['address']),
        })
        virtual_functions.append(entry)

    passthrough_devices = []
    for record in others:
        entry = identity(record)
        entry.update({
            'kind': passthrough_kind(record.get('class_id')),
            'iommu_group_viable': group_viable(record, records),
            'assigned_to': assigned(record['address']),
        })
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
            'max_vfs': sum(pf['total_vfs'] or 0 for pf in physical_functions),
            'total_vfs': len(virtual_functions),
            'free_vfs': len([vf for vf in virtual_functions if not vf['assigned_to']]) if known else None,
            'assignments_known': known,
            'passthrough_by_vendor': by_vendor,
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
