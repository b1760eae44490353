# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The moment a drift report starts from: the ``since`` of the factdb lookup's ``diff`` and
of the fleet report.

``since`` is an ISO 8601 date or date and time (``2026-11-26``, ``2026-11-26T08:00:00Z``,
``2026-11-26T09:00:00+01:00``; without an offset it is UTC), or a duration before now: a
whole number with one unit ``m``, ``h``, ``d`` or ``w`` (``7d``, ``12h``). Pure Python: the
lookup and the report read it through the same function, so both mean the same moment.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

UTC = datetime.timezone.utc
UNITS = {'m': 60, 'h': 3600, 'd': 86400, 'w': 604800}
_DURATION_RE = re.compile(r'^([0-9]{1,6})([mhdw])$')
_DATE_RE = re.compile(r'^[0-9]{4}-[0-9]{2}-[0-9]{2}$')
HINT = 'give an ISO 8601 date or time such as 2026-11-26 or 2026-11-26T08:00:00Z, or a duration before now such as 7d, 12h or 2w'


class SinceError(ValueError):
    """``since`` is not a date, a time or a duration; the message names the value and the fix."""


def _shown(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + '...'


def parse_since(value, now):
    """``value`` as epoch seconds (a float). ``now`` (epoch seconds) anchors a duration.
    Raises SinceError."""
    if not isinstance(value, str) or isinstance(value, bool):
        raise SinceError('since: %s is not a date, a time or a duration; %s' % (_shown(value), HINT))
    text = value.strip()
    found = _DURATION_RE.match(text)
    if found:
        return float(now) - int(found.group(1)) * UNITS[found.group(2)]
    if _DATE_RE.match(text):
        text += 'T00:00:00'
    if text[-1:] in ('Z', 'z'):
        text = text[:-1] + '+00:00'
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        moment = None
    # fromisoformat takes '2026-11-26 08:00' and, on Python 3.11+, '20261126': only the
    # forms documented are taken, so that what one Python reads another reads the same.
    if moment is None or 'T' not in text or not _DATE_RE.match(text[:10]):
        raise SinceError('since: %s is not a date, a time or a duration; %s' % (_shown(value), HINT))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def iso_utc(epoch):
    """``2026-11-26T08:00:00Z``."""
    return datetime.datetime.fromtimestamp(epoch, tz=UTC).strftime('%Y-%m-%dT%H:%M:%SZ')
