# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""When a host's facts must be discovered again, and what a discovery run did.

``parse_max_age`` reads ``hostcaps_max_age`` (seconds, or ``1d``, ``12h``, ``30m``,
``45s``, ``1w``); ``facts_age_seconds`` reads ``libvirt_host_caps.collected_at``. The
role ``discover`` asks ``discovery_due`` per host, and ``discovery_summary`` once, with
the results it registered. Pure functions of plain data: the compliance rules' maximum
age of the facts uses the same two readers.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import math
import re

UNITS = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}
_DURATION = re.compile(r'^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$', re.IGNORECASE)
# What libvirt_host_caps writes: UTC, second precision.
_COLLECTED_AT = re.compile(r'^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.\d+)?(Z|[+-]00:?00)?$')
# The first paths of a host's changes that the summary keeps.
DEFAULT_CHANGE_PATHS = 5


class MaxAgeError(ValueError):
    """A maximum age that is no duration."""


def parse_max_age(value, name='hostcaps_max_age'):
    """Seconds (an int) of a maximum age: a number of seconds (``86400``, ``'86400'``) or a
    number with one unit, ``s``, ``m``, ``h``, ``d`` or ``w`` (``'1d'``, ``'12h'``,
    ``'1.5h'``). Zero means the facts are never fresh enough."""
    if isinstance(value, bool):
        raise MaxAgeError('%s: expected seconds or a duration such as 1d, 12h or 30m, got the boolean %s'
                          % (name, str(value).lower()))
    if isinstance(value, (int, float)):
        seconds = value
    elif isinstance(value, str):
        found = _DURATION.match(value)
        if not found:
            raise MaxAgeError('%s: %r is no duration; write seconds (86400) or a number with one unit of s, m, h, d, w '
                              '(1d, 12h, 30m)' % (name, value[:40]))
        seconds = float(found.group(1)) * UNITS[(found.group(2) or 's').lower()]
    else:
        raise MaxAgeError('%s: expected seconds or a duration such as 1d, 12h or 30m, got a %s'
                          % (name, type(value).__name__))
    if math.isnan(seconds) or seconds < 0:
        raise MaxAgeError('%s: %r is negative; write 0 to discover every host on every run' % (name, value))
    if seconds > 100 * 365 * 86400:
        raise MaxAgeError('%s: %r is more than a hundred years' % (name, value))
    return int(seconds)


def parse_collected_at(text):
    """The UTC datetime of a ``collected_at`` string, or None when it is not one."""
    if not isinstance(text, str):
        return None
    found = _COLLECTED_AT.match(text.strip())
    if not found:
        return None
    try:
        return datetime.datetime(*[int(part) for part in found.groups()[:6]])
    except ValueError:
        return None


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)


def facts_age_seconds(collected_at, now=None):
    """Seconds since ``collected_at`` (never below 0: a clock ahead of the controller's
    gives fresh facts, not negative ages), or None when it is missing or unreadable."""
    when = parse_collected_at(collected_at)
    if when is None:
        return None
    return max(0, int(((now or utc_now()) - when).total_seconds()))


def _now(now):
    if now is None:
        return utc_now()
    if isinstance(now, datetime.datetime):
        return now
    parsed = parse_collected_at(now)
    if parsed is None:
        raise MaxAgeError('now: %r is no UTC time such as 2025-01-31T12:00:00Z' % (now,))
    return parsed


def discovery_due(facts, max_age, force=False, now=None):
    """Whether a host's facts (its ``ansible_facts``, as loaded from the cache) must be
    discovered again, and why: ``{due, reason, age_seconds, max_age_seconds, collected_at}``
    with ``reason`` one of ``forced``, ``missing``, ``sriov missing``, ``unreadable
    collected_at``, ``stale`` or ``fresh``."""
    max_age_seconds = parse_max_age(max_age)
    facts = facts if isinstance(facts, dict) else {}
    caps = facts.get('libvirt_host_caps')
    collected_at = caps.get('collected_at') if isinstance(caps, dict) else None
    age = facts_age_seconds(collected_at, _now(now)) if collected_at is not None else None
    if force:
        reason = 'forced'
    elif not isinstance(caps, dict):
        reason = 'missing'
    elif not isinstance(facts.get('sriov'), dict):
        reason = 'sriov missing'
    elif age is None:
        reason = 'unreadable collected_at'
    elif age >= max_age_seconds:
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
