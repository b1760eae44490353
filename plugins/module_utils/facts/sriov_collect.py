# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reads the sources of ``ansible_facts.sriov`` and hands them to ``sriov.build_sriov``.

Each source is read on its own; one that fails adds ``{source, message}`` to
``errors`` and the others still count.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.domain_xml import parse_assigned_pci
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.iproute2 import parse_vf_info
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.libvirt_conn import libvirt_message
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.node_device import parse_pci_device
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.pci_ids import lookup_pci_names
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.pci_sysfs import read_iommu, read_pci_devices
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.procfs import HOST_USE_FILES, read_host_use
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.sysfs import root_problem, skipped_files, skipped_message
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.sriov import build_sriov, merge_records


def gather_sriov(sysfs_root=None, conn=None, ip_link_json=None, pci_ids_paths=None, proc_root=None):
    """``ansible_facts.sriov`` from whichever sources are given.

    ``sysfs_root``: read the PCI devices there (None: not this host). ``proc_root``: the
    same host's /proc, for the mounts, swap and routes that tell which devices the host
    uses (None: unknown). ``conn``: a libvirt connection for node devices and domain
    assignments. ``ip_link_json``: a callable returning ``ip -json -details link show``
    output, or None.
    """
    errors = []
    iommu = None

    def attempt(source, read):
        try:
            return read()
        except Exception as exc:  # every source is optional; its failure is reported
            errors.append({'source': source, 'message': libvirt_message(exc)})
            return None

    sysfs_records = None
    if sysfs_root is not None:
        problem = root_problem(sysfs_root)
        if problem:
            errors.append({'source': 'sysfs', 'message': '%s; set sysfs_root to where the host\'s /sys is mounted' % problem})
        else:
            with skipped_files() as skipped:
                sysfs_records = attempt('sysfs', lambda: read_pci_devices(sysfs_root))
                if sysfs_records is None and not errors:
                    errors.append({'source': 'sysfs', 'message': '%s/bus/pci/devices does not exist' % sysfs_root})
                iommu = attempt('sysfs', lambda: read_iommu(sysfs_root)) if sysfs_records is not None else None
            if skipped:
                errors.append({'source': 'sysfs', 'message': skipped_message(skipped)})
    host_use = None
    if proc_root is not None:
        problem = root_problem(proc_root, 'proc_root')
        if not problem:
            with skipped_files() as skipped:
                host_use = attempt('procfs', lambda: read_host_use(proc_root))
            if skipped:
                errors.append({'source': 'procfs', 'message': skipped_message(skipped, 'proc_root')})
        unread = sorted('%s/%s' % (proc_root, path) for key, path in HOST_USE_FILES.items()
                        if (host_use or {}).get(key) is None)
        if unread:
            errors.append({'source': 'procfs', 'message': '%scould not read %s; whether the host uses the devices '
                           'that carry interfaces or disks is unknown (is proc_root the host\'s /proc?)'
                           % (problem + ', so it ' if problem else '', ', '.join(unread))})
    libvirt_records = assignments = None
    if conn is not None:
        libvirt_records = attempt('libvirt_node_devices', lambda: _node_device_records(conn))
        assignments = attempt('libvirt_domains', lambda: _assignments(conn))
    records = merge_records(sysfs_records, libvirt_records)
    vf_settings = None
    if ip_link_json is not None and any(r.get('virtfns') for r in records.values()):
        vf_settings = attempt('iproute2', lambda: _vf_settings(ip_link_json(), records))
    pairs = set((r.get('vendor_id'), r.get('device_id')) for r in records.values())
    names = attempt('pci_ids', lambda: lookup_pci_names(pairs, pci_ids_paths) if pci_ids_paths
                    else lookup_pci_names(pairs))
    facts = build_sriov(records, assignments, vf_settings, names, iommu, host_use)
    facts['errors'] = errors
    return facts


def _node_device_records(conn):
    import libvirt  # only reached with a connection, which needs it anyway
    devices = conn.listAllDevices(libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV)
    return [record for record in (parse_pci_device(device.XMLDesc(0)) for device in devices) if record]


def _assignments(conn):
    assigned = {}
    for dom in conn.listAllDomains(0):
        for use in parse_assigned_pci(dom.XMLDesc(0)):
            assigned.setdefault(use['address'], use)
    return assigned


def _vf_settings(json_text, records):
    """VF settings keyed by PF address instead of PF interface name."""
    by_name = parse_vf_info(json_text)
    settings = {}
    for record in records.values():
        for netdev in record.get('netdevs') or []:
            if netdev.get('name') in by_name:
                settings[record['address']] = by_name[netdev['name']]
    return settings
