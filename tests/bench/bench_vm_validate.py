# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vm_validate on 10,000 VM definitions against 1,000 hosts' facts in one call, against a
naive loop that builds each host's view from its facts again for every VM.

The hosts are four families of real fixtures (EPYC Milan, EPYC with SEV, Xeon with TDX,
Xeon without UEFI), each host with its own name and memory. The VMs come from a catalog
of resource classes and a dozen profiles (BIOS, UEFI, Secure Boot with a TPM, SEV, TDX,
pinned CPU features, hugepages, traits); a few ask for what no host has, so their verdicts
scan every host. The naive loop is measured on a sample of VMs and scaled to 10,000.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from _common import INFO, Benchmark, Result, ratio_verdict, seconds, table

VMS, HOSTS, NAIVE_SAMPLE = 10000, 1000, 20
TARGET_SECONDS = 2.0
FAMILIES = (
    ('debian12-epyc-milan-kvm.caps.xml', 'debian12-epyc-milan-kvm.domcaps-pc.xml', 'debian12-epyc-milan-kvm.domcaps-q35.xml'),
    ('amd-epyc-sev.caps.xml', 'amd-epyc-sev.domcaps-q35.xml'),
    ('intel-tdx.caps.xml', 'intel-tdx.domcaps-q35.xml'),
    ('intel-xeon-ht.caps.xml', 'x86-no-uefi.domcaps-q35.xml'),
)
CATALOG = {
    'resource_classes': [
        {'name': 'm1.small', 'vcpus': 1, 'memory_mb': 2048, 'disk_gb': 20},
        {'name': 'm1.large', 'vcpus': 4, 'memory_mb': 8192, 'disk_gb': 40},
        {'name': 'm1.xlarge', 'vcpus': 8, 'memory_mb': 16384, 'disk_gb': 80, 'required_traits': ['HW_CPU_X86_AVX2']},
        {'name': 'c1.secure', 'vcpus': 4, 'memory_mb': 8192, 'disk_gb': 40, 'required_traits': ['COMPUTE_SECURITY_TPM_2_0']},
    ],
    'hardware_traits': [
        {'name': 'CUSTOM_BIG_MEMORY', 'query': 'libvirt_host_caps.memory_info.total_mb >= `65536`', 'description': '64 GiB or more'},
        {'name': 'CUSTOM_AMD', 'query': "libvirt_host_caps.cpu_info.vendor == 'AMD'"},
    ],
    'qos_policies': [{'name': 'gold'}],
    'placement_policies': [{'name': 'spread', 'strategy': 'spread'}],
}
PROFILES = (
    {'resource_class': 'm1.small'},
    {'resource_class': 'm1.large', 'machine': 'q35'},
    {'resource_class': 'm1.xlarge', 'firmware': 'efi', 'machine': 'q35'},
    {'resource_class': 'c1.secure', 'firmware': 'efi', 'secure_boot': True, 'tpm': '2.0', 'machine': 'q35'},
    {'resource_class': 'm1.large', 'firmware': 'efi', 'memory_encryption': 'sev', 'machine': 'q35'},
    {'resource_class': 'm1.large', 'firmware': 'efi', 'memory_encryption': 'tdx', 'machine': 'q35'},
    {'resource_class': 'm1.large', 'cpu': {'mode': 'host-passthrough', 'features': ['avx2', 'aes']}},
    {'resource_class': 'm1.large', 'required_traits': ['CUSTOM_AMD'], 'placement_policy': 'spread', 'qos_policy': 'gold'},
    {'resource_class': 'm1.small', 'forbidden_traits': ['CUSTOM_BIG_MEMORY']},
    {'vcpus': 2, 'memory_mb': 4096, 'disk_gb': 10, 'virt_type': 'qemu'},
    # Asked of no host: every host explains why not.
    {'vcpus': 4, 'memory_mb': 64 * 1024 * 1024, 'disk_gb': 10},
    {'resource_class': 'm1.large', 'firmware': 'efi', 'memory_encryption': 'sev-snp', 'machine': 'q35'},
)


def _hosts():
    from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import facts_from
    bases = [facts_from(*family) for family in FAMILIES]
    hosts = {}
    for number in range(HOSTS):
        base = bases[number % len(bases)]
        memory = dict(base['memory_info'], total_mb=(base['memory_info']['total_mb'] or 65536) + 1024 * (number % 64))
        name = 'hv%04d' % number
        hosts[name] = {'libvirt_host_caps': dict(base, memory_info=memory, host_info=dict(base['host_info'], hostname=name))}
    return hosts


def _vms():
    vms = []
    for number in range(VMS):
        # A few sizes per profile, as a real fleet has: the same requirements recur.
        vm = dict(PROFILES[number % len(PROFILES)], name='vm%05d' % number)
        if 'vcpus' not in vm and number % 3 == 0:
            vm['vcpus'] = 1 + (number // len(PROFILES)) % 6
        vms.append(vm)
    return vms


def naive_validate(vms, catalog, hosts):
    """Each VM checked on every host in turn, building that host's view from its facts every
    time: what a loop over hosts without an index does."""
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_catalog import index_catalog
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_hosts import HostIndex
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_spec import check_vm
    indexed = index_catalog(catalog)
    problems = []
    for position, vm in enumerate(vms):
        resolved = check_vm(vm, position, indexed, problems)
        if resolved is None:
            continue
        verdicts = []
        for host, facts in hosts.items():
            verdict = HostIndex({host: facts}, indexed.hardware_traits).check(resolved)[0]
            verdicts.append(verdict)
            if verdict[1] == 'pass':
                break
        else:
            problems.append({'vm': resolved['name'], 'hosts': verdicts})
    return problems


def _run(ctx, bench):
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_validate import validate_vms

    result = Result(bench.name)
    hosts, vms = _hosts(), _vms()
    ctx.say('%d VM definitions (%d profiles) against %d hosts (%d fixture families), catalog of %d resource classes'
            % (len(vms), len(PROFILES), len(hosts), len(FAMILIES), len(CATALOG['resource_classes'])))
    rounds = ctx.rounds_for(bench)
    samples = []
    problems = None
    for dummy in range(rounds):
        start = time.perf_counter()
        problems = validate_vms(vms, catalog=CATALOG, hosts=hosts)
        samples.append(time.perf_counter() - start)
    samples.sort()
    fast = samples[len(samples) // 2]
    invalid = set(p['vm'] for p in problems if p['severity'] == 'error')
    warned = set(p['vm'] for p in problems if p['severity'] == 'warning')
    sample = vms[:NAIVE_SAMPLE]
    start = time.perf_counter()
    naive_problems = naive_validate(sample, CATALOG, hosts)
    naive = (time.perf_counter() - start) * len(vms) / len(sample)
    fast_sample = set(p['vm'] for p in validate_vms(sample, catalog=CATALOG, hosts=hosts) if p['field'] == 'hosts')
    if set(p['vm'] for p in naive_problems) != fast_sample:
        result.invalid = 'the naive loop and vm_validate disagree on %s' % sorted(set(p['vm'] for p in naive_problems) ^ fast_sample)
        return result
    ctx.say()
    ctx.say(table(['%d VMs x %d hosts' % (len(vms), len(hosts)), 'time', 'problems'], [
        ('vm_validate, one call (median of %d)' % rounds, seconds(fast), '%d errors, %d warnings' % (len(invalid), len(warned))),
        ('naive loop, measured on %d VMs, scaled' % len(sample), seconds(naive), ''),
    ], 'lrl'))
    ctx.say()
    verdict = ratio_verdict(fast, TARGET_SECONDS)
    ctx.say('vm_validate %.3f s  target < %.1f s  %s;  naive/vm_validate %.0fx' % (fast, TARGET_SECONDS, verdict, naive / fast))
    result.add('10,000 VMs x 1,000 hosts', seconds(fast), '< %.1f s' % TARGET_SECONDS, verdict)
    result.add('naive loop (scaled)', seconds(naive), '', INFO)
    result.add('naive/vm_validate', '%.0fx' % (naive / fast), '', INFO)
    return result


BENCHMARKS = [
    Benchmark('vm_validate', 'vm_validate: %d VM definitions against %d hosts in one call vs a naive loop' % (VMS, HOSTS),
              _run, min_rounds=1, default_rounds=3),
]
