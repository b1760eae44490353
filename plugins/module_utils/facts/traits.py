# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Traits of a host, derived from its ``libvirt_host_caps`` facts (never from libvirt).

Names are the OpenStack os-traits ones where one exists and ``CUSTOM_<NAME>`` for the
rest. Every trait is decided in one rule below from facts alone, so a cached host, a
live host and an offline XML dump get the same answer, and a capability that goes away
takes its trait with it. A fact that is unknown (``None``, or a category that is
missing or failed) never sets a trait.

os-traits is not needed at run time: the tables below hold the names, and the unit
tests check every one of them against the os-traits package.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    import jmespath
    from jmespath.exceptions import JMESPathError, JMESPathTypeError
    HAS_JMESPATH = True
    JMESPATH_IMPORT_ERROR = None
except ImportError as exc:  # only custom traits need it
    jmespath = None
    JMESPathError = JMESPathTypeError = Exception
    HAS_JMESPATH = False
    JMESPATH_IMPORT_ERROR = exc

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.fact_shape import check_facts
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.facts_input import as_list, dig
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import describe, short_name, short_repr

CUSTOM_TRAIT_RE = re.compile(r'^CUSTOM_[A-Z0-9_]+$')

INTEL = ('Intel',)
# Hygon Dhyana is an AMD Zen licence and reports AMD's CPUID leaves.
AMD = ('AMD', 'Hygon')

# libvirt CPU feature name (cpu_map/x86_features.xml, as printed in <feature name=...>)
# -> the os-traits names it proves. A feature absent from this table gives no trait.
X86_FEATURE_TRAITS = {
    # SIMD
    '3dnow': ('HW_CPU_X86_3DNOW',),
    'mmx': ('HW_CPU_X86_MMX',),
    'sse': ('HW_CPU_X86_SSE',),
    'sse2': ('HW_CPU_X86_SSE2',),
    'pni': ('HW_CPU_X86_SSE3',),  # "Prescott New Instructions": libvirt's name for SSE3
    'ssse3': ('HW_CPU_X86_SSSE3',),
    'sse4.1': ('HW_CPU_X86_SSE41',),
    'sse4.2': ('HW_CPU_X86_SSE42',),
    'sse4a': ('HW_CPU_X86_SSE4A',),
    'avx': ('HW_CPU_X86_AVX',),
    'avx2': ('HW_CPU_X86_AVX2',),
    'fma': ('HW_CPU_X86_FMA3',),  # the three-operand form; AMD's four-operand one is fma4
    'fma4': ('HW_CPU_X86_FMA4',),
    'f16c': ('HW_CPU_X86_F16C',),
    'xop': ('HW_CPU_X86_XOP',),
    'pclmuldq': ('HW_CPU_X86_CLMUL',),  # libvirt spells PCLMULQDQ without the q
    # AVX-512 (libvirt writes the 2018+ extensions with a dash)
    'avx512f': ('HW_CPU_X86_AVX512F',),
    'avx512cd': ('HW_CPU_X86_AVX512CD',),
    'avx512pf': ('HW_CPU_X86_AVX512PF',),
    'avx512er': ('HW_CPU_X86_AVX512ER',),
    'avx512vl': ('HW_CPU_X86_AVX512VL',),
    'avx512bw': ('HW_CPU_X86_AVX512BW',),
    'avx512dq': ('HW_CPU_X86_AVX512DQ',),
    'avx512-vnni': ('HW_CPU_X86_AVX512VNNI',),
    'avx512vbmi': ('HW_CPU_X86_AVX512VBMI',),
    'avx512ifma': ('HW_CPU_X86_AVX512IFMA',),
    'avx512vbmi2': ('HW_CPU_X86_AVX512VBMI2',),
    'avx512bitalg': ('HW_CPU_X86_AVX512BITALG',),
    'avx512-vpopcntdq': ('HW_CPU_X86_AVX512VPOPCNTDQ',),
    # These three also exist in 128/256-bit VEX form without AVX-512 (EPYC Milan has
    # them); the AVX512* traits are only given together with avx512f, see below.
    'vaes': ('HW_CPU_X86_AVX512VAES',),
    'gfni': ('HW_CPU_X86_AVX512GFNI',),
    'vpclmulqdq': ('HW_CPU_X86_AVX512VPCLMULQDQ',),
    # AMX
    'amx-bf16': ('HW_CPU_X86_AMXBF16',),
    'amx-int8': ('HW_CPU_X86_AMXINT8',),
    'amx-tile': ('HW_CPU_X86_AMXTILE',),
    # bit manipulation, crypto
    'abm': ('HW_CPU_X86_ABM',),  # LZCNT (+POPCNT on AMD); libvirt uses 'abm' for both vendors
    'bmi1': ('HW_CPU_X86_BMI',),
    'bmi2': ('HW_CPU_X86_BMI2',),
    'tbm': ('HW_CPU_X86_TBM',),
    'aes': ('HW_CPU_X86_AESNI',),
    'sha-ni': ('HW_CPU_X86_SHA',),
    'mpx': ('HW_CPU_X86_MPX',),
    # TSX is HLE plus RTM; either one means the transactional memory unit is on.
    'hle': ('HW_CPU_X86_TSX',),
    'rtm': ('HW_CPU_X86_TSX',),
    # hardware virtualization: the old vendor-neutral names and the vendor ones
    'vmx': ('HW_CPU_X86_VMX', 'HW_CPU_X86_INTEL_VMX'),
    'svm': ('HW_CPU_X86_SVM', 'HW_CPU_X86_AMD_SVM'),
    'pdpe1gb': ('HW_CPU_X86_PDPE1GB',),
    # speculative-execution controls (QEMU's "important CPU features" lists)
    'stibp': ('HW_CPU_X86_STIBP',),  # Intel's CPUID.7.EDX bit
    'amd-stibp': ('HW_CPU_X86_STIBP',),  # AMD's CPUID 0x80000008 bit, same control
    'pcid': ('HW_CPU_X86_INTEL_PCID',),
    'spec-ctrl': ('HW_CPU_X86_INTEL_SPEC_CTRL',),
    'ssbd': ('HW_CPU_X86_INTEL_SSBD',),
    'md-clear': ('HW_CPU_X86_INTEL_MD_CLEAR',),
    'ibpb': ('HW_CPU_X86_AMD_IBPB',),
    'amd-ssbd': ('HW_CPU_X86_AMD_SSBD',),
    'virt-ssbd': ('HW_CPU_X86_AMD_VIRT_SSBD',),
    'amd-no-ssb': ('HW_CPU_X86_AMD_NO_SSB',),
    # Not mapped on purpose: 'sgx' (the CPUID bit says nothing about EPC being
    # configured; HW_CPU_X86_SGX comes from the domain capabilities instead) and
    # HW_CPU_X86_ASF (never shipped, so libvirt has no feature for it).
}

# Traits that need another feature besides their own (see 'vaes' above).
X86_TRAIT_REQUIRES = {
    'HW_CPU_X86_AVX512VAES': 'avx512f',
    'HW_CPU_X86_AVX512GFNI': 'avx512f',
    'HW_CPU_X86_AVX512VPCLMULQDQ': 'avx512f',
}

# Vendor-namespaced traits are given only when the host CPU is of that vendor. KVM
# mirrors some bits across vendors (it sets AMD's 'ibpb' on Intel hosts with IBPB),
# and Zen 3 reports 'pcid'; the trait name promises the vendor's feature.
VENDOR_PREFIXES = (
    ('HW_CPU_X86_INTEL_', INTEL),
    ('HW_CPU_X86_AMD_', AMD),
)

# AArch64: libvirt uses the Linux hwcap names, which os-traits took over upper-cased.
AARCH64_FEATURE_TRAITS = dict(
    (name, ('HW_CPU_AARCH64_' + name.upper(),)) for name in (
        'fp', 'asimd', 'evtstrm', 'aes', 'pmull', 'sha1', 'sha2', 'crc32', 'atomics',
        'fphp', 'asimdhp', 'cpuid', 'asimdrdm', 'jscvt', 'fcma', 'lrcpc', 'dcpop',
        'sha3', 'sm3', 'sm4', 'asimddp', 'sha512', 'sve',
    )
)

CPU_FEATURE_TRAITS = {
    'x86_64': X86_FEATURE_TRAITS,
    'i686': X86_FEATURE_TRAITS,
    'aarch64': AARCH64_FEATURE_TRAITS,
}

# HW_ARCH_*: the host's own architecture (libvirt arch name -> os-traits suffix).
HW_ARCH_NAMES = {
    'aarch64': 'AARCH64', 'alpha': 'ALPHA', 'armv6l': 'ARMV6', 'armv7l': 'ARMV7',
    'armv7b': 'ARMV7B', 'cris': 'CRIS', 'i686': 'I686', 'ia64': 'IA64', 'lm32': 'LM32',
    'm68k': 'M68K', 'microblaze': 'MICROBLAZE', 'microblazeel': 'MICROBLAZEEL',
    'mips': 'MIPS', 'mipsel': 'MIPSEL', 'mips64': 'MIPS64', 'mips64el': 'MIPS64EL',
    'openrisc': 'OPENRISC', 'parisc': 'PARISC', 'parisc64': 'PARISC64', 'ppc': 'PPC',
    'ppcle': 'PPCLE', 'ppc64': 'PPC64', 'ppc64le': 'PPC64LE', 'ppcemb': 'PPCEMB',
    's390': 'S390', 's390x': 'S390X', 'sh4': 'SH4', 'sh4eb': 'SH4EB', 'sparc': 'SPARC',
    'sparc64': 'SPARC64', 'unicore32': 'UNICORE32', 'x86_64': 'X86_64', 'xtensa': 'XTENSA',
    'xtensaeb': 'XTENSAEB',
}
# COMPUTE_ARCH_*: guest architectures the hypervisor can run (os-traits has fewer).
COMPUTE_ARCH_NAMES = {
    'aarch64': 'AARCH64', 'mipsel': 'MIPSEL', 'ppc64le': 'PPC64LE', 'riscv64': 'RISCV64',
    's390x': 'S390X', 'x86_64': 'X86_64',
}
X86_ARCHES = ('x86_64', 'i686')

# libvirt disk bus / video model -> os-traits suffix; other values have no trait.
STORAGE_BUS_NAMES = ('fdc', 'ide', 'lxc', 'sata', 'scsi', 'uml', 'usb', 'virtio', 'xen')
VIDEO_MODEL_NAMES = ('bochs', 'cirrus', 'gop', 'none', 'qxl', 'vga', 'virtio', 'vmvga', 'xen')
VIOMMU_MODEL_NAMES = ('intel', 'smmuv3', 'virtio')

# TPM device model -> trait; versions come from the emulator backend only (see _tpm).
TPM_MODEL_TRAITS = {'tpm-tis': 'COMPUTE_SECURITY_TPM_TIS', 'tpm-crb': 'COMPUTE_SECURITY_TPM_CRB'}
TPM_VERSION_TRAITS = {'1.2': 'COMPUTE_SECURITY_TPM_1_2', '2.0': 'COMPUTE_SECURITY_TPM_2_0'}

# Huge pages smaller than this are another base page size (ppc64 64K, the test
# driver's 8K cell), not a huge page pool.
MIN_HUGEPAGE_KB = 1024


def _domcaps(facts):
    return [e for e in as_list(dig(facts, 'domain_capabilities')) if isinstance(e, dict)]


def _host_arch(facts):
    return dig(facts, 'host_info', 'arch') or dig(facts, 'cpu_info', 'arch')


# -- rules: each returns the traits it proves ----------------------------------------


def guest_cpu_features(facts):
    """The CPU features the facts prove a guest can be given, in some CPU mode.

    The host CPU's own flags do not count: KVM may not pass them on (a nested host, a
    microcode or kernel that masks them). Without libvirt's model expansion the
    host-model list is unknown, and only the features host-model requires are proven.
    """
    cpu = dig(facts, 'cpu_info')
    cpu = cpu if isinstance(cpu, dict) else {}
    guest = cpu.get('guest_features') if isinstance(cpu.get('guest_features'), dict) else {}
    features = set()
    host_model = guest.get('host_model')
    if isinstance(host_model, list):
        features.update(host_model)
    elif dig(cpu, 'host_model', 'supported') is True:
        features.update(as_list(dig(cpu, 'host_model', 'required_features')))
    features.update(as_list(guest.get('host_passthrough')))
    custom = guest.get('custom')
    for model_features in (custom.values() if isinstance(custom, dict) else ()):
        features.update(as_list(model_features))
    return set(f for f in features if isinstance(f, str))


def cpu_feature_traits(facts):
    """The features a guest can get through the table of the host's architecture."""
    arch = dig(facts, 'cpu_info', 'arch') or _host_arch(facts)
    table = CPU_FEATURE_TRAITS.get(arch)
    features = guest_cpu_features(facts)
    if not table or not features:
        return set()
    vendor = dig(facts, 'cpu_info', 'vendor') or dig(facts, 'host_info', 'cpu_vendor')
    traits = set()
    for feature in features:
        for trait in table.get(feature, ()):
            needed = X86_TRAIT_REQUIRES.get(trait)
            if needed and needed not in features:
                continue
            if not _vendor_allows(trait, vendor):
                continue
            traits.add(trait)
    return traits


def _vendor_allows(trait, vendor):
    for prefix, vendors in VENDOR_PREFIXES:
        if trait.startswith(prefix):
            return vendor in vendors
    return True


def topology_traits(facts):
    threads = dig(facts, 'host_info', 'threads')
    if threads is None:
        threads = dig(facts, 'cpu_info', 'topology', 'threads')
    return {'HW_CPU_HYPERTHREADING'} if isinstance(threads, int) and threads > 1 else set()


def arch_traits(facts):
    """HW_ARCH_ for the host's CPU; COMPUTE_ARCH_ for each hvm guest arch it offers."""
    traits = set()
    host = HW_ARCH_NAMES.get(_host_arch(facts))
    if host:
        traits.add('HW_ARCH_' + host)
    for guest in as_list(dig(facts, 'virt_info', 'guests')):
        if isinstance(guest, dict) and guest.get('os_type') == 'hvm' and guest.get('domain_types'):
            name = COMPUTE_ARCH_NAMES.get(guest.get('arch'))
            if name:
                traits.add('COMPUTE_ARCH_' + name)
    return traits


def firmware_traits(facts):
    """UEFI and secure boot from security_info; BIOS from the domain capabilities.

    BIOS: a probe lists ``bios`` in its firmware enum, or a probe of an x86 arch
    supports ``<os>`` at all: QEMU boots x86 guests with its built-in SeaBIOS when no
    loader is given, so every x86 machine type can boot BIOS. Other arches (aarch64,
    s390x) have no BIOS unless libvirt says so. Without domain capabilities: unknown.
    """
    traits = set()
    if dig(facts, 'security_info', 'uefi') is True:
        traits.add('COMPUTE_FIRMWARE_UEFI')
    if dig(facts, 'security_info', 'secure_boot') is True:
        traits.add('COMPUTE_SECURITY_UEFI_SECURE_BOOT')
    for entry in _domcaps(facts):
        os_caps = entry.get('os') or {}
        if 'bios' in as_list(os_caps.get('firmware')) or (
                entry.get('arch') in X86_ARCHES and os_caps.get('supported') is True):
            traits.add('COMPUTE_FIRMWARE_BIOS')
    return traits


def tpm_traits(facts):
    """TPM traits only when libvirt can give each guest its own emulated TPM (swtpm).

    A passthrough TPM is the host's single chip: one guest at a time can hold it, so it
    cannot be promised to every VM placed here (Nova reasons the same way). Device
    models (TIS, CRB) and versions therefore all need the ``emulator`` backend; a
    version enum missing from an old libvirt leaves the version traits unset.
    """
    tpm = dig(facts, 'security_info', 'tpm') or {}
    if tpm.get('supported') is not True or tpm.get('emulator') is not True:
        return set()
    traits = set(TPM_MODEL_TRAITS[m] for m in as_list(tpm.get('models')) if m in TPM_MODEL_TRAITS)
    for version, trait in TPM_VERSION_TRAITS.items():
        if tpm.get('version_' + version.replace('.', '_')) is True:
            traits.add(trait)
    return traits


def confidential_computing_traits(facts):
    security = dig(facts, 'security_info') or {}
    checks = (
        (dig(security, 'sev', 'supported'), 'HW_CPU_X86_AMD_SEV'),
        (dig(security, 'sev', 'es'), 'HW_CPU_X86_AMD_SEV_ES'),
        (dig(security, 'sev', 'snp'), 'HW_CPU_X86_AMD_SEV_SNP'),
        (security.get('tdx'), 'HW_CPU_X86_INTEL_TDX'),
        (dig(security, 'sgx', 'supported'), 'HW_CPU_X86_SGX'),
        (security.get('s390_pv'), 'CUSTOM_SECURITY_S390_PV'),
    )
    return set(trait for value, trait in checks if value is True)


def device_traits(facts):
    """Disk buses, video models, virtiofs and vIOMMU models the hypervisor offers."""
    traits = set()
    for bus in as_list(dig(facts, 'storage_info', 'disk_buses')):
        if bus in STORAGE_BUS_NAMES:
            traits.add('COMPUTE_STORAGE_BUS_' + bus.upper())
    for entry in _domcaps(facts):
        devices = entry.get('devices') or {}
        video = devices.get('video') or {}
        if video.get('supported') is True:
            traits.update('COMPUTE_GRAPHICS_MODEL_' + m.upper()
                          for m in as_list(video.get('model_type')) if m in VIDEO_MODEL_NAMES)
        filesystem = devices.get('filesystem') or {}
        if filesystem.get('supported') is True and 'virtiofs' in as_list(filesystem.get('driver_type')):
            traits.add('COMPUTE_STORAGE_VIRTIO_FS')
        iommu = devices.get('iommu') or {}
        if iommu.get('supported') is True:
            models = [m for m in as_list(iommu.get('model')) if m in VIOMMU_MODEL_NAMES]
            traits.update('COMPUTE_VIOMMU_MODEL_' + m.upper() for m in models)
            if models:
                # 'auto' lets libvirt pick the arch's default model, so any one will do.
                traits.add('COMPUTE_VIOMMU_MODEL_AUTO')
    return traits


def hugepage_trait_name(size_kb):
    """``CUSTOM_HUGEPAGES_2M`` for 2048 KiB, ``_1G`` for 1048576, ``_16M``, ``_512M`` ..."""
    for unit, factor in (('G', 1024 * 1024), ('M', 1024)):
        if size_kb % factor == 0:
            return 'CUSTOM_HUGEPAGES_%d%s' % (size_kb // factor, unit)
    return 'CUSTOM_HUGEPAGES_%dK' % size_kb


def host_feature_traits(facts):
    """The CUSTOM_ traits of host features os-traits has no name for.

    Huge pages count when pages of that size are configured (total > 0), free or not:
    a trait says what the host can do, while free pages move with every guest start,
    which would make the trait (and the fact history) flap. How many are left is a
    matter for the resource inventory, not for a trait.
    """
    traits = set()
    checks = (
        (dig(facts, 'security_info', 'iommu', 'supported'), 'CUSTOM_IOMMU'),
        (dig(facts, 'virt_info', 'nested_virtualization'), 'CUSTOM_NESTED_VIRT'),
        (dig(facts, 'memory_info', 'ksm', 'enabled'), 'CUSTOM_KSM'),
        (dig(facts, 'virt_info', 'kvm_available'), 'CUSTOM_KVM'),
    )
    traits.update(trait for value, trait in checks if value is True)
    for pool in as_list(dig(facts, 'memory_info', 'hugepages')):
        size, total = dig(pool, 'size_kb'), dig(pool, 'total')
        if isinstance(size, int) and size >= MIN_HUGEPAGE_KB and isinstance(total, int) and total > 0:
            traits.add(hugepage_trait_name(size))
    return traits


def sriov_traits(sriov):
    """SR-IOV NICs and PCI passthrough candidates from ``ansible_facts.sriov``."""
    if not isinstance(sriov, dict):
        return set()
    traits = set()
    if dig(sriov, 'summary', 'capable') is True:
        traits.add('HW_NIC_SRIOV')
    if any(isinstance(vf, dict) and vf.get('trust') is True for vf in as_list(sriov.get('virtual_functions'))):
        traits.add('HW_NIC_SRIOV_TRUSTED')
    for device in as_list(sriov.get('passthrough_devices')):
        vendor, product = _pci_id(dig(device, 'vendor_id')), _pci_id(dig(device, 'device_id'))
        if vendor and product:
            traits.add('CUSTOM_PCI_%s_%s' % (vendor, product))
    return traits


def _pci_id(value):
    """'0x10de', '10DE' or 4318 as '10DE'; anything else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return '%04X' % value if 0 <= value <= 0xFFFF else None
    if isinstance(value, str):
        text = value.strip().lower()
        if text.startswith('0x'):
            text = text[2:]
        if re.match(r'^[0-9a-f]{1,4}$', text):
            return text.upper().zfill(4)
    return None


RULES = (
    cpu_feature_traits, topology_traits, arch_traits, firmware_traits, tpm_traits,
    confidential_computing_traits, device_traits, host_feature_traits,
)


# -- custom traits ---------------------------------------------------------------


def normalize_custom_traits(custom_traits):
    """``[{name, query}]`` or ``{name: query}`` as a list of (name, query), validated."""
    if custom_traits is None:
        return []
    if isinstance(custom_traits, dict):
        items = sorted(custom_traits.items(), key=lambda item: short_repr(item[0]))
    elif isinstance(custom_traits, (list, tuple)):
        items = []
        for index, item in enumerate(custom_traits):
            if not isinstance(item, dict) or 'name' not in item or 'query' not in item:
                raise ValueError(
                    'custom_traits[%d]: %s is not a {name, query} mapping; write it as '
                    "{name: CUSTOM_X, query: '<JMESPath over libvirt_host_caps and sriov>'}"
                    % (index, short_repr(item)))
            items.append((item['name'], item['query']))
    else:
        raise ValueError(
            'custom_traits: expected a list of {name, query} or a mapping of name to query, got %s'
            % describe(custom_traits))
    for name, query in items:
        if not isinstance(name, str) or not CUSTOM_TRAIT_RE.match(name):
            raise ValueError(
                'custom trait %s (query %s): the name must match CUSTOM_[A-Z0-9_]+; '
                'upper-case it and replace other characters with _, e.g. %s'
                % (short_repr(name), short_repr(query), short_repr(_suggest_name(name))))
        if not isinstance(query, str) or not query.strip():
            raise ValueError(
                'custom trait %s: the query must be a non-empty JMESPath string, got %s; '
                "quote it in YAML, e.g. query: 'libvirt_host_caps.cpu_info.vendor == `AMD`'"
                % (name, describe(query)))
    return items


def _suggest_name(name):
    text = re.sub(r'[^A-Z0-9_]', '_', str(name).upper())
    return text if text.startswith('CUSTOM_') else 'CUSTOM_' + text


class QueryError(ValueError):
    """A JMESPath query that cannot be compiled, or that can only fail; the message says
    why, without the query."""


# Ordering comparisons jmespath makes between numbers (or between strings), as its
# parser names them.
_ORDERING = {'lt': '<', 'lte': '<=', 'gt': '>', 'gte': '>='}
_NUMBER_RE = re.compile(r'^\s*-?[0-9]+(\.[0-9]+)?\s*$')


def compile_query(query):
    """``query`` compiled by jmespath. Raises QueryError for an expression jmespath
    refuses, also where jmespath itself fails with another exception (thousands of nested
    parentheses exhaust its recursive parser), and for an ordering comparison with a
    string that holds a number (``total_mb >= '2048'``), which fails on every host:
    jmespath does not order a number against a string."""
    try:
        compiled = jmespath.compile(query)
    except (JMESPathError, RecursionError, TypeError, ValueError, OverflowError) as exc:
        # JMESPathError is a ValueError; jmespath's parser recurses per nesting level.
        if isinstance(exc, RecursionError):
            raise QueryError('nests too deeply for jmespath to parse (%s characters); write it with fewer nested parentheses'
                             % format(len(query), ','))
        if HAS_JMESPATH and isinstance(exc, JMESPathError):
            raise QueryError('is not valid JMESPath (%s)' % short_repr(_one_line(exc), 200))
        raise QueryError('is not valid JMESPath (jmespath fails on it: %s)' % short_repr(str(exc), 200))
    for literal, operator in _numeric_string_comparisons(compiled.parsed):
        raise QueryError('compares with the string %s by %s, which fails on a number: jmespath orders numbers only against '
                         'numbers; write the number as a literal in backticks, `%s`' % (short_repr(literal, 40), operator, literal.strip()))
    return compiled


def _numeric_string_comparisons(tree):
    """``(literal, operator)`` of every ordering comparison against a string literal that
    holds a number, walking the parsed expression without recursion."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        children = [child for child in node.get('children') or () if isinstance(child, dict)]
        if node.get('type') == 'comparator' and node.get('value') in _ORDERING:
            for child in children:
                if child.get('type') == 'literal' and isinstance(child.get('value'), str) and _NUMBER_RE.match(child['value']):
                    yield child['value'], _ORDERING[node['value']]
        stack.extend(children)


def evaluate_custom_traits(custom_traits, facts, sriov=None):
    """``(names, failures)``: the custom traits whose JMESPath query is truthy over the
    facts, and ``{name: why}`` of those whose query failed on these facts (a function given
    a null or a value of another type), which are unknown here: neither set nor unset.
    ``custom_trait_failure`` words a failure for a message.

    Raises ValueError for a query that is not JMESPath, ImportError without jmespath.
    """
    items = normalize_custom_traits(custom_traits)
    if not items:
        return set(), {}
    if not HAS_JMESPATH:
        raise ImportError(
            'custom traits (%s) need the Python library jmespath on the controller: '
            'pip install jmespath (%s)' % (', '.join(name for name, dummy in items), JMESPATH_IMPORT_ERROR))
    data = {'libvirt_host_caps': facts, 'sriov': sriov}
    traits, failures = set(), {}
    for name, query in items:
        try:
            compiled = compile_query(query)
        except QueryError as exc:
            raise ValueError(
                'custom trait %s: query %s %s; fix the expression, '
                'paths start at libvirt_host_caps or sriov and literals need backticks (`25000`)'
                % (name, short_repr(query), exc))
        try:
            result = compiled.search(data)
        except (JMESPathError, TypeError, ValueError, OverflowError, RecursionError) as exc:
            # jmespath raises TypeError when it orders values of different types
            # (a number against a string), and its own exceptions for the rest.
            failures[name] = (query, _search_error(exc))
            continue
        if result:
            traits.add(name)
    return traits, failures


def custom_trait_failure(name, failure, host=None):
    """The message of a custom trait whose query failed on the facts of ``host``."""
    query, why = failure
    return ('custom trait %s: query %s failed on the facts of %s (%s); the trait is unknown there. Guard what may be '
            'null, e.g. contains(x || `[]`, ...), or check the types it compares'
            % (name, short_repr(query), 'host %s' % short_name(host) if host else 'this host', why))


def _one_line(exc):
    return str(exc).strip().replace('\n', ' ')


def _search_error(exc):
    """jmespath's message, with the offending value shortened: its own message prints the
    whole value, which for a list of traits or a fact category is hundreds of characters."""
    if HAS_JMESPATH and isinstance(exc, JMESPathTypeError):
        return '%s() expects %s, got %s %s' % (
            exc.function_name, ' or '.join(exc.expected_types), exc.actual_type, short_repr(exc.current_value))
    if HAS_JMESPATH and isinstance(exc, JMESPathError):
        return short_repr(_one_line(exc), 200)
    return 'jmespath fails on these facts: %s' % short_repr(str(exc), 120)


def custom_traits_matching(custom_traits, facts, sriov=None):
    """Names of the custom traits whose JMESPath query is truthy over the facts; raises
    ValueError naming every query that failed on them, and the host."""
    traits, failures = evaluate_custom_traits(custom_traits, facts, sriov)
    if failures:
        host = dig(facts, 'host_info', 'hostname')
        raise ValueError('; '.join(custom_trait_failure(name, failures[name], host) for name in sorted(failures)))
    return traits


# -- entry point -----------------------------------------------------------------


def derive_traits(facts, sriov=None, custom_traits=None):
    """The sorted, unique traits the facts prove, plus matching custom traits. Raises
    MalformedFacts (a ValueError) naming the path of a fact of the wrong type."""
    facts = facts if isinstance(facts, dict) else {}
    check_facts(facts, sriov)
    traits = set()
    for rule in RULES:
        traits.update(rule(facts))
    traits.update(sriov_traits(sriov))
    traits.update(custom_traits_matching(custom_traits, facts, sriov))
    return sorted(traits)
