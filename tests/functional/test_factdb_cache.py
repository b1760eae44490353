# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The factdb cache plugin as users meet it: real ansible-playbook runs, every backend,
every supported ansible-core."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import importlib.util
import os
import random
import signal
import sqlite3
import time

import pytest

from conftest import HOSTS, WRITER, Ansible, flat

HISTORY_CAPS = {
    'schema_version': 1,
    'memory_info': {'total_mb': 512000},
    'traits': ['HW_CPU_X86_AMD_SEV', 'HW_CPU_X86_AVX2'],
}
CHANGED_CAPS = {
    'schema_version': 1,
    'memory_info': {'total_mb': 256000},
    'traits': ['HW_CPU_X86_AVX2'],
}
WRITERS_HOSTS = 2000


def _writer_module():
    spec = importlib.util.spec_from_file_location('cache_writer', WRITER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sha256(path):
    with open(path, 'rb') as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def _caps(total_mb):
    return dict(HISTORY_CAPS, memory_info={'total_mb': total_mb})


# -- caching and reading back

def test_facts_cached_by_set_fact_and_a_facts_module_are_read_by_the_next_run(ansible, backend):
    ansible.playbook('set_facts.yml')
    stored = backend.snapshot()
    assert sorted(stored) == HOSTS
    for host in HOSTS:
        assert stored[host]['fact_marker'] == 'm1-%s' % host
        assert stored[host]['libvirt_host_caps']['uri'] == 'test:///default'
    ansible.playbook('read_facts.yml', {'expect_cached': True})


# Settings and plugin logic that do not depend on the core's side of the cache interface
# run on 2.19 only, to keep the suite short.
ONLY_CORE_219 = pytest.mark.parametrize('core', ['2.19'], indirect=True)


@ONLY_CORE_219
def test_a_later_run_replaces_the_cached_facts(ansible):
    ansible.playbook('set_facts.yml', {'with_module': False})
    ansible.playbook('set_facts.yml', {'with_module': False, 'marker': 'm2'})
    ansible.playbook('read_facts.yml', {'expect_cached': True, 'with_module': False, 'marker': 'm2'})


@ONLY_CORE_219
def test_the_plugin_is_configured_by_ansible_cfg(core, backend, tmp_path):
    runner = Ansible(core, backend.connection, str(tmp_path))
    with open(str(tmp_path / 'ansible.cfg'), 'w') as handle:
        handle.write('[defaults]\nfact_caching = virtumancer.hostcaps.factdb\nfact_caching_connection = %s\n'
                     'fact_caching_timeout = 0\nfact_caching_prefix = cfg_\n' % backend.connection)
    runner.playbook('set_facts.yml', {'with_module': False}, env=runner.env(cache=False))
    assert sorted(backend.snapshot()) == ['cfg_%s' % host for host in HOSTS]


def test_expired_facts_are_not_returned(ansible, backend):
    env = ansible.env(timeout=2)
    ansible.playbook('set_facts.yml', {'with_module': False}, env=env)
    written = time.time()
    # Still in the store: only reading them through the cache must not return them.
    assert sorted(backend.snapshot()) == HOSTS
    time.sleep(max(0.0, written + 2.5 - time.time()))
    ansible.playbook('read_facts.yml', {'expect_cached': False, 'with_module': False}, env=env)


def test_flush_cache_removes_the_facts_of_every_host(ansible, backend):
    ansible.playbook('set_facts.yml', {'with_module': False})
    assert sorted(backend.snapshot()) == HOSTS
    # The plays of a --flush-cache run already see an empty cache.
    ansible.playbook('read_facts.yml', {'expect_cached': False, 'with_module': False}, args=['--flush-cache'])
    assert backend.snapshot() == {}


def test_keys_are_plain_host_names_and_values_plain_facts(ansible, backend):
    """ansible-core 2.19 wraps persistent cache plugins (keys ``s1_<host>``, values
    ``{"__payload__": "<json>"}``); factdb is not wrapped, on any core, so other tools
    and the lookup read the same keys and values that 2.17 writes."""
    ansible.playbook('set_facts.yml', {'with_module': False})
    stored = backend.snapshot()
    assert not [key for key in stored if key.startswith('s1_')], sorted(stored)
    assert not [key for key, value in stored.items() if '__payload__' in value], stored
    assert sorted(stored) == HOSTS
    for host in HOSTS:
        assert stored[host] == {'fact_marker': 'm1-%s' % host}
    store = backend.open_store(create=False)
    try:
        assert store.hosts() == HOSTS
        assert store.latest('hv1') == {'fact_marker': 'm1-hv1'}
    finally:
        store.close()


@ONLY_CORE_219
def test_prefix_is_part_of_the_stored_key(ansible, backend):
    env = ansible.env(prefix='fleet1_')
    ansible.playbook('set_facts.yml', {'with_module': False}, env=env)
    assert sorted(backend.snapshot()) == ['fleet1_%s' % host for host in HOSTS]
    # Another prefix is another cache.
    ansible.playbook('read_facts.yml', {'expect_cached': False, 'with_module': False}, env=ansible.env(prefix='fleet2_'))


# -- history

def test_history_adds_a_version_only_when_the_facts_change_and_the_lookup_reports_the_diff(ansible, backend):
    ansible.playbook('set_caps.yml', {'caps': HISTORY_CAPS})
    ansible.playbook('set_caps.yml', {'caps': HISTORY_CAPS})
    store = backend.open_store(create=False)
    try:
        assert len(store.versions('hv1')) == 1, store.versions('hv1')
        ansible.playbook('set_caps.yml', {'caps': CHANGED_CAPS})
        assert len(store.versions('hv1')) == 2, store.versions('hv1')
        assert store.latest('hv1') == {'libvirt_host_caps': CHANGED_CAPS}
    finally:
        store.close()

    ansible.playbook('lookup.yml', {'store': backend.connection})
    answers = ansible.output('lookup.json')
    assert [entry['version'] for entry in answers['versions']] == sorted(entry['version'] for entry in answers['versions'])
    assert len(answers['versions']) == 2
    assert answers['diff'] == [
        {'path': 'libvirt_host_caps.memory_info.total_mb', 'op': 'changed', 'old': 512000, 'new': 256000},
        {'path': 'libvirt_host_caps.traits', 'op': 'removed', 'old': 'HW_CPU_X86_AMD_SEV'},
    ]
    assert answers['hosts_avx2'] == ['hv1']
    assert answers['hosts_sev'] == []


def test_a_run_writing_a_host_several_times_records_one_version(ansible, backend):
    ansible.playbook('set_caps.yml', {'caps_sequence': [_caps(total) for total in (100000, 200000, 300000, 400000)]})
    store = backend.open_store(create=False)
    try:
        assert [entry['version'] for entry in store.versions('hv1')] == [1]
        assert store.version_facts('hv1', 1) == {'libvirt_host_caps': _caps(400000)} == store.latest('hv1')
    finally:
        store.close()


def test_a_discovery_records_one_version_per_run_and_per_configuration(ansible, backend):
    ansible.playbook('discover.yml')
    store = backend.open_store(create=False)
    try:
        first = store.latest('hv1')
        assert {'ansible_date_time', 'ansible_memfree_mb', 'libvirt_host_caps', 'sriov'} <= set(first), sorted(first)
        for host in HOSTS:
            assert [entry['version'] for entry in store.versions(host)] == [1], (host, store.versions(host))
        caps = first['libvirt_host_caps']

        # A rerun: setup's clock and free memory moved, and so did libvirt's counters.
        counters = {'memory_info': {'free_mb': caps['memory_info']['free_mb'] // 2},
                    'resources': {'MEMORY_MB': {'used': 2048}, 'VCPU': {'used': 3}},
                    'virt_info': {'domains': {'running': 0, 'vcpus_running': 0, 'memory_mb_running': 0}}}
        ansible.playbook('discover.yml', {'adjust': counters})
        rerun = store.latest('hv1')
        assert rerun['ansible_date_time'] != first['ansible_date_time']
        for host in HOSTS:
            assert [entry['version'] for entry in store.versions(host)] == [1], (host, store.versions(host))
        assert store.version_facts('hv1', 1) == rerun
        assert rerun['libvirt_host_caps']['resources']['MEMORY_MB']['used'] == 2048
        assert rerun['libvirt_host_caps']['memory_info']['free_mb'] == caps['memory_info']['free_mb'] // 2

        # The host got more memory: a configuration change, and its derived resource with it.
        total_mb = caps['memory_info']['total_mb'] + 1024
        ansible.playbook('discover.yml', {'adjust': {'memory_info': {'total_mb': total_mb},
                                                     'resources': {'MEMORY_MB': {'total': total_mb}}}})
        for host in HOSTS:
            assert [entry['version'] for entry in store.versions(host)] == [1, 2], (host, store.versions(host))
    finally:
        store.close()

    ansible.playbook('lookup.yml', {'store': backend.connection})
    assert ansible.output('lookup.json')['diff'] == [
        {'path': 'libvirt_host_caps.memory_info.total_mb', 'op': 'changed', 'old': caps['memory_info']['total_mb'], 'new': total_mb},
    ]


@ONLY_CORE_219
def test_history_keeps_the_configured_number_of_versions(ansible, backend):
    totals = [100000, 200000, 300000, 400000]
    for total in totals:
        ansible.playbook('set_caps.yml', {'caps': _caps(total)}, env=ansible.env(history_versions=2))
    store = backend.open_store(create=False)
    try:
        versions = store.versions('hv1')
        assert len(versions) == 2, versions
        assert store.latest('hv1') == {'libvirt_host_caps': _caps(400000)}
        kept = [store.version_facts('hv1', entry['version'])['libvirt_host_caps']['memory_info']['total_mb'] for entry in versions]
        assert kept == [300000, 400000]
    finally:
        store.close()


# -- integrity

def test_two_concurrent_writers_of_2000_hosts_each_lose_nothing(backend, cache_writer, tmp_path):
    go_file = tmp_path / 'go'
    writers = [cache_writer(prefix, WRITERS_HOSTS, go_file) for prefix in ('alpha', 'beta')]
    for writer in writers:
        assert writer.stdout.readline().strip() == 'ready', writer.stderr.read()
    go_file.write_text('go')
    reported = []
    for writer in writers:
        stdout, stderr = writer.communicate(timeout=150)
        assert writer.returncode == 0, stderr
        assert 'locked' not in stderr, stderr
        reported.extend(stdout.split())
    assert len(reported) == 2 * WRITERS_HOSTS

    facts_for = _writer_module().facts_for
    stored = backend.snapshot()
    assert sorted(stored) == sorted(reported)
    wrong = [host for host in reported if stored[host] != facts_for(host)]
    assert not wrong, 'hosts with other facts than written: %s' % wrong[:10]


def test_a_writer_killed_mid_run_leaves_its_committed_hosts_intact(backend, cache_writer):
    writer = cache_writer('crash', 0)
    assert writer.stdout.readline().strip() == 'ready', writer.stderr.read()
    committed = []
    while len(committed) < 300:
        line = writer.stdout.readline()
        assert line, 'the writer stopped early: %s' % writer.stderr.read()
        committed.append(line.strip())
    os.kill(writer.pid, signal.SIGKILL)
    stdout, dummy = writer.communicate(timeout=30)
    committed.extend(stdout.split())
    assert writer.returncode == -signal.SIGKILL

    if backend.kind == 'sqlite':
        check = sqlite3.connect(backend.path)
        try:
            assert check.execute('PRAGMA integrity_check').fetchall() == [('ok',)]
        finally:
            check.close()
    facts_for = _writer_module().facts_for
    stored = backend.snapshot()
    lost = [host for host in committed if stored.get(host) != facts_for(host)]
    assert not lost, '%d of %d committed hosts lost or damaged: %s' % (len(lost), len(committed), lost[:10])

    after = cache_writer('after', 1)
    stdout, stderr = after.communicate(timeout=60)
    assert after.returncode == 0, stderr
    assert backend.snapshot()['after-00000'] == facts_for('after-00000')


def _random_bytes(path):
    with open(path, 'wb') as handle:
        handle.write(random.Random(4).getrandbits(8 * 65536).to_bytes(65536, 'little'))


def _foreign_sqlite(path):
    conn = sqlite3.connect(path)
    try:
        conn.execute('CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT NOT NULL)')
        conn.execute('CREATE TABLE facts (id INTEGER PRIMARY KEY, body TEXT)')
        conn.execute("INSERT INTO moz_places (url) VALUES ('https://example.org/')")
        conn.commit()
    finally:
        conn.close()


@pytest.mark.parametrize('make_file', [_random_bytes, _foreign_sqlite], ids=['random-bytes', 'foreign-sqlite'])
def test_a_file_that_is_no_factdb_store_fails_the_run_and_stays_unchanged(core, tmp_path, make_file):
    directory = tmp_path / 'store'
    directory.mkdir()
    path = str(directory / 'facts.db')
    make_file(path)
    os.chmod(path, 0o600)  # private, as a store must be: what is refused is the content
    before = _sha256(path)
    runner = Ansible(core, path, str(tmp_path))
    result = runner.playbook('set_facts.yml', {'with_module': False}, check=False)
    output = flat(result.stdout + result.stderr)
    assert result.returncode != 0, output
    assert path in output, output
    assert _sha256(path) == before
    assert 'Traceback' not in output, output
