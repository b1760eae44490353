# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A store locked by another session fails ansible-playbook after fact_caching_lock_timeout,
with the lock named, instead of hanging the run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import sqlite3
import time

import pytest

from conftest import flat


def _hold_the_facts_table(backend):
    """Another session's lock on the facts table, and the function that releases it."""
    if backend.kind == 'sqlite':
        conn = sqlite3.connect(backend.path, isolation_level=None)
        conn.execute('BEGIN IMMEDIATE')
        return lambda: (conn.execute('ROLLBACK'), conn.close())
    import psycopg
    conn = psycopg.connect(backend.connection, application_name='stuck-controller')
    # Released by the server after 60 s: a run that waits without end fails the test instead of hanging it.
    conn.execute("SET idle_in_transaction_session_timeout = '60s'")
    conn.execute('LOCK TABLE facts IN ACCESS EXCLUSIVE MODE')

    def release():
        try:
            conn.rollback()
        except psycopg.Error:
            pass
        conn.close()
    return release


@pytest.mark.parametrize('core', ['2.19'], indirect=True)
def test_a_locked_store_fails_the_run_after_the_lock_timeout_with_the_lock_named(ansible, backend):
    ansible.playbook('set_facts.yml', {'with_module': False})
    release = _hold_the_facts_table(backend)
    start = time.monotonic()
    try:
        result = ansible.playbook('set_facts.yml', {'with_module': False, 'marker': 'm2'}, check=False,
                                  env=ansible.env(lock_timeout=2))
    finally:
        release()
    seconds = time.monotonic() - start

    output = flat(result.stdout + result.stderr)
    assert result.returncode != 0, output
    assert seconds < 50, output
    if backend.kind == 'sqlite':
        assert 'is locked by another process for more than 2 s' in output, output
    else:
        assert 'waited more than 2 s for the AccessExclusiveLock on table facts, held by session pid' in output, output
        assert "application 'stuck-controller'" in output and 'hostcaps-test' not in output, output
    assert 'fact_caching_lock_timeout' in output, output
    assert 'Traceback' not in output, output
