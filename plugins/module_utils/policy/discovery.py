# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""When a host's facts must be discovered again, and what a discovery run did.

The role ``discover`` asks ``discovery_due`` per host, and ``discovery_summary`` once,
with the results it registered. Ages are read as everywhere in the collection, by
``facts/freshness.py``: ``hostcaps_max_age`` means the same here as in the compliance
rules and the fleet report. Pure functions of plain data.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.freshness import (
    UTC, facts_age, parse_max_age, parse_time,
)

# The first paths of a host's changes that the summary keeps.
DEFAULT_CHANGE_PATHS = 5


def discovery_due(facts, max_age, force=False, now=None):
    """Whether a host's facts (its ``ansible_facts``, as loaded from the cache) must be
    discovered again, and why: ``{due, reason, age_seconds, max_age_seconds, collected_at}``
    with ``reason`` one of ``forced``, ``missing``, ``sriov missing``, ``unreadable
    collected_at``, ``stale`` or ``fresh``. A ``max_age`` of 0 is no limit: only hosts
    without facts are due. Raises ValueError for a ``max_age`` or ``now`` that is none."""
    max_age_seconds = parse_max_age(max_age)
    now = datetime.datetime.now(UTC) if now is None else parse_time(now, 'now')
    facts = facts if isinstance(facts, dict) else {}
    caps = facts.get('libvirt_host_caps')
    collected_at = caps.get('collected_at') if isinstance(caps, dict) else None
    age = facts_age(caps, now)
    # A host clock ahead of the controller's gives fresh facts, not a negative age.
    age = None if age is None else max(0, int(age))
    if force:
        reason = 'forced'
    elif not isinstance(caps, dict):
        reason = 'missing'
    elif not isinstance(facts.get('sriov'), dict):
        reason = 'sriov missing'
    elif age is None:
        reason = 'unreadable collected_at'
    elif max_age_seconds and age >= max_age_seconds:
        reason = 'stale'
    else:
        reason = 'fresh'
    return {'due': reason != 'fresh', 'reason': reason, 'age_seconds': age,
            'max_age_seconds': max_age_seconds, 'collected_at': collected_at}


def _failure(result):
    """``(status, message)`` of a registered module result that did not succeed, else None."""
    if not isinstance(result, dict) or result.get('skipped'):
        return None
    if result.get('unreachable'):
        return 'unreachable', _one_line(result.get('msg')) or 'unreachable'
    if result.get('failed'):
        return 'failed', _one_line(result.get('msg')) or 'failed'
    return None


def _one_line(text, limit=300):
    if not isinstance(text, str):
        return None
    text = ' '.join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + '...'


def _changes(versions, diff, paths):
    if not versions or versions.get('after') is None:
        return None
    before, after = versions.get('before'), versions['after']
    entry = {'version_before': before, 'version': after, 'first_version': not before}
    changed = bool(before) and after != before
    listed = diff if changed and isinstance(diff, list) else []
    entry.update({'count': len(listed), 'paths': []})
    for change in listed:
        path = change.get('path') if isinstance(change, dict) else None
        if path and path not in entry['paths']:
            entry['paths'].append(path)
    entry['paths'] = entry['paths'][:paths]
    return entry


def discovery_summary(hosts, max_paths=DEFAULT_CHANGE_PATHS, check_mode=False):
    """What a discovery run did, from ``{host: {due, caps, sriov, versions, diff}}``: the
    ``discovery_due`` answer, the registered results of libvirt_host_caps and sriov_facts,
    the host's latest factdb version numbers before and after (``{before, after}``, or
    None without the factdb cache) and the factdb diff between them.

    Returns ``{hosts: {host: {status, reason, message, age_seconds, changes}}, discovered,
    fresh, failed, unreachable, problems: [{host, status, message}], changed: [...],
    counts, check_mode}``. ``status`` is ``discovered``, ``fresh`` (not due, not asked),
    ``failed`` or ``unreachable``; a host whose SR-IOV discovery alone failed is ``failed``
    with that message, its libvirt facts having been refreshed."""
    if not isinstance(hosts, dict):
        raise ValueError('hosts: expected a mapping of host name to its results, got a %s' % type(hosts).__name__)
    summary = {'hosts': {}, 'discovered': [], 'fresh': [], 'failed': [], 'unreachable': [], 'problems': [],
               'changed': [], 'check_mode': bool(check_mode)}
    for host in sorted(hosts, key=str):
        data = hosts[host] if isinstance(hosts[host], dict) else {}
        due = data.get('due') if isinstance(data.get('due'), dict) else {}
        entry = {'reason': due.get('reason'), 'age_seconds': due.get('age_seconds'), 'message': None, 'changes': None}
        failure = _failure(data.get('caps'))
        if failure is None:
            sriov = _failure(data.get('sriov'))
            failure = (sriov[0], 'sriov_facts: %s' % sriov[1]) if sriov else None
        if not due.get('due'):
            entry['status'] = 'fresh'
        elif failure:
            entry['status'], entry['message'] = failure
            summary['problems'].append({'host': host, 'status': failure[0], 'message': failure[1]})
        else:
            entry['status'] = 'discovered'
            entry['changes'] = _changes(data.get('versions'), data.get('diff'), max_paths)
            if entry['changes'] and entry['changes']['count']:
                summary['changed'].append(host)
        summary[entry['status']].append(host)
        summary['hosts'][host] = entry
    summary['counts'] = dict((key, len(summary[key])) for key in ('discovered', 'fresh', 'failed', 'unreachable', 'changed'))
    summary['counts']['hosts'] = len(summary['hosts'])
    return summary
