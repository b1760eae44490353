# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vm_domain_xml on 10,000 VMs in one run, per XML, side by side with virt-install's
``--print-xml --dry-run`` for a comparable VM; and the libvirt write calls of vm_qos on
a domain whose values already are the policy's.

The VMs are the rows of the unit tests' table (tests/unit/domain_xml_table.py: every
firmware, TPM, memory encryption, hugepage, NUMA, SR-IOV, passthrough and QoS variant on
the fixture hosts), each repeated under new names until there are 10,000; each XML is
built from the host's facts by the filter as a play calls it, and parsed back once to
check that it is a domain of that name.

The comparable VM, for both: q35 with UEFI Secure Boot, an emulated TPM 2.0, 2 vCPUs with
CPU shares, 1 GiB, one disk and one NIC. virt-install asks the libvirt at LIBVIRT_URI for
its capabilities, so that part needs a libvirt daemon (`make libvirtd`); each run is a
new process, as users run it.

vm_qos: a shut-off domain is defined on LIBVIRT_URI from vm_domain_xml's XML of a VM with
a QoS policy, the module applies that same policy (the values are there already: no
write), then another policy (writes), then that one again (no write). The module counts
the libvirt calls that write (``libvirt_writes``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import statistics
import subprocess
import sys
import time

XMLS = 10000
TARGET_SPEEDUP = 20.0
VIRT_INSTALL_RUNS = 7
DOMAIN = 'hostcaps-bench-qos'
VIRT_INSTALL = ['virt-install', '--name', 'bench-vm', '--memory', '1024', '--vcpus', '2', '--cputune', 'shares=2048',
                '--machine', 'q35', '--boot', 'uefi,firmware.feature0.name=secure-boot,firmware.feature0.enabled=yes',
                '--tpm', 'emulator,model=tpm-crb,version=2.0',
                '--disk', 'path=/var/lib/libvirt/images/bench-vm.qcow2,size=1,format=qcow2,bus=virtio',
                '--network', 'network=default,model=virtio', '--osinfo', 'detect=on,require=off', '--import',
                '--noautoconsole', '--print-xml', '--dry-run']
# The comparable VM of the table's hosts: the Debian 12 test machine's fixture.
COMPARABLE = {'name': 'bench-vm', 'vcpus': 2, 'memory_mb': 1024, 'disk_gb': 0, 'machine': 'q35', 'firmware': 'efi',
              'secure_boot': True, 'tpm': '2.0', 'qos_policy': 'cpu-shares',
              'disks': [{'size_gb': 1, 'pool': 'hostcaps-xml-pool'}], 'networks': [{'network': 'hostcaps-xml-net'}]}
POLICIES = {
    'before': {'name': 'bench-before', 'cpu': {'shares': 2048, 'period': 100000, 'quota': 50000}, 'blkio_weight': 500,
               'memory': {'soft_limit_mb': 512}},
    'after': {'name': 'bench-after', 'cpu': {'shares': 1024, 'period': 200000, 'quota': 100000}, 'blkio_weight': 800,
              'memory': {'soft_limit_mb': 768}},
}


def _table():
    from ansible_collections.virtumancer.hostcaps.tests.unit import domain_xml_table
    return domain_xml_table


def _catalog(table):
    catalog = dict(table.CATALOG)
    catalog['qos_policies'] = list(catalog['qos_policies']) + [{'name': 'cpu-shares', 'cpu': {'shares': 2048}}] + list(POLICIES.values())
    return catalog


def _inputs(table, count):
    """``[(vm, hostvars)]``: the table's rows under new names, ``count`` in all."""
    hosts = dict((kind, table.hostvars(kind)) for kind in table.HOST_FIXTURES)
    rows = []
    number = 0
    while len(rows) < count:
        for dummy, kind, vm in table.TABLE:
            if len(rows) == count:
                break
            rows.append((dict(vm, name='%s-%05d' % (vm['name'], number)), hosts[kind]))
            number += 1
    return rows


def _build_all(rows, catalog):
    from ansible_collections.virtumancer.hostcaps.plugins.filter.vm_domain_xml import vm_domain_xml
    return [vm_domain_xml(vm, host=host, catalog=catalog) for vm, host in rows]


def _check(rows, built):
    from lxml import etree
    from _common import BenchInvalid
    for (vm, dummy), xml in zip(rows, built):
        root = etree.fromstring(xml.encode('utf-8'))
        if root.tag != 'domain' or root.findtext('name') != vm['name']:
            raise BenchInvalid('vm_domain_xml gave no domain named %s: %s' % (vm['name'], xml[:300]))


def _virt_install(uri):
    """Seconds of each virt-install run, or (None, why)."""
    from _common import BenchInvalid
    if shutil.which('virt-install') is None:
        return None, 'virt-install is not installed (Debian package virtinst, in bindep.txt test profile: make deps-test)'
    times = []
    for dummy in range(VIRT_INSTALL_RUNS):
        start = time.perf_counter()
        proc = subprocess.run(VIRT_INSTALL + ['--connect', uri], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, check=False)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0 or '<domain' not in proc.stdout:
            if 'network' in proc.stderr and 'default' in proc.stderr:
                raise BenchInvalid('virt-install needs the network "default" on %s: %s' % (uri, proc.stderr.strip()[-400:]))
            return None, 'virt-install on %s failed (is libvirtd running? make libvirtd): %s' % (uri, proc.stderr.strip()[-400:])
    return times, None


# -- vm_qos write calls ------------------------------------------------------------------


def _qos_play(policy, workdir, config):
    """The vm_qos result of one ad hoc run on DOMAIN with ``policy``."""
    from _common import BenchInvalid, LIBVIRT_URI
    from bench_host_caps import _ansible_env, _bench_bin
    args = json.dumps({'uri': LIBVIRT_URI, 'name': DOMAIN, 'policy': policy})
    argv = [_bench_bin('ansible'), 'localhost', '-m', 'virtumancer.hostcaps.vm_qos', '-a', args,
            '-e', 'ansible_python_interpreter=%s' % _bench_bin('python')]
    proc = subprocess.run(argv, env=_ansible_env(config), cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=False)
    try:
        result = json.loads(proc.stdout)['plays'][0]['tasks'][0]['hosts']['localhost']
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        output = (proc.stderr or proc.stdout)[-600:]
        raise BenchInvalid('vm_qos: `%s` gave no json result (rc %d): %s' % (' '.join(argv[:4]), proc.returncode, output)) from exc
    if result.get('failed'):
        raise BenchInvalid('vm_qos failed: %s' % result.get('msg'))
    return result


def _qos_writes(table, catalog):
    """[(step, changed, libvirt_writes)] of vm_qos on a defined domain, or (None, why)."""
    import libvirt
    from _common import LIBVIRT_URI, TMP_DIR
    from ansible_collections.virtumancer.hostcaps.plugins.filter.vm_domain_xml import vm_domain_xml
    try:
        conn = libvirt.open(LIBVIRT_URI)
    except libvirt.libvirtError as exc:
        return None, 'no libvirt at %s (%s); make libvirtd' % (LIBVIRT_URI, exc.get_error_message())
    vm = {'name': DOMAIN, 'vcpus': 1, 'memory_mb': 256, 'disk_gb': 0, 'machine': 'pc', 'qos_policy': POLICIES['before']['name'],
          'disks': [], 'networks': []}
    # This machine's own facts would do as well; the fixture of the Debian 12 test machine
    # is the same QEMU, and a shut-off domain is never started.
    xml = vm_domain_xml(vm, host=table.hostvars('milan'), catalog=catalog)
    workdir = os.path.join(TMP_DIR, 'bench', 'vm_domain_xml')
    os.makedirs(workdir, exist_ok=True)
    config = os.path.join(workdir, 'ansible.cfg')
    with open(config, 'w', encoding='utf-8') as handle:
        handle.write('# written by tests/bench: every setting comes from the environment\n')
    try:
        try:
            conn.lookupByName(DOMAIN).undefine()
        except libvirt.libvirtError:
            pass
        conn.defineXML(xml)
        steps = []
        for step, policy in (('same policy as defined', 'before'), ('another policy', 'after'), ('that one again', 'after')):
            result = _qos_play(POLICIES[policy], workdir, config)
            steps.append((step, result.get('changed'), result.get('libvirt_writes')))
        return steps, None
    finally:
        try:
            conn.lookupByName(DOMAIN).undefine()
        except libvirt.libvirtError:
            pass
        conn.close()


def _run(ctx, bench):
    from _common import INFO, MISS, PASS, LIBVIRT_URI, BenchInvalid, Result, millis, table as text_table
    result = Result(bench.name)
    table = _table()
    catalog = _catalog(table)
    rows = _inputs(table, XMLS)
    ctx.say('%d VMs: the %d rows of tests/unit/domain_xml_table.py under new names, on %d fixture hosts'
            % (len(rows), len(table.TABLE), len(table.HOST_FIXTURES)))
    comparable = (COMPARABLE, table.hostvars('milan'))
    rounds = ctx.rounds_for(bench)
    totals = []
    for dummy in range(rounds):
        start = time.perf_counter()
        built = _build_all(rows, catalog)
        totals.append(time.perf_counter() - start)
    try:
        _check(rows, built)
    except BenchInvalid as exc:
        result.invalid = str(exc)
        return result
    per_xml = statistics.median(totals) / len(rows)
    singles = []
    for dummy in range(200):
        start = time.perf_counter()
        _build_all([comparable], catalog)
        singles.append(time.perf_counter() - start)
    comparable_xml = statistics.median(singles)
    try:
        virt_install, why = _virt_install(LIBVIRT_URI)
        writes, qos_why = _qos_writes(table, catalog)
    except BenchInvalid as exc:
        result.invalid = str(exc)
        return result
    ctx.say()
    lines = [('vm_domain_xml, %d XMLs in one run (median of %d runs)' % (len(rows), rounds), '%.3f s' % statistics.median(totals),
              millis(per_xml)),
             ('vm_domain_xml, the comparable VM alone (median of 200)', '', millis(comparable_xml))]
    if virt_install:
        lines.append(('virt-install --print-xml --dry-run, comparable VM (median of %d runs)' % len(virt_install), '',
                      millis(statistics.median(virt_install))))
    ctx.say(text_table(['what', 'total', 'per XML'], lines, 'lrr'))
    ctx.say()
    result.add('vm_domain_xml: per XML, %d in one run' % len(rows), millis(per_xml), '', INFO)
    if virt_install:
        speedup = statistics.median(virt_install) / comparable_xml
        result.add('comparable VM: virt-install / vm_domain_xml per XML', '%.0fx' % speedup, '>= %.0fx' % TARGET_SPEEDUP,
                   PASS if speedup >= TARGET_SPEEDUP else MISS)
    else:
        ctx.say('virt-install not measured: %s' % why)
        result.add('comparable VM: virt-install / vm_domain_xml per XML', 'not measured', '>= %.0fx' % TARGET_SPEEDUP, MISS)
    if writes:
        ctx.say(text_table(['vm_qos on %s (shut off)' % DOMAIN, 'changed', 'libvirt write calls'],
                           list(writes), 'lrr'))
        ctx.say()
        unchanged = [count for step, changed, count in writes if step != 'another policy']
        result.add('vm_qos on an unchanged domain: libvirt write calls', ', '.join(str(count) for count in unchanged), '0',
                   PASS if all(count == 0 for count in unchanged) else MISS)
        result.add('vm_qos applying another policy: libvirt write calls', str(writes[1][2]), '', INFO)
    else:
        ctx.say('vm_qos not measured: %s' % qos_why)
        result.add('vm_qos on an unchanged domain: libvirt write calls', 'not measured', '0', MISS)
    return result


def _benchmarks():
    from _common import Benchmark
    return [Benchmark('vm_domain_xml', 'vm_domain_xml: %d domain XMLs vs virt-install --print-xml; vm_qos write calls' % XMLS,
                      _run, min_rounds=1, default_rounds=3)]


BENCHMARKS = _benchmarks()

if __name__ == '__main__':
    sys.exit('run it through tests/bench/run.py (make bench BENCH_ARGS=vm_domain_xml)')
