# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cache plugin's lock timeout, from ansible.cfg's environment variable to the store,
on SQLite and on the real PostgreSQL server, with another session holding the lock."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# pylint: disable=redefined-outer-name  # pytest fixtures are passed by name

import sqlite3
import time

import pytest

from ansible.errors import AnsibleError

# pylint: disable-next=unused-import
from ansible_collections.virtumancer.hostcaps.tests.unit.plugins.cache.test_factdb import (  # noqa: F401
    caps, collection_loader, connection, load)


def hold_the_facts_table(connection):
    """Another session's lock on the facts, kept until the returned function is called."""
    if '://' not in connection:
        conn = sqlite3.connect(connection, isolation_level=None)
        conn.execute('BEGIN IMMEDIATE')

        def release():
            conn.execute('ROLLBACK')
            conn.close()
        return release
    import psycopg
    conn = psycopg.connect(connection)
    # Released by the server after 10 s: a store that waits without end fails the test instead of hanging it.
    conn.execute("SET idle_in_transaction_session_timeout = '10s'")
    conn.execute('LOCK TABLE facts IN ACCESS EXCLUSIVE MODE')

    def release_pg():
        try:
            conn.rollback()
        except psycopg.Error:
            pass  # ended by the server
        conn.close()
    return release_pg


def test_the_lock_timeout_comes_from_the_environment_and_bounds_the_wait(load, connection, monkeypatch):
    load().set('hv1', caps())
    monkeypatch.setenv('ANSIBLE_CACHE_PLUGIN_LOCK_TIMEOUT', '1')
    plugin = load()
    plugin.contains('hv0')  # opens the store before the lock is taken
    release = hold_the_facts_table(connection)
    start = time.monotonic()
    try:
        with pytest.raises(AnsibleError) as caught:
            plugin.set('hv1', caps(total_mb=1))
    finally:
        release()

    assert 0.95 <= time.monotonic() - start <= 6
    assert caught.match('factdb cache plugin: .*(locked by another process for more than 1 s|waited more than 1 s for the '
                        'AccessExclusiveLock on table facts, held by session pid)')
    assert caught.match('fact_caching_lock_timeout')


def test_a_lock_timeout_of_0_is_refused_at_the_first_call(load):
    plugin = load(_lock_timeout=0)

    with pytest.raises(AnsibleError, match='factdb cache plugin: store .*: lock_timeout must be a whole number of seconds, 1 or more, got 0'):
        plugin.keys()
