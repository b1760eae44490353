# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The concrete things of one host that VMs are given one by one: free SR-IOV virtual
functions, free PCI passthrough candidates and the CPUs of each NUMA cell.

Placement counts them (vm_hosts, placement_model); this module names them. vm_place hands
them out to the VMs of a batch on each host (``assign_batch``), so that no VF, device or
pinned CPU goes to two VMs, and records them in each placement; vm_domain_xml writes
those into the domain XML, or takes the first free ones itself when it has no placement.
Everything is chosen in a fixed order (PCI address, CPU number, VM name), so the same
facts and VMs always give the same devices.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.facts_input import as_list, dig
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_hosts import HUGEPAGE_SIZES_KB

PCI_ADDRESS_RE = re.compile(r'^([0-9a-fA-F]{4}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$')


def _pci_id(value):
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    return text[2:] if text.startswith('0x') else text


def vfs_wanted(vm):
    """How many SR-IOV VFs a resolved VM takes: its ``sriov_vfs`` and its resource
    class's ``SRIOV_NET_VF``, as placement counts them."""
    extra = (vm.get('resources') or {}).get('SRIOV_NET_VF') or 0
    return int((vm.get('sriov_vfs') or 0) + extra)


def needs_cells(vm):
    """Whether a resolved VM is bound to host NUMA cells (hugepages or dedicated CPUs),
    as placement_model.numa_demand decides."""
    return bool(HUGEPAGE_SIZES_KB.get(vm.get('hugepages')) or (vm.get('cpu') or {}).get('dedicated'))


class HostDevices(object):
    """What one host has left to hand out, from its facts (``libvirt_host_caps`` and
    ``sriov``), with what was handed out so far.

    A VF is free when no domain uses it (``assigned_to``) and nothing says it cannot be
    passed through (``candidate`` is not false); a device for ``pci_devices`` only when it
    is a passthrough candidate (``candidate: true``), as vm_validate counts them.
    ``owner``: a domain name whose own devices count as free (the VM being built again)."""

    def __init__(self, facts, sriov, owner=None):
        self.cells = {}
        for cell in as_list(dig(facts, 'memory_info', 'cells')):
            if isinstance(cell, dict) and isinstance(cell.get('id'), int) and isinstance(cell.get('cpus'), list):
                self.cells[cell['id']] = sorted(cpu for cpu in cell['cpus'] if isinstance(cpu, int) and not isinstance(cpu, bool))
        self.vfs, self.pci = [], []
        sriov = sriov if isinstance(sriov, dict) else {}
        for kind, entries in (('vf', sriov.get('virtual_functions')), ('pci', sriov.get('passthrough_devices'))):
            for device in as_list(entries):
                if not isinstance(device, dict) or not isinstance(device.get('address'), str):
                    continue
                if not PCI_ADDRESS_RE.match(device['address']):
                    continue
                assigned = device.get('assigned_to')
                if assigned and assigned != owner:
                    continue
                found = (0 if assigned else 1, device['address'].lower(), _pci_id(device.get('vendor_id')),
                         _pci_id(device.get('device_id')), device.get('candidate'))
                if kind == 'vf' and found[4] is not False:
                    self.vfs.append(found)
                if found[4] is True:
                    self.pci.append(found)
        # The owner's own devices first, then by address.
        self.vfs.sort()
        self.pci.sort()
        self.taken = set()
        self.cpus_taken = set()

    def take_pci(self, vendor, device, count):
        """``count`` free candidate addresses of ``vendor``:``device``; fewer when the
        host has no more."""
        found = []
        for dummy, address, vendor_id, device_id, candidate in self.pci:
            if len(found) == count:
                break
            if address not in self.taken and (vendor_id, device_id) == (vendor, device):
                found.append(address)
                self.taken.add(address)
        return found

    def take_vfs(self, count):
        """``count`` free VF addresses; fewer when the host has no more."""
        found = []
        for dummy, address, vendor_id, device_id, candidate in self.vfs:
            if len(found) == count:
                break
            if address not in self.taken:
                found.append(address)
                self.taken.add(address)
        return found

    def free_vfs(self):
        return len([entry for entry in self.vfs if entry[1] not in self.taken])

    def take_cpus(self, cell_id, count):
        """``count`` host CPUs of NUMA cell ``cell_id`` that no VM of the batch pins yet,
        lowest first; fewer when the cell has no more (or is unknown)."""
        found = []
        for cpu in self.cells.get(cell_id, ()):
            if len(found) == count:
                break
            if cpu not in self.cpus_taken:
                found.append(cpu)
                self.cpus_taken.add(cpu)
        return found


def take_devices(devices, vm):
    """``{'vfs': [...], 'pci': [...]}``: the VFs and passthrough devices ``vm`` gets from
    ``devices`` (a HostDevices). A list shorter than what the VM asks means the host has
    no more."""
    return {'pci': take_vm_pci(devices, vm), 'vfs': devices.take_vfs(vfs_wanted(vm))}


def take_vm_pci(devices, vm):
    found = []
    for wanted in vm.get('pci_devices') or ():
        found.extend(devices.take_pci(wanted['vendor'], wanted['device'], wanted.get('count') or 1))
    return found


def assign_batch(devices, placed):
    """Gives each VM of a batch placed on one host its own devices and pinned CPUs.

    ``placed``: ``[(resolved VM, placement entry)]`` of that host, in VM name order. Sets
    each entry's ``devices`` and, in each of its ``numa`` nodes, ``host_cpus``. Devices
    asked for by PCI id go first for the whole batch, so that a VM asking for any VF does
    not take the one another VM names by id."""
    pci = [take_vm_pci(devices, vm) for vm, entry in placed]
    for (vm, entry), found in zip(placed, pci):
        entry['devices'] = {'vfs': devices.take_vfs(vfs_wanted(vm)), 'pci': found}
        for node in entry.get('numa') or ():
            node['host_cpus'] = devices.take_cpus(node['host_cell'], node['pinned_cpus']) if node.get('pinned_cpus') else []
