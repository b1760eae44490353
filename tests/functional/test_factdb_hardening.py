# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The factdb cache and lookup against hostile stores, in real ``ansible-playbook`` runs:

- a password in a PostgreSQL URI never shows, at any verbosity up to -vvvv with
  tracebacks on, whether the run succeeds or the URI cannot be parsed;
- a store that is not a private file of the user (a dangling link, a loop of links, a
  pre-created file others may open or own, a directory others may write), a row of facts
  that is not JSON and a host name that is not UTF-8 each fail the run with a message
  naming the thing and the fix, never with "Unexpected Exception" (rc 250), and leave
  what is stored as it was.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sqlite3

import pytest

from conftest import Ansible, flat

VERBOSITIES = ['', '-v', '-vv', '-vvv', '-vvvv']
SECRET = 'Sekr1t-Pa55'
MALFORMED = 'postgresql://ansible:%s@[::1/facts' % SECRET
NOBODY = 65534


def _probe(runner, connection, verbosity='', write=True, inventory=None, cache=True, traceback=False):
    """store_probe.yml with the cache on ``connection`` (unless ``cache`` is false; the
    lookup reads ``connection`` either way); ``traceback`` shows every traceback (2.19)."""
    env = runner.env(cache=cache)
    env['ANSIBLE_CACHE_PLUGIN_CONNECTION'] = connection
    if traceback:
        env['ANSIBLE_DISPLAY_TRACEBACK'] = 'always'
    result = runner.playbook('store_probe.yml', {'write': write}, args=[verbosity] if verbosity else [], inventory=inventory,
                             check=False, env=env)
    return result, result.stdout + result.stderr


def _failed_clearly(result, output, *fragments):
    assert result.returncode not in (0, 250), output
    assert 'Unexpected Exception' not in output, output
    assert 'probably a bug' not in output, output
    for fragment in fragments:
        assert fragment in flat(output), output


# -- secrets -------------------------------------------------------------------------------

@pytest.mark.parametrize('backend', ['postgres'], indirect=True)
@pytest.mark.parametrize('verbosity', VERBOSITIES)
def test_the_password_of_a_working_store_never_shows(core, backend, tmp_path, verbosity):
    password = backend.connection.split('://', 1)[1].split('@', 1)[0].partition(':')[2]
    assert password, 'FACTDB_TEST_POSTGRES has no password to look for: %s' % backend
    runner = Ansible(core, backend.connection, str(tmp_path))

    result, output = _probe(runner, backend.connection, verbosity, traceback=True)

    assert result.returncode == 0, output
    assert password not in output
    assert "'hv1'" in output or '"hv1"' in output, output


@pytest.mark.parametrize('verbosity', VERBOSITIES)
@pytest.mark.parametrize('cache', [True, False], ids=['cache', 'lookup'])
def test_the_password_of_a_uri_libpq_cannot_parse_never_shows(core, tmp_path, verbosity, cache):
    runner = Ansible(core, MALFORMED, str(tmp_path))

    result, output = _probe(runner, MALFORMED, verbosity, write=cache, cache=cache, traceback=True)

    _failed_clearly(result, output, 'cannot connect to the PostgreSQL store postgresql://ansible:***@[::1/facts: ')
    assert SECRET not in output
    assert ('factdb cache plugin: ' if cache else 'factdb lookup: ') in output


# -- stores that are not ours, damaged rows, names that are not text ------------------------

def _dangling_link(directory):
    path = os.path.join(directory, 'facts.db')
    os.symlink(os.path.join(directory, 'gone', 'facts.db'), path)
    return path, 'is a symbolic link to'


def _link_loop(directory):
    path = os.path.join(directory, 'facts.db')
    os.symlink(os.path.join(directory, 'other.db'), path)
    os.symlink(path, os.path.join(directory, 'other.db'))
    return path, 'is a loop of symbolic links; remove them'


def _planted_world_writable(directory):
    path = os.path.join(directory, 'facts.db')
    with open(path, 'wb'):
        pass
    os.chmod(path, 0o666)
    return path, 'has mode 0666: the group or other users may read or change every host\'s facts; if it is yours, run chmod 600'


def _link_to_a_file_of_another_user(directory):
    target = os.path.join(directory, 'planted.db')
    with open(target, 'wb'):
        pass
    os.chmod(target, 0o600)
    os.chown(target, NOBODY, NOBODY)
    path = os.path.join(directory, 'facts.db')
    os.symlink(target, path)
    return path, '(a symbolic link to %s) belongs to uid 65534' % target


def _directory_others_may_write(directory):
    shared = os.path.join(directory, 'shared')
    path = os.path.join(shared, 'facts.db')
    with __import__('conftest').store_api().open_store(path) as store:
        store.set('hv1', {'probe': 'hv1'})
    os.chmod(shared, 0o1777)
    return path, 'has mode 1777: the group or other users could replace the store'


STORES = [_dangling_link, _link_loop, _planted_world_writable, _link_to_a_file_of_another_user, _directory_others_may_write]


def _listing(directory):
    found = []
    for root, dirs, files in os.walk(directory):
        for name in sorted(dirs + files):
            status = os.lstat(os.path.join(root, name))
            found.append((os.path.relpath(os.path.join(root, name), directory), status.st_mode, status.st_uid, status.st_size))
    return sorted(found)


def _refused(core, tmp_path, make, cache):
    directory = tmp_path / 'stores'
    directory.mkdir()
    path, message = make(str(directory))
    before = _listing(str(directory))
    runner = Ansible(core, path, str(tmp_path))

    result, output = _probe(runner, path, write=cache, cache=cache)

    _failed_clearly(result, output, message)
    assert 'Traceback' not in output
    assert _listing(str(directory)) == before


STORE_IDS = [make.__name__.strip('_') for make in STORES]
# The lookup opens the store the same way on every core: once is enough.
ONLY_CORE_219 = pytest.mark.parametrize('core', ['2.19'], indirect=True)


@pytest.mark.parametrize('make', STORES, ids=STORE_IDS)
def test_the_cache_refuses_a_store_that_is_not_a_private_file_with_the_fix(core, tmp_path, make):
    _refused(core, tmp_path, make, cache=True)


@ONLY_CORE_219
@pytest.mark.parametrize('make', STORES, ids=STORE_IDS)
def test_the_lookup_refuses_a_store_that_is_not_a_private_file_with_the_fix(core, tmp_path, make):
    _refused(core, tmp_path, make, cache=False)


def _store_with_a_damaged_host(path):
    store_api = __import__('conftest').store_api()
    with store_api.open_store(path) as store:
        store.set('hv1', {'probe': 'hv1'})
        store.set('hv1', {'probe': 'hv1-2'})  # two versions, for the lookup's diff
        store.set('hv2', {'probe': 'hv2'})
    conn = sqlite3.connect(path)
    try:
        conn.execute("UPDATE blobs SET facts = '{\"probe\": ' WHERE host = 'hv1'")
        conn.commit()
    finally:
        conn.close()


def test_facts_that_are_not_json_fail_the_run_and_stay_as_they_were(core, tmp_path):
    path = str(tmp_path / 'store' / 'facts.db')
    _store_with_a_damaged_host(path)
    runner = Ansible(core, path, str(tmp_path))

    result, output = _probe(runner, path)

    _failed_clearly(result, output, "the current facts of cache key 'hv1' are damaged: they are not JSON",
                    'remove them with ansible-playbook --flush-cache or a meta: clear_facts task for the host')
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT facts FROM blobs WHERE host = 'hv1'").fetchall() == [('{"probe": ',)] * 2
        assert conn.execute("SELECT facts FROM blobs WHERE host = 'hv2'").fetchall() == [('{"probe":"hv2"}',)]
    finally:
        conn.close()


@ONLY_CORE_219
def test_the_lookup_names_facts_that_are_not_json(core, tmp_path):
    path = str(tmp_path / 'store' / 'facts.db')
    _store_with_a_damaged_host(path)
    runner = Ansible(core, path, str(tmp_path))
    env = runner.env(cache=False)
    env['ANSIBLE_CACHE_PLUGIN_CONNECTION'] = path

    result = runner.playbook('lookup.yml', {'store': path}, check=False, env=env)
    output = result.stdout + result.stderr

    _failed_clearly(result, output, "the facts of version 1 of host 'hv1' are damaged: they are not JSON")


def test_a_host_name_that_is_not_utf_8_fails_the_run_with_its_name(core, tmp_path):
    path = str(tmp_path / 'store' / 'facts.db')
    inventory = tmp_path / 'latin1.ini'
    inventory.write_bytes(b'[hv]\nhv1\nh\xf4te\n\n[hv:vars]\nansible_connection=local\n')
    runner = Ansible(core, path, str(tmp_path))

    result, output = _probe(runner, path, inventory=str(inventory))

    _failed_clearly(result, output, "'h\\udcf4te' is not valid text", 'write the inventory in UTF-8 or rename the host')
