# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Builds ``libvirt_host_caps`` from parsed sources, one category at a time.

The same builders serve a live host (the module) and saved XML (the ``caps_from_xml``
filter): only the ``FactSources`` handed in differ. A category whose required source
fails is ``None`` with an entry in ``errors``; the other categories are still built.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.facts_input import SCHEMA_VERSION
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.libvirt_conn import libvirt_message
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.xmlparse import known_first
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.resources import derive_resources
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.traits import derive_traits


# gather_subset name -> fact key, in output order
CATEGORIES = (
    ('host', 'host_info'),
    ('cpu', 'cpu_info'),
    ('memory', 'memory_info'),
    ('security', 'security_info'),
    ('storage', 'storage_info'),
    ('network', 'network_info'),
    ('virt', 'virt_info'),
    ('domain_capabilities', 'domain_capabilities'),
)
SUBSETS = tuple(name for name, dummy in CATEGORIES)

LIVE_ONLY = 'needs a live libvirt connection'


class SourceUnavailable(Exception):
    """A source could not be read; the message says why."""


class FactSources:
    """Named, lazily read inputs. ``fetchers`` maps a source name to a callable."""

    def __init__(self, fetchers, unavailable=None):
        self._fetchers = fetchers
        self._unavailable = unavailable or {}
        self._cache = {}
        self.errors = []

    def get(self, name):
        if name not in self._cache:
            fetcher = self._fetchers.get(name)
            if fetcher is None:
                result = SourceUnavailable(self._unavailable.get(name, LIVE_ONLY))
            else:
                try:
                    result = fetcher()
                except SourceUnavailable as exc:
                    result = exc
                except Exception as exc:  # libvirt, OS and parse errors alike
                    result = SourceUnavailable(libvirt_message(exc))
            self._cache[name] = result
        result = self._cache[name]
        if isinstance(result, SourceUnavailable):
            raise result
        return result

    def optional(self, name, category):
        """The source's value, or None with an error recorded against ``category``."""
        try:
            return self.get(name)
        except SourceUnavailable as exc:
            self.add_error(category, str(exc) if name == category else '%s: %s' % (name, exc))
            return None

    def has(self, name):
        """Whether ``name`` has a reader here (kernel figures only exist on the host)."""
        return name in self._fetchers

    def add_error(self, category, message, severity='error'):
        """``severity`` is ``error`` (a value is missing) or ``warning`` (the facts are
        complete but a source disagrees or a fallback was taken)."""
        entry = {'category': category, 'message': message, 'severity': severity}
        if entry not in self.errors:
            self.errors.append(entry)


def build_facts(src, subsets=SUBSETS, uri=None, now=None):
    """All requested categories plus traits, resources, errors and metadata."""
    builders = {
        'host': build_host_info, 'cpu': build_cpu_info, 'memory': build_memory_info,
        'security': build_security_info, 'storage': build_storage_info,
        'network': build_network_info, 'virt': build_virt_info,
        'domain_capabilities': build_domain_capabilities,
    }
    facts = {}
    for subset, key in CATEGORIES:
        if subset not in subsets:
            continue
        try:
            facts[key] = builders[subset](src)
        except SourceUnavailable as exc:
            facts[key] = None
            src.add_error(key, str(exc))
    for key, derive in (('traits', derive_traits), ('resources', derive_resources)):
        try:
            facts[key] = derive(facts)
        except Exception as exc:  # a derivation bug must not hide the gathered facts
            facts[key] = None
            src.add_error(key, 'could not be derived: %s' % libvirt_message(exc))
    facts['errors'] = src.errors
    facts['schema_version'] = SCHEMA_VERSION
    facts['collected_at'] = (now or datetime.datetime.now(datetime.timezone.utc)).strftime('%Y-%m-%dT%H:%M:%SZ')
    facts['uri'] = uri
    return facts


def primary_domain_capabilities(entries, arch):
    """The probe that describes the host's own arch at its default machine."""
    entries = entries or []
    for want in (
        lambda e: e.get('arch') == arch and e.get('default_machine'),
        lambda e: e.get('arch') == arch,
        lambda e: True,
    ):
        for entry in entries:
            if want(entry):
                return entry
    return None


def any_true(values):
    """Tri-state OR: True if any is True, False if all known are False, else None."""
    values = list(values)
    if any(v is True for v in values):
        return True
    if values and all(v is False for v in values):
        return False
    if any(v is False for v in values) and not any(v is None for v in values):
        return False
    return None


def _union(lists):
    # A set, not a list: domain capabilities are untrusted input, and an enum of 40,000
    # values made the membership test of a list take 30 s.
    seen = set()
    for items in lists:
        seen.update(items or [])
    return sorted(seen)


# -- host ------------------------------------------------------------------------


def build_host_info(src):
    caps = src.get('capabilities')
    node = src.optional('node_info', 'host_info')
    versions = src.optional('versions', 'host_info') or {}
    cpu = caps['cpu']
    # Drivers without a <topology> element (test) still answer virNodeGetInfo.
    topology = cpu['topology'] or node or {}
    cells = caps['cells']
    return {
        'hostname': src.optional('hostname', 'host_info'),
        'uuid': caps['uuid'],
        'arch': cpu['arch'],
        'cpu_model': cpu['model'],
        'cpu_vendor': cpu['vendor'],
        'sockets': topology.get('sockets'),
        'dies': topology.get('dies'),
        'cores': topology.get('cores'),
        'threads': topology.get('threads'),
        'online_cpus': node['cpus'] if node else (sum(len(c['cpus']) for c in cells) or None),
        'numa_nodes': len(cells) or (node['nodes'] if node else None),
        'memory_mb': _host_memory(src, node['memory_mb'] if node else _cells_memory_mb(cells))[0],
        'cpu_mhz': node['mhz'] if node else None,
        'libvirt_version': versions.get('libvirt'),
        'hypervisor': versions.get('hypervisor'),
        'hypervisor_version': versions.get('hypervisor_version'),
    }


def _cells_memory_mb(cells):
    sizes = [c['memory_kb'] for c in cells if c['memory_kb'] is not None]
    return sum(sizes) // 1024 if sizes else None


# Beyond rounding (MiB per cell) and the kernel's own accounting noise.
CELLS_TOLERANCE = 0.01


def _kernel_memory(src):
    """``/proc/meminfo``'s totals, or None when the facts are not read on the host."""
    if not src.has('kernel_meminfo'):
        return None
    return src.optional('kernel_meminfo', 'memory_info')


def _host_memory(src, libvirt_total_mb):
    """``(total_mb, source)``: the one figure for ``memory_info.total_mb``,
    ``host_info.memory_mb`` and so ``MEMORY_MB``. The kernel's MemTotal on the host,
    where it is what guests are allocated from; libvirt's figure elsewhere."""
    kernel = _kernel_memory(src)
    if not kernel or kernel.get('total_mb') is None:
        return libvirt_total_mb, 'libvirt'
    total = kernel['total_mb']
    cells_mb = _cells_memory_mb(src.get('capabilities')['cells'])
    if cells_mb is not None and abs(cells_mb - total) > CELLS_TOLERANCE * total:
        src.add_error('memory_info', (
            "libvirt's NUMA cells add up to %d MiB, but the kernel's MemTotal (/proc/meminfo) is %d MiB "
            "(%+.1f %%); memory_info.total_mb, host_info.memory_mb and MEMORY_MB use the kernel's figure, "
            "memory_info.cells and per-cell hugepages stay libvirt's" % (cells_mb, total, 100.0 * (cells_mb - total) / total)),
            severity='warning')
    return total, 'kernel'


# -- cpu -------------------------------------------------------------------------


def build_cpu_info(src):
    caps = src.get('capabilities')
    cpu = caps['cpu']
    try:
        features = src.get('baseline_features')
        source = 'baseline'
    except SourceUnavailable:
        # baselineCPU is missing on some drivers (test) and for model-less CPUs.
        features = cpu['features']
        source = 'capabilities'
    domcaps = src.optional('domain_capabilities', 'domain_capabilities')
    primary = primary_domain_capabilities(domcaps, cpu['arch'])
    cpu_modes = (primary or {}).get('cpu') or {}
    # Model expansions need the probe's emulator and machine, so without domain
    # capabilities there is nothing to ask for (and the error is already recorded).
    expansions = src.optional('cpu_model_expansions', 'cpu_info') if cpu_modes else None
    x86 = cpu['arch'] in ('x86_64', 'i686')
    return {
        'arch': cpu['arch'],
        'model': cpu['model'],
        'vendor': cpu['vendor'],
        'signature': cpu['signature'],
        'microcode_version': cpu['microcode_version'],
        'features': features,
        'features_source': source,
        'feature_count': len(features),
        'host_model': cpu_modes.get('host_model'),
        'host_passthrough': cpu_modes.get('host_passthrough'),
        'models': cpu_modes.get('models') if primary else None,
        'guest_features': guest_features(cpu_modes, expansions),
        'host_only_features': host_only_features(features, cpu_modes.get('host_model')),
        'vmx': _flag(features, 'vmx', source) if x86 else None,
        'svm': _flag(features, 'svm', source) if x86 else None,
        'tsc_frequency_hz': (cpu['tsc'] or {}).get('frequency_hz'),
        'tsc_scaling': (cpu['tsc'] or {}).get('scaling'),
        'maxphysaddr_bits': cpu['maxphysaddr_bits'],
        'topology': cpu['topology'],
        'cache_banks': caps['cache_banks'],
    }


def guest_features(cpu_modes, expansions):
    """The features a guest gets in each CPU mode, each list or None (unknown).

    host-model: the model's own features plus the domain capabilities' ``require`` minus
    their ``disable``. The model's own features come only from libvirt's expansion of the
    model on a live connection; without it the list is unknown, since the domain
    capabilities name only the differences. custom: for each model libvirt calls usable,
    the features the hypervisor gives with it. host-passthrough: no libvirt API lists
    them, so always None.
    """
    host_model = cpu_modes.get('host_model') or {}
    usable = (cpu_modes.get('models') or {}).get('usable')
    result = {'host_model': None, 'host_passthrough': None, 'custom': None}
    if expansions is None:
        return result
    own = expansions.get(host_model.get('name'))
    if host_model.get('supported') and own is not None:
        result['host_model'] = sorted(
            (set(own['required_features']) | set(own['disabled_features']) | set(host_model['required_features']))
            - set(host_model['disabled_features']))
    if usable is not None:
        result['custom'] = dict(
            (name, expansions[name]['required_features']) for name in usable if expansions.get(name) is not None)
    return result


def host_only_features(features, host_model):
    """Host CPU flags that no guest can get: host-model disables them because the
    hypervisor (KVM and QEMU) cannot give them, although the host CPU has them."""
    if not host_model or not host_model.get('supported'):
        return None
    return sorted(set(features) & set(host_model['disabled_features']))


def _flag(features, name, source):
    # The capabilities list only the features beyond the named model (EPYC implies
    # svm), so an absent flag is only known to be absent after baseline expansion.
    if name in features:
        return True
    return False if source == 'baseline' else None


# -- memory ----------------------------------------------------------------------


def build_memory_info(src):
    caps = src.get('capabilities')
    free_bytes = src.optional('cells_free_memory', 'memory_info')
    free_pages = src.optional('free_pages', 'memory_info') or {}
    page_sizes = caps['cpu']['page_sizes_kb']
    base_page = min(page_sizes) if page_sizes else 4
    cells = []
    for index, cell in enumerate(caps['cells']):
        cell_free = free_pages.get(cell['id'], {})
        cells.append({
            'id': cell['id'],
            'total_mb': None if cell['memory_kb'] is None else cell['memory_kb'] // 1024,
            'free_mb': free_bytes[index] // (1024 * 1024) if free_bytes and index < len(free_bytes) else None,
            'pages': [
                {'size_kb': p['size_kb'], 'total': p['total'], 'free': cell_free.get(p['size_kb'])}
                for p in cell['pages']
            ],
            'distances': cell['distances'],
            'cpus': sorted((c['id'] for c in cell['cpus']), key=known_first),
        })
    hugepages = []
    for size in page_sizes:
        if size == base_page:
            continue
        per_cell = [p for c in cells for p in c['pages'] if p['size_kb'] == size]
        totals = [p['total'] for p in per_cell if p['total'] is not None]
        frees = [p['free'] for p in per_cell]
        hugepages.append({
            'size_kb': size,
            'total': sum(totals) if totals else None,
            'free': sum(frees) if frees and None not in frees else None,
        })
    totals_mb = [c['total_mb'] for c in cells if c['total_mb'] is not None]
    frees_mb = [c['free_mb'] for c in cells]
    node = src.optional('node_info', 'memory_info') if src.has('node_info') else None
    libvirt_figures = {
        'total_mb': node['memory_mb'] if node else None,
        'cells_total_mb': sum(totals_mb) if totals_mb else None,
        'free_mb': sum(frees_mb) if frees_mb and None not in frees_mb else None,
    }
    total_mb, source = _host_memory(src, libvirt_figures['cells_total_mb'])
    kernel = _kernel_memory(src) if source == 'kernel' else None
    return {
        'total_mb': total_mb,
        'free_mb': kernel['free_mb'] if kernel else libvirt_figures['free_mb'],
        'available_mb': kernel['available_mb'] if kernel else None,
        'total_mb_source': source,
        'sources': {'kernel': kernel, 'libvirt': libvirt_figures},
        'cells': cells,
        'page_sizes_kb': page_sizes,
        'hugepages': hugepages,
        'ksm': src.optional('ksm', 'memory_info'),
    }


# -- security --------------------------------------------------------------------


def build_security_info(src):
    caps = src.get('capabilities')
    domcaps = src.optional('domain_capabilities', 'domain_capabilities') or []
    loaders = [(e, (e.get('os') or {}).get('loader') or {}) for e in domcaps]
    firmware_paths = _union(loader.get('paths') for dummy, loader in loaders)
    uefi_per_probe = [_uefi(entry, loader) for entry, loader in loaders]
    secure_machines = sorted({
        entry['machine'] for entry, loader in loaders
        if 'yes' in (loader.get('secure') or []) and loader.get('paths')
    }, key=known_first)
    features = [e.get('features') or {} for e in domcaps]
    tpms = [(e.get('devices') or {}).get('tpm') for e in domcaps]
    return {
        'secmodels': caps['secmodels'],
        'uefi': any_true(uefi_per_probe),
        'firmware_paths': firmware_paths,
        # False only when every probe's loader lists its secure values and none is yes.
        'secure_boot': True if secure_machines else (
            False if loaders and all(loader.get('secure') is not None for dummy, loader in loaders) else None),
        'secure_boot_machines': secure_machines,
        'tpm': _tpm(tpms),
        'sev': _sev(features),
        'tdx': any_true(_launch_security(f, 'tdx', 'tdx') for f in features),
        'sgx': _sgx(features),
        's390_pv': any_true(_launch_security(f, 's390-pv', 's390_pv') for f in features),
        'iommu': {
            'supported': caps['iommu_supported'],
            'groups': src.optional('iommu_groups', 'security_info'),
        },
    }


def _uefi(entry, loader):
    firmware = (entry.get('os') or {}).get('firmware')
    if firmware is not None and 'efi' in firmware:
        return True
    if loader.get('paths'):
        return True
    if loader.get('supported') is None and firmware is None:
        return None
    return False


def _tpm(tpms):
    known = [t for t in tpms if t is not None]
    usable = [t for t in known if t.get('supported')]
    versions = _union(t.get('backend_version') for t in usable)
    backends = _union(t.get('backend_model') for t in usable)
    supported = any_true(t.get('supported') for t in known) if known else None
    return {
        'supported': supported,
        'models': _union(t.get('model') for t in usable),
        'backend_models': backends,
        'versions': versions,
        # An emulated TPM needs swtpm; the version enum appeared in libvirt 8.x.
        'emulator': ('emulator' in backends) if supported else supported,
        'version_2_0': ('2.0' in versions) if any('backend_version' in t for t in usable)
        else (False if supported is False else None),
        'version_1_2': ('1.2' in versions) if any('backend_version' in t for t in usable)
        else (False if supported is False else None),
    }


def _launch_security(features, sectype, element):
    """A launch security type from ``<launchSecurity>`` or its own element."""
    own = features.get(element)
    if own is not None and own.get('supported') is not None:
        return own['supported']
    launch = features.get('launch_security')
    if launch is None or launch.get('supported') is None:
        return None
    return bool(launch.get('supported')) and sectype in (launch.get('sectype') or [])


def _sev(features):
    sevs = [f.get('sev') for f in features if f.get('sev') is not None]
    supported = any_true(s['supported'] for s in sevs) if sevs else None
    best = next((s for s in sevs if s['supported']), sevs[0] if sevs else {})
    if supported:
        es = None if best.get('max_es_guests') is None else best['max_es_guests'] > 0
        snp = any_true(_launch_security(f, 'sev-snp', 'sev_snp') for f in features)
    else:
        es = snp = supported
    return {
        'supported': supported,
        'es': es,
        'snp': snp,
        'max_guests': best.get('max_guests'),
        'max_es_guests': best.get('max_es_guests'),
        'cbitpos': best.get('cbitpos'),
        'reduced_phys_bits': best.get('reduced_phys_bits'),
    }


def _sgx(features):
    sgxs = [f.get('sgx') for f in features if f.get('sgx') is not None]
    supported = any_true(s['supported'] for s in sgxs) if sgxs else None
    best = next((s for s in sgxs if s['supported']), {})
    return {
        'supported': supported,
        'flc': best.get('flc'),
        'sgx1': best.get('sgx1'),
        'sgx2': best.get('sgx2'),
        'epc_size_kb': best.get('epc_size_kb'),
        'sections': best.get('sections', []),
    }


# -- storage ---------------------------------------------------------------------


def build_storage_info(src):
    pools = src.optional('pools', 'storage_info')
    domcaps = src.optional('domain_capabilities', 'domain_capabilities') or []
    disks = [(e.get('devices') or {}).get('disk') or {} for e in domcaps]
    return {
        'pools': pools,
        'pool_types': src.optional('pool_capabilities', 'storage_info'),
        'disk_buses': _union(d.get('bus') for d in disks) if domcaps else None,
        'disk_models': _union(d.get('model') for d in disks) if domcaps else None,
        'disk_devices': _union(d.get('disk_device') for d in disks) if domcaps else None,
    }


# -- network ---------------------------------------------------------------------


def build_network_info(src):
    networks = src.optional('networks', 'network_info')
    domcaps = src.optional('domain_capabilities', 'domain_capabilities') or []
    buses = _union(((e.get('devices') or {}).get('disk') or {}).get('bus') for e in domcaps)
    return {
        'networks': networks,
        'interfaces': src.optional('interfaces', 'network_info'),
        'virtio': ('virtio' in buses) if domcaps else None,
        'sriov_pf_count': src.optional('sriov_pf_count', 'network_info'),
    }


# -- virt ------------------------------------------------------------------------


def build_virt_info(src):
    caps = src.get('capabilities')
    versions = src.optional('versions', 'virt_info') or {}
    domcaps = src.optional('domain_capabilities', 'domain_capabilities')
    virt_types = _union(g['domain_types'] for g in caps['guests'])
    primary = primary_domain_capabilities(domcaps, caps['cpu']['arch'])
    max_vcpus = src.optional('max_vcpus', 'virt_info')
    if max_vcpus is None and primary:
        max_vcpus = primary.get('max_vcpus')
    nested = src.optional('kvm_nested', 'virt_info')
    gics = [(e.get('features') or {}).get('gic') for e in domcaps or []]
    gics = [g for g in gics if g is not None]
    return {
        'hypervisor': versions.get('hypervisor'),
        'hypervisor_version': versions.get('hypervisor_version'),
        'virt_types': virt_types,
        'kvm_available': 'kvm' in virt_types,
        'dev_kvm_accessible': src.optional('dev_kvm', 'virt_info'),
        'cgroups': src.optional('cgroups', 'virt_info'),
        'nested_virtualization': None if nested is None else nested['enabled'],
        'nested_module': None if nested is None else nested['module'],
        'guests': caps['guests'],
        'max_vcpus': max_vcpus,
        'gic': None if not gics else {
            'supported': any_true(g.get('supported') for g in gics),
            'versions': _union(g.get('version') for g in gics if g.get('supported')),
        },
        'domains': src.optional('domains', 'virt_info'),
    }


def build_domain_capabilities(src):
    return src.optional('domain_capabilities', 'domain_capabilities')
