# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The policy catalog: each rule of catalog_problems, and what index_catalog keeps."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from jinja2 import Undefined

from ansible.errors import AnsibleFilterError

from ansible_collections.virtumancer.hostcaps.plugins.filter.catalog_validate import FilterModule
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy import vm_catalog
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.qos import IOTUNE_MAX, MEMORY_LIMIT_MAX_MB
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.traits import custom_traits_matching
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_catalog import (
    Catalog, catalog_problems, index_catalog, qos_policy_problems, suggest_trait, valid_resource_class_name, valid_trait_name,
)

WARNINGS = ('duplicate_trait', 'unchecked_query', 'hard_limit_advised_against', 'blkio_weight_below_100')
DELETE = object()

# Every section with every key it knows.
VALID = {
    'resource_classes': [
        {
            'name': 'small', 'description': 'Two vCPUs', 'vcpus': 2, 'memory_mb': 4096, 'disk_gb': 20,
            'resources': {'SRIOV_NET_VF': 1, 'CUSTOM_LICENSE_SLOT': 0},
            'required_traits': ['HW_CPU_X86_AVX2', 'CUSTOM_FAST_NIC'],
            'forbidden_traits': ['HW_CPU_X86_AMD_SEV'],
        },
        {'name': 'tiny.v2', 'vcpus': 1, 'memory_mb': 64, 'disk_gb': 0},
    ],
    'hardware_traits': [
        {'name': 'CUSTOM_FAST_NIC', 'query': 'sriov.physical_functions[?speed_mbps >= `25000`]', 'description': '25G or faster'},
        {'name': 'CUSTOM_BIG_MEMORY', 'query': 'libvirt_host_caps.memory_info.total_mb >= `524288`'},
    ],
    'qos_policies': [
        {
            'name': 'gold', 'description': 'Latency sensitive',
            'cpu': {'shares': 2048, 'period': 100000, 'quota': -1},
            # hard_limit_mb is the one key left out: libvirt advises against it, a warning.
            'memory': {'soft_limit_mb': 4096, 'swap_hard_limit_mb': 8192},
            'disk': {
                'total_bytes_sec': 0, 'read_bytes_sec': 104857600, 'write_bytes_sec': 52428800,
                'total_iops_sec': 0, 'read_iops_sec': 2000, 'write_iops_sec': 1000,
                'total_bytes_sec_max': 0, 'read_bytes_sec_max': 209715200, 'write_bytes_sec_max': 52428800,
                'total_iops_sec_max': 0, 'read_iops_sec_max': 4000, 'write_iops_sec_max': 1000,
                'total_bytes_sec_max_length': 0, 'read_bytes_sec_max_length': 10, 'write_bytes_sec_max_length': 1,
                'total_iops_sec_max_length': 0, 'read_iops_sec_max_length': 60, 'write_iops_sec_max_length': 0,
                'size_iops_sec': 4096, 'group_name': 'tenant-a',
            },
            'blkio_weight': 800,
            'network': {'inbound': {'average': 1000, 'peak': 2000, 'burst': 1024, 'floor': 500}, 'outbound': {'average': 1000}},
        },
    ],
    'placement_policies': [
        {
            'name': 'default', 'description': 'Spread web, pack batch', 'strategy': 'spread',
            'allocation_ratios': {'VCPU': 4.0, 'MEMORY_MB': 1},
            'reserved': {'MEMORY_MB': 2048, 'VCPU': 0},
            'required_traits': ['CUSTOM_KVM'], 'forbidden_traits': ['COMPUTE_STATUS_DISABLED'],
            'hosts': ['hv1', 'rack2-*'],
            'affinity': [{'name': 'db', 'hard': False}],
            'anti_affinity': [{'name': 'web', 'hard': True, 'max_per_host': 1}],
        },
    ],
}


def changed(*edits):
    """VALID with each (path, value) edit applied; DELETE removes the key."""
    catalog = copy.deepcopy(VALID)
    for path, value in edits:
        parent = catalog
        for step in path[:-1]:
            parent = parent[step]
        if value is DELETE:
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
    return catalog


RC = ('resource_classes', 0)
HW = ('hardware_traits', 0)
QOS = ('qos_policies', 0)
PP = ('placement_policies', 0)

# (catalog, [(code, field), ...]): the problems each rule gives, and nothing else.
RULES = [
    # the catalog and its sections
    pytest.param(['resource_classes'], [('wrong_type', None)], id='catalog_must_be_a_mapping'),
    pytest.param(changed((('resource_class',), [])), [('unknown_key', 'resource_class')], id='unknown_section_is_an_error'),
    pytest.param(changed((('qos_policies',), {'name': 'gold'})), [('wrong_type', 'qos_policies')], id='section_must_be_a_list'),
    pytest.param(changed((RC, 'small')), [('wrong_type', 'resource_classes[0]')], id='entry_must_be_a_mapping'),
    # names
    pytest.param(changed((RC + ('name',), DELETE)), [('missing_key', 'resource_classes[0].name')], id='name_is_required'),
    pytest.param(changed((RC + ('name',), 'small vm')), [('invalid_name', 'resource_classes[0].name')], id='name_has_no_spaces'),
    pytest.param(changed((RC + ('name',), 'x' * 65)), [('invalid_name', 'resource_classes[0].name')], id='name_is_at_most_64_characters'),
    pytest.param(changed((RC + ('name',), 7)), [('wrong_type', 'resource_classes[0].name')], id='name_is_a_string'),
    pytest.param(changed((('resource_classes', 1, 'name'), 'small')), [('duplicate_name', 'resource_classes[1].name')],
                 id='name_is_unique_in_its_section'),
    # resource class sizes
    pytest.param(changed((RC + ('vcpus',), 0)), [('out_of_range', 'resource_classes[0].vcpus')], id='vcpus_is_at_least_1'),
    pytest.param(changed((RC + ('vcpus',), '2')), [('wrong_type', 'resource_classes[0].vcpus')], id='vcpus_is_not_a_string'),
    pytest.param(changed((RC + ('vcpus',), True)), [('wrong_type', 'resource_classes[0].vcpus')], id='vcpus_is_not_a_boolean'),
    pytest.param(changed((RC + ('vcpus',), 2.5)), [('wrong_type', 'resource_classes[0].vcpus')], id='vcpus_is_a_whole_number'),
    pytest.param(changed((RC + ('memory_mb',), 63)), [('out_of_range', 'resource_classes[0].memory_mb')], id='memory_mb_is_at_least_64'),
    pytest.param(changed((RC + ('disk_gb',), -1)), [('out_of_range', 'resource_classes[0].disk_gb')], id='disk_gb_is_not_negative'),
    pytest.param(changed((RC + ('vcpus',), DELETE)), [('missing_key', 'resource_classes[0].vcpus')], id='vcpus_is_required'),
    pytest.param(changed((RC + ('disk_gb',), None)), [('missing_key', 'resource_classes[0].disk_gb')], id='null_counts_as_not_set'),
    pytest.param(changed((RC + ('vcpus',), DELETE), (RC + ('vpcus',), 2)),
                 [('unknown_key', 'resource_classes[0].vpcus'), ('missing_key', 'resource_classes[0].vcpus')], id='unknown_key_is_an_error'),
    # extra resources
    pytest.param(changed((RC + ('resources',), ['SRIOV_NET_VF'])), [('wrong_type', 'resource_classes[0].resources')],
                 id='resources_is_a_mapping'),
    pytest.param(changed((RC + ('resources',), {'GPU': 1})), [('invalid_resource_class', 'resource_classes[0].resources.GPU')],
                 id='resources_names_are_os_resource_classes_or_custom'),
    pytest.param(changed((RC + ('resources',), {'PGPU': -1})), [('out_of_range', 'resource_classes[0].resources.PGPU')],
                 id='resources_amounts_are_not_negative'),
    pytest.param(changed((RC + ('resources',), {'VCPU': 2})), [('invalid_value', 'resource_classes[0].resources.VCPU')],
                 id='resources_do_not_repeat_vcpus_memory_or_disk'),
    # traits
    pytest.param(changed((RC + ('required_traits',), 'HW_CPU_X86_AVX2')), [('wrong_type', 'resource_classes[0].required_traits')],
                 id='traits_are_a_list'),
    pytest.param(changed((RC + ('required_traits',), ['HW_CPU_X86_AVX3'])), [('invalid_trait_name', 'resource_classes[0].required_traits[0]')],
                 id='trait_is_os_traits_or_custom'),
    pytest.param(changed((RC + ('forbidden_traits',), ['custom_fast_nic'])), [('invalid_trait_name', 'resource_classes[0].forbidden_traits[0]')],
                 id='trait_is_upper_case'),
    pytest.param(changed((RC + ('forbidden_traits',), [None])), [('wrong_type', 'resource_classes[0].forbidden_traits[0]')],
                 id='trait_is_a_string'),
    pytest.param(changed((RC + ('required_traits',), ['HW_CPU_X86_AVX2', 'HW_CPU_X86_AVX2'])),
                 [('duplicate_trait', 'resource_classes[0].required_traits[1]')], id='trait_listed_twice_is_a_warning'),
    pytest.param(changed((RC + ('forbidden_traits',), ['CUSTOM_FAST_NIC'])), [('trait_required_and_forbidden', 'resource_classes[0].forbidden_traits[0]')],
                 id='trait_is_not_both_required_and_forbidden'),
    pytest.param(changed((RC + ('description',), 42)), [('wrong_type', 'resource_classes[0].description')], id='description_is_a_string'),
    # hardware traits
    pytest.param(changed((HW + ('name',), 'FAST_NIC')), [('invalid_trait_name', 'hardware_traits[0].name')], id='hardware_trait_is_custom'),
    pytest.param(changed((HW + ('name',), 'HW_CPU_X86_AVX2')), [('invalid_trait_name', 'hardware_traits[0].name')],
                 id='hardware_trait_does_not_redefine_an_os_trait'),
    pytest.param(changed((HW + ('query',), 'sriov.physical_functions[?')), [('invalid_query', 'hardware_traits[0].query')],
                 id='query_compiles_as_jmespath'),
    pytest.param(changed((HW + ('query',), '  ')), [('invalid_query', 'hardware_traits[0].query')], id='query_is_not_empty'),
    pytest.param(changed((HW + ('query',), DELETE)), [('missing_key', 'hardware_traits[0].query')], id='query_is_required'),
    pytest.param(changed((HW + ('query',), True)), [('wrong_type', 'hardware_traits[0].query')], id='query_is_a_string'),
    pytest.param(changed((('hardware_traits', 1, 'name'), 'CUSTOM_FAST_NIC')), [('duplicate_name', 'hardware_traits[1].name')],
                 id='hardware_trait_is_defined_once'),
    # QoS policies: keys, types, signs
    pytest.param(changed((QOS + ('cpu_shares',), 1024)), [('unknown_key', 'qos_policies[0].cpu_shares')], id='qos_unknown_key'),
    pytest.param(changed((QOS + ('cpu', 'shares'), -1)), [('out_of_range', 'qos_policies[0].cpu.shares')], id='qos_cpu_shares_not_negative'),
    pytest.param(changed((QOS + ('memory',), 4096)), [('wrong_type', 'qos_policies[0].memory')], id='qos_memory_is_a_mapping'),
    pytest.param(changed((QOS + ('disk', 'total_iops'), 1)), [('unknown_key', 'qos_policies[0].disk.total_iops')], id='qos_disk_iotune_keys'),
    pytest.param(changed((QOS + ('network', 'inbound', 'average'), '1000')), [('wrong_type', 'qos_policies[0].network.inbound.average')],
                 id='qos_bandwidth_is_a_number'),
    pytest.param(changed((QOS + ('blkio_weight',), -5)), [('out_of_range', 'qos_policies[0].blkio_weight')], id='qos_blkio_weight_not_negative'),
    # QoS policies: what libvirt refuses across fields
    pytest.param(changed((QOS + ('memory', 'hard_limit_mb'), 8192)), [('hard_limit_advised_against', 'qos_policies[0].memory.hard_limit_mb')],
                 id='qos_hard_limit_is_advised_against'),
    pytest.param(changed((QOS + ('memory', 'hard_limit_mb'), 8193)), [
        ('swap_below_hard_limit', 'qos_policies[0].memory.swap_hard_limit_mb'),
        ('hard_limit_advised_against', 'qos_policies[0].memory.hard_limit_mb'),
    ], id='qos_swap_hard_limit_not_below_hard_limit'),
    pytest.param(changed((QOS + ('blkio_weight',), 10)), [('blkio_weight_below_100', 'qos_policies[0].blkio_weight')],
                 id='qos_blkio_weight_below_100_needs_a_newer_kernel'),
    pytest.param(changed((QOS + ('disk', 'total_bytes_sec'), 1)), [('exclusive_fields', 'qos_policies[0].disk.total_bytes_sec')],
                 id='qos_total_bytes_exclusive_with_read_write'),
    pytest.param(changed((QOS + ('disk', 'total_iops_sec_max'), 5000)), [('exclusive_fields', 'qos_policies[0].disk.total_iops_sec_max'),
                                                                         ('burst_needs_rate', 'qos_policies[0].disk.total_iops_sec_max')],
                 id='qos_total_iops_max_exclusive_with_read_write'),
    pytest.param(changed((QOS + ('disk', 'read_iops_sec'), 0)), [('burst_needs_rate', 'qos_policies[0].disk.read_iops_sec_max')],
                 id='qos_burst_needs_its_rate'),
    pytest.param(changed((QOS + ('disk', 'read_iops_sec_max'), 1999)), [('burst_below_rate', 'qos_policies[0].disk.read_iops_sec_max')],
                 id='qos_burst_not_below_its_rate'),
    pytest.param(changed((QOS + ('disk', 'total_iops_sec_max_length'), 5)),
                 [('burst_length_needs_burst', 'qos_policies[0].disk.total_iops_sec_max_length')], id='qos_burst_length_needs_its_burst'),
    pytest.param(changed((QOS + ('disk', 'read_bytes_sec_max_length'), IOTUNE_MAX // 209715200 + 1)),
                 [('out_of_range', 'qos_policies[0].disk.read_bytes_sec_max_length')], id='qos_burst_times_length_within_qemu_limit'),
    pytest.param(changed((QOS + ('disk', 'group_name'), '')), [('invalid_value', 'qos_policies[0].disk.group_name')],
                 id='qos_group_name_not_empty'),
    pytest.param(changed((QOS + ('disk', 'group_name'), 7)), [('wrong_type', 'qos_policies[0].disk.group_name')],
                 id='qos_group_name_is_text'),
    pytest.param(changed((QOS + ('network', 'outbound', 'floor'), 100)), [('inbound_only', 'qos_policies[0].network.outbound.floor')],
                 id='qos_floor_is_inbound_only'),
    pytest.param(changed((QOS + ('network', 'inbound', 'average'), DELETE)), [
        ('needs_average', 'qos_policies[0].network.inbound.peak'), ('needs_average', 'qos_policies[0].network.inbound.burst'),
    ], id='qos_peak_and_burst_need_average'),
    # placement policies: keys, types, signs
    pytest.param(changed((PP + ('strategy',), 'balance')), [('invalid_value', 'placement_policies[0].strategy')],
                 id='strategy_is_spread_or_pack'),
    pytest.param(changed((PP + ('allocation_ratios', 'VCPU'), 0)), [('out_of_range', 'placement_policies[0].allocation_ratios.VCPU')],
                 id='allocation_ratio_is_above_zero'),
    pytest.param(changed((PP + ('allocation_ratios', 'VCPU'), '4')), [('wrong_type', 'placement_policies[0].allocation_ratios.VCPU')],
                 id='allocation_ratio_is_a_number'),
    pytest.param(changed((PP + ('allocation_ratios', 'VCPU'), float('inf'))), [('out_of_range', 'placement_policies[0].allocation_ratios.VCPU')],
                 id='allocation_ratio_is_finite'),
    pytest.param(changed((PP + ('reserved', 'MEMORY_MB'), -1)), [('out_of_range', 'placement_policies[0].reserved.MEMORY_MB')],
                 id='reserved_is_not_negative'),
    pytest.param(changed((PP + ('reserved',), {'RAM': 1})), [('invalid_resource_class', 'placement_policies[0].reserved.RAM')],
                 id='reserved_names_a_resource_class'),
    pytest.param(changed((PP + ('hosts',), 'hv1')), [('wrong_type', 'placement_policies[0].hosts')], id='hosts_is_a_list'),
    pytest.param(changed((PP + ('hosts',), ['hv1', ''])), [('invalid_value', 'placement_policies[0].hosts[1]')], id='host_is_not_empty'),
    pytest.param(changed((PP + ('affinity', 0, 'hard'), 'yes')), [('wrong_type', 'placement_policies[0].affinity[0].hard')],
                 id='group_hard_is_a_boolean'),
    pytest.param(changed((PP + ('anti_affinity', 0, 'max_per_host'), 0)), [('out_of_range', 'placement_policies[0].anti_affinity[0].max_per_host')],
                 id='group_max_per_host_is_at_least_1'),
    pytest.param(changed((PP + ('affinity', 0, 'name'), DELETE)), [('missing_key', 'placement_policies[0].affinity[0].name')],
                 id='group_name_is_required'),
    pytest.param(changed((PP + ('anti_affinity', 0, 'soft'), True)), [('unknown_key', 'placement_policies[0].anti_affinity[0].soft')],
                 id='group_unknown_key'),
    pytest.param(changed((PP + ('forbidden_traits',), ['CUSTOM_KVM'])), [('trait_required_and_forbidden', 'placement_policies[0].forbidden_traits[0]')],
                 id='placement_trait_is_not_both_required_and_forbidden'),
]


@pytest.mark.parametrize('catalog, expected', RULES)
def test_rule(catalog, expected):
    problems = catalog_problems(catalog)
    assert [(problem['code'], problem['field']) for problem in problems] == expected
    for problem in problems:
        assert problem['severity'] == ('warning' if problem['code'] in WARNINGS else 'error')


@pytest.mark.parametrize('catalog', [
    pytest.param(VALID, id='full_catalog'),
    pytest.param(None, id='none_is_an_empty_catalog'),
    pytest.param({}, id='empty_mapping'),
    pytest.param({'resource_classes': None, 'qos_policies': []}, id='empty_sections'),
    pytest.param(changed((QOS + ('cpu', 'quota'), -1)), id='negative_cpu_quota_means_no_limit'),
    pytest.param(changed((RC + ('description',), None)), id='null_optional_key_is_not_set'),
])
def test_valid_catalog_has_no_problem(catalog):
    assert catalog_problems(catalog) == []


# libvirt's ranges (formatdomain.html#cpu-tuning, #memory-tuning, #block-i-o-tuning, the
# disk's <iotune>, #quality-of-service): (path in a QoS policy, values inside, values
# outside, other values the policy needs for the rest to be valid).
BURST = {'disk': {'read_bytes_sec': 1, 'read_bytes_sec_max': 1}}
QOS_LIMITS = [
    (('cpu', 'shares'), (2, 262144), (1, 262145), {}),
    (('cpu', 'period'), (1000, 1000000), (999, 1000001), {}),
    (('cpu', 'quota'), (-1, 1000, 17592186044415), (-2, 0, 999, 17592186044416), {}),
    (('memory', 'soft_limit_mb'), (1, MEMORY_LIMIT_MAX_MB), (0, MEMORY_LIMIT_MAX_MB + 1), {}),
    (('memory', 'swap_hard_limit_mb'), (1, MEMORY_LIMIT_MAX_MB), (0, MEMORY_LIMIT_MAX_MB + 1), {}),
    (('blkio_weight',), (100, 1000), (9, 1001), {}),
    (('disk', 'total_bytes_sec'), (0, 1, IOTUNE_MAX), (-1, IOTUNE_MAX + 1), {}),
    (('disk', 'write_iops_sec'), (0, 1, IOTUNE_MAX), (-1, IOTUNE_MAX + 1), {}),
    (('disk', 'total_iops_sec_max'), (1, IOTUNE_MAX), (IOTUNE_MAX + 1,), {'disk': {'total_iops_sec': 1}}),
    (('disk', 'read_bytes_sec_max_length'), (1, IOTUNE_MAX), (-1, IOTUNE_MAX + 1), BURST),
    (('disk', 'size_iops_sec'), (0, IOTUNE_MAX), (-1, IOTUNE_MAX + 1), {}),
    (('network', 'inbound', 'average'), (1, 4294967295), (0, 4294967296), {}),
    (('network', 'inbound', 'peak'), (1, 4294967295), (0, 4294967296), {'network': {'inbound': {'average': 1}}}),
    (('network', 'inbound', 'burst'), (1, 4294967295), (0, 4294967296), {'network': {'inbound': {'average': 1}}}),
    (('network', 'inbound', 'floor'), (1, 4294967295), (0, 4294967296), {}),
    (('network', 'outbound', 'average'), (1, 4294967295), (0, 4294967296), {}),
]


def qos_catalog(path, value, others):
    """A catalog of one QoS policy that sets ``path`` to ``value`` beside ``others``."""
    policy = copy.deepcopy(others)
    policy['name'] = 'gold'
    parent = policy
    for step in path[:-1]:
        parent = parent.setdefault(step, {})
    parent[path[-1]] = value
    return {'qos_policies': [policy]}


def limit_cases(position):
    return [pytest.param(path, value, others, id='%s=%s' % ('.'.join(path), value))
            for path, inside, outside, others in QOS_LIMITS for value in (inside, outside)[position]]


@pytest.mark.parametrize('path, value, others', limit_cases(0))
def test_qos_value_inside_libvirt_range_is_valid(path, value, others):
    assert catalog_problems(qos_catalog(path, value, others)) == []


@pytest.mark.parametrize('path, value, others', limit_cases(1))
def test_qos_value_outside_libvirt_range_is_an_error(path, value, others):
    problem = only_problem(qos_catalog(path, value, others))
    assert (problem['code'], problem['field'], problem['severity']) == ('out_of_range', 'qos_policies[0].' + '.'.join(path), 'error')


def test_qos_range_message_names_policy_field_value_range_and_fix():
    problem = only_problem(changed((QOS + ('cpu', 'shares'), 1)))
    assert problem['message'] == ("QoS policy 'gold' (qos_policies[0].cpu.shares): must be 2..262144, libvirt's range for "
                                  "<cputune><shares>, got 1; e.g. shares: 1024")


def test_qos_quota_message_offers_minus_one_for_no_limit():
    message = only_problem(changed((QOS + ('cpu', 'quota'), 0)))['message']
    assert 'must be -1 (no limit) or 1000..17592186044415' in message
    assert 'quota: -1 for no limit' in message


def test_qos_exclusive_iotune_message_names_both_sides():
    message = only_problem(changed((QOS + ('disk', 'total_bytes_sec'), 1)))['message']
    assert 'total_bytes_sec cannot be set with read_bytes_sec and write_bytes_sec' in message


def test_qos_zero_total_beside_read_write_is_no_limit():
    # formatdomain: an <iotune> value of 0 means no limit, so it excludes nothing.
    assert catalog_problems(changed((QOS + ('disk', 'total_iops_sec'), 0))) == []


def test_qos_floor_alone_needs_no_average():
    catalog = changed((QOS + ('network', 'inbound'), {'floor': 1000}))
    assert catalog_problems(catalog) == []


def test_qos_policy_problems_name_the_option_field():
    problems = qos_policy_problems({'name': 'gold', 'cpu': {'period': 10}})
    assert [(problem['field'], problem['code']) for problem in problems] == [('policy.cpu.period', 'out_of_range')]
    assert problems[0]['message'].startswith("QoS policy 'gold' (policy.cpu.period): must be 1000..1000000")


def test_qos_policy_problems_of_a_non_mapping():
    assert [problem['code'] for problem in qos_policy_problems('gold')] == ['wrong_type']


# -- messages ----------------------------------------------------------------------


def only_problem(catalog):
    problems = catalog_problems(catalog)
    assert len(problems) == 1, problems
    return problems[0]


def test_problem_has_section_name_field_code_message_severity():
    problem = only_problem(changed((RC + ('vcpus',), 0)))
    assert problem == {
        'section': 'resource_classes', 'name': 'small', 'field': 'resource_classes[0].vcpus', 'code': 'out_of_range',
        'message': "resource class 'small' (resource_classes[0].vcpus): must be >= 1, got 0; e.g. vcpus: 2",
        'severity': 'error',
    }


def test_unknown_key_suggests_the_closest_known_key():
    assert 'did you mean forbidden_traits?' in only_problem(changed((RC + ('forbiden_traits',), [])))['message']


def test_unknown_section_suggests_the_closest_section():
    assert 'did you mean placement_policies?' in only_problem(changed((('placement_policy',), [])))['message']


def test_misspelled_trait_suggests_the_os_trait_and_a_custom_name():
    message = only_problem(changed((RC + ('required_traits',), ['hw_cpu_x86_avx2'])))['message']
    assert 'did you mean HW_CPU_X86_AVX2?' in message
    assert 'CUSTOM_HW_CPU_X86_AVX2' in message


def test_wrong_type_names_the_value_and_its_type():
    assert "got string '2'" in only_problem(changed((RC + ('vcpus',), '2')))['message']


def test_entry_without_usable_name_is_named_by_its_place():
    problem = only_problem(changed((RC + ('name',), 7)))
    assert problem['name'] is None
    assert problem['message'].startswith('resource_classes[0].name: ')


def test_query_is_a_warning_when_jmespath_is_missing(monkeypatch):
    monkeypatch.setattr(vm_catalog, 'HAS_JMESPATH', False)
    catalog = {'hardware_traits': [{'name': 'CUSTOM_FAST_NIC', 'query': 'sriov.physical_functions[?'}]}
    problem = only_problem(catalog)
    assert (problem['code'], problem['severity']) == ('unchecked_query', 'warning')
    assert 'pip install jmespath' in problem['message']
    assert index_catalog(catalog).hardware_traits == [('CUSTOM_FAST_NIC', 'sriov.physical_functions[?')]


# -- names -------------------------------------------------------------------------


@pytest.mark.parametrize('name, valid', [
    ('HW_CPU_X86_AVX2', True), ('COMPUTE_SECURITY_TPM_2_0', True), ('CUSTOM_FAST_NIC', True),
    ('HW_CPU_X86_AVX3', False), ('custom_fast_nic', False), ('CUSTOM_', False), ('CUSTOM_FAST-NIC', False), (None, False),
])
def test_valid_trait_name(name, valid):
    assert valid_trait_name(name) is valid


@pytest.mark.parametrize('name, closest', [
    ('hw_cpu_x86_avx2', 'HW_CPU_X86_AVX2'), ('HW-CPU-X86-SSE42', 'HW_CPU_X86_SSE42'),
    ('COMPUTE_SECURITY_TPM20', 'COMPUTE_SECURITY_TPM_2_0'), ('FAST_NIC', None), (3, None),
])
def test_suggest_trait(name, closest):
    assert suggest_trait(name) == closest


@pytest.mark.parametrize('name, valid', [
    ('SRIOV_NET_VF', True), ('NET_BW_EGR_KILOBIT_PER_SEC', True), ('CUSTOM_LICENSE', True), ('MEMORY', False), ('vcpu', False),
])
def test_valid_resource_class_name(name, valid):
    assert valid_resource_class_name(name) is valid


# -- index -------------------------------------------------------------------------


def test_index_of_the_full_catalog_has_every_entry():
    catalog = index_catalog(VALID)
    assert isinstance(catalog, Catalog)
    assert sorted(catalog.resource_classes) == ['small', 'tiny.v2']
    assert catalog.resource_classes['small']['vcpus'] == 2
    assert [name for name, dummy in catalog.hardware_traits] == ['CUSTOM_FAST_NIC', 'CUSTOM_BIG_MEMORY']
    assert list(catalog.qos_policies) == ['gold']
    assert list(catalog.placement_policies) == ['default']


@pytest.mark.parametrize('catalog', [None, [], 'catalog', {'resource_classes': 'small'}], ids=['none', 'list', 'string', 'section_not_a_list'])
def test_index_of_no_usable_catalog_is_empty(catalog):
    index = index_catalog(catalog)
    assert (index.resource_classes, index.hardware_traits, index.qos_policies, index.placement_policies) == ({}, [], {}, {})


def test_index_skips_an_entry_with_an_error_and_keeps_the_others():
    catalog = index_catalog(changed((RC + ('vcpus',), 0), (HW + ('query',), '[')))
    assert list(catalog.resource_classes) == ['tiny.v2']
    assert [name for name, dummy in catalog.hardware_traits] == ['CUSTOM_BIG_MEMORY']


def test_index_keeps_an_entry_with_only_warnings():
    catalog = index_catalog(changed((RC + ('required_traits',), ['HW_CPU_X86_AVX2', 'HW_CPU_X86_AVX2'])))
    assert 'small' in catalog.resource_classes


def test_index_keeps_the_first_of_two_entries_with_one_name():
    catalog = index_catalog(changed((('resource_classes', 1, 'name'), 'small')))
    assert catalog.resource_classes == {'small': VALID['resource_classes'][0]}


def test_indexed_hardware_traits_are_custom_traits_for_the_traits_engine():
    facts = {'memory_info': {'total_mb': 1048576}}
    sriov = {'physical_functions': [{'speed_mbps': 10000}]}
    assert custom_traits_matching(dict(index_catalog(VALID).hardware_traits), facts, sriov) == {'CUSTOM_BIG_MEMORY'}


def test_indexed_group_names_are_those_of_both_kinds_of_the_policy():
    catalog = index_catalog(VALID)
    assert catalog.group_names('default') == {'db', 'web'}
    assert catalog.group_names('none-such') == frozenset()
    assert catalog.group_names(None) == frozenset()


# -- the filter --------------------------------------------------------------------


def test_filter_returns_the_problems():
    catalog_validate = FilterModule().filters()['catalog_validate']
    assert catalog_validate(changed((RC + ('vcpus',), 0))) == catalog_problems(changed((RC + ('vcpus',), 0)))


def test_filter_refuses_an_undefined_catalog():
    with pytest.raises(AnsibleFilterError, match='catalog_validate: the catalog is undefined'):
        FilterModule().filters()['catalog_validate'](Undefined(name='vm_catalog'))
