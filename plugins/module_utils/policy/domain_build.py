# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The libvirt domain XML of a VM definition on the host chosen for it; the engine behind
the ``vm_domain_xml`` filter (docs/domain-xml.md). Not to be confused with
discovery/domain_xml.py, which reads the XML of domains that exist.

Two steps, as everywhere in policy/:

1. ``plan`` decides. The VM is resolved and checked against the host exactly as
   vm_validate does it (vm_spec, vm_hosts): a requirement the host fails is an error
   naming the field, never XML that libvirt would refuse. Then it reads from the host's
   facts every value the XML needs: the versioned machine type, the emulator, the
   firmware and TPM the domain capabilities offer, SEV's cbitpos, the disks' volume
   format, the free VFs and passthrough devices and the host CPUs of the NUMA cells
   (host_devices, or what vm_place recorded for the VM), and the VM's QoS policy in
   libvirt's names (qos.qos_tuning, after qos's checks of its interfaces).
2. ``build_domain`` writes, one small function per element, as virt-manager's virtinst
   does: every function only writes down what the plan holds. ``build_volume`` writes
   the storage volume of a disk from the same plan (the ``vm_domain_volumes`` filter),
   so the volumes a role creates are those the domain names.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import uuid

from collections.abc import Mapping

try:
    from lxml import etree
except ImportError:  # the filter says what to install
    etree = None

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.facts_input import as_list, dig, unwrap_host_facts
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import describe, short_repr, type_name
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.host_devices import (
    PCI_ADDRESS_RE, HostDevices, needs_cells, take_devices, vfs_wanted,
)
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.placement_model import HostState, Item, Policy, fit_cells
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.qos import (
    BANDWIDTH_DIRECTIONS, BANDWIDTH_FIELDS, CPUTUNE_PARAMETERS, IOTUNE_FIELDS, MEMTUNE_FIELDS, interface_bandwidth_problems,
    qos_tuning,
)
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_hosts import (
    FAIL, HUGEPAGE_SIZES_KB, TPM_MODELS_FOR_VERSION, X86_ARCHES, compile_request, evaluate_all, machine_family,
)
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_spec import NAME_RE
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_validate import InputError, check_input

# SEV guest policy bits (AMD SEV API, "Guest Policy"): NODBG 0x1, NOKS 0x2, ES 0x4,
# NOSEND 0x8, DOMAIN 0x10, SEV 0x20. No debugging, no key sharing, and the guest may move
# only to machines of the same platform domain that have SEV. SEV-ES adds the ES bit.
SEV_POLICY = 0x0033
SEV_ES_POLICY = 0x0037
# SEV-SNP guest policy (AMD SEV-SNP ABI, "GUEST_POLICY"): bit 17 must be one, bit 16
# allows SMT; debugging (bit 19) and migration agents (bit 18) stay off. QEMU's default.
SEV_SNP_POLICY = 0x00030000
# TDX TD attributes: bit 28 SEPT_VE_DISABLE, debug (bit 0) off. QEMU's default.
TDX_POLICY = 0x10000000
LAUNCH_TYPES = {'sev': 'sev', 'sev-es': 'sev', 'sev-snp': 'sev-snp', 'tdx': 'tdx'}
# SEV-ES, SEV-SNP and TDX protect the CPU state too: QEMU gives them no System Management
# Mode, which Secure Boot's variable store needs; their firmware runs without NVRAM.
STATE_PROTECTED = ('sev-es', 'sev-snp', 'tdx')
STATELESS_FIRMWARE = ('sev-snp', 'tdx')

# The device name prefix libvirt and the guest kernels use per disk bus.
DISK_PREFIXES = {'virtio': 'vd', 'scsi': 'sd', 'sata': 'sd', 'usb': 'sd', 'ide': 'hd', 'fdc': 'fd', 'xen': 'xvd'}
# The volume formats libvirt's storage drivers create and QEMU reads as a driver type.
VOLUME_FORMATS = ('raw', 'qcow2', 'qed', 'vmdk', 'vdi', 'vpc', 'vhdx', 'cloop', 'dmg', 'bochs', 'iso')
# The pool types whose volumes are files, where an <allocation> of 0 makes a sparse file
# that takes room as the guest writes. Elsewhere libvirt allocates the capacity in full:
# an allocation below it would mean something else (a thin snapshot on LVM).
SPARSE_POOL_TYPES = ('dir', 'fs', 'netfs')
# QEMU's OUI: libvirt gives guests MAC addresses under it too.
MAC_PREFIX = '52:54:00'
# Stable UUIDs: the same VM name always gives the same domain UUID, so that defining it
# again updates the domain instead of clashing with it.
UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, 'https://galaxy.ansible.com/ui/repo/published/virtumancer/hostcaps/')
# The outcomes of vm_hosts that leave a value of the XML unknown: the other unknowns
# (free hugepages, pool room, network state) do not change what is written.
NEEDED_FROM_FACTS = ('efi_unavailable', 'secure_boot_unavailable', 'tpm_unsupported', 'memory_encryption_unsupported')
# How messages name a host given as bare facts, without a name anywhere (host_name= names it).
UNNAMED = 'unnamed'
# Shown of a VM's own problems in one error.
PROBLEMS_SHOWN = 5


class BuildError(InputError):
    """The VM cannot be written as a domain of that host; the message names the field."""


class Plan(object):
    """Everything the writers read: the resolved VM and what the host's facts decide."""

    __slots__ = ('vm', 'host', 'view', 'arch', 'machine', 'domcaps', 'emulator', 'disks', 'pool_types', 'vfs', 'pci', 'nodes',
                 'topology', 'pinned', 'qos', 'tpm_model', 'cbitpos', 'reduced_phys_bits', 'gic_version')


# -- deciding ---------------------------------------------------------------------------


def plan(vm, host, catalog=None, placement=None, host_name=None):
    """The ``Plan`` of ``vm`` (a VM definition as vm_validate takes it) on ``host``
    (hostvars[host], its ansible_facts or the bare libvirt_host_caps). Raises
    BuildError (or InputError for arguments of the wrong shape)."""
    if host is None:
        raise InputError('host is required: pass hostvars[host] (or its ansible_facts) of the host the VM goes to')
    if not isinstance(host, Mapping):
        raise InputError('host must be the facts of one host (hostvars[host] or its ansible_facts), got %s' % type_name(host))
    if host_name is not None and not isinstance(host_name, str):
        raise InputError('host_name must be a string, got %s' % describe(host_name))
    raw_name = vm.get('name') if isinstance(vm, Mapping) else None
    entry = _placement_entry(placement, raw_name)
    name = host_name or _host_name(host, entry)
    if entry is not None and name != entry['host'] and (host_name or isinstance(host.get('inventory_hostname'), str)):
        raise BuildError("vm %s: placement: vm_place put it on host %s, but host= holds the facts of %s; pass "
                         "hostvars[placement host]" % (short_repr(raw_name), short_repr(entry['host']), short_repr(name)))
    checked = check_input([vm], catalog, {name: host})
    if checked.index is None:
        raise BuildError('; '.join(p['message'] for p in checked.problems if p['field'] == 'hosts.%s' % name))
    errors = [p for p in checked.problems if p['severity'] == 'error']
    if errors:
        label = raw_name if isinstance(raw_name, str) and NAME_RE.match(raw_name) else None
        raise BuildError('%s cannot be written as a domain: %s%s' % (
            "vm '%s'" % label if label else 'the VM', '; '.join(p['message'] for p in errors[:PROBLEMS_SHOWN]),
            ' (and %d more)' % (len(errors) - PROBLEMS_SHOWN) if len(errors) > PROBLEMS_SHOWN else ''))
    resolved = checked.resolved[0]
    view = checked.index.view(name)
    refused = [outcome for outcome in evaluate_all(view, compile_request(resolved))
               if outcome[0] == FAIL or outcome[1] in NEEDED_FROM_FACTS]
    if refused:
        raise BuildError('; '.join("vm '%s': %s: host '%s': %s" % (resolved['name'], field, name, message)
                                   for verdict, code, field, message in refused))
    facts, sriov = unwrap_host_facts(host)
    found = Plan()
    found.vm, found.host, found.view = resolved, name, view
    target = view.target(resolved['arch'], resolved['machine'], resolved['virt_type'])
    found.arch, found.machine = target.arch, target.machine
    found.domcaps = _domcaps_entry(facts, target.arch, target.machine, resolved['virt_type'])
    _plan_emulator(found, facts)
    _plan_firmware_and_security(found)
    _plan_disks(found, facts)
    _plan_devices(found, facts, sriov, entry)
    _plan_numa(found, facts, sriov, entry)
    _plan_qos(found, facts, checked.catalog)
    return found


def _fail(found, field, message):
    return BuildError("vm '%s': %s: host '%s' %s" % (found.vm['name'], field, found.host, message))


def _host_name(host, entry):
    """The host's name: inventory_hostname beside the facts, else where the placement put
    the VM, else the hostname libvirt reported."""
    if isinstance(host.get('inventory_hostname'), str):
        return host['inventory_hostname']
    if entry is not None:
        return entry['host']
    try:
        facts = unwrap_host_facts(host)[0]
    except ValueError:
        return UNNAMED
    hostname = dig(facts, 'host_info', 'hostname')
    if not isinstance(hostname, str) or not hostname:
        return UNNAMED
    # A DNS name has at most 253 characters; a longer one (a damaged cache) is cut, so that
    # no message grows with it.
    return hostname if len(hostname) <= 253 else hostname[:250] + '...'


def _placement_entry(placement, name):
    """The placement of VM ``name`` in ``placement`` (vm_place's answer, or one of its
    ``placements``), or None without one."""
    if placement is None:
        return None
    if not isinstance(placement, Mapping):
        raise InputError("placement must be vm_place's answer or one entry of its placements, got %s" % type_name(placement))
    if 'placements' in placement:
        placements = placement.get('placements')
        if not isinstance(placements, list):
            raise InputError('placement.placements must be a list, got %s' % type_name(placements))
        for entry in placements:
            if isinstance(entry, Mapping) and entry.get('vm') == name:
                return _checked_entry(entry, name)
        reasons = [entry for entry in as_list(placement.get('unplaced')) if isinstance(entry, Mapping) and entry.get('vm') == name]
        if reasons:
            raise BuildError('vm %s: placement: vm_place found no host for it (%s)'
                             % (short_repr(name), '; '.join(str(r) for r in as_list(reasons[0].get('reasons'))[:3]) or 'no reason'))
        raise BuildError('vm %s: placement: the placement has no entry for it; place it with vm_place first, or leave '
                         'placement out' % short_repr(name))
    if placement.get('vm') != name:
        raise BuildError('vm %s: placement: the entry given is that of vm %s' % (short_repr(name), short_repr(placement.get('vm'))))
    return _checked_entry(placement, name)


def _checked_entry(entry, name):
    if not isinstance(entry.get('host'), str):
        raise InputError('placement of vm %s: host must be a host name, got %s' % (short_repr(name), describe(entry.get('host'))))
    devices = entry.get('devices')
    if devices is not None and not (isinstance(devices, Mapping) and all(
            isinstance(devices.get(key, []), list) and all(isinstance(a, str) and PCI_ADDRESS_RE.match(a) for a in devices.get(key, []))
            for key in ('vfs', 'pci'))):
        raise InputError('placement of vm %s: devices must be {vfs: [PCI address], pci: [PCI address]}, got %s'
                         % (short_repr(name), short_repr(devices)))
    for node in as_list(entry.get('numa')):
        if not isinstance(node, Mapping) or not _whole(node.get('host_cell')) or not _whole(node.get('guest_node')) \
                or not all(_whole(cpu) for cpu in node.get('host_cpus') or ()):
            raise InputError('placement of vm %s: numa entries must have guest_node and host_cell numbers and host_cpus a list '
                             'of CPU numbers, got %s' % (short_repr(name), short_repr(node)))
    return entry


def _whole(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _domcaps_entry(facts, arch, machine, virt_type):
    """The domain_capabilities entry of (arch, machine, virt_type), else that of the
    machine's family, as vm_hosts picks the probe; None without one."""
    entries = [e for e in as_list(facts.get('domain_capabilities'))
               if isinstance(e, dict) and e.get('arch') == arch and e.get('virttype') == virt_type]
    for entry in entries:
        if machine and machine in (entry.get('machine'), entry.get('requested_machine')):
            return entry
    for entry in entries:
        if machine and isinstance(entry.get('machine'), str) and machine_family(entry['machine']) == machine_family(machine):
            return entry
    return None


def _plan_emulator(found, facts):
    if not found.machine:
        raise _fail(found, 'machine', 'does not say which machine type a %s guest gets (virt_info.guests and domain_capabilities '
                    'name none); gather its facts with virtumancer.hostcaps.libvirt_host_caps, or set machine' % found.arch)
    emulator = dig(found.domcaps, 'emulator')
    if not isinstance(emulator, str):
        for guest in as_list(dig(facts, 'virt_info', 'guests')):
            if isinstance(guest, dict) and guest.get('arch') == found.arch and guest.get('os_type') == 'hvm':
                emulator = guest.get('emulator')
                break
    if not isinstance(emulator, str) or not emulator.startswith('/'):
        raise _fail(found, 'arch', 'names no emulator binary for %s guests (domain capabilities <path>, capabilities <emulator>)'
                    % found.arch)
    found.emulator = emulator


def _plan_firmware_and_security(found):
    vm, domcaps = found.vm, found.domcaps or {}
    if vm['firmware'] == 'efi' and 'efi' not in (dig(domcaps, 'os', 'firmware') or ()):
        raise _fail(found, 'firmware', 'lists no UEFI firmware descriptor for %s (domain capabilities <os><enum name=\'firmware\'> '
                    'lacks efi), which libvirt needs to choose the firmware; install OVMF (edk2-ovmf) with its descriptors '
                    'in /usr/share/qemu/firmware, or set firmware: bios' % found.machine)
    if vm['secure_boot'] and vm['memory_encryption'] in STATE_PROTECTED:
        raise _fail(found, 'secure_boot', "cannot give a %s guest Secure Boot: its firmware runs without System Management "
                    "Mode and NVRAM; set secure_boot: false" % vm['memory_encryption'])
    found.tpm_model = None
    if vm['tpm']:
        offered = dig(domcaps, 'devices', 'tpm', 'model') or ()
        found.tpm_model = next((model for model in TPM_MODELS_FOR_VERSION[vm['tpm']] if model in offered), None)
    found.cbitpos = found.reduced_phys_bits = None
    if vm['memory_encryption'] in ('sev', 'sev-es', 'sev-snp'):
        sev = dig(domcaps, 'features', 'sev') or {}
        found.cbitpos, found.reduced_phys_bits = sev.get('cbitpos'), sev.get('reduced_phys_bits')
        if not isinstance(found.cbitpos, int) or not isinstance(found.reduced_phys_bits, int):
            raise _fail(found, 'memory_encryption', 'gives no SEV cbitpos and reducedPhysBits in its domain capabilities of %s '
                        '(features.sev), which the guest needs; gather its facts again live with libvirt_host_caps'
                        % found.machine)
    # A value of another shape than libvirt's element (a hand-edited or damaged cache) is no GIC.
    gic = dig(domcaps, 'features', 'gic')
    gic = gic if isinstance(gic, Mapping) else {}
    versions = [v for v in as_list(gic.get('version')) if isinstance(v, str) and v.isdigit()]
    found.gic_version = max(versions, key=int) if gic and gic.get('supported') and versions else None


def _plan_disks(found, facts):
    """``[(pool, volume, format or None, bus, target dev)]`` of the VM's disks."""
    pools = dict((p['name'], p) for p in as_list(dig(facts, 'storage_info', 'pools')) if isinstance(p, dict) and isinstance(p.get('name'), str))
    formats = dict((t.get('type'), t.get('default_volume_format')) for t in as_list(dig(facts, 'storage_info', 'pool_types'))
                   if isinstance(t, dict))
    used, found.disks, found.pool_types = {}, [], {}
    for index, disk in enumerate(found.vm['disks']):
        field = 'disks[%d]' % index
        pool = disk['pool']
        if pool is None:
            # A disk given only as disk_gb goes to the pool libvirt tools default to.
            if 'default' not in pools:
                raise _fail(found, field + '.pool', 'has no storage pool named default for a disk without a pool (pools: %s); '
                            'name one with disks: [{size_gb: %d, pool: <pool>}]' % (', '.join(sorted(pools)) or 'none listed',
                                                                                    disk['size_gb']))
            pool = 'default'
        prefix = DISK_PREFIXES.get(disk['bus'])
        if prefix is None:
            raise _fail(found, field + '.bus', 'offers bus %s, but this collection writes disks only on %s'
                        % (disk['bus'], ', '.join(sorted(DISK_PREFIXES))))
        number = used.get(prefix, 0)
        used[prefix] = number + 1
        found.pool_types[pool] = (pools.get(pool) or {}).get('type')
        volume_format = formats.get(found.pool_types[pool])
        found.disks.append((pool, '%s-disk%d' % (found.vm['name'], index), volume_format if volume_format in VOLUME_FORMATS else None,
                            disk['bus'], prefix + _disk_letters(number)))


def _disk_letters(number):
    """a, b, ... z, aa, ab: the suffix libvirt's disk names use."""
    letters = ''
    number += 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord('a') + rest) + letters
    return letters


def _plan_devices(found, facts, sriov, entry):
    """The VFs and passthrough devices: the placement's, else the first free ones."""
    vm = found.vm
    given = (entry or {}).get('devices')
    if given is not None:
        found.vfs, found.pci = list(given.get('vfs') or ()), list(given.get('pci') or ())
        source = 'the placement gives'
    elif sriov is None and (vfs_wanted(vm) or vm['pci_devices']):
        raise _fail(found, 'sriov_vfs' if vfs_wanted(vm) else 'pci_devices', 'has no sriov facts to choose its devices from; gather '
                    'them with virtumancer.hostcaps.sriov_facts')
    else:
        chosen = take_devices(HostDevices(facts, sriov, owner=vm['name']), vm)
        found.vfs, found.pci = chosen['vfs'], chosen['pci']
        source = 'has free'
    field = 'sriov_vfs' if vm['sriov_vfs'] else 'resources.SRIOV_NET_VF'
    if len(found.vfs) < vfs_wanted(vm):
        raise _fail(found, field, '%s %d SR-IOV VF(s) for it (%s), it asks for %d; a VF is free when no domain uses it and its '
                    'candidate is not false in the sriov facts' % (source, len(found.vfs), ', '.join(found.vfs) or 'none',
                                                                   vfs_wanted(vm)))
    wanted = sum(device['count'] for device in vm['pci_devices'])
    if len(found.pci) < wanted:
        asked = ', '.join('%s:%s x %d' % (d['vendor'], d['device'], d['count']) for d in vm['pci_devices'])
        raise _fail(found, 'pci_devices', '%s %d of the %d passthrough candidates it asks for (%s): a device is given only '
                    'when the sriov facts call it a candidate and no domain uses it' % (source, len(found.pci), wanted, asked))


def _plan_qos(found, facts, catalog):
    """The VM's QoS policy in libvirt's element names (qos.qos_tuning), after the checks
    that need its interfaces and the host's networks: its bandwidth goes on every
    interface, and a VF cannot carry one."""
    vm = found.vm
    found.qos = {}
    if not vm['qos_policy']:
        return
    policy = catalog.qos_policies[vm['qos_policy']]
    interfaces = [{'type': 'network', 'network': nic['network'], 'name': 'networks[%d]' % index}
                  for index, nic in enumerate(vm['networks'])]
    interfaces += [{'type': 'hostdev', 'name': 'the SR-IOV VF %s' % address} for address in found.vfs]
    problems = interface_bandwidth_problems(policy, interfaces, dig(facts, 'network_info', 'networks'), vm['qos_policy'])
    errors = [problem for problem in problems if problem['severity'] == 'error']
    if errors:
        raise BuildError('; '.join("vm '%s': qos_policy: host '%s': %s" % (vm['name'], found.host, problem['message'])
                                   for problem in errors))
    found.qos = qos_tuning(policy)


def _split(total, parts):
    """``total`` split over ``parts``, the first taking the remainder (placement_model)."""
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


def _plan_numa(found, facts, sriov, entry):
    """Guest NUMA nodes ``[{vcpus, memory_kib, host_cell, host_cpus}]``, the CPU topology
    and whether vCPUs are pinned."""
    vm = found.vm
    count = vm['numa_nodes']
    page_kb = HUGEPAGE_SIZES_KB.get(vm['hugepages'])
    if page_kb:
        # Whole pages per node: QEMU refuses a node that is not a multiple of its page size.
        memory_kib = [pages * page_kb for pages in _split(vm['memory_mb'] * 1024 // page_kb, count)]
    else:
        memory_kib = [mib * 1024 for mib in _split(vm['memory_mb'], count)]
    vcpus = _split(vm['vcpus'], count)
    found.nodes, first = [], 0
    for node in range(count):
        found.nodes.append({'vcpus': list(range(first, first + vcpus[node])), 'memory_kib': memory_kib[node],
                            'host_cell': None, 'host_cpus': []})
        first += vcpus[node]
    found.topology = (count, vm['vcpus'] // count) if count > 1 and vm['vcpus'] % count == 0 else None
    found.pinned = bool(vm['cpu']['dedicated'])
    if not needs_cells(vm):
        return
    layout = _placed_cells(found, entry) if entry is not None and entry.get('numa') else _fit_cells(found, facts)
    devices = HostDevices(facts, sriov)
    for node, (cell, cpus) in zip(found.nodes, layout):
        node['host_cell'] = cell
        if found.pinned:
            node['host_cpus'] = cpus if cpus else devices.take_cpus(cell, len(node['vcpus']))
            if len(node['host_cpus']) < len(node['vcpus']):
                raise _fail(found, 'cpu.dedicated', 'has %d CPUs in NUMA cell %s for guest node %d, which pins %d vCPUs '
                            '(memory_info.cells)' % (len(node['host_cpus']), cell, found.nodes.index(node), len(node['vcpus'])))


def _placed_cells(found, entry):
    nodes = sorted(entry['numa'], key=lambda node: node['guest_node'])
    if [node['guest_node'] for node in nodes] != list(range(len(found.nodes))):
        raise BuildError("vm '%s': placement: its numa lists guest nodes %s, the VM has %d (numa_nodes); place it again"
                         % (found.vm['name'], [node['guest_node'] for node in nodes], len(found.nodes)))
    return [(node['host_cell'], list(node.get('host_cpus') or ())) for node in nodes]


def _fit_cells(found, facts):
    """The host cells placement would choose for the VM alone on the host."""
    state = HostState(found.view, 0)
    item = Item([found.vm], lambda vm: Policy('default', {}))
    layout = fit_cells(state, item)
    if layout is None or layout[0] is None:
        raise _fail(found, 'numa_nodes', 'has no %d distinct NUMA cells with room for its guest nodes (%s per node; free '
                    'hugepages per cell are known only from facts gathered live); place it with vm_place and pass '
                    'placement' % (len(found.nodes), ' and '.join(
                        part for part in ('%s pages' % found.vm['hugepages'] if found.vm['hugepages'] else '',
                                          'dedicated CPUs' if found.pinned else 'memory') if part)))
    return [(state.cells[index].id, []) for node, index in sorted(layout[0])]


# -- writing: one function per element ---------------------------------------------------


def _sub(parent, tag, text=None, **attributes):
    element = etree.SubElement(parent, tag, dict((key, str(value)) for key, value in attributes.items() if value is not None))
    if text is not None:
        element.text = str(text)
    return element


def _ranges(numbers):
    """'0-3,8' for [0, 1, 2, 3, 8]: libvirt's cpuset syntax."""
    numbers = sorted(set(numbers))
    parts, start = [], None
    for index, number in enumerate(numbers):
        if start is None:
            start = number
        if index + 1 == len(numbers) or numbers[index + 1] != number + 1:
            parts.append(str(start) if start == number else '%d-%d' % (start, number))
            start = None
    return ','.join(parts)


def _mac(found, index):
    digest = hashlib.sha256(('%s/%d' % (found.vm['name'], index)).encode('utf-8')).hexdigest()
    return '%s:%s:%s:%s' % (MAC_PREFIX, digest[0:2], digest[2:4], digest[4:6])


def _pci_address(parent, address, **more):
    domain, bus, slot, function = PCI_ADDRESS_RE.match(address).groups()
    return _sub(parent, 'address', domain='0x' + domain.lower(), bus='0x' + bus.lower(), slot='0x' + slot.lower(),
                function='0x' + function, **more)


def _iommu_driver(found, element):
    """Virtio devices of a guest with encrypted memory reach it through the IOMMU
    platform, which bounces their buffers through memory it shares."""
    if found.vm['memory_encryption']:
        driver = element.find('driver')
        if driver is None:
            driver = _sub(element, 'driver')
        driver.set('iommu', 'on')


def write_name(root, found):
    _sub(root, 'name', found.vm['name'])
    _sub(root, 'uuid', uuid.uuid5(UUID_NAMESPACE, found.vm['name']))


def write_memory(root, found):
    _sub(root, 'memory', found.vm['memory_mb'] * 1024, unit='KiB')
    _sub(root, 'currentMemory', found.vm['memory_mb'] * 1024, unit='KiB')


def write_blkiotune(root, found):
    tune = found.qos.get('blkiotune')
    if tune:
        _sub(_sub(root, 'blkiotune'), 'weight', tune['weight'])


def write_memtune(root, found):
    tune = found.qos.get('memtune')
    if tune:
        element = _sub(root, 'memtune')
        for dummy, name in MEMTUNE_FIELDS:
            if name in tune:
                _sub(element, name, tune[name], unit='KiB')


def write_memory_backing(root, found):
    page_kb = HUGEPAGE_SIZES_KB.get(found.vm['hugepages'])
    if page_kb:
        backing = _sub(root, 'memoryBacking')
        _sub(_sub(backing, 'hugepages'), 'page', size=page_kb, unit='KiB')


def write_vcpu(root, found):
    _sub(root, 'vcpu', found.vm['vcpus'], placement='static')


def write_cputune(root, found):
    tune = etree.Element('cputune')
    policy = found.qos.get('cputune') or {}
    for name, dummy in CPUTUNE_PARAMETERS:
        if name in policy:
            _sub(tune, name, policy[name])
    if found.pinned:
        for node in found.nodes:
            for vcpu, cpu in zip(node['vcpus'], node['host_cpus']):
                _sub(tune, 'vcpupin', vcpu=vcpu, cpuset=cpu)
        # The emulator threads share the VM's own CPUs, as Nova places them by default.
        _sub(tune, 'emulatorpin', cpuset=_ranges(cpu for node in found.nodes for cpu in node['host_cpus']))
    if len(tune):
        root.append(tune)


def write_numatune(root, found):
    cells = [node['host_cell'] for node in found.nodes]
    if None in cells:
        return
    tune = _sub(root, 'numatune')
    _sub(tune, 'memory', mode='strict', nodeset=_ranges(cells))
    if len(found.nodes) > 1:
        for guest, node in enumerate(found.nodes):
            _sub(tune, 'memnode', cellid=guest, mode='strict', nodeset=node['host_cell'])


def write_os(root, found):
    vm = found.vm
    efi = vm['firmware'] == 'efi'
    os_element = _sub(root, 'os', firmware='efi' if efi else None)
    _sub(os_element, 'type', 'hvm', arch=found.arch, machine=found.machine)
    if efi and found.arch in X86_ARCHES:
        # libvirt picks the firmware from its descriptors by these features; enrolled keys
        # make Secure Boot enforce Microsoft's and the distributions' signatures.
        firmware = _sub(os_element, 'firmware')
        if vm['secure_boot']:
            _sub(firmware, 'feature', enabled='yes', name='enrolled-keys')
        _sub(firmware, 'feature', enabled='yes' if vm['secure_boot'] else 'no', name='secure-boot')
        if vm['secure_boot']:
            _sub(os_element, 'loader', secure='yes')
        elif vm['memory_encryption'] in STATELESS_FIRMWARE:
            _sub(os_element, 'loader', stateless='yes')
    _sub(os_element, 'boot', dev='hd')


def write_features(root, found):
    vm = found.vm
    features = etree.Element('features')
    if found.arch in X86_ARCHES:
        _sub(features, 'acpi')
        _sub(features, 'apic')
        if vm['secure_boot']:
            _sub(features, 'smm', state='on')
        elif vm['memory_encryption'] in STATE_PROTECTED:
            _sub(features, 'smm', state='off')
    elif found.arch == 'aarch64':
        if vm['firmware'] == 'efi':
            _sub(features, 'acpi')
        if found.gic_version:
            _sub(features, 'gic', version=found.gic_version)
    if len(features):
        root.append(features)


def write_cpu(root, found):
    cpu = found.vm['cpu']
    element = _sub(root, 'cpu', mode=cpu['mode'], match='exact' if cpu['mode'] == 'custom' else None)
    if cpu['mode'] == 'custom':
        _sub(element, 'model', cpu['model'], fallback='forbid')
    if found.topology:
        sockets, cores = found.topology
        _sub(element, 'topology', sockets=sockets, dies=1, cores=cores, threads=1)
    for feature in cpu['features']:
        _sub(element, 'feature', policy='require', name=feature)
    if len(found.nodes) > 1:
        numa = _sub(element, 'numa')
        for index, node in enumerate(found.nodes):
            _sub(numa, 'cell', id=index, cpus=_ranges(node['vcpus']), memory=node['memory_kib'], unit='KiB')


def write_disk(devices, found, disk):
    pool, volume, volume_format, bus, dev = disk
    element = _sub(devices, 'disk', type='volume', device='floppy' if bus == 'fdc' else 'disk')
    _sub(element, 'driver', name='qemu', type=volume_format)
    _sub(element, 'source', pool=pool, volume=volume)
    _sub(element, 'target', dev=dev, bus=bus)
    write_iotune(element, found)
    if bus == 'virtio':
        _iommu_driver(found, element)
    return element


def write_iotune(disk, found):
    tune = found.qos.get('iotune')
    if tune:
        element = _sub(disk, 'iotune')
        for name in IOTUNE_FIELDS:
            if name in tune:
                _sub(element, name, tune[name])


def write_scsi_controller(devices, found):
    if any(disk[3] == 'scsi' for disk in found.disks):
        element = _sub(devices, 'controller', type='scsi', index=0, model='virtio-scsi')
        _iommu_driver(found, element)


def write_network_interface(devices, found, index, nic):
    element = _sub(devices, 'interface', type='network')
    _sub(element, 'mac', address=_mac(found, index))
    _sub(element, 'source', network=nic['network'])
    _sub(element, 'model', type=nic['model'])
    write_bandwidth(element, found)
    if nic['model'] == 'virtio':
        _iommu_driver(found, element)
    return element


def write_bandwidth(interface, found):
    tune = found.qos.get('bandwidth')
    if tune:
        element = _sub(interface, 'bandwidth')
        for direction in BANDWIDTH_DIRECTIONS:
            if direction in tune:
                _sub(element, direction, **dict((key, tune[direction][key]) for key in BANDWIDTH_FIELDS[direction]
                                                if key in tune[direction]))


def write_vf_interface(devices, found, index, address):
    element = _sub(devices, 'interface', type='hostdev', managed='yes')
    _sub(element, 'mac', address=_mac(found, index))
    _pci_address(_sub(element, 'source'), address, type='pci')
    return element


def write_hostdev(devices, found, address):
    element = _sub(devices, 'hostdev', mode='subsystem', type='pci', managed='yes')
    _pci_address(_sub(element, 'source'), address)


def write_tpm(devices, found):
    if found.vm['tpm']:
        element = _sub(devices, 'tpm', model=found.tpm_model)
        _sub(element, 'backend', type='emulator', version=found.vm['tpm'])


def write_devices(root, found):
    devices = _sub(root, 'devices')
    _sub(devices, 'emulator', found.emulator)
    for disk in found.disks:
        write_disk(devices, found, disk)
    write_scsi_controller(devices, found)
    index = 0
    for nic in found.vm['networks']:
        write_network_interface(devices, found, index, nic)
        index += 1
    for address in found.vfs:
        write_vf_interface(devices, found, index, address)
        index += 1
    for address in found.pci:
        write_hostdev(devices, found, address)
    write_tpm(devices, found)
    _sub(devices, 'console', type='pty')
    if found.vm['memory_encryption']:
        # A balloon would hand the host pages of private, encrypted memory.
        _sub(devices, 'memballoon', model='none')


def write_launch_security(root, found):
    kind = found.vm['memory_encryption']
    if not kind:
        return
    element = _sub(root, 'launchSecurity', type=LAUNCH_TYPES[kind])
    if kind != 'tdx':
        _sub(element, 'cbitpos', found.cbitpos)
        _sub(element, 'reducedPhysBits', found.reduced_phys_bits)
    policy = {'sev': '0x%04x' % SEV_POLICY, 'sev-es': '0x%04x' % SEV_ES_POLICY,
              'sev-snp': '0x%08x' % SEV_SNP_POLICY, 'tdx': '0x%08x' % TDX_POLICY}[kind]
    _sub(element, 'policy', policy)


WRITERS = (write_name, write_memory, write_blkiotune, write_memtune, write_memory_backing, write_vcpu, write_cputune,
           write_numatune, write_os, write_features, write_cpu, write_devices, write_launch_security)


def build_domain(found):
    """The ``<domain>`` element of a ``Plan``."""
    root = etree.Element('domain', type=found.vm['virt_type'])
    for writer in WRITERS:
        writer(root, found)
    return root


def _need_lxml(what='vm_domain_xml'):
    if etree is None:
        raise ImportError('%s needs the Python package lxml on the controller: pip install lxml '
                          '(or the python3-lxml package)' % what)


def _written(found, build, *args):
    """The XML text of the element ``build(found, *args)`` returns."""
    try:
        root = build(found, *args)
    except ValueError as exc:
        # lxml refuses what XML cannot hold: control characters in a name the VM or the
        # facts give (a network or pool name, a CPU model), NUL bytes.
        raise BuildError("vm '%s': a value cannot be written in XML (%s); look for control characters in the names the VM "
                         "and the host's facts give (networks, pools, cpu.model)" % (found.vm['name'], exc))
    return etree.tostring(root, pretty_print=True, encoding='unicode')


def domain_xml(vm, host, catalog=None, placement=None, host_name=None):
    """The domain XML of ``vm`` on ``host``, as a string. Raises BuildError naming the
    field that cannot be expressed, InputError for arguments of the wrong shape, and
    ImportError without lxml."""
    _need_lxml()
    return _written(plan(vm, host, catalog, placement, host_name), build_domain)


def build_volume(found, index):
    """The ``<volume>`` element (virStorageVolCreateXML) of the VM's disk ``index``."""
    pool, name, volume_format = found.disks[index][:3]
    root = etree.Element('volume')
    _sub(root, 'name', name)
    # The VM's GB are those of the facts' capacity_gb and of placement: GiB.
    _sub(root, 'capacity', found.vm['disks'][index]['size_gb'], unit='GiB')
    if found.pool_types.get(pool) in SPARSE_POOL_TYPES:
        _sub(root, 'allocation', 0)
    # libvirt's storagevol schema wants a <target>, empty when libvirt picks the format.
    target = _sub(root, 'target')
    if volume_format:
        _sub(target, 'format', type=volume_format)
    return root


def domain_volumes(vm, host, catalog=None, placement=None, host_name=None):
    """The storage volumes the domain of ``vm`` on ``host`` reads its disks from, in the
    order of its disks: ``[{'pool', 'name', 'size_gb', 'format', 'xml'}]``, ``name`` as
    domain_xml writes it (``<vm>-disk<N>``) and ``xml`` the volume's definition. The VM is
    checked as domain_xml checks it, and raises the same."""
    _need_lxml('vm_domain_volumes')
    found = plan(vm, host, catalog, placement, host_name)
    return [{'pool': disk[0], 'name': disk[1], 'size_gb': found.vm['disks'][index]['size_gb'], 'format': disk[2],
             'xml': _written(found, build_volume, index)}
            for index, disk in enumerate(found.disks)]
