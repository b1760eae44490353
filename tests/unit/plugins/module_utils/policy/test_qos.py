# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A QoS policy in libvirt's names (qos_tuning, tuning_parameters), what vm_qos plans
from it (desired_settings, plan_changes, change_parameters), and the interface checks
of network bandwidth (interface_bandwidth_problems)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.network import parse_network
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy import qos
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_catalog import catalog_problems

GOLD = {
    'name': 'gold',
    'cpu': {'shares': 2048, 'period': 100000, 'quota': -1},
    'memory': {'hard_limit_mb': 8192, 'soft_limit_mb': 4096, 'swap_hard_limit_mb': 8192},
    'blkio_weight': 800,
    'disk': {'total_bytes_sec': 0, 'read_bytes_sec': 104857600, 'total_iops_sec': 2000, 'total_iops_sec_max': 4000,
             'total_iops_sec_max_length': 30, 'group_name': 'tenant-a'},
    'network': {'inbound': {'average': 125000, 'peak': 250000, 'burst': 1024, 'floor': 1000}, 'outbound': {'average': 62500}},
}

# What libvirt 9.0.0's getters returned for a running q35 domain on qemu:///system (cgroup
# v1) before any tuning: schedulerParametersFlags, memoryParameters, blkioParameters,
# blockIoTune('vda') and interfaceParameters(<mac>), with VIR_DOMAIN_AFFECT_LIVE and with
# VIR_DOMAIN_AFFECT_CONFIG.
UNLIMITED = 9007199254740991
IOTUNE_ZERO = dict((key, 0) for key in qos.IOTUNE_NUMBERS)
GETTERS = {
    'live': {
        'cputune': {'cpu_shares': 1024, 'vcpu_period': 100000, 'vcpu_quota': -1, 'emulator_period': 100000, 'emulator_quota': -1,
                    'global_period': 100000, 'global_quota': -1, 'iothread_period': 100000, 'iothread_quota': -1},
        'memtune': {'hard_limit': UNLIMITED, 'soft_limit': UNLIMITED, 'swap_hard_limit': UNLIMITED},
        'blkiotune': {'weight': 100, 'device_weight': '', 'device_read_iops_sec': '', 'device_write_iops_sec': '',
                      'device_read_bytes_sec': '', 'device_write_bytes_sec': ''},
        'iotune': dict(IOTUNE_ZERO, group_name='/machine/peripheral/virtio-disk0/virtio-backend'),
        'bandwidth': {'inbound.average': 0, 'inbound.peak': 0, 'inbound.burst': 0, 'inbound.floor': 0,
                      'outbound.average': 0, 'outbound.peak': 0, 'outbound.burst': 0},
    },
    'config': {
        'cputune': {'cpu_shares': 0, 'vcpu_period': 0, 'vcpu_quota': 0, 'emulator_period': 0, 'emulator_quota': 0,
                    'global_period': 0, 'global_quota': 0, 'iothread_period': 0, 'iothread_quota': 0},
        'memtune': {'hard_limit': UNLIMITED, 'soft_limit': UNLIMITED, 'swap_hard_limit': UNLIMITED},
        'blkiotune': {'weight': 0, 'device_weight': '', 'device_read_iops_sec': '', 'device_write_iops_sec': '',
                      'device_read_bytes_sec': '', 'device_write_bytes_sec': ''},
        'iotune': dict(IOTUNE_ZERO, group_name=''),
        'bandwidth': {'inbound.average': 0, 'inbound.peak': 0, 'inbound.burst': 0, 'inbound.floor': 0,
                      'outbound.average': 0, 'outbound.peak': 0, 'outbound.burst': 0},
    },
}
DEVICES = {'iotune': 'vda', 'bandwidth': '52:54:00:51:05:01'}


def targets(getters=None):
    """Every (scope, section, device) of one disk and one interface, read from ``getters``."""
    getters = getters or GETTERS
    return [{'scope': scope, 'section': section, 'device': DEVICES.get(section),
             'current': qos.settings_from_parameters(section, getters[scope][section])}
            for section in qos.DOMAIN_SECTIONS + qos.DEVICE_SECTIONS for scope in qos.SCOPES]


def after_applying(changes, getters=None):
    """``getters`` as libvirt would return them once ``changes`` are written."""
    result = dict((scope, dict((section, dict(values)) for section, values in sections.items()))
                  for scope, sections in (getters or GETTERS).items())
    for change in changes:
        names = qos.TYPED_NAMES[change['section']]
        for key, value in change['after'].items():
            result[change['scope']][change['section']][names[key]] = value
    return result


def test_gold_is_a_valid_catalog_policy_with_one_warning():
    assert [problem['code'] for problem in catalog_problems({'qos_policies': [GOLD]})] == ['hard_limit_advised_against']


# -- qos_tuning: the domain XML's names and units --------------------------------------


def test_tuning_in_libvirt_element_names_and_units():
    assert qos.qos_tuning(GOLD) == {
        'cputune': {'shares': 2048, 'period': 100000, 'quota': -1},
        'memtune': {'hard_limit': 8388608, 'soft_limit': 4194304, 'swap_hard_limit': 8388608},
        'blkiotune': {'weight': 800},
        'iotune': {'read_bytes_sec': 104857600, 'total_iops_sec': 2000, 'total_iops_sec_max': 4000,
                   'total_iops_sec_max_length': 30, 'group_name': 'tenant-a'},
        'bandwidth': {'inbound': {'average': 125000, 'peak': 250000, 'burst': 1024, 'floor': 1000},
                      'outbound': {'average': 62500}},
    }


def test_tuning_has_only_the_sections_a_policy_sets():
    assert qos.qos_tuning({'name': 'cpu-only', 'cpu': {'shares': 512}}) == {'cputune': {'shares': 512}}


@pytest.mark.parametrize('policy', [None, {}, {'name': 'empty'}, {'name': 'nulls', 'cpu': None, 'disk': {'total_iops_sec': None}}],
                         ids=['none', 'empty', 'name_only', 'null_values'])
def test_tuning_of_a_policy_that_sets_nothing_is_empty(policy):
    assert qos.qos_tuning(policy) == {}


def test_tuning_leaves_out_iotune_zero_which_is_no_limit():
    # libvirt's schema refuses <total_bytes_sec> beside <read_bytes_sec> whatever their values.
    assert qos.qos_tuning({'disk': {'total_bytes_sec': 0, 'read_bytes_sec': 5}}) == {'iotune': {'read_bytes_sec': 5}}


def test_tuning_parameters_are_the_typed_parameter_names():
    assert qos.tuning_parameters(qos.qos_tuning(GOLD)) == {
        'scheduler': {'cpu_shares': 2048, 'vcpu_period': 100000, 'vcpu_quota': -1},
        'memory': {'hard_limit': 8388608, 'soft_limit': 4194304, 'swap_hard_limit': 8388608},
        'blkio': {'weight': 800},
        'block': {'read_bytes_sec': 104857600, 'total_iops_sec': 2000, 'total_iops_sec_max': 4000,
                  'total_iops_sec_max_length': 30, 'group_name': 'tenant-a'},
        'interface': {'inbound.average': 125000, 'inbound.peak': 250000, 'inbound.burst': 1024, 'inbound.floor': 1000,
                      'outbound.average': 62500},
    }


def test_tuning_parameters_of_nothing_are_empty():
    assert qos.tuning_parameters({}) == {}
    assert qos.tuning_parameters(None) == {}


def test_libvirt_constants_have_the_typed_names_used():
    libvirt = pytest.importorskip('libvirt')
    assert (libvirt.VIR_DOMAIN_SCHEDULER_CPU_SHARES, libvirt.VIR_DOMAIN_SCHEDULER_VCPU_PERIOD,
            libvirt.VIR_DOMAIN_SCHEDULER_VCPU_QUOTA) == ('cpu_shares', 'vcpu_period', 'vcpu_quota')
    assert (libvirt.VIR_DOMAIN_MEMORY_HARD_LIMIT, libvirt.VIR_DOMAIN_MEMORY_SOFT_LIMIT,
            libvirt.VIR_DOMAIN_MEMORY_SWAP_HARD_LIMIT, libvirt.VIR_DOMAIN_BLKIO_WEIGHT) == (
        'hard_limit', 'soft_limit', 'swap_hard_limit', 'weight')
    iotune = set(getattr(libvirt, name) for name in dir(libvirt) if name.startswith('VIR_DOMAIN_BLOCK_IOTUNE_'))
    assert iotune == set(qos.IOTUNE_FIELDS)
    bandwidth = set(getattr(libvirt, name) for name in dir(libvirt) if name.startswith('VIR_DOMAIN_BANDWIDTH_'))
    assert bandwidth == set(qos.TYPED_NAMES['bandwidth'].values())


# -- desired_settings: what vm_qos makes true -----------------------------------------


def test_desired_iotune_is_the_whole_element_with_zero_for_no_limit():
    desired = qos.desired_settings(qos.qos_tuning({'disk': {'total_iops_sec': 100}}))
    assert desired == {'iotune': dict(IOTUNE_ZERO, total_iops_sec=100)}


def test_desired_iotune_group_name_only_when_the_policy_names_one():
    desired = qos.desired_settings(qos.qos_tuning(GOLD))
    assert desired['iotune']['group_name'] == 'tenant-a'
    assert 'group_name' not in qos.desired_settings(qos.qos_tuning({'disk': {'total_iops_sec': 100}}))['iotune']


def test_desired_bandwidth_sets_each_given_direction_whole():
    desired = qos.desired_settings(qos.qos_tuning({'network': {'outbound': {'average': 500}}}))
    assert desired == {'bandwidth': {'outbound.average': 500, 'outbound.peak': 0, 'outbound.burst': 0}}


def test_desired_domain_sections_only_the_keys_given():
    desired = qos.desired_settings(qos.qos_tuning({'cpu': {'quota': 50000}, 'memory': {'soft_limit_mb': 1}}))
    assert desired == {'cputune': {'quota': 50000}, 'memtune': {'soft_limit': 1024}}


def test_settings_from_parameters_keep_what_a_policy_sets():
    assert qos.settings_from_parameters('cputune', GETTERS['live']['cputune']) == {'shares': 1024, 'period': 100000, 'quota': -1}
    assert qos.settings_from_parameters('blkiotune', GETTERS['config']['blkiotune']) == {'weight': 0}
    assert qos.settings_from_parameters('memtune', None) == {}


# -- plan_changes ---------------------------------------------------------------------


def test_plan_of_gold_on_an_untuned_domain_changes_every_scope_and_device():
    changes = qos.plan_changes(qos.desired_settings(qos.qos_tuning(GOLD)), targets())
    assert [(change['scope'], change['section'], change['device']) for change in changes] == [
        (scope, section, DEVICES.get(section)) for section in qos.DOMAIN_SECTIONS + qos.DEVICE_SECTIONS for scope in qos.SCOPES]


def test_plan_holds_only_the_differing_values():
    changes = qos.plan_changes(qos.desired_settings(qos.qos_tuning(GOLD)), targets())
    live_cpu = changes[0]
    # The live period (100000) and quota (-1) already are the policy's.
    assert live_cpu == {'scope': 'live', 'section': 'cputune', 'device': None, 'before': {'shares': 1024}, 'after': {'shares': 2048}}
    config_cpu = changes[1]
    assert config_cpu['before'] == {'shares': 0, 'period': 0, 'quota': 0}


def test_plan_after_applying_it_is_empty():
    desired = qos.desired_settings(qos.qos_tuning(GOLD))
    changes = qos.plan_changes(desired, targets())
    assert qos.plan_changes(desired, targets(after_applying(changes))) == []


def test_plan_resets_an_iotune_limit_the_policy_leaves_out():
    getters = after_applying([{'scope': 'live', 'section': 'iotune', 'device': 'vda', 'after': {'read_iops_sec': 300}}])
    changes = qos.plan_changes(qos.desired_settings(qos.qos_tuning({'disk': {'total_bytes_sec': 5}})), targets(getters))
    live = [change for change in changes if change['scope'] == 'live'][0]
    assert live['before'] == {'read_iops_sec': 300, 'total_bytes_sec': 0}
    assert live['after'] == {'read_iops_sec': 0, 'total_bytes_sec': 5}


def test_plan_ignores_qemus_own_group_name_when_the_policy_has_none():
    changes = qos.plan_changes(qos.desired_settings(qos.qos_tuning({'disk': {'total_iops_sec': 0}})), targets())
    assert changes == []


def test_plan_of_an_empty_policy_is_empty():
    assert qos.plan_changes(qos.desired_settings(qos.qos_tuning({})), targets()) == []


# -- change_parameters: one setter call per change ------------------------------------


def change_for(policy, scope, section):
    desired = qos.desired_settings(qos.qos_tuning(policy))
    change = [change for change in qos.plan_changes(desired, targets()) if (change['scope'], change['section']) == (scope, section)][0]
    return qos.change_parameters(change, desired)


def test_domain_wide_call_sends_the_differing_values_in_typed_names():
    assert change_for(GOLD, 'live', 'cputune') == {'cpu_shares': 2048}
    assert change_for(GOLD, 'config', 'cputune') == {'cpu_shares': 2048, 'vcpu_period': 100000, 'vcpu_quota': -1}
    assert change_for(GOLD, 'live', 'blkiotune') == {'weight': 800}


def test_iotune_call_sends_the_whole_element():
    sent = change_for(GOLD, 'live', 'iotune')
    assert sorted(sent) == sorted(qos.IOTUNE_FIELDS)
    assert (sent['total_iops_sec_max'], sent['write_bytes_sec'], sent['group_name']) == (4000, 0, 'tenant-a')


def test_bandwidth_call_sends_each_differing_direction_whole():
    sent = change_for({'network': {'inbound': {'average': 10}, 'outbound': {'average': 20}}}, 'config', 'bandwidth')
    assert sent == {'inbound.average': 10, 'inbound.peak': 0, 'inbound.burst': 0, 'inbound.floor': 0,
                    'outbound.average': 20, 'outbound.peak': 0, 'outbound.burst': 0}
    change = {'scope': 'live', 'section': 'bandwidth', 'device': 'm', 'before': {'outbound.average': 0}, 'after': {'outbound.average': 20}}
    desired = qos.desired_settings(qos.qos_tuning({'network': {'inbound': {'average': 10}, 'outbound': {'average': 20}}}))
    assert qos.change_parameters(change, desired) == {'outbound.average': 20, 'outbound.peak': 0, 'outbound.burst': 0}


# -- messages and diff ----------------------------------------------------------------


def test_describe_change_names_section_device_scope_and_values():
    change = {'scope': 'config', 'section': 'iotune', 'device': 'vda', 'before': {'total_iops_sec': 0}, 'after': {'total_iops_sec': 1000}}
    assert qos.describe_change(change) == 'iotune of disk vda (config): total_iops_sec 0 -> 1000'
    change = {'scope': 'live', 'section': 'cputune', 'device': None, 'before': {'shares': 1024}, 'after': {'shares': 2048}}
    assert qos.describe_change(change) == 'cputune (live): shares 1024 -> 2048'


def test_diff_groups_values_by_scope_section_and_device():
    changes = qos.plan_changes(qos.desired_settings(qos.qos_tuning({'cpu': {'shares': 4096}, 'disk': {'total_iops_sec': 9}})), targets())
    diff = qos.diff_of_changes(changes)
    assert diff['before']['live']['cputune'] == {'shares': 1024}
    assert diff['after']['config']['cputune'] == {'shares': 4096}
    assert diff['before']['config']['iotune'] == {'vda': {'total_iops_sec': 0}}
    assert diff['after']['live']['iotune'] == {'vda': {'total_iops_sec': 9}}


def test_diff_of_no_change_is_empty_on_both_sides():
    assert qos.diff_of_changes([]) == {'before': {}, 'after': {}}


# -- interface_bandwidth_problems -----------------------------------------------------


def networks(fixture_xml, *extra):
    """The host's networks as its facts hold them: the captured default NAT network and
    ``extra`` ones, given as (name, forward mode)."""
    found = [parse_network(fixture_xml('debian12-default-nat.network.xml'))]
    return found + [{'name': name, 'forward_mode': mode} for name, mode in extra]


def codes(policy, interfaces, host_networks):
    return [(problem['field'], problem['code']) for problem in qos.interface_bandwidth_problems(policy, interfaces, host_networks, 'gold')]


def test_captured_default_network_is_nat(fixture_xml):
    assert networks(fixture_xml)[0]['forward_mode'] == 'nat'


def test_floor_on_a_nat_network_fits(fixture_xml):
    assert codes(GOLD, [{'network': 'default', 'model': 'virtio'}], networks(fixture_xml)) == []


@pytest.mark.parametrize('mode', ['route', 'open', 'isolated'])
def test_floor_on_other_routed_networks_fits(fixture_xml, mode):
    assert codes(GOLD, [{'network': 'lan'}], networks(fixture_xml, ('lan', mode))) == []


@pytest.mark.parametrize('mode', ['bridge', 'private', 'vepa', 'passthrough'])
def test_floor_on_a_network_without_one_shaping_point_is_an_error(fixture_xml, mode):
    assert codes(GOLD, [{'network': 'lan'}], networks(fixture_xml, ('lan', mode))) == [('interfaces[0]', 'floor_forward_mode')]


def test_floor_needs_a_type_network_interface(fixture_xml):
    problems = qos.interface_bandwidth_problems(GOLD, [{'type': 'bridge', 'name': 'br-uplink'}], networks(fixture_xml), 'gold')
    assert [(problem['field'], problem['code']) for problem in problems] == [('br-uplink', 'floor_needs_network')]
    assert "interface br-uplink is of type 'bridge'" in problems[0]['message']
    assert "QoS policy 'gold' (1000 KB/s)" in problems[0]['message']


def test_floor_on_a_network_the_host_lacks_is_an_error(fixture_xml):
    problems = qos.interface_bandwidth_problems(GOLD, [{'network': 'storage'}], networks(fixture_xml), 'gold')
    assert [problem['code'] for problem in problems] == ['unknown_network']
    assert "the host has no network 'storage'" in problems[0]['message']


def test_floor_with_unknown_networks_cannot_be_confirmed():
    assert codes(GOLD, [{'network': 'default'}], None) == [('interfaces[0]', 'unknown_network')]


def test_bandwidth_on_a_hostdev_interface_is_an_error(fixture_xml):
    problems = qos.interface_bandwidth_problems(GOLD, [{'network': 'default'}, {'type': 'hostdev', 'name': 'vf0'}], networks(fixture_xml), 'gold')
    assert [(problem['field'], problem['code'], problem['severity']) for problem in problems] == [('vf0', 'bandwidth_on_hostdev', 'error')]
    assert 'vf0 is a hostdev interface' in problems[0]['message']


def test_bandwidth_on_a_network_of_vfs_is_an_error(fixture_xml):
    no_floor = {'network': {'outbound': {'average': 1000}}}
    assert codes(no_floor, [{'network': 'vfpool'}], networks(fixture_xml, ('vfpool', 'hostdev'))) == [('interfaces[0]', 'bandwidth_on_hostdev')]


def test_bandwidth_without_floor_fits_any_shaped_interface():
    no_floor = {'network': {'inbound': {'average': 1000}}}
    interfaces = [{'type': 'bridge'}, {'type': 'direct'}, {'type': 'ethernet'}, {'network': 'anything'}]
    assert codes(no_floor, interfaces, None) == []


def test_bandwidth_on_a_user_interface_is_an_error():
    assert codes({'network': {'outbound': {'average': 1}}}, [{'type': 'user'}], None) == [('interfaces[0]', 'bandwidth_unsupported_type')]


@pytest.mark.parametrize('policy', [None, {}, {'cpu': {'shares': 2}}, {'network': {}}], ids=['none', 'empty', 'cpu_only', 'empty_network'])
def test_policy_without_bandwidth_fits_even_a_hostdev(policy):
    assert qos.interface_bandwidth_problems(policy, [{'type': 'hostdev'}], None) == []


def test_problems_name_the_policy_only_when_named():
    message = qos.interface_bandwidth_problems(GOLD, [{'type': 'hostdev'}], None)[0]['message']
    assert 'the QoS policy applies to' in message
