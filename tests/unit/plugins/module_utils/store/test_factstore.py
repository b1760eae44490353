# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The factdb store on both backends: SQLite in a temporary directory, and a real PostgreSQL
server named by FACTDB_TEST_POSTGRES (``export FACTDB_TEST_POSTGRES=$(hack/postgres.sh)``),
each test in a schema of its own."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# pylint: disable=redefined-outer-name  # pytest fixtures are passed by name

import copy
import datetime
import hashlib
import json
import multiprocessing
import os
import shutil
import sqlite3
import stat
import sys
import tempfile
import time
import uuid

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.store import factjson, factstore
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.store.factstore import FactStoreError, mask_uri, open_store
from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import facts_from

POSTGRES_ENV = 'FACTDB_TEST_POSTGRES'
ODD_HOSTS = ["hv'1", 'hv"2', '../../etc/passwd', 'hv\\3', "x'); DROP TABLE facts; --", 'hôte-ünïcode-ℌ', '日本のホスト', 'a b%c_d?']
DAY = 86400.0
CACHED = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures', 'factdb', 'debian12-kvm-host.facts.json')


def caps(traits=('HW_CPU_X86_AVX2',), total_mb=512000, schema_version=1):
    return {'libvirt_host_caps': {'schema_version': schema_version, 'traits': list(traits),
                                  'memory_info': {'total_mb': total_mb}}}


def sha256_of(path):
    with open(path, 'rb') as handle:
        return hashlib.sha256(handle.read()).hexdigest()


class PostgresSchema:
    """A schema of its own in the test database, dropped afterwards."""

    def __init__(self, dsn):
        import psycopg
        self.psycopg = psycopg
        self.dsn = dsn
        self.schema = 'factstore_%s' % uuid.uuid4().hex[:12]
        self.uri = '%s%soptions=-csearch_path%%3D%s' % (dsn, '&' if '?' in dsn else '?', self.schema)

    def execute(self, sql, params=()):
        with self.psycopg.connect(self.uri, autocommit=True) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else None

    def __enter__(self):
        with self.psycopg.connect(self.dsn, autocommit=True, connect_timeout=10) as conn:
            conn.execute('CREATE SCHEMA %s' % self.schema)
        return self

    def __exit__(self, *exc_info):
        with self.psycopg.connect(self.dsn, autocommit=True, connect_timeout=10) as conn:
            conn.execute('DROP SCHEMA IF EXISTS %s CASCADE' % self.schema)


def postgres_dsn():
    dsn = os.environ.get(POSTGRES_ENV)
    if not dsn:
        pytest.fail('%s is not set, so the PostgreSQL backend cannot be tested: run '
                    '`export %s=$(hack/postgres.sh)` first (make units does)' % (POSTGRES_ENV, POSTGRES_ENV))
    return dsn


class Backend:
    """Opens stores on one database and runs raw SQL there (``?`` placeholders)."""

    def __init__(self, name, connection, raw):
        self.name = name
        self.connection = connection
        self._raw = raw
        self._opened = []

    def open(self, **options):
        store = open_store(self.connection, **options)
        self._opened.append(store)
        return store

    def sql(self, statement, params=()):
        return self._raw(statement, params)

    def close_all(self):
        for store in self._opened:
            store.close()


@pytest.fixture(params=['sqlite', 'postgresql'])
def backend(request, tmp_path):
    if request.param == 'sqlite':
        path = str(tmp_path / 'facts.db')

        def raw(statement, params):
            conn = sqlite3.connect(path, isolation_level=None)
            try:
                cursor = conn.execute(statement, params)
                return cursor.fetchall()
            finally:
                conn.close()
        found = Backend('sqlite', path, raw)
        yield found
        found.close_all()
        return
    with PostgresSchema(postgres_dsn()) as schema:
        found = Backend('postgresql', schema.uri, lambda statement, params: schema.execute(statement.replace('?', '%s'), params))
        yield found
        found.close_all()


@pytest.fixture
def store(backend):
    return backend.open()


# -- cache side ------------------------------------------------------------------------------


def test_set_then_get_returns_the_facts(store):
    facts = {'libvirt_host_caps': facts_from('amd-epyc-sev.caps.xml', 'amd-epyc-sev.domcaps-q35.xml')}

    store.set('hv1', facts)

    assert store.get('hv1') == json.loads(json.dumps(facts))


def test_get_of_an_unknown_key_is_none(store):
    assert store.get('nope') is None


def test_keys_lists_only_the_keys_with_the_prefix_and_keeps_it(store):
    for key in ('a_hv1', 'a_hv2', 'b_hv1', 'a', 'ab_hv3'):
        store.set(key, caps())

    assert sorted(store.keys('a_')) == ['a_hv1', 'a_hv2']
    assert sorted(store.keys()) == ['a', 'a_hv1', 'a_hv2', 'ab_hv3', 'b_hv1']


def test_keys_leave_out_rows_not_updated_since_newer_than(store):
    now = time.time()
    store.set('old', caps(), now=now - 2 * DAY)
    store.set('new', caps(), now=now)

    assert store.keys(newer_than=now - DAY) == ['new']


def test_contains_leaves_out_rows_not_updated_since_newer_than(store):
    now = time.time()
    store.set('old', caps(), now=now - 2 * DAY)

    assert store.contains('old')
    assert not store.contains('old', newer_than=now - DAY)
    assert not store.contains('missing')


def test_get_with_newer_than_leaves_out_old_rows(store):
    now = time.time()
    store.set('old', caps(), now=now - 2 * DAY)

    assert store.get('old', newer_than=now - DAY) is None
    assert store.get('old', newer_than=now - 3 * DAY) == caps()


def test_updated_at_is_the_time_of_the_last_write(store):
    store.set('hv1', caps(), now=1000.5)

    assert store.updated_at('hv1') == 1000.5
    assert store.updated_at('missing') is None


def test_the_key_and_the_host_are_kept_apart(store):
    store.set('pfx_hv1', caps(), host='hv1')

    assert store.keys() == ['pfx_hv1']
    assert store.hosts() == ['hv1']
    assert [v['version'] for v in store.versions('hv1')] == [1]
    assert store.versions('pfx_hv1') == []


# -- history ---------------------------------------------------------------------------------


def test_an_identical_write_adds_no_version_and_renews_the_age(store):
    store.set('hv1', caps(), now=1000.0)
    store.set('hv1', json.loads(json.dumps(caps())), now=2000.0)

    assert len(store.versions('hv1')) == 1
    assert store.updated_at('hv1') == 2000.0


def test_key_order_does_not_make_a_new_version(store):
    store.set('hv1', {'a': 1, 'b': {'x': 1, 'y': 2}})
    store.set('hv1', {'b': {'y': 2, 'x': 1}, 'a': 1})

    assert len(store.versions('hv1')) == 1


def test_a_changed_write_adds_a_version_with_its_schema_version_and_time(store):
    store.set('hv1', caps(total_mb=512000, schema_version=1), now=1715162400.0)
    store.set('hv1', caps(total_mb=256000, schema_version=2), now=1715166000.0)

    versions = store.versions('hv1')

    assert [(v['version'], v['schema_version'], v['collected_at']) for v in versions] == [
        (1, 1, '2024-05-08T10:00:00Z'), (2, 2, '2024-05-08T11:00:00Z')]
    assert versions[0]['hash'] != versions[1]['hash']


def test_facts_without_libvirt_host_caps_have_no_schema_version(store):
    store.set('hv1', {'ansible_distribution': 'Debian'})

    assert store.versions('hv1')[0]['schema_version'] is None


def test_version_facts_returns_the_content_of_each_version(store):
    store.set('hv1', caps(total_mb=512000))
    store.set('hv1', caps(total_mb=256000))

    assert store.version_facts('hv1', 1) == caps(total_mb=512000)
    assert store.version_facts('hv1', 2) == caps(total_mb=256000)
    assert store.version_facts('hv1', 3) is None
    assert store.version_facts('hv9', 1) is None


def test_going_back_to_earlier_facts_is_a_new_version(store):
    store.set('hv1', caps(total_mb=1))
    store.set('hv1', caps(total_mb=2))
    store.set('hv1', caps(total_mb=1))

    versions = store.versions('hv1')

    assert [v['version'] for v in versions] == [1, 2, 3]
    assert versions[0]['hash'] == versions[2]['hash']


def test_retention_by_count_keeps_the_newest_versions(backend):
    store = backend.open(history_versions=3)
    for total in range(6):
        store.set('hv1', caps(total_mb=total))

    assert [v['version'] for v in store.versions('hv1')] == [4, 5, 6]
    assert store.version_facts('hv1', 4) == caps(total_mb=3)
    # The content of dropped versions goes too.
    assert backend.sql('SELECT COUNT(*) FROM blobs WHERE host = ?', ('hv1',))[0][0] == 3


def test_retention_zero_keeps_every_version(backend):
    store = backend.open(history_versions=0)
    for total in range(120):
        store.set('hv1', caps(total_mb=total))

    assert len(store.versions('hv1')) == 120


def test_retention_by_age_drops_old_versions(backend):
    store = backend.open(history_versions=0, history_days=7)
    now = time.time()
    store.set('hv1', caps(total_mb=1), now=now - 30 * DAY)
    store.set('hv1', caps(total_mb=2), now=now - 10 * DAY)
    store.set('hv1', caps(total_mb=3), now=now - 1 * DAY)
    store.set('hv1', caps(total_mb=4), now=now)

    assert [v['version'] for v in store.versions('hv1')] == [3, 4]


def test_retention_by_age_never_drops_the_newest_version(backend):
    store = backend.open(history_versions=0, history_days=1)
    store.set('hv1', caps(total_mb=1), now=time.time() - 30 * DAY)

    assert [v['version'] for v in store.versions('hv1')] == [1]
    assert store.latest('hv1') == caps(total_mb=1)


def test_retention_of_one_host_leaves_the_others_alone(backend):
    store = backend.open(history_versions=1)
    store.set('hv1', caps(total_mb=1))
    store.set('hv2', caps(total_mb=1))
    store.set('hv2', caps(total_mb=2))

    assert [v['version'] for v in store.versions('hv1')] == [1]
    assert [v['version'] for v in store.versions('hv2')] == [2]


def test_negative_retention_is_refused(backend):
    with pytest.raises(FactStoreError, match='history_versions=-1 .* must be 0 \\(unlimited\\) or more'):
        backend.open(history_versions=-1)


def test_latest_returns_the_current_facts(store):
    store.set('hv1', caps(total_mb=1))
    store.set('hv1', caps(total_mb=2))

    assert store.latest('hv1') == caps(total_mb=2)
    assert store.latest('hv9') is None


def test_latest_of_a_host_under_two_prefixes_is_the_newest_write(store):
    store.set('a_hv1', caps(total_mb=1), now=2000.0, host='hv1')
    store.set('b_hv1', caps(total_mb=2), now=1000.0, host='hv1')

    assert store.latest('hv1') == caps(total_mb=1)


def test_hosts_lists_the_hosts_with_current_facts(store):
    store.set('hv2', caps())
    store.set('hv1', caps())
    store.set('hv3', caps())
    store.delete('hv3')

    assert store.hosts() == ['hv1', 'hv2']


# -- one version per run and per configuration -----------------------------------------------
# On the facts the cache held for the test machine after setup, libvirt_host_caps and sriov_facts.


def cached_facts():
    with open(CACHED) as handle:
        return json.load(handle)


def split(facts):
    """What a play of setup, libvirt_host_caps then sriov_facts caches, write by write."""
    setup = dict((key, value) for key, value in facts.items() if key not in ('libvirt_host_caps', 'sriov'))
    with_caps = dict(setup, libvirt_host_caps=facts['libvirt_host_caps'])
    return [setup, with_caps, facts]


def later(facts, minutes=60):
    """The same host ``minutes`` later: only counters moved."""
    moved = copy.deepcopy(facts)
    caps_ = moved['libvirt_host_caps']
    caps_['collected_at'] = '2026-12-02T%02d:%02d:00Z' % (18 + minutes // 60, minutes % 60)
    caps_['memory_info']['free_mb'] -= minutes
    caps_['memory_info']['cells'][0]['free_mb'] -= minutes
    caps_['memory_info']['cells'][0]['pages'][0]['free'] -= minutes * 256
    moved['ansible_uptime_seconds'] += minutes * 60
    moved['ansible_memfree_mb'] -= minutes
    moved['ansible_memory_mb']['real']['free'] -= minutes
    moved['ansible_mounts'][0]['size_available'] -= minutes * 4096
    moved['ansible_date_time'] = dict(moved['ansible_date_time'], epoch=str(int(moved['ansible_date_time']['epoch']) + minutes * 60))
    return moved


def test_a_run_writing_its_facts_in_three_steps_records_one_version(store):
    facts = cached_facts()
    for step in split(facts):
        store.set('hv1', step, run='run-1')

    versions = store.versions('hv1')
    assert [v['version'] for v in versions] == [1]
    assert store.version_facts('hv1', 1) == facts == store.latest('hv1')
    assert versions[0]['schema_version'] == 1
    # The replaced contents are gone from the store.
    assert backend_blobs(store, 'hv1') == 1


def backend_blobs(store, host):
    return store._one('SELECT COUNT(*) FROM blobs WHERE host = ?', (host,))[0]  # pylint: disable=protected-access


def test_a_later_run_with_changed_counters_only_updates_the_latest_version(store):
    facts = cached_facts()
    store.set('hv1', facts, run='run-1', now=1000.0)
    busier = later(facts)

    store.set('hv1', busier, run='run-2', now=4600.0)

    versions = store.versions('hv1')
    assert [(v['version'], v['collected_at'], v['updated_at']) for v in versions] == [
        (1, factstore.iso_utc(1000.0), factstore.iso_utc(4600.0))]
    assert store.version_facts('hv1', 1) == busier == store.get('hv1')


def test_sets_listed_in_another_order_by_a_later_run_add_no_version(store):
    facts = cached_facts()
    store.set('hv1', facts, run='run-1')
    reordered = later(facts)
    reordered['ansible_interfaces'].reverse()
    reordered['ansible_virtualization_tech_guest'].reverse()

    for step in split(reordered):
        store.set('hv1', dict(store.get('hv1'), **step), run='run-2')

    assert [v['version'] for v in store.versions('hv1')] == [1]
    assert store.version_facts('hv1', 1) == reordered


def test_a_run_that_changes_configuration_adds_one_version(store):
    facts = cached_facts()
    store.set('hv1', facts, run='run-1')
    changed = later(facts)
    changed['libvirt_host_caps']['traits'].remove('COMPUTE_SECURITY_TPM_2_0')
    changed['libvirt_host_caps']['memory_info']['total_mb'] = 8192

    for step in split(changed):
        store.set('hv1', step, run='run-2')

    assert [v['version'] for v in store.versions('hv1')] == [1, 2]
    assert store.version_facts('hv1', 1) == facts
    assert store.version_facts('hv1', 2) == changed


def test_a_run_changing_configuration_and_back_leaves_no_version_of_its_own(store):
    facts = cached_facts()
    store.set('hv1', facts, run='run-1')
    changed = copy.deepcopy(facts)
    changed['sriov']['summary']['total_vfs'] = 8
    store.set('hv1', changed, run='run-2')
    assert len(store.versions('hv1')) == 2

    store.set('hv1', later(facts), run='run-2')

    assert [v['version'] for v in store.versions('hv1')] == [1]
    assert store.version_facts('hv1', 1) == later(facts)


def test_the_counters_of_an_older_run_do_not_take_the_runs_version(store):
    facts = cached_facts()
    store.set('hv1', facts, run='run-1')
    store.set('hv1', later(facts, 30), run='run-2')
    changed = later(facts, 60)
    changed['libvirt_host_caps']['memory_info']['total_mb'] = 8192

    store.set('hv1', changed, run='run-3')
    store.set('hv1', later(changed, 1), run='run-3')

    assert [v['version'] for v in store.versions('hv1')] == [1, 2]
    assert store.version_facts('hv1', 1) == later(facts, 30)
    assert store.version_facts('hv1', 2) == later(changed, 1)


def test_writes_without_a_run_are_runs_of_their_own(store):
    facts = cached_facts()
    for step in split(facts):
        store.set('hv1', step)

    assert [v['version'] for v in store.versions('hv1')] == [1, 2, 3]


def test_retention_counts_versions_not_runs(backend):
    store = backend.open(history_versions=2)
    facts = cached_facts()
    for number in range(4):
        changed = later(facts, number)
        changed['libvirt_host_caps']['memory_info']['total_mb'] = 4096 + number
        for step in split(changed):
            store.set('hv1', step, run='run-%d' % number)

    assert [v['version'] for v in store.versions('hv1')] == [3, 4]


# -- traits ----------------------------------------------------------------------------------


def test_hosts_with_trait_lists_the_hosts_whose_current_facts_have_it(store):
    store.set('hv2', caps(traits=['HW_CPU_X86_AMD_SEV', 'HW_CPU_X86_AVX2']))
    store.set('hv1', caps(traits=['HW_CPU_X86_AMD_SEV']))
    store.set('hv3', caps(traits=['HW_CPU_X86_AVX2']))

    assert store.hosts_with_trait('HW_CPU_X86_AMD_SEV') == ['hv1', 'hv2']
    assert store.hosts_with_trait('CUSTOM_NONE') == []


def test_a_trait_that_goes_away_takes_the_host_out(store):
    store.set('hv1', caps(traits=['HW_CPU_X86_AMD_SEV']))
    store.set('hv1', caps(traits=[]))

    assert store.hosts_with_trait('HW_CPU_X86_AMD_SEV') == []


def test_hosts_with_trait_is_right_after_the_traits_index_is_brought_up_to_date(backend, monkeypatch):
    # With a small buffer, most hosts go through the index and the last ones through the buffer.
    monkeypatch.setattr(factstore, 'TRAITS_PENDING_MAX', 4)
    store = backend.open()
    for number in range(50):
        traits = ['CUSTOM_ALL'] + (['CUSTOM_EVEN'] if number % 2 == 0 else [])
        store.set('hv%02d' % number, caps(traits=traits))
    for number in range(0, 50, 10):
        store.set('hv%02d' % number, caps(traits=['CUSTOM_ALL', 'CUSTOM_TENTH']))

    indexed = backend.sql('SELECT COUNT(*) FROM traits')[0][0]
    assert indexed > 50, 'the traits index was never brought up to date'
    assert store.hosts_with_trait('CUSTOM_ALL') == ['hv%02d' % n for n in range(50)]
    assert store.hosts_with_trait('CUSTOM_EVEN') == ['hv%02d' % n for n in range(50) if n % 2 == 0 and n % 10]
    assert store.hosts_with_trait('CUSTOM_TENTH') == ['hv%02d' % n for n in range(0, 50, 10)]


def test_the_traits_index_is_queried_by_trait(backend):
    store = backend.open()
    store.set('hv1', caps())
    if backend.name == 'sqlite':
        plan = ' '.join(str(row) for row in backend.sql(
            'EXPLAIN QUERY PLAN SELECT host FROM traits WHERE trait = ?', ('HW_CPU_X86_AVX2',)))
        assert 'SEARCH traits USING PRIMARY KEY (trait=?)' in plan
    else:
        backend.sql('SET enable_seqscan = off')
        plan = ' '.join(row[0] for row in backend.sql(
            'EXPLAIN SELECT host FROM traits WHERE trait = ?', ('HW_CPU_X86_AVX2',)))
        assert 'Index' in plan and 'traits_pkey' in plan


def test_traits_that_are_not_strings_are_ignored(store):
    store.set('hv1', {'libvirt_host_caps': {'traits': ['CUSTOM_OK', 3, None, {'x': 1}]}})

    assert store.hosts_with_trait('CUSTOM_OK') == ['hv1']


# -- delete and flush ------------------------------------------------------------------------


def test_delete_removes_the_current_facts_and_traits_but_keeps_the_history(store):
    store.set('hv1', caps(traits=['HW_CPU_X86_AMD_SEV']))

    store.delete('hv1')

    assert store.get('hv1') is None
    assert not store.contains('hv1')
    assert store.hosts_with_trait('HW_CPU_X86_AMD_SEV') == []
    assert [v['version'] for v in store.versions('hv1')] == [1]
    assert store.version_facts('hv1', 1) == caps(traits=['HW_CPU_X86_AMD_SEV'])


def test_delete_of_an_unknown_key_does_nothing(store):
    store.delete('nope')

    assert store.keys() == []


def test_writing_the_same_facts_after_a_delete_adds_no_version(store):
    store.set('hv1', caps())
    store.delete('hv1')
    store.set('hv1', caps())

    assert store.get('hv1') == caps()
    assert len(store.versions('hv1')) == 1


def test_flush_removes_every_current_fact_but_keeps_the_history(store):
    store.set('hv1', caps())
    store.set('hv2', caps())

    store.flush()

    assert store.keys() == []
    assert store.hosts_with_trait('HW_CPU_X86_AVX2') == []
    assert len(store.versions('hv1')) == 1


def test_flush_with_a_prefix_removes_only_those_keys(store):
    store.set('a_hv1', caps(traits=['CUSTOM_A']), host='hv1')
    store.set('b_hv1', caps(traits=['CUSTOM_B']), host='hv1', now=time.time() - 10)
    store.set('b_hv2', caps(traits=['CUSTOM_B']), host='hv2')

    store.flush('a_')

    assert sorted(store.keys()) == ['b_hv1', 'b_hv2']
    # hv1 is still cached under b_, with the traits of those facts.
    assert store.hosts_with_trait('CUSTOM_A') == []
    assert store.hosts_with_trait('CUSTOM_B') == ['hv1', 'hv2']


# -- content and names -----------------------------------------------------------------------


@pytest.mark.parametrize('host', ODD_HOSTS)
def test_odd_host_names_round_trip_unchanged(store, host):
    store.set('pfx' + host, caps(traits=['CUSTOM_ODD']), host=host)

    assert store.keys('pfx') == ['pfx' + host]
    assert store.get('pfx' + host) == caps(traits=['CUSTOM_ODD'])
    assert store.hosts() == [host]
    assert store.hosts_with_trait('CUSTOM_ODD') == [host]
    assert store.latest(host) == caps(traits=['CUSTOM_ODD'])
    assert [v['version'] for v in store.versions(host)] == [1]


def test_a_prefix_of_odd_characters_selects_exactly_its_keys(store):
    for key in ("it's_a", "it's_b", "it'", 'its_c', "it's\U0010ffff"):
        store.set(key, caps())

    assert sorted(store.keys("it's")) == sorted(["it's_a", "it's_b", "it's\U0010ffff"])
    assert store.keys('%') == []


def test_string_subclasses_and_odd_types_are_stored_as_plain_json(store):
    class Tagged(str):
        pass
    when = datetime.datetime(2024, 5, 8, 10, 0, 0)

    store.set('hv1', {Tagged('name'): Tagged('hv1'), 'when': when, 'set': {'b', 'a'}, 'raw': b'caf\xc3\xa9', 'tuple': (1, 2)})
    value = store.get('hv1')

    assert value == {'name': 'hv1', 'when': '2024-05-08T10:00:00', 'set': ['a', 'b'], 'raw': 'café', 'tuple': [1, 2]}
    assert type(value['name']) is str  # pylint: disable=unidiomatic-typecheck


def test_nan_and_infinities_are_stored_as_null(store):
    store.set('hv1', {'load': float('nan'), 'limits': [float('inf'), -float('inf'), 1.5]})

    assert store.get('hv1') == {'load': None, 'limits': [None, None, 1.5]}


def test_facts_that_contain_themselves_are_refused_with_the_host_named(store):
    facts = {'a': []}
    facts['a'].append(facts)

    with pytest.raises(FactStoreError, match="facts of host 'hv1' cannot be stored as JSON"):
        store.set('hv1', facts)
    assert store.get('hv1') is None


def test_a_set_interrupted_halfway_leaves_nothing_behind(backend, monkeypatch):
    store = backend.open()
    store.set('hv1', caps(total_mb=1), now=1000.0)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt()
    # Raised after the content and the key are written, before the version: all of it is undone.
    monkeypatch.setattr(store, '_queue_traits', interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.set('hv1', caps(total_mb=2), now=2000.0)
    with pytest.raises(KeyboardInterrupt):
        store.set('hv2', caps(total_mb=3), now=2000.0)
    monkeypatch.undo()

    assert store.get('hv1') == caps(total_mb=1)
    assert store.get('hv2') is None
    assert [v['version'] for v in store.versions('hv1')] == [1]
    assert backend.sql('SELECT COUNT(*) FROM blobs')[0][0] == 1
    store.set('hv2', caps(total_mb=3))
    assert store.get('hv2') == caps(total_mb=3)


def test_facts_that_are_not_a_mapping_are_refused(store):
    with pytest.raises(FactStoreError, match="facts of 'hv1' must be a mapping, got list"):
        store.set('hv1', ['x'])


# -- schema ----------------------------------------------------------------------------------


def test_a_new_store_has_the_current_schema_version_and_the_marker(backend):
    store = backend.open()

    assert store.schema_version() == factstore.SCHEMA_VERSION
    assert dict(backend.sql('SELECT key, value FROM meta')) == {'application': 'virtumancer.hostcaps.factdb',
                                                                'schema_version': str(factstore.SCHEMA_VERSION)}
    if backend.name == 'sqlite':
        assert backend.sql('PRAGMA application_id')[0][0] == factstore.SQLITE_APPLICATION_ID
        assert backend.sql('PRAGMA user_version')[0][0] == factstore.SCHEMA_VERSION
        assert backend.sql('PRAGMA journal_mode')[0][0] == 'wal'


def test_a_schema_1_store_is_upgraded_in_place_without_losing_rows(backend, monkeypatch):
    # A store as the first plugin version left it: schema 1, the facts in facts.facts.
    monkeypatch.setattr(factstore, 'SCHEMA_VERSION', 1)
    backend.open().open().close()
    monkeypatch.undo()
    rows = [('pfx_hv1', 'hv1', caps(traits=['CUSTOM_A'], total_mb=1), 1000.0),
            ('pfx_hv2', 'hv2', caps(traits=['CUSTOM_A', 'CUSTOM_B']), 2000.0),
            ("pfx_hv'3", "hv'3", {'ansible_distribution': 'Debian'}, 3000.0)]
    for key, host, facts, updated_at in rows:
        text, digest = factjson.encode(facts)
        backend.sql('INSERT INTO facts (cache_key, host, hash, updated_at, facts) VALUES (?, ?, ?, ?, ?)',
                    (key, host, digest, updated_at, text))

    store = backend.open()

    assert store.schema_version() == factstore.SCHEMA_VERSION
    assert sorted(store.keys()) == sorted(key for key, dummy, dummy, dummy in rows)
    for key, host, facts, updated_at in rows:
        assert store.get(key) == facts
        assert store.updated_at(key) == updated_at
        assert [(v['version'], v['collected_at']) for v in store.versions(host)] == [(1, factstore.iso_utc(updated_at))]
    assert store.versions('hv1')[0]['schema_version'] == 1
    assert store.hosts_with_trait('CUSTOM_A') == ['hv1', 'hv2']
    assert store.hosts_with_trait('CUSTOM_B') == ['hv2']
    store.set('pfx_hv1', caps(traits=['CUSTOM_A'], total_mb=2), host='hv1')
    assert [v['version'] for v in store.versions('hv1')] == [1, 2]


def test_a_schema_2_store_is_upgraded_in_place_and_keeps_its_history(backend, monkeypatch):
    # Schema 2 kept facts as JSONB on PostgreSQL; schema 3 keeps the canonical text on both.
    monkeypatch.setattr(factstore, 'SCHEMA_VERSION', 2)
    backend.open().open().close()
    monkeypatch.undo()
    # The rows its plugin wrote for three writes.
    for host, version, facts, now in (('hv1', 1, caps(traits=['CUSTOM_A'], total_mb=1), 1000.0),
                                      ('hv1', 2, caps(traits=['CUSTOM_A'], total_mb=2), 2000.0),
                                      ("hv'2", 1, {'name': 'hôte'}, 3000.0)):
        text, digest = factjson.encode(facts)
        backend.sql('INSERT INTO blobs (host, hash, facts) VALUES (?, ?, ?)', (host, digest, text))
        backend.sql('INSERT INTO versions (host, version, hash, schema_version, created_at) VALUES (?, ?, ?, ?, ?)',
                    (host, version, digest, factstore.facts_schema_version(facts), now))
        backend.sql('INSERT INTO facts (cache_key, host, hash, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (cache_key)'
                    ' DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at', (host, host, digest, now))
        backend.sql("INSERT INTO host_traits (host, traits, indexed, pending) VALUES (?, ?, '[]', 1) ON CONFLICT (host)"
                    ' DO UPDATE SET traits = excluded.traits', (host, json.dumps(sorted(factstore.facts_traits(facts)))))
    if backend.name == 'postgresql':
        assert backend.sql("SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema()"
                           " AND table_name = 'blobs' AND column_name = 'facts'") == [('jsonb',)]

    store = backend.open()

    assert store.schema_version() == factstore.SCHEMA_VERSION == 5
    if backend.name == 'postgresql':
        assert backend.sql("SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema()"
                           " AND table_name = 'blobs' AND column_name = 'facts'") == [('text',)]
    assert store.get('hv1') == caps(traits=['CUSTOM_A'], total_mb=2)
    assert store.get("hv'2") == {'name': 'hôte'}
    assert store.version_facts('hv1', 1) == caps(traits=['CUSTOM_A'], total_mb=1)
    assert store.hosts_with_trait('CUSTOM_A') == ['hv1']
    # The digests of the older versions still tell an identical write.
    store.set('hv1', caps(traits=['CUSTOM_A'], total_mb=2), now=4000.0)
    assert [v['version'] for v in store.versions('hv1')] == [1, 2]


def test_a_schema_3_store_is_upgraded_and_its_versions_compared_by_configuration(backend, monkeypatch):
    # Schema 3 had no run nor configuration digest per version: rows as its plugin wrote them.
    monkeypatch.setattr(factstore, 'SCHEMA_VERSION', 3)
    backend.open().open().close()
    monkeypatch.undo()
    facts = cached_facts()
    first, second = caps(total_mb=1), facts
    for version, content, created_at in ((1, first, 1000.0), (2, second, 2000.0)):
        text, digest = factjson.encode(content)
        backend.sql('INSERT INTO blobs (host, hash, facts) VALUES (?, ?, ?)', ('hv1', digest, text))
        backend.sql('INSERT INTO versions (host, version, hash, schema_version, created_at) VALUES (?, ?, ?, ?, ?)',
                    ('hv1', version, digest, 1, created_at))
    backend.sql('INSERT INTO facts (cache_key, host, hash, updated_at) VALUES (?, ?, ?, ?)', ('hv1', 'hv1', digest, 2000.0))

    store = backend.open()

    assert store.schema_version() == factstore.SCHEMA_VERSION == 5
    assert [(v['version'], v['updated_at']) for v in store.versions('hv1')] == [
        (1, factstore.iso_utc(1000.0)), (2, factstore.iso_utc(2000.0))]
    store.set('hv1', later(facts), run='run-1', now=3000.0)
    assert [v['version'] for v in store.versions('hv1')] == [1, 2]
    assert store.version_facts('hv1', 2) == later(facts)
    changed = later(facts, 90)
    changed['libvirt_host_caps']['memory_info']['total_mb'] = 8192
    store.set('hv1', changed, run='run-2', now=4000.0)
    assert [v['version'] for v in store.versions('hv1')] == [1, 2, 3]
    assert store.version_facts('hv1', 1) == first


def test_a_store_of_a_newer_schema_is_refused(backend):
    backend.open().open().close()
    backend.sql("UPDATE meta SET value = '99' WHERE key = 'schema_version'")

    with pytest.raises(FactStoreError, match='schema version 99, newer than this virtumancer.hostcaps knows \\(%d\\); upgrade' % factstore.SCHEMA_VERSION):
        backend.open().open()


def test_two_stores_on_one_database_see_each_others_writes(backend):
    first = backend.open()
    second = backend.open()

    first.set('hv1', caps())

    assert second.get('hv1') == caps()


def _write_hosts(connection, name, count, errors):
    try:
        store = open_store(connection)
        for number in range(count):
            store.set('%s-%04d' % (name, number), caps(total_mb=number))
        store.close()
    except Exception as exc:  # pylint: disable=broad-except
        errors.put('%s: %s' % (name, exc))


def test_two_processes_writing_at_once_lose_no_host(backend):
    backend.open().open()
    context = multiprocessing.get_context('fork')
    errors = context.Queue()
    writers = [context.Process(target=_write_hosts, args=(backend.connection, name, 150, errors)) for name in ('a', 'b')]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)

    assert errors.empty(), errors.get()
    store = backend.open()
    assert len(store.keys()) == 300
    assert store.get('b-0149') == caps(total_mb=149)


def _create_at_once(connection, name, barrier, errors):
    try:
        barrier.wait(30)
        store = open_store(connection)
        store.set(name, caps())
        store.close()
    except Exception as exc:  # pylint: disable=broad-except
        errors.put('%s: %s' % (name, exc))


def test_two_processes_creating_the_store_at_once_both_succeed(backend):
    context = multiprocessing.get_context('fork')
    errors = context.Queue()
    barrier = context.Barrier(3)
    creators = [context.Process(target=_create_at_once, args=(backend.connection, name, barrier, errors)) for name in ('a', 'b', 'c')]
    for creator in creators:
        creator.start()
    for creator in creators:
        creator.join(60)

    assert errors.empty(), errors.get()
    assert sorted(backend.open().keys()) == ['a', 'b', 'c']


def _use_inherited_store(store, queue):
    try:
        store.set('child', caps())
        queue.put(store.get('parent') == caps())
    except Exception as exc:  # pylint: disable=broad-except
        queue.put(repr(exc))


def test_a_forked_child_opens_its_own_connection_and_leaves_the_parents_alone(store):
    store.set('parent', caps())
    context = multiprocessing.get_context('fork')
    queue = context.Queue()
    child = context.Process(target=_use_inherited_store, args=(store, queue))
    child.start()
    child.join(60)

    assert queue.get(timeout=5) is True
    assert store.get('child') == caps()
    store.set('parent-again', caps())
    assert sorted(store.keys()) == ['child', 'parent', 'parent-again']


def test_a_closed_store_refuses_calls(store):
    store.close()

    with pytest.raises(FactStoreError, match='used after close'):
        store.get('hv1')


# -- SQLite file safety ----------------------------------------------------------------------


def _foreign_sqlite(path):
    conn = sqlite3.connect(path)
    conn.execute('CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)')
    conn.execute("INSERT INTO moz_places (url) VALUES ('https://example.com')")
    conn.commit()
    conn.close()


def _truncated_store(path):
    store = open_store(path)
    for number in range(40):
        store.set('hv%d' % number, caps(total_mb=number))
    store.close()
    with open(path, 'r+b') as handle:
        handle.truncate(os.path.getsize(path) // 2)


def _random_bytes(path):
    with open(path, 'wb') as handle:
        handle.write(os.urandom(8192))


def _short_sqlite_header(path):
    with open(path, 'wb') as handle:
        handle.write(b'SQLite format 3\x00' + b'\x00' * 20)


def _newer_store(path):
    open_store(path).open().close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()


def _meta_of_another_application(path):
    conn = sqlite3.connect(path)
    conn.execute('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)')
    conn.execute("INSERT INTO meta VALUES ('application', 'someone.else')")
    conn.commit()
    conn.close()


@pytest.mark.parametrize('make, message', [
    (_random_bytes, 'is not an SQLite database'),
    (_truncated_store, 'is damaged: .*truncated'),
    (_short_sqlite_header, 'is damaged: 36 bytes, shorter than the 100-byte SQLite header'),
    (_foreign_sqlite, 'is an SQLite database of another application \\(tables: moz_places\\)'),
    (_meta_of_another_application, 'is an SQLite database of another application \\(tables: meta\\)'),
    (_newer_store, 'schema version 99, newer than this virtumancer.hostcaps knows'),
], ids=['random-bytes', 'truncated', 'short-header', 'foreign', 'foreign-meta', 'newer-schema'])
def test_a_file_that_is_not_our_store_is_refused_and_left_untouched(tmp_path, make, message):
    path = str(tmp_path / 'facts.db')
    make(path)
    os.chmod(path, 0o600)  # private, as a store must be: what is refused is the content
    before = sha256_of(path)
    files = sorted(os.listdir(str(tmp_path)))

    store = open_store(path)  # nothing is read yet
    with pytest.raises(FactStoreError) as caught:
        store.set('hv1', caps())

    assert path in str(caught.value)
    assert caught.match(message)
    assert caught.match('it was left untouched')
    assert sha256_of(path) == before
    assert sorted(os.listdir(str(tmp_path))) == files


def test_a_directory_at_the_path_is_refused(tmp_path):
    with pytest.raises(FactStoreError, match='is a directory, not an SQLite file'):
        open_store(str(tmp_path)).open()


def test_an_empty_sqlite_database_becomes_a_store(tmp_path):
    path = str(tmp_path / 'facts.db')
    sqlite3.connect(path).close()
    os.chmod(path, 0o600)

    store = open_store(path)
    store.set('hv1', caps())

    assert store.get('hv1') == caps()


def test_the_file_and_the_directories_it_needs_are_private_whatever_the_umask(tmp_path):
    path = tmp_path / 'home' / '.ansible' / 'hostcaps' / 'facts.db'
    old_umask = os.umask(0)
    try:
        open_store(str(path)).open().close()
    finally:
        os.umask(old_umask)

    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    for directory in (path.parent, path.parent.parent, path.parent.parent.parent):
        assert stat.S_IMODE(os.stat(str(directory)).st_mode) == 0o700


def test_an_existing_directory_keeps_its_mode(tmp_path):
    os.chmod(str(tmp_path), 0o755)

    open_store(str(tmp_path / 'facts.db')).open().close()

    assert stat.S_IMODE(os.stat(str(tmp_path)).st_mode) == 0o755


def test_the_tilde_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv('HOME', str(tmp_path))

    open_store('~/sub/facts.db').open().close()

    assert os.path.isfile(str(tmp_path / 'sub' / 'facts.db'))


def test_without_create_a_missing_file_is_an_error_and_stays_missing(tmp_path):
    path = str(tmp_path / 'none' / 'facts.db')

    with pytest.raises(FactStoreError, match='does not exist: no factdb store there yet'):
        open_store(path, create=False).open()
    assert not os.path.exists(str(tmp_path / 'none'))


NOBODY = 65534


def _files(directory):
    return sorted((name, stat.S_IMODE(os.lstat(os.path.join(directory, name)).st_mode), os.lstat(os.path.join(directory, name)).st_size)
                  for name in os.listdir(directory))


@pytest.mark.parametrize('create', [True, False], ids=['cache', 'lookup'])
def test_a_dangling_symbolic_link_is_refused_and_its_target_not_created(tmp_path, create):
    path = str(tmp_path / 'facts.db')
    os.symlink(str(tmp_path / 'elsewhere' / 'facts.db'), path)

    with pytest.raises(FactStoreError, match="facts.db is a symbolic link to '.*elsewhere/facts.db', which does not exist; remove the link"):
        open_store(path, create=create).open()
    assert _files(str(tmp_path)) == [('facts.db', 0o777, len(str(tmp_path / 'elsewhere' / 'facts.db')))]


@pytest.mark.parametrize('create', [True, False], ids=['cache', 'lookup'])
def test_a_loop_of_symbolic_links_is_refused(tmp_path, create):
    path = str(tmp_path / 'facts.db')
    os.symlink(str(tmp_path / 'other.db'), path)
    os.symlink(path, str(tmp_path / 'other.db'))

    with pytest.raises(FactStoreError, match='facts.db is a loop of symbolic links; remove them'):
        open_store(path, create=create).open()


@pytest.mark.parametrize('create', [True, False], ids=['cache', 'lookup'])
def test_a_fifo_at_the_path_is_refused_without_opening_it(tmp_path, create):
    path = str(tmp_path / 'facts.db')
    os.mkfifo(path, 0o600)

    with pytest.raises(FactStoreError, match='facts.db is not a regular file \\(prw-------\\); point fact_caching_connection at a file'):
        open_store(path, create=create).open()


@pytest.mark.parametrize('link', [False, True], ids=['file', 'link'])
@pytest.mark.parametrize('create', [True, False], ids=['cache', 'lookup'])
def test_a_pre_created_file_other_users_can_open_is_refused_and_keeps_its_mode(tmp_path, create, link):
    target = tmp_path / 'planted.db'
    target.write_bytes(b'')
    os.chmod(str(target), 0o666)
    path = str(tmp_path / 'facts.db') if link else str(target)
    if link:
        os.symlink(str(target), path)
    before = _files(str(tmp_path))

    with pytest.raises(FactStoreError) as caught:
        open_store(path, create=create).open()

    named = '%s (a symbolic link to %s)' % (path, target) if link else path
    assert str(caught.value) == ("%s has mode 0666: the group or other users may read or change every host's facts; if it is "
                                 "yours, run chmod 600 %s; it was left untouched" % (named, target))
    assert _files(str(tmp_path)) == before


@pytest.mark.parametrize('link', [False, True], ids=['file', 'link'])
def test_a_file_of_another_user_is_refused_whatever_its_mode(tmp_path, link):
    target = tmp_path / 'planted.db'
    target.write_bytes(b'')
    os.chmod(str(target), 0o600)
    os.chown(str(target), NOBODY, NOBODY)
    path = str(tmp_path / 'facts.db') if link else str(target)
    if link:
        os.symlink(str(target), path)

    with pytest.raises(FactStoreError, match='planted.db.* belongs to uid 65534 .*, not to uid %d .*who runs Ansible: a store must be '
                                             'private to that user; move it away so that the plugin creates its own, or chown it'
                                             % os.geteuid()):
        open_store(path).set('hv1', caps())
    assert target.read_bytes() == b''


@pytest.mark.parametrize('suffix', ['-wal', '-shm'])
@pytest.mark.parametrize('owner, mode', [(NOBODY, 0o600), (None, 0o644)], ids=['other-user', 'readable'])
def test_the_files_sqlite_keeps_next_to_the_store_must_be_private_too(tmp_path, suffix, owner, mode):
    path = str(tmp_path / 'facts.db')
    with open_store(path) as store:
        store.set('hv1', caps())
    # Closed: SQLite removed its -wal and -shm.
    side = path + suffix
    with open(side, 'wb'):
        pass
    os.chmod(side, mode)
    if owner is not None:
        os.chown(side, owner, owner)

    with pytest.raises(FactStoreError, match='%s, a file SQLite keeps next to the store %s, (belongs to uid 65534|has mode 0644)'
                                             % (side, path)):
        open_store(path, create=False).get('hv1')


@pytest.mark.parametrize('mode, owner', [(0o777, None), (0o1777, None), (0o770, None), (0o700, NOBODY)],
                         ids=['world-writable', 'sticky', 'group-writable', 'other-user'])
def test_a_store_in_a_directory_others_may_write_is_refused(tmp_path, mode, owner):
    directory = tmp_path / 'shared'
    directory.mkdir()
    os.chmod(str(directory), mode)
    if owner is not None:
        os.chown(str(directory), owner, owner)
    path = str(directory / 'facts.db')

    with pytest.raises(FactStoreError) as caught:
        open_store(path).open()

    message = str(caught.value)
    assert message.startswith('the directory %s of the store %s ' % (directory, path)), message
    assert ('chmod go-w %s' % directory) in message or 'belongs to uid 65534' in message
    assert os.listdir(str(directory)) == []


def _open_as_nobody(path, queue):
    os.setgid(NOBODY)
    os.setuid(NOBODY)
    try:
        open_store(path).open()
        queue.put('opened')
    except FactStoreError as exc:
        queue.put(str(exc))
    except BaseException as exc:  # pylint: disable=broad-except
        queue.put('%s: %s' % (type(exc).__name__, exc))


def test_a_store_its_user_cannot_read_is_a_clear_error():
    directory = tempfile.mkdtemp(prefix='factdb-unreadable-')
    try:
        os.chmod(directory, 0o755)
        os.chown(directory, NOBODY, NOBODY)
        path = os.path.join(directory, 'facts.db')
        with open(path, 'wb') as handle:
            handle.write(b'SQLite format 3\x00' + b'\x00' * 200)
        os.chmod(path, 0o000)
        os.chown(path, NOBODY, NOBODY)
        context = multiprocessing.get_context('fork')
        queue = context.Queue()
        child = context.Process(target=_open_as_nobody, args=(path, queue))
        child.start()
        outcome = queue.get(timeout=30)
        child.join(10)
    finally:
        shutil.rmtree(directory)

    assert outcome == ('%s cannot be read (%r: Permission denied): the store must be readable and writable by the user running '
                       'Ansible; check the permissions of the file and of its directories' % (path, path))


def test_reading_without_create_never_creates_the_file(tmp_path):
    path = str(tmp_path / 'facts.db')
    store = open_store(path, create=False)

    with pytest.raises(FactStoreError, match='cannot be opened: unable to open database file'):
        store._connect('ro')  # pylint: disable=protected-access  # the open that follows every check
    assert os.listdir(str(tmp_path)) == []


def test_reading_without_create_changes_nothing_in_the_store(tmp_path):
    path = str(tmp_path / 'facts.db')
    with open_store(path) as store:
        store.set('hv1', caps())
    before = sha256_of(path)

    with open_store(path, create=False) as store:
        assert store.get('hv1') == caps()
        with pytest.raises(FactStoreError, match='readonly database'):
            store.set('hv2', caps())
    assert sha256_of(path) == before
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_reading_an_older_store_without_create_upgrades_it(tmp_path, monkeypatch):
    path = str(tmp_path / 'facts.db')
    monkeypatch.setattr(factstore, 'SCHEMA_VERSION', 3)
    open_store(path).open().close()
    monkeypatch.undo()

    with open_store(path, create=False) as store:
        assert store.schema_version() == factstore.SCHEMA_VERSION
        assert store.hosts() == []


# -- damaged rows and names that are not text ------------------------------------------------


@pytest.mark.parametrize('content, why', [('{"libvirt_host_caps": {', 'they are not JSON'), ('[1, 2]', 'they are JSON list, not an object')],
                         ids=['not-json', 'not-an-object'])
def test_damaged_current_facts_are_an_error_naming_the_host_and_the_fix(backend, content, why):
    store = backend.open()
    store.set('hv1', caps())
    store.set('hv2', caps(total_mb=1))
    backend.sql("UPDATE blobs SET facts = ? WHERE host = 'hv1'", (content,))

    for read in (lambda: store.get('hv1'), lambda: store.latest('hv1')):
        with pytest.raises(FactStoreError) as caught:
            read()
        message = str(caught.value)
        assert message.startswith('store %s: the current facts of ' % store.name), message
        assert "'hv1' are damaged: %s" % why in message, message
        assert message.endswith('remove them with ansible-playbook --flush-cache or a meta: clear_facts task for the host, '
                                'then gather them again (its history is kept)')
    with pytest.raises(FactStoreError, match="the facts of version 1 of host 'hv1' are damaged: %s" % why):
        store.version_facts('hv1', 1)
    assert store.get('hv2') == caps(total_mb=1)


def test_a_write_over_a_damaged_version_adds_one_and_keeps_the_damaged_one(backend):
    store = backend.open()
    store.set('hv1', caps())
    backend.sql("UPDATE blobs SET facts = 'garbage' WHERE host = 'hv1'")

    store.set('hv1', caps(total_mb=1))

    assert store.get('hv1') == caps(total_mb=1)
    assert [v['version'] for v in store.versions('hv1')] == [1, 2]
    assert backend.sql("SELECT COUNT(*) FROM blobs WHERE host = 'hv1' AND facts = 'garbage'") == [(1,)]


def test_clearing_damaged_current_facts_lets_them_be_written_again(backend):
    store = backend.open()
    store.set('hv1', caps())
    store.set('hv1', caps(total_mb=1))
    backend.sql("UPDATE blobs SET facts = 'garbage' WHERE host = 'hv1' AND hash = (SELECT hash FROM facts WHERE cache_key = 'hv1')")

    store.delete('hv1')
    store.set('hv1', caps(total_mb=2))

    assert store.get('hv1') == caps(total_mb=2)
    assert store.version_facts('hv1', 1) == caps()


@pytest.mark.parametrize('call', [
    lambda store, name: store.set(name, caps()),
    lambda store, name: store.get(name),
    lambda store, name: store.contains(name),
    lambda store, name: store.delete(name),
    lambda store, name: store.versions(name),
    lambda store, name: store.latest(name),
    lambda store, name: store.keys(name),
], ids=['set', 'get', 'contains', 'delete', 'versions', 'latest', 'keys'])
def test_a_host_name_that_is_not_text_is_a_clear_error(backend, call):
    # An INI inventory in Latin-1: the byte 0xff reaches Python as the lone surrogate U+DCFF.
    name = b'hv\xff1'.decode('utf-8', 'surrogateescape')
    store = backend.open()
    store.set('hv1', caps())

    with pytest.raises(FactStoreError) as caught:
        call(store, name)

    assert str(caught.value) == ("store %s: 'hv\\udcff1' is not valid text: it holds '\\udcff' at position 2, which stands for "
                                 'a byte that is not UTF-8; host names, the cache prefix and traits are stored as UTF-8, so '
                                 'write the inventory in UTF-8 or rename the host' % store.name)
    assert store.get('hv1') == caps()


def _count_keys(path):
    if not os.path.exists(path):
        return 0
    with open_store(path) as store:
        return len(store.keys())


def test_a_store_killed_mid_write_opens_with_its_committed_hosts(tmp_path):
    path = str(tmp_path / 'facts.db')
    context = multiprocessing.get_context('fork')

    def write_forever():
        store = open_store(path)
        number = 0
        while True:
            store.set('hv%06d' % number, caps(total_mb=number))
            number += 1
    writer = context.Process(target=write_forever)
    writer.start()
    deadline = time.time() + 30
    while time.time() < deadline and _count_keys(path) < 200:
        time.sleep(0.05)
    os.kill(writer.pid, 9)
    writer.join(10)

    store = open_store(path)
    keys = sorted(store.keys())
    assert len(keys) >= 200
    assert keys == ['hv%06d' % n for n in range(len(keys))]
    assert store.get(keys[-1]) == caps(total_mb=len(keys) - 1)


# -- PostgreSQL connection errors ------------------------------------------------------------


def test_a_wrong_postgresql_password_is_a_clear_error_without_the_password():
    dsn = postgres_dsn()
    import psycopg
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    secret = 'not-the-password-%s' % uuid.uuid4().hex[:8]
    uri = 'postgresql://%s:%s@%s:%s/%s' % (info.get('user'), secret, info.get('host'), info.get('port', 5432), info.get('dbname'))

    with pytest.raises(FactStoreError) as caught:
        open_store(uri).open()

    message = str(caught.value)
    assert secret not in message
    assert 'cannot connect to the PostgreSQL store postgresql://%s:***@' % info.get('user') in message
    assert 'password authentication failed' in message


def test_a_password_in_the_query_string_is_masked_too():
    dsn = postgres_dsn()
    import psycopg
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    secret = 'q-secret-%s' % uuid.uuid4().hex[:8]
    uri = 'postgresql://%s:%s/%s?user=%s&password=%s' % (info.get('host'), info.get('port', 5432), info.get('dbname'), info.get('user'), secret)

    with pytest.raises(FactStoreError) as caught:
        open_store(uri).open()

    assert secret not in str(caught.value)
    assert 'password=***' in str(caught.value)


def test_an_unreachable_server_names_the_uri_without_the_password():
    with pytest.raises(FactStoreError) as caught:
        open_store('postgres://me:s3cr3t-pw@127.0.0.1:1/facts?connect_timeout=2').open()

    assert 's3cr3t-pw' not in str(caught.value)
    assert 'postgres://me:***@127.0.0.1:1/facts' in str(caught.value)


@pytest.mark.parametrize('uri, masked', [
    ('postgresql://u:p%40ss@db:5432/facts', 'postgresql://u:***@db:5432/facts'),
    ('postgresql://u@db/facts', 'postgresql://u@db/facts'),
    ('postgresql://db/facts?user=u&password=pw&sslmode=require', 'postgresql://db/facts?user=u&password=***&sslmode=require'),
])
def test_mask_uri_hides_only_the_password(uri, masked):
    assert mask_uri(uri) == masked


@pytest.mark.parametrize('uri', [
    'postgresql://user:Sekr1t-pw@[::1/db',
    'postgresql://user:Sekr1t-pw@[]/db',
    'postgresql://user:Sekr1t-pw@127.0.0.1:abc/db',
    'postgresql://user:Sekr1t-pw@127.0.0.1:99999999/db',
    'postgresql://user@[::1/db?password=Sekr1t-pw',
    'postgresql://user:Sekr1t-pw?x@127.0.0.1:1/db',
])
def test_a_uri_libpq_cannot_parse_is_refused_without_its_password(uri):
    with pytest.raises(FactStoreError) as caught:
        open_store(uri).open()

    message = str(caught.value)
    assert 'Sekr1t' not in message
    assert message.startswith('cannot connect to the PostgreSQL store %s: ' % mask_uri(uri))
    assert '***' in mask_uri(uri)


def test_without_psycopg_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, 'psycopg', None)

    with pytest.raises(FactStoreError, match="psycopg \\(version 3\\) is needed .* pip install 'psycopg\\[binary\\]'"):
        open_store('postgresql://u:pw@127.0.0.1/facts').open()


def test_an_unknown_uri_scheme_is_refused():
    with pytest.raises(FactStoreError, match="unsupported URI scheme 'mysql'; use a path to an SQLite file or a postgresql:// URI"):
        open_store('mysql://u:pw@db/facts')
