# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Facts built from saved XML, as the caps_from_xml filter and the module build them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.host_facts import (
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
            'message': 'no domain capabilities XML was given (virsh domcapabilities output)'} in facts['errors']


def test_live_only_values_are_null_with_an_error(milan):
    assert milan['host_info']['hostname'] is None
    assert milan['memory_info']['free_mb'] is None
    assert {'category': 'host_info', 'message': 'hostname: needs a live libvirt connection'} in milan['errors']


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
    assert cpu['svm'] is False and cpu['vmx'] is False


def test_disk_buses_are_the_union_of_probes(milan):
    assert 'virtio' in milan['storage_info']['disk_buses']
    assert milan['network_info']['virtio'] is True


def test_test_driver_caps_build_without_domain_capabilities(offline_facts):
    facts = offline_facts('testdriver.caps.xml')
    assert facts['host_info']['online_cpus'] == 16
    assert facts['virt_info']['virt_types'] == ['test']
    assert facts['virt_info']['kvm_available'] is False


def test_failing_source_nulls_only_its_category(fixture_xml):
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.capabilities import parse_capabilities
    caps = parse_capabilities(fixture_xml(MILAN))

    def broken():
        raise RuntimeError('pool driver crashed')
    facts = build_facts(FactSources({'capabilities': lambda: caps, 'pools': broken}))
    assert facts['storage_info']['pools'] is None
    assert {'category': 'storage_info', 'message': 'pools: pool driver crashed'} in facts['errors']
    assert facts['cpu_info']['arch'] == 'x86_64'


def test_unreadable_capabilities_nulls_the_categories_that_need_them():
    def refused():
        raise SourceUnavailable('permission denied')
    facts = build_facts(FactSources({'capabilities': refused}), ['host', 'cpu'])
    assert facts['host_info'] is None and facts['cpu_info'] is None
    assert {'category': 'cpu_info', 'message': 'permission denied'} in facts['errors']


def test_subsets_limit_the_categories(fixture_xml):
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.offline import xml_sources
    facts = build_facts(xml_sources(fixture_xml(MILAN)), ['cpu'])
    assert 'cpu_info' in facts and 'memory_info' not in facts


@pytest.mark.parametrize('values, expected', [
    ([True, None], True), ([False, False], False), ([False, None], None), ([], None), ([None], None),
])
def test_any_true_keeps_unknown_apart_from_false(values, expected):
    assert any_true(values) is expected
