# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Facts built from saved XML, as the caps_from_xml filter and the module build them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.host_facts import (
    FactSources, SourceUnavailable, any_true, build_facts,
)

MILAN = 'debian12-epyc-milan-kvm.caps.xml'
Q35 = 'debian12-epyc-milan-kvm.domcaps-q35.xml'
PC = 'debian12-epyc-milan-kvm.domcaps-pc.xml'


@pytest.fixture
def milan(offline_facts):
    return offline_facts(MILAN, PC, Q35)


def test_every_category_and_metadata_is_present(milan):
    for key in ('host_info', 'cpu_info', 'memory_info', 'security_info', 'storage_info', 'network_info',
                'virt_info', 'domain_capabilities', 'traits', 'resources', 'errors'):
        assert key in milan
    assert milan['schema_version'] == 1


def test_uefi_and_secure_boot_on_q35(milan):
    security = milan['security_info']
    assert security['uefi'] is True
    assert security['secure_boot'] is True
    assert security['secure_boot_machines'] == ['pc-q35-7.2']


def test_secure_boot_is_false_when_only_i440fx_was_probed(offline_facts):
    assert offline_facts(MILAN, PC)['security_info']['secure_boot'] is False


def test_tpm_2_0_with_swtpm(milan):
    tpm = milan['security_info']['tpm']
    assert tpm['version_2_0'] is True
    assert tpm['emulator'] is True
    assert tpm['models'] == ['tpm-crb', 'tpm-tis']


def test_sev_element_saying_no_is_false(milan):
    assert milan['security_info']['sev']['supported'] is False
    assert milan['security_info']['sev']['snp'] is False


def test_tdx_without_launch_security_element_is_unknown(milan):
    assert milan['security_info']['tdx'] is None


def test_without_domain_capabilities_firmware_is_unknown(offline_facts):
    facts = offline_facts(MILAN)
    assert facts['domain_capabilities'] is None
    assert facts['security_info']['uefi'] is None
    assert facts['security_info']['secure_boot'] is None
    assert facts['security_info']['tpm']['supported'] is None
    assert facts['security_info']['sev']['supported'] is None
    assert {'category': 'domain_capabilities',
            'message': 'no domain capabilities XML was given (virsh domcapabilities output)',
            'severity': 'error'} in facts['errors']


def test_live_only_values_are_null_with_an_error(milan):
    assert milan['host_info']['hostname'] is None
    assert milan['memory_info']['free_mb'] is None
    assert {'category': 'host_info', 'message': 'hostname: needs a live libvirt connection',
            'severity': 'error'} in milan['errors']


def test_offline_topology_comes_from_the_cells(milan):
    host = milan['host_info']
    assert host['online_cpus'] == 2
    assert host['numa_nodes'] == 1
    assert host['memory_mb'] == 5073108 // 1024


def test_hugepage_sizes_exclude_the_base_page(milan):
    assert [h['size_kb'] for h in milan['memory_info']['hugepages']] == [2048, 1048576]


def test_cpu_models_come_from_the_default_machine_probe(milan):
    cpu = milan['cpu_info']
    assert cpu['host_model']['name'] == 'EPYC-Milan'
    assert cpu['features_source'] == 'capabilities'


def test_disk_buses_are_the_union_of_probes(milan):
    assert 'virtio' in milan['storage_info']['disk_buses']
    assert milan['network_info']['virtio'] is True


def test_test_driver_caps_build_without_domain_capabilities(offline_facts):
    facts = offline_facts('testdriver.caps.xml')
    assert facts['host_info']['online_cpus'] == 16
    assert facts['virt_info']['virt_types'] == ['test']
    assert facts['virt_info']['kvm_available'] is False


def test_failing_source_nulls_only_its_category(fixture_xml):
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.capabilities import parse_capabilities
    caps = parse_capabilities(fixture_xml(MILAN))

    def broken():
        raise RuntimeError('pool driver crashed')
    facts = build_facts(FactSources({'capabilities': lambda: caps, 'pools': broken}))
    assert facts['storage_info']['pools'] is None
    assert {'category': 'storage_info', 'message': 'pools: pool driver crashed', 'severity': 'error'} in facts['errors']
    assert facts['cpu_info']['arch'] == 'x86_64'


def test_unreadable_capabilities_nulls_the_categories_that_need_them():
    def refused():
        raise SourceUnavailable('permission denied')
    facts = build_facts(FactSources({'capabilities': refused}), ['host', 'cpu'])
    assert facts['host_info'] is None and facts['cpu_info'] is None
    assert {'category': 'cpu_info', 'message': 'permission denied', 'severity': 'error'} in facts['errors']


def test_subsets_limit_the_categories(fixture_xml):
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.offline import xml_sources
    facts = build_facts(xml_sources(fixture_xml(MILAN)), ['cpu'])
    assert 'cpu_info' in facts and 'memory_info' not in facts


@pytest.mark.parametrize('values, expected', [
    ([True, None], True), ([False, False], False), ([False, None], None), ([], None), ([None], None),
])
def test_any_true_keeps_unknown_apart_from_false(values, expected):
    assert any_true(values) is expected


def test_sev_host_reports_sev_and_sev_es_with_guest_counts(offline_facts):
    sev = offline_facts('amd-epyc-sev.caps.xml', 'amd-epyc-sev.domcaps-q35.xml')['security_info']['sev']
    assert sev == {'supported': True, 'es': True, 'snp': False, 'max_guests': 15, 'max_es_guests': 494,
                   'cbitpos': 47, 'reduced_phys_bits': 1}


def test_sev_snp_comes_from_launch_security(offline_facts):
    facts = offline_facts('amd-epyc-sev.caps.xml', 'amd-epyc-genoa-snp.domcaps-q35.xml')
    assert facts['security_info']['sev']['snp'] is True
    assert facts['security_info']['sev']['cbitpos'] == 51


def test_absent_sev_element_is_unknown_not_false(offline_facts):
    sev = offline_facts(MILAN, 'x86-absent-sev.domcaps-q35.xml')['security_info']['sev']
    assert sev['supported'] is None
    assert sev['es'] is None and sev['snp'] is None


def test_tdx_host(offline_facts):
    security = offline_facts('intel-tdx.caps.xml', 'intel-tdx.domcaps-q35.xml')['security_info']
    assert security['tdx'] is True
    assert security['sev']['supported'] is False


def test_sev_host_is_not_a_tdx_host(offline_facts):
    assert offline_facts('amd-epyc-sev.caps.xml', 'amd-epyc-sev.domcaps-q35.xml')['security_info']['tdx'] is False


def test_sgx_epc_sections(offline_facts):
    sgx = offline_facts(MILAN, 'intel-sgx.domcaps-q35.xml')['security_info']['sgx']
    assert sgx['supported'] is True and sgx['flc'] is True
    assert sgx['epc_size_kb'] == sum(s['size_kb'] for s in sgx['sections'])
    assert [s['node'] for s in sgx['sections']] == [0, 1]


def test_aarch64_gic_and_firmware(offline_facts):
    facts = offline_facts('aarch64-gic.caps.xml', 'aarch64-gic.domcaps-virt.xml')
    assert facts['virt_info']['gic'] == {'supported': True, 'versions': ['3']}
    assert facts['security_info']['uefi'] is True
    assert facts['security_info']['secure_boot'] is False
    assert facts['cpu_info']['vmx'] is None and facts['cpu_info']['svm'] is None


def test_host_without_ovmf_has_no_uefi(offline_facts):
    security = offline_facts(MILAN, 'x86-no-uefi.domcaps-q35.xml')['security_info']
    assert security['uefi'] is False
    assert security['secure_boot'] is False
    assert security['firmware_paths'] == []


def test_host_without_swtpm_has_no_tpm_2_0(offline_facts):
    tpm = offline_facts(MILAN, 'x86-no-tpm.domcaps-q35.xml')['security_info']['tpm']
    assert tpm['supported'] is True
    assert tpm['emulator'] is False
    assert tpm['backend_models'] == ['passthrough']
    assert tpm['version_2_0'] is None


def test_smt_topology_and_numa(offline_facts):
    host = offline_facts('intel-xeon-ht.caps.xml')['host_info']
    assert (host['sockets'], host['cores'], host['threads']) == (2, 4, 2)
    assert host['numa_nodes'] == 2
    assert host['online_cpus'] == 16


def test_allocated_hugepages_per_size(offline_facts):
    hugepages = offline_facts('amd-epyc-sev.caps.xml')['memory_info']['hugepages']
    assert all(h['total'] > 0 for h in hugepages)
    assert all(h['free'] is None for h in hugepages)


def test_svm_implied_by_the_model_is_unknown_without_baseline(offline_facts):
    assert offline_facts('amd-epyc-sev.caps.xml')['cpu_info']['svm'] is None


def test_vmx_listed_by_libvirt_is_true(offline_facts):
    assert offline_facts('intel-xeon-ht.caps.xml')['cpu_info']['vmx'] is True


# -- what a guest gets, per CPU mode (this machine: a nested EPYC-Milan) --------------

GUEST_CPU = 'debian12-kvm-guest-cpu'
GUEST_CPU_MODELS = ('EPYC-Milan', 'pentium3', 'pentium2', 'pentium', '486')


@pytest.fixture
def guest_cpu_live(fixture_xml):
    """This machine's facts with the sources a read-write connection adds: the host
    CPU's baseline expansion and the hypervisor's expansion of each CPU model."""
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.cpu_definition import parse_cpu_definition
    from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import facts_from
    expansions = dict((model, parse_cpu_definition(fixture_xml('%s.cpu-%s.xml' % (GUEST_CPU, model))))
                      for model in GUEST_CPU_MODELS)
    baseline = parse_cpu_definition(fixture_xml(GUEST_CPU + '.cpu-baseline-host.xml'))['required_features']
    return facts_from(GUEST_CPU + '.caps.xml', GUEST_CPU + '.domcaps-pc.xml', GUEST_CPU + '.domcaps-q35.xml',
                      baseline_features=baseline, cpu_model_expansions=expansions)['cpu_info']


def test_host_model_guest_gets_the_model_plus_require_minus_disable(guest_cpu_live, fixture_xml):
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.cpu_definition import parse_cpu_definition
    model = parse_cpu_definition(fixture_xml(GUEST_CPU + '.cpu-EPYC-Milan.xml'))
    host_model = guest_cpu_live['host_model']
    expected = ((set(model['required_features']) | set(model['disabled_features']) | set(host_model['required_features']))
                - set(host_model['disabled_features']))
    assert guest_cpu_live['guest_features']['host_model'] == sorted(expected)
    assert len(expected) == 57


def test_host_flags_kvm_cannot_give_are_host_only(guest_cpu_live):
    host_only = guest_cpu_live['host_only_features']
    for feature in ('avx2', 'aes', 'sha-ni', 'sse4.1', 'sse4.2', 'pdpe1gb'):
        assert feature in guest_cpu_live['features']
        assert feature in host_only
        assert feature not in guest_cpu_live['guest_features']['host_model']


def test_host_only_lists_no_feature_the_host_lacks(guest_cpu_live):
    # svm is disabled in host-model too, but this nested host has no svm to lose.
    assert 'svm' not in guest_cpu_live['host_only_features']
    assert set(guest_cpu_live['host_only_features']) <= set(guest_cpu_live['features'])


def test_custom_guest_gets_each_usable_models_features(guest_cpu_live):
    custom = guest_cpu_live['guest_features']['custom']
    assert sorted(custom) == ['486', 'pentium', 'pentium2', 'pentium3']
    assert custom['486'] == ['fpu', 'pse', 'vme']


def test_host_passthrough_guest_features_are_unknown(guest_cpu_live):
    assert guest_cpu_live['guest_features']['host_passthrough'] is None


def test_offline_guest_features_are_unknown_and_host_only_still_known(offline_facts):
    facts = offline_facts(GUEST_CPU + '.caps.xml', GUEST_CPU + '.domcaps-pc.xml')
    cpu = facts['cpu_info']
    assert cpu['guest_features'] == {'host_model': None, 'host_passthrough': None, 'custom': None}
    assert 'avx2' in cpu['host_only_features']
    assert {'category': 'cpu_info', 'message': 'cpu_model_expansions: needs a live libvirt connection', 'severity': 'error'} in facts['errors']


def test_without_domain_capabilities_nothing_is_known_of_guests(offline_facts):
    cpu = offline_facts(GUEST_CPU + '.caps.xml')['cpu_info']
    assert cpu['guest_features']['host_model'] is None and cpu['host_only_features'] is None
