# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The factdb lookup's ``diff`` with ``since``: what changed on a host since a moment, on
a real SQLite store and on PostgreSQL (FACTDB_TEST_POSTGRES)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import time

import pytest

from ansible.errors import AnsibleLookupError

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.store import factstore
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.store.factsince import SinceError, parse_since
from ansible_collections.virtumancer.hostcaps.tests.unit.plugins.lookup.test_factdb_lookup import (  # noqa: F401 pylint: disable=unused-import
    SEV_TRAIT, collection_loader, factdb, sev_host, sev_host_after_update,
)
from ansible_collections.virtumancer.hostcaps.tests.unit.plugins.module_utils.store.test_factstore import PostgresSchema, postgres_dsn

DAY = 86400.0
NOV_20 = calendar.timegm((2026, 11, 20, 12, 0, 0))
NOV_27 = calendar.timegm((2026, 11, 27, 12, 0, 0))
DEC_01 = calendar.timegm((2026, 12, 1, 12, 0, 0))


@pytest.fixture(params=['sqlite', 'postgres'])
def connection(request, tmp_path):
    """A store where hv1 has SEV on 20 Nov, loses it on 27 Nov; hv2 is first recorded on
    1 Dec; hv3 has one version of 20 Nov."""
    if request.param == 'sqlite':
        uri = str(tmp_path / 'facts.db')
        schema = None
    else:
        schema = PostgresSchema(postgres_dsn()).__enter__()
        uri = schema.uri
    store = factstore.open_store(uri, create=True)
    try:
        store.set('hv1', sev_host(), host='hv1', now=NOV_20)
        store.set('hv1', sev_host_after_update(), host='hv1', now=NOV_27)
        store.set('hv2', sev_host(), host='hv2', now=DEC_01)
        store.set('hv3', sev_host(), host='hv3', now=NOV_20)
    finally:
        store.close()
    yield uri
    if schema is not None:
        schema.__exit__(None, None, None)


LOST_SEV = [
    {'path': 'libvirt_host_caps.memory_info.total_mb', 'op': 'changed', 'old': 257430, 'new': 128715},
    {'path': 'libvirt_host_caps.traits', 'op': 'removed', 'old': SEV_TRAIT},
]


@pytest.mark.parametrize('since', ['2026-11-21', '2026-11-21T00:00:00Z', '2026-11-21T01:00:00+01:00', '2026-11-20T12:00:00'])
def test_since_compares_the_version_current_then_with_the_latest(factdb, connection, since):
    assert factdb('diff', host='hv1', since=since, connection=connection) == LOST_SEV


def test_since_after_the_last_change_gives_nothing(factdb, connection):
    assert factdb('diff', host='hv1', since='2026-11-28', connection=connection) == []
    assert factdb('diff', host='hv3', since='2026-11-21', connection=connection) == []


def test_since_before_the_first_version_compares_with_nothing(factdb, connection):
    changes = factdb('diff', host='hv1', since='2026-11-01', connection=connection)

    assert [(c['path'], c['op']) for c in changes] == [('libvirt_host_caps', 'added')]
    assert SEV_TRAIT not in changes[0]['new']['traits']


def test_a_host_first_recorded_after_since_has_every_fact_added(factdb, connection):
    changes = factdb('diff', host='hv2', since='2026-11-30T00:00:00Z', connection=connection)

    assert [(c['path'], c['op']) for c in changes] == [('libvirt_host_caps', 'added')]
    assert SEV_TRAIT in changes[0]['new']['traits']


def test_since_as_a_duration_counts_back_from_now(factdb, connection):
    # Every version is older than a day ago, and all are younger than 100 weeks.
    assert factdb('diff', host='hv1', since='1d', connection=connection) == []
    assert [c['op'] for c in factdb('diff', host='hv1', since='100w', connection=connection)] == ['added']


def test_since_up_to_a_named_version(factdb, connection):
    first = factdb('versions', host='hv1', connection=connection)[0]['version']

    assert factdb('diff', host='hv1', since='2026-11-21', to_version=first, connection=connection) == []


@pytest.mark.parametrize('since', ['last week', '2026-13-01', '2026-11-21 08:00', '20261121', '7', '7y', '-7d', ''])
def test_a_malformed_since_is_named_with_the_forms_taken(factdb, connection, since):
    with pytest.raises(AnsibleLookupError) as failure:
        factdb('diff', host='hv1', since=since, connection=connection)

    message = str(failure.value)
    assert message.startswith('factdb lookup: option since: %r is not a date, a time or a duration' % since), message
    assert '2026-11-26T08:00:00Z' in message and '7d' in message


def test_a_malformed_since_is_reported_before_the_store_is_opened(factdb, tmp_path):
    with pytest.raises(AnsibleLookupError, match='option since'):
        factdb('diff', host='hv1', since='yesterday', connection=str(tmp_path / 'missing.db'))


def test_since_and_from_version_together_are_refused(factdb, connection):
    with pytest.raises(AnsibleLookupError, match='since=.*from_version=1 both choose the older version'):
        factdb('diff', host='hv1', since='7d', from_version=1, connection=connection)


def test_since_has_no_meaning_for_other_queries(factdb, connection):
    with pytest.raises(AnsibleLookupError, match="option since='7d' has no meaning for query 'hosts'; it is read by 'diff'"):
        factdb('hosts', since='7d', connection=connection)


def test_an_unknown_host_with_since_is_named(factdb, connection):
    with pytest.raises(AnsibleLookupError, match="host 'hv9' has no facts in the store"):
        factdb('diff', host='hv9', since='7d', connection=connection)


def test_parse_since_takes_dates_times_and_durations():
    now = time.time()
    assert parse_since('2026-11-21', now) == calendar.timegm((2026, 11, 21, 0, 0, 0))
    assert parse_since(' 2026-11-21T08:30:00z ', now) == calendar.timegm((2026, 11, 21, 8, 30, 0))
    assert parse_since('12h', now) == now - 12 * 3600
    assert parse_since('2w', now) == now - 14 * DAY
    with pytest.raises(SinceError):
        parse_since(7, now)
