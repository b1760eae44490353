# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How much libvirt_host_caps costs: as a whole `ansible` run next to
community.libvirt.virt nodeinfo and ansible.builtin.setup, and in process next to the
bare libvirt calls it makes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import resource
import statistics
import subprocess
import sys
import textwrap

from _common import (
    BENCH_VENV, COLLECTIONS_PATH, INFO, LIBVIRT_URI, TMP_DIR, BenchInvalid, Benchmark, Result, interleave,
    millis, ratio_verdict, seconds, table,
)

MODULE = 'virtumancer.hostcaps.libvirt_host_caps'
# Targets of the discovery issue: a full discovery may cost little more than the
# smallest community.libvirt call, and well under a generic fact gathering.
TARGET_VS_NODEINFO = 1.15
TARGET_VS_SETUP = 0.70


# -- whole process -----------------------------------------------------------------


def _bench_bin(name):
    return os.path.join(BENCH_VENV, 'bin', name)


def _workdir():
    """A directory of its own with an empty ansible.cfg, so no ansible.cfg of the
    repository or of the user changes what is measured."""
    path = os.path.join(TMP_DIR, 'bench', 'host_caps')
    if not os.path.isdir(path):
        os.makedirs(path)
    config = os.path.join(path, 'ansible.cfg')
    with open(config, 'w', encoding='utf-8') as handle:
        handle.write('# written by tests/bench: every setting comes from the environment\n')
    return path, config


def _ansible_env(config):
    env = dict((key, value) for key, value in os.environ.items()
               if not key.startswith('ANSIBLE_') and key not in ('PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV'))
    env.update({
        'PATH': os.path.join(BENCH_VENV, 'bin') + os.pathsep + env.get('PATH', ''),
        'VIRTUAL_ENV': BENCH_VENV,
        'ANSIBLE_CONFIG': config,
        # virtumancer.hostcaps from this tree; community.libvirt is in no configured path, so
        # ansible-core finds it in the bench venv's site-packages ansible_collections.
        'ANSIBLE_COLLECTIONS_PATH': COLLECTIONS_PATH,
        'ANSIBLE_PYTHON_INTERPRETER': _bench_bin('python'),
        # json: the result of every run is checked, not only its return code.
        'ANSIBLE_STDOUT_CALLBACK': 'json',
        'ANSIBLE_LOAD_CALLBACK_PLUGINS': '1',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_CACHE_PLUGIN': 'memory',
        'ANSIBLE_GATHERING': 'explicit',
        'ANSIBLE_LOCALHOST_WARNING': '0',
        'ANSIBLE_INVENTORY_UNPARSED_WARNING': '0',
        'ANSIBLE_DEPRECATION_WARNINGS': '0',
        'ANSIBLE_RETRY_FILES_ENABLED': '0',
    })
    return env


class _Command:
    """One `ansible localhost -m ...` command and the check of its result."""

    def __init__(self, key, label, module, args, check, env, cwd):
        self.key = key
        self.label = label
        self.argv = [_bench_bin('ansible'), 'localhost', '-m', module]
        if args:
            self.argv += ['-a', args]
        self.argv += ['-e', 'ansible_python_interpreter=%s' % _bench_bin('python')]
        self.check = check
        self.env = env
        self.cwd = cwd
        self.result_bytes = None
        self.notes = []
        self.last = None
        self.cpu = []

    def run(self):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(self.argv, env=self.env, cwd=self.cwd, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU of ansible, its worker and the module (not libvirtd's): steadier than wall
        # time on a busy machine, so it tells noise from a real change.
        self.cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        self.last = proc

    def verify(self):
        """Raise BenchInvalid unless the last run succeeded with a complete result."""
        proc = self.last
        if proc.returncode != 0:
            raise BenchInvalid('%s: `%s` exited %d: %s' % (
                self.key, ' '.join(self.argv), proc.returncode, _tail(proc.stderr or proc.stdout)))
        try:
            result = json.loads(proc.stdout)['plays'][0]['tasks'][0]['hosts']['localhost']
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise BenchInvalid('%s: cannot read the json callback output (%s): %s' % (self.key, exc, _tail(proc.stdout))) from exc
        if result.get('failed') or result.get('unreachable'):
            raise BenchInvalid('%s: the module failed: %s' % (self.key, result.get('msg')))
        self.result_bytes = len(json.dumps(result))
        self.notes = self.check(result)


def _tail(text, limit=600):
    text = (text or '').strip()
    return text if len(text) <= limit else '...' + text[-limit:]


def _check_host_caps(result):
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.host_facts import CATEGORIES

    facts = (result.get('ansible_facts') or {}).get('libvirt_host_caps')
    if not isinstance(facts, dict):
        raise BenchInvalid('A: no ansible_facts.libvirt_host_caps in the result')
    missing = [key for dummy, key in CATEGORIES if facts.get(key) is None]
    domcaps = facts.get('domain_capabilities')
    if missing or not isinstance(domcaps, list) or not domcaps:
        errors = '; '.join('%s: %s' % (e.get('category'), e.get('message')) for e in facts.get('errors') or [])
        raise BenchInvalid('A: libvirt_host_caps did not return every category (null: %s; domain_capabilities: %s); '
                           'errors: %s' % (', '.join(missing) or 'none', 'null' if domcaps is None else '%d entries' % len(domcaps),
                                           errors or 'none'))
    notes = ['%d domain capabilities probes' % len(domcaps)]
    notes += ['error reported by the module: %s: %s' % (e.get('category'), e.get('message')) for e in facts.get('errors') or []]
    return notes


def _check_nodeinfo(result):
    if 'cpus' not in result:
        raise BenchInvalid('B: community.libvirt.virt nodeinfo returned no cpus: %s' % sorted(result))
    return []


def _check_setup(result):
    if not (result.get('ansible_facts') or {}).get('ansible_hostname'):
        raise BenchInvalid('C: ansible.builtin.setup returned no ansible_hostname')
    return []


def _resolution(env, cwd):
    """Where each collection comes from, and the core and package versions of the bench venv."""
    proc = subprocess.run([_bench_bin('ansible-galaxy'), 'collection', 'list', '--format', 'json'], env=env, cwd=cwd,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    if proc.returncode != 0:
        raise BenchInvalid('ansible-galaxy collection list failed: %s' % _tail(proc.stderr))
    found = {}
    for path, collections in json.loads(proc.stdout).items():
        for name, info in collections.items():
            # Listed in search order: the first path is the one ansible-core loads.
            found.setdefault(name, (path, info.get('version')))
    versions = subprocess.run(
        [_bench_bin('python'), '-c', 'import sys, ansible.release, importlib.metadata as m; '
         'print(ansible.release.__version__, m.version("ansible"), "%d.%d.%d" % sys.version_info[:3])'],
        env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    if versions.returncode != 0:
        raise BenchInvalid('the bench venv %s has no ansible package: %s (run `make bench-venv`)'
                           % (BENCH_VENV, _tail(versions.stderr)))
    core, package, python = versions.stdout.split()
    return found, core, package, python


def _process(ctx, bench):
    result = Result(bench.name)
    if not os.access(_bench_bin('ansible'), os.X_OK):
        result.invalid = 'no bench venv at %s: run `make bench-venv` (or `make bench`)' % BENCH_VENV
        return result
    cwd, config = _workdir()
    env = _ansible_env(config)
    try:
        found, core, package, python = _resolution(env, cwd)
    except BenchInvalid as exc:
        result.invalid = str(exc)
        return result
    ctx.say('controller and modules: %s (Python %s, ansible-core %s, ansible %s)'
            % (_bench_bin('python'), python, core, package))
    for name in ('virtumancer.hostcaps', 'community.libvirt'):
        path, version = found.get(name, (None, None))
        ctx.say('  %-21s %s from %s' % (name, version, path))
    hostcaps_path = found.get('virtumancer.hostcaps', ('',))[0]
    libvirt_path = found.get('community.libvirt', ('',))[0]
    if os.path.realpath(hostcaps_path) != os.path.realpath(os.path.join(COLLECTIONS_PATH, 'ansible_collections')):
        result.invalid = 'virtumancer.hostcaps does not resolve to %s (got %s)' % (COLLECTIONS_PATH, hostcaps_path or 'nothing')
        return result
    if not os.path.realpath(libvirt_path or '/').startswith(os.path.realpath(BENCH_VENV) + os.sep):
        result.invalid = 'community.libvirt must come from the bench venv %s (got %s)' % (BENCH_VENV, libvirt_path or 'nothing')
        return result

    commands = [
        _Command('A', '%s read_only=false' % MODULE, MODULE, 'uri=%s read_only=false' % LIBVIRT_URI, _check_host_caps, env, cwd),
        _Command('B', 'community.libvirt.virt command=nodeinfo', 'community.libvirt.virt',
                 'command=nodeinfo uri=%s' % LIBVIRT_URI, _check_nodeinfo, env, cwd),
        _Command('C', 'ansible.builtin.setup', 'ansible.builtin.setup', None, _check_setup, env, cwd),
    ]
    rounds = ctx.rounds_for(bench)
    ctx.say('interleaved A,B,C: 1 warm-up round + %d measured rounds, uri %s, load average %.2f %.2f %.2f'
            % ((rounds, LIBVIRT_URI) + os.getloadavg()))

    def on_round(number, last):
        # Every run is checked, the warm-up included: one bad result voids the medians.
        for command in commands:
            command.verify()
        label = 'warm-up' if number == 0 else 'round %d/%d' % (number, rounds)
        ctx.say('  %-12s %s' % (label, '  '.join('%s %s' % (c.key, seconds(last[c.key])) for c in commands)))

    try:
        stats = interleave([(c.key, c.run) for c in commands], rounds, warmup=1, on_round=on_round)
    except BenchInvalid as exc:
        result.invalid = str(exc)
        return result

    ctx.say()
    cpu = dict((c.key, statistics.median(c.cpu[1:])) for c in commands)  # [0] is the warm-up
    rows = [(c.key, c.label, seconds(stats[c.key].median), seconds(stats[c.key].min), seconds(stats[c.key].max),
             seconds(cpu[c.key]), '%d B' % c.result_bytes) for c in commands]
    ctx.say(table(['', 'command (ansible localhost -m ...)', 'median', 'min', 'max', 'CPU median', 'result JSON'],
                  rows, 'llrrrrr'))
    for command in commands:
        for note in command.notes:
            ctx.say('  %s: %s' % (command.key, note))
    a, b, c = (stats[key].median for key in 'ABC')
    ctx.say()
    for label, value, target in (('A/B (vs community.libvirt nodeinfo)', a / b, TARGET_VS_NODEINFO),
                                 ('A/C (vs ansible.builtin.setup)', a / c, TARGET_VS_SETUP)):
        verdict = ratio_verdict(value, target)
        ctx.say('%-36s %.3f  target <= %.2f  %s' % (label, value, target, verdict))
        result.add(label.split(' ', 1)[0], '%.3f' % value, '<= %.2f' % target, verdict)
    ctx.say('(CPU time ratios, informational: A/B %.3f, A/C %.3f)' % (cpu['A'] / cpu['B'], cpu['A'] / cpu['C']))
    for command in commands:
        result.add('%s median' % command.key, seconds(stats[command.key].median), '', INFO)
    return result


# -- in process --------------------------------------------------------------------


class _Recorder:
    """Stands in for a libvirt object and logs every method called on it, and on the
    objects it hands out, so the bare-call baseline can be checked against the module."""

    _KINDS = {'virStoragePool': 'pool', 'virNetwork': 'net', 'virInterface': 'iface',
              'virNodeDevice': 'nodedev', 'virDomain': 'dom'}

    def __init__(self, target, log, prefix='conn'):
        self._target = target
        self._log = log
        self._prefix = prefix

    def __getattr__(self, name):
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr

        def call(*args):
            self._log.append('%s.%s(%s)' % (self._prefix, name, ', '.join(_short(a) for a in args)))
            return self._wrap(attr(*args))
        return call

    def _wrap(self, value):
        if isinstance(value, list):
            return [self._wrap(item) for item in value]
        kind = self._KINDS.get(type(value).__name__)
        return _Recorder(value, self._log, kind) if kind else value


def _short(value):
    text = repr(value)
    return '<%d chars>' % len(value) if isinstance(value, str) and len(value) > 40 else text


def _module_sources(collect, build_facts, subsets, conn, uri):
    return build_facts(collect.live_sources(conn, uri, '/sys', None, read_only=False), subsets, uri=uri)


def _raw_plan(libvirt, collect, conn):
    """What the module learns from parsing and then passes back to libvirt, worked out
    once so the timed baseline calls with the same arguments but parses nothing."""
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.capabilities import parse_capabilities
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.cpu_definition import model_definition_xml
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.domain_capabilities import parse_domain_capabilities
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.host_facts import primary_domain_capabilities

    caps = parse_capabilities(conn.getCapabilities())
    probes = collect.resolve_probes(None, caps)
    # The guest CPU features: the module expands the host-model and every usable model of
    # the primary probe (the host's arch at its default machine) with baselineHypervisorCPU.
    entries = []
    for arch, machine, virttype, is_default in probes:
        try:
            entry = parse_domain_capabilities(conn.getDomainCapabilities(None, arch, machine, virttype, 0))
        except libvirt.libvirtError:
            continue
        entry['default_machine'] = is_default
        entries.append(entry)
    primary = primary_domain_capabilities(entries, caps['cpu']['arch']) or {}
    cpu = primary.get('cpu') or {}
    names = []
    for name in [(cpu.get('host_model') or {}).get('name')] + list((cpu.get('models') or {}).get('usable') or []):
        if name and name not in names:
            names.append(name)
    expansions = [(primary['emulator'], primary['arch'], primary['machine'], primary['virttype'], model_definition_xml(name))
                  for name in names]
    return {
        'cpu_xml': caps['cpu']['xml'],
        'probes': probes,
        'expansions': expansions,
        'cells': len(caps['cells']),
        'page_sizes_kb': caps['cpu']['page_sizes_kb'],
        'max_vcpus_virttype': probes[0][2] if probes else None,
        'expand': libvirt.VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES,
        'pci': libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV,
        'error': libvirt.libvirtError,
    }


def _raw_calls(conn, plan):
    """The libvirt calls of collect.live_sources + build_facts, in the order build_facts
    makes them (host, cpu, memory, storage, network, virt), without parsing."""
    conn.getCapabilities()
    conn.getInfo()
    conn.getLibVersion()
    conn.getType()
    conn.getVersion()
    conn.getHostname()
    if plan['cpu_xml']:
        conn.baselineCPU([plan['cpu_xml']], plan['expand'])
    for arch, machine, virttype, dummy_default in plan['probes']:
        try:
            conn.getDomainCapabilities(None, arch, machine, virttype, 0)
        except plan['error']:
            pass
    for emulator, arch, machine, virttype, model_xml in plan['expansions']:
        conn.baselineHypervisorCPU(emulator, arch, machine, virttype, [model_xml], plan['expand'])
    conn.getCellsFreeMemory(0, max(plan['cells'], 1))
    if plan['page_sizes_kb'] and plan['cells']:
        conn.getFreePages(plan['page_sizes_kb'], 0, plan['cells'])
    for pool in conn.listAllStoragePools(0):
        pool.XMLDesc(0)
        pool.isActive()
        pool.autostart()
        pool.isPersistent()
    conn.getStoragePoolCapabilities(0)
    for net in conn.listAllNetworks(0):
        net.XMLDesc(0)
        net.isActive()
        net.autostart()
        net.isPersistent()
    try:
        for iface in conn.listAllInterfaces(0):
            iface.XMLDesc(0)
            iface.isActive()
    except plan['error']:
        pass  # the module reads /sys/class/net instead: no libvirt call
    for device in conn.listAllDevices(plan['pci']):
        device.XMLDesc(0)
    conn.getMaxVcpus(plan['max_vcpus_virttype'])
    for dom in conn.listAllDomains(0):
        dom.info()
        dom.name()
        dom.UUIDString()
        dom.isActive()
        dom.isPersistent()


def _inprocess(ctx, bench):
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery import libvirt_conn
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts import collect
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.host_facts import SUBSETS, build_facts

    result = Result(bench.name)
    if not libvirt_conn.HAS_LIBVIRT:
        result.invalid = 'libvirt-python is not importable by %s' % sys.executable
        return result
    import libvirt

    uri = LIBVIRT_URI
    try:
        conn = libvirt_conn.connect(uri, read_only=False)
    except libvirt_conn.ConnectError as exc:
        result.invalid = str(exc)
        return result
    try:
        plan = _raw_plan(libvirt, collect, conn)
        module_log, raw_log = [], []
        facts = _module_sources(collect, build_facts, SUBSETS, _Recorder(conn, module_log), uri)
        _raw_calls(_Recorder(conn, raw_log), plan)
    finally:
        conn.close()
    try:
        _check_host_caps({'ansible_facts': {'libvirt_host_caps': facts}})
    except BenchInvalid as exc:
        result.invalid = 'in process: %s' % exc
        return result
    if module_log != raw_log:
        index = next((i for i, (m, r) in enumerate(zip(module_log, raw_log)) if m != r), min(len(module_log), len(raw_log)))
        result.invalid = ('the baseline no longer makes the calls of the module (update _raw_calls): call %d is %s in the '
                          'module and %s in the baseline' % (index + 1, (module_log[index:] or ['nothing'])[0],
                                                             (raw_log[index:] or ['nothing'])[0]))
        return result
    ctx.say('libvirt calls per discovery, checked identical in module and baseline: %d' % len(module_log))
    ctx.say(textwrap.fill(', '.join(_count_calls(module_log)), 100, initial_indent='  ', subsequent_indent='  '))

    def module_run():
        connection = libvirt_conn.connect(uri, read_only=False)
        try:
            _module_sources(collect, build_facts, SUBSETS, connection, uri)
        finally:
            connection.close()

    def raw_run():
        connection = libvirt.open(uri)
        try:
            _raw_calls(connection, plan)
        finally:
            connection.close()

    rounds = ctx.rounds_for(bench)
    ctx.say('interleaved module,raw: 2 warm-up rounds + %d measured rounds, read-write %s' % (rounds, uri))
    stats = interleave([('module', module_run), ('raw', raw_run)], rounds, warmup=2)
    module, raw = stats['module'], stats['raw']
    ctx.say()
    ctx.say(table(['', 'median', 'min', 'max'], [
        ('module: connect + live_sources + build_facts', millis(module.median), millis(module.min), millis(module.max)),
        ('raw: open + the same libvirt calls + close', millis(raw.median), millis(raw.min), millis(raw.max)),
    ], 'lrrr'))
    overhead = module.median - raw.median
    ctx.say()
    ctx.say('module/raw %.2f; parsing, sysfs and derivation add %s per discovery (%.0f%% of the module time)'
            % (module.median / raw.median, millis(overhead), 100.0 * overhead / module.median))
    result.add('module median', millis(module.median))
    result.add('raw libvirt median', millis(raw.median))
    result.add('module/raw', '%.2f' % (module.median / raw.median))
    result.add('parse overhead', millis(overhead))
    return result


def _count_calls(log):
    counts = {}
    for entry in log:
        name = entry.split('(')[0]
        counts[name] = counts.get(name, 0) + 1
    return ['%s x%d' % (name, count) if count > 1 else name for name, count in counts.items()]


BENCHMARKS = [
    Benchmark('host_caps_process', 'whole `ansible localhost -m`: libvirt_host_caps vs community.libvirt.virt nodeinfo '
              'vs setup', _process, min_rounds=5, default_rounds=7),
    Benchmark('host_caps_inprocess', 'in process: connect + live_sources + build_facts vs the bare libvirt calls',
              _inprocess, min_rounds=20, default_rounds=30),
]
