# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: factdb
short_description: Facts of every host, and their history, in SQLite or PostgreSQL
version_added: 0.1.0
author:
  - virtumancer.hostcaps contributors (@virtumancer)
description:
  - A fact cache that keeps the facts of every host in one database. By default an SQLite file
    (C(~/.ansible/hostcaps/facts.db)) of the controller; a C(postgresql://) URI in O(_uri) shares one store between
    several controllers, as AWX does with its facts.
  - The history of a host holds one version per run and per configuration (content, time,
    C(libvirt_host_caps.schema_version)). A run is the life of the plugin in one C(ansible-playbook); when several
    tasks of a run cache facts of a host (C(ansible.builtin.setup), then
    M(virtumancer.hostcaps.libvirt_host_caps), then M(virtumancer.hostcaps.sriov_facts)), the later writes replace
    the version the run added instead of adding more. Facts that differ from the latest version only in their
    counters (free memory and huge pages, the C(used) of resources, running domains, storage pool allocation, the
    clock and free space of C(ansible.builtin.setup); the list is in C(docs/factdb.md)) update that version and add
    none. Writing the same facts again only renews their age. O(_history_versions) and O(_history_days) bound the
    history. The P(virtumancer.hostcaps.factdb#lookup) lookup lists the hosts with a trait, returns the latest
    facts or the versions of a host, and compares two versions, which is what drift reports are built on.
  - Removing facts, with C(--flush-cache), the C(clear_facts) meta task or an expired entry, removes the current facts only;
    the history is kept.
  - The SQLite file is created with mode 0600 in a directory created with mode 0700. Several C(ansible-playbook) runs
    may write it at once (WAL, a busy timeout, one transaction per host). A file at that path that is not a factdb
    store (another application's database, a damaged file, random bytes) fails the run with a message naming it,
    and is never modified or deleted.
  - The SQLite store must be private to the user running Ansible, as ssh requires of private keys. A file (or the
    target of a symbolic link, or the C(-wal), C(-shm) and C(-journal) files next to it) that another user owns or
    that the group or others may open, and a store in a directory that another user owns or that the group or
    others may write, fail the run with the command that fixes it; such a file is never adopted or changed.
  - Host names, the cache prefix and traits are stored as UTF-8 text; a host name that is not (an INI inventory
    written in Latin-1) fails the run with its name. Facts in the store that are not a JSON object fail the read
    with the host and how to clear them; they are never overwritten by a comparison.
  - Facts are stored as plain JSON by the plugin itself (it is not marked persistent, so ansible-core 2.19 and later
    do not wrap keys and values for it). What is read back is plain data, without the trust or origin Ansible
    attached to the values it wrote, which is right for facts.
  - P(ansible.builtin.constructed#inventory) reads the facts of this cache, so inventory groups can be built from
    cached traits without contacting a host; C(docs/factdb.md) in the collection has an example.
  - A PostgreSQL store needs the Python package C(psycopg) (version 3) on the controller, C(pip install 'psycopg[binary]').
  - With the Python package C(orjson) on the controller facts are written and read several times faster; without it
    the standard library writes the same JSON text. NaN and infinite numbers are stored as C(null).
notes:
  - This is a fact cache (C(fact_caching)); it is not meant as an inventory plugin's C(cache_plugin).
  - Only the facts of the hosts a play asks for are read, one host at a time; the plugin never loads the whole store.
  - On PostgreSQL the plugin's session sets C(synchronous_commit=off), so a write does not wait for the server's disk;
    a crash of the server may lose its last fraction of a second of writes, but never its consistency.
  - No call waits without end. A lock held by another process or session (another controller writing the same
    host, a flush, a table locked by hand) fails the run after O(_lock_timeout) seconds with a message naming the
    lock and, on PostgreSQL, the session holding it.
options:
  _uri:
    description:
      - Where the store is. A path to an SQLite file (C(~) is expanded; missing directories are created with mode
        0700), or a C(postgresql://user:password@host:port/database) URI (also C(postgres://)). Add
        C(?options=-csearch_path%3Dname) to keep the tables in a schema of their own.
      - A password in the URI, in its userinfo or in any C(password=) or C(sslpassword=) parameter, is never shown in
        messages, even when the URI cannot be parsed.
    type: str
    default: ~/.ansible/hostcaps/facts.db
    env:
      - name: ANSIBLE_CACHE_PLUGIN_CONNECTION
    ini:
      - key: fact_caching_connection
        section: defaults
  _prefix:
    description:
      - Prefix of the cache keys of this cache's hosts, to keep separate sets of facts in one store.
      - The history is kept per host name, whatever the prefix.
    type: str
    default: ''
    env:
      - name: ANSIBLE_CACHE_PLUGIN_PREFIX
    ini:
      - key: fact_caching_prefix
        section: defaults
  _timeout:
    description:
      - Seconds after their last write that cached facts expire. Expired facts are not returned to plays
        (as with C(ansible.builtin.jsonfile)) but stay in the store and in its history until written again.
      - V(0) means never expire.
    type: integer
    default: 86400
    env:
      - name: ANSIBLE_CACHE_PLUGIN_TIMEOUT
    ini:
      - key: fact_caching_timeout
        section: defaults
  _lock_timeout:
    description:
      - Seconds a call waits for a lock that another process or session holds before it fails with a message
        naming the lock. SQLite's busy timeout; PostgreSQL's C(lock_timeout), with C(statement_timeout) twice
        as long (an upgrade of the schema has no statement timeout).
      - The same setting is read by the P(virtumancer.hostcaps.factdb#lookup) lookup.
    type: integer
    default: 30
    env:
      - name: ANSIBLE_CACHE_PLUGIN_LOCK_TIMEOUT
    ini:
      - key: fact_caching_lock_timeout
        section: defaults
  _history_versions:
    description:
      - How many versions of each host's facts to keep; older ones are dropped when a new one is written.
      - V(0) keeps every version. The newest version is always kept.
    type: integer
    default: 100
    env:
      - name: ANSIBLE_CACHE_PLUGIN_HISTORY_VERSIONS
    ini:
      - key: fact_caching_history_versions
        section: defaults
  _history_days:
    description:
      - Versions older than this many days are dropped when a new version of the host is written.
      - V(0) keeps versions whatever their age. The newest version is always kept.
    type: integer
    default: 0
    env:
      - name: ANSIBLE_CACHE_PLUGIN_HISTORY_DAYS
    ini:
      - key: fact_caching_history_days
        section: defaults
seealso:
  - plugin: virtumancer.hostcaps.factdb
    plugin_type: lookup
  - plugin: ansible.builtin.jsonfile
    plugin_type: cache
'''

import collections
import time
import uuid

from ansible.errors import AnsibleError
from ansible.plugins.cache import BaseCacheModule

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.store.factstore import FactStoreError, open_store

DEFAULT_CONNECTION = '~/.ansible/hostcaps/facts.db'
# Decoded facts kept for repeated get() of the same host within a run (VariableManager asks
# for a host's facts at every task); bounded so that reading 100,000 hosts stays small.
MEMO_SIZE = 256


class CacheModule(BaseCacheModule):
    """Fact cache on the factdb store (SQLite or PostgreSQL), with history."""

    # Not persistent: ansible-core 2.19's cache loader then returns this plugin as is, instead of
    # wrapping it to rename keys (s1_<host>) and to encode values with its pure-Python JSON
    # profile, which took most of the time of a 10,000-host run. The store writes JSON itself.
    _persistent = False

    def __init__(self, *args, **kwargs):
        super(CacheModule, self).__init__(*args, **kwargs)
        self._connection = self.get_option('_uri') or DEFAULT_CONNECTION
        self._prefix = self.get_option('_prefix') or ''
        self._timeout = int(self.get_option('_timeout') or 0)
        self._history_versions = int(self.get_option('_history_versions') or 0)
        self._history_days = int(self.get_option('_history_days') or 0)
        self._lock_timeout = self.get_option('_lock_timeout')
        # VariableManager and FactCache turn an exception raised here into a warning and a
        # memory cache, which would let a run go on without its facts: the store is opened,
        # checked and migrated at the first call instead, where an error fails the run.
        self._store = None
        self._memo = collections.OrderedDict()
        # Keys read as fresh in this run stay readable, as jsonfile keeps them in memory: facts
        # that expire in the middle of a play must not become undefined.
        self._fresh = set()
        # The run this instance writes for: ansible-playbook makes one instance per run.
        self._run = uuid.uuid4().hex

    # -- helpers

    def _db(self):
        if self._store is None:
            try:
                self._store = open_store(self._connection, history_versions=self._history_versions,
                                         history_days=self._history_days, create=True, lock_timeout=self._lock_timeout).open()
            except FactStoreError as exc:
                raise AnsibleError('factdb cache plugin: %s' % exc)
        return self._store

    def _call(self, method, *args, **kwargs):
        store = self._db()
        try:
            return getattr(store, method)(*args, **kwargs)
        except FactStoreError as exc:
            raise AnsibleError('factdb cache plugin: %s' % exc)

    def _newer_than(self):
        return None if self._timeout <= 0 else time.time() - self._timeout

    def _key(self, key):
        return '%s%s' % (self._prefix, key)

    def _forget(self, key=None):
        if key is None:
            self._memo.clear()
            self._fresh.clear()
        else:
            self._memo.pop(key, None)
            self._fresh.discard(key)

    # -- BaseCacheModule

    def get(self, key):
        if key in self._memo:
            self._memo.move_to_end(key)
            return self._memo[key]
        newer_than = None if key in self._fresh else self._newer_than()
        value = self._call('get', self._key(key), newer_than=newer_than)
        if value is None:
            raise KeyError(key)
        self._fresh.add(key)
        self._memo[key] = value
        if len(self._memo) > MEMO_SIZE:
            self._memo.popitem(last=False)
        return value

    def set(self, key, value):
        self._forget(key)
        self._call('set', self._key(key), value, host=key, run=self._run)
        self._fresh.add(key)

    def keys(self):
        start = len(self._prefix)
        return [cache_key[start:] for cache_key in self._call('keys', self._prefix, newer_than=self._newer_than())]

    def contains(self, key):
        if key in self._memo or key in self._fresh:
            return True
        return self._call('contains', self._key(key), newer_than=self._newer_than())

    def delete(self, key):
        self._forget(key)
        self._call('delete', self._key(key))

    def flush(self):
        self._forget()
        self._call('flush', self._prefix)

    def copy(self):
        """Every unexpired host's facts (ansible-core 2.17 requires the method; nothing in it
        calls it). Loads the whole cache into memory, unlike everything else here."""
        return dict((key, self.get(key)) for key in self.keys())
