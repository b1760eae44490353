# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report model (module_utils/report/fleet.py) on hosts built from the real
fixtures: capacity and use as placement counts them, traits, SR-IOV and GPU inventory,
stale and missing hosts, drift."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.placement import place_vms
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report.fleet import ReportInputError, build_fleet
from ansible_collections.virtumancer.hostcaps.tests.unit.report_fleet import fleet, host

NOW = '2026-12-03T20:00:00Z'


def by_name(model):
    return dict((entry['name'], entry) for entry in model['hosts'])


def test_capacity_use_and_utilisation_are_those_of_placement():
    hosts = fleet(8)
    hosts['hv0001']['hostcaps_reserved'] = {'MEMORY_MB': 4096, 'VCPU': 2}
    hosts['hv0002']['hostcaps_allocation_ratios'] = {'VCPU': 4.0, 'MEMORY_MB': 1.5}
    hosts['hv0003']['hostcaps_custom_resources'] = {'CUSTOM_NVME_SLOT': 4}

    model = build_fleet(hosts, now=NOW)
    placement = place_vms([], hosts=hosts)['hosts']

    checked = 0
    for name, entry in by_name(model).items():
        # Placement leaves out a class without capacity (PCPU); the report keeps it at 0.
        assert set(entry['resources']) >= set(placement[name]['resources']), name
        assert all(entry['resources'][r]['capacity'] == 0 for r in set(entry['resources']) - set(placement[name]['resources']))
        for resource, found in entry['resources'].items():
            if resource not in placement[name]['resources']:
                continue
            expected = placement[name]['resources'][resource]
            assert (found['capacity'], found['used']) == (expected['capacity'], expected['used']), (name, resource)
            if found['capacity']:
                assert found['utilisation'] == pytest.approx(expected['utilization'], abs=1e-4), (name, resource)
                checked += 1
    assert checked >= 30
    assert by_name(model)['hv0002']['resources']['VCPU']['capacity'] == 4 * by_name(model)['hv0002']['resources']['VCPU']['total']
    assert 'CUSTOM_NVME_SLOT' in model['classes'] and model['classes'][-1] == 'CUSTOM_NVME_SLOT'


def test_fleet_totals_add_up_the_hosts():
    model = build_fleet(fleet(8), now=NOW)

    for resource in model['classes']:
        hosts = [entry['resources'][resource] for entry in model['hosts'] if resource in entry['resources']]
        total = model['totals'][resource]
        assert total['capacity'] == sum(found['capacity'] for found in hosts)
        assert total['used'] == sum(found['used'] for found in hosts)
        assert total['hosts'] == len(hosts)
        assert total['utilisation'] == pytest.approx(float(total['used']) / total['capacity'])
    # Domains of 4 vCPUs on a nested host with 2 CPUs: more than it has.
    assert by_name(model)['hv0001']['resources']['VCPU']['utilisation'] == 2.0


def test_a_class_no_host_has_is_no_column():
    model = build_fleet(fleet(4), now=NOW)

    assert 'PCPU' not in model['classes']
    assert model['classes'][:3] == ['VCPU', 'MEMORY_MB', 'DISK_GB']


def test_traits_are_those_placement_matches_with_custom_traits_added():
    query = "contains(libvirt_host_caps.traits, 'HW_CPU_X86_AMD_SEV') || length(sriov.passthrough_devices || `[]`) > `0`"
    custom = [{'name': 'CUSTOM_SEV_OR_GPU', 'query': query}]

    hosts = by_name(build_fleet(fleet(4), now=NOW, custom_traits=custom))

    assert 'HW_CPU_X86_AMD_SEV' in hosts['hv0000']['traits'] and 'HW_CPU_X86_AMD_SEV' not in hosts['hv0002']['traits']
    assert 'HW_NIC_SRIOV' in hosts['hv0000']['traits']
    assert [name for name in sorted(hosts) if 'CUSTOM_SEV_OR_GPU' in hosts[name]['traits']] == ['hv0000', 'hv0001']


def test_sriov_inventory_lists_functions_vfs_and_gpus_by_host():
    model = build_fleet(fleet(4), now=NOW)

    functions = dict(((pf['host'], pf['address']), pf) for pf in model['physical_functions'])
    e810 = functions[('hv0000', '0000:3b:00.0')]
    assert (e810['name'], e810['max_vfs'], e810['vfs']) == ('Intel Corporation Ethernet Controller E810-C for SFP', 128, 4)
    # web01 holds two of the four VFs (a hostdev and an interface of type hostdev).
    assert e810['vfs_free'] == 2 and e810['vfs_assigned'] == ['web01']
    assert functions[('hv0002', '0000:5e:00.0')]['vfs'] == 0
    gpus = [(d['host'], d['name'], d['candidate']) for d in model['passthrough_devices'] if d['kind'] == 'gpu']
    assert gpus == [('hv0001', 'NVIDIA Corporation GA102 [GeForce RTX 3090]', None), ('hv0001', 'NVIDIA Corporation GA102GL [A10]', True)]
    assert model['summary']['gpus'] == 2 and model['summary']['gpus_candidate'] == 1
    assert by_name(model)['hv0003']['sriov'] is None


def test_hosts_without_facts_or_with_old_facts_are_listed_never_dropped():
    hosts = fleet(2)
    hosts['hv-old'] = host('sev', collected_at='2026-11-01T00:00:00Z')
    hosts['hv-null'] = None
    hosts['hv-empty'] = {'ansible_facts': {}}
    hosts['hv-bad'] = {'ansible_facts': {'libvirt_host_caps': {'schema_version': 1, 'host_info': ['not', 'a', 'mapping']}}}
    hosts['hv-badratio'] = dict(host('tdx'), hostcaps_allocation_ratios={'VCPU': -1})

    model = build_fleet(hosts, now=NOW, max_age='1d')
    found = by_name(model)

    assert sorted(found) == sorted(hosts)
    assert [(e['host'], e['state']) for e in model['summary']['attention']] == [
        ('hv-bad', 'malformed'), ('hv-badratio', 'malformed'), ('hv-empty', 'no_facts'), ('hv-null', 'no_facts'), ('hv-old', 'stale')]
    assert found['hv-old']['reason'] == 'facts collected 32d 20h ago, more than max_age 1d'
    assert 'host_info' in found['hv-bad']['reason']
    assert 'hostcaps_allocation_ratios[VCPU]' in found['hv-badratio']['reason']
    # A stale host still counts in the capacity; hosts without usable facts do not.
    assert model['totals']['VCPU']['hosts'] == 3
    assert (model['summary']['fresh'], model['summary']['stale'], model['summary']['without_facts'], model['summary']['malformed']) == (2, 1, 2, 2)


def test_without_max_age_no_host_is_stale():
    hosts = {'hv-old': host('sev', collected_at='2020-01-01T00:00:00Z')}

    assert build_fleet(hosts, now=NOW)['hosts'][0]['state'] == 'ok'
    assert build_fleet(hosts, now=NOW, max_age=0)['hosts'][0]['state'] == 'ok'
    assert build_fleet(hosts, now=NOW, max_age='3w')['hosts'][0]['state'] == 'stale'
    assert build_fleet(hosts, now=NOW, max_age=10 ** 9)['hosts'][0]['state'] == 'ok'


DRIFT = {
    'hv0000': [
        {'path': 'libvirt_host_caps.memory_info.total_mb', 'op': 'changed', 'old': 257430, 'new': 128715},
        {'path': 'libvirt_host_caps.traits', 'op': 'removed', 'old': 'HW_CPU_X86_AMD_SEV'},
        {'path': 'libvirt_host_caps.traits', 'op': 'added', 'new': 'CUSTOM_NEW'},
    ],
    'hv0001': [{'path': 'libvirt_host_caps', 'op': 'added', 'new': {'traits': []}}, {'path': 'sriov', 'op': 'added', 'new': {}}],
    'hv0002': [],
}


def test_drift_lists_changed_new_unchanged_and_unrecorded_hosts():
    drift = build_fleet(fleet(4), now=NOW, drift=DRIFT, drift_since='7d')['drift']

    assert drift['since'] == '2026-11-26T20:00:00Z'
    assert [(h['host'], h['new'], h['traits_added'], h['traits_removed']) for h in drift['hosts']] == [
        ('hv0000', False, ['CUSTOM_NEW'], ['HW_CPU_X86_AMD_SEV']), ('hv0001', True, [], [])]
    assert drift['hosts'][0]['changes'] == [DRIFT['hv0000'][0]]
    assert drift['hosts'][1]['changes'] == []  # a new host's facts are not repeated as changes
    assert drift['unchanged'] == ['hv0002'] and drift['not_recorded'] == ['hv0003']


@pytest.mark.parametrize('drift', [None, ''])
def test_no_drift_argument_means_no_drift_section(drift):
    model = build_fleet(fleet(1), now=NOW, drift=drift, drift_since='')
    assert model['drift'] is None and model['summary']['hosts_changed'] is None


@pytest.mark.parametrize('arguments, message', [
    ({'hosts': ['hv1']}, "hosts: expected a mapping of host name to that host's facts"),
    ({'drift': {}}, 'drift_since: the moment the drift is counted from is needed with drift'),
    ({'drift': {}, 'drift_since': 'last week'}, "drift_since: 'last week' is not a date, a time or a duration"),
    ({'drift': ['hv1'], 'drift_since': '7d'}, 'drift: expected a mapping of host name to its changes'),
    ({'drift': {'hv1': 'x'}, 'drift_since': '7d'}, "drift.'hv1': expected the list of changes"),
    ({'max_age': 'a day'}, "max_age: string 'a day' is not a duration"),
    ({'max_age': -5}, 'max_age: integer -5 is out of range'),
    ({'now': 'yesterday'}, "generated_at: 'yesterday' is not a time"),
    ({'custom_traits': [{'name': 'lower', 'query': 'x'}]}, "hardware_traits: custom trait 'lower' (query 'x'): the name must match"),
])
def test_wrong_arguments_are_named(arguments, message):
    arguments = dict(arguments)
    hosts = arguments.pop('hosts', {})
    with pytest.raises(ReportInputError) as failure:
        build_fleet(hosts, **arguments)
    assert message in str(failure.value)
