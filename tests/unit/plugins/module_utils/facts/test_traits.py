# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Traits derived from facts that were built from saved libvirt XML by the real parsers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import os_traits
import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts import traits as traits_mod
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.capabilities import parse_capabilities
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.cpu_definition import parse_cpu_definition
from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import FIXTURES, facts_from, read_fixture
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.traits import derive_traits
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.fact_shape import MalformedFacts

OS_TRAITS = frozenset(os_traits.get_traits())
CUSTOM = re.compile(r'^CUSTOM_[A-Z0-9_]+$')

MILAN = 'debian12-epyc-milan-kvm.caps.xml'
MILAN_PC = 'debian12-epyc-milan-kvm.domcaps-pc.xml'
MILAN_Q35 = 'debian12-epyc-milan-kvm.domcaps-q35.xml'
SEV = 'amd-epyc-sev.caps.xml'
SEV_Q35 = 'amd-epyc-sev.domcaps-q35.xml'
SNP_Q35 = 'amd-epyc-genoa-snp.domcaps-q35.xml'
SGX_Q35 = 'intel-sgx.domcaps-q35.xml'
XEON_HT = 'intel-xeon-ht.caps.xml'
ABSENT_SEV_Q35 = 'x86-absent-sev.domcaps-q35.xml'
NO_TPM_Q35 = 'x86-no-tpm.domcaps-q35.xml'
NO_UEFI_Q35 = 'x86-no-uefi.domcaps-q35.xml'
TESTDRIVER = 'testdriver.caps.xml'
TDX = 'intel-tdx.caps.xml'
TDX_Q35 = 'intel-tdx.domcaps-q35.xml'
AARCH64 = 'aarch64-gic.caps.xml'
AARCH64_VIRT = 'aarch64-gic.domcaps-virt.xml'
# This machine: its CPU has avx2, aes, sha-ni, sse4.x and pdpe1gb, but KVM here gives
# none of them to a guest (host-model lists them with policy='disable').
GUEST_CPU = 'debian12-kvm-guest-cpu.caps.xml'
GUEST_CPU_PC = 'debian12-kvm-guest-cpu.domcaps-pc.xml'
GUEST_CPU_Q35 = 'debian12-kvm-guest-cpu.domcaps-q35.xml'
HOST_ONLY_TRAITS = ('HW_CPU_X86_AVX2', 'HW_CPU_X86_AESNI', 'HW_CPU_X86_SHA', 'HW_CPU_X86_SSE41', 'HW_CPU_X86_SSE42',
                    'HW_CPU_X86_PDPE1GB')


def expansion(model):
    """``virsh hypervisor-cpu-baseline --features --model <model>`` on this machine."""
    return parse_cpu_definition(read_fixture('debian12-kvm-guest-cpu.cpu-%s.xml' % model))


def live_guest_cpu(**live):
    """This machine's facts as the module gathers them read-write."""
    expansions = dict((model, expansion(model)) for model in ('EPYC-Milan', 'pentium3', 'pentium2', 'pentium', '486'))
    baseline = parse_cpu_definition(read_fixture('debian12-kvm-guest-cpu.cpu-baseline-host.xml'))['required_features']
    return facts_from(GUEST_CPU, GUEST_CPU_PC, GUEST_CPU_Q35, baseline_features=baseline, cpu_model_expansions=expansions, **live)


def rome_host(**live):
    """The bare-metal Rome: host-model EPYC-Rome disables nothing, so a guest gets the
    whole model (its features from libvirt's expansion of EPYC-Rome)."""
    return facts_from(SEV, SEV_Q35, cpu_model_expansions={'EPYC-Rome': expansion('EPYC-Rome')}, **live)


def guest_gets_host_flags(facts):
    """For tests of the flag-to-trait table only: a host whose hypervisor passes every
    flag of its CPU on to a host-model guest."""
    facts['cpu_info']['guest_features']['host_model'] = list(facts['cpu_info']['features'])
    return derive_traits(facts)


def traits_of(caps, *domcaps, **live):
    return derive_traits(facts_from(caps, *domcaps, **live))


@pytest.fixture(scope='module')
def milan():
    return traits_of(MILAN, MILAN_PC, MILAN_Q35)


@pytest.fixture(scope='module')
def milan_read_only():
    return traits_of(MILAN)


# -- the Milan capture -------------------------------------------------------------


@pytest.mark.parametrize('trait', HOST_ONLY_TRAITS)
def test_a_host_flag_kvm_cannot_give_a_guest_gives_no_trait(trait):
    assert trait not in live_guest_cpu()['traits']


@pytest.mark.parametrize('trait', HOST_ONLY_TRAITS)
def test_offline_a_host_flag_gives_no_trait_either(trait):
    assert trait not in traits_of(GUEST_CPU, GUEST_CPU_PC, GUEST_CPU_Q35)


def test_the_features_kvm_gives_a_guest_give_their_traits():
    traits = live_guest_cpu()['traits']
    assert {'HW_CPU_X86_SSE', 'HW_CPU_X86_SSE2', 'HW_CPU_X86_MMX', 'HW_CPU_X86_STIBP'} <= set(traits)


def test_offline_only_what_host_model_requires_gives_a_cpu_trait():
    # x2apic, stibp, ssbd ...: the Milan model's own features are unknown without libvirt.
    traits = traits_of(GUEST_CPU, GUEST_CPU_PC, GUEST_CPU_Q35)
    assert [t for t in traits if t.startswith('HW_CPU_X86_')] == ['HW_CPU_X86_STIBP']


def test_milan_capture_of_a_nested_host_gives_no_avx2(milan):
    assert 'HW_CPU_X86_AVX2' not in milan


def test_libvirt_flag_names_map_to_os_traits_names():
    # pclmuldq, sha-ni, sse4.1, bmi1, fma and aes are spelled differently in os-traits
    traits = rome_host()['traits']
    for trait in ('HW_CPU_X86_CLMUL', 'HW_CPU_X86_SHA', 'HW_CPU_X86_SSE41', 'HW_CPU_X86_BMI',
                  'HW_CPU_X86_FMA3', 'HW_CPU_X86_AESNI', 'HW_CPU_X86_AVX2'):
        assert trait in traits


def test_milan_swtpm_gives_tpm_2_0(milan):
    assert 'COMPUTE_SECURITY_TPM_2_0' in milan


def test_milan_swtpm_gives_both_tpm_device_models(milan):
    assert {'COMPUTE_SECURITY_TPM_TIS', 'COMPUTE_SECURITY_TPM_CRB'} <= set(milan)


def test_milan_q35_secure_boot_firmware_gives_secure_boot(milan):
    assert 'COMPUTE_SECURITY_UEFI_SECURE_BOOT' in milan


def test_milan_ovmf_gives_uefi(milan):
    assert 'COMPUTE_FIRMWARE_UEFI' in milan


def test_milan_x86_machine_gives_bios(milan):
    assert 'COMPUTE_FIRMWARE_BIOS' in milan


def test_milan_kvm_domain_type_gives_custom_kvm(milan):
    assert 'CUSTOM_KVM' in milan


def test_milan_host_and_guest_arch(milan):
    assert {'HW_ARCH_X86_64', 'COMPUTE_ARCH_X86_64'} <= set(milan)


def test_i686_guests_give_no_compute_arch_because_os_traits_has_none(milan):
    assert not [t for t in milan if t.startswith('COMPUTE_ARCH_') and t != 'COMPUTE_ARCH_X86_64']


def test_milan_pc_machine_disk_buses(milan):
    assert {'COMPUTE_STORAGE_BUS_IDE', 'COMPUTE_STORAGE_BUS_VIRTIO', 'COMPUTE_STORAGE_BUS_SATA'} <= set(milan)


def test_milan_video_models(milan):
    assert {'COMPUTE_GRAPHICS_MODEL_VIRTIO', 'COMPUTE_GRAPHICS_MODEL_QXL', 'COMPUTE_GRAPHICS_MODEL_VGA'} <= set(milan)


def test_milan_virtiofs(milan):
    assert 'COMPUTE_STORAGE_VIRTIO_FS' in milan


def test_pcid_on_an_amd_cpu_gives_no_intel_pcid(milan):
    assert 'HW_CPU_X86_INTEL_PCID' not in milan


def test_vaes_without_avx512_gives_no_avx512_trait(milan):
    assert not [t for t in milan if t.startswith('HW_CPU_X86_AVX512')]


def test_one_thread_per_core_is_not_hyperthreading(milan):
    assert 'HW_CPU_HYPERTHREADING' not in milan


def test_no_hugepages_configured_gives_no_hugepage_trait(milan):
    assert not [t for t in milan if t.startswith('CUSTOM_HUGEPAGES_')]


def test_iommu_off_gives_no_iommu_trait(milan):
    assert 'CUSTOM_IOMMU' not in milan


def test_build_facts_stores_the_same_traits():
    facts = facts_from(MILAN, MILAN_PC, MILAN_Q35)
    assert facts['traits'] == derive_traits(facts)


def test_traits_are_sorted_and_unique(milan):
    assert milan == sorted(set(milan))


# -- unknown never sets a trait ------------------------------------------------------


def test_read_only_facts_give_no_uefi(milan_read_only):
    assert 'COMPUTE_FIRMWARE_UEFI' not in milan_read_only


def test_read_only_facts_give_no_bios(milan_read_only):
    assert 'COMPUTE_FIRMWARE_BIOS' not in milan_read_only


def test_read_only_facts_give_no_tpm(milan_read_only):
    assert not [t for t in milan_read_only if t.startswith('COMPUTE_SECURITY_')]


def test_read_only_facts_give_no_cpu_feature_trait(milan_read_only):
    # Without domain capabilities nothing says what KVM gives a guest.
    assert not [t for t in milan_read_only if t.startswith('HW_CPU_X86_')]


def test_no_facts_give_no_traits():
    assert derive_traits({}) == []


def test_failed_categories_give_no_traits():
    facts = dict.fromkeys(('host_info', 'cpu_info', 'memory_info', 'security_info', 'storage_info',
                           'network_info', 'virt_info', 'domain_capabilities'))
    assert derive_traits(facts) == []


def test_gather_subset_without_security_keeps_cpu_traits():
    facts = rome_host(subsets=('host', 'cpu'))
    assert 'HW_CPU_X86_AVX2' in facts['traits']
    assert 'COMPUTE_FIRMWARE_UEFI' not in facts['traits']


def test_testdriver_gives_only_its_arch():
    assert traits_of(TESTDRIVER) == ['HW_ARCH_I686']


# -- variant hosts -------------------------------------------------------------------


def test_absent_sev_element_gives_no_sev():
    assert not [t for t in traits_of(MILAN, ABSENT_SEV_Q35) if 'SEV' in t]


def test_sev_host_gives_sev_and_sev_es():
    traits = traits_of(SEV, SEV_Q35)
    assert {'HW_CPU_X86_AMD_SEV', 'HW_CPU_X86_AMD_SEV_ES'} <= set(traits)


def test_sev_host_without_snp_gives_no_snp():
    assert 'HW_CPU_X86_AMD_SEV_SNP' not in traits_of(SEV, SEV_Q35)


def test_snp_host_gives_sev_snp():
    assert 'HW_CPU_X86_AMD_SEV_SNP' in traits_of(SEV, SNP_Q35)


def test_configured_hugepages_give_2m_and_1g():
    assert {'CUSTOM_HUGEPAGES_2M', 'CUSTOM_HUGEPAGES_1G'} <= set(traits_of(SEV))


def test_hugepages_configured_but_all_in_use_still_count():
    capabilities = parse_capabilities(read_fixture(SEV))
    sizes = capabilities['cpu']['page_sizes_kb']
    no_free = dict((cell['id'], dict((size, 0) for size in sizes)) for cell in capabilities['cells'])
    assert 'CUSTOM_HUGEPAGES_1G' in traits_of(SEV, free_pages=no_free)


def test_iommu_support_gives_custom_iommu():
    assert 'CUSTOM_IOMMU' in traits_of(SEV)


def test_two_threads_per_core_is_hyperthreading():
    assert 'HW_CPU_HYPERTHREADING' in traits_of(SEV)


def test_xeon_vmx_gives_both_vmx_traits():
    assert {'HW_CPU_X86_VMX', 'HW_CPU_X86_INTEL_VMX'} <= set(guest_gets_host_flags(facts_from(XEON_HT)))


def test_xeon_md_clear_gives_intel_md_clear():
    assert 'HW_CPU_X86_INTEL_MD_CLEAR' in guest_gets_host_flags(facts_from(XEON_HT))


def test_xeon_ht_is_hyperthreading():
    assert 'HW_CPU_HYPERTHREADING' in traits_of(XEON_HT)


def test_sgx_domain_capabilities_give_sgx():
    assert 'HW_CPU_X86_SGX' in traits_of(MILAN, SGX_Q35)


def test_no_uefi_firmware_gives_no_uefi():
    assert 'COMPUTE_FIRMWARE_UEFI' not in traits_of(MILAN, NO_UEFI_Q35)


def test_x86_without_uefi_still_boots_bios():
    assert 'COMPUTE_FIRMWARE_BIOS' in traits_of(MILAN, NO_UEFI_Q35)


def test_passthrough_only_tpm_gives_no_tpm_trait():
    assert not [t for t in traits_of(MILAN, NO_TPM_Q35) if t.startswith('COMPUTE_SECURITY_TPM')]


def test_tdx_host_gives_intel_tdx():
    assert 'HW_CPU_X86_INTEL_TDX' in traits_of(TDX, TDX_Q35)


def test_host_without_tdx_gives_no_tdx():
    assert 'HW_CPU_X86_INTEL_TDX' not in traits_of(MILAN, MILAN_Q35)


def test_amd_bits_mirrored_by_kvm_on_intel_give_no_amd_trait():
    # KVM copies IBPB/SSBD/STIBP into AMD's CPUID leaf on Intel hosts
    traits = guest_gets_host_flags(facts_from(TDX))
    assert not [t for t in traits if t.startswith('HW_CPU_X86_AMD_')]
    assert 'HW_CPU_X86_STIBP' in traits


def test_aarch64_hwcaps_give_aarch64_cpu_traits():
    assert {'HW_CPU_AARCH64_ATOMICS', 'HW_CPU_AARCH64_ASIMD', 'HW_CPU_AARCH64_SHA2'} <= set(
        guest_gets_host_flags(facts_from(AARCH64, AARCH64_VIRT)))


def test_aarch64_host_passthrough_only_gives_no_cpu_feature_trait():
    # libvirt lists no feature of a host-passthrough guest, and host-model is not offered.
    assert not [t for t in traits_of(AARCH64, AARCH64_VIRT) if t.startswith('HW_CPU_AARCH64_')]


def test_aarch64_host_gives_aarch64_arch():
    assert {'HW_ARCH_AARCH64', 'COMPUTE_ARCH_AARCH64'} <= set(traits_of(AARCH64, AARCH64_VIRT))


def test_aarch64_virt_machine_gives_no_bios():
    assert 'COMPUTE_FIRMWARE_BIOS' not in traits_of(AARCH64, AARCH64_VIRT)


def test_aarch64_gives_uefi():
    assert 'COMPUTE_FIRMWARE_UEFI' in traits_of(AARCH64, AARCH64_VIRT)


def test_aarch64_gives_no_x86_trait():
    assert not [t for t in traits_of(AARCH64) if t.startswith('HW_CPU_X86_')]


# -- sources only a live host has ----------------------------------------------------


def test_ksm_running_gives_custom_ksm():
    assert 'CUSTOM_KSM' in traits_of(MILAN, ksm={'run': 1, 'enabled': True})


def test_ksm_stopped_gives_no_custom_ksm():
    assert 'CUSTOM_KSM' not in traits_of(MILAN, ksm={'run': 0, 'enabled': False})


def test_nested_kvm_gives_custom_nested_virt():
    assert 'CUSTOM_NESTED_VIRT' in traits_of(MILAN, kvm_nested={'module': 'kvm_amd', 'enabled': True})


def test_unknown_nested_kvm_gives_no_trait():
    assert 'CUSTOM_NESTED_VIRT' not in traits_of(MILAN)


# -- every name is a real os-traits name or CUSTOM_ ----------------------------------


def _every_fixture_host():
    names = sorted(os.listdir(FIXTURES))
    caps = [n for n in names if '.caps.' in n]
    domcaps = [n for n in names if '.domcaps' in n]
    for cap in caps:
        yield cap, ()
        for dom in domcaps:
            yield cap, (dom,)
    yield MILAN, (MILAN_PC, MILAN_Q35)


@pytest.mark.parametrize('caps, domcaps', list(_every_fixture_host()))
def test_every_trait_of_every_fixture_is_os_traits_or_custom(caps, domcaps):
    extra = dict(ksm={'run': 1, 'enabled': True}, kvm_nested={'module': 'kvm_intel', 'enabled': True})
    for trait in traits_of(caps, *domcaps, **extra):
        assert trait in OS_TRAITS or CUSTOM.match(trait), trait


@pytest.mark.parametrize('table', ['X86_FEATURE_TRAITS', 'AARCH64_FEATURE_TRAITS'])
def test_every_cpu_table_value_is_an_os_traits_name(table):
    for feature, names in getattr(traits_mod, table).items():
        for name in names:
            assert name in OS_TRAITS, '%s -> %s' % (feature, name)


def test_every_arch_name_is_an_os_traits_name():
    names = ['HW_ARCH_' + n for n in traits_mod.HW_ARCH_NAMES.values()]
    names += ['COMPUTE_ARCH_' + n for n in traits_mod.COMPUTE_ARCH_NAMES.values()]
    assert sorted(set(names) - OS_TRAITS) == []


def test_every_device_name_is_an_os_traits_name():
    names = ['COMPUTE_STORAGE_BUS_' + b.upper() for b in traits_mod.STORAGE_BUS_NAMES]
    names += ['COMPUTE_GRAPHICS_MODEL_' + m.upper() for m in traits_mod.VIDEO_MODEL_NAMES]
    names += ['COMPUTE_VIOMMU_MODEL_' + m.upper() for m in traits_mod.VIOMMU_MODEL_NAMES + ('auto',)]
    names += list(traits_mod.TPM_MODEL_TRAITS.values()) + list(traits_mod.TPM_VERSION_TRAITS.values())
    assert sorted(set(names) - OS_TRAITS) == []


def test_every_x86_cpu_trait_of_os_traits_is_mapped_or_knowingly_left_out():
    mapped = set(n for names in traits_mod.X86_FEATURE_TRAITS.values() for n in names)
    # from security_info, or never shipped in any CPU
    elsewhere = {'HW_CPU_X86_AMD_SEV', 'HW_CPU_X86_AMD_SEV_ES', 'HW_CPU_X86_AMD_SEV_SNP',
                 'HW_CPU_X86_INTEL_TDX', 'HW_CPU_X86_SGX', 'HW_CPU_X86_ASF'}
    x86 = set(t for t in OS_TRAITS if t.startswith('HW_CPU_X86_'))
    assert sorted(x86 - mapped - elsewhere) == []


def test_every_aarch64_trait_of_os_traits_is_mapped():
    mapped = set(n for names in traits_mod.AARCH64_FEATURE_TRAITS.values() for n in names)
    assert sorted(set(t for t in OS_TRAITS if t.startswith('HW_CPU_AARCH64_')) - mapped) == []


# -- SR-IOV --------------------------------------------------------------------------


def test_sriov_capable_gives_hw_nic_sriov():
    assert 'HW_NIC_SRIOV' in derive_traits({}, sriov={'summary': {'capable': True}})


def test_sriov_not_capable_gives_nothing():
    assert derive_traits({}, sriov={'summary': {'capable': False}}) == []


def test_trusted_vf_gives_sriov_trusted():
    sriov = {'virtual_functions': [{'trust': False}, {'trust': True}]}
    assert 'HW_NIC_SRIOV_TRUSTED' in derive_traits({}, sriov=sriov)


def test_passthrough_device_gives_custom_pci_trait_with_upper_case_ids():
    sriov = {'passthrough_devices': [{'vendor_id': '0x10de', 'device_id': '0x2236'}]}
    assert derive_traits({}, sriov=sriov) == ['CUSTOM_PCI_10DE_2236']


def test_passthrough_device_without_ids_gives_nothing():
    sriov = {'passthrough_devices': [{'vendor_id': '0x10de'}, {'device_id': 'zzzz'}]}
    assert derive_traits({}, sriov=sriov) == []


def test_malformed_sriov_facts_are_named_by_path():
    with pytest.raises(MalformedFacts) as err:
        derive_traits({}, sriov={'summary': None, 'virtual_functions': 'x', 'passthrough_devices': [{}, 'junk']})
    assert str(err.value) == ('sriov.passthrough_devices[1] is a string, expected a mapping; '
                              'sriov.virtual_functions is a string, expected a list')


# -- custom traits -------------------------------------------------------------------


def test_custom_trait_list_with_truthy_query_is_set():
    facts = facts_from(MILAN)
    custom = [{'name': 'CUSTOM_AMD', 'query': "libvirt_host_caps.cpu_info.vendor == 'AMD'"}]
    assert 'CUSTOM_AMD' in derive_traits(facts, custom_traits=custom)


def test_custom_trait_mapping_form_is_accepted():
    facts = facts_from(MILAN)
    custom = {'CUSTOM_TWO_CPUS': 'libvirt_host_caps.host_info.online_cpus == `2`'}
    assert 'CUSTOM_TWO_CPUS' in derive_traits(facts, custom_traits=custom)


def test_custom_trait_with_empty_list_result_is_not_set():
    facts = facts_from(MILAN)
    custom = [{'name': 'CUSTOM_BIG_POOL', 'query': 'libvirt_host_caps.storage_info.pools[?capacity_gb > `1`]'}]
    assert 'CUSTOM_BIG_POOL' not in derive_traits(facts, custom_traits=custom)


def test_custom_trait_with_zero_result_is_not_set():
    facts = facts_from(MILAN)
    custom = [{'name': 'CUSTOM_HAS_POOLS', 'query': 'length(libvirt_host_caps.storage_info.pools || `[]`)'}]
    assert 'CUSTOM_HAS_POOLS' not in derive_traits(facts, custom_traits=custom)


def test_custom_trait_queries_sriov_facts():
    sriov = {'physical_functions': [{'name': 'ens1f0', 'speed_mbps': 25000}]}
    custom = [{'name': 'CUSTOM_FAST_NIC', 'query': 'sriov.physical_functions[?speed_mbps >= `25000`]'}]
    assert derive_traits({}, sriov=sriov, custom_traits=custom) == ['CUSTOM_FAST_NIC']


def test_custom_trait_name_must_be_custom_upper_case():
    with pytest.raises(ValueError) as err:
        derive_traits({}, custom_traits=[{'name': 'fast-nic', 'query': 'sriov'}])
    message = str(err.value)
    assert "'fast-nic'" in message and "'sriov'" in message and 'CUSTOM_FAST_NIC' in message


def test_custom_trait_query_must_be_a_string():
    with pytest.raises(ValueError) as err:
        derive_traits({}, custom_traits={'CUSTOM_X': 42})
    assert 'CUSTOM_X' in str(err.value) and '42' in str(err.value)


def test_custom_trait_syntax_error_names_trait_and_query():
    with pytest.raises(ValueError) as err:
        derive_traits({}, custom_traits=[{'name': 'CUSTOM_BROKEN', 'query': 'sriov.[?'}])
    message = str(err.value)
    assert 'CUSTOM_BROKEN' in message and "'sriov.[?'" in message and 'not valid JMESPath' in message


def test_custom_trait_entry_without_query_is_refused():
    with pytest.raises(ValueError) as err:
        derive_traits({}, custom_traits=[{'name': 'CUSTOM_X'}])
    assert 'custom_traits[0]' in str(err.value)


def test_custom_traits_without_jmespath_say_how_to_install_it(monkeypatch):
    monkeypatch.setattr(traits_mod, 'HAS_JMESPATH', False)
    with pytest.raises(ImportError) as err:
        derive_traits({}, custom_traits={'CUSTOM_X': 'sriov'})
    assert 'CUSTOM_X' in str(err.value) and 'pip install jmespath' in str(err.value)


def test_without_jmespath_plain_traits_still_work(monkeypatch):
    monkeypatch.setattr(traits_mod, 'HAS_JMESPATH', False)
    assert 'HW_CPU_X86_AVX2' in rome_host()['traits']
