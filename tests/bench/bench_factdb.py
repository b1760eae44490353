# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The factdb cache plugin on SQLite and PostgreSQL against ansible.builtin.jsonfile,
through ansible-core's own cache_loader (so 2.19's wrapping of persistent plugins is
measured as users get it), with 10,000 hosts of real facts: what a play running
``ansible.builtin.setup``, ``libvirt_host_caps`` (``read_only: false``, ``qemu:///system``) and
``sriov_facts`` cached for the Debian 12 test machine (tests/unit/fixtures/factdb/debian12-kvm-host.facts.json, about
45 KB of JSON), varied per host; and the peak RSS of reading 100,000 hosts one by one from SQLite.

Every candidate runs in a child process of its own (``python bench_factdb.py --child``):
the parent's memory and imports do not leak into what is measured, and the read phases
use a plugin instance that did not do the writing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

# BENCH_FACTDB_HOSTS and BENCH_FACTDB_RSS_HOSTS shrink a trial run; the targets hold for the defaults.
HOSTS = int(os.environ.get('BENCH_FACTDB_HOSTS') or 10000)
RSS_HOSTS = int(os.environ.get('BENCH_FACTDB_RSS_HOSTS') or 100000)
TARGET_SQLITE = 1.0 / 3.0
TARGET_POSTGRES = 1.0
TARGET_RSS_MIB = 300
PHASES = ('set', 'keys', 'contains', 'get')
# The cached facts of the test machine; its ansible_env is that of an SSH login as root (the
# local connection's environment described the controller, not the host).
FIXTURE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'unit', 'fixtures', 'factdb',
                       'debian12-kvm-host.facts.json')
# The RSS store keeps the categories placement reads (about 5 KB a host): 100,000 hosts of
# full facts would take 5 GB and minutes to write. A reader that loaded every host would
# still need far more than the target.
COMPACT_CATEGORIES = ('host_info', 'cpu_info', 'memory_info', 'traits', 'resources', 'schema_version')
POSTGRES_ENV = 'FACTDB_TEST_POSTGRES'
# factdb on SQLite without orjson (the standard library's json): shown, not held to a target.
STDLIB_LABEL = 'factdb/SQLite (json)'
CHILD_TIMEOUT = 900
# The child processes get the collections path here, and find the collection only through
# ansible-core's loader.
COLLECTIONS_ENV = 'BENCH_FACTDB_COLLECTIONS'


# -- child side: only ansible-core and the facts of base.json ------------------------------


def _host_facts(base, number, compact=False):
    """``base`` made a host of its own: names, uuids, memory and free counters differ, the rest
    is shared (shallow copies, so 10,000 hosts cost little memory in the writer). ``compact``
    keeps only the categories of COMPACT_CATEGORIES of libvirt_host_caps."""
    caps = base['libvirt_host_caps']
    if compact:
        caps = dict((key, caps[key]) for key in COMPACT_CATEGORIES)
    name = 'hv%06d.example.net' % number
    uuid_ = '%08x-0000-4000-8000-%012x' % (number, number)
    host_info = dict(caps['host_info'], hostname=name, uuid=uuid_, memory_mb=caps['host_info']['memory_mb'] + number % 4096)
    memory_info = dict(caps['memory_info'], total_mb=caps['memory_info']['total_mb'] + number % 4096, free_mb=number % 1000)
    facts = {'libvirt_host_caps': dict(caps, host_info=host_info, memory_info=memory_info)}
    if compact:
        return name, facts
    facts.update((key, value) for key, value in base.items() if key != 'libvirt_host_caps')
    facts.update(ansible_hostname=name.split('.')[0], ansible_nodename=name, ansible_fqdn=name,
                 ansible_machine_id='%032x' % number, ansible_product_uuid=uuid_,
                 ansible_memtotal_mb=base['ansible_memtotal_mb'] + number % 4096, ansible_memfree_mb=number % 1000)
    return name, facts


def _load(plugin, connection):
    from ansible.plugins.loader import cache_loader, init_plugin_loader
    init_plugin_loader([os.environ[COLLECTIONS_ENV]])
    options = {'_uri': connection, '_timeout': 0, '_prefix': ''}

    def fresh():
        found = cache_loader.get(plugin, **options)
        if found is None:
            raise SystemExit('cache_loader found no cache plugin %s' % plugin)
        return found
    return fresh


def _child_measure(plugin, connection, count, base_path, set_only=False, compact=False):
    """Set ``count`` hosts, then in a fresh plugin instance keys(), contains() and get()
    every host; checks every answer, prints {phase: seconds} as JSON."""
    with open(base_path) as handle:
        base = json.load(handle)
    fresh = _load(plugin, connection)
    hosts = [_host_facts(base, number, compact) for number in range(count)]
    names = [name for name, dummy in hosts]
    timings = {}

    cache = fresh()
    start = time.perf_counter()
    for name, facts in hosts:
        cache.set(name, facts)
    timings['set'] = time.perf_counter() - start
    del cache
    if set_only:
        print(json.dumps(timings))
        return 0

    cache = fresh()
    start = time.perf_counter()
    keys = cache.keys()
    timings['keys'] = time.perf_counter() - start
    if sorted(keys) != names:
        raise SystemExit('%s: keys() returned %d keys, expected the %d hosts set' % (plugin, len(keys), count))

    start = time.perf_counter()
    found = sum(1 for name in names if cache.contains(name))
    timings['contains'] = time.perf_counter() - start
    if found != count:
        raise SystemExit('%s: contains() is true for %d of %d hosts' % (plugin, found, count))

    start = time.perf_counter()
    wrong = 0
    for name in names:
        if cache.get(name)['libvirt_host_caps']['host_info']['hostname'] != name:
            wrong += 1
    timings['get'] = time.perf_counter() - start
    if wrong:
        raise SystemExit('%s: get() returned the facts of another host for %d hosts' % (plugin, wrong))
    print(json.dumps(timings))
    return 0


def _maxrss_mib():
    """This process's peak RSS. VmHWM first: ru_maxrss keeps the peak of the process
    before its exec, and a child forked from a bench process that grew (the vm_validate
    bench runs in it) would report the parent's size."""
    try:
        with open('/proc/self/status') as status:
            for line in status:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    # Linux reports KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _child_rss(connection, count):
    """Opens factdb, lists the keys and gets every host one by one; prints peak RSS."""
    fresh = _load('virtumancer.hostcaps.factdb', connection)
    cache = fresh()
    cache.contains('none')
    opened = _maxrss_mib()
    start = time.perf_counter()
    keys = cache.keys()
    read = 0
    for key in keys:
        if cache.get(key) is not None:
            read += 1
    seconds_taken = time.perf_counter() - start
    if read != count:
        raise SystemExit('factdb: read %d hosts of %d' % (read, count))
    print(json.dumps({'opened_mib': opened, 'peak_mib': _maxrss_mib(), 'hosts': read, 'seconds': seconds_taken}))
    return 0


def _child(argv):
    mode = argv[0]
    if 'no-orjson' in argv:
        sys.modules['orjson'] = None  # factdb then writes and reads with the standard library's json
    if mode == 'measure':
        return _child_measure(argv[1], argv[2], int(argv[3]), argv[4], set_only='set-only' in argv[5:], compact='compact' in argv[5:])
    if mode == 'rss':
        return _child_rss(argv[1], int(argv[2]))
    raise SystemExit('bench_factdb --child: unknown mode %r' % mode)


# -- parent side: run.py --------------------------------------------------------------------


def _run_child(args, what):
    from _common import BenchInvalid, COLLECTIONS_PATH
    env = dict((key, value) for key, value in os.environ.items() if not key.startswith('ANSIBLE_') and key != 'PYTHONPATH')
    env['ANSIBLE_LOCAL_TEMP'] = os.path.join(tempfile.gettempdir(), 'bench-factdb-ansible-tmp')
    env[COLLECTIONS_ENV] = COLLECTIONS_PATH
    command = [sys.executable, os.path.abspath(__file__), '--child'] + [str(arg) for arg in args]
    proc = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=CHILD_TIMEOUT, check=False)
    if proc.returncode != 0:
        raise BenchInvalid('%s: `%s` exited %d: %s' % (what, ' '.join(command), proc.returncode, (proc.stderr or proc.stdout)[-2000:]))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _postgres_dsn(ctx):
    dsn = os.environ.get(POSTGRES_ENV)
    if dsn:
        return dsn, None
    from _common import REPO_ROOT
    script = os.path.join(REPO_ROOT, 'hack', 'postgres.sh')
    proc = subprocess.run([script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        return None, '%s is not set and hack/postgres.sh failed: %s' % (POSTGRES_ENV, proc.stderr.strip()[-500:])
    ctx.say('PostgreSQL from hack/postgres.sh')
    return proc.stdout.strip().splitlines()[-1], None


class _PostgresSchema:
    """A schema of its own in the DSN's database, dropped afterwards, so every run starts
    from an empty store and leaves nothing behind."""

    def __init__(self, dsn):
        import psycopg
        self._psycopg = psycopg
        self.dsn = dsn
        self.schema = 'bench_%s' % uuid.uuid4().hex[:12]
        separator = '&' if '?' in dsn else '?'
        self.connection = '%s%soptions=-csearch_path%%3D%s' % (dsn, separator, self.schema)

    def __enter__(self):
        with self._psycopg.connect(self.dsn, autocommit=True, connect_timeout=10) as conn:
            conn.execute('CREATE SCHEMA %s' % self.schema)
        return self

    def __exit__(self, *exc_info):
        with self._psycopg.connect(self.dsn, autocommit=True, connect_timeout=10) as conn:
            conn.execute('DROP SCHEMA IF EXISTS %s CASCADE' % self.schema)


def _base_facts(path):
    with open(FIXTURE) as handle:
        facts = json.load(handle)
    with open(path, 'w') as handle:
        json.dump(facts, handle)
    return len(json.dumps(_host_facts(facts, 0)[1])), len(json.dumps(_host_facts(facts, 0, compact=True)[1]))


def _median(values):
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2.0


def _run(ctx, bench):
    from _common import INFO, MISS, BenchInvalid, Result, ratio_verdict, seconds, table

    result = Result(bench.name)
    rounds = ctx.rounds_for(bench)
    workdir = tempfile.mkdtemp(prefix='bench-factdb-')
    try:
        base_path = os.path.join(workdir, 'base.json')
        size, compact_size = _base_facts(base_path)
        ctx.say('%d hosts of %.1f KB facts each (setup, libvirt_host_caps and sriov_facts of %s; names, uuids and '
                'memory vary per host)' % (HOSTS, size / 1024.0, os.path.basename(FIXTURE)))
        ctx.say('%d round(s) per candidate, each on a new empty store (these phases take seconds, one round is '
                'representative; BENCH_ARGS="factdb --rounds 3" for a median of 3)' % rounds)
        dsn, pg_problem = _postgres_dsn(ctx)
        if pg_problem:
            ctx.say('PostgreSQL not measured: %s' % pg_problem)

        candidates = [('jsonfile', 'ansible.builtin.jsonfile'), ('factdb/SQLite', 'virtumancer.hostcaps.factdb'),
                      (STDLIB_LABEL, 'virtumancer.hostcaps.factdb')]
        if dsn:
            candidates.append(('factdb/PostgreSQL', 'virtumancer.hostcaps.factdb'))
        samples = dict((label, dict((phase, []) for phase in PHASES)) for label, dummy in candidates)
        for number in range(rounds):
            for label, plugin in candidates:
                store_dir = os.path.join(workdir, 'round%d-%s' % (number, label.replace('/', '-')))
                os.makedirs(store_dir)
                if label == 'factdb/PostgreSQL':
                    with _PostgresSchema(dsn) as schema:
                        timings = _run_child(['measure', plugin, schema.connection, HOSTS, base_path], label)
                elif label == 'jsonfile':
                    timings = _run_child(['measure', plugin, store_dir, HOSTS, base_path], label)
                else:
                    extra = ['no-orjson'] if label == STDLIB_LABEL else []
                    timings = _run_child(['measure', plugin, os.path.join(store_dir, 'facts.db'), HOSTS, base_path] + extra, label)
                shutil.rmtree(store_dir, ignore_errors=True)
                phases = '  '.join('%s %.2f s' % (phase, timings[phase]) for phase in PHASES)
                ctx.say('round %d %-18s %s  total %s' % (number + 1, label, phases, seconds(sum(timings.values()))))
                for phase in PHASES:
                    samples[label][phase].append(timings[phase])

        medians = dict((label, dict((phase, _median(values)) for phase, values in phases.items())) for label, phases in samples.items())
        totals = dict((label, sum(phases.values())) for label, phases in medians.items())
        ctx.say()
        ctx.say(table(['%d hosts' % HOSTS] + list(PHASES) + ['total', 'vs jsonfile'],
                      [[label] + [seconds(medians[label][phase]) for phase in PHASES]
                       + [seconds(totals[label]), '%.3f' % (totals[label] / totals['jsonfile'])] for label, dummy in candidates],
                      'lrrrrrr'))
        ctx.say()
        for label, target in (('factdb/SQLite', TARGET_SQLITE), ('factdb/PostgreSQL', TARGET_POSTGRES)):
            if label not in totals:
                result.add('%s/jsonfile total' % label.split('/')[1], 'not measured', '<= %.3f' % target, MISS)
                continue
            ratio = totals[label] / totals['jsonfile']
            metric = '%s/jsonfile total' % label.split('/')[1]
            ctx.say('%s %.3f  target <= %.3f  %s' % (metric, ratio, target, ratio_verdict(ratio, target)))
            result.add(metric, '%.3f' % ratio, '<= %.3f' % target, ratio_verdict(ratio, target))
        for label, dummy in candidates:
            result.add('%s total' % label, seconds(totals[label]), '', INFO)

        ctx.say()
        rss_db = os.path.join(workdir, 'rss', 'facts.db')
        os.makedirs(os.path.dirname(rss_db))
        ctx.say('peak RSS: writing %d hosts of %.1f KB facts (%s) to SQLite, history on ...'
                % (RSS_HOSTS, compact_size / 1024.0, ', '.join(COMPACT_CATEGORIES)))
        written = _run_child(['measure', 'virtumancer.hostcaps.factdb', rss_db, RSS_HOSTS, base_path, 'set-only', 'compact'], 'RSS store')
        ctx.say('  written in %s (%.0f MB on disk); reading them one by one in a new process ...'
                % (seconds(written['set']), sum(os.path.getsize(os.path.join(os.path.dirname(rss_db), name))
                                                for name in os.listdir(os.path.dirname(rss_db))) / 1e6))
        rss = _run_child(['rss', rss_db, RSS_HOSTS], 'RSS reader')
        verdict = ratio_verdict(rss['peak_mib'], TARGET_RSS_MIB)
        ctx.say('  after opening the plugin %.0f MiB; peak while reading %d hosts in %s: %.0f MiB  target < %d MiB  %s'
                % (rss['opened_mib'], rss['hosts'], seconds(rss['seconds']), rss['peak_mib'], TARGET_RSS_MIB, verdict))
        result.add('peak RSS reading %d hosts' % RSS_HOSTS, '%.0f MiB' % rss['peak_mib'], '< %d MiB' % TARGET_RSS_MIB, verdict)
        if pg_problem:
            result.invalid = 'PostgreSQL not measured: %s' % pg_problem
    except BenchInvalid as exc:
        result.invalid = str(exc)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def _benchmarks():
    from _common import Benchmark
    return [Benchmark('factdb', 'factdb cache (SQLite, PostgreSQL) vs jsonfile: set/keys/contains/get of %d hosts; '
                      'peak RSS reading %d hosts' % (HOSTS, RSS_HOSTS), _run, min_rounds=1, default_rounds=1)]


if __name__ == '__main__' and len(sys.argv) > 1 and sys.argv[1] == '--child':
    sys.exit(_child(sys.argv[2:]))

# PostgreSQL keeps checkpointing and vacuuming for a while after 10,000 writes, which
# would slow the whole-process timings of the other benchmarks if they came after.
RUN_LAST = True

BENCHMARKS = _benchmarks()
