# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The factdb lookup, loaded by Ansible's lookup loader, on a real SQLite store."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import hashlib
import importlib
import os
import sqlite3
import sys

import pytest

from hypothesis import HealthCheck, given, settings, strategies as st

from ansible.errors import AnsibleError, AnsibleLookupError
from ansible.plugins.loader import init_plugin_loader, lookup_loader
from ansible.utils.collection_loader import AnsibleCollectionConfig

from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import facts_from

factstore = pytest.importorskip('ansible_collections.virtumancer.hostcaps.plugins.module_utils.store.factstore')

COLLECTION = 'ansible_collections.virtumancer.hostcaps'
SEV = 'amd-epyc-sev.caps.xml'
SEV_Q35 = 'amd-epyc-sev.domcaps-q35.xml'
MILAN = 'debian12-epyc-milan-kvm.caps.xml'
MILAN_Q35 = 'debian12-epyc-milan-kvm.domcaps-q35.xml'
SEV_TRAIT = 'HW_CPU_X86_AMD_SEV'


def sev_host():
    return {'libvirt_host_caps': facts_from(SEV, SEV_Q35)}


def sev_host_after_update():
    """hv1 after a firmware update: SEV disabled, one NUMA node's memory gone."""
    facts = sev_host()
    caps = facts['libvirt_host_caps']
    caps['traits'].remove(SEV_TRAIT)
    caps['memory_info']['total_mb'] = 128715
    caps['collected_at'] = '2099-01-01T00:00:00Z'
    return facts


@pytest.fixture
def store_path(tmp_path):
    """A store where hv1 has two versions (SEV, then no SEV) and hv2 one."""
    path = str(tmp_path / 'facts.db')
    store = factstore.open_store(path, create=True)
    try:
        store.set('hv1', sev_host(), host='hv1')
        store.set('hv1', sev_host_after_update(), host='hv1')
        store.set('hv2', {'libvirt_host_caps': facts_from(MILAN, MILAN_Q35)}, host='hv2')
    finally:
        store.close()
    return path


@pytest.fixture(scope='module')
def collection_loader():
    """Plain pytest has no collection finder; ansible-playbook and ansible-test install one."""
    if AnsibleCollectionConfig.collection_finder is None:
        init_plugin_loader()
        # The collection was imported as a plain package before the finder existed; import it
        # again through the finder, which loads the metadata plugin loading needs.
        sys.modules.pop(COLLECTION, None)
        importlib.import_module(COLLECTION)


@pytest.fixture
def factdb(collection_loader):  # pylint: disable=redefined-outer-name,unused-argument
    lookup = lookup_loader.get('virtumancer.hostcaps.factdb')
    assert lookup is not None, 'lookup virtumancer.hostcaps.factdb not found: put .tmp/collections on PYTHONPATH or ANSIBLE_COLLECTIONS_PATH (make units does)'

    def run(*terms, **options):
        return lookup.run(list(terms), variables={}, **options)
    return run


def test_hosts_lists_every_stored_host(factdb, store_path):
    assert factdb('hosts', connection=store_path) == ['hv1', 'hv2']


def test_hosts_with_a_trait_are_those_whose_latest_facts_have_it(factdb, store_path):
    assert factdb('hosts', trait='COMPUTE_SECURITY_TPM_2_0', connection=store_path) == ['hv1', 'hv2']
    assert factdb('hosts', trait='HW_CPU_X86_AMD_SEV_ES', connection=store_path) == ['hv1']


def test_a_trait_only_an_older_version_had_matches_no_host(factdb, store_path):
    assert factdb('hosts', trait=SEV_TRAIT, connection=store_path) == []


def test_a_trait_no_host_has_gives_an_empty_list(factdb, store_path):
    assert factdb('hosts', trait='CUSTOM_NOBODY', connection=store_path) == []


def test_latest_is_one_element_holding_the_latest_facts(factdb, store_path):
    latest = factdb('latest', host='hv1', connection=store_path)

    assert len(latest) == 1
    assert latest[0]['libvirt_host_caps']['memory_info']['total_mb'] == 128715
    assert SEV_TRAIT not in latest[0]['libvirt_host_caps']['traits']


def test_versions_are_listed_oldest_first(factdb, store_path):
    versions = factdb('versions', host='hv1', connection=store_path)

    assert len(versions) == 2
    assert versions[0]['version'] < versions[1]['version']
    assert [v['schema_version'] for v in versions] == [1, 1]
    assert set(versions[0]) >= {'version', 'collected_at', 'schema_version', 'hash'}
    assert versions[0]['hash'] != versions[1]['hash']


def test_diff_defaults_to_the_last_change(factdb, store_path):
    assert factdb('diff', host='hv1', connection=store_path) == [
        {'path': 'libvirt_host_caps.memory_info.total_mb', 'op': 'changed', 'old': 257430, 'new': 128715},
        {'path': 'libvirt_host_caps.traits', 'op': 'removed', 'old': SEV_TRAIT},
    ]


def test_diff_between_named_versions_runs_either_way(factdb, store_path):
    first, last = [v['version'] for v in factdb('versions', host='hv1', connection=store_path)]

    changes = factdb('diff', host='hv1', from_version=last, to_version=first, connection=store_path)

    assert {'path': 'libvirt_host_caps.traits', 'op': 'added', 'new': SEV_TRAIT} in changes


def test_diff_up_to_the_first_version_is_empty(factdb, store_path):
    first = factdb('versions', host='hv1', connection=store_path)[0]['version']

    assert factdb('diff', host='hv1', to_version=first, connection=store_path) == []
    assert factdb('diff', host='hv2', connection=store_path) == []


def test_diff_ignores_the_keys_it_is_given(factdb, store_path):
    changes = factdb('diff', host='hv1', ignore=['collected_at', 'total_mb'], connection=store_path)

    assert changes == [{'path': 'libvirt_host_caps.traits', 'op': 'removed', 'old': SEV_TRAIT}]


def test_collected_at_is_ignored_by_default(factdb, store_path):
    changes = factdb('diff', host='hv1', connection=store_path)

    assert not [c for c in changes if 'collected_at' in c['path']]
    assert [c['path'] for c in factdb('diff', host='hv1', ignore=[], connection=store_path)].count('libvirt_host_caps.collected_at') == 1


def test_diff_leaves_out_counters_and_derived_resources_by_default(factdb, tmp_path):
    path = str(tmp_path / 'facts.db')
    after = sev_host_after_update()
    caps = after['libvirt_host_caps']
    # What the module reports along with the lost memory: the resource derived from it, and
    # counters that moved meanwhile.
    caps['resources']['MEMORY_MB']['total'] = 128715
    caps['resources']['MEMORY_MB']['used'] = 4096
    caps['memory_info']['free_mb'] = 100000
    caps['memory_info']['cells'][0]['free_mb'] = 50000
    with factstore.open_store(path) as store:
        store.set('hv1', sev_host())
        store.set('hv1', after)

    assert factdb('diff', host='hv1', connection=path) == [
        {'path': 'libvirt_host_caps.memory_info.total_mb', 'op': 'changed', 'old': 257430, 'new': 128715},
        {'path': 'libvirt_host_caps.traits', 'op': 'removed', 'old': SEV_TRAIT},
    ]
    compared = [c['path'] for c in factdb('diff', host='hv1', ignore=['collected_at'], connection=path)]
    assert {'libvirt_host_caps.resources.MEMORY_MB.total', 'libvirt_host_caps.resources.MEMORY_MB.used',
            'libvirt_host_caps.memory_info.free_mb', 'libvirt_host_caps.memory_info.cells[id=0].free_mb'} <= set(compared)


def test_a_path_in_ignore_the_grammar_cannot_read_is_named(factdb, store_path):
    with pytest.raises(AnsibleLookupError, match=r"option ignore: volatile path 'memory_info\.\.free_mb'"):
        factdb('diff', host='hv1', ignore=['memory_info..free_mb'], connection=store_path)


def test_connection_defaults_to_the_cache_setting(factdb, store_path, monkeypatch):
    monkeypatch.setenv('ANSIBLE_CACHE_PLUGIN_CONNECTION', store_path)

    assert factdb('hosts') == ['hv1', 'hv2']


def test_the_host_name_is_passed_unchanged(factdb, tmp_path):
    path = str(tmp_path / 'odd.db')
    odd = "hv'1\"/../ü"
    store = factstore.open_store(path, create=True)
    try:
        store.set(odd, sev_host(), host=odd)
    finally:
        store.close()

    assert factdb('hosts', trait=SEV_TRAIT, connection=path) == [odd]
    assert len(factdb('versions', host=odd, connection=path)) == 1


def test_an_unknown_query_names_it_and_the_valid_ones(factdb, store_path):
    with pytest.raises(AnsibleLookupError, match="unknown query 'host'; use one of hosts, latest, versions, diff"):
        factdb('host', connection=store_path)


def test_more_than_one_term_is_refused(factdb, store_path):
    with pytest.raises(AnsibleLookupError, match=r"expected one term.*\['latest', 'hv1'\].*host= as keywords"):
        factdb('latest', 'hv1', connection=store_path)


@pytest.mark.parametrize('query', ['latest', 'versions', 'diff'])
def test_a_missing_host_option_says_how_to_pass_it(factdb, store_path, query):
    with pytest.raises(AnsibleLookupError, match="query '%s' needs the option host.*host='hv1'" % query):
        factdb(query, connection=store_path)


@pytest.mark.parametrize('query', ['latest', 'versions', 'diff'])
def test_an_unknown_host_is_named(factdb, store_path, query):
    with pytest.raises(AnsibleLookupError, match="host 'hv9' has no facts in the store .*facts.db.*query 'hosts' lists"):
        factdb(query, host='hv9', connection=store_path)


@pytest.mark.parametrize('option', ['from_version', 'to_version'])
def test_an_unknown_version_lists_the_versions_there_are(factdb, store_path, option):
    versions = [v['version'] for v in factdb('versions', host='hv1', connection=store_path)]

    with pytest.raises(AnsibleLookupError, match=r"host 'hv1' has no version 999 \(%s=999\); its versions are %d-%d" % (option, versions[0], versions[1])):
        factdb('diff', host='hv1', connection=store_path, **{option: 999})


def test_an_option_of_another_query_is_refused(factdb, store_path):
    with pytest.raises(AnsibleLookupError, match=r"option host='hv1' has no meaning for query 'hosts'; it is read by 'latest', 'versions', 'diff'"):
        factdb('hosts', host='hv1', connection=store_path)


def test_a_missing_store_is_not_created(factdb, tmp_path):
    path = tmp_path / 'absent' / 'facts.db'

    with pytest.raises(AnsibleLookupError, match='factdb lookup: %s does not exist' % path):
        factdb('hosts', connection=str(path))
    assert not path.exists()
    assert not path.parent.exists()


def test_a_foreign_file_is_an_error_and_stays_unchanged(factdb, tmp_path):
    path = tmp_path / 'notes.db'
    path.write_bytes(b'not a database, but somebody needs it\n' * 100)
    path.chmod(0o600)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()

    with pytest.raises(AnsibleLookupError, match='factdb lookup: %s is not an SQLite database' % path):
        factdb('hosts', connection=str(path))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_a_postgresql_password_is_never_shown(factdb):
    with pytest.raises(AnsibleLookupError) as failure:
        factdb('hosts', connection='postgresql://ansible:s3cr3t-pw@127.0.0.1:1/facts?connect_timeout=2')

    assert 's3cr3t-pw' not in str(failure.value)
    assert 'postgresql://ansible:***@127.0.0.1:1/facts' in str(failure.value)


def test_the_facts_returned_are_the_stored_ones(factdb, store_path):
    expected = copy.deepcopy(sev_host_after_update())

    assert factdb('latest', host='hv1', connection=store_path)[0] == expected


def test_flushed_facts_leave_the_history_readable(factdb, store_path):
    store = factstore.open_store(store_path)
    try:
        store.flush()
    finally:
        store.close()

    assert factdb('hosts', connection=store_path) == []
    assert len(factdb('versions', host='hv1', connection=store_path)) == 2
    assert factdb('diff', host='hv1', connection=store_path)[-1] == {'path': 'libvirt_host_caps.traits', 'op': 'removed', 'old': SEV_TRAIT}
    with pytest.raises(AnsibleLookupError, match="host 'hv1' has no current facts .*--flush-cache.*history remains; use query 'versions' and 'diff'"):
        factdb('latest', host='hv1', connection=store_path)


def test_a_misspelled_option_is_refused_with_the_right_name(factdb, store_path):
    with pytest.raises(AnsibleLookupError, match=r"unknown option 'from_verison' \(did you mean from_version\?\); the options are "
                                                 'connection, lock_timeout, host, trait, from_version, to_version, ignore'):
        factdb('diff', host='hv1', from_verison=1, connection=store_path)


@pytest.mark.parametrize('ignore, element', [([None, {}], 'element 0 is None (NoneType)'), (['collected_at', 3], 'element 1 is 3 (int)'),
                                             ([['a']], "element 0 is ['a'] (list)")])
def test_an_ignore_element_that_is_not_a_string_is_named(factdb, store_path, ignore, element):
    with pytest.raises(AnsibleLookupError, match=r'option ignore: %s, not a string' % element.replace('(', r'\(').replace(')', r'\)')
                       .replace('[', r'\[').replace(']', r'\]')):
        factdb('diff', host='hv1', ignore=ignore, connection=store_path)


@pytest.mark.parametrize('option', ['from_version', 'to_version'])
def test_a_boolean_version_is_not_version_1(factdb, store_path, option):
    with pytest.raises(AnsibleLookupError, match="option %s=True is not a version number" % option):
        factdb('diff', host='hv1', connection=store_path, **{option: True})


def test_a_huge_value_is_shown_shortened(factdb, store_path):
    with pytest.raises(AnsibleLookupError) as caught:
        factdb('hosts', host='x' * 100000, connection=store_path)

    assert len(str(caught.value)) < 300


def test_damaged_facts_are_an_error_naming_the_host(factdb, store_path):
    conn = sqlite3.connect(store_path)
    conn.execute("UPDATE blobs SET facts = 'not json' WHERE host = 'hv2'")
    conn.commit()
    conn.close()

    with pytest.raises(AnsibleLookupError, match="factdb lookup: query 'latest' failed: store .*: the current facts of host 'hv2' are damaged"):
        factdb('latest', host='hv2', connection=store_path)
    assert factdb('latest', host='hv1', connection=store_path)[0]['libvirt_host_caps']['memory_info']['total_mb'] == 128715


def test_a_store_other_users_can_read_is_refused(factdb, store_path):
    os.chmod(store_path, 0o644)

    with pytest.raises(AnsibleLookupError, match='factdb lookup: %s has mode 0644: .*run chmod 600 %s' % (store_path, store_path)):
        factdb('hosts', connection=store_path)
    assert os.stat(store_path).st_mode & 0o777 == 0o644


# -- every input gives a result or an Ansible error --------------------------------------------

def _mutations():
    """Changes to a host's real facts: a value replaced, removed or retyped at some path."""
    values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)
    return st.lists(st.tuples(st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=5),
                              st.sampled_from(['replace', 'remove']), values), max_size=4)


def _mutate(facts, mutations):
    facts = copy.deepcopy(facts)
    for steps, action, value in mutations:
        node = facts
        for position, step in enumerate(steps):
            keys = sorted(node) if isinstance(node, dict) else list(range(len(node))) if isinstance(node, list) else []
            if not keys:
                break
            key = keys[step % len(keys)]
            if position == len(steps) - 1 or not isinstance(node[key], (dict, list)):
                if action == 'remove':
                    del node[key]
                else:
                    node[key] = value
                break
            node = node[key]
    return facts


TEXTS = st.text(max_size=12) | st.sampled_from(['hv1', 'hv2', 'hv9', '', 'HW_CPU_X86_AVX2', SEV_TRAIT, 'hv\udcff'])
ODD = (st.none() | st.booleans() | st.integers(min_value=-3, max_value=6) | TEXTS
       | st.lists(st.none() | st.integers() | TEXTS | st.dictionaries(TEXTS, st.integers(), max_size=2), max_size=3)
       | st.dictionaries(TEXTS, st.integers(), max_size=2))
HOST = st.sampled_from(['hv1', 'hv2']) | ODD
VERSION = st.integers(min_value=0, max_value=4) | ODD
IGNORE = st.lists(st.sampled_from(['collected_at', 'libvirt_host_caps.resources.*.used', 'traits', 'a..b', '[*]']) | st.none()
                  | st.integers() | st.dictionaries(TEXTS, st.integers(), max_size=1) | st.lists(TEXTS, max_size=2), max_size=3) | ODD
# Most calls name a query and the options it reads, so that the store and the diff are
# reached with odd values; the rest is anything.
CALLS = st.one_of(
    st.tuples(st.just(['hosts']), st.fixed_dictionaries({}, optional={'trait': st.sampled_from(['HW_CPU_X86_AVX2', SEV_TRAIT]) | ODD})),
    st.tuples(st.sampled_from([['latest'], ['versions']]), st.fixed_dictionaries({'host': HOST})),
    st.tuples(st.just(['diff']), st.fixed_dictionaries({'host': HOST},
                                                       optional={'from_version': VERSION, 'to_version': VERSION, 'ignore': IGNORE})),
    st.tuples(st.just(['diff']), st.fixed_dictionaries({'host': HOST, 'from_verison': VERSION})),
    st.tuples(st.lists(st.sampled_from(['hosts', 'latest', 'versions', 'diff', 'Hosts', '']) | TEXTS | st.integers() | st.none(),
                       max_size=2),
              st.dictionaries(st.sampled_from(['host', 'trait', 'from_version', 'to_version', 'ignore', 'hots', 'connection']),
                              ODD, max_size=3)),
    st.tuples(st.just(['hosts']), st.fixed_dictionaries({'connection': st.sampled_from(
        ['', 'postgresql://u:pw@[::1/db?connect_timeout=1', 'mysql://x', '/nonexistent/facts.db'])})),
)


@pytest.fixture(scope='module')
def real_store(tmp_path_factory):
    directory = tmp_path_factory.mktemp('property')
    path = str(directory / 'facts.db')
    with factstore.open_store(path) as store:
        store.set('hv1', sev_host())
        store.set('hv1', sev_host_after_update())
        store.set('hv2', {'libvirt_host_caps': facts_from(MILAN, MILAN_Q35)})
    return path


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mutations=_mutations(), call=CALLS)
def test_any_query_of_mutated_real_facts_gives_a_result_or_an_ansible_error(factdb, real_store, mutations, call):
    """Real facts, changed at random and stored as a new version of hv1, then the lookup with
    random terms and options: an answer, or an error Ansible reports as such."""
    facts = _mutate(sev_host_after_update(), mutations)
    with factstore.open_store(real_store) as store:
        try:
            store.set('hv1', facts)
        except factstore.FactStoreError:
            pass
    terms, options = call
    options = dict(options)
    options.setdefault('connection', real_store)

    try:
        answer = factdb(*terms, **options)
    except AnsibleError:
        return
    assert isinstance(answer, list)


def test_the_lock_timeout_bounds_the_wait_for_a_store_locked_by_another_process(factdb, tmp_path, monkeypatch):
    import sqlite3
    import time
    # A store of the previous schema: the lookup upgrades it, which needs the write lock.
    path = str(tmp_path / 'facts.db')
    monkeypatch.setattr(factstore, 'SCHEMA_VERSION', factstore.SCHEMA_VERSION - 1)
    factstore.open_store(path).open().close()
    monkeypatch.undo()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute('BEGIN IMMEDIATE')
    start = time.monotonic()
    try:
        with pytest.raises(AnsibleLookupError, match='locked by another process for more than 1 s: .*fact_caching_lock_timeout'):
            factdb('hosts', connection=path, lock_timeout=1)
    finally:
        other.execute('ROLLBACK')
        other.close()

    assert 0.95 <= time.monotonic() - start <= 6
    assert factdb('hosts', connection=path, lock_timeout=1) == []
