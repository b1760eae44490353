# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""When the role discover asks a host again (hostcaps_max_age), and its summary."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.discovery import (
    discovery_due, discovery_summary,
)

NOW = '2025-01-31T12:00:00Z'


def facts(collected_at='2025-01-31T00:00:00Z', sriov=True):
    found = {'libvirt_host_caps': {'collected_at': collected_at, 'schema_version': 1}}
    if sriov:
        found['sriov'] = {'summary': {}}
    return found


@pytest.mark.parametrize('value', ['1 day', -5, True])
def test_a_max_age_that_is_no_duration_is_refused_naming_it(value):
    with pytest.raises(ValueError, match='hostcaps_max_age: '):
        discovery_due(facts(), value, now=NOW)


@pytest.mark.parametrize('host_facts, max_age, force, reason', [
    (facts(), '1d', False, 'fresh'),
    (facts(), '12h', False, 'stale'),
    (facts(), '11h', False, 'stale'),
    (facts(), '1d', True, 'forced'),
    ({}, '1d', False, 'missing'),
    (None, '1d', False, 'missing'),
    (facts(sriov=False), '1d', False, 'sriov missing'),
    (facts('yesterday'), '1d', False, 'unreadable collected_at'),
    # A host clock ahead of the controller's: fresh, not a negative age.
    (facts('2025-02-01T00:00:00Z'), '1h', False, 'fresh'),
    # 0 is no limit, as in the compliance rules and the fleet report.
    (facts(), 0, False, 'fresh'),
    ({}, 0, False, 'missing'),
])
def test_which_hosts_are_due(host_facts, max_age, force, reason):
    answer = discovery_due(host_facts, max_age, force=force, now=NOW)
    assert answer['reason'] == reason
    assert answer['due'] is (reason != 'fresh')


def test_the_answer_says_the_age_and_the_limit():
    assert discovery_due(facts(), '1d', now=NOW) == {
        'due': False, 'reason': 'fresh', 'age_seconds': 43200, 'max_age_seconds': 86400, 'collected_at': '2025-01-31T00:00:00Z'}


DUE = {'due': True, 'reason': 'stale', 'age_seconds': 100}
OK = {'changed': False, 'failed': False}


def test_the_summary_sorts_hosts_by_what_happened():
    summary = discovery_summary({
        'hv1': {'due': DUE, 'caps': OK, 'sriov': OK, 'versions': {'before': 3, 'after': 4},
                'diff': [{'path': 'libvirt_host_caps.host_info.memory_mb', 'op': 'changed'},
                         {'path': 'libvirt_host_caps.traits', 'op': 'added'},
                         {'path': 'libvirt_host_caps.traits', 'op': 'removed'}]},
        'hv2': {'due': {'due': False, 'reason': 'fresh'}, 'caps': {'skipped': True}, 'sriov': {'skipped': True}},
        'hv3': {'due': DUE, 'caps': {'failed': True, 'msg': 'cannot connect\n to libvirt'}, 'sriov': {'skipped': True}},
        'hv4': {'due': DUE, 'caps': {'unreachable': True, 'msg': 'ssh: connect refused'}, 'sriov': {'skipped': True}},
        'hv5': {'due': DUE, 'caps': OK, 'sriov': {'failed': True, 'msg': 'no nodedev'}},
        'hv6': {'due': DUE, 'caps': OK, 'sriov': OK, 'versions': {'before': 0, 'after': 1}, 'diff': []},
        'hv7': {'due': DUE, 'caps': OK, 'sriov': OK, 'versions': {'before': 2, 'after': 2}, 'diff': []},
    }, max_paths=1)
    assert (summary['discovered'], summary['fresh'], summary['failed'], summary['unreachable'], summary['changed']) == (
        ['hv1', 'hv6', 'hv7'], ['hv2'], ['hv3', 'hv5'], ['hv4'], ['hv1'])
    assert summary['problems'] == [
        {'host': 'hv3', 'status': 'failed', 'message': 'cannot connect to libvirt'},
        {'host': 'hv4', 'status': 'unreachable', 'message': 'ssh: connect refused'},
        {'host': 'hv5', 'status': 'failed', 'message': 'sriov_facts: no nodedev'},
    ]
    assert summary['hosts']['hv1']['changes'] == {'version_before': 3, 'version': 4, 'first_version': False, 'count': 3,
                                                  'paths': ['libvirt_host_caps.host_info.memory_mb']}
    assert summary['hosts']['hv6']['changes']['first_version'] is True
    assert summary['hosts']['hv7']['changes']['count'] == 0
    assert summary['counts'] == {'hosts': 7, 'discovered': 3, 'fresh': 1, 'failed': 2, 'unreachable': 1, 'changed': 1}


def test_without_factdb_history_there_are_no_changes():
    summary = discovery_summary({'hv1': {'due': DUE, 'caps': OK, 'sriov': OK, 'versions': None, 'diff': []}})
    assert summary['hosts']['hv1']['changes'] is None and summary['changed'] == []


def test_a_summary_of_no_mapping_is_refused():
    with pytest.raises(ValueError, match='expected a mapping'):
        discovery_summary(['hv1'])
