# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""No call of the factdb store waits without end: a lock held by another session or process
fails it after ``lock_timeout`` seconds, with the lock and the fix named. Real SQLite files and
the real PostgreSQL server, where another session holds the lock."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# pylint: disable=redefined-outer-name  # pytest fixtures are passed by name

import contextlib
import re
import sqlite3
import time

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.store import factstore
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.store.factstore import FactStoreError, open_store
# pylint: disable-next=unused-import
from ansible_collections.virtumancer.hostcaps.tests.unit.plugins.module_utils.store.test_factstore import (  # noqa: F401
    PostgresSchema, backend, caps, postgres_dsn)

TIMEOUT = 1
# The call fails after TIMEOUT, not at once and not much later (a loaded machine, a reconnection).
WITHIN = (TIMEOUT - 0.05, TIMEOUT + 5)
HINT = 'fact_caching_lock_timeout (ANSIBLE_CACHE_PLUGIN_LOCK_TIMEOUT) sets how long to wait'


@pytest.fixture
def schema():
    with PostgresSchema(postgres_dsn()) as found:
        yield found


@contextlib.contextmanager
def other_session(uri, *statements):
    """A session of another application that runs ``statements`` in a transaction and keeps it open."""
    import psycopg
    conn = psycopg.connect(uri, application_name='stuck-controller')
    try:
        # Released by the server after 10 s: a store that waits without end fails the test instead of hanging it.
        conn.execute("SET idle_in_transaction_session_timeout = '10s'")
        for statement, params in statements:
            conn.execute(statement, params)
        yield conn.info.backend_pid
    finally:
        try:
            conn.rollback()
        except psycopg.Error:
            pass  # ended by the server
        conn.close()


def timed_failure(call):
    start = time.monotonic()
    with pytest.raises(FactStoreError) as caught:
        call()
    return time.monotonic() - start, str(caught.value)


def test_a_host_write_lock_held_by_another_session_fails_set_after_the_timeout_and_names_it(schema):
    store = open_store(schema.uri, lock_timeout=TIMEOUT)
    store.set('hv1', caps())
    with other_session(schema.uri, ('SELECT pg_advisory_xact_lock(%s)', (factstore._host_lock('hv1'),))) as pid:
        seconds, message = timed_failure(lambda: store.set('hv1', caps(total_mb=1)))
        # Other hosts are not held up, and reads never wait for a write lock.
        store.set('hv2', caps())
        assert store.get('hv1') == caps()

    assert WITHIN[0] <= seconds <= WITHIN[1]
    assert "waited more than 1 s for the write lock of host 'hv1'" in message
    assert "held by session pid %d (application 'stuck-controller', idle in transaction since " % pid in message
    assert 'SELECT pg_terminate_backend(%d)' % pid in message and HINT in message
    assert 'hostcaps-test' not in message  # the password
    store.set('hv1', caps(total_mb=1))
    assert store.get('hv1') == caps(total_mb=1)


@pytest.mark.parametrize('call', ['get', 'set', 'keys', 'hosts_with_trait'])
def test_a_table_locked_by_another_session_fails_the_call_after_the_timeout_and_names_it(schema, call):
    store = open_store(schema.uri, lock_timeout=TIMEOUT)
    store.set('hv1', caps())
    table = 'traits' if call == 'hosts_with_trait' else 'facts'
    calls = {'get': lambda: store.get('hv1'), 'set': lambda: store.set('hv1', caps(total_mb=1)), 'keys': store.keys,
             'hosts_with_trait': lambda: store.hosts_with_trait('HW_CPU_X86_AVX2')}
    with other_session(schema.uri, ('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE' % table, ())) as pid:
        seconds, message = timed_failure(calls[call])

    assert WITHIN[0] <= seconds <= WITHIN[1]
    assert re.search(r'waited more than 1 s for the AccessExclusiveLock on table %s, held by session pid %d '
                     r"\(application 'stuck-controller', idle in transaction since [-0-9T:+]+\); end that session "
                     r'\(SELECT pg_terminate_backend\(%d\)\) or retry when it is done; ' % (table, pid, pid), message), message
    assert store.get('hv1') == caps()


def test_a_flush_waits_for_no_longer_than_the_timeout_for_a_write_in_progress(schema):
    store = open_store(schema.uri, lock_timeout=TIMEOUT)
    store.set('hv1', caps())
    # What a host's write holds while it runs.
    with other_session(schema.uri, ('SELECT pg_advisory_xact_lock_shared(%s)', (factstore._store_lock(schema.schema),))) as pid:
        seconds, message = timed_failure(store.flush)

    assert WITHIN[0] <= seconds <= WITHIN[1]
    assert 'waited more than 1 s for the store lock (a write or another flush of the cache in progress), held by session pid %d' % pid in message
    assert HINT in message
    assert store.keys() == ['hv1']


def test_the_default_wait_is_30_s():
    assert factstore.LOCK_TIMEOUT == 30
    assert open_store('/nonexistent/facts.db').lock_timeout == 30


@pytest.mark.parametrize('value', [0, -1, 2.5, True, '30'])
def test_a_lock_timeout_that_is_not_a_positive_whole_number_is_refused(value):
    with pytest.raises(FactStoreError, match='lock_timeout must be a whole number of seconds, 1 or more'):
        open_store('/nonexistent/facts.db', lock_timeout=value)


def test_an_sqlite_store_locked_by_another_process_fails_after_the_timeout(tmp_path):
    path = str(tmp_path / 'facts.db')
    store = open_store(path, lock_timeout=TIMEOUT)
    store.set('hv1', caps())
    other = sqlite3.connect(path, isolation_level=None)
    other.execute('BEGIN IMMEDIATE')
    try:
        seconds, message = timed_failure(lambda: store.set('hv1', caps(total_mb=1)))
    finally:
        other.execute('ROLLBACK')
        other.close()

    assert WITHIN[0] <= seconds <= WITHIN[1]
    assert message.startswith('%s is locked by another process for more than 1 s: ' % path)
    assert message.endswith(HINT)
    store.set('hv1', caps(total_mb=1))
    assert store.get('hv1') == caps(total_mb=1)
