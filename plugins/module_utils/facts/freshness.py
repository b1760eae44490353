# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How old a host's facts are: ``hostcaps_max_age`` as seconds, ``collected_at`` as a
time, and the age between them. The roles that decide on fact age (compliance, discover)
read ``hostcaps_max_age`` through ``parse_max_age`` so that ``1d``, ``12h`` and ``86400``
mean the same thing everywhere."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import describe

UTC = datetime.timezone.utc
UNITS = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}
_AGE_RE = re.compile(r'^\s*([0-9]+)\s*([smhdw]?)\s*$')
# The longest age taken: 100 years, so that a typo of many digits is refused, not
# turned into a date beyond what datetime holds.
MAX_AGE_SECONDS = 100 * 365 * 86400


def parse_max_age(value, name='hostcaps_max_age'):
    """``value`` in seconds: a whole number of seconds (int or digits) or a number with a
    unit ``s``, ``m``, ``h``, ``d`` or ``w`` (``'30m'``, ``'12h'``, ``'1d'``). ``0`` means
    "no limit" and gives 0. Raises ValueError naming ``name``, the value and the fix."""
    if isinstance(value, bool) or value is None:
        raise ValueError('%s: expected seconds or a duration such as 1d, 12h or 30m, got %s' % (name, describe(value)))
    if isinstance(value, int):
        seconds = value
    else:
        found = _AGE_RE.match(value) if isinstance(value, str) else None
        if not found:
            raise ValueError('%s: %s is not a duration; write whole seconds (86400) or a number with one unit of s, m, '
                             'h, d or w (1d, 12h, 30m)' % (name, describe(value)))
        seconds = int(found.group(1)) * UNITS[found.group(2) or 's']
    if seconds < 0 or seconds > MAX_AGE_SECONDS:
        raise ValueError('%s: %s is out of range; give 0 (no limit) up to %d seconds (100 years)'
                         % (name, describe(value), MAX_AGE_SECONDS))
    return seconds


def format_age(seconds):
    """``1d 2h``, ``12h``, ``45m``, ``30s``: the two largest units of a duration."""
    seconds = int(seconds)
    if seconds < 0:
        return '-' + format_age(-seconds)
    parts = []
    for unit, size in (('d', 86400), ('h', 3600), ('m', 60), ('s', 1)):
        if seconds >= size or (unit == 's' and not parts):
            parts.append('%d%s' % (seconds // size, unit))
            seconds %= size
        if len(parts) == 2:
            break
    return ' '.join(parts)


def parse_time(value, name='now'):
    """An aware UTC datetime from a datetime (naive ones are taken as UTC), a date, or an
    ISO 8601 text (``2026-12-03T20:00:00Z``). Raises ValueError."""
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, datetime.date):
        return datetime.datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(('Z', 'z')):
            text = text[:-1] + '+00:00'
        try:
            return parse_time(datetime.datetime.fromisoformat(text), name)
        except ValueError:
            pass
    raise ValueError('%s: %s is not a time; write it as ISO 8601 UTC, e.g. 2026-12-03T20:00:00Z' % (name, describe(value)))


def collected_time(facts):
    """The ``collected_at`` of ``libvirt_host_caps`` facts as a datetime, or None when it is
    missing or not a time."""
    value = facts.get('collected_at') if isinstance(facts, dict) else None
    if not isinstance(value, str):
        return None
    try:
        return parse_time(value)
    except ValueError:
        return None


def facts_age(facts, now):
    """Seconds since the facts were collected (negative when they claim to come from the
    future), or None without a readable ``collected_at``."""
    collected = collected_time(facts)
    return None if collected is None else (now - collected).total_seconds()
