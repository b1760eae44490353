# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the functional suite: real ``ansible-playbook`` processes against the
factdb cache plugin, for every backend (SQLite, PostgreSQL) and every ansible-core the
collection supports (2.19 in .venv, 2.17 in .tmp/venv-core217).

``make functional`` sets COLLECTIONS_PATH and FACTDB_TEST_POSTGRES (from
``hack/postgres.sh``); without FACTDB_TEST_POSTGRES the PostgreSQL cases fail, they are
not skipped, because a suite that silently tests one backend proves nothing about two.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import json
import os
import re
import subprocess
import sys
import uuid

import pytest

FUNCTIONAL_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(FUNCTIONAL_DIR))
TMP_DIR = os.path.join(REPO_ROOT, '.tmp')
PLAYBOOKS = os.path.join(FUNCTIONAL_DIR, 'playbooks')
WRITER = os.path.join(FUNCTIONAL_DIR, 'cache_writer.py')
COLLECTIONS_PATH = os.environ.get('COLLECTIONS_PATH') or os.path.join(TMP_DIR, 'collections')
PLUGIN = 'virtumancer.hostcaps.factdb'
# The inventory of the playbook runs.
HOSTS = ['hv1', 'hv2', 'hv3']
POSTGRES_ENV = 'FACTDB_TEST_POSTGRES'

# The "hypervisor" Python that runs modules: .venv's, which has libvirt-python, whatever
# ansible-core the controller runs.
HOST_PYTHON = os.path.join(REPO_ROOT, '.venv', 'bin', 'python')
CORES = {
    '2.19': (os.path.join(REPO_ROOT, '.venv'), 'make venv'),
    '2.17': (os.path.join(TMP_DIR, 'venv-core217'), 'make venv-core217'),
}
# Every ansible-playbook run is bounded, so a hanging lock fails the test instead of CI.
RUN_TIMEOUT = 180

if COLLECTIONS_PATH not in sys.path:
    # The tests inspect the store through the collection's own module_utils.
    sys.path.insert(0, COLLECTIONS_PATH)


def store_api():
    """plugins/module_utils/store/factstore.py, imported from the collection tree."""
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.store import factstore
    return factstore


def flat(text):
    """``text`` with line breaks and the indentation after them removed: ansible-core 2.17
    wraps error messages at 79 columns, breaking long paths at a hyphen."""
    return re.sub(r'\s*\n\s*', '', text)


class Core:
    """One ansible-core installation, the controller of a run."""

    def __init__(self, version, venv):
        self.version = version
        self.venv = venv
        self.bin_dir = os.path.join(venv, 'bin')
        self.python = os.path.join(self.bin_dir, 'python')

    def tool(self, name):
        return os.path.join(self.bin_dir, name)

    def __repr__(self):
        return 'ansible-core %s (%s)' % (self.version, self.venv)


@functools.lru_cache(maxsize=None)
def _installed_core(python):
    result = subprocess.run([python, '-c', 'import ansible.release; print(ansible.release.__version__)'],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def pytest_collection_modifyitems(config, items):
    """A test that takes every backend runs on ansible-core 2.17 with SQLite only. The
    cache plugin calls the store alike whatever core calls the plugin, so PostgreSQL on
    2.19 and SQLite on both cover each core and each backend; the fourth pairing would
    only repeat them. A test that names its backends itself keeps every pairing."""
    kept, dropped = [], []
    for item in items:
        params = getattr(getattr(item, 'callspec', None), 'params', {})
        chosen = any('backend' in str(marker.args[0]) for marker in item.iter_markers('parametrize'))
        repeat = params.get('core') == '2.17' and params.get('backend') == 'postgres' and not chosen
        (dropped if repeat else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope='session', params=sorted(CORES, reverse=True))
def core(request):
    """The controller's ansible-core: 2.19 (.venv) and 2.17 (.tmp/venv-core217)."""
    version = request.param
    venv, make_target = CORES[version]
    found = Core(version, venv)
    if not os.path.exists(found.tool('ansible-playbook')):
        pytest.fail('ansible-core %s: no ansible-playbook in %s; run `%s` first' % (version, venv, make_target), pytrace=False)
    installed = _installed_core(found.python)
    if installed is None or not (installed == version or installed.startswith(version + '.')):
        pytest.fail('ansible-core %s: %s has ansible-core %s; run `%s` again' % (version, venv, installed, make_target), pytrace=False)
    return found


class Backend:
    """A fresh, empty store: an SQLite path or a PostgreSQL schema of its own."""

    def __init__(self, kind, connection, path=None):
        self.kind = kind
        self.connection = connection
        self.path = path

    def open_store(self, **kwargs):
        return store_api().open_store(self.connection, **kwargs)

    def snapshot(self):
        """{key: facts} of every cache key, read through the Store API."""
        store = self.open_store(create=False)
        try:
            return dict((key, store.get(key)) for key in store.keys())
        finally:
            store.close()

    def __repr__(self):
        return '%s store %s' % (self.kind, self.path or store_api().mask_uri(self.connection))


def _postgres_schema_uri(dsn, schema):
    """``dsn`` with the session's search_path set to ``schema``, so the plugin creates and
    finds its tables there and every test starts from an empty store."""
    separator = '&' if '?' in dsn else '?'
    return '%s%soptions=-csearch_path%%3D%s' % (dsn, separator, schema)


@pytest.fixture(params=['sqlite', 'postgres'])
def backend(request, tmp_path):
    """An empty store on each backend. PostgreSQL: a new schema per test in the database
    of FACTDB_TEST_POSTGRES (the role hostcaps owns it, but may not create databases),
    dropped afterwards."""
    if request.param == 'sqlite':
        path = str(tmp_path / 'store' / 'facts.db')
        yield Backend('sqlite', path, path)
        return
    dsn = os.environ.get(POSTGRES_ENV)
    if not dsn:
        pytest.fail('%s is not set: run `make postgres` and export %s=$(hack/postgres.sh), or run `make functional`, '
                    'which does both' % (POSTGRES_ENV, POSTGRES_ENV), pytrace=False)
    import psycopg
    schema = 'functional_%s' % uuid.uuid4().hex[:12]
    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        conn.execute('CREATE SCHEMA %s' % schema)
    try:
        yield Backend('postgres', _postgres_schema_uri(dsn, schema))
    finally:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
            conn.execute('DROP SCHEMA IF EXISTS %s CASCADE' % schema)


class Ansible:
    """Runs ``ansible-playbook`` of one core against one store, in ``workdir`` (no
    ansible.cfg of the repository applies), with a private HOME."""

    def __init__(self, core_, connection, workdir):
        self.core = core_
        self.connection = connection
        self.workdir = workdir
        self.out_dir = os.path.join(workdir, 'out')
        os.makedirs(self.out_dir, exist_ok=True)
        os.makedirs(os.path.join(workdir, 'home'), exist_ok=True)
        self.inventory = self.write_inventory(HOSTS)

    def write_inventory(self, hosts, name='hosts.ini'):
        path = os.path.join(self.workdir, name)
        with open(path, 'w') as handle:
            handle.write('[hv]\n%s\n\n[hv:vars]\nansible_connection=local\n' % '\n'.join(hosts))
        return path

    def env(self, cache=True, **settings):
        """The environment of a run: the cache plugin on ``self.connection`` unless
        ``cache`` is false, plus ANSIBLE_CACHE_PLUGIN_<NAME> for every ``settings``."""
        env = {
            'PATH': '%s:%s' % (self.core.bin_dir, os.environ.get('PATH', '/usr/bin:/bin')),
            'HOME': os.path.join(self.workdir, 'home'),
            'LANG': 'C.UTF-8',
            'LC_ALL': 'C.UTF-8',
            'ANSIBLE_COLLECTIONS_PATH': COLLECTIONS_PATH,
            'ANSIBLE_COLLECTIONS_SCAN_SYS_PATH': 'false',
            'ANSIBLE_PYTHON_INTERPRETER': HOST_PYTHON,
            'ANSIBLE_LOCAL_TEMP': os.path.join(self.workdir, 'ansible-tmp'),
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_RETRY_FILES_ENABLED': 'false',
            'ANSIBLE_HOST_KEY_CHECKING': 'false',
            'ANSIBLE_INVENTORY_ENABLED': 'ini',
        }
        if cache:
            env['ANSIBLE_CACHE_PLUGIN'] = PLUGIN
            env['ANSIBLE_CACHE_PLUGIN_CONNECTION'] = self.connection
            env.setdefault('ANSIBLE_CACHE_PLUGIN_TIMEOUT', '0')
        for name, value in settings.items():
            env['ANSIBLE_CACHE_PLUGIN_%s' % name.upper()] = str(value)
        return env

    def playbook(self, playbook, extra_vars=None, args=(), inventory=None, check=True, env=None):
        """Run ``playbooks/<playbook>``; ``check`` fails the test on a non-zero exit."""
        command = [self.core.tool('ansible-playbook'), '-i', inventory or self.inventory, os.path.join(PLAYBOOKS, playbook)]
        variables = {'out_dir': self.out_dir}
        variables.update(extra_vars or {})
        command += ['-e', json.dumps(variables)] + list(args)
        result = subprocess.run(command, cwd=self.workdir, env=env or self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                universal_newlines=True, timeout=RUN_TIMEOUT, check=False)
        if check and result.returncode != 0:
            pytest.fail('%s (%s) exited %d\n--- stdout\n%s\n--- stderr\n%s'
                        % (' '.join(command), self.core, result.returncode, result.stdout, result.stderr), pytrace=False)
        return result

    def output(self, name):
        """A JSON file a playbook wrote into ``out_dir``."""
        with open(os.path.join(self.out_dir, name)) as handle:
            return json.load(handle)


@pytest.fixture
def ansible(core, backend, tmp_path):
    """ansible-playbook of ``core`` with the factdb cache on ``backend``."""
    return Ansible(core, backend.connection, str(tmp_path))


@pytest.fixture
def cache_writer(backend, tmp_path):
    """Starts ``cache_writer.py`` (the plugin through ansible-core's cache_loader, in a
    process of its own) with .venv's Python against ``backend``."""
    env = dict(os.environ, ANSIBLE_CACHE_PLUGIN_CONNECTION=backend.connection, ANSIBLE_CACHE_PLUGIN_TIMEOUT='0',
               ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_PATH, ANSIBLE_LOCAL_TEMP=str(tmp_path / 'ansible-tmp'), HOME=str(tmp_path))
    env.pop('PYTHONPATH', None)

    started = []

    def start(*args):
        process = subprocess.Popen([HOST_PYTHON, WRITER] + [str(arg) for arg in args], env=env, cwd=str(tmp_path),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        started.append(process)
        return process
    yield start
    # A test that failed half-way leaves no writer behind.
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate()
