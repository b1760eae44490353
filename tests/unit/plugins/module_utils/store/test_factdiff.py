# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drift between two versions of a host's facts, on facts built from saved libvirt XML."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.store.factdiff import diff_facts
from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import facts_from

SEV = 'amd-epyc-sev.caps.xml'
SEV_Q35 = 'amd-epyc-sev.domcaps-q35.xml'
MILAN = 'debian12-epyc-milan-kvm.caps.xml'
MILAN_PC = 'debian12-epyc-milan-kvm.domcaps-pc.xml'
MILAN_Q35 = 'debian12-epyc-milan-kvm.domcaps-q35.xml'

POOLS = [
    {'name': 'default', 'type': 'dir', 'capacity_gb': 915.4, 'allocation_gb': 120.0, 'available_gb': 795.4},
    {'name': 'images', 'type': 'logical', 'capacity_gb': 1862.0, 'allocation_gb': 400.0, 'available_gb': 1462.0},
]


def cached(caps=SEV, *domcaps, **live):
    """A host's facts as the fact cache holds them: ``libvirt_host_caps`` at the top."""
    live.setdefault('pools', copy.deepcopy(POOLS))
    return {'libvirt_host_caps': facts_from(caps, *(domcaps or (SEV_Q35,)), **live)}


def paths(changes, op=None):
    return [change['path'] for change in changes if op in (None, change['op'])]


def test_identical_facts_have_no_changes():
    assert diff_facts(cached(), cached()) == []


def test_a_changed_scalar_gives_its_path_and_both_values():
    old, new = cached(), cached()
    new['libvirt_host_caps']['memory_info']['total_mb'] = 128715

    assert diff_facts(old, new) == [{
        'path': 'libvirt_host_caps.memory_info.total_mb', 'op': 'changed', 'old': 257430, 'new': 128715,
    }]


def test_a_trait_that_disappears_is_one_removed_set_element():
    old = cached(SEV, SEV_Q35)
    new = cached(SEV, SEV_Q35)
    new['libvirt_host_caps']['traits'].remove('HW_CPU_X86_AMD_SEV')

    assert diff_facts(old, new) == [{'path': 'libvirt_host_caps.traits', 'op': 'removed', 'old': 'HW_CPU_X86_AMD_SEV'}]


def test_losing_the_sev_domain_capabilities_removes_the_sev_traits():
    changes = diff_facts(cached(SEV, SEV_Q35), {'libvirt_host_caps': facts_from(SEV, pools=copy.deepcopy(POOLS))})

    trait_changes = [change for change in changes if change['path'] == 'libvirt_host_caps.traits']
    assert {'path': 'libvirt_host_caps.traits', 'op': 'removed', 'old': 'HW_CPU_X86_AMD_SEV'} in trait_changes
    assert {'path': 'libvirt_host_caps.traits', 'op': 'removed', 'old': 'HW_CPU_X86_AMD_SEV_ES'} in trait_changes
    assert all(change['op'] == 'removed' for change in trait_changes)
    assert {'path': 'libvirt_host_caps.security_info.sev.supported', 'op': 'changed', 'old': True, 'new': None} in changes


def test_a_trait_that_appears_is_one_added_set_element():
    old = cached(SEV, SEV_Q35)
    new = cached(SEV, SEV_Q35)
    new['libvirt_host_caps']['traits'] = sorted(new['libvirt_host_caps']['traits'] + ['CUSTOM_FAST_NIC'])

    assert diff_facts(old, new) == [{'path': 'libvirt_host_caps.traits', 'op': 'added', 'new': 'CUSTOM_FAST_NIC'}]


def test_scalar_lists_ignore_order():
    old = cached()
    new = cached()
    new['libvirt_host_caps']['cpu_info']['features'].reverse()

    assert diff_facts(old, new) == []


def test_one_change_per_element_of_a_scalar_list():
    old = cached()
    new = cached()
    new['libvirt_host_caps']['memory_info']['page_sizes_kb'] = [4, 2048]

    assert diff_facts(old, new) == [{'path': 'libvirt_host_caps.memory_info.page_sizes_kb', 'op': 'removed', 'old': 1048576}]


def test_added_and_removed_keys_carry_the_whole_value():
    old = cached()
    new = cached()
    sev = new['libvirt_host_caps']['security_info'].pop('sev')
    new['libvirt_host_caps']['security_info']['sev_snp'] = {'supported': False}

    assert diff_facts(old, new) == [
        {'path': 'libvirt_host_caps.security_info.sev', 'op': 'removed', 'old': sev},
        {'path': 'libvirt_host_caps.security_info.sev_snp', 'op': 'added', 'new': {'supported': False}},
    ]


def test_pools_are_matched_by_name_not_position():
    old = cached()
    new = cached(pools=[dict(POOLS[1]), dict(POOLS[0], capacity_gb=1830.0)])

    assert diff_facts(old, new) == [{
        'path': 'libvirt_host_caps.storage_info.pools[name=default].capacity_gb', 'op': 'changed', 'old': 915.4, 'new': 1830.0,
    }]


def test_a_new_pool_is_one_added_element_named_by_its_identity():
    old = cached()
    nfs = {'name': 'nfs-iso', 'type': 'netfs', 'capacity_gb': 500.0, 'allocation_gb': 10.0, 'available_gb': 490.0}
    new = cached(pools=copy.deepcopy(POOLS) + [nfs])

    assert diff_facts(old, new, ignore=['collected_at']) == [{'path': 'libvirt_host_caps.storage_info.pools[name=nfs-iso]', 'op': 'added', 'new': nfs}]
    # What the default leaves out is left out of the added element too.
    assert diff_facts(old, new) == [{'path': 'libvirt_host_caps.storage_info.pools[name=nfs-iso]', 'op': 'added',
                                     'new': {'name': 'nfs-iso', 'type': 'netfs', 'capacity_gb': 500.0}}]


def test_domain_capabilities_are_matched_by_arch_machine_and_virttype():
    old = cached(MILAN, MILAN_PC, MILAN_Q35)
    new = copy.deepcopy(old)
    new['libvirt_host_caps']['domain_capabilities'].reverse()
    probe = new['libvirt_host_caps']['domain_capabilities'][0]
    machine = probe['machine']
    probe['max_vcpus'] = 1024

    assert diff_facts(old, new) == [{
        'path': 'libvirt_host_caps.domain_capabilities[arch=x86_64,machine=%s,virttype=kvm].max_vcpus' % machine,
        'op': 'changed', 'old': 288, 'new': 1024,
    }]


def test_numa_cells_are_matched_by_id_and_page_entries_by_size():
    old = cached()
    new = cached()
    new['libvirt_host_caps']['memory_info']['cells'][1]['pages'][1]['total'] = 0

    assert diff_facts(old, new) == [{
        'path': 'libvirt_host_caps.memory_info.cells[id=1].pages[size_kb=2048].total', 'op': 'changed', 'old': 4096, 'new': 0,
    }]


def test_errors_are_matched_by_category_and_message():
    old = cached()
    new = cached()
    gone = new['libvirt_host_caps']['errors'].pop(0)

    assert diff_facts(old, new) == [{
        'path': 'libvirt_host_caps.errors[category=%s,message="%s"]' % (gone['category'], gone['message']), 'op': 'removed', 'old': gone,
    }]


def test_dicts_without_an_identity_are_compared_by_position():
    old = {'sriov': {'notes': [{'text': 'vf0'}, {'text': 'vf1'}]}}
    new = {'sriov': {'notes': [{'text': 'vf0'}, {'text': 'vf9'}, {'text': 'vf2'}]}}

    assert diff_facts(old, new) == [
        {'path': 'sriov.notes[1].text', 'op': 'changed', 'old': 'vf1', 'new': 'vf9'},
        {'path': 'sriov.notes[2]', 'op': 'added', 'new': {'text': 'vf2'}},
    ]


def test_identity_values_that_repeat_fall_back_to_position():
    old = {'pools': [{'name': 'a', 'size': 1}, {'name': 'a', 'size': 2}]}
    new = {'pools': [{'name': 'a', 'size': 1}, {'name': 'a', 'size': 3}]}

    assert paths(diff_facts(old, new)) == ['pools[1].size']


def test_positions_sort_numerically():
    old = {'l': [{'v': i} for i in range(12)]}
    new = {'l': [{'v': -i} for i in range(12)]}

    assert paths(diff_facts(old, new)) == ['l[%d].v' % i for i in range(1, 12)]


@pytest.mark.parametrize('key, path', [
    ('x.y', 'a["x.y"]'),
    ('eth0[1]', 'a["eth0[1]"]'),
    ('with space', 'a["with space"]'),
    ('', 'a[""]'),
    ('sha-ni', 'a.sha-ni'),
    ('0', 'a.0'),
])
def test_keys_that_could_be_misread_are_quoted(key, path):
    assert paths(diff_facts({'a': {key: 1}}, {'a': {key: 2}})) == [path]


def test_a_quoted_key_at_the_top_has_no_leading_dot():
    assert paths(diff_facts({'x.y': 1}, {'x.y': 2})) == ['["x.y"]']


@pytest.mark.parametrize('name, selector', [
    ('default', '[name=default]'),
    ('0000:3b:00.0', '[name=0000:3b:00.0]'),
    ('0', '[name="0"]'),
    ('true', '[name="true"]'),
    ('a,b=c]', '[name="a,b=c]"]'),
])
def test_identity_values_that_could_be_misread_are_quoted(name, selector):
    old = {'pools': [{'name': name, 'size': 1}]}
    new = {'pools': [{'name': name, 'size': 2}]}

    assert paths(diff_facts(old, new)) == ['pools%s.size' % selector]


def test_numeric_identity_values_are_written_as_json():
    assert paths(diff_facts({'cells': [{'id': 0, 'mb': 1}]}, {'cells': [{'id': 0, 'mb': 2}]})) == ['cells[id=0].mb']


def test_collected_at_is_ignored_everywhere():
    old = cached()
    new = cached()
    old['libvirt_host_caps']['collected_at'] = '2024-05-01T10:00:00Z'
    new['libvirt_host_caps']['collected_at'] = '2024-05-08T10:00:00Z'
    new['libvirt_host_caps']['storage_info']['pools'][0]['collected_at'] = '2024-05-08T10:00:00Z'

    assert diff_facts(old, new) == []


def test_counters_and_derived_resources_are_left_out_by_default_and_compared_on_request():
    old = cached()
    new = cached()
    new['libvirt_host_caps']['memory_info']['free_mb'] = 100000
    new['libvirt_host_caps']['storage_info']['pools'][0]['available_gb'] = 700.0
    new['libvirt_host_caps']['resources']['MEMORY_MB']['used'] = 4096
    new['libvirt_host_caps']['resources']['MEMORY_MB']['reserved'] = 2048

    assert diff_facts(old, new) == []
    assert paths(diff_facts(old, new, ignore=['collected_at'])) == [
        'libvirt_host_caps.memory_info.free_mb',
        'libvirt_host_caps.resources.MEMORY_MB.reserved', 'libvirt_host_caps.resources.MEMORY_MB.used',
        'libvirt_host_caps.storage_info.pools[name=default].available_gb',
    ]


def test_a_path_in_ignore_leaves_out_that_place_only():
    old = cached()
    new = cached()
    new['libvirt_host_caps']['memory_info']['free_mb'] = 100000
    new['libvirt_host_caps']['storage_info']['pools'][1]['available_gb'] = 700.0

    assert paths(diff_facts(old, new, ignore=['collected_at', 'libvirt_host_caps.storage_info.pools[name=images].available_gb'])) == [
        'libvirt_host_caps.memory_info.free_mb',
    ]
    assert paths(diff_facts(old, new, ignore=['collected_at', 'libvirt_host_caps.memory_info.free_mb'])) == [
        'libvirt_host_caps.storage_info.pools[name=images].available_gb',
    ]


def test_configuration_next_to_counters_is_still_compared():
    old = cached()
    new = cached()
    new['libvirt_host_caps']['memory_info']['total_mb'] += 1024
    new['libvirt_host_caps']['storage_info']['pools'][0]['capacity_gb'] = 1830.0

    assert paths(diff_facts(old, new)) == [
        'libvirt_host_caps.memory_info.total_mb', 'libvirt_host_caps.storage_info.pools[name=default].capacity_gb',
    ]


def test_a_type_change_is_one_changed_entry_with_both_values():
    old = cached()
    new = cached()
    new['libvirt_host_caps']['network_info'] = None

    assert diff_facts(old, new) == [{
        'path': 'libvirt_host_caps.network_info', 'op': 'changed', 'old': old['libvirt_host_caps']['network_info'], 'new': None,
    }]


def test_true_and_one_are_different_values():
    assert diff_facts({'a': True, 'l': [1]}, {'a': 1, 'l': [True]}) == [
        {'path': 'a', 'op': 'changed', 'old': True, 'new': 1},
        {'path': 'l', 'op': 'removed', 'old': 1},
        {'path': 'l', 'op': 'added', 'new': True},
    ]


def test_no_old_facts_means_everything_is_added():
    new = cached()

    assert diff_facts(None, new, ignore=()) == [{'path': 'libvirt_host_caps', 'op': 'added', 'new': new['libvirt_host_caps']}]


def test_facts_that_are_not_a_mapping_are_refused():
    with pytest.raises(TypeError, match='new facts must be a mapping'):
        diff_facts({}, ['libvirt_host_caps'])
