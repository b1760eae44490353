# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resolved VM definitions against hosts whose facts are built by the real parsers from
the libvirt XML fixtures (and fake /sys trees for SR-IOV): one rule per row."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.cpu_definition import parse_cpu_definition
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.domain_xml import parse_assigned_pci
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.host_facts import SUBSETS, build_facts
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.network import parse_network
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.offline import xml_sources
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.pci_sysfs import read_iommu, read_pci_devices
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.procfs import read_host_use
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.sriov import build_sriov, merge_records
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.storage import parse_pool
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_hosts import HostIndex, machine_family
from ansible_collections.virtumancer.hostcaps.tests.unit import sysfs_trees
from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import facts_from, read_fixture

MILAN = 'debian12-epyc-milan-kvm.caps.xml'
MILAN_PC = 'debian12-epyc-milan-kvm.domcaps-pc.xml'
MILAN_Q35 = 'debian12-epyc-milan-kvm.domcaps-q35.xml'
MILAN_TCG = 'debian12-epyc-milan-tcg.domcaps-q35.xml'
SEV = 'amd-epyc-sev.caps.xml'
SEV_Q35 = 'amd-epyc-sev.domcaps-q35.xml'
SNP_Q35 = 'amd-epyc-genoa-snp.domcaps-q35.xml'
TDX = 'intel-tdx.caps.xml'
TDX_Q35 = 'intel-tdx.domcaps-q35.xml'
NO_UEFI_Q35 = 'x86-no-uefi.domcaps-q35.xml'
NO_TPM_Q35 = 'x86-no-tpm.domcaps-q35.xml'
ABSENT_SEV_Q35 = 'x86-absent-sev.domcaps-q35.xml'
AARCH64 = 'aarch64-gic.caps.xml'
AARCH64_VIRT = 'aarch64-gic.domcaps-virt.xml'
TESTDRIVER = 'testdriver.caps.xml'
# This machine: its CPU has avx2, but host-model lists avx2 with policy='disable'.
GUEST_CPU = 'debian12-kvm-guest-cpu'

# What a live connection adds on the SEV host: its pools, networks and free huge pages
# (virNodeGetFreePages per NUMA cell: 1000 of the 2M and 4 of the 1G pages free in each).
POOLS = [
    parse_pool(read_fixture('testdriver-default.pool.xml'), True, True, True),  # default-pool, 100 GiB available
    dict(parse_pool(read_fixture('testdriver-default.pool.xml'), False, False, True), name='archive', uuid=None),
]
NETWORKS = [
    parse_network(read_fixture('debian12-default-nat.network.xml'), True, True, True),  # default
    dict(parse_network(read_fixture('testdriver-default.network.xml'), False, True, True), name='lab', uuid=None),
]
FREE_PAGES = {0: {2048: 1000, 1048576: 4}, 1: {2048: 1000, 1048576: 4}}
LIVE = {'pools': POOLS, 'networks': NETWORKS, 'free_pages': FREE_PAGES}

# virConnectBaselineCPU(EXPAND_FEATURES) of the EPYC-Rome host: the model's own features
# (libvirt cpu_map x86_EPYC-Rome.xml) plus the ones its capabilities list beyond it.
ROME_MODEL_FEATURES = (
    '3dnowprefetch', 'abm', 'adx', 'aes', 'apic', 'arat', 'avx', 'avx2', 'bmi1', 'bmi2', 'clflush', 'clflushopt',
    'clwb', 'clzero', 'cmov', 'cr8legacy', 'cx16', 'cx8', 'de', 'f16c', 'fma', 'fpu', 'fsgsbase', 'fxsr',
    'fxsr_opt', 'ibpb', 'lahf_lm', 'lm', 'mca', 'mce', 'misalignsse', 'mmx', 'mmxext', 'movbe', 'msr', 'mtrr',
    'nx', 'osvw', 'pae', 'pat', 'pclmuldq', 'pdpe1gb', 'perfctr_core', 'pge', 'pni', 'popcnt', 'pse', 'pse36',
    'rdpid', 'rdrand', 'rdseed', 'rdtscp', 'sep', 'sha-ni', 'smap', 'smep', 'sse', 'sse2', 'sse4.1', 'sse4.2',
    'sse4a', 'ssse3', 'svm', 'syscall', 'tsc', 'umip', 'vme', 'wbnoinvd', 'xgetbv1', 'xsave', 'xsavec',
    'xsaveerptr', 'xsaveopt',
)


def expansion(model):
    """``virsh hypervisor-cpu-baseline --features --model <model>`` on this machine: the
    model's own features, those KVM here lacks marked 'disable'."""
    return parse_cpu_definition(read_fixture('%s.cpu-%s.xml' % (GUEST_CPU, model)))


def guest_cpu_host(live):
    files = (GUEST_CPU + '.caps.xml', GUEST_CPU + '.domcaps-pc.xml', GUEST_CPU + '.domcaps-q35.xml')
    if not live:
        return facts_from(*files)
    baseline = parse_cpu_definition(read_fixture(GUEST_CPU + '.cpu-baseline-host.xml'))['required_features']
    models = ('EPYC-Milan', 'pentium3', 'pentium2', 'pentium', '486')
    return facts_from(*files, baseline_features=baseline, cpu_model_expansions=dict((m, expansion(m)) for m in models))


def edited(name, *changes):
    """A fixture's XML with (old, new) text changes, each of which must apply."""
    text = read_fixture(name)
    for old, new in changes:
        assert old in text, '%r is not in %s' % (old, name)
        text = text.replace(old, new)
    return text


def sriov_host(root, assignments_known=True):
    """An E810 with 4 VFs, an A10 GPU on vfio-pci and the BMC's VGA that shows the host
    console. The PF carries the default route and VF 0000:3b:01.2's ens1f0v2 is up, so
    the host uses both. With assignments known, web01 (the captured domain XML) uses VFs
    0000:3b:01.0 and 01.1."""
    tree = sysfs_trees.SysfsTree(os.path.join(root, 'sys'))
    proc = sysfs_trees.ProcTree(os.path.join(root, 'proc'))
    sysfs_trees.intel_e810_4vf(tree)
    sysfs_trees.nvidia_gpu_alone(tree)
    sysfs_trees.aspeed_bmc_vga(tree)
    proc.route('ens1f0')
    records = merge_records(read_pci_devices(tree.root))
    host = dict(iommu=read_iommu(tree.root), host_use=read_host_use(proc.root))
    if not assignments_known:
        return build_sriov(records, **host)
    return build_sriov(records, dict((use['address'], use) for use in parse_assigned_pci(read_fixture('web01-hostdev-vf.domain.xml'))),
                       **host)


def debian12_vm_host(root):
    """This test machine: no IOMMU, its only NIC carries the default route."""
    tree = sysfs_trees.SysfsTree(os.path.join(root, 'sys'))
    proc = sysfs_trees.ProcTree(os.path.join(root, 'proc'))
    sysfs_trees.debian12_virtio_vm(tree, proc)
    return build_sriov(merge_records(read_pci_devices(tree.root)), {}, iommu=read_iommu(tree.root),
                       host_use=read_host_use(proc.root))


def _build(key, tmp_path_factory):
    if key == 'sev':
        return facts_from(SEV, SEV_Q35, **LIVE)
    if key == 'sev-offline':
        return facts_from(SEV, SEV_Q35)
    if key == 'sev-baseline':
        features = sorted(set(ROME_MODEL_FEATURES) | set(facts_from(SEV)['cpu_info']['features']))
        return facts_from(SEV, SEV_Q35, baseline_features=features, cpu_model_expansions={'EPYC-Rome': expansion('EPYC-Rome')}, **LIVE)
    if key == 'guest-cpu':
        return guest_cpu_host(live=True)
    if key == 'guest-cpu-offline':
        return guest_cpu_host(live=False)
    if key == 'sev-no-slots':
        # A Rome whose firmware gives every ASID to SEV-ES (maxGuests 0).
        return build_facts(xml_sources(read_fixture(SEV), [edited(SEV_Q35, ('<maxGuests>15</maxGuests>', '<maxGuests>0</maxGuests>'))]))
    if key == 'sev-no-storage':
        return facts_from(SEV, SEV_Q35, subsets=tuple(s for s in SUBSETS if s != 'storage'), **LIVE)
    if key == 'no-domcaps':
        return facts_from(SEV, **LIVE)
    if key == 'snp':
        return facts_from(SEV, SNP_Q35, **LIVE)
    if key == 'tdx':
        return facts_from(TDX, TDX_Q35)
    if key == 'no-uefi':
        return facts_from(MILAN, NO_UEFI_Q35)
    if key == 'no-swtpm':
        return facts_from(MILAN, NO_TPM_Q35)
    if key == 'crb-only':
        return build_facts(xml_sources(read_fixture(MILAN), [edited(MILAN_Q35, ("<value>tpm-tis</value>\n", ''))]))
    if key == 'no-1g-pages':
        # A CPU without pdpe1gb (a nested guest) lists no 1 GiB page size.
        return build_facts(xml_sources(edited(MILAN, ("      <pages unit='KiB' size='1048576'/>\n", '')), [read_fixture(MILAN_Q35)]))
    if key == 'absent-sev':
        return facts_from(MILAN, ABSENT_SEV_Q35)
    if key == 'aarch64':
        return facts_from(AARCH64, AARCH64_VIRT)
    if key == 'milan':
        return facts_from(MILAN, MILAN_PC, MILAN_Q35, MILAN_TCG)
    if key == 'testdriver':
        return facts_from(TESTDRIVER)
    if key == 'sriov':
        return {'libvirt_host_caps': facts_from(SEV, SEV_Q35, **LIVE), 'sriov': sriov_host(str(tmp_path_factory.mktemp('sys')))}
    if key == 'debian12-vm':
        return {'libvirt_host_caps': facts_from(MILAN, MILAN_Q35), 'sriov': debian12_vm_host(str(tmp_path_factory.mktemp('vm')))}
    if key == 'sriov-unassigned':
        return {'libvirt_host_caps': facts_from(SEV, SEV_Q35, **LIVE),
                'sriov': sriov_host(str(tmp_path_factory.mktemp('sys')), assignments_known=False)}
    raise KeyError(key)


@pytest.fixture(scope='module')
def host(tmp_path_factory):
    """``host(key)``: the facts of one host, built once per module."""
    built = {}

    def get(key):
        if key not in built:
            built[key] = _build(key, tmp_path_factory)
        return copy.deepcopy(built[key])
    return get


def vm(**changes):
    """A resolved VM definition, as vm_spec hands it over, with ``changes`` applied
    (``cpu`` is merged into the default CPU)."""
    resolved = {
        'name': 'web01', 'vcpus': 4, 'memory_mb': 2048, 'disk_gb': 40, 'arch': None, 'machine': None,
        'virt_type': 'kvm', 'firmware': 'bios', 'secure_boot': False, 'tpm': None, 'memory_encryption': None,
        'cpu': {'mode': 'host-model', 'model': None, 'features': [], 'dedicated': False},
        'hugepages': None, 'numa_nodes': 1, 'sriov_vfs': 0, 'pci_devices': [],
        'disks': [{'size_gb': 40, 'bus': 'virtio', 'pool': None}], 'networks': [],
        'required_traits': [], 'forbidden_traits': [], 'resources': {}, 'placement_policy': None, 'qos_policy': None,
    }
    resolved['cpu'].update(changes.pop('cpu', {}))
    resolved.update(changes)
    return resolved


CONFIDENTIAL = dict(machine='q35', firmware='efi', secure_boot=True, tpm='2.0')
CUSTOM_TRAITS = [('CUSTOM_BIG_MEMORY', 'libvirt_host_caps.memory_info.total_mb > `200000`'),
                 ('CUSTOM_E810', "sriov.physical_functions[?device_id == '1593']")]


def only(host_facts, definition, custom_traits=None):
    return HostIndex({'hv1': host_facts}, custom_traits).check(definition)[0]


# -- a host that satisfies everything ------------------------------------------------

PASSES = [
    pytest.param('sev', vm(memory_encryption='sev', hugepages='1G', disks=[{'size_gb': 60, 'bus': 'virtio', 'pool': 'default-pool'}],
                           networks=[{'network': 'default', 'model': 'virtio'}], required_traits=['HW_CPU_X86_AMD_SEV'], **CONFIDENTIAL),
                 id='sev-confidential-vm-with-pool-network-hugepages'),
    pytest.param('sev', vm(memory_encryption='sev-es', **CONFIDENTIAL), id='sev-es'),
    pytest.param('sev', vm(machine='pc-q35-6.2', firmware='efi', secure_boot=True), id='versioned-machine-shares-its-family-probe'),
    pytest.param('sev', vm(cpu={'mode': 'custom', 'model': 'EPYC-Rome', 'features': ['x2apic', 'topoext']}), id='custom-model-with-listed-features'),
    pytest.param('sev-baseline', vm(cpu={'features': ['avx2', 'sha-ni']}), id='features-of-the-expanded-host-model'),
    pytest.param('sev-baseline', vm(cpu={'mode': 'host-passthrough', 'features': ['avx2']}), id='passthrough-gets-what-host-model-gets'),
    pytest.param('guest-cpu', vm(cpu={'features': ['x2apic', 'ibpb', 'sse2']}), id='features-kvm-gives-a-host-model-guest'),
    pytest.param('guest-cpu-offline', vm(cpu={'features': ['x2apic']}), id='offline-a-feature-host-model-requires'),
    pytest.param('guest-cpu', vm(cpu={'mode': 'custom', 'model': 'pentium3', 'features': ['sse', 'x2apic']}),
                 id='custom-model-feature-and-one-kvm-adds'),
    pytest.param('sev', vm(hugepages='2M', memory_mb=3072), id='hugepages-2m-free'),
    pytest.param('snp', vm(memory_encryption='sev-snp', **CONFIDENTIAL), id='genoa-sev-snp'),
    pytest.param('tdx', vm(memory_encryption='tdx', vcpus=1024, **CONFIDENTIAL), id='tdx'),
    pytest.param('no-uefi', vm(machine='q35'), id='no-uefi-host-runs-bios'),
    pytest.param('no-swtpm', vm(machine='q35', firmware='efi', secure_boot=True), id='no-swtpm-host-runs-secure-boot-without-tpm'),
    pytest.param('absent-sev', vm(), id='absent-sev-host-runs-plain-vm'),
    pytest.param('aarch64', vm(firmware='efi', tpm='2.0', cpu={'mode': 'host-passthrough'}), id='aarch64-uefi-tpm2'),
    pytest.param('milan', vm(machine='pc', disks=[{'size_gb': 10, 'bus': 'ide', 'pool': None}]), id='milan-i440fx-ide'),
    pytest.param('milan', vm(machine='q35', virt_type='qemu', cpu={'mode': 'maximum'}), id='milan-tcg-maximum'),
    pytest.param('sriov', vm(sriov_vfs=1, resources={'PGPU': 1}, pci_devices=[{'vendor': '10de', 'device': '2236', 'count': 1}],
                             required_traits=['HW_NIC_SRIOV', 'CUSTOM_PCI_10DE_2236']), id='sriov-vfs-and-gpu'),
    pytest.param('sriov', vm(pci_devices=[{'vendor': '8086', 'device': '1889', 'count': 1}]), id='free-vf-as-pci-device'),
]


@pytest.mark.parametrize('key, definition', PASSES)
def test_pass(host, key, definition):
    assert only(host(key), definition) == ('hv1', 'pass', None, None, None)


# -- the first requirement a host fails ----------------------------------------------

FAILS = [
    pytest.param('sev', vm(arch='aarch64'), 'arch_unsupported', 'arch', 'arch aarch64 is not offered; this host runs i686, x86_64 guests',
                 id='arch_unsupported'),
    pytest.param('testdriver', vm(), 'virt_type_unsupported', 'virt_type', 'virt_type kvm is not offered for i686 guests; this host offers test',
                 id='virt_type_unsupported'),
    pytest.param('sev', vm(machine='pc-q35-99.0'), 'machine_unsupported', 'machine', 'machine pc-q35-99.0 is not offered for x86_64; '
                 'aliases offered: pc (pc-i440fx-7.2), q35 (pc-q35-7.2)', id='machine_unsupported'),
    pytest.param('sev', vm(machine='q35', vcpus=512), 'vcpus_exceed_max', 'vcpus',
                 'needs 512 vCPUs; q35 on this host allows at most 288 (domain capabilities vcpu max)', id='vcpus_exceed_max-domcaps'),
    pytest.param('sev', vm(machine='pc-q35-2.7', vcpus=270), 'vcpus_exceed_max', 'vcpus',
                 'needs 270 vCPUs; machine pc-q35-2.7 allows at most 255 (capabilities maxCpus)', id='vcpus_exceed_max-machine-maxcpus'),
    pytest.param('milan', vm(machine='pc', vcpus=256), 'vcpus_exceed_max', 'vcpus', 'pc on this host allows at most 255', id='vcpus_exceed_max-pc'),
    pytest.param('sev', vm(memory_mb=300000), 'memory_exceeds_host', 'memory_mb', 'needs 300000 MiB of memory; the host has 257430 MiB in all',
                 id='memory_exceeds_host'),
    pytest.param('no-uefi', vm(firmware='efi'), 'efi_unavailable', 'firmware', 'no UEFI firmware is installed for x86_64/pc-q35-7.2/kvm',
                 id='efi_unavailable'),
    pytest.param('aarch64', vm(firmware='bios'), 'bios_unavailable', 'firmware', 'aarch64/virt-7.2/kvm boots UEFI only', id='bios_unavailable'),
    pytest.param('milan', vm(firmware='efi', secure_boot=True), 'secure_boot_unavailable', 'secure_boot',
                 'the default machine of x86_64 on this host is pc-i440fx-7.2; set machine: q35', id='secure_boot_unavailable-default-i440fx'),
    pytest.param('aarch64', vm(firmware='efi', secure_boot=True, cpu={'mode': 'host-passthrough'}), 'secure_boot_unavailable', 'secure_boot',
                 'no secure-boot-capable loader for aarch64/virt-7.2/kvm (loader secure values: no)', id='secure_boot_unavailable-loader'),
    pytest.param('no-swtpm', vm(tpm='2.0'), 'tpm_unsupported', 'tpm', 'tpm 2.0 needs an emulated TPM (swtpm); x86_64/pc-q35-7.2/kvm offers '
                 'only the passthrough backend(s)', id='tpm_unsupported-no-swtpm'),
    pytest.param('aarch64', vm(firmware='efi', tpm='1.2', cpu={'mode': 'host-passthrough'}), 'tpm_unsupported', 'tpm',
                 'tpm 1.2: swtpm on this host offers TPM 2.0 only', id='tpm_unsupported-version'),
    pytest.param('crb-only', vm(tpm='1.2'), 'tpm_unsupported', 'tpm', 'tpm 1.2 needs the model tpm-tis; x86_64/pc-q35-7.2/kvm offers tpm-crb',
                 id='tpm_unsupported-model'),
    pytest.param('tdx', vm(memory_encryption='sev', **CONFIDENTIAL), 'memory_encryption_unsupported', 'memory_encryption',
                 'does not offer AMD SEV', id='memory_encryption_unsupported-sev-on-tdx'),
    pytest.param('sev', vm(memory_encryption='sev-snp', **CONFIDENTIAL), 'memory_encryption_unsupported', 'memory_encryption',
                 'AMD SEV-SNP is not offered for x86_64/pc-q35-7.2/kvm (launch security types: sev)', id='memory_encryption_unsupported-snp-on-rome'),
    pytest.param('sev', vm(memory_encryption='tdx', **CONFIDENTIAL), 'memory_encryption_unsupported', 'memory_encryption',
                 'Intel TDX is not offered', id='memory_encryption_unsupported-tdx-on-amd'),
    pytest.param('sev-no-slots', vm(memory_encryption='sev', **CONFIDENTIAL), 'memory_encryption_no_guests_left', 'memory_encryption',
                 'no SEV guest slot left: maxGuests is 0, 0 in use', id='memory_encryption_no_guests_left'),
    pytest.param('milan', vm(machine='q35', virt_type='qemu', cpu={'mode': 'host-passthrough'}), 'cpu_mode_unsupported', 'cpu.mode',
                 'cpu mode host-passthrough is not offered for x86_64/pc-q35-7.2/qemu', id='cpu_mode_unsupported-tcg-passthrough'),
    pytest.param('aarch64', vm(firmware='efi'), 'cpu_mode_unsupported', 'cpu.mode', 'cpu mode host-model is not offered for aarch64/virt-7.2/kvm',
                 id='cpu_mode_unsupported-aarch64-host-model'),
    pytest.param('sev', vm(cpu={'mode': 'custom', 'model': 'Skylake-Server'}), 'cpu_model_unusable', 'cpu.model',
                 "cpu model Skylake-Server is not usable on this host (libvirt usable='no'", id='cpu_model_unusable'),
    pytest.param('sev', vm(cpu={'mode': 'custom', 'model': 'Zen9'}), 'cpu_model_unusable', 'cpu.model',
                 'cpu model Zen9 is not offered for x86_64/pc-q35-7.2/kvm; usable models include qemu64', id='cpu_model_unusable-unknown-name'),
    pytest.param('sev-baseline', vm(cpu={'features': ['avx2', 'avx512f']}), 'cpu_feature_missing', 'cpu.features[1]',
                 'cpu feature avx512f is not available to a host-model guest on host hv1: the host CPU (EPYC-Rome) does not have it; '
                 'remove avx512f from cpu.features', id='cpu_feature_missing'),
    pytest.param('guest-cpu', vm(cpu={'features': ['avx2']}), 'cpu_feature_missing', 'cpu.features[0]',
                 "cpu feature avx2 is not available to a host-model guest on host hv1: the host CPU has it, but KVM and QEMU "
                 "there cannot give it to a guest (domain capabilities host-model EPYC-Milan lists it with policy='disable'); "
                 'remove avx2 from cpu.features, or run this VM on a host whose cpu_info.guest_features lists it',
                 id='cpu_feature_missing-host-flag-kvm-cannot-give'),
    pytest.param('guest-cpu-offline', vm(cpu={'features': ['sse2', 'avx2']}), 'cpu_feature_missing', 'cpu.features[1]',
                 'cpu feature avx2 is not available to a host-model guest on host hv1: the host CPU has it, but',
                 id='cpu_feature_missing-offline-disable-list'),
    pytest.param('guest-cpu', vm(cpu={'mode': 'host-passthrough', 'features': ['sha-ni']}), 'cpu_feature_missing', 'cpu.features[0]',
                 'cpu feature sha-ni is not available to a host-passthrough guest on host hv1: the host CPU has it, but KVM',
                 id='cpu_feature_missing-passthrough'),
    pytest.param('guest-cpu', vm(cpu={'mode': 'custom', 'model': 'pentium3', 'features': ['aes']}), 'cpu_feature_missing',
                 'cpu.features[0]', 'cpu feature aes is not available to a custom guest of model pentium3 on host hv1',
                 id='cpu_feature_missing-custom-model'),
    pytest.param('sev', vm(vcpus=128, cpu={'dedicated': True}), 'dedicated_cpus_exceed_host', 'cpu.dedicated',
                 'needs 128 dedicated host CPUs; the host has 64 online', id='dedicated_cpus_exceed_host'),
    pytest.param('no-1g-pages', vm(hugepages='1G'), 'hugepages_unsupported', 'hugepages', 'the host has no 1G pages (page sizes: 4K, 2M)',
                 id='hugepages_unsupported'),
    pytest.param('sev', vm(hugepages='1G', memory_mb=16384), 'hugepages_insufficient', 'hugepages',
                 'needs 16 free 1G pages for 16384 MiB; 8 of 32 are free', id='hugepages_insufficient-free'),
    pytest.param('sev-offline', vm(hugepages='1G', memory_mb=65536), 'hugepages_insufficient', 'hugepages',
                 'needs 64 1G pages for 65536 MiB; the host has 32 configured in all', id='hugepages_insufficient-configured'),
    pytest.param('sriov', vm(sriov_vfs=2, resources={'SRIOV_NET_VF': 1}), 'sriov_vfs_insufficient', 'sriov_vfs',
                 'needs 3 free SR-IOV VFs; 1 of 4 are free', id='sriov_vfs_insufficient'),
    pytest.param('sriov', vm(resources={'SRIOV_NET_VF': 5}), 'sriov_vfs_insufficient', 'resources.SRIOV_NET_VF',
                 'needs 5 SR-IOV VFs; the host has 4 in all', id='sriov_vfs_insufficient-resource-class'),
    pytest.param('sriov', vm(pci_devices=[{'vendor': '10de', 'device': '2236', 'count': 2}]), 'pci_device_insufficient', 'pci_devices[0]',
                 'needs 2 x 10de:2236; the host has 1 free and assignable (1 in all)', id='pci_device_insufficient'),
    pytest.param('sriov', vm(pci_devices=[{'vendor': '8086', 'device': '1889', 'count': 2}]), 'pci_device_insufficient', 'pci_devices[0]',
                 'needs 2 x 8086:1889; the host has 1 free and assignable (4 in all, 2 in use, 1 not a passthrough candidate '
                 '(0000:3b:01.2: the host uses it: interface ens1f0v2 is up))', id='pci_device_insufficient-assigned-and-host-vfs'),
    pytest.param('debian12-vm', vm(pci_devices=[{'vendor': '1af4', 'device': '1041', 'count': 1}]), 'pci_device_insufficient',
                 'pci_devices[0]', 'needs 1 x 1af4:1041; the host has 0 free and assignable (1 in all, 1 not a passthrough candidate '
                 '(0000:00:03.0: the host has no IOMMU', id='pci_device_insufficient-no-iommu-and-host-nic'),
    pytest.param('sriov', vm(pci_devices=[{'vendor': '1a03', 'device': '2000', 'count': 1}]), 'pci_device_insufficient', 'pci_devices[0]',
                 '0000:04:00.0: the host uses it: it is the boot VGA device, which shows the host console', id='pci_device_insufficient-console'),
    pytest.param('sriov', vm(resources={'PGPU': 2}), 'resource_insufficient', 'resources.PGPU', 'needs 2 PGPU; 1 left (total 1, used 0)',
                 id='resource_insufficient'),
    pytest.param('sev', vm(disks=[{'size_gb': 10, 'bus': 'virtio', 'pool': None}, {'size_gb': 10, 'bus': 'ide', 'pool': None}]),
                 'disk_bus_unsupported', 'disks[1].bus', 'disk bus ide is not offered for x86_64/pc-q35-7.2/kvm (buses: fdc, sata, scsi, usb, virtio)',
                 id='disk_bus_unsupported'),
    pytest.param('sev', vm(disks=[{'size_gb': 10, 'bus': 'virtio', 'pool': 'fast'}]), 'pool_missing', 'disks[0].pool',
                 "storage pool 'fast' does not exist on this host (pools: archive, default-pool)", id='pool_missing'),
    pytest.param('sev', vm(disks=[{'size_gb': 10, 'bus': 'virtio', 'pool': 'archive'}]), 'pool_inactive', 'disks[0].pool',
                 "storage pool 'archive' is inactive; start it (virsh pool-start archive)", id='pool_inactive'),
    pytest.param('sev', vm(disks=[{'size_gb': 60, 'bus': 'virtio', 'pool': 'default-pool'}, {'size_gb': 50, 'bus': 'virtio', 'pool': 'default-pool'}]),
                 'pool_full', 'disks[0].pool', "the disks on storage pool 'default-pool' need 110 GiB; it has 100 GiB available", id='pool_full'),
    pytest.param('sev', vm(networks=[{'network': 'default', 'model': 'virtio'}, {'network': 'storage', 'model': 'virtio'}]), 'network_missing',
                 'networks[1].network', "network 'storage' does not exist on this host (networks: default, lab)", id='network_missing'),
    pytest.param('sev', vm(networks=[{'network': 'lab', 'model': 'virtio'}]), 'network_inactive', 'networks[0].network',
                 "network 'lab' is inactive; start it (virsh net-start lab)", id='network_inactive'),
    pytest.param('sev', vm(required_traits=['HW_CPU_X86_AMD_SEV', 'HW_CPU_X86_AVX512F', 'HW_NIC_SRIOV']), 'trait_missing', 'required_traits',
                 'lacks the required traits HW_CPU_X86_AVX512F, HW_NIC_SRIOV', id='trait_missing'),
    pytest.param('milan', vm(required_traits=['CUSTOM_BIG_MEMORY']), 'trait_missing', 'required_traits', 'lacks the required trait CUSTOM_BIG_MEMORY',
                 id='trait_missing-custom'),
    pytest.param('sev', vm(forbidden_traits=['CUSTOM_BIG_MEMORY', 'HW_CPU_X86_INTEL_TDX']), 'trait_forbidden', 'forbidden_traits',
                 'has the forbidden trait CUSTOM_BIG_MEMORY', id='trait_forbidden-custom'),
]


@pytest.mark.parametrize('key, definition, code, field, message', FAILS)
def test_fail(host, key, definition, code, field, message):
    name, verdict, found_code, found_field, found_message = only(host(key), definition, CUSTOM_TRAITS)
    assert (name, verdict, found_code, found_field) == ('hv1', 'fail', code, field)
    assert message in found_message


# -- what a host cannot confirm ------------------------------------------------------

UNKNOWNS = [
    pytest.param('no-domcaps', vm(), 'vcpus_exceed_max', 'vcpus', 'cannot confirm 4 vCPUs on default machine pc-i440fx-7.2: '
                 'domain_capabilities is null in the facts', id='null-domain-capabilities'),
    pytest.param('sev', vm(machine='pc', firmware='efi'), 'vcpus_exceed_max', 'vcpus',
                 'no domain capabilities for x86_64/pc-i440fx-7.2/kvm in the facts', id='machine-not-probed'),
    pytest.param('absent-sev', vm(memory_encryption='sev', **CONFIDENTIAL), 'memory_encryption_unsupported', 'memory_encryption',
                 'cannot confirm AMD SEV: the domain capabilities of x86_64/pc-q35-7.2/kvm have no <sev> element', id='null-sev'),
    pytest.param('sev-no-storage', vm(disks=[{'size_gb': 10, 'bus': 'virtio', 'pool': 'default-pool'}]), 'pool_missing', 'disks[0].pool',
                 "cannot confirm storage pool 'default-pool': the facts list no storage pools", id='missing-storage-info'),
    pytest.param('sev-offline', vm(networks=[{'network': 'default', 'model': 'virtio'}]), 'network_missing', 'networks[0].network',
                 "cannot confirm network 'default': the facts list no networks", id='networks-not-read'),
    pytest.param('sev-offline', vm(hugepages='1G'), 'hugepages_insufficient', 'hugepages',
                 'cannot confirm 2 free 1G pages: 32 are configured, free counts need a live libvirt connection', id='free-hugepages-not-read'),
    pytest.param('sev', vm(cpu={'features': ['avx2']}), 'cpu_feature_missing', 'cpu.features[0]',
                 'cannot confirm cpu feature avx2 for a host-model guest on host hv1: the facts do not list the features that mode gives',
                 id='host-model-not-expanded'),
    pytest.param('guest-cpu-offline', vm(cpu={'features': ['clzero']}), 'cpu_feature_missing', 'cpu.features[0]',
                 'cannot confirm cpu feature clzero for a host-model guest on host hv1: the facts do not list',
                 id='offline-host-flag-neither-required-nor-disabled'),
    pytest.param('guest-cpu', vm(cpu={'features': ['topoext']}), 'cpu_feature_missing', 'cpu.features[0]',
                 'cannot confirm cpu feature topoext for a host-model guest on host hv1: it is not among the 57 features host-model gives',
                 id='host-flag-outside-the-host-model'),
    pytest.param('guest-cpu', vm(cpu={'mode': 'host-passthrough', 'features': ['topoext']}), 'cpu_feature_missing', 'cpu.features[0]',
                 'cannot confirm cpu feature topoext for a host-passthrough guest on host hv1', id='passthrough-unknown'),
    pytest.param('sev', vm(sriov_vfs=1), 'sriov_vfs_insufficient', 'sriov_vfs',
                 'cannot confirm 1 free SR-IOV VF: no sriov facts for this host', id='no-sriov-facts'),
    pytest.param('sriov-unassigned', vm(sriov_vfs=2), 'sriov_vfs_insufficient', 'sriov_vfs',
                 'cannot confirm 2 free SR-IOV VFs: the host has 4, but which a domain uses is unknown', id='vf-assignments-unknown'),
    pytest.param('sriov-unassigned', vm(pci_devices=[{'vendor': '10de', 'device': '2236', 'count': 1}]), 'pci_device_insufficient',
                 'pci_devices[0]', 'cannot confirm 1 free assignable 10de:2236: the host has 1, but which a domain uses is unknown',
                 id='gpu-assignments-unknown'),
]


@pytest.mark.parametrize('key, definition, code, field, message', UNKNOWNS)
def test_unknown(host, key, definition, code, field, message):
    name, verdict, found_code, found_field, found_message = only(host(key), definition)
    assert (name, verdict, found_code, found_field) == ('hv1', 'unknown', code, field)
    assert found_message.startswith('cannot confirm ') and message in found_message


def test_a_failure_wins_over_an_earlier_unknown(host):
    # efi cannot be confirmed without domain capabilities, but the memory is plainly too much.
    result = only(host('no-domcaps'), vm(firmware='efi', memory_mb=300000))
    assert result[1:3] == ('fail', 'memory_exceeds_host')


def test_the_first_unknown_in_rule_order_is_reported(host):
    result = only(host('sev-offline'), vm(hugepages='1G', networks=[{'network': 'default', 'model': 'virtio'}]))
    assert result[1:4] == ('unknown', 'hugepages_insufficient', 'hugepages')


# -- the index -----------------------------------------------------------------------


@pytest.fixture
def fleet(host):
    """Four hosts, in inventory order, each held as playbooks hold facts."""
    return {
        'hv3': {'ansible_facts': {'libvirt_host_caps': host('sev')}},   # hostvars[host]
        'hv1': {'libvirt_host_caps': host('no-uefi')},                  # hostvars[host].ansible_facts
        'hv4': host('tdx'),                                             # the bare libvirt_host_caps
        'hv2': host('sriov'),
    }


def test_check_gives_one_verdict_per_host_in_name_order(fleet):
    results = HostIndex(fleet).check(vm(firmware='efi', machine='q35'))
    assert [r[:3] for r in results] == [('hv1', 'fail', 'efi_unavailable'), ('hv2', 'pass', None), ('hv3', 'pass', None), ('hv4', 'pass', None)]


def test_first_pass_stops_at_the_first_passing_host(fleet):
    index = HostIndex(fleet)
    assert index.first_pass(vm(firmware='efi', machine='q35')) == 'hv2'
    assert index.first_pass(vm(memory_encryption='tdx', **CONFIDENTIAL)) == 'hv4'
    assert index.first_pass(vm(memory_mb=10 ** 7)) is None


def test_sriov_beside_the_facts_gives_its_traits(fleet):
    index = HostIndex(fleet, CUSTOM_TRAITS)
    assert index.first_pass(vm(required_traits=['CUSTOM_E810', 'HW_NIC_SRIOV'])) == 'hv2'


def test_the_index_can_be_reused_for_many_vms(fleet):
    index = HostIndex(fleet)
    first = index.check(vm(machine='q35', vcpus=512))
    assert index.check(vm(machine='q35', vcpus=512)) == first
    assert index.check(vm())[2] == ('hv3', 'pass', None, None, None)


def test_no_hosts():
    index = HostIndex({})
    assert (index.check(vm()), index.first_pass(vm())) == ([], None)


@pytest.mark.parametrize('name, family', [('pc-q35-7.2', 'pc-q35'), ('pc-i440fx-10.1', 'pc-i440fx'), ('virt-7.2', 'virt'), ('q35', 'q35')])
def test_machine_family(name, family):
    assert machine_family(name) == family


# -- facts that cannot be read -------------------------------------------------------


@pytest.mark.parametrize('holder, path', [
    pytest.param(lambda facts: {'libvirt_host_caps': facts}, 'hosts.hv1.libvirt_host_caps.schema_version', id='ansible_facts'),
    pytest.param(lambda facts: {'ansible_facts': {'libvirt_host_caps': facts}}, 'hosts.hv1.ansible_facts.libvirt_host_caps.schema_version',
                 id='hostvars'),
    pytest.param(lambda facts: facts, 'hosts.hv1.schema_version', id='bare'),
])
def test_other_schema_version_is_refused_with_its_path(host, holder, path):
    with pytest.raises(ValueError) as err:
        HostIndex({'hv1': holder(dict(host('no-uefi'), schema_version=2)), 'hv0': host('tdx')})
    message = str(err.value)
    assert message.startswith(path + ': ') and 'schema_version is 2' in message


@pytest.mark.parametrize('facts, path', [
    pytest.param('hv2.example.com', 'hosts.hv2: ', id='string'),
    pytest.param({'libvirt_host_caps': 'none'}, 'hosts.hv2.libvirt_host_caps: ', id='string-libvirt_host_caps'),
    pytest.param({'libvirt_host_caps': {'schema_version': 1}, 'sriov': 'none'}, 'hosts.hv2.sriov: ', id='sriov-not-a-mapping'),
])
def test_unreadable_host_facts_are_refused_with_the_host_named(host, facts, path):
    with pytest.raises(ValueError) as err:
        HostIndex({'hv1': host('tdx'), 'hv2': facts})
    assert str(err.value).startswith(path)


@pytest.mark.parametrize('facts, reason', [
    pytest.param({}, 'no facts at all', id='unreachable'),  # hostvars[host].ansible_facts of a host never reached
    pytest.param({'ansible_facts': {}}, 'no facts at all', id='hostvars-unreachable'),
    pytest.param(None, 'no facts (null)', id='null'),
    pytest.param({'libvirt_host_caps': None}, 'libvirt_host_caps is null', id='null-libvirt_host_caps'),
    pytest.param({'ansible_hostname': 'hv2', 'ansible_os_family': 'Debian'}, 'facts, but no libvirt_host_caps among them '
                 '(ansible_hostname, ansible_os_family)', id='setup-facts-only'),
])
def test_a_host_without_facts_is_skipped_with_what_it_lacks(host, facts, reason):
    index = HostIndex({'hv1': host('tdx'), 'hv2': facts})

    assert (index.hosts, index.skipped) == (('hv1',), {'hv2': reason})
    assert index.first_pass(vm(machine='q35')) == 'hv1'


# -- every requirement a host fails ---------------------------------------------------


def test_check_all_lists_every_failed_requirement_then_the_unconfirmed_ones(host):
    # An NFV VM on the EPYC host without SR-IOV facts: too many vCPUs and a missing trait
    # both fail, the VFs cannot be confirmed.
    nfv = vm(vcpus=100000, machine='q35', sriov_vfs=2, required_traits=['CUSTOM_NFV'])
    index = HostIndex({'hv1': host('milan')})

    found = index.check_all(nfv)['hv1']

    assert [(verdict, code) for verdict, code, field, message in found] == [
        ('fail', 'vcpus_exceed_max'), ('fail', 'trait_missing'), ('unknown', 'sriov_vfs_insufficient')]
    assert found[0][1:] == index.check(nfv)[0][2:]


def test_check_all_of_a_host_that_fits_is_empty(host):
    assert HostIndex({'hv1': host('milan')}).check_all(vm(machine='q35')) == {'hv1': []}


def test_check_all_stops_at_an_arch_the_host_does_not_run(host):
    found = HostIndex({'hv1': host('milan')}).check_all(vm(arch='aarch64', vcpus=100000))['hv1']
    assert [code for verdict, code, field, message in found] == ['arch_unsupported']


# -- custom traits whose query fails on one host ---------------------------------------


def test_a_custom_trait_query_that_fails_on_one_host_is_unknown_there_only(host):
    # contains() of a null: the host whose cpu_info could not be read.
    broken = copy.deepcopy(host('milan'))
    broken['cpu_info'] = None
    query = [('CUSTOM_AVX2', "contains(libvirt_host_caps.cpu_info.features, 'avx2')")]

    index = HostIndex({'hv1': broken, 'hv2': host('milan')}, query)

    assert [(name, trait) for name, trait, message in index.trait_failures] == [('hv1', 'CUSTOM_AVX2')]
    message = index.trait_failures[0][2]
    assert 'custom trait CUSTOM_AVX2' in message and 'host hv1' in message and 'contains() expects array or string, got null' in message
    verdicts = index.check(vm(required_traits=['CUSTOM_AVX2']))
    assert [(name, verdict, code) for name, verdict, code, field, message in verdicts] == [
        ('hv1', 'unknown', 'trait_missing'), ('hv2', 'pass', None)]
    assert 'CUSTOM_AVX2' in verdicts[0][4] and verdicts[0][4].startswith('cannot confirm')


def test_hosts_must_be_a_mapping():
    with pytest.raises(ValueError) as err:
        HostIndex(['hv1'])
    assert str(err.value).startswith('hosts: expected a mapping')


def test_a_broken_custom_trait_query_is_refused(host):
    with pytest.raises(ValueError) as err:
        HostIndex({'hv1': host('tdx')}, [('CUSTOM_X', 'libvirt_host_caps.[')])
    assert 'CUSTOM_X' in str(err.value) and 'not valid JMESPath' in str(err.value)
