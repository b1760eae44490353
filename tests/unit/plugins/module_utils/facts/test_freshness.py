# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""hostcaps_max_age and the age of facts (facts/freshness.py), shared by the roles that
decide on fact age."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.freshness import (
    facts_age, format_age, parse_max_age, parse_time,
)

UTC = datetime.timezone.utc


@pytest.mark.parametrize('value, seconds', [
    (86400, 86400), ('86400', 86400), ('1d', 86400), ('12h', 43200), ('30m', 1800), ('45s', 45), ('2w', 1209600),
    (' 3 h ', 10800), (0, 0), ('0', 0),
])
def test_max_age_in_seconds_or_with_a_unit(value, seconds):
    assert parse_max_age(value) == seconds


@pytest.mark.parametrize('value, message', [
    ('1.5d', "hostcaps_max_age: string '1.5d' is not a duration; write whole seconds (86400) or a number with one unit"),
    ('1y', "hostcaps_max_age: string '1y' is not a duration"),
    ('', "hostcaps_max_age: string '' is not a duration"),
    (-1, 'hostcaps_max_age: integer -1 is out of range; give 0 (no limit) up to'),
    ('99999999999d', "hostcaps_max_age: string '99999999999d' is out of range"),
    (True, 'hostcaps_max_age: expected seconds or a duration such as 1d, 12h or 30m, got boolean true'),
    (None, 'hostcaps_max_age: expected seconds or a duration such as 1d, 12h or 30m, got null'),
    ([1], "hostcaps_max_age: list [1] is not a duration"),
])
def test_a_max_age_that_is_not_a_duration_is_refused(value, message):
    with pytest.raises(ValueError) as caught:
        parse_max_age(value)
    assert str(caught.value).startswith(message), str(caught.value)


@pytest.mark.parametrize('seconds, text', [(0, '0s'), (59, '59s'), (3600, '1h'), (90061, '1d 1h'), (2495, '41m 35s'), (86430, '1d 30s')])
def test_format_age(seconds, text):
    assert format_age(seconds) == text


def test_times_are_utc_whatever_their_form():
    expected = datetime.datetime(2026, 12, 3, 20, 0, tzinfo=UTC)
    assert parse_time('2026-12-03T20:00:00Z') == expected
    assert parse_time('2026-12-03T21:00:00+01:00') == expected
    assert parse_time(datetime.datetime(2026, 12, 3, 20, 0)) == expected
    assert parse_time(datetime.date(2026, 12, 3)) == datetime.datetime(2026, 12, 3, tzinfo=UTC)
    with pytest.raises(ValueError, match="now: string 'yesterday' is not a time"):
        parse_time('yesterday')


def test_the_age_of_facts_from_collected_at():
    now = datetime.datetime(2026, 12, 3, 20, 0, tzinfo=UTC)
    assert facts_age({'collected_at': '2026-12-03T19:00:00Z'}, now) == 3600
    assert facts_age({'collected_at': 'not a time'}, now) is None
    assert facts_age({}, now) is None
