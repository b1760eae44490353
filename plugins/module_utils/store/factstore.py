# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The store behind the ``factdb`` cache plugin and lookup: SQLite or PostgreSQL.

Two sides share one database:

- the cache side, keyed by the full cache key (the cache's ``_prefix`` + host name): the
  current facts of each key and when they were written, which is what Ansible's fact cache
  interface needs;
- the history side, keyed by host name: the versions of a host's facts (``versions``,
  content kept once per digest in ``blobs``) and an index of the traits in the host's
  current facts (``traits``).

A version is a configuration, not a snapshot. A write adds one only when the facts without
their counters (factvolatile.py) differ from the host's latest version; a change of counters
alone updates that version in place. And a run (one cache plugin instance, the ``run`` of
``set``) gets one version per host: a later write in the same run replaces the version the
run added.

``delete`` and ``flush`` remove current facts and traits only; the history stays, so a
``--flush-cache`` run does not erase what drift reports are built on. Retention
(``history_versions``, ``history_days``) is what trims the history.

Facts are kept as their canonical JSON text (module_utils/factjson.py) on both backends.
psycopg (version 3) is imported when a ``postgresql://`` URI is opened. Every statement is parameterized: values never reach
the SQL text.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import datetime
import errno
import hashlib
import json
import os
import pwd
import re
import reprlib
import sqlite3
import stat
import struct
import time

from urllib.parse import quote

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.store import factjson, factsecret, factvolatile

SCHEMA_VERSION = 5
APPLICATION_MARKER = 'virtumancer.hostcaps.factdb'
# PRAGMA application_id: "VHFD" (virtumancer hostcaps fact database), for file(1) and us.
SQLITE_APPLICATION_ID = 0x56484644
SQLITE_MAGIC = b'SQLite format 3\x00'
SQLITE_HEADER_SIZE = 100
# Seconds a call waits for a lock another process or session holds (option lock_timeout).
LOCK_TIMEOUT = 30
LOCK_TIMEOUT_HINT = 'fact_caching_lock_timeout (ANSIBLE_CACHE_PLUGIN_LOCK_TIMEOUT) sets how long to wait'
SQLITE_WAL_AUTOCHECKPOINT = 8192  # pages: 64 MiB of WAL with 8 KiB pages
# pg_advisory_xact_lock key of schema creation and migration ("factdb" in ASCII).
PG_SCHEMA_LOCK = 0x666163746462
PG_CONNECT_TIMEOUT = 10
# Hosts whose changed traits wait in host_traits before they are moved into the traits index.
TRAITS_PENDING_MAX = 256
POSTGRES_SCHEMES = ('postgresql', 'postgres')
PSYCOPG_INSTALL_HINT = "pip install 'psycopg[binary]'"

LEAVE_IT = 'move it away or point fact_caching_connection at another path; it was left untouched'

# Connections inherited by a forked child (Ansible's workers) belong to the parent: the child
# opens its own and keeps these referenced so that finalizing them never closes the parent's
# socket or file locks.
_INHERITED_CONNECTIONS = []


class FactStoreError(Exception):
    """The store cannot be opened or used; the message names it and says what to do."""


class DamagedFacts(FactStoreError):
    """A row of facts that is not a JSON object; the rest of the store may be intact."""


def shown(value, limit=60):
    """``value`` for a message: a repr bounded in length and depth, whatever it holds."""
    bounded = reprlib.Repr()
    bounded.maxstring = bounded.maxother = limit
    bounded.maxlevel = 3
    return bounded.repr(value)


# --------------------------------------------------------------------------- content

def facts_schema_version(facts):
    """``libvirt_host_caps.schema_version`` when the facts hold one as an integer."""
    caps = facts.get('libvirt_host_caps') if isinstance(facts, dict) else None
    value = caps.get('schema_version') if isinstance(caps, dict) else None
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return int(value)


def facts_traits(facts):
    """The set of trait names in ``libvirt_host_caps.traits``."""
    caps = facts.get('libvirt_host_caps') if isinstance(facts, dict) else None
    traits = caps.get('traits') if isinstance(caps, dict) else None
    if not isinstance(traits, (list, tuple)):
        return set()
    return set(str(trait) for trait in traits if isinstance(trait, str))


def configuration_digest(facts, text_digest):
    """The digest of ``facts`` without their counters, tagged with the rules that made it;
    ``text_digest`` (the digest of the whole facts) when they hold no counter."""
    configuration = factvolatile.configuration(facts)
    digest = text_digest if configuration is facts else factjson.encode(configuration)[1]
    return '%d:%s' % (factvolatile.RULES_VERSION, digest)


def iso_utc(epoch):
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def _prefix_end(prefix):
    """The smallest string greater than every string that starts with ``prefix``, or None.

    Keys are compared by code point on both backends (SQLite BINARY, PostgreSQL COLLATE "C"),
    so ``prefix <= key < _prefix_end(prefix)`` is an index range scan.
    """
    chars = list(prefix)
    while chars:
        point = ord(chars[-1]) + 1
        if 0xD800 <= point <= 0xDFFF:
            point = 0xE000
        if point <= 0x10FFFF:
            chars[-1] = chr(point)
            return ''.join(chars)
        chars.pop()
    return None


def _trait_list(text):
    """The traits a ``host_traits`` column holds, or None when it is damaged."""
    try:
        traits = json.loads(text)
    except (TypeError, ValueError):
        return None
    if isinstance(traits, list) and all(isinstance(trait, str) for trait in traits):
        return traits
    return None


def _decode(value):
    if value is None:
        return None
    if isinstance(value, dict):
        return value  # psycopg has parsed a JSONB column of a store not yet migrated
    try:
        facts = value if isinstance(value, list) else factjson.decode(value)
    except (TypeError, ValueError) as exc:
        raise DamagedFacts('they are not JSON (%s)' % shown(str(exc), 100)) from None
    if not isinstance(facts, dict):
        raise DamagedFacts('they are JSON %s, not an object' % type(facts).__name__)
    return facts


# --------------------------------------------------------------------------- schema

def _migrations():
    """The schema steps, in order, with the backend's column types as ``{key}`` etc.

    Step 1 is the cache alone, as the first plugin version wrote it: the content of each key
    in ``facts.facts``. Step 2 adds the history; ``_migrate_to_2`` then moves every content
    into ``blobs`` (once per digest) and rebuilds ``facts`` without it, so that a write
    stores its content once and ``facts`` rows stay small for keys() and contains().
    Step 3 changes nothing on SQLite; on PostgreSQL ``_migrate_to_3`` makes ``blobs.facts``
    text instead of JSONB: the server then neither parses a host's facts on every write nor
    prints them again on every read, which took most of a write's time.
    Step 4 gives a version the run that added it, the digest of its configuration and when
    its counters were last updated. The rows of older versions keep them null: the digest is
    computed from the facts when a write needs it.
    Step 5 changes no table: ``_migrate_to_5`` rebuilds the traits index from the current
    facts, which the drain of earlier versions could leave without some hosts.
    """
    return [
        [
            'CREATE TABLE meta (key {key} PRIMARY KEY, value {text} NOT NULL)',
            'CREATE TABLE facts (cache_key {key} PRIMARY KEY, host {key} NOT NULL, hash {text} NOT NULL,'
            ' updated_at {real} NOT NULL, facts {json} NOT NULL)',
            'CREATE INDEX facts_host ON facts (host)',
        ],
        [
            'DROP INDEX facts_host',
            'ALTER TABLE facts RENAME TO facts_v1',
            'CREATE TABLE facts (cache_key {key} PRIMARY KEY, host {key} NOT NULL, hash {text} NOT NULL,'
            ' updated_at {real} NOT NULL){small}',
            'CREATE INDEX facts_host ON facts (host)',
            # Content is kept per host: every reference to a blob is then a row of the same host,
            # found through the host's own index range, and guarded by the host's write lock.
            'CREATE TABLE blobs (host {key} NOT NULL, hash {text} NOT NULL, facts {json} NOT NULL, PRIMARY KEY (host, hash))',
            'CREATE TABLE versions (host {key} NOT NULL, version INTEGER NOT NULL, hash {text} NOT NULL,'
            ' schema_version INTEGER, created_at {real} NOT NULL, PRIMARY KEY (host, version)){small}',
            # The traits index: hosts_with_trait() reads one range of it.
            'CREATE TABLE traits (trait {key} NOT NULL, host {key} NOT NULL, PRIMARY KEY (trait, host)){small}',
            # Per host: the traits of its current facts, those the index holds, and whether they differ.
            'CREATE TABLE host_traits (host {key} PRIMARY KEY, traits {text} NOT NULL, indexed {text} NOT NULL,'
            ' pending INTEGER NOT NULL){small}',
            'CREATE INDEX host_traits_pending ON host_traits (host) WHERE pending = 1',
        ],
        [],
        [
            'ALTER TABLE versions ADD COLUMN run_id {text}',
            'ALTER TABLE versions ADD COLUMN config_hash {text}',
            'ALTER TABLE versions ADD COLUMN updated_at {real}',
        ],
        [],
    ]


# --------------------------------------------------------------------------- common store

class _Store(object):
    """What both backends share; a subclass provides the connection and the dialect."""

    types = {}
    # The elements of the JSON list of strings {0}, as a table {1}(value), in FROM.
    json_elements = 'json_each({0}) {1}'
    # Appended to the drain's SELECT: see _drain_traits. SQLite runs one write at a time.
    lock_rows = ''
    # The DB-API error class of the backend's driver (psycopg's is known once it is imported).
    driver_error = ()

    def __init__(self, name, history_versions=100, history_days=0, create=True, lock_timeout=LOCK_TIMEOUT):
        self.name = name
        self.history_versions = int(history_versions or 0)
        self.history_days = float(history_days or 0)
        if self.history_versions < 0 or self.history_days < 0:
            raise FactStoreError('store %s: history_versions=%r and history_days=%r must be 0 (unlimited) or more'
                                 % (name, history_versions, history_days))
        if isinstance(lock_timeout, bool) or not isinstance(lock_timeout, int) or lock_timeout < 1:
            raise FactStoreError('store %s: lock_timeout must be a whole number of seconds, 1 or more, got %.40r; '
                                 'nothing may wait for a lock without end' % (name, lock_timeout))
        self.lock_timeout = lock_timeout
        self.create = create
        self._queued = 0
        self._conn = None
        self._pid = None
        self._closed = False

    # -- connection life cycle

    def _connection(self):
        if self._closed:
            raise FactStoreError('store %s: used after close()' % self.name)
        if self._conn is not None and self._pid != os.getpid():
            _INHERITED_CONNECTIONS.append(self._conn)
            self._conn = None
        if self._conn is None:
            self._conn = self._open()
            self._pid = os.getpid()
        return self._conn

    def open(self):
        """Open, check and migrate now instead of at the first call."""
        self._connection()
        return self

    def close(self):
        conn, self._conn = self._conn, None
        self._closed = True
        if conn is not None:
            if self._pid == os.getpid():
                self._close(conn)
            else:
                _INHERITED_CONNECTIONS.append(conn)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # -- cache side

    def get(self, key, newer_than=None):
        """The current facts of ``key``, or None (also when not updated since ``newer_than``)."""
        sql = 'SELECT b.facts FROM facts f JOIN blobs b ON b.host = f.host AND b.hash = f.hash WHERE f.cache_key = ?'
        params = [key]
        if newer_than is not None:
            sql += ' AND f.updated_at >= ?'
            params.append(float(newer_than))
        row = self._one(sql, params)
        return None if row is None else self._current_facts(row[0], 'cache key %s' % shown(key))

    def updated_at(self, key):
        row = self._one('SELECT updated_at FROM facts WHERE cache_key = ?', (key,))
        return None if row is None else float(row[0])

    def keys(self, prefix='', newer_than=None):
        """Cache keys starting with ``prefix`` (kept), updated at or after ``newer_than``."""
        where, params = self._key_range(prefix)
        if newer_than is not None:
            where.append('updated_at >= ?')
            params.append(float(newer_than))
        sql = 'SELECT cache_key FROM facts'
        if where:
            sql += ' WHERE ' + ' AND '.join(where)
        return [row[0] for row in self._all(sql, params)]

    def contains(self, key, newer_than=None):
        if newer_than is None:
            row = self._one('SELECT 1 FROM facts WHERE cache_key = ?', (key,))
        else:
            row = self._one('SELECT 1 FROM facts WHERE cache_key = ? AND updated_at >= ?', (key, float(newer_than)))
        return row is not None

    def set(self, key, facts, now=None, host=None, run=None):
        """Store ``facts`` as the current facts of ``key``, and in the history of ``host``
        (default: ``key``), in one transaction. ``run`` names the run writing (None: each write
        is a run of its own): the history gets one version per run and per configuration."""
        if not isinstance(facts, dict):
            raise FactStoreError('store %s: facts of %r must be a mapping, got %s' % (self.name, key, type(facts).__name__))
        host = key if host is None else host
        now = time.time() if now is None else float(now)
        try:
            text, new_hash = factjson.encode(facts)
        except ValueError as exc:
            raise FactStoreError('store %s: facts of host %r cannot be stored as JSON: %s' % (self.name, host, exc))
        with self._write(host):
            # What the write depends on, in one round trip: the key's digest, the host's traits
            # and its latest version.
            old_hash, old_traits, last_version, last_hash, last_config, last_run = self._one(
                'SELECT (SELECT hash FROM facts WHERE cache_key = ?), (SELECT traits FROM host_traits WHERE host = ?),'
                ' v.version, v.hash, v.config_hash, v.run_id FROM (SELECT 1 AS one) o LEFT JOIN'
                ' (SELECT version, hash, config_hash, run_id FROM versions WHERE host = ? ORDER BY version DESC LIMIT 1) v'
                ' ON 1 = 1', (key, host, host))
            if old_hash == new_hash:
                # Identical facts: only their age changes, and no version is added.
                self._run('UPDATE facts SET updated_at = ? WHERE cache_key = ?', (now, key))
                return
            self._insert_blob(host, new_hash, text)
            self._run('INSERT INTO facts (cache_key, host, hash, updated_at) VALUES (?, ?, ?, ?)'
                      ' ON CONFLICT (cache_key) DO UPDATE SET host = excluded.host, hash = excluded.hash,'
                      ' updated_at = excluded.updated_at', (key, host, new_hash, now))
            self._queue_traits(host, facts_traits(facts), old_traits)
            # Unless the key changed and the host's history did not (facts written again after a flush).
            if last_hash != new_hash:
                latest = None if last_version is None else (int(last_version), last_hash, last_config, last_run)
                self._record(host, facts, new_hash, run, now, latest)
            if old_hash is not None:
                self._drop_blob_if_unused(host, old_hash)

    def _record(self, host, facts, new_hash, run, now, latest):
        """Put ``facts`` (digest ``new_hash``) into the history of ``host`` whose latest version
        is ``latest`` = (version, hash, config_hash, run_id) or None."""
        schema_version = facts_schema_version(facts)
        computed = []

        def config():
            # Only a comparison needs it: the first run of a host compares with nothing, and a
            # version whose digest is left null gets it from its facts when one does.
            if not computed:
                computed.append(configuration_digest(facts, new_hash))
            return computed[0]

        if latest is not None and run is not None and latest[3] == run:
            # This run's version: the history becomes what it would be had the run written
            # these facts only, so the version before it may take them.
            before = self._one('SELECT version, hash, config_hash, run_id FROM versions WHERE host = ? AND version < ?'
                               ' ORDER BY version DESC LIMIT 1', (host, latest[0]))
            if before is not None and self._same_configuration(host, before, facts, config):
                self._run('DELETE FROM versions WHERE host = ? AND version = ?', (host, latest[0]))
                self._drop_blob_if_unused(host, latest[1])
                latest = (before[0], before[1], config(), before[3])
            else:
                digest = computed[0] if computed else None
                self._run('UPDATE versions SET hash = ?, config_hash = ?, schema_version = ?, created_at = ?, updated_at = ?'
                          ' WHERE host = ? AND version = ?', (new_hash, digest, schema_version, now, now, host, latest[0]))
                self._drop_blob_if_unused(host, latest[1])
                return
        if latest is not None and self._same_configuration(host, latest, facts, config):
            # Counters alone changed: the latest version takes them, and keeps its number and run.
            self._run('UPDATE versions SET hash = ?, config_hash = ?, schema_version = ?, updated_at = ?'
                      ' WHERE host = ? AND version = ?', (new_hash, config(), schema_version, now, host, latest[0]))
            self._drop_blob_if_unused(host, latest[1])
            return
        version = 1 if latest is None else latest[0] + 1
        digest = computed[0] if computed else None
        self._run('INSERT INTO versions (host, version, hash, schema_version, created_at, run_id, config_hash, updated_at)'
                  ' VALUES (?, ?, ?, ?, ?, ?, ?, ?)', (host, version, new_hash, schema_version, now, run, digest, now))
        self._retain(host, version, now)

    def _same_configuration(self, host, row, facts, config):
        """Whether the version ``row`` = (version, hash, config_hash, ...) of ``host`` has the
        configuration of ``facts``, whose digest ``config()`` gives."""
        previous = None
        digest = row[2]
        if digest is None or not digest.startswith('%d:' % factvolatile.RULES_VERSION):
            # A version no comparison needed yet, or digested by other rules.
            previous = self._blob_facts(host, row[1])
            if previous is None:
                return False
            digest = configuration_digest(previous, row[1])
            self._run('UPDATE versions SET config_hash = ? WHERE host = ? AND version = ?', (digest, host, int(row[0])))
        if digest == config():
            return True
        # Different digests: a change, or lists of scalars in another order, which the diff
        # does not count either.
        previous = self._blob_facts(host, row[1]) if previous is None else previous
        return previous is not None and factvolatile.same_configuration(previous, facts)

    def _blob_facts(self, host, hash_):
        found = self._one('SELECT facts FROM blobs WHERE host = ? AND hash = ?', (host, hash_))
        try:
            return None if found is None else _decode(found[0])
        except DamagedFacts:
            return None  # compares as another configuration: a new version, the damaged one kept

    def delete(self, key):
        """Forget the current facts of ``key``; the host's history stays."""
        with self._write():
            row = self._one('SELECT host, hash FROM facts WHERE cache_key = ?', (key,))
            if row is None:
                return
            host, old_hash = row
            self._lock_host(host)
            self._run('DELETE FROM facts WHERE cache_key = ?', (key,))
            self._rebuild_traits(host)
            self._drop_blob_if_unused(host, old_hash)

    def flush(self, prefix=''):
        """Forget the current facts of every key starting with ``prefix``; history stays."""
        where, params = self._key_range(prefix)
        with self._write():
            # No host is written meanwhile: a host written after the DELETE of its facts would
            # otherwise keep facts without their traits, or the reverse.
            self._lock_store()
            if not where:
                self._run('DELETE FROM facts', ())
                self._run('DELETE FROM traits', ())
                self._run('DELETE FROM host_traits', ())
            else:
                cond = ' AND '.join(where)
                affected = [r[0] for r in self._all('SELECT DISTINCT host FROM facts WHERE %s' % cond, params)]
                self._run('DELETE FROM facts WHERE %s' % cond, params)
                # A host also cached under another prefix keeps the traits of its facts there.
                for host in affected:
                    self._rebuild_traits(host)

    # -- history side

    def versions(self, host):
        rows = self._all('SELECT version, created_at, updated_at, schema_version, hash FROM versions WHERE host = ?'
                         ' ORDER BY version', (host,))
        return [{'version': int(version), 'collected_at': iso_utc(created_at),
                 'updated_at': iso_utc(created_at if updated_at is None else updated_at),
                 'schema_version': None if schema_version is None else int(schema_version), 'hash': hash_}
                for version, created_at, updated_at, schema_version, hash_ in rows]

    def version_at(self, host, moment):
        """The version of ``host`` that was current at ``moment`` (epoch seconds): the last
        one recorded at or before it; None when the host was first recorded after it (or
        retention dropped the versions of that time)."""
        row = self._one('SELECT version FROM versions WHERE host = ? AND created_at <= ? ORDER BY version DESC LIMIT 1',
                        (host, float(moment)))
        return None if row is None else int(row[0])

    def version_facts(self, host, version):
        row = self._one('SELECT b.facts FROM versions v JOIN blobs b ON b.host = v.host AND b.hash = v.hash WHERE v.host = ? AND v.version = ?',
                        (host, int(version)))
        try:
            return None if row is None else _decode(row[0])
        except DamagedFacts as exc:
            raise DamagedFacts('store %s: the facts of version %d of host %s are damaged: %s; compare other versions of the '
                               'host (its other versions and current facts are not affected)' % (self.name, int(version), shown(host), exc))

    def latest(self, host):
        """The current facts of ``host`` (the newest of its keys when several prefixes hold it)."""
        row = self._one('SELECT b.facts FROM facts f JOIN blobs b ON b.host = f.host AND b.hash = f.hash WHERE f.host = ?'
                        ' ORDER BY f.updated_at DESC LIMIT 1', (host,))
        return None if row is None else self._current_facts(row[0], 'host %s' % shown(host))

    def _current_facts(self, value, what):
        try:
            return _decode(value)
        except DamagedFacts as exc:
            raise DamagedFacts('store %s: the current facts of %s are damaged: %s; remove them with ansible-playbook '
                               '--flush-cache or a meta: clear_facts task for the host, then gather them again (its '
                               'history is kept)' % (self.name, what, exc))

    @contextlib.contextmanager
    def _statement(self):
        """The backend's errors as FactStoreError: the driver's, and a name it cannot encode."""
        try:
            yield
        except self.driver_error as exc:
            raise self._error(exc)
        except UnicodeEncodeError as exc:
            raise self._not_text(exc) from None

    def _not_text(self, exc):
        """A host name, prefix or trait with a lone surrogate: Python's stand-in for a byte
        that is not UTF-8 (an inventory file in Latin-1), which neither backend can store."""
        value = exc.object if isinstance(exc.object, str) else ''
        return FactStoreError('store %s: %s is not valid text: it holds %s at position %d, which stands for a byte that '
                              'is not UTF-8; host names, the cache prefix and traits are stored as UTF-8, so write the '
                              'inventory in UTF-8 or rename the host' % (self.name, shown(value), shown(value[exc.start:exc.end]), exc.start))

    def hosts_with_trait(self, trait):
        """Hosts whose current facts hold ``trait``: the traits index, corrected by the few
        hosts whose traits changed since it was last brought up to date."""
        with self._read():
            hosts = set(row[0] for row in self._all(
                'SELECT host FROM traits WHERE trait = ? AND host NOT IN (SELECT host FROM host_traits WHERE pending = 1)',
                (trait,)))
            for host, traits in self._all('SELECT host, traits FROM host_traits WHERE pending = 1', ()):
                listed = _trait_list(traits)
                if listed is None:  # a damaged row of the index: the host's facts decide
                    listed = self._current_traits(host)
                if trait in listed:
                    hosts.add(host)
        return sorted(hosts)

    def hosts(self):
        """Hosts with current facts, sorted."""
        return sorted(row[0] for row in self._all('SELECT DISTINCT host FROM facts', ()))

    def schema_version(self):
        row = self._one('SELECT value FROM meta WHERE key = ?', ('schema_version',))
        return None if row is None else int(row[0])

    # -- internals shared by the backends

    @staticmethod
    def _key_range(prefix):
        if not prefix:
            return [], []
        end = _prefix_end(prefix)
        if end is None:
            return ['cache_key >= ?'], [prefix]
        return ['cache_key >= ?', 'cache_key < ?'], [prefix, end]

    def _queue_traits(self, host, wanted, current=False):
        """Record the traits of ``host``'s current facts.

        The index is keyed by trait, so writing a new host's 30-odd traits there dirties 30-odd
        pages, which made a first write several times slower than its facts. The host's row in
        ``host_traits`` (one row) takes the change instead, and once TRAITS_PENDING_MAX hosts
        wait there, _drain_traits moves them into the index together.
        """
        text = json.dumps(sorted(wanted), separators=(',', ':'))
        if current is False:
            row = self._one('SELECT traits FROM host_traits WHERE host = ?', (host,))
            current = None if row is None else row[0]
        if current == text:
            return
        self._run('INSERT INTO host_traits (host, traits, indexed, pending) VALUES (?, ?, ?, 1)'
                  ' ON CONFLICT (host) DO UPDATE SET traits = excluded.traits, pending = 1', (host, text, '[]'))
        # Counting the waiting hosts costs as much as the rest of a write: count every 16th time.
        self._queued += 1
        if self._queued % 16 == 0 and self._one('SELECT COUNT(*) FROM host_traits WHERE pending = 1', ())[0] >= TRAITS_PENDING_MAX:
            self._drain_traits()

    def _drain_traits(self):
        """Move the waiting hosts into the traits index, in a few set-wise statements.

        The hosts are chosen first, their rows locked (``lock_rows``), and every statement
        after works on exactly those: a host written by another controller meanwhile is left
        for a later drain, instead of being marked indexed without its traits. A host whose row
        another transaction holds (a controller writing that host, or draining it) is skipped,
        so a drain never waits for another writer.
        """
        rows = self._all('SELECT host, traits, indexed FROM host_traits WHERE pending = 1 ORDER BY host%s' % self.lock_rows, ())
        if not rows:
            return
        for host, traits, indexed in rows:
            # A row damaged outside the store would fail every drain: it is derived, so made anew.
            if _trait_list(indexed) is None:
                self._run('DELETE FROM traits WHERE host = ?', (host,))
                self._run("UPDATE host_traits SET indexed = '[]' WHERE host = ?", (host,))
            if _trait_list(traits) is None:
                self._run('UPDATE host_traits SET traits = ? WHERE host = ?', (json.dumps(sorted(self._known_traits(host)), separators=(',', ':')), host))
        hosts = [row[0] for row in rows]
        chosen = ('h.host IN (SELECT c.value FROM %s)' % self.json_elements.format('?', 'c'),
                  (json.dumps(hosts, separators=(',', ':')),))
        self._run('DELETE FROM traits WHERE (trait, host) IN (SELECT j.value, h.host FROM host_traits h, %s WHERE %s)'
                  % (self.json_elements.format('h.indexed', 'j'), chosen[0]), chosen[1])
        self._run('INSERT INTO traits (trait, host) SELECT j.value, h.host FROM host_traits h, %s WHERE %s ON CONFLICT DO NOTHING'
                  % (self.json_elements.format('h.traits', 'j'), chosen[0]), chosen[1])
        self._run("DELETE FROM host_traits AS h WHERE h.traits = '[]' AND %s" % chosen[0], chosen[1])
        self._run('UPDATE host_traits AS h SET indexed = traits, pending = 0 WHERE %s' % chosen[0], chosen[1])

    def _current_traits(self, host):
        row = self._one('SELECT b.facts FROM facts f JOIN blobs b ON b.host = f.host AND b.hash = f.hash WHERE f.host = ?'
                        ' ORDER BY f.updated_at DESC LIMIT 1', (host,))
        return set() if row is None else facts_traits(_decode(row[0]))

    def _known_traits(self, host):
        try:
            return self._current_traits(host)
        except DamagedFacts:  # kept for the user to flush; their traits are unknown, so none
            return set()

    def _rebuild_traits(self, host):
        self._queue_traits(host, self._known_traits(host))

    def _retain(self, host, newest, now):
        if not self.history_days and newest <= self.history_versions:
            return  # versions are numbered from 1: there are at most ``newest``
        cond, params = [], []
        if self.history_versions:
            row = self._one('SELECT version FROM versions WHERE host = ? ORDER BY version DESC LIMIT 1 OFFSET ?',
                            (host, self.history_versions))
            if row is not None:
                cond.append('version <= ?')
                params.append(int(row[0]))
        if self.history_days:
            cond.append('created_at < ?')
            params.append(now - self.history_days * 86400.0)
        if not cond:
            return
        where = 'host = ? AND version < ? AND (%s)' % ' OR '.join(cond)
        params = [host, newest] + params
        dropped = set(row[0] for row in self._all('SELECT hash FROM versions WHERE %s' % where, params))
        if not dropped:
            return
        self._run('DELETE FROM versions WHERE %s' % where, params)
        for hash_ in sorted(dropped):
            self._drop_blob_if_unused(host, hash_)

    def _insert_blob(self, host, hash_, text):
        self._run('INSERT INTO blobs (host, hash, facts) VALUES (?, ?, ?) ON CONFLICT (host, hash) DO NOTHING', (host, hash_, text))

    def _drop_blob_if_unused(self, host, hash_):
        self._run('DELETE FROM blobs WHERE host = ? AND hash = ?'
                  ' AND NOT EXISTS (SELECT 1 FROM versions WHERE host = ? AND hash = ?)'
                  ' AND NOT EXISTS (SELECT 1 FROM facts WHERE host = ? AND hash = ?)', (host, hash_, host, hash_, host, hash_))

    def _tune_blobs(self):
        """Backend-specific storage settings of ``blobs``."""

    def _lock_host(self, host):
        """Serialize the writes of one host (SQLite serializes every write already)."""

    def _lock_store(self):
        """Keep every host's write out until the transaction ends (SQLite: already so)."""

    def _migrate(self, current):
        """Apply the steps after ``current``; the caller holds the write lock."""
        steps = _migrations()
        for number in range(current + 1, SCHEMA_VERSION + 1):
            for statement in steps[number - 1]:
                self._run(statement.format(**self.types), ())
            if number == 2:
                self._tune_blobs()
                self._migrate_to_2()
            if number == 3:
                self._migrate_to_3()
            if number == 5:
                self._migrate_to_5()
        for key, value in (('application', APPLICATION_MARKER), ('schema_version', str(SCHEMA_VERSION))):
            self._run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
                      (key, value))

    def _migrate_to_2(self):
        """Every key of ``facts_v1`` into the new ``facts``, its content into ``blobs``, and
        version 1 and the traits of every host from it: a schema 1 store keeps its rows."""
        stream = self._stream('SELECT cache_key, host, updated_at, facts FROM facts_v1 ORDER BY updated_at')
        for cache_key, host, updated_at, value in stream:
            facts = _decode(value)
            text, new_hash = factjson.encode(facts)
            self._insert_blob(host, new_hash, text)
            self._run('INSERT INTO facts (cache_key, host, hash, updated_at) VALUES (?, ?, ?, ?)',
                      (cache_key, host, new_hash, float(updated_at)))
            self._queue_traits(host, facts_traits(facts))
            last = self._one('SELECT version, hash FROM versions WHERE host = ? ORDER BY version DESC LIMIT 1', (host,))
            if last is None or last[1] != new_hash:
                self._run('INSERT INTO versions (host, version, hash, schema_version, created_at) VALUES (?, ?, ?, ?, ?)',
                          (host, 1 if last is None else int(last[0]) + 1, new_hash, facts_schema_version(facts), float(updated_at)))
        self._run('DROP TABLE facts_v1', ())
        self._drain_traits()

    def _migrate_to_3(self):
        """Backend-specific: see _migrations."""

    def _migrate_to_5(self):
        """The traits index and ``host_traits`` anew, from the newest facts of every host."""
        self._run('DELETE FROM traits', ())
        self._run('DELETE FROM host_traits', ())
        # No ORDER BY: SQLite would sort the facts themselves. Keys written at the same time
        # both qualify; the first one read counts, as for latest().
        stream = self._stream('SELECT f.host, b.facts FROM facts f JOIN blobs b ON b.host = f.host AND b.hash = f.hash'
                              ' WHERE f.updated_at = (SELECT MAX(g.updated_at) FROM facts g WHERE g.host = f.host)')
        seen = set()
        for host, value in stream:
            if host not in seen:
                seen.add(host)
                try:
                    traits = facts_traits(_decode(value))
                except DamagedFacts:  # kept as they are; the cache names them when they are read
                    traits = set()
                self._queue_traits(host, traits, None)
        self._drain_traits()

    def _newer_schema(self, found):
        return FactStoreError('%s holds a factdb store of schema version %s, newer than this virtumancer.hostcaps knows (%d); '
                              'upgrade the collection, or %s' % (self.name, found, SCHEMA_VERSION, LEAVE_IT))


# --------------------------------------------------------------------------- SQLite

def _sqlite_header_problem(path, size):
    """Why the file at ``path`` cannot be an intact SQLite database, from its header; or None."""
    with open(path, 'rb') as handle:
        header = handle.read(SQLITE_HEADER_SIZE)
    if not header.startswith(SQLITE_MAGIC):
        return 'is not an SQLite database (it does not start with "SQLite format 3")'
    if len(header) < SQLITE_HEADER_SIZE:
        return 'is damaged: %d bytes, shorter than the 100-byte SQLite header' % size
    page_size = struct.unpack('>H', header[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    change_counter, page_count = struct.unpack('>II', header[24:32])
    valid_for = struct.unpack('>I', header[92:96])[0]
    # The page count in the header counts only when it was written by the same change.
    if page_count and change_counter == valid_for and size < page_count * page_size:
        return 'is damaged: %d bytes, but its header says %d pages of %d bytes (truncated?)' % (size, page_count, page_size)
    return None


class _NeedsWrite(Exception):
    """A read-only connection found a store to upgrade."""


def _user(uid):
    try:
        return 'uid %d (%s)' % (uid, pwd.getpwuid(uid).pw_name)
    except KeyError:
        return 'uid %d' % uid


def _check_directory(directory, named):
    """Whoever may write the directory of a store may replace the store, or plant the files
    SQLite keeps next to it: only its user or root may."""
    try:
        found = os.stat(directory)
    except OSError as exc:
        raise FactStoreError('the directory %s of the store %s cannot be used: %s' % (directory, named, exc.strerror)) from None
    if found.st_uid not in (os.geteuid(), 0):
        raise FactStoreError('the directory %s of the store %s belongs to %s: that user could replace the store; keep the '
                             'store in a directory of yours (the default is ~/.ansible/hostcaps)' % (directory, named, _user(found.st_uid)))
    if found.st_mode & 0o022:
        raise FactStoreError('the directory %s of the store %s has mode %04o: the group or other users could replace the '
                             'store or plant the files SQLite keeps next to it; run chmod go-w %s, or keep the store in a '
                             'private directory (the default is ~/.ansible/hostcaps)'
                             % (directory, named, stat.S_IMODE(found.st_mode), directory))


class SqliteStore(_Store):
    driver_error = sqlite3.Error
    types = {'key': 'TEXT', 'text': 'TEXT', 'real': 'REAL', 'json': 'TEXT', 'small': ' WITHOUT ROWID'}

    def __init__(self, path, history_versions=100, history_days=0, create=True, lock_timeout=LOCK_TIMEOUT):
        super(SqliteStore, self).__init__(os.path.expanduser(path), history_versions, history_days, create, lock_timeout)
        self.path = self.name

    # -- opening: nothing is written before the file is known to be ours or empty

    def _open(self):
        path = self.path
        status = self._status(path)
        if status is None:
            if not self.create:
                raise FactStoreError('%s does not exist: no factdb store there yet; run a play with '
                                     'fact_caching=virtumancer.hostcaps.factdb first, or check the path' % path)
            self._create_file(path)
            status = self._status(path)
            if status is None:
                raise FactStoreError('%s was removed just after it was created; check what deletes files in %s'
                                     % (path, os.path.dirname(os.path.abspath(path))))
        self._check_private(path, status)
        size = status.st_size
        if size:
            try:
                problem = _sqlite_header_problem(path, size)
            except OSError as exc:
                raise self._unusable(exc) from None
            if problem:
                raise FactStoreError('%s %s; %s' % (path, problem, LEAVE_IT))
        # The lookup reads: opened read-only, SQLite can neither create the file nor change it.
        # The cache created the file above, so its connection need not create one either.
        conn = self._connect('rw' if self.create else 'ro')
        try:
            try:
                self._check_and_migrate(conn, size, writable=self.create)
            except _NeedsWrite:
                # A store of an older schema, found by the lookup: upgraded as the cache would.
                conn.close()
                conn = self._connect('rw')
                self._check_and_migrate(conn, size, writable=True)
        except BaseException:
            conn.close()
            raise
        return conn

    def _connect(self, mode):
        uri = 'file:%s?mode=%s' % (quote(os.fsencode(os.path.abspath(self.path))), mode)
        try:
            return sqlite3.connect(uri, uri=True, timeout=self.lock_timeout, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise FactStoreError('%s cannot be opened: %s; check the path and its permissions' % (self.path, exc)) from None

    def _status(self, path):
        """``os.stat`` of the store through symbolic links; None when there is none."""
        try:
            return os.stat(path)
        except FileNotFoundError:
            if not os.path.islink(path):
                return None
            try:
                target = os.readlink(path)
            except OSError:
                target = '?'
            raise FactStoreError('%s is a symbolic link to %s, which does not exist; remove the link, or point it or '
                                 'fact_caching_connection at the store' % (path, shown(target, 200))) from None
        except OSError as exc:
            raise self._unusable(exc) from None

    def _unusable(self, exc):
        if exc.errno == errno.ELOOP:
            return FactStoreError('%s is a loop of symbolic links; remove them, or point fact_caching_connection at the '
                                  'store itself' % self.path)
        if exc.errno in (errno.EACCES, errno.EPERM):
            return FactStoreError('%s cannot be read (%s: %s): the store must be readable and writable by the user '
                                  'running Ansible; check the permissions of the file and of its directories'
                                  % (self.path, shown(exc.filename), exc.strerror))
        return FactStoreError('%s cannot be used: %s (%s); check the path' % (self.path, exc.strerror, shown(exc.filename)))

    def _check_private(self, path, status):
        """Refuse a store that another user owns or could read, as ssh does for private keys:
        another user's file, or one the group or others may open, would give them every host's
        facts. The same for the files SQLite keeps next to it, and for a link's target."""
        if stat.S_ISDIR(status.st_mode):
            raise FactStoreError('%s is a directory, not an SQLite file; point fact_caching_connection at a file path '
                                 '(e.g. %s)' % (path, os.path.join(path, 'facts.db')))
        if not stat.S_ISREG(status.st_mode):
            raise FactStoreError('%s is not a regular file (%s); point fact_caching_connection at a file path; it was left '
                                 'untouched' % (path, stat.filemode(status.st_mode)))
        real = os.path.realpath(path)
        named = path if real == os.path.abspath(path) else '%s (a symbolic link to %s)' % (path, real)
        _check_directory(os.path.dirname(real), named)
        for suffix, found in [('', status)] + [(suffix, None) for suffix in ('-wal', '-shm', '-journal')]:
            if found is None:
                try:
                    found = os.stat(real + suffix)
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    raise self._unusable(exc) from None
            what = named if not suffix else '%s, a file SQLite keeps next to the store %s,' % (real + suffix, named)
            if found.st_uid != os.geteuid():
                raise FactStoreError('%s belongs to %s, not to %s who runs Ansible: a store must be private to that user; '
                                     'move it away so that the plugin creates its own, or chown it; it was left untouched'
                                     % (what, _user(found.st_uid), _user(os.geteuid())))
            if found.st_mode & 0o077:
                raise FactStoreError('%s has mode %04o: the group or other users may read or change every host\'s facts; '
                                     'if it is yours, run chmod 600 %s; it was left untouched'
                                     % (what, stat.S_IMODE(found.st_mode), real + suffix))

    @staticmethod
    def _create_file(path):
        parent = os.path.dirname(os.path.abspath(path))
        missing = []
        while parent and not os.path.isdir(parent):
            missing.append(parent)
            parent = os.path.dirname(parent)
        for directory in reversed(missing):
            try:
                os.mkdir(directory, 0o700)
                os.chmod(directory, 0o700)  # the umask may have taken bits away; never adds any
            except OSError as exc:
                if exc.errno != errno.EEXIST:
                    raise FactStoreError('cannot create the directory %s for the store %s: %s; create it (mode 0700) or '
                                         'point fact_caching_connection elsewhere' % (directory, path, exc.strerror))
        _check_directory(os.path.dirname(os.path.realpath(path)), path)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            if exc.errno == errno.EEXIST:
                return  # another process created it first
            raise FactStoreError('cannot create the store %s: %s; check the permissions of %s or point '
                                 'fact_caching_connection elsewhere' % (path, exc.strerror, os.path.dirname(path)))
        try:
            os.fchmod(fd, 0o600)
        finally:
            os.close(fd)

    def _check_and_migrate(self, conn, size, writable):
        try:
            tables = self._tables(conn)
            version = self._read_version(conn, tables)
            if version == SCHEMA_VERSION:
                self._tune(conn)
                return
            if version > SCHEMA_VERSION:
                raise self._newer_schema(version)
            if not self.create and not tables:
                raise FactStoreError('%s holds no factdb store yet (an empty database); run a play with '
                                     'fact_caching=virtumancer.hostcaps.factdb first, or check the path' % self.path)
            if not writable:
                raise _NeedsWrite()
            if tables:
                # Only before the rare schema change: a full read of the file.
                self._quick_check(conn)
            elif not size:
                # A new file: bigger pages keep a host's facts in fewer overflow pages.
                conn.execute('PRAGMA page_size = 8192')
            self._tune(conn)
            self._conn = conn
            self._pid = os.getpid()
            with self._write():
                # Another process may have migrated while we waited for the lock.
                tables = self._tables(conn)
                current = self._read_version(conn, tables)
                if current > SCHEMA_VERSION:
                    raise self._newer_schema(current)
                if current < SCHEMA_VERSION:
                    self._migrate(current)
                    conn.execute('PRAGMA application_id = %d' % SQLITE_APPLICATION_ID)
                    conn.execute('PRAGMA user_version = %d' % SCHEMA_VERSION)
        finally:
            self._conn = None

    def _damaged(self, exc):
        return FactStoreError('%s is damaged: %s; %s' % (self.path, exc, LEAVE_IT))

    def _locked(self, message):
        return FactStoreError('%s is locked by another process for more than %d s: %s; retry when it is done; %s'
                              % (self.path, self.lock_timeout, message, LOCK_TIMEOUT_HINT))

    def _tables(self, conn):
        try:
            return sorted(row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!'"))
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and 'locked' in str(exc):
                raise self._locked(exc)
            raise self._damaged(exc)

    def _read_version(self, conn, tables):
        """Our schema version, 0 for an empty database; FactStoreError for anything else."""
        if not tables:
            return 0
        foreign = FactStoreError('%s is an SQLite database of another application (tables: %s); %s'
                                 % (self.path, ', '.join(tables), LEAVE_IT))
        try:
            application_id = conn.execute('PRAGMA application_id').fetchone()[0]
            if application_id not in (0, SQLITE_APPLICATION_ID) or 'meta' not in tables:
                raise foreign
            rows = dict(conn.execute('SELECT key, value FROM meta WHERE key IN (?, ?)', ('application', 'schema_version')))
        except sqlite3.DatabaseError as exc:
            if 'meta' not in tables:
                raise foreign
            raise self._damaged(exc)
        if rows.get('application') != APPLICATION_MARKER:
            raise foreign
        try:
            return int(rows.get('schema_version'))
        except (TypeError, ValueError):
            raise self._damaged('meta.schema_version is %r, not a number' % rows.get('schema_version'))

    def _quick_check(self, conn):
        try:
            result = [row[0] for row in conn.execute('PRAGMA quick_check')]
        except sqlite3.DatabaseError as exc:
            raise self._damaged(exc)
        if result != ['ok']:
            raise self._damaged('; '.join(str(r) for r in result[:5]))

    def _tune(self, conn):
        try:
            conn.execute('PRAGMA busy_timeout = %d' % (self.lock_timeout * 1000))
            # WAL: readers never block the writer, and a killed writer loses only its open transaction.
            self._wal(conn)
            conn.execute('PRAGMA synchronous = NORMAL')
            # Fewer, larger checkpoints: each one syncs the disk twice, which dominated a write.
            conn.execute('PRAGMA wal_autocheckpoint = %d' % SQLITE_WAL_AUTOCHECKPOINT)
            conn.execute('PRAGMA journal_size_limit = %d' % (64 * 1024 * 1024))
        except sqlite3.DatabaseError as exc:
            raise self._error(exc)

    def _wal(self, conn):
        # Switching a new file to WAL fails at once, without the busy handler, while another
        # process holds a lock on it (two controllers creating the store together): retried.
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                conn.execute('PRAGMA journal_mode = WAL')
                return
            except sqlite3.OperationalError as exc:
                if 'locked' not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(0.02)

    @staticmethod
    def _close(conn):
        conn.close()

    # -- statements

    def _error(self, exc):
        message = str(exc)
        if isinstance(exc, sqlite3.OperationalError) and 'locked' in message:
            return self._locked(message)
        if isinstance(exc, sqlite3.DatabaseError) and ('malformed' in message or 'not a database' in message):
            return self._damaged(message)
        return FactStoreError('store %s: %s' % (self.path, message))

    def _cursor(self):
        return (self._conn if self._conn is not None and self._pid == os.getpid() else self._connection())

    def _one(self, sql, params):
        conn = self._cursor()
        with self._statement():
            return conn.execute(sql, tuple(params)).fetchone()

    def _all(self, sql, params):
        conn = self._cursor()
        with self._statement():
            return conn.execute(sql, tuple(params)).fetchall()

    def _stream(self, sql):
        conn = self._cursor()
        with self._statement():
            yield from conn.cursor().execute(sql)

    def _run(self, sql, params):
        conn = self._cursor()
        with self._statement():
            return conn.execute(sql, tuple(params)).rowcount

    def _many(self, sql, rows):
        conn = self._cursor()
        with self._statement():
            conn.executemany(sql, rows)

    @contextlib.contextmanager
    def _read(self):
        """Several reads from one snapshot (WAL gives a deferred transaction one)."""
        conn = self._cursor()
        with self._statement():
            conn.execute('BEGIN')
        try:
            yield conn
        finally:
            try:
                conn.execute('COMMIT')
            except sqlite3.Error:
                pass

    @contextlib.contextmanager
    def _write(self, host=None):
        conn = self._cursor()
        with self._statement():
            # IMMEDIATE takes the write lock now, waiting up to busy_timeout, instead of failing
            # with "database is locked" when a read lock cannot be upgraded later.
            conn.execute('BEGIN IMMEDIATE')
        try:
            yield conn
        except BaseException:
            try:
                conn.execute('ROLLBACK')
            except sqlite3.Error:
                pass
            raise
        try:
            conn.execute('COMMIT')
        except sqlite3.Error as exc:
            try:
                conn.execute('ROLLBACK')
            except sqlite3.Error:
                pass
            raise self._error(exc)


# --------------------------------------------------------------------------- PostgreSQL

def mask_uri(uri):
    """``uri`` with its passwords replaced by ``***``, for messages; never raises."""
    return factsecret.mask(uri)


def _uri_passwords(uri):
    """Every spelling of the passwords in ``uri``, to scrub them from server messages."""
    return factsecret.secrets(uri)


def _host_lock(host):
    """A 64-bit advisory lock key per host: version numbers of a host are given out one at a time."""
    return struct.unpack('>q', hashlib.sha256(b'factdb-host:' + host.encode('utf-8', 'surrogatepass')).digest()[:8])[0]


def _store_lock(schema):
    """The advisory lock key of the store in ``schema``: a flush takes it exclusively, the write
    of a host shared. Stores in other schemas of the database have their own."""
    return struct.unpack('>q', hashlib.sha256(b'factdb-store:' + schema.encode('utf-8', 'surrogatepass')).digest()[:8])[0]


class PostgresStore(_Store):
    json_elements = 'jsonb_array_elements_text(({0})::jsonb) AS {1}(value)'
    lock_rows = ' FOR UPDATE SKIP LOCKED'
    # COLLATE "C": keys order by code point, as on SQLite, so prefix ranges use the index.
    types = {'key': 'TEXT COLLATE "C"', 'text': 'TEXT', 'real': 'DOUBLE PRECISION', 'json': 'JSONB', 'small': ''}

    def __init__(self, uri, history_versions=100, history_days=0, create=True, lock_timeout=LOCK_TIMEOUT):
        super(PostgresStore, self).__init__(mask_uri(uri), history_versions, history_days, create, lock_timeout)
        self._uri = uri
        self._passwords = _uri_passwords(uri)
        self._sql = {}
        # The advisory locks the current transaction asked for, (key, shared, what): named when one times out.
        self._lock_wanted = []
        self._store_key = None

    def _scrub(self, message):
        message = str(message).strip()
        for password in self._passwords:
            message = message.replace(password, '***')
        return message

    def _open(self):
        try:
            import psycopg
        except ImportError:
            raise FactStoreError('store %s: the Python package psycopg (version 3) is needed for a PostgreSQL store and is '
                                 'not installed for the controller Python; run %s' % (self.name, PSYCOPG_INSTALL_HINT))
        self._psycopg = psycopg
        self.driver_error = psycopg.Error
        extra = {}
        if 'connect_timeout' not in self._uri:
            extra['connect_timeout'] = PG_CONNECT_TIMEOUT
        try:
            conn = psycopg.connect(self._uri, autocommit=True, **extra)
        except psycopg.Error as exc:
            # from None: the driver's exception stays out of tracebacks (-vvv), with whatever it holds.
            raise FactStoreError('cannot connect to the PostgreSQL store %s: %s; check the server, user, password and '
                                 'database of fact_caching_connection' % (self.name, self._scrub(exc))) from None
        except Exception as exc:  # malformed URI and the like
            raise FactStoreError('cannot connect to the PostgreSQL store %s: %s; check fact_caching_connection'
                                 % (self.name, self._scrub(exc))) from None
        try:
            self._conn, self._pid = conn, os.getpid()
            # A commit need not wait for the server's disk: a server crash may lose the last
            # fraction of a second of writes, never consistency. Facts are gathered again anyway.
            # No call waits without end: for a lock (a host's write lock held by a stuck
            # controller, a table locked by another session), nor for a statement, which gets
            # twice as long so that a wait for a lock fails as one, with the lock named.
            schema = self._one("SELECT current_schema(), set_config('synchronous_commit', 'off', false),"
                               " set_config('lock_timeout', ?, false), set_config('statement_timeout', ?, false)",
                               ('%ds' % self.lock_timeout, '%ds' % (2 * self.lock_timeout)))[0]
            self._store_key = _store_lock(schema or '')
            self._check_and_migrate()
        except BaseException:
            self._conn = None
            conn.close()
            raise
        self._conn = None
        return conn

    def _check_and_migrate(self):
        version = self._pg_version()
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise self._newer_schema(version)
        if not self.create and version == 0:
            raise FactStoreError('%s holds no factdb store yet (no table meta in its search_path); run a play with '
                                 'fact_caching=virtumancer.hostcaps.factdb first, or check the URI' % self.name)
        with self._write():
            # Two controllers starting at once: the second waits here, then finds the schema done.
            self._lock_wanted = [(PG_SCHEMA_LOCK, False,
                                  'the schema lock (another controller creating or upgrading a store of this database)')]
            self._run('SELECT pg_advisory_xact_lock(?)', (PG_SCHEMA_LOCK,))
            current = self._pg_version()
            if current > SCHEMA_VERSION:
                raise self._newer_schema(current)
            if current < SCHEMA_VERSION:
                # Rewriting every table of a large store may take minutes.
                self._run("SELECT set_config('statement_timeout', '0', true)", ())
                self._migrate(current)

    def _pg_version(self):
        # pg_class through a fresh snapshot: to_regclass() may answer from a catalog cache that
        # predates the schema another controller created while we waited for the lock.
        names = set(row[0] for row in self._all(
            'SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace'
            ' WHERE n.nspname = current_schema() AND c.relname IN (?, ?)', ('meta', 'facts')))
        meta, facts = 'meta' in names, 'facts' in names
        if not meta:
            if facts:
                raise FactStoreError('%s has a table facts that is not a factdb store (no table meta); use another database '
                                     'or schema (options=-csearch_path=...) in fact_caching_connection; it was left untouched'
                                     % self.name)
            return 0
        rows = dict(self._all('SELECT key, value FROM meta WHERE key IN (?, ?)', ('application', 'schema_version')))
        if rows.get('application') != APPLICATION_MARKER:
            raise FactStoreError('%s has a table meta of another application; use another database or schema '
                                 '(options=-csearch_path=...) in fact_caching_connection; it was left untouched' % self.name)
        try:
            return int(rows.get('schema_version'))
        except (TypeError, ValueError):
            raise FactStoreError('%s: meta.schema_version is %r, not a number; the store is damaged'
                                 % (self.name, rows.get('schema_version')))

    @staticmethod
    def _close(conn):
        conn.close()

    # -- statements: written with ?, run with psycopg's %s

    def _prepare(self, sql):
        converted = self._sql.get(sql)
        if converted is None:
            converted = self._sql[sql] = sql.replace('?', '%s')
        return converted

    def _error(self, exc):
        sqlstate = getattr(exc, 'sqlstate', None)
        if sqlstate == '55P03':  # lock_not_available: lock_timeout
            message = self._lock_timeout_message(exc)
        elif sqlstate == '57014' and 'statement timeout' in str(exc):
            message = ('a statement ran for more than %d s and was canceled (statement_timeout, twice the lock timeout): %s;'
                       ' check the load of the server and retry; %s' % (2 * self.lock_timeout, self._scrub(exc), LOCK_TIMEOUT_HINT))
        else:
            message = self._scrub(exc)
        error = FactStoreError('PostgreSQL store %s: %s' % (self.name, message))
        error.__suppress_context__ = True
        return error

    def _lock_timeout_message(self, exc):
        holders = self._lock_holders()
        if not holders:
            return ('waited more than %d s for a lock another session held (%s); retry when it is done, or find the session '
                    'in pg_locks; %s' % (self.lock_timeout, self._scrub(exc), LOCK_TIMEOUT_HINT))
        pids = sorted(set(pid for pid, dummy in holders))
        return ('waited more than %d s for %s; end %s (SELECT %s) or retry when %s done; %s'
                % (self.lock_timeout, '; and for '.join(what for dummy, what in holders),
                   'that session' if len(pids) == 1 else 'those sessions',
                   ', '.join('pg_terminate_backend(%d)' % pid for pid in pids[:5]),
                   'it is' if len(pids) == 1 else 'they are', LOCK_TIMEOUT_HINT))

    def _lock_holders(self):
        """(pid, description) of the locks of this store that other sessions hold and that a
        call of ours waits for: the store lock taken exclusively, the write lock of the host
        being written, a table lock stronger than a write's. Asked on a connection of its
        own, since the failed transaction can run nothing more."""
        # A shared lock waits only for an exclusive holder; an exclusive one for any.
        names = dict((((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF), (shared, what)) for key, shared, what in self._lock_wanted)
        try:
            own = self._conn.info.backend_pid if self._conn is not None else 0
            with self._psycopg.connect(self._uri, autocommit=True, connect_timeout=PG_CONNECT_TIMEOUT) as conn:
                conn.execute("SELECT set_config('statement_timeout', '10s', false)")
                rows = conn.execute(
                    "SELECT l.pid, l.locktype, l.mode, c.relname, l.classid::bigint, l.objid::bigint,"
                    " a.application_name, a.state, a.xact_start FROM pg_catalog.pg_locks l"
                    " LEFT JOIN pg_catalog.pg_class c ON l.locktype = 'relation' AND c.oid = l.relation"
                    " LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid"
                    " WHERE l.granted AND l.pid NOT IN (pg_backend_pid(), %s)"
                    " AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())"
                    " AND ((l.locktype = 'relation' AND c.relnamespace = current_schema()::regnamespace"
                    "       AND c.relname IN ('meta', 'facts', 'blobs', 'versions', 'traits', 'host_traits')"
                    "       AND l.mode IN ('ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'))"
                    "   OR (l.locktype = 'advisory' AND l.objsubid = 1))"
                    " ORDER BY l.pid, c.relname", (own,)).fetchall()
        except self._psycopg.Error:
            return []
        holders = []
        for pid, locktype, mode, relname, classid, objid, application, state, since in rows:
            if locktype == 'advisory':
                shared, what = names.get((classid, objid), (True, None))
                if what is None or (shared and mode != 'ExclusiveLock'):
                    continue  # another host's lock, one that does not block ours, or not ours at all
            else:
                what = 'the %s on table %s' % (mode, relname)
            session = 'session pid %d' % pid
            details = []
            if application:
                details.append('application %r' % application[:40])
            if state:
                details.append(str(state)[:40] + ('' if since is None else ' since %s' % since.strftime('%Y-%m-%dT%H:%M:%S%z')))
            holders.append((pid, '%s, held by %s%s' % (what, session, ' (%s)' % ', '.join(details) if details else '')))
        return holders

    def _cursor(self):
        return self._conn if self._conn is not None and self._pid == os.getpid() else self._connection()

    def _one(self, sql, params):
        conn = self._cursor()
        with self._statement():
            return conn.execute(self._prepare(sql), tuple(params)).fetchone()

    def _all(self, sql, params):
        conn = self._cursor()
        with self._statement():
            return conn.execute(self._prepare(sql), tuple(params)).fetchall()

    def _stream(self, sql):
        # A server-side cursor: the migration reads the facts one batch at a time.
        conn = self._cursor()
        with self._statement():
            with conn.cursor(name='factdb_seed') as cursor:
                cursor.itersize = 200
                cursor.execute(self._prepare(sql))
                rows = cursor.fetchmany(cursor.itersize)
                while rows:
                    yield from rows
                    rows = cursor.fetchmany(cursor.itersize)

    def _run(self, sql, params):
        conn = self._cursor()
        with self._statement():
            return conn.execute(self._prepare(sql), tuple(params)).rowcount

    def _many(self, sql, rows):
        conn = self._cursor()
        with self._statement():
            with conn.cursor() as cursor:
                cursor.executemany(self._prepare(sql), rows)

    @contextlib.contextmanager
    def _read(self):
        conn = self._cursor()
        try:
            with conn.transaction():
                self._run('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ', ())
                yield conn
        except self._psycopg.Error as exc:
            raise self._error(exc)

    @contextlib.contextmanager
    def _write(self, host=None):
        try:
            conn = self._cursor()
            if host is None:
                try:
                    with conn.transaction():
                        yield conn
                except self._psycopg.Error as exc:
                    raise self._error(exc)
                return
            # The write of one host (set()) in pipeline mode: BEGIN, the host's lock and the first
            # SELECT go out together, then the writes and COMMIT; two round trips instead of nine.
            # An error, or an exception raised in the block, leaves the transaction to ROLLBACK.
            try:
                with conn.pipeline():
                    conn.execute('BEGIN')
                    self._lock_host(host)
                    yield conn
                    conn.execute('COMMIT')
            except BaseException as exc:
                try:
                    conn.execute('ROLLBACK')
                except self._psycopg.Error:
                    pass  # the connection is gone, and the transaction with it
                if isinstance(exc, self._psycopg.Error):
                    raise self._error(exc) from None
                raise
        finally:
            self._lock_wanted = []

    def _migrate_to_3(self):
        self._run('ALTER TABLE blobs ALTER COLUMN facts TYPE TEXT USING facts::text', ())
        self._tune_blobs()

    def _tune_blobs(self):
        # lz4 (PostgreSQL 14 and later, when built with it) compresses facts several times
        # faster than the default pglz; without it the default stays.
        try:
            with self._cursor().transaction():
                self._run('ALTER TABLE blobs ALTER COLUMN facts SET COMPRESSION lz4', ())
        except FactStoreError:
            pass

    def _lock_host(self, host):
        # Version numbers of a host are given out one at a time, also by several controllers;
        # the store lock, shared, keeps a flush out.
        self._lock_wanted = [(self._store_key, True, 'the store lock (a flush of the cache)'),
                             (_host_lock(host), False, 'the write lock of host %r (another controller writing it)' % host[:80])]
        self._run('SELECT pg_advisory_xact_lock_shared(?), pg_advisory_xact_lock(?)', (self._store_key, _host_lock(host)))

    def _lock_store(self):
        self._lock_wanted = [(self._store_key, False, 'the store lock (a write or another flush of the cache in progress)')]
        self._run('SELECT pg_advisory_xact_lock(?)', (self._store_key,))


# --------------------------------------------------------------------------- entry point

def is_postgres_uri(connection):
    return bool(re.match(r'^(%s)://' % '|'.join(POSTGRES_SCHEMES), connection or '', re.IGNORECASE))


def open_store(connection, history_versions=100, history_days=0, create=True, lock_timeout=LOCK_TIMEOUT):
    """The store at ``connection``: an SQLite path (``~`` expanded) or a ``postgresql://`` URI.

    The database is opened, checked and migrated at the first call that needs it (or by
    ``Store.open()``), so that errors surface where they can fail a run; ``create=False``
    refuses to create a store that is not there. A call that waits more than
    ``lock_timeout`` seconds for a lock fails. Raises FactStoreError.
    """
    if not connection:
        raise FactStoreError('no store given: set fact_caching_connection to an SQLite path or a postgresql:// URI')
    if is_postgres_uri(connection):
        return PostgresStore(connection, history_versions, history_days, create, lock_timeout)
    if '://' in connection:
        raise FactStoreError('store %s: unsupported URI scheme %r; use a path to an SQLite file or a postgresql:// URI'
                             % (mask_uri(connection), connection.split('://', 1)[0]))
    return SqliteStore(connection, history_versions, history_days, create, lock_timeout)
