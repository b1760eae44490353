# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The factdb cache plugin as Ansible loads it (``cache_loader``), on SQLite and on the
PostgreSQL server named by FACTDB_TEST_POSTGRES (``export FACTDB_TEST_POSTGRES=$(hack/postgres.sh)``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# pylint: disable=redefined-outer-name  # pytest fixtures are passed by name

import hashlib
import importlib
import os
import sys
import time
import uuid

import pytest

from ansible.errors import AnsibleError
from ansible.plugins.loader import cache_loader, init_plugin_loader
from ansible.utils.collection_loader import AnsibleCollectionConfig

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.store import factstore
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.store.factstore import open_store

COLLECTION = 'ansible_collections.virtumancer.hostcaps'
PLUGIN = 'virtumancer.hostcaps.factdb'
POSTGRES_ENV = 'FACTDB_TEST_POSTGRES'
# .../ansible_collections/virtumancer/hostcaps/plugins/module_utils/store/factstore.py -> the collections root
COLLECTIONS_ROOT = os.path.abspath(os.path.join(os.path.dirname(factstore.__file__), *(['..'] * 5)))


def caps(total_mb=512000, traits=('HW_CPU_X86_AVX2',)):
    return {'libvirt_host_caps': {'schema_version': 1, 'traits': list(traits), 'memory_info': {'total_mb': total_mb}}}


@pytest.fixture(scope='module')
def collection_loader():
    """Plain pytest has no collection finder; ansible-playbook and ansible-test install one."""
    os.environ.setdefault('ANSIBLE_COLLECTIONS_PATH', COLLECTIONS_ROOT)
    if AnsibleCollectionConfig.collection_finder is None:
        init_plugin_loader([COLLECTIONS_ROOT])
        # The collection was imported as a plain package before the finder existed; import it
        # again through the finder, which loads the metadata plugin loading needs.
        sys.modules.pop(COLLECTION, None)
        importlib.import_module(COLLECTION)


@pytest.fixture(params=['sqlite', 'postgresql'])
def connection(request, tmp_path):
    if request.param == 'sqlite':
        yield str(tmp_path / 'facts.db')
        return
    dsn = os.environ.get(POSTGRES_ENV)
    if not dsn:
        pytest.fail('%s is not set, so the PostgreSQL backend cannot be tested: run '
                    '`export %s=$(hack/postgres.sh)` first (make units does)' % (POSTGRES_ENV, POSTGRES_ENV))
    import psycopg
    schema = 'factdb_plugin_%s' % uuid.uuid4().hex[:12]
    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        conn.execute('CREATE SCHEMA %s' % schema)
    try:
        yield '%s%soptions=-csearch_path%%3D%s' % (dsn, '&' if '?' in dsn else '?', schema)
    finally:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
            conn.execute('DROP SCHEMA IF EXISTS %s CASCADE' % schema)


@pytest.fixture
def load(collection_loader, connection):  # pylint: disable=unused-argument
    """A new plugin instance from Ansible's cache loader, on this test's store."""
    def get(**options):
        options.setdefault('_uri', connection)
        options.setdefault('_prefix', '')
        options.setdefault('_timeout', 86400)
        plugin = cache_loader.get(PLUGIN, **options)
        assert plugin is not None, 'cache plugin %s not found under %s' % (PLUGIN, COLLECTIONS_ROOT)
        return plugin
    return get


def test_the_loader_returns_the_plugin_unwrapped(load):
    plugin = load()

    # ansible-core 2.19 wraps persistent cache plugins in a PluginInterposer.
    assert type(plugin).__name__ == 'CacheModule'
    assert plugin._persistent is False  # pylint: disable=protected-access


def test_facts_set_by_one_instance_are_read_by_another(load):
    load().set('hv1', caps())

    assert load().get('hv1') == caps()


def test_keys_are_host_names_and_the_store_keys_have_the_prefix(load, connection):
    plugin = load(_prefix='site1_')
    plugin.set('hv1', caps())
    plugin.set('hv2', caps())
    load(_prefix='site2_').set('hv3', caps())

    assert sorted(plugin.keys()) == ['hv1', 'hv2']
    with open_store(connection) as store:
        assert sorted(store.keys()) == ['site1_hv1', 'site1_hv2', 'site2_hv3']
        # The history is kept per host name, without the prefix.
        assert [v['version'] for v in store.versions('hv1')] == [1]


def test_get_of_a_missing_host_raises_key_error(load):
    with pytest.raises(KeyError):
        load().get('hv9')


def test_contains_is_false_for_a_missing_host(load):
    assert not load().contains('hv9')


def _write_hours_ago(connection, key, hours):
    with open_store(connection) as store:
        store.set(key, caps(), now=time.time() - hours * 3600, host=key.split('_')[-1])


def test_expired_facts_are_not_returned(load, connection):
    _write_hours_ago(connection, 'p_hv1', 2)
    plugin = load(_prefix='p_', _timeout=3600)

    with pytest.raises(KeyError):
        plugin.get('hv1')
    assert not plugin.contains('hv1')
    assert plugin.keys() == []


def test_expired_facts_stay_in_the_store_for_the_lookup(load, connection):
    _write_hours_ago(connection, 'hv1', 2)
    load(_timeout=3600).keys()

    with open_store(connection) as store:
        assert store.latest('hv1') == caps()


def test_a_timeout_of_0_never_expires(load, connection):
    _write_hours_ago(connection, 'hv1', 24 * 365)
    plugin = load(_timeout=0)

    assert plugin.get('hv1') == caps()
    assert plugin.contains('hv1')
    assert plugin.keys() == ['hv1']


def test_facts_read_fresh_stay_readable_when_they_expire_during_the_run(load, connection):
    plugin = load(_timeout=3600)
    plugin.set('hv1', caps())
    assert plugin.get('hv1') == caps()
    # The facts age past the timeout while the play runs.
    _write_hours_ago(connection, 'hv1', 2)
    plugin._memo.clear()  # pylint: disable=protected-access

    assert plugin.get('hv1') == caps()


def test_updating_the_dict_get_returned_and_setting_it_stores_the_union(load):
    plugin = load()
    plugin.set('hv1', caps())

    facts = plugin.get('hv1')
    facts.update({'sriov': {'summary': {'capable': False}}})
    plugin.set('hv1', facts)

    assert load().get('hv1') == dict(caps(), sriov={'summary': {'capable': False}})


def test_delete_forgets_the_host_but_not_its_history(load, connection):
    plugin = load()
    plugin.set('hv1', caps())

    plugin.delete('hv1')

    with pytest.raises(KeyError):
        plugin.get('hv1')
    assert not load().contains('hv1')
    with open_store(connection) as store:
        assert len(store.versions('hv1')) == 1


def test_flush_forgets_only_the_hosts_of_its_prefix(load):
    mine = load(_prefix='a_')
    mine.set('hv1', caps())
    load(_prefix='b_').set('hv2', caps())

    mine.flush()

    assert mine.keys() == []
    assert load(_prefix='b_').keys() == ['hv2']


def test_the_history_options_bound_the_versions(load, connection):
    for total in range(5):
        load(_history_versions=2).set('hv1', caps(total_mb=total))

    with open_store(connection) as store:
        assert [v['version'] for v in store.versions('hv1')] == [4, 5]


def test_the_history_options_come_from_the_environment(load, connection, monkeypatch):
    monkeypatch.setenv('ANSIBLE_CACHE_PLUGIN_HISTORY_VERSIONS', '1')
    for total in range(3):
        load().set('hv1', caps(total_mb=total))

    with open_store(connection) as store:
        assert [v['version'] for v in store.versions('hv1')] == [3]


@pytest.mark.parametrize('host', ["hv'1", '../../etc/passwd', 'hôte-ünïcode', 'x"); DROP TABLE facts; --'])
def test_odd_host_names_round_trip(load, host):
    load(_prefix='p/').set(host, caps())

    plugin = load(_prefix='p/')
    assert plugin.keys() == [host]
    assert plugin.get(host) == caps()


def test_values_ansible_marked_come_back_as_plain_data(load):
    from ansible.utils.unsafe_proxy import AnsibleUnsafeText
    value = {'ansible_hostname': AnsibleUnsafeText('hv1')}
    try:
        from ansible._internal._datatag._tags import Origin
    except ImportError:  # ansible-core before 2.19 has no data tags
        pass
    else:
        value['origin_tagged'] = Origin(path='/inventory/hosts.yml', line_num=3).tag('tagged')

    load().set('hv1', value)
    back = load().get('hv1')

    assert back == {'ansible_hostname': 'hv1', 'origin_tagged': 'tagged'} or back == {'ansible_hostname': 'hv1'}
    assert all(type(v) is str for v in back.values())  # pylint: disable=unidiomatic-typecheck


def test_copy_returns_every_unexpired_host(load):
    plugin = load()
    plugin.set('hv1', caps(total_mb=1))
    plugin.set('hv2', caps(total_mb=2))

    assert load().copy() == {'hv1': caps(total_mb=1), 'hv2': caps(total_mb=2)}


def test_the_default_store_is_under_the_home_directory(collection_loader, tmp_path, monkeypatch):  # pylint: disable=unused-argument
    monkeypatch.setenv('HOME', str(tmp_path))
    monkeypatch.delenv('ANSIBLE_CACHE_PLUGIN_CONNECTION', raising=False)

    cache_loader.get(PLUGIN, _prefix='', _timeout=0).set('hv1', caps())

    assert os.path.isfile(str(tmp_path / '.ansible' / 'hostcaps' / 'facts.db'))


@pytest.mark.parametrize('method, args', [('get', ('hv1',)), ('set', ('hv1', {'a': 1})), ('keys', ()),
                                          ('contains', ('hv1',)), ('delete', ('hv1',)), ('flush', ())])
def test_a_foreign_file_fails_the_first_call_not_the_loading(collection_loader, tmp_path, method, args):  # pylint: disable=unused-argument
    path = tmp_path / 'facts.db'
    path.write_bytes(b'not a database, but somebody\'s notes\n' * 100)
    path.chmod(0o600)
    before = hashlib.sha256(path.read_bytes()).hexdigest()

    # VariableManager would turn an error here into a warning and a memory cache.
    plugin = cache_loader.get(PLUGIN, _uri=str(path), _prefix='', _timeout=0)
    with pytest.raises(AnsibleError) as caught:
        getattr(plugin, method)(*args)

    assert caught.match("factdb cache plugin: %s is not an SQLite database" % str(path))
    assert caught.match('move it away or point fact_caching_connection at another path; it was left untouched')
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_an_empty_key_reads_back_what_was_written(load):
    plugin = load()
    plugin.set('', {'a': 1})

    assert plugin.get('') == {'a': 1}
    assert load().get('') == {'a': 1}
    assert '' in load().keys()


def test_a_host_name_that_is_not_utf_8_fails_with_its_name_and_the_fix(load):
    # An INI inventory with the byte 0xff in a host name: Python reads it as U+DCFF.
    name = b'hv\xff'.decode('utf-8', 'surrogateescape')
    plugin = load()

    for call in (lambda: plugin.set(name, {'a': 1}), lambda: plugin.get(name), lambda: plugin.contains(name)):
        with pytest.raises(AnsibleError, match=r"factdb cache plugin: store .*: 'hv\\udcff' is not valid text: .*write the inventory in UTF-8"):
            call()
    plugin.set('hv1', {'a': 1})
    assert load().get('hv1') == {'a': 1}
