# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A VM definition on its own: types, ranges, unknown keys, names, the catalog names it
refers to, and contradictions; and the resolved VM (defaults and resource class applied)
that the host-side checks of module_utils/vm_hosts.py read.

Every finding is a problem ``{vm, field, code, message, severity, hosts}`` (``hosts`` is
``{}`` here); docs/vm-definition.md lists the fields and the codes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import re

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_catalog import suggest_trait, valid_trait_name
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import describe, short_repr

NAME_RE = re.compile(r'^[A-Za-z0-9_.-]{1,64}$')
PCI_ID_RE = re.compile(r'^(0x)?[0-9a-fA-F]{4}$')

VIRT_TYPES = ('kvm', 'qemu')
FIRMWARES = ('bios', 'efi')
TPM_VERSIONS = ('1.2', '2.0')
MEMORY_ENCRYPTIONS = ('sev', 'sev-es', 'sev-snp', 'tdx')
CPU_MODES = ('host-model', 'host-passthrough', 'maximum', 'custom')
HUGEPAGES = {'2M': 2, '1G': 1024}  # size in MiB
DISK_BUSES = ('virtio', 'scsi', 'sata', 'ide', 'usb', 'fdc', 'sd', 'xen', 'nvme')
NIC_MODELS = ('virtio', 'e1000', 'e1000e', 'rtl8139', 'igb', 'vmxnet3', 'ne2k_pci', 'pcnet', 'usb-net', 'spapr-vlan', 'smc91c111')
# x86 machine families without the SMM that Secure Boot needs (libvirt: "Secure boot is
# supported with q35 machine types only"), and x86 machines without any TPM device.
I440FX_RE = re.compile(r'^pc($|-i440fx-|-\d)')
NO_TPM_MACHINE_RE = re.compile(r'^(isapc|microvm)$')
NO_TPM_ARCHES = ('s390x',)

FIELDS = ('name', 'resource_class', 'vcpus', 'memory_mb', 'disk_gb', 'arch', 'machine', 'virt_type', 'firmware', 'secure_boot',
          'tpm', 'memory_encryption', 'cpu', 'hugepages', 'numa_nodes', 'sriov_vfs', 'pci_devices', 'disks', 'networks',
          'required_traits', 'forbidden_traits', 'placement_policy', 'qos_policy', 'groups')
CPU_FIELDS = ('mode', 'model', 'features', 'dedicated')
PCI_FIELDS = ('vendor', 'device', 'count')
DISK_FIELDS = ('size_gb', 'bus', 'pool')
NETWORK_FIELDS = ('network', 'model')
SIZED = (('vcpus', 1), ('memory_mb', 64), ('disk_gb', 0))
# The placement policy of a VM that names none, when the catalog has one by this name.
DEFAULT_POLICY = 'default'
GROUP_KINDS = ('affinity', 'anti_affinity')


def problem(vm, field, code, message, severity='error', hosts=None):
    return {'vm': vm, 'field': field, 'code': code, 'message': message, 'severity': severity, 'hosts': hosts or {}}


def _short(value):
    return short_repr(value)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _did_you_mean(key, known):
    # difflib's cost grows with the product of the lengths: no field name is longer than 64.
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6) if isinstance(key, str) and len(key) <= 64 else None
    return '; did you mean %r?' % close[0] if close else '; known keys: %s' % ', '.join(known)


class _Checker(object):
    """Collects the problems of one VM while reading its fields."""

    def __init__(self, label, problems):
        self.label = label
        self.problems = problems
        self.errors = 0

    def add(self, field, code, message, severity='error'):
        self.problems.append(problem(self.label, field, code, message, severity))
        if severity == 'error':
            self.errors += 1

    def unknown_keys(self, data, known, prefix):
        for key in data:
            if key not in known:
                self.add('%s%s' % (prefix, key), 'unknown_key', '%s%s is not a field of a VM definition%s'
                         % (prefix, key, _did_you_mean(key, known)))

    def integer(self, data, key, minimum, field=None, default=None):
        field = field or key
        value = data.get(key, default)
        if value is None:
            return default
        if not _is_int(value):
            self.add(field, 'wrong_type', '%s must be an integer >= %d, got %s%s' % (
                field, minimum, describe(value),
                '; write it without quotes' if isinstance(value, str) and value.strip().isdigit() else ''))
            return None
        if value < minimum:
            self.add(field, 'out_of_range', '%s must be >= %d, got %d' % (field, minimum, value))
            return None
        return value

    def choice(self, data, key, choices, default, field=None):
        field = field or key
        value = data.get(key, default)
        if value is None and None in choices:
            return None
        if value is None:
            return default
        if not isinstance(value, str) or value not in choices:
            shown = [choice for choice in choices if choice is not None]
            close = difflib.get_close_matches(value, shown, n=1, cutoff=0.5) if isinstance(value, str) and len(value) <= 64 else None
            self.add(field, 'invalid_value', '%s must be one of %s%s, got %s%s' % (
                field, ', '.join(shown), ' or null' if None in choices else '', describe(value),
                '; did you mean %r?' % close[0] if close else ''))
            return None
        return value

    def boolean(self, data, key, default, field=None):
        field = field or key
        value = data.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.add(field, 'wrong_type', '%s must be true or false, got %s' % (field, describe(value)))
            return default
        return value

    def string(self, data, key, field=None, pattern=None, hint=''):
        field = field or key
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.add(field, 'wrong_type', '%s must be a non-empty string or null, got %s' % (field, describe(value)))
            return None
        if pattern is not None and not pattern.match(value):
            self.add(field, 'invalid_value', '%s %s is not valid%s' % (field, short_repr(value), hint))
            return None
        return value

    def items(self, data, key, field=None):
        """The list at ``key`` (a missing or null key is an empty list)."""
        field = field or key
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(field, 'wrong_type', '%s must be a list, got %s' % (field, describe(value)))
            return []
        return value

    def entries(self, data, key, known):
        """``(field, item)`` of every mapping in the list at ``key``; the rest are problems."""
        for position, item in enumerate(self.items(data, key)):
            field = '%s[%d]' % (key, position)
            item = self.mapping(item, field, known)
            if item is not None:
                yield field, item

    def mapping(self, value, field, known):
        if not isinstance(value, dict):
            self.add(field, 'wrong_type', '%s must be a mapping with the keys %s, got %s'
                     % (field, ', '.join(known), describe(value)))
            return None
        self.unknown_keys(value, known, field + '.')
        return value


# --------------------------------------------------------------------------- fields

def _name(vm, index, checker):
    name = vm.get('name')
    if name is None:
        checker.add('name', 'missing_key', 'vms[%d] has no name; add name: <[A-Za-z0-9_.-]{1,64}>' % index)
    elif not isinstance(name, str) or not NAME_RE.match(name):
        checker.add('name', 'invalid_name', 'name %s must be 1 to 64 letters, digits, _, . or -' % _short(name))


def _traits(checker, vm, key):
    found = []
    for position, trait in enumerate(checker.items(vm, key)):
        field = '%s[%d]' % (key, position)
        if not isinstance(trait, str) or not valid_trait_name(trait):
            hint = suggest_trait(trait) if isinstance(trait, str) else None
            checker.add(field, 'invalid_trait_name', '%s %s is neither an os-traits name nor CUSTOM_[A-Z0-9_]+%s' % (
                field, _short(trait), '; did you mean %s?' % hint if hint else ''))
        else:
            found.append(trait)
    return found


def _cpu(checker, vm):
    default = {'mode': 'host-model', 'model': None, 'features': [], 'dedicated': False}
    data = vm.get('cpu')
    if data is None:
        return default
    data = checker.mapping(data, 'cpu', CPU_FIELDS)
    if data is None:
        return default
    cpu = {'mode': checker.choice(data, 'mode', CPU_MODES, 'host-model', 'cpu.mode'),
           'model': checker.string(data, 'model', 'cpu.model', NAME_RE,
                                   '; libvirt names CPU models with up to 64 letters, digits, -, _ and . (EPYC-Milan)'),
           'features': [],
           'dedicated': checker.boolean(data, 'dedicated', False, 'cpu.dedicated')}
    for position, feature in enumerate(checker.items(data, 'features', 'cpu.features')):
        if isinstance(feature, str) and NAME_RE.match(feature):
            cpu['features'].append(feature)
        else:
            checker.add('cpu.features[%d]' % position, 'wrong_type',
                        'cpu.features[%d] must be a CPU feature name such as avx2, got %s' % (position, describe(feature)))
    return cpu


def _tpm(checker, vm):
    value = vm.get('tpm')
    if value is None:
        return None
    if isinstance(value, float) and not isinstance(value, bool) and ('%.1f' % value) in TPM_VERSIONS:
        return '%.1f' % value  # tpm: 2.0 unquoted in YAML
    if isinstance(value, str) and value in TPM_VERSIONS:
        return value
    checker.add('tpm', 'invalid_value', 'tpm must be null, "1.2" or "2.0", got %s' % (describe(value)))
    return None


def _pci_devices(checker, vm):
    devices = []
    for field, item in checker.entries(vm, 'pci_devices', PCI_FIELDS):
        ids = []
        for key in ('vendor', 'device'):
            value = item.get(key)
            if not isinstance(value, str) or not PCI_ID_RE.match(value):
                checker.add('%s.%s' % (field, key), 'invalid_value' if isinstance(value, str) else 'wrong_type',
                            '%s.%s must be a 4-digit hex PCI id in quotes such as "10de", got %s'
                            % (field, key, describe(value)))
                ids.append(None)
            else:
                ids.append(value.lower()[-4:])
        count = checker.integer(item, 'count', 1, '%s.count' % field, default=1)
        if None not in ids and count is not None:
            devices.append({'vendor': ids[0], 'device': ids[1], 'count': count})
    return devices


def _disks(checker, vm, disk_gb):
    if vm.get('disks') is None:
        return [{'size_gb': disk_gb, 'bus': 'virtio', 'pool': None}] if disk_gb else []
    disks = []
    for field, item in checker.entries(vm, 'disks', DISK_FIELDS):
        size = checker.integer(item, 'size_gb', 1, '%s.size_gb' % field)
        if size is None and item.get('size_gb') is None:
            checker.add('%s.size_gb' % field, 'missing_key', '%s has no size_gb; add size_gb: <GB>' % field)
        disk = {'size_gb': size, 'bus': checker.choice(item, 'bus', DISK_BUSES, 'virtio', '%s.bus' % field),
                'pool': checker.string(item, 'pool', '%s.pool' % field)}
        if size is not None and disk['bus'] is not None:
            disks.append(disk)
    return disks


def _networks(checker, vm):
    networks = []
    for field, item in checker.entries(vm, 'networks', NETWORK_FIELDS):
        name = checker.string(item, 'network', '%s.network' % field)
        if name is None and item.get('network') is None:
            checker.add('%s.network' % field, 'missing_key', '%s has no network; add network: <libvirt network name>' % field)
        model = checker.choice(item, 'model', NIC_MODELS, 'virtio', '%s.model' % field)
        if name is not None and model is not None:
            networks.append({'network': name, 'model': model})
    return networks


def _catalog_name(checker, vm, key, known, section):
    name = checker.string(vm, key)
    if name is None or name in known:
        return name
    checker.add(key, 'unknown_%s' % key, '%s %s is not in the catalog%s' % (
        key, short_repr(name), _name_hint(name, known, 'known', '; define it in %s' % section)))
    return None


# Names listed when a name is unknown and none is close; a catalog may hold thousands.
NAMES_LISTED = 10


def _name_hint(name, known, label, otherwise):
    """'; did you mean X?', else '; <label>: ' and the first NAMES_LISTED of ``known``,
    else ``otherwise`` when there are none."""
    names = sorted(known)
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6) if len(name) <= 64 else None
    if close:
        return '; did you mean %s?' % short_repr(close[0])
    if not names:
        return otherwise
    more = len(names) - NAMES_LISTED
    return '; %s: %s%s' % (label, ', '.join(short_repr(known_name, 40) for known_name in names[:NAMES_LISTED]),
                           ' and %d more' % more if more > 0 else '')


def _groups(checker, vm, policy_name, known):
    """The groups ``vm`` joins; ``known``: the group names of its placement policy."""
    names = []
    for position, name in enumerate(checker.items(vm, 'groups')):
        field = 'groups[%d]' % position
        if not isinstance(name, str) or not name.strip():
            checker.add(field, 'wrong_type', '%s must be the name of a group, got %s' % (field, describe(name)))
        elif name not in known:
            where = 'placement policy %s' % short_repr(policy_name) if policy_name else 'no placement policy (and the catalog has none named default)'
            checker.add(field, 'unknown_group', 'group %s is not an affinity or anti_affinity group of %s%s' % (
                short_repr(name), where, _name_hint(name, known, 'its groups', '; define the group in the policy')))
        elif name not in names:
            names.append(name)
    return names


# --------------------------------------------------------------------------- contradictions

def _contradictions(checker, vm):
    efi = vm['firmware'] == 'efi'
    machine = vm['machine'] or ''
    x86 = vm['arch'] in (None, 'x86_64', 'i686')
    if vm['secure_boot'] and not efi:
        checker.add('secure_boot', 'secure_boot_needs_efi', 'secure_boot: true needs firmware: efi (firmware is %s)' % vm['firmware'])
    if vm['secure_boot'] and x86 and I440FX_RE.match(machine):
        checker.add('machine', 'secure_boot_needs_q35', 'secure_boot needs a q35 machine type (SMM); machine %s is i440fx' % short_repr(machine))
    if vm['tpm'] and (vm['arch'] in NO_TPM_ARCHES or (x86 and NO_TPM_MACHINE_RE.match(machine))):
        checker.add('tpm', 'tpm_unsupported_machine', 'tpm %s: machine %s on %s has no TPM device; use q35 (or pc) or drop tpm'
                    % (vm['tpm'], short_repr(machine or 'default'), short_repr(vm['arch'] or 'the host arch')))
    encryption = vm['memory_encryption']
    if encryption:
        if not x86:
            checker.add('memory_encryption', 'memory_encryption_arch', 'memory_encryption %s exists on x86_64 only, arch is %s'
                        % (encryption, vm['arch']))
        if not efi:
            checker.add('memory_encryption', 'memory_encryption_needs_efi', 'memory_encryption %s boots with UEFI firmware only; '
                        'set firmware: efi' % encryption)
        if vm['hugepages'] and encryption in ('sev-snp', 'tdx'):
            checker.add('hugepages', 'memory_encryption_hugepages', '%s guests keep private memory in guest_memfd, which hugepages '
                        'cannot back; drop hugepages or use sev/sev-es' % encryption)
    cpu = vm['cpu']
    if cpu['mode'] == 'custom' and not cpu['model']:
        checker.add('cpu.model', 'cpu_custom_needs_model', 'cpu.mode custom needs cpu.model (e.g. EPYC-Milan)')
    if cpu['model'] and cpu['mode'] != 'custom':
        checker.add('cpu.model', 'cpu_model_needs_custom', 'cpu.model %s is used with cpu.mode custom only (mode is %s)'
                    % (short_repr(cpu['model']), cpu['mode']))
    if vm['numa_nodes'] > vm['vcpus']:
        checker.add('numa_nodes', 'numa_nodes_exceed_vcpus', 'numa_nodes %d is more than vcpus %d: every NUMA node needs a vCPU'
                    % (vm['numa_nodes'], vm['vcpus']))
    page = HUGEPAGES.get(vm['hugepages'])
    if page and vm['memory_mb'] % page:
        checker.add('memory_mb', 'hugepages_misaligned', 'memory_mb %d is not a multiple of the %s hugepage size (%d MiB)'
                    % (vm['memory_mb'], vm['hugepages'], page))
    both = sorted(set(vm['required_traits']) & set(vm['forbidden_traits']))
    if both:
        checker.add('forbidden_traits', 'trait_required_and_forbidden', '%s both required and forbidden (resource class and placement policy included)'
                    % ', '.join(both))
    sized = sum(disk['size_gb'] for disk in vm['disks'])
    if vm['disk_gb'] and sized > vm['disk_gb']:
        checker.add('disks', 'disks_exceed_disk_gb', 'the disks add up to %d GB, more than disk_gb %d' % (sized, vm['disk_gb']), 'warning')


# --------------------------------------------------------------------------- entry point

def check_vm(vm, index, catalog, problems, memo=None):
    """Checks ``vm`` (the item at ``vms[index]``) on its own against ``catalog`` (a
    vm_catalog.Catalog). Appends to ``problems``; returns the resolved VM, or None when it has
    errors.

    ``memo``: a dict kept over the VMs of one batch checked against one catalog. A VM of
    plain values (names, numbers, lists of names) that differs from an earlier one only in
    its name gets that one's result under its own name, its problems again included: a
    fleet has thousands of VMs of a few sizes. Their resolved VMs share what they hold,
    which nobody changes."""
    key = _memo_key(vm) if memo is not None else None
    if key is None:
        return _check_vm(vm, index, catalog, problems)
    found = memo.get(key)
    if found is None:
        start = len(problems)
        resolved = _check_vm(vm, index, catalog, problems)
        memo[key] = (resolved, problems[start:])
        return resolved
    resolved, raised = found
    name = vm['name']
    problems.extend(dict(entry, vm=name, hosts={}) for entry in raised)
    return None if resolved is None else dict(resolved, name=name)


_PLAIN = (str, bool, int, type(None))


def _memo_key(vm):
    """What ``vm`` holds apart from its name, exact types included (1, 1.0 and true differ),
    or None when the VM is not all plain values or has no valid name (its problems then
    name its index)."""
    if not isinstance(vm, dict) or not isinstance(vm.get('name'), str) or not NAME_RE.match(vm['name']):
        return None
    found = []
    for key, value in vm.items():
        if key == 'name':
            continue
        kind = value.__class__
        if kind is list and all(item.__class__ is str for item in value):
            value = tuple(value)
        elif kind not in _PLAIN:
            return None
        found.append((key, kind, value))
    return tuple(found)


def _check_vm(vm, index, catalog, problems):
    if not isinstance(vm, dict):
        problems.append(problem('vms[%d]' % index, 'vms[%d]' % index, 'wrong_type',
                                'vms[%d] must be a mapping (a VM definition), got %s' % (index, describe(vm))))
        return None
    name = vm.get('name')
    label = name if isinstance(name, str) and NAME_RE.match(name) else 'vms[%d]' % index
    checker = _Checker(label, problems)
    _name(vm, index, checker)
    checker.unknown_keys(vm, FIELDS, '')

    rclass_name = _catalog_name(checker, vm, 'resource_class', catalog.resource_classes, 'hostcaps_resource_classes')
    rclass = catalog.resource_classes.get(rclass_name) or {}
    resolved = {'name': label}
    for key, minimum in SIZED:
        value = checker.integer(vm, key, minimum, default=rclass.get(key))
        if value is None and vm.get(key) is None and rclass.get(key) is None and vm.get('resource_class') is None:
            checker.add(key, 'missing_key', '%s is required without a resource_class; add %s: <integer >= %d>'
                        % (key, key, minimum))
        resolved[key] = value
    resolved.update({
        'arch': checker.string(vm, 'arch', pattern=re.compile(r'^[a-z0-9_]+$'), hint='; use a libvirt arch such as x86_64 or aarch64'),
        'machine': checker.string(vm, 'machine', pattern=re.compile(r'^[A-Za-z0-9_.-]+$'), hint='; use q35, pc or a versioned name'),
        'virt_type': checker.choice(vm, 'virt_type', VIRT_TYPES, 'kvm'),
        'firmware': checker.choice(vm, 'firmware', FIRMWARES, 'bios'),
        'secure_boot': checker.boolean(vm, 'secure_boot', False),
        'tpm': _tpm(checker, vm),
        'memory_encryption': checker.choice(vm, 'memory_encryption', MEMORY_ENCRYPTIONS + (None,), None),
        'cpu': _cpu(checker, vm),
        'hugepages': checker.choice(vm, 'hugepages', tuple(HUGEPAGES) + (None,), None),
        'numa_nodes': checker.integer(vm, 'numa_nodes', 1, default=1),
        'sriov_vfs': checker.integer(vm, 'sriov_vfs', 0, default=0),
        'pci_devices': _pci_devices(checker, vm),
        'disks': _disks(checker, vm, resolved['disk_gb']),
        'networks': _networks(checker, vm),
        'resources': dict(rclass.get('resources') or {}),
        'qos_policy': _catalog_name(checker, vm, 'qos_policy', catalog.qos_policies, 'hostcaps_qos_policies'),
    })
    policy_name = _catalog_name(checker, vm, 'placement_policy', catalog.placement_policies, 'hostcaps_placement_policies')
    if vm.get('placement_policy') is None and DEFAULT_POLICY in catalog.placement_policies:
        policy_name = DEFAULT_POLICY
    policy = catalog.placement_policies.get(policy_name) or {}
    resolved.update({
        'required_traits': sorted(set(_traits(checker, vm, 'required_traits')) | set(rclass.get('required_traits') or ())
                                  | set(policy.get('required_traits') or ())),
        'forbidden_traits': sorted(set(_traits(checker, vm, 'forbidden_traits')) | set(rclass.get('forbidden_traits') or ())
                                   | set(policy.get('forbidden_traits') or ())),
        'placement_policy': policy_name,
        'groups': _groups(checker, vm, policy_name, catalog.group_names(policy_name)),
        # What the host-side checks take from the policy: where the VM may go, and the
        # resources kept back on every host.
        'hosts': list(policy.get('hosts') or ()),
        'allocation_ratios': dict(policy.get('allocation_ratios') or {}),
        'reserved': dict(policy.get('reserved') or {}),
    })
    if checker.errors:
        return None
    _contradictions(checker, resolved)
    return None if checker.errors else resolved


def duplicate_names(vms, problems):
    """One problem per name used by more than one VM."""
    seen = {}
    for index, vm in enumerate(vms):
        name = vm.get('name') if isinstance(vm, dict) else None
        if isinstance(name, str):
            seen.setdefault(name, []).append(index)
    for name, indexes in seen.items():
        if len(indexes) > 1:
            problems.append(problem(name, 'name', 'duplicate_name', 'name %s is used by vms[%s]; names must be unique'
                                    % (short_repr(name), '], vms['.join(str(i) for i in indexes))))
    return set(name for name, indexes in seen.items() if len(indexes) > 1)
