# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vm_validate filter, table-driven: every case names the rule it checks. Host facts
come from the libvirt XML fixtures (EPYC Milan, SEV, TDX, no UEFI)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible.errors import AnsibleFilterError

from ansible_collections.virtumancer.hostcaps.plugins.filter.vm_validate import FilterModule, vm_validate
from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import facts_from

CATALOG = {
    'resource_classes': [
        {'name': 'm1.large', 'vcpus': 4, 'memory_mb': 8192, 'disk_gb': 40},
        {'name': 'gpu.small', 'vcpus': 2, 'memory_mb': 4096, 'disk_gb': 20, 'resources': {'SRIOV_NET_VF': 1},
         'required_traits': ['COMPUTE_FIRMWARE_UEFI'], 'forbidden_traits': ['CUSTOM_BIG_MEMORY']},
    ],
    'hardware_traits': [{'name': 'CUSTOM_BIG_MEMORY', 'query': 'libvirt_host_caps.memory_info.total_mb >= `1048576`',
                         'description': 'a terabyte of memory'}],
    'qos_policies': [{'name': 'gold'}],
    'placement_policies': [{'name': 'spread', 'strategy': 'spread'}],
}


def _facts(*fixtures):
    return {'libvirt_host_caps': facts_from(*fixtures)}


MILAN = ('debian12-epyc-milan-kvm.caps.xml', 'debian12-epyc-milan-kvm.domcaps-pc.xml', 'debian12-epyc-milan-kvm.domcaps-q35.xml')
SEV = ('amd-epyc-sev.caps.xml', 'amd-epyc-sev.domcaps-q35.xml')
TDX = ('intel-tdx.caps.xml', 'intel-tdx.domcaps-q35.xml')
NO_UEFI = ('intel-xeon-ht.caps.xml', 'x86-no-uefi.domcaps-q35.xml')


@pytest.fixture(scope='module')
def fleet():
    return {'milan': _facts(*MILAN), 'sev': _facts(*SEV), 'tdx': _facts(*TDX), 'noefi': _facts(*NO_UEFI)}


def vm(**fields):
    base = {'name': 'web01', 'vcpus': 2, 'memory_mb': 2048, 'disk_gb': 20}
    base.update(fields)
    return base


def codes(problems):
    return sorted((p['field'], p['code'], p['severity']) for p in problems)


# -- 1. alone: (rule, vm, expected (field, code, severity) list) -----------------------

VALID_ALONE = [
    ('minimal VM', vm()),
    ('resource class gives the sizes', {'name': 'db01', 'resource_class': 'm1.large'}),
    ('every field set', vm(
        resource_class='m1.large', arch='x86_64', machine='q35', virt_type='kvm', firmware='efi', secure_boot=True, tpm='2.0',
        memory_encryption='sev', cpu={'mode': 'host-passthrough', 'model': None, 'features': ['avx2'], 'dedicated': True},
        hugepages='2M', numa_nodes=2, sriov_vfs=1, pci_devices=[{'vendor': '10de', 'device': '2236', 'count': 1}],
        disks=[{'size_gb': 20, 'bus': 'virtio', 'pool': 'default'}], networks=[{'network': 'default', 'model': 'virtio'}],
        required_traits=['HW_CPU_X86_AVX2'], forbidden_traits=['CUSTOM_SLOW'], placement_policy='spread', qos_policy='gold')),
    ('tpm written unquoted', vm(tpm=2.0)),
    ('pci ids with 0x and capitals', vm(pci_devices=[{'vendor': '0x10DE', 'device': '2236'}])),
    ('custom cpu model', vm(cpu={'mode': 'custom', 'model': 'EPYC-Milan'})),
    ('sev with hugepages', vm(firmware='efi', memory_encryption='sev', hugepages='1G', memory_mb=4096)),
]

ALONE = [
    ('missing name', {'vcpus': 1, 'memory_mb': 512, 'disk_gb': 0}, [('name', 'missing_key', 'error')]),
    ('name with a space', vm(name='web 01'), [('name', 'invalid_name', 'error')]),
    ('name longer than 64', vm(name='x' * 65), [('name', 'invalid_name', 'error')]),
    ('unknown key with did-you-mean', vm(memory_gb=8), [('memory_gb', 'unknown_key', 'error')]),
    ('vcpus zero', vm(vcpus=0), [('vcpus', 'out_of_range', 'error')]),
    ('vcpus quoted', vm(vcpus='4'), [('vcpus', 'wrong_type', 'error')]),
    ('vcpus a bool', vm(vcpus=True), [('vcpus', 'wrong_type', 'error')]),
    ('memory below 64', vm(memory_mb=32), [('memory_mb', 'out_of_range', 'error')]),
    ('disk negative', vm(disk_gb=-1), [('disk_gb', 'out_of_range', 'error')]),
    ('sizes missing without a class', {'name': 'x'},
     [('disk_gb', 'missing_key', 'error'), ('memory_mb', 'missing_key', 'error'), ('vcpus', 'missing_key', 'error')]),
    ('virt_type unknown', vm(virt_type='xen'), [('virt_type', 'invalid_value', 'error')]),
    ('firmware misspelt', vm(firmware='uefi'), [('firmware', 'invalid_value', 'error')]),
    ('secure_boot a string', vm(secure_boot='yes'), [('secure_boot', 'wrong_type', 'error')]),
    ('tpm version unknown', vm(tpm='3.0'), [('tpm', 'invalid_value', 'error')]),
    ('memory_encryption unknown', vm(memory_encryption='sme'), [('memory_encryption', 'invalid_value', 'error')]),
    ('cpu not a mapping', vm(cpu='host'), [('cpu', 'wrong_type', 'error')]),
    ('cpu unknown key', vm(cpu={'mode': 'host-model', 'pinned': True}), [('cpu.pinned', 'unknown_key', 'error')]),
    ('cpu mode unknown', vm(cpu={'mode': 'passthrough'}), [('cpu.mode', 'invalid_value', 'error')]),
    ('cpu features a string', vm(cpu={'features': 'avx2'}), [('cpu.features', 'wrong_type', 'error')]),
    ('hugepages size unknown', vm(hugepages='4K'), [('hugepages', 'invalid_value', 'error')]),
    ('numa_nodes zero', vm(numa_nodes=0), [('numa_nodes', 'out_of_range', 'error')]),
    ('sriov_vfs negative', vm(sriov_vfs=-2), [('sriov_vfs', 'out_of_range', 'error')]),
    ('pci vendor not hex', vm(pci_devices=[{'vendor': 'nvda', 'device': '2236'}]), [('pci_devices[0].vendor', 'invalid_value', 'error')]),
    ('pci device a number', vm(pci_devices=[{'vendor': '10de', 'device': 2236}]), [('pci_devices[0].device', 'wrong_type', 'error')]),
    ('pci count zero', vm(pci_devices=[{'vendor': '10de', 'device': '2236', 'count': 0}]), [('pci_devices[0].count', 'out_of_range', 'error')]),
    ('disks a string', vm(disks='vda'), [('disks', 'wrong_type', 'error')]),
    ('disk without size', vm(disks=[{'bus': 'virtio'}]), [('disks[0].size_gb', 'missing_key', 'error')]),
    ('disk bus unknown', vm(disks=[{'size_gb': 10, 'bus': 'virtio-blk'}]), [('disks[0].bus', 'invalid_value', 'error')]),
    ('network without a name', vm(networks=[{'model': 'virtio'}]), [('networks[0].network', 'missing_key', 'error')]),
    ('network model unknown', vm(networks=[{'network': 'default', 'model': 'virtio-net'}]), [('networks[0].model', 'invalid_value', 'error')]),
    ('trait neither os-traits nor custom', vm(required_traits=['HW_CPU_X86_AVX3']), [('required_traits[0]', 'invalid_trait_name', 'error')]),
    ('trait in lower case', vm(forbidden_traits=['custom_slow']), [('forbidden_traits[0]', 'invalid_trait_name', 'error')]),
    ('traits a string', vm(required_traits='HW_CPU_X86_AVX2'), [('required_traits', 'wrong_type', 'error')]),
    ('unknown resource class', vm(resource_class='m1.huge'), [('resource_class', 'unknown_resource_class', 'error')]),
    ('unknown placement policy', vm(placement_policy='pack'), [('placement_policy', 'unknown_placement_policy', 'error')]),
    ('unknown qos policy', vm(qos_policy='silver'), [('qos_policy', 'unknown_qos_policy', 'error')]),
    ('secure boot without efi', vm(secure_boot=True), [('secure_boot', 'secure_boot_needs_efi', 'error')]),
    ('secure boot on i440fx', vm(firmware='efi', secure_boot=True, machine='pc-i440fx-7.2'), [('machine', 'secure_boot_needs_q35', 'error')]),
    ('tpm on microvm', vm(tpm='2.0', machine='microvm'), [('tpm', 'tpm_unsupported_machine', 'error')]),
    ('tpm on s390x', vm(tpm='2.0', arch='s390x'), [('tpm', 'tpm_unsupported_machine', 'error')]),
    ('sev with bios', vm(memory_encryption='sev'), [('memory_encryption', 'memory_encryption_needs_efi', 'error')]),
    ('tdx on aarch64', vm(memory_encryption='tdx', firmware='efi', arch='aarch64'), [('memory_encryption', 'memory_encryption_arch', 'error')]),
    ('snp with hugepages', vm(memory_encryption='sev-snp', firmware='efi', hugepages='2M'),
     [('hugepages', 'memory_encryption_hugepages', 'error')]),
    ('custom cpu without model', vm(cpu={'mode': 'custom'}), [('cpu.model', 'cpu_custom_needs_model', 'error')]),
    ('cpu model with host-model', vm(cpu={'model': 'EPYC'}), [('cpu.model', 'cpu_model_needs_custom', 'error')]),
    ('more numa nodes than vcpus', vm(numa_nodes=4), [('numa_nodes', 'numa_nodes_exceed_vcpus', 'error')]),
    ('memory not a multiple of 1G pages', vm(hugepages='1G', memory_mb=3000), [('memory_mb', 'hugepages_misaligned', 'error')]),
    ('trait required and forbidden', vm(required_traits=['HW_CPU_X86_AVX2'], forbidden_traits=['HW_CPU_X86_AVX2']),
     [('forbidden_traits', 'trait_required_and_forbidden', 'error')]),
    ('class forbids what the vm requires', vm(resource_class='gpu.small', required_traits=['CUSTOM_BIG_MEMORY']),
     [('forbidden_traits', 'trait_required_and_forbidden', 'error')]),
    ('disks larger than disk_gb', vm(disk_gb=10, disks=[{'size_gb': 20}]), [('disks', 'disks_exceed_disk_gb', 'warning')]),
    ('not a mapping', 'web01', [('vms[0]', 'wrong_type', 'error')]),
]


@pytest.mark.parametrize('rule, definition', VALID_ALONE, ids=[case[0] for case in VALID_ALONE])
def test_a_valid_vm_alone_has_no_problem(rule, definition):
    assert vm_validate([definition], catalog=CATALOG) == [], rule


@pytest.mark.parametrize('rule, definition, expected', ALONE, ids=[case[0] for case in ALONE])
def test_alone(rule, definition, expected):
    problems = vm_validate([definition], catalog=CATALOG)

    assert codes(problems) == sorted(expected), rule
    for found in problems:
        assert set(found) == {'vm', 'field', 'code', 'message', 'severity', 'hosts'}
        assert found['hosts'] == {}
        assert found['message']


def test_unknown_key_suggests_the_closest_field():
    message = vm_validate([vm(memroy_mb=4096)])[0]['message']

    assert "did you mean 'memory_mb'?" in message


def test_duplicate_names_are_reported_once_with_both_positions():
    problems = vm_validate([vm(), vm(), vm(name='db01')])

    assert codes(problems) == [('name', 'duplicate_name', 'error')]
    assert 'vms[0], vms[1]' in problems[0]['message']


def test_a_problem_names_the_vm_or_its_position():
    problems = vm_validate([vm(vcpus=0), {'vcpus': 0}])

    assert sorted(p['vm'] for p in problems) == ['vms[1]', 'vms[1]', 'vms[1]', 'vms[1]', 'web01']


def test_an_invalid_catalog_entry_is_reported_with_vm_null():
    catalog = dict(CATALOG, resource_classes=[{'name': 'm1.large', 'vcpus': 'four', 'memory_mb': 8192, 'disk_gb': 40}])

    problems = vm_validate([vm()], catalog=catalog)

    assert [(p['vm'], p['field'].split('.')[0]) for p in problems] == [(None, 'catalog')]


# -- 2. against hosts -------------------------------------------------------------------

AGAINST_HOSTS = [
    # (rule, vm, host families, expected verdict: None (valid) or (code, severity, {host: code}))
    ('plain VM fits every family', vm(), ('milan', 'sev', 'tdx', 'noefi'), None),
    ('uefi secure boot tpm on milan', vm(firmware='efi', secure_boot=True, tpm='2.0', machine='q35'), ('milan',), None),
    ('sev guest on the SEV host', vm(firmware='efi', memory_encryption='sev', machine='q35'), ('sev', 'milan'), None),
    ('tdx guest on the TDX host', vm(firmware='efi', memory_encryption='tdx', machine='q35'), ('tdx', 'milan'), None),
    ('efi where no host has UEFI', vm(firmware='efi', machine='q35'), ('noefi',),
     ('no_host_fits', 'error', {'noefi': 'efi_unavailable'})),
    ('arch no host offers', vm(arch='ppc64le'), ('milan', 'sev'),
     ('no_host_fits', 'error', {'milan': 'arch_unsupported', 'sev': 'arch_unsupported'})),
    ('machine no host offers', vm(machine='virt'), ('milan',), ('no_host_fits', 'error', {'milan': 'machine_unsupported'})),
    ('more vcpus than the machine allows', vm(vcpus=100000), ('milan',), ('no_host_fits', 'error', {'milan': 'vcpus_exceed_max'})),
    ('more memory than any host', vm(memory_mb=64 * 1024 * 1024), ('milan', 'tdx'),
     ('no_host_fits', 'error', {'milan': 'memory_exceeds_host', 'tdx': 'memory_exceeds_host'})),
    ('sev where the host has none', vm(firmware='efi', memory_encryption='sev', machine='q35'), ('tdx',),
     ('no_host_fits', 'error', {'tdx': 'memory_encryption_unsupported'})),
    # Offline capabilities list only the features beyond the CPU model: a missing one is unknown.
    ('cpu feature the facts do not list', vm(cpu={'mode': 'host-passthrough', 'features': ['avx512_fp16_nope']}), ('milan',),
     ('no_host_confirmed', 'warning', {'milan': 'cpu_feature_missing'})),
    ('required custom trait no host has', vm(required_traits=['CUSTOM_BIG_MEMORY']), ('milan',),
     ('no_host_fits', 'error', {'milan': 'trait_missing'})),
    ('forbidden trait every host has', vm(forbidden_traits=['COMPUTE_ARCH_X86_64']), ('milan', 'sev'),
     ('no_host_fits', 'error', {'milan': 'trait_forbidden', 'sev': 'trait_forbidden'})),
    ('forbidden trait one host lacks', vm(forbidden_traits=['HW_CPU_X86_AVX2']), ('milan', 'sev'), None),
    ('each host fails its first requirement', vm(firmware='efi', memory_encryption='sev', machine='q35', memory_mb=64 * 1024 * 1024),
     ('sev', 'noefi'), ('no_host_fits', 'error', {'sev': 'memory_exceeds_host', 'noefi': 'memory_exceeds_host'})),
]


def _expected_hosts(found):
    return dict((host, why['code']) for host, why in found['hosts'].items())


@pytest.mark.parametrize('rule, definition, families, expected', AGAINST_HOSTS, ids=[case[0] for case in AGAINST_HOSTS])
def test_against_hosts(fleet, rule, definition, families, expected):
    hosts = dict((name, fleet[name]) for name in families)

    problems = vm_validate([definition], catalog=CATALOG, hosts=hosts)

    if expected is None:
        assert problems == [], rule
        return
    code, severity, per_host = expected
    assert [(p['vm'], p['field'], p['code'], p['severity']) for p in problems] == [('web01', 'hosts', code, severity)], rule
    assert _expected_hosts(problems[0]) == per_host, rule
    for why in problems[0]['hosts'].values():
        assert why['message'] and why['field']


def test_unknown_is_a_warning_not_a_pass_nor_an_error(fleet):
    # libvirt refused domain capabilities (a read-only connection): UEFI cannot be confirmed.
    unknown = copy.deepcopy(fleet['milan'])
    unknown['libvirt_host_caps']['domain_capabilities'] = None

    problems = vm_validate([vm(firmware='efi', machine='q35')], hosts={'ro': unknown})

    assert [(p['code'], p['severity']) for p in problems] == [('no_host_confirmed', 'warning')]
    assert problems[0]['hosts']['ro']['message'].startswith('cannot confirm')


def test_one_host_that_fits_makes_the_vm_valid_even_if_others_cannot_confirm(fleet):
    unknown = copy.deepcopy(fleet['milan'])
    unknown['libvirt_host_caps']['domain_capabilities'] = None

    assert vm_validate([vm(firmware='efi', machine='q35')], hosts={'ro': unknown, 'milan': fleet['milan']}) == []


def test_vms_with_the_same_requirements_share_a_verdict_with_their_own_names(fleet):
    vms = [vm(name='a', memory_mb=64 * 1024 * 1024), vm(name='b', memory_mb=64 * 1024 * 1024)]

    problems = vm_validate(vms, hosts={'milan': fleet['milan']})

    assert [(p['vm'], p['code']) for p in problems] == [('a', 'no_host_fits'), ('b', 'no_host_fits')]


def test_an_empty_fleet_fits_nothing():
    assert [p['code'] for p in vm_validate([vm()], hosts={})] == ['no_hosts']


def test_hosts_as_ansible_facts_or_bare_facts_are_the_same(fleet):
    bare = {'milan': fleet['milan']['libvirt_host_caps']}

    assert vm_validate([vm(vcpus=100000)], hosts=bare) == vm_validate([vm(vcpus=100000)], hosts={'milan': fleet['milan']})


# -- a fleet with hosts missing, and every failed requirement ----------------------------

def test_a_host_without_facts_is_skipped_with_a_warning_naming_it(fleet):
    problems = vm_validate([vm(vcpus=100000)], hosts={'milan': fleet['milan'], 'ghost': {}})

    assert [(p['vm'], p['field'], p['code'], p['severity']) for p in problems] == [
        (None, 'hosts.ghost', 'host_skipped', 'warning'), ('web01', 'hosts', 'no_host_fits', 'error')]
    assert 'host ghost is skipped' in problems[0]['message'] and 'no facts at all' in problems[0]['message']
    assert sorted(problems[1]['hosts']) == ['milan']


def test_a_fleet_with_a_host_skipped_still_validates_a_vm_the_others_fit(fleet):
    problems = vm_validate([vm()], hosts={'milan': fleet['milan'], 'ghost': {}})

    assert codes(problems) == [('hosts.ghost', 'host_skipped', 'warning')]


@pytest.mark.parametrize('result, reason', [
    ({'unreachable': True, 'changed': False, 'msg': 'Failed to connect to the host via ssh: Connection refused'},
     'unreachable (Failed to connect to the host via ssh: Connection refused); it has no facts at all'),
    ({'failed': True, 'msg': 'cannot connect to qemu:///system: Failed to connect socket'},
     'gathering its facts failed (cannot connect to qemu:///system: Failed to connect socket); it has no facts at all'),
    ({'changed': False, 'skipped': True, 'false_condition': 'ansible_facts.libvirt_host_caps is not defined'},
     'gathering its facts was skipped (ansible_facts.libvirt_host_caps is not defined); it has no facts at all'),
    ({'changed': False}, 'it has no facts at all'),
], ids=['unreachable', 'failed', 'skipped', 'ran'])
def test_the_gather_result_says_why_a_host_has_no_facts(fleet, result, reason):
    problems = vm_validate([vm()], hosts={'milan': fleet['milan'], 'ghost': {}}, gathered={'ghost': result, 'milan': {'changed': False}})

    assert problems[0]['message'].startswith('host ghost is skipped, no VM is checked against it: %s. ' % reason)


def test_no_host_with_facts_is_an_error(fleet):
    problems = vm_validate([vm()], hosts={'ghost': {}, 'hv9': {'ansible_hostname': 'hv9'}})

    assert [(p['field'], p['code'], p['severity']) for p in problems] == [
        ('hosts.ghost', 'host_skipped', 'warning'), ('hosts.hv9', 'host_skipped', 'warning'), ('hosts', 'no_host_facts', 'error')]
    assert 'none of the 2 host(s) has libvirt_host_caps facts' in problems[2]['message']


def test_detail_all_lists_every_requirement_a_host_fails(fleet):
    # An NFV VM: the Milan host has no VF (no sriov facts) and lacks the trait.
    nfv = vm(name='nfv01', sriov_vfs=2, required_traits=['CUSTOM_BIG_MEMORY'], memory_mb=64 * 1024 * 1024)

    first = vm_validate([nfv], catalog=CATALOG, hosts={'milan': fleet['milan']})
    every = vm_validate([nfv], catalog=CATALOG, hosts={'milan': fleet['milan']}, detail='all')

    assert 'requirements' not in first[0]['hosts']['milan']
    milan = every[0]['hosts']['milan']
    assert dict((key, milan[key]) for key in ('code', 'field', 'message')) == first[0]['hosts']['milan']
    assert [(r['verdict'], r['code'], r['field']) for r in milan['requirements']] == [
        ('fail', 'memory_exceeds_host', 'memory_mb'), ('fail', 'trait_missing', 'required_traits'),
        ('unknown', 'sriov_vfs_insufficient', 'sriov_vfs')]
    assert every[0]['message'].endswith('each host lists every requirement it fails or cannot confirm')


def test_detail_is_first_or_all(fleet):
    with pytest.raises(AnsibleFilterError, match="detail must be first or all, got string 'every'"):
        vm_validate([vm()], hosts=fleet, detail='every')


def test_a_custom_trait_query_failing_on_one_host_is_an_error_row_not_an_abort(fleet):
    broken = copy.deepcopy(fleet['milan'])
    broken['libvirt_host_caps']['cpu_info'] = None
    catalog = dict(CATALOG, hardware_traits=[{'name': 'CUSTOM_AVX2', 'query': "contains(libvirt_host_caps.cpu_info.features, 'avx2')"}])

    problems = vm_validate([vm(required_traits=['CUSTOM_AVX2'])], catalog=catalog, hosts={'broken': broken, 'sev': fleet['sev']})

    assert [(p['vm'], p['field'], p['code'], p['severity']) for p in problems] == [
        (None, 'hosts.broken', 'trait_query_failed', 'error'), ('web01', 'hosts', 'no_host_confirmed', 'warning')]
    assert 'custom trait CUSTOM_AVX2' in problems[0]['message'] and 'host broken' in problems[0]['message']
    assert problems[1]['hosts']['broken']['message'].startswith('cannot confirm the trait CUSTOM_AVX2')
    assert problems[1]['hosts']['sev']['code'] == 'trait_missing'


# -- bad input ----------------------------------------------------------------------------

@pytest.mark.parametrize('rule, args, kwargs, match', [
    ('vms not a list', ('web01',), {}, 'must be a list'),
    ('vms null', (None,), {}, 'must be a list'),
    ('catalog not a mapping', ([vm()],), {'catalog': ['m1.large']}, 'catalog must be a mapping'),
    ('hosts not a mapping', ([vm()],), {'hosts': ['hv1']}, 'hosts must map host names'),
    ('facts of another schema_version', ([vm()],), {'hosts': {'hv1': {'libvirt_host_caps': {'schema_version': 2}}}},
     'hv1.*schema_version'),
], ids=lambda value: value if isinstance(value, str) else '')
def test_bad_input_is_a_filter_error_naming_the_path(rule, args, kwargs, match):
    with pytest.raises(AnsibleFilterError, match=match):
        vm_validate(*args, **kwargs)


def test_the_filter_is_registered():
    assert FilterModule().filters()['vm_validate'] is vm_validate


JSON_LIKE = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10 ** 6) | st.floats(allow_nan=True) | st.text(max_size=12)
    | st.sampled_from(['web01', 'q35', 'efi', 'kvm', '2.0', 'sev', 'custom', '2M', 'virtio', 'default', 'CUSTOM_X', 'm1.large']),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(['name', 'vcpus', 'memory_mb', 'disk_gb', 'cpu', 'mode', 'model', 'features', 'disks', 'size_gb', 'bus',
                         'pool', 'networks', 'network', 'tpm', 'firmware', 'secure_boot', 'machine', 'arch', 'hugepages',
                         'pci_devices', 'vendor', 'device', 'count', 'required_traits', 'resource_class', 'libvirt_host_caps',
                         'schema_version', 'resource_classes', 'hardware_traits', 'query', 'x']) | st.text(max_size=5),
        children, max_size=5),
    max_leaves=25)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(vms=JSON_LIKE, catalog=JSON_LIKE, hosts=JSON_LIKE)
def test_any_json_like_input_gives_problems_or_a_filter_error(vms, catalog, hosts):
    try:
        problems = vm_validate(vms, catalog=catalog, hosts=hosts)
    except AnsibleFilterError:
        return
    assert isinstance(problems, list)
    for found in problems:
        assert found['severity'] in ('error', 'warning') and found['code'] and found['message']


@settings(max_examples=200, deadline=None)
@given(vms=st.lists(JSON_LIKE, max_size=3))
def test_any_list_of_json_like_vms_gives_problems(fleet, vms):
    problems = vm_validate(vms, catalog=CATALOG, hosts=fleet)

    assert isinstance(problems, list)


# -- this machine: the host CPU has avx2, KVM cannot give it to a guest ----------------


def test_a_host_flag_kvm_cannot_give_fails_a_host_model_vm():
    from ansible_collections.virtumancer.hostcaps.plugins.filter.caps_from_xml import caps_from_xml
    from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import read_fixture
    facts = caps_from_xml(read_fixture('debian12-kvm-guest-cpu.caps.xml'),
                          [read_fixture('debian12-kvm-guest-cpu.domcaps-pc.xml'), read_fixture('debian12-kvm-guest-cpu.domcaps-q35.xml')])

    problems = vm_validate([vm(name='avx2vm', cpu={'mode': 'host-model', 'features': ['avx2']})], hosts={'debian12': facts})

    assert [(p['vm'], p['code'], p['severity']) for p in problems] == [('avx2vm', 'no_host_fits', 'error')]
    why = problems[0]['hosts']['debian12']
    assert (why['code'], why['field']) == ('cpu_feature_missing', 'cpu.features[0]')
    for part in ('avx2', 'host-model guest', 'host debian12', 'remove avx2 from cpu.features'):
        assert part in why['message']
