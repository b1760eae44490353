# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A resolved VM definition against hosts' facts: which hosts can run it and, for every
other host, the first requirement it fails or cannot confirm.

``HostIndex`` reads each host's facts once into a ``HostView`` (parsing); ``check`` and
``first_pass`` read only those views (deciding). A requirement whose fact is null or
missing is ``unknown`` on that host, never passed and never failed: libvirt omits what it
does not know, and a category that could not be read is null.

The VM comes resolved by ``vm_spec`` (defaults and resource class applied): ``{name, vcpus,
memory_mb, disk_gb, arch, machine, virt_type, firmware, secure_boot, tpm,
memory_encryption, cpu: {mode, model, features, dedicated}, hugepages, numa_nodes,
sriov_vfs, pci_devices, disks, networks, required_traits, forbidden_traits, resources,
placement_policy, qos_policy, groups, hosts, allocation_ratios, reserved}``, the placement
policy's traits already among the VM's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import re

from collections.abc import Mapping

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.fact_shape import MalformedFacts
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.facts_input import (
    SCHEMA_VERSION, as_list, dig, unwrap_host_facts,
)
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.resources import (
    derive_resources, host_memory_mb, validate_allocation_ratios, validate_reserved,
)
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.traits import (
    custom_trait_failure, derive_traits, evaluate_custom_traits, normalize_custom_traits, sriov_traits,
)
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import describe, short_name, short_repr, type_name

PASS, UNKNOWN, FAIL = 'pass', 'unknown', 'fail'

X86_ARCHES = ('x86_64', 'i686')
HUGEPAGE_SIZES_KB = {'2M': 2048, '1G': 1048576}
# CRB and the sPAPR vTPM speak TPM 2.0 only; TIS speaks both.
TPM_MODELS_FOR_VERSION = {'1.2': ('tpm-tis',), '2.0': ('tpm-crb', 'tpm-tis', 'tpm-spapr')}
ENCRYPTION_NAMES = {'sev': 'AMD SEV', 'sev-es': 'AMD SEV-ES', 'sev-snp': 'AMD SEV-SNP', 'tdx': 'Intel TDX'}
# Versioned machine types end in the QEMU release: pc-q35-7.2, virt-7.2, pseries-8.0.
MACHINE_VERSION_RE = re.compile(r'^(.+?)-\d+(\.\d+)+$')
# SRIOV_NET_VF has its own rule, which knows when free VFs are unknown.
OWN_RULE_RESOURCES = ('SRIOV_NET_VF',)
# Resource classes whose "used" counts only domains that sriov_facts saw.
ASSIGNMENT_RESOURCES = ('PGPU',)
# A host's own settings, read beside ansible_facts when hosts holds hostvars.
OWN_RATIOS, OWN_RESERVED, OWN_CUSTOM = 'hostcaps_allocation_ratios', 'hostcaps_reserved', 'hostcaps_custom_resources'
CUSTOM_RESOURCE_RE = re.compile(r'^CUSTOM_[A-Z0-9_]+$')

_ABSENT = object()


def _int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _tri(value):
    return value if isinstance(value, bool) else None


def _strings(value):
    """The strings of a list, or None when the value is not a list (unknown)."""
    if not isinstance(value, list):
        return None
    if set(map(type, value)) <= _STR_TYPE:
        return list(value)  # names, as facts hold them: told in C
    return [item for item in value if isinstance(item, str)]


_STR_TYPE = frozenset((str,))


def machine_family(name):
    """``pc-q35`` for ``pc-q35-7.2``; an unversioned name is its own family."""
    match = MACHINE_VERSION_RE.match(name or '')
    return match.group(1) if match else name


def is_q35(machine):
    return machine == 'q35' or machine_family(machine) == 'pc-q35'


def page_label(size_kb):
    for unit, factor in (('G', 1048576), ('M', 1024)):
        if size_kb % factor == 0:
            return '%d%s' % (size_kb // factor, unit)
    return '%dK' % size_kb


def _names(items, limit=8):
    items = list(items)
    shown = ', '.join(str(item) for item in items[:limit])
    return shown + (', ... (%d in all)' % len(items) if len(items) > limit else '') if items else 'none'


# -- reading the facts: once per host -------------------------------------------------


class Probe:
    """One ``domain_capabilities`` entry, reduced to what the checks read. Every truth
    value is tri-state; None means libvirt did not say."""

    __slots__ = ('label', 'machine', 'max_vcpus', 'efi', 'bios', 'secure_loader', 'loader_secure',
                 'tpm', 'tpm_backends', 'tpm_versions', 'tpm_models', 'sev', 'max_guests', 'max_es_guests',
                 'snp', 'tdx', 'sectypes', 'cpu_modes', 'cpu_models', 'host_model_name', 'host_model_features',
                 'host_model_disabled', 'disk_buses')

    def __init__(self, entry):
        self.machine = entry.get('machine')
        self.label = '%s/%s/%s' % (entry.get('arch'), self.machine, entry.get('virttype'))
        self.max_vcpus = _int(entry.get('max_vcpus'))
        self._read_os(entry.get('arch'), entry.get('os'))
        self._read_tpm(dig(entry, 'devices', 'tpm'))
        self._read_security(entry.get('features') if isinstance(entry.get('features'), dict) else {})
        self._read_cpu(entry.get('cpu'))
        disk = dig(entry, 'devices', 'disk')
        if not isinstance(disk, dict):
            self.disk_buses = None
        elif disk.get('supported') is False:
            self.disk_buses = frozenset()
        else:
            buses = _strings(disk.get('bus'))
            self.disk_buses = None if buses is None else frozenset(buses)

    def _read_os(self, arch, os_caps):
        if not isinstance(os_caps, dict):
            self.efi = self.bios = self.secure_loader = self.loader_secure = None
            return
        firmware = _strings(os_caps.get('firmware'))
        loader = os_caps.get('loader') if isinstance(os_caps.get('loader'), dict) else None
        paths = _strings((loader or {}).get('paths')) or []
        if (firmware and 'efi' in firmware) or paths:
            self.efi = True
        elif firmware is None and loader is None:
            self.efi = None
        else:
            self.efi = False
        # QEMU boots every x86 machine with its built-in SeaBIOS; other arches only
        # have BIOS when libvirt lists it.
        if firmware and 'bios' in firmware:
            self.bios = True
        elif arch in X86_ARCHES:
            self.bios = True if os_caps.get('supported') is True else None
        else:
            self.bios = None if firmware is None else False
        self.loader_secure = None if loader is None else _strings(loader.get('secure'))
        if self.loader_secure is None:
            self.secure_loader = None
        else:
            self.secure_loader = 'yes' in self.loader_secure and bool(paths)

    def _read_tpm(self, tpm):
        if not isinstance(tpm, dict):
            self.tpm, self.tpm_backends, self.tpm_versions, self.tpm_models = None, None, None, None
            return
        self.tpm = _tri(tpm.get('supported'))
        self.tpm_backends = _strings(tpm.get('backend_model'))
        # The version enum appeared in libvirt 8.x; without it the versions are unknown.
        self.tpm_versions = _strings(tpm.get('backend_version'))
        self.tpm_models = _strings(tpm.get('model'))

    def _read_security(self, features):
        sev = features.get('sev') if isinstance(features.get('sev'), dict) else None
        self.sev = None if sev is None else _tri(sev.get('supported'))
        self.max_guests = None if sev is None else _int(sev.get('max_guests'))
        self.max_es_guests = None if sev is None else _int(sev.get('max_es_guests'))
        launch = features.get('launch_security') if isinstance(features.get('launch_security'), dict) else None
        if launch is None or launch.get('supported') is None:
            self.sectypes = None
        else:
            self.sectypes = (_strings(launch.get('sectype')) or []) if launch.get('supported') else []
        self.snp = False if self.sev is False else self._launch_type(features, 'sev_snp', 'sev-snp')
        self.tdx = self._launch_type(features, 'tdx', 'tdx')

    def _launch_type(self, features, element, sectype):
        """A launch security type from its own element or from ``<launchSecurity>``."""
        own = features.get(element)
        if isinstance(own, dict) and isinstance(own.get('supported'), bool):
            return own['supported']
        return None if self.sectypes is None else sectype in self.sectypes

    def _read_cpu(self, cpu):
        if not isinstance(cpu, dict):
            self.cpu_modes, self.cpu_models, self.host_model_name = {}, None, None
            self.host_model_features = self.host_model_disabled = frozenset()
            return
        host_model = cpu.get('host_model') if isinstance(cpu.get('host_model'), dict) else {}
        self.cpu_modes = {
            'host-passthrough': _tri(cpu.get('host_passthrough')),
            'host-model': _tri(host_model.get('supported')),
            'maximum': _tri(cpu.get('maximum')),
            'custom': _tri(cpu.get('custom_supported')),
        }
        self.host_model_name = host_model.get('name') if isinstance(host_model.get('name'), str) else None
        self.host_model_features = frozenset(_strings(host_model.get('required_features')) or ())
        self.host_model_disabled = frozenset(_strings(host_model.get('disabled_features')) or ())
        models = cpu.get('models') if isinstance(cpu.get('models'), dict) else None
        if models is None or self.cpu_modes['custom'] is None:
            self.cpu_models = None
            return
        self.cpu_models = {}
        for group, verdict in (('unknown', None), ('unusable', False), ('usable', True)):
            for name in _strings(models.get(group)) or ():
                self.cpu_models[name] = verdict


class Guest:
    """What the capabilities' ``<guest>`` elements of one arch offer."""

    __slots__ = ('domain_types', 'machines', 'default_machine')

    def __init__(self):
        self.domain_types = set()
        self.machines = {}  # name or alias -> (canonical name, maxCpus)
        self.default_machine = None


class Target:
    """Where a VM lands on one host: the guest arch, its machine and that machine's probe,
    with the first problem of arch, virt_type or machine (or None)."""

    __slots__ = ('arch', 'machine', 'label', 'max_cpus', 'probe', 'missing_probe', 'outcome')


class HostView:
    """The facts of one host in the form the checks read; built once by ``read_host``."""

    __slots__ = ('name', 'arch', 'guests', 'probes', 'families', 'default_machines', 'domcaps_null',
                 'memory_mb', 'online_cpus', 'page_sizes_kb', 'hugepages', 'cpu_model', 'cpu_features',
                 'cpu_features_complete', 'guest_features', 'sev_used', 'sriov_known', 'assignments_known', 'total_vfs',
                 'free_vfs', 'pci', 'resources', 'own_ratios', 'own_reserved', 'pools', 'networks', 'traits', 'trait_failures',
                 'targets', 'cells', 'domains')

    def target(self, arch, machine, virt_type):
        key = (arch, machine, virt_type)
        found = self.targets.get(key)
        if found is None:
            found = self.targets[key] = resolve_target(self, arch, machine, virt_type)
        return found


class HostWithoutFacts(ValueError):
    """A host has no ``libvirt_host_caps`` facts at all (unreachable, failed, never
    gathered): it is skipped, not an error in the input."""


class HostWithMalformedFacts(ValueError):
    """A host's facts have a value of the wrong type where the checks read (a list for a
    mapping, a mapping for a name): the host is left out and named, not an error in the
    input as a whole. The message lists the paths, from ``hosts.<name>``."""


def read_host(name, data, custom_traits=None):
    """A ``HostView`` of ``data`` (hostvars[host].ansible_facts, or the bare
    libvirt_host_caps). Raises HostWithoutFacts (the message says what is missing) or
    ValueError naming the path of what is wrong."""
    path = 'hosts.%s' % short_name(name)
    missing = _missing_facts(data)
    if missing:
        raise HostWithoutFacts(missing)
    if not isinstance(data, Mapping):
        raise ValueError('%s: expected the facts of host %s (hostvars[%s].ansible_facts, a mapping), got %s'
                         % (path, name, short_repr(name), describe(data)))
    try:
        facts, sriov = unwrap_host_facts(data)
    except ValueError as exc:
        raise ValueError('%s: %s' % (_facts_path(path, data), exc))
    if sriov is not None and not isinstance(sriov, Mapping):
        raise ValueError('%s.sriov: expected the sriov facts (a mapping) or nothing, got %s; gather them with '
                         'virtumancer.hostcaps.sriov_facts' % (_holder_path(path, data), type_name(sriov)))
    sriov = dict(sriov) if sriov is not None else None
    try:
        # derive_resources checks the shape of the facts first, for every rule below.
        resources = derive_resources(facts, sriov)
    except MalformedFacts as exc:
        raise HostWithMalformedFacts(str(exc.under({
            'libvirt_host_caps': _facts_path(path, data).split('.'), 'sriov': (_holder_path(path, data) + '.sriov').split('.')})))
    view = HostView()
    view.name = name
    view.targets = {}
    view.own_ratios, view.own_reserved, custom = _own_settings(path, data)
    for resource, total in custom.items():
        resources[resource] = {'total': total, 'reserved': 0, 'used': 0, 'allocation_ratio': 1.0}
    _read_virt(view, facts)
    _read_memory(view, facts)
    _read_cpu(view, facts)
    _read_sriov(view, sriov)
    _read_storage_and_network(view, facts)
    _read_cells_and_domains(view, facts)
    view.resources = resources
    view.sev_used = _int(dig(view.resources, 'MEM_ENCRYPTION_CONTEXT', 'used')) or 0
    traits = facts.get('traits')
    traits = set(traits) if isinstance(traits, list) else set(derive_traits(facts))
    traits.update(sriov_traits(sriov))
    try:
        custom, failures = evaluate_custom_traits(custom_traits, facts, sriov)
    except ValueError as exc:
        raise ValueError('%s: %s' % (path, exc))
    except ImportError as exc:
        raise ValueError(str(exc))
    traits.update(custom)
    view.traits = frozenset(traits)
    view.trait_failures = dict((trait, custom_trait_failure(trait, failure, name)) for trait, failure in failures.items())
    return view


def _own_settings(path, data):
    """The host's own allocation ratios, reserved amounts and custom resource inventory,
    from its host variables beside ``ansible_facts`` (none when ``data`` is only facts)."""
    if not isinstance(data.get('ansible_facts'), Mapping):
        return {}, {}, {}
    try:
        ratios = validate_allocation_ratios(data.get(OWN_RATIOS))
        reserved = validate_reserved(data.get(OWN_RESERVED))
    except ValueError as exc:
        raise ValueError('%s.%s' % (path, str(exc).replace('allocation_ratios', OWN_RATIOS, 1).replace('reserved', OWN_RESERVED, 1)))
    custom = data.get(OWN_CUSTOM)
    if custom is None:
        return ratios, reserved, {}
    if not isinstance(custom, Mapping):
        raise ValueError('%s.%s: expected a mapping of CUSTOM_ resource class to its total, e.g. {CUSTOM_NVME_SLOT: 4}, got %s'
                         % (path, OWN_CUSTOM, type_name(custom)))
    for key, value in custom.items():
        if not isinstance(key, str) or not CUSTOM_RESOURCE_RE.match(key):
            raise ValueError('%s.%s: %s is not a CUSTOM_[A-Z0-9_]+ resource class; the standard classes come from the facts'
                             % (path, OWN_CUSTOM, short_repr(key)))
        if _int(value) is None or value < 0:
            raise ValueError('%s.%s.%s: expected a whole number >= 0, got %s' % (path, OWN_CUSTOM, key, describe(value)))
    return ratios, reserved, dict(custom)


def effective_inventory(view, ratios=None, reserved=None):
    """``{class: (capacity, used)}`` of a host for a placement policy: the policy's
    ``allocation_ratios`` and ``reserved`` where it sets a class, else the host's own
    (hostcaps_allocation_ratios, hostcaps_reserved), else the facts' (1.0 and 0).
    ``capacity`` is ``(total - reserved) * allocation_ratio``."""
    found = {}
    for name, inventory in view.resources.items():
        ratio = (ratios or {}).get(name, view.own_ratios.get(name, inventory['allocation_ratio']))
        kept = (reserved or {}).get(name, view.own_reserved.get(name, inventory['reserved']))
        found[name] = ((inventory['total'] - kept) * ratio, inventory['used'])
    return found


def host_allowed(patterns, host):
    """True when a placement policy's ``hosts`` patterns admit ``host`` (no patterns: any)."""
    return not patterns or any(fnmatch.fnmatchcase(str(host), pattern) for pattern in patterns)


def _missing_facts(data):
    """What a host without libvirt_host_caps facts lacks, or None when it has them (or
    has something else that is not facts, which read_host refuses)."""
    if data is None:
        return 'no facts (null)'
    if not isinstance(data, Mapping):
        return None
    holder = data['ansible_facts'] if isinstance(data.get('ansible_facts'), Mapping) else data
    if not holder:
        return 'no facts at all'
    if 'libvirt_host_caps' in holder:
        return 'libvirt_host_caps is null' if holder['libvirt_host_caps'] is None else None
    if 'schema_version' in holder or 'host_info' in holder or 'cpu_info' in holder:
        return None
    return 'facts, but no libvirt_host_caps among them (%s)' % _names(sorted(str(key) for key in holder), limit=5)


def _holder_path(path, data):
    return path + '.ansible_facts' if isinstance(data.get('ansible_facts'), Mapping) else path


def _facts_path(path, data):
    """The path of what ``unwrap_host_facts`` refused, for its message."""
    path = _holder_path(path, data)
    holder = data['ansible_facts'] if isinstance(data.get('ansible_facts'), Mapping) else data
    facts = holder
    if 'libvirt_host_caps' in holder:
        path += '.libvirt_host_caps'
        facts = holder['libvirt_host_caps']
    if isinstance(facts, Mapping) and facts.get('schema_version') not in (None, SCHEMA_VERSION):
        path += '.schema_version'
    return path


def _read_virt(view, facts):
    view.arch = dig(facts, 'host_info', 'arch') or dig(facts, 'cpu_info', 'arch')
    guests = dig(facts, 'virt_info', 'guests')
    if isinstance(guests, list):
        view.guests = {}
        for guest in guests:
            if not isinstance(guest, dict) or guest.get('os_type') != 'hvm' or not guest.get('arch'):
                continue
            seen = view.guests.setdefault(guest['arch'], Guest())
            seen.domain_types.update(_strings(guest.get('domain_types')) or ())
            machines = [machine for machine in as_list(guest.get('machines'))
                        if isinstance(machine, dict) and isinstance(machine.get('name'), str)]
            if machines and seen.default_machine is None:
                # libvirt lists an arch's default machine first.
                seen.default_machine = machines[0].get('canonical') or machines[0]['name']
            # The first entry of a name wins, that of an earlier <guest> of the arch too.
            found = dict((machine['name'], (machine.get('canonical') or machine['name'], _int(machine.get('max_cpus'))))
                         for machine in reversed(machines))
            found.update(seen.machines)
            seen.machines = found
    else:
        view.guests = None
    entries = facts.get('domain_capabilities')
    view.domcaps_null = not isinstance(entries, list)
    view.probes, view.families, view.default_machines = {}, {}, {}
    for entry in as_list(entries):
        if not isinstance(entry, dict) or not entry.get('machine'):
            continue
        probe = Probe(entry)
        arch, virt_type = entry.get('arch'), entry.get('virttype')
        for machine in (entry['machine'], entry.get('requested_machine')):
            if machine:
                view.probes.setdefault((arch, machine, virt_type), probe)
        view.families.setdefault((arch, machine_family(entry['machine']), virt_type), probe)
        if entry.get('default_machine') is True:
            view.default_machines.setdefault(arch, entry['machine'])


def _read_memory(view, facts):
    view.memory_mb = host_memory_mb(facts)
    view.online_cpus = _int(dig(facts, 'host_info', 'online_cpus'))
    sizes = dig(facts, 'memory_info', 'page_sizes_kb')
    view.page_sizes_kb = None if not isinstance(sizes, list) else frozenset(s for s in sizes if _int(s))
    view.hugepages = {}
    for pool in as_list(dig(facts, 'memory_info', 'hugepages')):
        if isinstance(pool, dict) and _int(pool.get('size_kb')):
            view.hugepages[pool['size_kb']] = (_int(pool.get('total')), _int(pool.get('free')))


def _read_cpu(view, facts):
    cpu = facts.get('cpu_info') if isinstance(facts.get('cpu_info'), dict) else {}
    view.cpu_model = cpu.get('model') or dig(facts, 'host_info', 'cpu_model')
    features = _strings(cpu.get('features'))
    view.cpu_features = frozenset(features or ())
    # Only the baseline expansion lists the named model's own features; the
    # capabilities list just the ones beyond it, so an absent feature is unknown there.
    view.cpu_features_complete = features is not None and cpu.get('features_source') == 'baseline'
    guest = cpu.get('guest_features') if isinstance(cpu.get('guest_features'), dict) else {}
    custom = guest.get('custom') if isinstance(guest.get('custom'), dict) else {}
    # CPU mode (or ('custom', model)) -> the features a guest gets there, None when unknown.
    view.guest_features = {}
    for mode, listed in (('host-model', guest.get('host_model')), ('host-passthrough', guest.get('host_passthrough'))):
        found = _strings(listed)
        view.guest_features[mode] = None if found is None else frozenset(found)
    for model, listed in custom.items():
        found = _strings(listed)
        view.guest_features[('custom', model)] = None if found is None else frozenset(found)


def _read_sriov(view, sriov):
    summary = dig(sriov, 'summary') or {}
    view.sriov_known = isinstance(sriov, dict)
    view.assignments_known = summary.get('assignments_known') is True
    view.total_vfs = _int(summary.get('total_vfs'))
    view.free_vfs = _int(summary.get('free_vfs'))
    view.pci = {}
    if not view.sriov_known:
        return
    devices = [d for d in as_list(sriov.get('passthrough_devices')) + as_list(sriov.get('virtual_functions')) if isinstance(d, dict)]
    for device in devices:
        key = (_pci_id(device.get('vendor_id')), _pci_id(device.get('device_id')))
        if None in key:
            continue
        # ready: free for sure; possible: not known to be taken or no candidate; total; used;
        # not candidates; the reasons of those and of the unknown ones
        counts = view.pci.setdefault(key, [0, 0, 0, 0, 0, [], []])
        counts[2] += 1
        if device.get('assigned_to'):
            counts[3] += 1
            continue
        candidate = device.get('candidate')
        if candidate is False:
            counts[4] += 1
            counts[5].append('%s: %s' % (device.get('address'), device.get('reason')))
            continue
        counts[1] += 1
        if candidate is True and view.assignments_known:
            counts[0] += 1
        elif candidate is not True:
            counts[6].append('%s: %s' % (device.get('address'), device.get('reason') or 'not judged (facts from before passthrough candidates)'))


def _pci_id(value):
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    return text[2:] if text.startswith('0x') else text


def _read_cells_and_domains(view, facts):
    """NUMA cells as ``[(id, cpus, total_mb, {page size_kb: free pages})]`` (None when the
    facts list none) and the domains as ``{name: active}`` (None when not read)."""
    cells = dig(facts, 'memory_info', 'cells')
    view.cells = None
    if isinstance(cells, list) and cells:
        view.cells = []
        for cell in cells:
            if not isinstance(cell, dict):
                continue
            pages = {}
            for page in as_list(cell.get('pages')):
                if isinstance(page, dict) and _int(page.get('size_kb')):
                    pages[page['size_kb']] = _int(page.get('free'))
            cpus = cell.get('cpus')
            view.cells.append((cell.get('id'), len(cpus) if isinstance(cpus, list) else None, _int(cell.get('total_mb')), pages))
    listed = dig(facts, 'virt_info', 'domains', 'list')
    view.domains = None
    if isinstance(listed, list):
        view.domains = dict((domain['name'], _tri(domain.get('active'))) for domain in listed
                            if isinstance(domain, dict) and isinstance(domain.get('name'), str))


def _read_storage_and_network(view, facts):
    pools = dig(facts, 'storage_info', 'pools')
    view.pools = None
    if isinstance(pools, list):
        view.pools = {}
        for pool in pools:
            if isinstance(pool, dict) and pool.get('name'):
                view.pools.setdefault(pool['name'], (_tri(pool.get('active')), _number(pool.get('available_gb'))))
    networks = dig(facts, 'network_info', 'networks')
    view.networks = None
    if isinstance(networks, list):
        view.networks = {}
        for network in networks:
            if isinstance(network, dict) and network.get('name'):
                view.networks.setdefault(network['name'], _tri(network.get('active')))


# -- where the VM lands: once per host and (arch, machine, virt_type) -----------------


def resolve_target(view, arch, machine, virt_type):
    """The guest arch, machine and probe a VM asking for (arch, machine, virt_type) gets."""
    target = Target()
    target.arch = arch = arch or view.arch
    guest = view.guests.get(arch) if view.guests is not None else None
    target.outcome = _offered(view, arch, guest, virt_type)
    target.max_cpus = None
    if machine:
        canonical, target.max_cpus = guest.machines.get(machine, (None, None)) if guest else (None, None)
        if canonical is None and (arch, machine, virt_type) in view.probes:
            canonical = view.probes[(arch, machine, virt_type)].machine
        if canonical is None and guest is not None and target.outcome is None:
            target.outcome = _machine_unsupported(arch, guest, machine)
        target.machine, target.label = canonical or machine, machine
    else:
        target.machine = view.default_machines.get(arch) or (guest.default_machine if guest else None)
        if guest is not None and target.machine:
            target.max_cpus = guest.machines.get(target.machine, (None, None))[1]
        target.label = 'default machine %s' % target.machine if target.machine else 'the default machine'
    exact = view.probes.get((arch, target.machine, virt_type))
    if exact is not None and target.outcome is not None and target.outcome[0] == UNKNOWN:
        target.outcome = None  # libvirt answered for exactly this arch, machine and virt_type
    # A versioned machine shares the probe of its family (pc-q35-6.2 that of pc-q35-7.2):
    # firmware descriptors and QEMU features are declared per family, while maxCpus is
    # still checked per version from the capabilities.
    target.probe = exact or view.families.get((arch, machine_family(target.machine), virt_type))
    if view.domcaps_null:
        target.missing_probe = ('domain_capabilities is null in the facts (libvirt refuses them on a read-only connection; '
                                'gather with read_only auto or false, as root or in the libvirt group)')
    else:
        target.missing_probe = ('no domain capabilities for %s/%s/%s in the facts (not probed, or libvirt refused the probe; '
                                'see errors, or add it to the domain_capabilities option)' % (arch, target.machine or 'default', virt_type))
    return target


def _offered(view, arch, guest, virt_type):
    """The problem with the guest arch or virt_type, or None."""
    if arch is None:
        return (UNKNOWN, 'arch_unsupported', 'arch',
                'cannot confirm the guest arch: the VM names none and the facts do not say the host arch (host_info.arch is null)')
    if view.guests is None:
        return (UNKNOWN, 'arch_unsupported', 'arch',
                'cannot confirm that %s guests run here: virt_info.guests is null (the capabilities were not read)' % arch)
    if guest is None:
        return _fail('arch_unsupported', 'arch', 'arch %s is not offered; this host runs %s guests'
                     % (arch, _names(sorted(view.guests)) if view.guests else 'no'))
    if virt_type not in guest.domain_types:
        return _fail('virt_type_unsupported', 'virt_type', 'virt_type %s is not offered for %s guests; this host offers %s%s'
                     % (virt_type, arch, _names(sorted(guest.domain_types)), ' (KVM is not available to libvirt here)' if virt_type == 'kvm' else ''))
    return None


def _machine_unsupported(arch, guest, machine):
    aliases = sorted('%s (%s)' % (name, found[0]) for name, found in guest.machines.items() if found[0] != name)
    versioned = len([name for name, found in guest.machines.items() if found[0] == name])
    return _fail('machine_unsupported', 'machine', 'machine %s is not offered for %s; aliases offered: %s; %d machine types in all'
                 % (machine, arch, _names(aliases), versioned))


# -- the VM's requirements: once per VM ------------------------------------------------


class Request:
    """A VM definition reduced to what the rules read, with the rules that apply to it."""

    __slots__ = ('arch', 'machine', 'virt_type', 'vcpus', 'memory_mb', 'firmware', 'secure_boot', 'tpm',
                 'encryption', 'cpu_mode', 'cpu_model', 'cpu_features', 'dedicated', 'hugepages', 'pages_needed',
                 'page_kb', 'vfs_needed', 'vfs_field', 'pci', 'resources', 'disks', 'pool_need', 'networks',
                 'required_traits', 'forbidden_traits', 'hosts', 'policy', 'ratios', 'reserved', 'rules')


def compile_request(vm):
    """The ``Request`` of a resolved VM definition."""
    req = Request()
    cpu = vm.get('cpu') or {}
    req.arch, req.machine, req.virt_type = vm.get('arch'), vm.get('machine'), vm.get('virt_type') or 'kvm'
    req.vcpus, req.memory_mb = vm.get('vcpus') or 0, vm.get('memory_mb') or 0
    req.firmware, req.secure_boot, req.tpm = vm.get('firmware'), bool(vm.get('secure_boot')), vm.get('tpm')
    req.encryption = vm.get('memory_encryption')
    req.cpu_mode, req.cpu_model = cpu.get('mode') or 'host-model', cpu.get('model')
    req.cpu_features, req.dedicated = list(cpu.get('features') or ()), bool(cpu.get('dedicated'))
    req.hugepages = vm.get('hugepages')
    req.page_kb = HUGEPAGE_SIZES_KB.get(req.hugepages)
    req.pages_needed = -(-req.memory_mb * 1024 // req.page_kb) if req.page_kb else 0
    resources = dict(vm.get('resources') or {})
    req.vfs_needed = (vm.get('sriov_vfs') or 0) + (resources.get('SRIOV_NET_VF') or 0)
    req.vfs_field = 'sriov_vfs' if vm.get('sriov_vfs') else 'resources.SRIOV_NET_VF'
    req.resources = sorted((name, amount) for name, amount in resources.items()
                           if name not in OWN_RULE_RESOURCES and _number(amount) and amount > 0)
    pci = {}
    for position, device in enumerate(vm.get('pci_devices') or ()):
        key = (_pci_id(device.get('vendor')), _pci_id(device.get('device')))
        found = pci.setdefault(key, ['pci_devices[%d]' % position, 0])
        found[1] += device.get('count') or 1
    req.pci = [(key[0], key[1], count, field) for key, (field, count) in pci.items()]
    req.disks = list(vm.get('disks') or ())
    req.pool_need = {}
    for disk in req.disks:
        if disk.get('pool'):
            req.pool_need[disk['pool']] = req.pool_need.get(disk['pool'], 0) + (disk.get('size_gb') or 0)
    req.networks = list(vm.get('networks') or ())
    req.required_traits = list(vm.get('required_traits') or ())
    req.forbidden_traits = list(vm.get('forbidden_traits') or ())
    req.hosts, req.policy = list(vm.get('hosts') or ()), vm.get('placement_policy')
    req.ratios, req.reserved = dict(vm.get('allocation_ratios') or {}), dict(vm.get('reserved') or {})
    wanted = (
        (req.hosts, rule_hosts), (True, rule_target), (True, rule_vcpus), (True, rule_memory),
        (req.firmware == 'efi', rule_efi), (req.firmware == 'bios', rule_bios),
        (req.secure_boot, rule_secure_boot), (req.tpm, rule_tpm), (req.encryption, rule_memory_encryption),
        (True, rule_cpu_mode), (req.cpu_features, rule_cpu_features), (req.dedicated, rule_dedicated_cpus),
        (req.page_kb, rule_hugepages), (req.vfs_needed, rule_sriov_vfs), (req.pci, rule_pci_devices),
        (req.resources, rule_resources), (req.disks, rule_disks), (req.networks, rule_networks),
        (req.required_traits or req.forbidden_traits, rule_traits),
    )
    req.rules = tuple(rule for applies, rule in wanted if applies)
    return req


# -- rules: (view, target, req) -> None when satisfied, else (verdict, code, field, message)


def _fail(code, field, message):
    return FAIL, code, field, message


def _unknown(code, field, message):
    return UNKNOWN, code, field, 'cannot confirm ' + message


def _worst(outcomes):
    """The first failure among ``outcomes``, else the first unknown, else None."""
    first = None
    for outcome in outcomes:
        if outcome is None:
            continue
        if outcome[0] == FAIL:
            return outcome
        first = first or outcome
    return first


def rule_target(view, target, req):
    return target.outcome


def rule_vcpus(view, target, req):
    probe = target.probe
    if probe is not None and probe.max_vcpus is not None and req.vcpus > probe.max_vcpus:
        return _fail('vcpus_exceed_max', 'vcpus', 'needs %d vCPUs; %s on this host allows at most %d (domain capabilities vcpu max)'
                     % (req.vcpus, target.label, probe.max_vcpus))
    if target.max_cpus is not None and req.vcpus > target.max_cpus:
        return _fail('vcpus_exceed_max', 'vcpus', 'needs %d vCPUs; machine %s allows at most %d (capabilities maxCpus)'
                     % (req.vcpus, target.machine, target.max_cpus))
    if probe is None:
        return _unknown('vcpus_exceed_max', 'vcpus', '%d vCPUs on %s: %s' % (req.vcpus, target.label, target.missing_probe))
    if probe.max_vcpus is None:
        return _unknown('vcpus_exceed_max', 'vcpus', '%d vCPUs: the domain capabilities of %s give no vcpu max' % (req.vcpus, probe.label))
    return None


def rule_memory(view, target, req):
    if view.memory_mb is None:
        return _unknown('memory_exceeds_host', 'memory_mb', '%d MiB of memory: the facts give no host memory size '
                        '(memory_info.total_mb and host_info.memory_mb are null)' % req.memory_mb)
    kept = req.reserved.get('MEMORY_MB', view.own_reserved.get('MEMORY_MB', 0))
    if req.memory_mb > view.memory_mb - kept:
        return _fail('memory_exceeds_host', 'memory_mb', 'needs %d MiB of memory; the host has %d MiB in all%s'
                     % (req.memory_mb, view.memory_mb, ', %d MiB of them reserved (%s)' % (
                         kept, 'placement policy %s' % req.policy if 'MEMORY_MB' in req.reserved else OWN_RESERVED) if kept else ''))
    return None


def rule_hosts(view, target, req):
    if host_allowed(req.hosts, view.name):
        return None
    return _fail('host_not_in_policy', 'placement_policy', 'placement policy %s allows only the hosts %s'
                 % (req.policy, _names(req.hosts)))


def rule_efi(view, target, req):
    probe = target.probe
    if probe is None:
        return _unknown('efi_unavailable', 'firmware', 'UEFI firmware for %s: %s' % (target.label, target.missing_probe))
    if probe.efi is False:
        return _fail('efi_unavailable', 'firmware', 'firmware efi: no UEFI firmware is installed for %s (no loader, no efi in the firmware '
                     'enum); install OVMF (edk2-ovmf) for x86 or AAVMF for aarch64' % probe.label)
    if probe.efi is None:
        return _unknown('efi_unavailable', 'firmware', 'UEFI firmware: the domain capabilities of %s do not describe <os>' % probe.label)
    return None


def rule_bios(view, target, req):
    if target.arch in X86_ARCHES:
        return None  # SeaBIOS is built into QEMU for every x86 machine
    probe = target.probe
    if probe is None:
        return _unknown('bios_unavailable', 'firmware', 'BIOS firmware for %s: %s' % (target.label, target.missing_probe))
    if probe.bios is False:
        return _fail('bios_unavailable', 'firmware', 'firmware bios: %s boots UEFI only; set firmware: efi' % probe.label)
    if probe.bios is None:
        return _unknown('bios_unavailable', 'firmware', 'BIOS firmware: the domain capabilities of %s list no firmware' % probe.label)
    return None


def rule_secure_boot(view, target, req):
    if target.arch in X86_ARCHES and target.machine and not is_q35(target.machine):
        if req.machine:
            return _fail('secure_boot_unavailable', 'secure_boot', 'secure boot needs a q35 machine (SMM); %s is %s'
                         % (req.machine, target.machine))
        return _fail('secure_boot_unavailable', 'secure_boot', 'secure boot needs a q35 machine (SMM); the default machine of %s on '
                     'this host is %s; set machine: q35' % (target.arch, target.machine))
    probe = target.probe
    if probe is None:
        return _unknown('secure_boot_unavailable', 'secure_boot', 'a secure-boot loader for %s: %s' % (target.label, target.missing_probe))
    if probe.secure_loader is False:
        return _fail('secure_boot_unavailable', 'secure_boot', 'no secure-boot-capable loader for %s (loader secure values: %s); install '
                     'the Secure Boot build of the firmware (OVMF_CODE*.secboot.fd)' % (probe.label, _names(probe.loader_secure or ())))
    if probe.secure_loader is None:
        return _unknown('secure_boot_unavailable', 'secure_boot', 'a secure-boot loader: the domain capabilities of %s do not list '
                        'loader secure values' % probe.label)
    return None


def rule_tpm(view, target, req):
    probe, want = target.probe, 'tpm %s' % req.tpm
    if probe is None:
        return _unknown('tpm_unsupported', 'tpm', '%s on %s: %s' % (want, target.label, target.missing_probe))
    if probe.tpm is False:
        return _fail('tpm_unsupported', 'tpm', '%s: %s offers no TPM device' % (want, probe.label))
    if probe.tpm is None:
        return _unknown('tpm_unsupported', 'tpm', '%s: the domain capabilities of %s do not describe TPM devices' % (want, probe.label))
    if probe.tpm_backends is not None and 'emulator' not in probe.tpm_backends:
        # A passthrough TPM is the host's single chip, for one guest at a time.
        return _fail('tpm_unsupported', 'tpm', '%s needs an emulated TPM (swtpm); %s offers only the %s backend(s); install swtpm'
                     % (want, probe.label, _names(probe.tpm_backends)))
    if probe.tpm_backends is None or probe.tpm_versions is None:
        return _unknown('tpm_unsupported', 'tpm', '%s: libvirt lists no TPM backend %s for %s (libvirt older than 8.x)'
                        % (want, 'models' if probe.tpm_backends is None else 'versions', probe.label))
    if req.tpm not in probe.tpm_versions:
        return _fail('tpm_unsupported', 'tpm', '%s: swtpm on this host offers TPM %s only (%s)' % (want, _names(probe.tpm_versions), probe.label))
    models = TPM_MODELS_FOR_VERSION.get(req.tpm, ())
    if not probe.tpm_models:
        return _unknown('tpm_unsupported', 'tpm', '%s: libvirt lists no TPM models for %s' % (want, probe.label))
    if not any(model in probe.tpm_models for model in models):
        return _fail('tpm_unsupported', 'tpm', '%s needs the model %s; %s offers %s'
                     % (want, ' or '.join(models), probe.label, _names(probe.tpm_models)))
    return None


def rule_memory_encryption(view, target, req):
    probe, kind = target.probe, req.encryption
    name = ENCRYPTION_NAMES.get(kind, kind)
    if probe is None:
        return _unknown('memory_encryption_unsupported', 'memory_encryption', '%s on %s: %s' % (name, target.label, target.missing_probe))
    if kind == 'tdx':
        return _confirm_launch_type(probe, probe.tdx, name, 'tdx')
    if probe.sev is None:
        return _unknown('memory_encryption_unsupported', 'memory_encryption', '%s: the domain capabilities of %s have no <sev> element '
                        '(libvirt older than 4.5 does not print it)' % (name, probe.label))
    if probe.sev is False:
        return _fail('memory_encryption_unsupported', 'memory_encryption', "memory_encryption %s: %s does not offer AMD SEV (<sev supported='no'>)"
                     % (kind, probe.label))
    if kind == 'sev':
        return _guests_left(view.sev_used, probe.max_guests, 'SEV', 'maxGuests')
    if kind == 'sev-snp':
        found = _confirm_launch_type(probe, probe.snp, name, 'sev-snp')
        if found is not None:
            return found
    # SEV-ES and SEV-SNP guests share the ES ASID range.
    if probe.max_es_guests == 0:
        return _fail('memory_encryption_unsupported', 'memory_encryption', 'memory_encryption %s: %s has no ES guest slots '
                     '(maxESGuests 0: the firmware gives every ASID to plain SEV)' % (kind, probe.label))
    return _guests_left(0, probe.max_es_guests, kind.upper(), 'maxESGuests')


def _confirm_launch_type(probe, supported, name, sectype):
    if supported is None:
        return _unknown('memory_encryption_unsupported', 'memory_encryption', '%s: the domain capabilities of %s do not list launch '
                        'security types (libvirt too old to report %s)' % (name, probe.label, sectype))
    if supported is False:
        return _fail('memory_encryption_unsupported', 'memory_encryption', '%s is not offered for %s (launch security types: %s)'
                     % (name, probe.label, _names(probe.sectypes or ())))
    return None


def _guests_left(used, slots, kind, element):
    if slots is None:
        return _unknown('memory_encryption_no_guests_left', 'memory_encryption', 'a free %s guest slot: libvirt did not report '
                        '%s (older than 8.0)' % (kind, element))
    if slots - used < 1:
        return _fail('memory_encryption_no_guests_left', 'memory_encryption', 'no %s guest slot left: %s is %d, %d in use'
                     % (kind, element, slots, used))
    return None


def rule_cpu_mode(view, target, req):
    probe, mode = target.probe, req.cpu_mode
    if probe is None:
        return _unknown('cpu_mode_unsupported', 'cpu.mode', 'cpu mode %s on %s: %s' % (mode, target.label, target.missing_probe))
    supported = probe.cpu_modes.get(mode)
    if supported is False:
        return _fail('cpu_mode_unsupported', 'cpu.mode', 'cpu mode %s is not offered for %s%s'
                     % (mode, probe.label, ' (TCG cannot pass the host CPU through)' if req.virt_type == 'qemu' else ''))
    if supported is None:
        return _unknown('cpu_mode_unsupported', 'cpu.mode', 'cpu mode %s: the domain capabilities of %s do not say' % (mode, probe.label))
    if mode != 'custom' or not req.cpu_model:
        return None
    model = req.cpu_model
    if probe.cpu_models is None:
        return _unknown('cpu_model_unusable', 'cpu.model', 'cpu model %s: the domain capabilities of %s list no models' % (model, probe.label))
    usable = probe.cpu_models.get(model, _ABSENT)
    if usable is _ABSENT:
        return _fail('cpu_model_unusable', 'cpu.model', 'cpu model %s is not offered for %s; usable models include %s'
                     % (model, probe.label, _names(name for name, ok in probe.cpu_models.items() if ok)))
    if usable is False:
        return _fail('cpu_model_unusable', 'cpu.model', "cpu model %s is not usable on this host (libvirt usable='no' for %s: "
                     'the host CPU lacks some of its features)' % (model, probe.label))
    if usable is None:
        return _unknown('cpu_model_unusable', 'cpu.model', "cpu model %s: libvirt could not tell (usable='unknown' for %s)" % (model, probe.label))
    return None


def rule_cpu_features(view, target, req):
    outcomes = []
    for position, feature in enumerate(req.cpu_features):
        field = 'cpu.features[%d]' % position
        if req.virt_type != 'kvm' or target.arch != view.arch:
            outcomes.append(_unknown('cpu_feature_missing', field, 'cpu feature %s: an emulated (TCG) CPU has the features QEMU '
                                     'implements, which the facts do not list' % feature))
            continue
        outcomes.append(_guest_feature(view, target.probe, req, feature, field))
    return _worst(outcomes)


def _guest_feature(view, probe, req, feature, field):
    """One requested feature against what a guest of the requested CPU mode gets here.

    Evidence, strongest first: the mode's own guest list; host-model, whose list and
    ``require`` are what KVM gives any guest and whose ``disable`` is what it gives none;
    the host CPU's complete flags. Anything else cannot be confirmed.
    """
    mode = req.cpu_mode
    label = 'a %s guest' % mode if mode != 'custom' else 'a custom guest of model %s' % req.cpu_model
    where = 'on host %s' % view.name
    own = view.guest_features.get(('custom', req.cpu_model) if mode == 'custom' else mode)
    host_model = view.guest_features.get('host-model')
    required = probe.host_model_features if probe is not None else frozenset()
    disabled = probe.host_model_disabled if probe is not None else frozenset()
    # What KVM gives a host-model guest it can add to any other mode's CPU as well.
    if feature in required or any(given is not None and feature in given for given in (own, host_model)):
        return None
    fix = 'remove %s from cpu.features, or run this VM on a host whose cpu_info.guest_features lists it' % feature
    if feature in disabled:
        return _fail('cpu_feature_missing', field, "cpu feature %s is not available to %s %s: %sKVM and QEMU there cannot "
                     "give it to a guest (domain capabilities host-model %s lists it with policy='disable'); %s"
                     % (feature, label, where, 'the host CPU has it, but ' if feature in view.cpu_features else '',
                        probe.host_model_name or 'CPU', fix))
    if view.cpu_features_complete and feature not in view.cpu_features:
        return _fail('cpu_feature_missing', field, 'cpu feature %s is not available to %s %s: the host CPU (%s) does not have it; %s'
                     % (feature, label, where, view.cpu_model, fix))
    if host_model is not None:
        # QEMU may still add it on request: its model definitions differ from libvirt's
        # (EPYC-Milan has topoext in QEMU, not in libvirt's cpu_map).
        return _unknown('cpu_feature_missing', field, 'cpu feature %s for %s %s: it is not among the %d features host-model '
                        'gives there (cpu_info.guest_features.host_model), and libvirt does not say whether KVM can add it'
                        % (feature, label, where, len(host_model)))
    return _unknown('cpu_feature_missing', field, 'cpu feature %s for %s %s: the facts do not list the features that mode '
                    'gives (cpu_info.guest_features is null for it; gather the facts live with libvirt_host_caps and '
                    'read_only: false to expand the CPU models)' % (feature, label, where))


def rule_dedicated_cpus(view, target, req):
    if view.online_cpus is None:
        return _unknown('dedicated_cpus_exceed_host', 'cpu.dedicated', '%d dedicated CPUs: the facts give no online CPU count' % req.vcpus)
    if req.vcpus > view.online_cpus:
        return _fail('dedicated_cpus_exceed_host', 'cpu.dedicated', 'needs %d dedicated host CPUs; the host has %d online'
                     % (req.vcpus, view.online_cpus))
    return None


def rule_hugepages(view, target, req):
    size, need = req.hugepages, req.pages_needed
    if not view.page_sizes_kb:
        return _unknown('hugepages_unsupported', 'hugepages', '%s hugepages: the facts list no page sizes (memory_info.page_sizes_kb)' % size)
    if req.page_kb not in view.page_sizes_kb:
        return _fail('hugepages_unsupported', 'hugepages', 'the host has no %s pages (page sizes: %s)'
                     % (size, _names(page_label(s) for s in sorted(view.page_sizes_kb))))
    total, free = view.hugepages.get(req.page_kb, (None, None))
    if total is None:
        return _unknown('hugepages_insufficient', 'hugepages', '%d %s pages: the facts do not count them' % (need, size))
    if total < need:
        return _fail('hugepages_insufficient', 'hugepages', 'needs %d %s pages for %d MiB; the host has %d configured in all'
                     % (need, size, req.memory_mb, total))
    if free is None:
        return _unknown('hugepages_insufficient', 'hugepages', '%d free %s pages: %d are configured, free counts need a live '
                        'libvirt connection' % (need, size, total))
    if free < need:
        return _fail('hugepages_insufficient', 'hugepages', 'needs %d free %s pages for %d MiB; %d of %d are free'
                     % (need, size, req.memory_mb, free, total))
    return None


def rule_sriov_vfs(view, target, req):
    need, field = req.vfs_needed, req.vfs_field
    vfs = 'SR-IOV VF' if need == 1 else 'SR-IOV VFs'
    if not view.sriov_known or view.total_vfs is None:
        return _unknown('sriov_vfs_insufficient', field, '%d free %s: no sriov facts for this host (gather them with '
                        'virtumancer.hostcaps.sriov_facts)' % (need, vfs))
    if view.total_vfs < need:
        return _fail('sriov_vfs_insufficient', field, 'needs %d %s; the host has %d in all' % (need, vfs, view.total_vfs))
    if view.free_vfs is None:
        return _unknown('sriov_vfs_insufficient', field, '%d free %s: the host has %d, but which a domain uses is unknown '
                        '(sriov_facts ran without a libvirt URI)' % (need, vfs, view.total_vfs))
    if view.free_vfs < need:
        return _fail('sriov_vfs_insufficient', field, 'needs %d free %s; %d of %d are free' % (need, vfs, view.free_vfs, view.total_vfs))
    return None


def rule_pci_devices(view, target, req):
    outcomes = []
    for vendor, device, count, field in req.pci:
        if not view.sriov_known:
            outcomes.append(_unknown('pci_device_insufficient', field, '%d x %s:%s: no sriov facts for this host (gather them with '
                                     'virtumancer.hostcaps.sriov_facts)' % (count, vendor, device)))
            continue
        ready, possible, total, used, unviable, why_not, why_unknown = view.pci.get((vendor, device), (0, 0, 0, 0, 0, [], []))
        if ready >= count:
            continue
        if possible >= count:
            outcomes.append(_unknown('pci_device_insufficient', field, '%d free assignable %s:%s: the host has %d, but %s' % (
                count, vendor, device, total, 'which a domain uses is unknown' if not view.assignments_known
                else 'whether they can be passed through is unknown (%s)' % '; '.join(why_unknown))))
            continue
        taken = ['%d in use' % used] if used else []
        if unviable:
            taken.append('%d %s (%s)' % (unviable, 'not a passthrough candidate' if unviable == 1 else 'not passthrough candidates',
                                         ' | '.join(why_not)))
        return _fail('pci_device_insufficient', field, 'needs %d x %s:%s; the host has %d free and assignable (%d in all%s)'
                     % (count, vendor, device, possible, total, ''.join(', ' + part for part in taken)))
    return _worst(outcomes)


def rule_resources(view, target, req):
    outcomes = []
    inventories = effective_inventory(view, req.ratios, req.reserved)
    for name, amount in req.resources:
        field = 'resources.%s' % name
        inventory = view.resources.get(name)
        if inventory is None:
            outcomes.append(_unknown('resource_insufficient', field, '%s %s: the facts give no %s inventory%s' % (
                amount, name, name, ' (give it with the host variable %s)' % OWN_CUSTOM if name.startswith('CUSTOM_') else '')))
            continue
        capacity, used = inventories[name]
        left = capacity - used
        if left < amount:
            return _fail('resource_insufficient', field, 'needs %s %s; %s left (total %s, used %s)'
                         % (amount, name, _plain(left), inventory['total'], inventory['used']))
        if name in ASSIGNMENT_RESOURCES and not view.assignments_known:
            outcomes.append(_unknown('resource_insufficient', field, '%s free %s: %s exist, but which a domain uses is unknown '
                                     '(sriov_facts ran without a libvirt URI)' % (amount, name, inventory['total'])))
    return _worst(outcomes)


def _plain(number):
    return '%d' % number if float(number).is_integer() else '%.2f' % number


def rule_disks(view, target, req):
    probe = target.probe
    outcomes = []
    seen_pools = set()
    for position, disk in enumerate(req.disks):
        bus, pool = disk.get('bus'), disk.get('pool')
        field = 'disks[%d]' % position
        if bus:
            if probe is None:
                outcomes.append(_unknown('disk_bus_unsupported', field + '.bus', 'disk bus %s on %s: %s' % (bus, target.label, target.missing_probe)))
            elif probe.disk_buses is None:
                outcomes.append(_unknown('disk_bus_unsupported', field + '.bus', 'disk bus %s: the domain capabilities of %s list no disk '
                                         'buses' % (bus, probe.label)))
            elif bus not in probe.disk_buses:
                return _fail('disk_bus_unsupported', field + '.bus', 'disk bus %s is not offered for %s (buses: %s)'
                             % (bus, probe.label, _names(sorted(probe.disk_buses))))
        if not pool:
            continue
        found = _pool_outcome(view, req, pool, field + '.pool', pool not in seen_pools)
        seen_pools.add(pool)
        if found is not None and found[0] == FAIL:
            return found
        outcomes.append(found)
    return _worst(outcomes)


def _pool_outcome(view, req, pool, field, first):
    if view.pools is None:
        return _unknown('pool_missing', field, "storage pool '%s': the facts list no storage pools (storage_info.pools is null or missing: "
                        'gathered offline or without the storage subset)' % pool)
    if pool not in view.pools:
        return _fail('pool_missing', field, "storage pool '%s' does not exist on this host (pools: %s)" % (pool, _names(sorted(view.pools))))
    active, available = view.pools[pool]
    if active is False:
        return _fail('pool_inactive', field, "storage pool '%s' is inactive; start it (virsh pool-start %s)" % (pool, pool))
    if active is None:
        return _unknown('pool_inactive', field, "that storage pool '%s' is active: the facts do not say" % pool)
    if not first:
        return None
    need = req.pool_need[pool]
    if available is None:
        return _unknown('pool_full', field, "room for %d GiB in storage pool '%s': the facts give no available size" % (need, pool))
    if available < need:
        return _fail('pool_full', field, "the disks on storage pool '%s' need %d GiB; it has %s GiB available" % (pool, need, _plain(available)))
    return None


def rule_networks(view, target, req):
    outcomes = []
    for position, nic in enumerate(req.networks):
        name, field = nic.get('network'), 'networks[%d].network' % position
        if view.networks is None:
            outcomes.append(_unknown('network_missing', field, "network '%s': the facts list no networks (network_info.networks is null "
                                     'or missing: gathered offline or without the network subset)' % name))
            continue
        if name not in view.networks:
            return _fail('network_missing', field, "network '%s' does not exist on this host (networks: %s)" % (name, _names(sorted(view.networks))))
        active = view.networks[name]
        if active is False:
            return _fail('network_inactive', field, "network '%s' is inactive; start it (virsh net-start %s)" % (name, name))
        if active is None:
            outcomes.append(_unknown('network_inactive', field, "that network '%s' is active: the facts do not say" % name))
    return _worst(outcomes)


def rule_traits(view, target, req):
    failed = view.trait_failures
    missing = [trait for trait in req.required_traits if trait not in view.traits and trait not in failed]
    if missing:
        return _fail('trait_missing', 'required_traits', 'lacks the required trait%s %s' % ('s' if len(missing) > 1 else '', ', '.join(missing)))
    present = [trait for trait in req.forbidden_traits if trait in view.traits]
    if present:
        return _fail('trait_forbidden', 'forbidden_traits', 'has the forbidden trait%s %s' % ('s' if len(present) > 1 else '', ', '.join(present)))
    for field, wanted in (('required_traits', req.required_traits), ('forbidden_traits', req.forbidden_traits)):
        unknown = [trait for trait in wanted if trait in failed]
        if unknown:
            return _unknown('trait_missing' if field == 'required_traits' else 'trait_forbidden', field,
                            'the trait%s %s: %s' % ('s' if len(unknown) > 1 else '', ', '.join(unknown), failed[unknown[0]]))
    return None


# The rules that read the VM's amounts: vcpus, memory_mb, and the disks' sizes (through
# pool_need) or the memory in hugepages (pages_needed). Each fails only when an amount is
# more than a limit of the host; every other rule gives the same outcome whatever the
# amounts (placement checks VMs of many sizes at once on that).
AMOUNT_RULES = frozenset((rule_vcpus, rule_memory, rule_dedicated_cpus, rule_hugepages, rule_disks))


def evaluate(view, req):
    """``(verdict, code, field, message)`` of one host for one request."""
    return evaluate_rule(view, req)[0]


def evaluate_rule(view, req):
    """``(outcome, rule)``: what ``evaluate`` gives, with the rule that failed (None unless
    the verdict is a failure)."""
    target = view.target(req.arch, req.machine, req.virt_type)
    first_unknown = None
    for rule in req.rules:
        outcome = rule(view, target, req)
        if outcome is None:
            continue
        if outcome[0] == FAIL:
            return outcome, rule
        if first_unknown is None:
            first_unknown = outcome
    return first_unknown or (PASS, None, None, None), None


def evaluate_all(view, req):
    """``[(verdict, code, field, message)]``: every requirement of the request the host
    fails, then every one it cannot confirm, each in the order of the rules (empty when it
    passes). The first is what ``evaluate`` gives."""
    target = view.target(req.arch, req.machine, req.virt_type)
    if target.outcome is not None and target.outcome[0] == FAIL:
        # Without the arch, virt_type or machine, every other rule could only say it
        # cannot confirm its requirement there.
        return [target.outcome]
    found = [outcome for outcome in (rule(view, target, req) for rule in req.rules) if outcome is not None]
    return [outcome for outcome in found if outcome[0] == FAIL] + [outcome for outcome in found if outcome[0] != FAIL]


# -- the index -------------------------------------------------------------------------


def _custom_trait_items(custom_traits):
    """``custom_traits`` as traits.py takes them; (name, query) pairs are accepted too."""
    if isinstance(custom_traits, (list, tuple)):
        custom_traits = [
            {'name': item[0], 'query': item[1]} if isinstance(item, (list, tuple)) and len(item) == 2 else item
            for item in custom_traits
        ]
    return [{'name': name, 'query': query} for name, query in normalize_custom_traits(custom_traits)]


class HostIndex:
    """Hosts' facts read once, to check any number of resolved VM definitions against.

    ``hosts``: host name -> that host's facts (``hostvars[host].ansible_facts``, or the bare
    ``libvirt_host_caps``). ``custom_traits``: ``[(name, query)]``, ``[{name, query}]`` or
    ``{name: query}`` with JMESPath queries over ``{libvirt_host_caps, sriov}``.
    A host without libvirt_host_caps facts is left out and listed in ``skipped``, one
    whose facts have a value of the wrong type in ``malformed`` (host -> the paths).
    Raises ValueError whose message starts with the path of what is wrong.
    """

    def __init__(self, hosts, custom_traits=None):
        if not isinstance(hosts, Mapping):
            raise ValueError('hosts: expected a mapping of host name to that host\'s facts (hostvars[host].ansible_facts), got %s'
                             % type_name(hosts))
        items = _custom_trait_items(custom_traits)
        views, self.skipped, self.malformed = [], {}, {}
        for name in sorted(hosts, key=str):
            try:
                views.append(read_host(name, hosts[name], items))
            except HostWithoutFacts as exc:
                self.skipped[name] = str(exc)
            except HostWithMalformedFacts as exc:
                self.malformed[name] = str(exc)
        self._views = tuple(views)
        self._by_name = dict((view.name, view) for view in self._views)

    @property
    def hosts(self):
        """Host names in the order results are given."""
        return tuple(view.name for view in self._views)

    @property
    def trait_failures(self):
        """``[(host, trait, message)]`` of the custom trait queries that failed on a
        host's facts; those traits are unknown on that host."""
        return [(view.name, trait, view.trait_failures[trait]) for view in self._views for trait in sorted(view.trait_failures)]

    @property
    def views(self):
        """The ``HostView`` of every host with facts, in host name order."""
        return self._views

    def view(self, host):
        """The ``HostView`` of ``host`` (for diagnostics); KeyError when unknown."""
        return self._by_name[host]

    def check(self, vm):
        """``[(host, verdict, code, field, message)]`` for every host in host name order.
        ``verdict`` is ``pass`` (the rest None), ``unknown`` (the first requirement the
        host cannot confirm) or ``fail`` (the first requirement the host fails)."""
        req = compile_request(vm)
        return [(view.name,) + evaluate(view, req) for view in self._views]

    def check_all(self, vm):
        """``{host: [(verdict, code, field, message)]}``: every requirement each host fails
        or cannot confirm; a host that satisfies the VM has an empty list."""
        req = compile_request(vm)
        return dict((view.name, evaluate_all(view, req)) for view in self._views)

    def first_pass(self, vm):
        """The first host (in host name order) that satisfies every requirement, or None."""
        req = compile_request(vm)
        for view in self._views:
            if evaluate(view, req)[0] == PASS:
                return view.name
        return None
