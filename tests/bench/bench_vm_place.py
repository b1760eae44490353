# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vm_place on 10,000 VMs against 1,000 hosts in one call, under ``pack`` and ``spread``,
side by side with a naive first-fit loop and a one-dimensional packer (``binpacking``).

The hosts are four families of real fixtures (EPYC Milan, EPYC with SEV, Xeon with TDX,
Xeon without UEFI), each host with its facts built through the collection's parsers and
builders: its own name, its ``virNodeGetInfo`` and ``/proc/meminfo`` figures and a storage
pool. Every host has the same size (64 CPUs, 256 GiB, a 4 TiB pool), as a cluster of one
server model has, so the bound of the issue holds as stated; the families give them
different traits. The policy overcommits VCPU 2:1 and keeps 4 GiB of memory back.

The VMs come from a seeded generator: services of one size each (nine resource classes,
some custom sizes), a quarter of them replicas in small hard anti-affinity groups (max 1
or 2 per host), some requiring a trait only a quarter or three quarters of the hosts have
or forbidding one most have.

Quality is measured against bounds any placement must respect:
- pack: for each class, the fewest hosts whose capacities (largest first) add up to the
  demand; with hosts of one size, ceil(total demand / per-host capacity). The largest over
  the classes.
- spread: the fractional optimum of the highest utilisation, the largest over the classes
  of total demand / total capacity (each VM split evenly over every host reaches it).
Every placement is rechecked by a checker of its own (capacity, traits, groups); a
placement that breaks a rule makes the measurement invalid.

Peak memory is that of a fresh process (``bench_vm_place.py --child``) that builds the
same input, as hostvars hold it (every host's facts its own objects), and places it once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import random
import subprocess
import sys
import time

VMS, HOSTS, SEED = 10000, 1000, 11
TARGET_SECONDS = 2.0
TARGET_PEAK_MIB = 500
TARGET_PACK_RATIO = 1.02
TARGET_SPREAD_RATIO = 1.02
CHILD_TIMEOUT = 600

FAMILIES = (
    ('debian12-epyc-milan-kvm.caps.xml', 'debian12-epyc-milan-kvm.domcaps-pc.xml', 'debian12-epyc-milan-kvm.domcaps-q35.xml'),
    ('amd-epyc-sev.caps.xml', 'amd-epyc-sev.domcaps-q35.xml'),
    ('intel-tdx.caps.xml', 'intel-tdx.domcaps-q35.xml'),
    ('intel-xeon-ht.caps.xml', 'x86-no-uefi.domcaps-q35.xml'),
)
MEMINFO = 'debian12-epyc-milan-kvm-24g/meminfo'
POOL = 'testdriver-default.pool.xml'
HOST_CPUS, HOST_MEMORY_MB, HOST_DISK_GB = 64, 256 * 1024, 4096
VCPU_RATIO, RESERVED_MEMORY_MB = 2.0, 4096
CLASSES = ('VCPU', 'MEMORY_MB', 'DISK_GB')

# (name, vcpus, memory_mb, disk_gb, weight among services)
SIZES = (
    ('m1.tiny', 1, 2048, 20, 10),
    ('m1.small', 2, 4096, 40, 22),
    ('m1.medium', 4, 8192, 80, 20),
    ('m1.large', 8, 16384, 160, 14),
    ('m1.xlarge', 16, 32768, 320, 6),
    ('m1.2xlarge', 32, 65536, 640, 2),
    ('r1.large', 4, 32768, 80, 8),
    ('c1.xlarge', 16, 16384, 80, 6),
    ('s1.large', 2, 8192, 1024, 6),
)
CUSTOM_SHARE = 0.06  # services with a size of their own (vcpus, memory_mb, disk_gb set on the VM)
GROUP_SHARE = 0.08  # services that are replicas in a hard anti-affinity group (about a quarter of the VMs)
# (share of services, field, trait): the hosts that have it come from the families above.
TRAIT_RULES = (
    (0.04, 'required_traits', 'HW_CPU_X86_AMD_SEV'),  # EPYC with SEV: a quarter of the hosts
    (0.06, 'required_traits', 'CUSTOM_IOMMU'),  # all but Milan: three quarters
    (0.02, 'forbidden_traits', 'HW_CPU_HYPERTHREADING'),  # only Milan lacks it: a quarter
)


# -- the instance ----------------------------------------------------------------------


def _families():
    """Each family's parsed capabilities and domain capabilities, read once."""
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.capabilities import parse_capabilities
    from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import domcaps_entries, read_fixture
    return [(parse_capabilities(read_fixture(caps)), domcaps_entries(*domcaps)) for caps, *domcaps in FAMILIES]


def _meminfo(total_mb):
    """The live figures of /proc/meminfo for a host of ``total_mb``, through the parser."""
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.meminfo import memory_totals, parse_meminfo
    from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import FIXTURES
    with open(os.path.join(os.path.dirname(FIXTURES), 'proc', MEMINFO)) as handle:
        lines = handle.read().splitlines()
    sizes = {'MemTotal': total_mb * 1024, 'MemFree': total_mb * 1000, 'MemAvailable': total_mb * 1010}
    text = '\n'.join('%s: %d kB' % (line.split(':')[0], sizes[line.split(':')[0]]) if line.split(':')[0] in sizes else line
                     for line in lines)
    return memory_totals(parse_meminfo(text))


def _pool(number):
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.storage import parse_pool
    from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import read_fixture
    text = read_fixture(POOL).replace('107374182400', str(HOST_DISK_GB * 1024 ** 3)).replace('default-pool', 'images%04d' % number)
    return parse_pool(text, active=True, autostart=True, persistent=True)


def hosts_facts():
    """host name -> hostvars-like ``{ansible_facts: {libvirt_host_caps}}``, each host's facts
    its own objects (as hostvars hold them once read from a cache or a gathering task)."""
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.host_facts import SUBSETS, FactSources, build_facts
    families = _families()
    meminfo = _meminfo(HOST_MEMORY_MB)
    hosts = {}
    for number in range(HOSTS):
        caps, domcaps = families[number % len(families)]
        name = 'hv%04d' % number
        node = {'model': 'x86_64', 'memory_mb': HOST_MEMORY_MB, 'cpus': HOST_CPUS, 'mhz': 2450, 'nodes': 1,
                'sockets': 1, 'cores': HOST_CPUS // 2, 'threads': 2}
        fetchers = {'capabilities': lambda c=caps: c, 'domain_capabilities': lambda d=domcaps: d,
                    'node_info': lambda n=node: n, 'kernel_meminfo': lambda: meminfo, 'hostname': lambda n=name: n,
                    'pools': lambda n=number: [_pool(n)]}
        facts = build_facts(FactSources(fetchers), SUBSETS)
        # One JSON round trip: no object shared with another host or with the fixtures.
        hosts[name] = {'ansible_facts': {'libvirt_host_caps': json.loads(json.dumps(facts))}}
    return hosts


def instance():
    """``(vms, groups)``: the VM definitions in a seeded order and {group: max_per_host}."""
    rng = random.Random(SEED)
    weights = [size[4] for size in SIZES]
    services = []
    groups = {}
    count = 0
    while count < VMS:
        if rng.random() < CUSTOM_SHARE:
            shape = {'vcpus': rng.choice((1, 2, 4, 6, 8, 12)), 'memory_mb': 1024 * rng.randint(1, 48), 'disk_gb': 10 * rng.randint(1, 50)}
        else:
            shape = {'resource_class': rng.choices(SIZES, weights)[0][0]}
        for share, field, trait in TRAIT_RULES:
            if rng.random() < share:
                shape[field] = [trait]
                break
        replicas = 1
        if rng.random() < GROUP_SHARE:
            replicas = min(rng.randint(2, 6), VMS - count)
            group = 'svc%04d' % len(groups)
            groups[group] = 1 if len(groups) % 2 == 0 else 2
            shape['groups'] = [group]
        services.append((shape, replicas))
        count += replicas
    vms = [dict(shape) for shape, replicas in services for dummy in range(replicas)]
    rng.shuffle(vms)
    for number, vm in enumerate(vms):
        vm['name'] = 'vm%05d' % number
    return vms, groups


def catalog(strategy, groups):
    return {
        'resource_classes': [{'name': name, 'vcpus': vcpus, 'memory_mb': memory, 'disk_gb': disk}
                             for name, vcpus, memory, disk, dummy in SIZES],
        'placement_policies': [{
            'name': 'default', 'strategy': strategy,
            'allocation_ratios': {'VCPU': VCPU_RATIO}, 'reserved': {'MEMORY_MB': RESERVED_MEMORY_MB},
            'anti_affinity': [{'name': name, 'hard': True, 'max_per_host': limit} for name, limit in sorted(groups.items())],
        }],
    }


# -- what the benchmark checks and compares against, written apart from the engine -------


def demand_of(vm):
    if 'resource_class' in vm:
        dummy, vcpus, memory, disk, dummy = next(size for size in SIZES if size[0] == vm['resource_class'])
        return (vcpus, memory, disk)
    return (vm['vcpus'], vm['memory_mb'], vm['disk_gb'])


def host_capacity():
    """What the policy lets a host hold per class: (total - reserved) * ratio."""
    return (HOST_CPUS * VCPU_RATIO, float(HOST_MEMORY_MB - RESERVED_MEMORY_MB), float(HOST_DISK_GB))


def host_traits(hosts):
    """host -> its traits, as its facts list them."""
    return dict((name, frozenset(data['ansible_facts']['libvirt_host_caps']['traits'])) for name, data in hosts.items())


def pack_bound(vms, capacities):
    """The fewest hosts any placement needs: the largest over the classes of pack_bound_class."""
    return max(pack_bound_class(vms, capacities, index) for index in range(len(CLASSES)))


def pack_bound_class(vms, capacities, index):
    """How many of the largest hosts it takes for their capacities of class ``index`` to
    add up to its total demand: with hosts of one size, ceil(total demand / capacity)."""
    total = sum(demand_of(vm)[index] for vm in vms)
    room, needed = 0.0, 0
    for capacity in sorted((caps[index] for caps in capacities), reverse=True):
        if room >= total:
            break
        room += capacity
        needed += 1
    return needed


def spread_bound(vms, capacities):
    """The fractional optimum of the highest utilisation: {class: total demand / total capacity}."""
    return dict((name, sum(demand_of(vm)[index] for vm in vms) / sum(caps[index] for caps in capacities))
                for index, name in enumerate(CLASSES))


def check_placement(answer, vms, traits, groups):
    """Broken rules of ``answer`` as messages (at most a few), from scratch: capacity per
    class, required and forbidden traits, group limits; and per-host utilisation."""
    by_name = dict((vm['name'], vm) for vm in vms)
    capacity = host_capacity()
    load, members, wrong = {}, {}, []
    for entry in answer['placements']:
        vm, host = by_name[entry['vm']], entry['host']
        used = load.setdefault(host, [0, 0, 0])
        for index, amount in enumerate(demand_of(vm)):
            used[index] += amount
        if not set(vm.get('required_traits', ())) <= traits[host] or set(vm.get('forbidden_traits', ())) & traits[host]:
            wrong.append('%s on %s breaks its trait rules' % (vm['name'], host))
        for group in vm.get('groups', ()):
            members[(group, host)] = members.get((group, host), 0) + 1
    for host, used in sorted(load.items()):
        for index, name in enumerate(CLASSES):
            if used[index] > capacity[index]:
                wrong.append('%s holds %s %s of %s' % (host, used[index], name, capacity[index]))
    for (group, host), count in sorted(members.items()):
        if count > groups[group]:
            wrong.append('%s holds %d members of %s (max %d)' % (host, count, group, groups[group]))
    highest = max(used[index] / capacity[index] for used in load.values() for index in range(len(CLASSES))) if load else 0.0
    return wrong[:5], len(load), highest


def naive_first_fit(vms, hosts):
    """Each VM in input order on the first host, by name, where it fits: capacity per class,
    required and forbidden traits, group limits. ``vms``: [(name, demand, required,
    forbidden, [(group, max)])]; ``hosts``: [(name, capacity, traits)]. Returns
    {vm: host} of the VMs it placed."""
    free = dict((name, list(capacity)) for name, capacity, dummy in hosts)
    members = {}
    placed = {}
    for name, demand, required, forbidden, groups in vms:
        for host, dummy, traits in hosts:
            room = free[host]
            if demand[0] > room[0] or demand[1] > room[1] or demand[2] > room[2]:
                continue
            if not required <= traits or forbidden & traits:
                continue
            if any(members.get((group, host), 0) >= limit for group, limit in groups):
                continue
            room[0] -= demand[0]
            room[1] -= demand[1]
            room[2] -= demand[2]
            for group, dummy in groups:
                members[(group, host)] = members.get((group, host), 0) + 1
            placed[name] = host
            break
    return placed


def binpacking_memory(vms, capacity):
    """Hosts ``binpacking.to_constant_volume`` needs for the memory of ``vms`` alone, and
    its time: run by the bench venv's Python, where the package is installed."""
    from _common import BENCH_VENV, BenchInvalid
    python = os.path.join(BENCH_VENV, 'bin', 'python')
    script = ('import binpacking, json, sys, time\n'
              'sizes, capacity = json.load(sys.stdin)\n'
              'start = time.perf_counter()\n'
              'bins = binpacking.to_constant_volume(sizes, capacity)\n'
              'print(json.dumps([len(bins), time.perf_counter() - start]))\n')
    payload = json.dumps([[demand_of(vm)[1] for vm in vms], capacity])
    try:
        proc = subprocess.run([python, '-c', script], input=payload, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=CHILD_TIMEOUT, check=False)
    except OSError as exc:
        raise BenchInvalid('binpacking: cannot run %s (%s); make bench-venv installs it' % (python, exc))
    if proc.returncode != 0:
        raise BenchInvalid('binpacking: %s exited %d: %s' % (python, proc.returncode, proc.stderr[-1000:]))
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- child side: one call in a fresh process, for its peak memory ---------------------------


def _peak_mib():
    """This process's peak RSS (VmHWM), in MiB."""
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) / 1024.0
    raise SystemExit('bench_vm_place: /proc/self/status has no VmHWM')


def _child(strategy):
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.placement import place_vms
    hosts = hosts_facts()
    vms, groups = instance()
    cat = catalog(strategy, groups)
    before = _peak_mib()
    start = time.perf_counter()
    answer = place_vms(vms, catalog=cat, hosts=hosts)
    seconds_taken = time.perf_counter() - start
    print(json.dumps({'input_mib': before, 'peak_mib': _peak_mib(), 'seconds': seconds_taken, 'placed': answer['summary']['placed']}))
    return 0


def _run_child(strategy):
    from _common import BenchInvalid, COLLECTIONS_PATH
    env = dict(os.environ)
    env['PYTHONPATH'] = COLLECTIONS_PATH
    command = [sys.executable, os.path.abspath(__file__), '--child', strategy]
    proc = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=CHILD_TIMEOUT, check=False)
    if proc.returncode != 0:
        raise BenchInvalid('`%s` exited %d: %s' % (' '.join(command), proc.returncode, (proc.stderr or proc.stdout)[-2000:]))
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- parent side: run.py ---------------------------------------------------------------------


def _run(ctx, bench):
    from _common import PASS, MISS, INFO, BenchInvalid, Result, interleave, ratio_verdict, seconds, table
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.placement import place_vms

    result = Result(bench.name)
    start = time.perf_counter()
    hosts = hosts_facts()
    vms, groups = instance()
    traits = host_traits(hosts)
    capacity = host_capacity()
    capacities = [capacity] * len(hosts)
    grouped = sum(1 for vm in vms if vm.get('groups'))
    with_traits = sum(1 for vm in vms if vm.get('required_traits') or vm.get('forbidden_traits'))
    ctx.say('%d VMs (%d resource classes and custom sizes; %d in %d hard anti-affinity groups, %d with a trait rule) '
            'on %d hosts (%d fixture families, each %d CPUs x %.0f, %d MiB - %d reserved, %d GiB); built in %.1f s'
            % (len(vms), len(SIZES), grouped, len(groups), with_traits, len(hosts), len(FAMILIES), HOST_CPUS, VCPU_RATIO,
               HOST_MEMORY_MB, RESERVED_MEMORY_MB, HOST_DISK_GB, time.perf_counter() - start))
    catalogs = dict((strategy, catalog(strategy, groups)) for strategy in ('pack', 'spread'))
    answers = {}

    cpu = dict((strategy, []) for strategy in catalogs)

    def call(strategy):
        def run():
            # The answer of the round before is freed first: its teardown is not the call's.
            answers.pop(strategy, None)
            start = time.process_time()
            answers[strategy] = place_vms(vms, catalog=catalogs[strategy], hosts=hosts)
            cpu[strategy].append(time.process_time() - start)
        return run

    rounds = ctx.rounds_for(bench)
    stats = interleave([('pack', call('pack')), ('spread', call('spread'))], rounds, warmup=0)
    cpu = dict((strategy, sorted(values)[len(values) // 2]) for strategy, values in cpu.items())
    measured = {}
    for strategy, answer in answers.items():
        if answer['problems']:
            result.invalid = '%s: vm_place reports problems, e.g. %s' % (strategy, answer['problems'][0]['message'][:300])
            return result
        wrong, used, highest = check_placement(answer, vms, traits, groups)
        if wrong:
            result.invalid = '%s: the placement breaks a rule: %s' % (strategy, '; '.join(wrong))
            return result
        engine_capacity = answer['hosts']['hv0000']['resources']
        if tuple(engine_capacity[name]['capacity'] for name in CLASSES) != capacity:
            result.invalid = 'vm_place sees a host capacity of %s, the bench %s' % (
                dict((name, engine_capacity[name]['capacity']) for name in CLASSES), capacity)
            return result
        measured[strategy] = (used, highest, answer['summary']['placed'])

    naive_vms = [(vm['name'], demand_of(vm), frozenset(vm.get('required_traits', ())), frozenset(vm.get('forbidden_traits', ())),
                  [(group, groups[group]) for group in vm.get('groups', ())]) for vm in vms]
    naive_hosts = [(name, capacity, traits[name]) for name in sorted(hosts)]
    start = time.perf_counter()
    naive = naive_first_fit(naive_vms, naive_hosts)
    naive_seconds = time.perf_counter() - start
    naive_answer = {'placements': [{'vm': vm, 'host': host} for vm, host in naive.items()]}
    wrong, naive_used, naive_highest = check_placement(naive_answer, vms, traits, groups)
    if wrong:
        result.invalid = 'naive first fit breaks a rule: %s' % '; '.join(wrong)
        return result
    try:
        one_d_hosts, one_d_seconds = binpacking_memory(vms, capacity[1])
        peaks = dict((strategy, _run_child(strategy)) for strategy in ('pack', 'spread'))
    except BenchInvalid as exc:
        result.invalid = str(exc)
        return result

    bound = pack_bound(vms, capacities)
    fractional = spread_bound(vms, capacities)
    optimum = max(fractional.values())
    pack_used, dummy, pack_placed = measured['pack']
    dummy, spread_highest, spread_placed = measured['spread']
    ctx.say()
    ctx.say('bounds: pack needs at least %d hosts (%s); spread: highest utilisation at least %.4f (%s)' % (
        bound, ', '.join('%s %d' % (name, pack_bound_class(vms, capacities, index)) for index, name in enumerate(CLASSES)),
        optimum, ', '.join('%s %.4f' % (name, value) for name, value in sorted(fractional.items()))))
    ctx.say()
    ctx.say(table(['%d VMs x %d hosts' % (len(vms), len(hosts)), 'time', 'peak RSS', 'placed', 'hosts used', 'highest util.'], [
        ('vm_place pack, one call (median of %d)' % rounds, seconds(stats['pack'].median), '%.0f MiB' % peaks['pack']['peak_mib'],
         pack_placed, measured['pack'][0], '%.4f' % measured['pack'][1]),
        ('vm_place spread, one call (median of %d)' % rounds, seconds(stats['spread'].median),
         '%.0f MiB' % peaks['spread']['peak_mib'], spread_placed, measured['spread'][0], '%.4f' % spread_highest),
        ('naive first fit (input order, hosts by name)', seconds(naive_seconds), '', len(naive), naive_used, '%.4f' % naive_highest),
        ('binpacking.to_constant_volume, MEMORY_MB only', seconds(one_d_seconds), '', '', one_d_hosts, ''),
    ], 'lrrrrr'))
    ctx.say()
    ctx.say('binpacking packs memory alone: it ignores VCPU, DISK_GB, traits and groups, so its count is a reference no '
            'packer that honours them is bound to reach; the bound above is %d hosts.' % bound)
    ctx.say('CPU time of one call (median): pack %.3f s, spread %.3f s; the wall time is higher when other processes '
            'share the CPUs.' % (cpu['pack'], cpu['spread']))
    ctx.say('peak RSS: a fresh process holding the input (%.0f MiB once built) and placing it once (%.3f s pack, %.3f s spread).'
            % (peaks['pack']['input_mib'], peaks['pack']['seconds'], peaks['spread']['seconds']))
    ctx.say()

    all_placed = pack_placed == len(vms) and spread_placed == len(vms)
    rows = [
        ('pack: one call', seconds(stats['pack'].median), '< %.1f s' % TARGET_SECONDS, ratio_verdict(stats['pack'].median, TARGET_SECONDS)),
        ('spread: one call', seconds(stats['spread'].median), '< %.1f s' % TARGET_SECONDS,
         ratio_verdict(stats['spread'].median, TARGET_SECONDS)),
        ('pack: peak RSS', '%.0f MiB' % peaks['pack']['peak_mib'], '< %d MiB' % TARGET_PEAK_MIB,
         ratio_verdict(peaks['pack']['peak_mib'], TARGET_PEAK_MIB)),
        ('spread: peak RSS', '%.0f MiB' % peaks['spread']['peak_mib'], '< %d MiB' % TARGET_PEAK_MIB,
         ratio_verdict(peaks['spread']['peak_mib'], TARGET_PEAK_MIB)),
        ('VMs placed (pack, spread)', '%d, %d of %d' % (pack_placed, spread_placed, len(vms)), 'all', PASS if all_placed else MISS),
        ('pack: hosts used / bound', '%d / %d = %.3f' % (pack_used, bound, pack_used / float(bound)), '<= %.2f' % TARGET_PACK_RATIO,
         ratio_verdict(pack_used / float(bound), TARGET_PACK_RATIO)),
        ('spread: highest util. / optimum', '%.4f / %.4f = %.3f' % (spread_highest, optimum, spread_highest / optimum),
         '<= %.2f' % TARGET_SPREAD_RATIO, ratio_verdict(spread_highest / optimum, TARGET_SPREAD_RATIO)),
        ('pack, spread: CPU time of one call', '%s, %s' % (seconds(cpu['pack']), seconds(cpu['spread'])), '', INFO),
        ('naive first fit: hosts used, time', '%d, %s' % (naive_used, seconds(naive_seconds)), '', INFO),
        ('naive hosts / vm_place pack hosts', '%.3f' % (naive_used / float(pack_used)), '', INFO),
        ('binpacking (memory only): hosts', '%d' % one_d_hosts, '', INFO),
    ]
    ctx.say(table(['metric', 'value', 'target', 'verdict'], rows, 'lrrl'))
    for row in rows:
        result.add(*row)
    return result


if __name__ == '__main__' and len(sys.argv) > 2 and sys.argv[1] == '--child':
    sys.exit(_child(sys.argv[2]))


def _benchmarks():
    from _common import Benchmark
    return [Benchmark('vm_place', 'vm_place: %d VMs on %d hosts under pack and spread vs naive first fit and binpacking'
                      % (VMS, HOSTS), _run, min_rounds=1, default_rounds=3)]


BENCHMARKS = _benchmarks()
