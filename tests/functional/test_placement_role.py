# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role virtumancer.hostcaps.placement, through the playbook
virtumancer.hostcaps.place_vms, on every supported ansible-core. The hypervisors are this
machine (localhost, qemu:///system, discovered by the role) and two synthetic hosts whose
facts playbooks/place.yml makes from the libvirt XML fixtures with caps_from_xml and
sriov_from_xml: hv-sev (2 x EPYC Rome with SEV, an E810 with 4 VFs) and hv-tdx (2 x Xeon
with TDX). Their libvirt URI leads nowhere, so they only ever have the facts made for them.

Each VM of the batch fits exactly one host, or any: the expected placement does not depend
on the engine's choices among equals."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

import pytest
import yaml

from conftest import Ansible, Backend

INVENTORY = """[hypervisors]
localhost ansible_connection=local
hv-sev ansible_connection=local hostcaps_libvirt_uri=qemu:///system?socket=/nonexistent/libvirt-sock
hv-tdx ansible_connection=local hostcaps_libvirt_uri=qemu:///system?socket=/nonexistent/libvirt-sock %s

[synthetic]
hv-sev
hv-tdx
"""
HOSTS = ['hv-sev', 'hv-tdx', 'localhost']
# Kept back on hv-tdx: all but 250 MiB of its 515250, too little for tdx01.
RESERVED_TDX = "hostcaps_reserved=\"{'MEMORY_MB': 515000}\""
CATALOG = {
    'hostcaps_placement_policies': [
        {'name': 'default', 'strategy': 'spread', 'anti_affinity': [{'name': 'web', 'hard': True, 'max_per_host': 1}]},
    ],
}
# Where each VM must go: only hv-sev has SEV, only hv-tdx TDX, only localhost no IOMMU;
# web01 and web02 go anywhere, but not together.
VMS = [
    {'name': 'sev01', 'vcpus': 2, 'memory_mb': 2048, 'disk_gb': 0, 'required_traits': ['HW_CPU_X86_AMD_SEV']},
    {'name': 'tdx01', 'vcpus': 2, 'memory_mb': 2048, 'disk_gb': 0, 'required_traits': ['HW_CPU_X86_INTEL_TDX']},
    {'name': 'local01', 'vcpus': 1, 'memory_mb': 512, 'disk_gb': 0, 'forbidden_traits': ['CUSTOM_IOMMU']},
    {'name': 'web01', 'vcpus': 1, 'memory_mb': 1024, 'disk_gb': 0, 'groups': ['web']},
    {'name': 'web02', 'vcpus': 1, 'memory_mb': 1024, 'disk_gb': 0, 'groups': ['web']},
]
FORCED = {'sev01': 'hv-sev', 'tdx01': 'hv-tdx', 'local01': 'localhost'}
# 1 TiB: more memory than any host has.
BIG = {'name': 'big01', 'vcpus': 2, 'memory_mb': 1048576, 'disk_gb': 0}


def _runner(core, workdir, connection=None, inventory_extra=''):
    runner = Ansible(core, connection, workdir)
    runner.inventory = os.path.join(workdir, 'fleet.ini')
    with open(runner.inventory, 'w') as handle:
        handle.write(INVENTORY % inventory_extra)
    return runner


def _place(runner, vms=None, cache=False, args=(), **options):
    variables = dict(CATALOG, hostcaps_vms=VMS if vms is None else vms)
    variables.update(options)
    result = runner.playbook('place.yml', variables, args=args, check=False, env=runner.env(cache=cache))
    return result.returncode, result.stdout + result.stderr


def _row(output, pattern):
    found = re.search(pattern, output, re.MULTILINE)
    assert found, 'no line matches %r in\n%s' % (pattern, output)
    return found


def _table(output):
    """The lines of the table the role printed (the msg of its debug task)."""
    shown = output.split('placement : Show the placement]')[1]
    start = shown.index('{')
    return json.loads(shown[start:shown.index('\n}\n', start) + 2])['msg']


def _unplaced(lines):
    """{vm: [reason, ...]} of the table's UNPLACED rows; a VM's further reasons are on the
    lines below it, with the VM and policy columns empty."""
    header = [line for line in lines if line.startswith('UNPLACED ')][0]
    column = header.index('REASONS')
    found = {}
    for line in lines[lines.index(header) + 1:]:
        if line.startswith(('PROBLEM ', 'HOST ')):
            break
        if not line.startswith(' '):
            vm = line.split()[0]
        found.setdefault(vm, []).append(line[column:])
    return found


def _discovery(output):
    """{host: ok | skipping | fatal ...} of the role's libvirt_host_caps task."""
    results = output.split('placement : Discover libvirt host capabilities]')[1].split('TASK [')[0]
    return dict((host, status) for status, host in re.findall(r'^(\w+): \[([^\]]+)\]', results, re.MULTILINE))


def _recap(output):
    """{host: {ok: n, changed: n, ...}} of the PLAY RECAP."""
    return dict((host, dict((key, int(value)) for key, value in re.findall(r'(\w+)=(\d+)', counts)))
                for host, counts in re.findall(r'^(\S+)\s+: (ok=.*)$', output, re.MULTILINE))


def _later_play(output):
    """{host: [vm, ...]} as the play after place_vms read hostcaps_placement."""
    return dict((host, [] if vms == 'none' else vms.split())
                for host, vms in re.findall(r'"later play on (\S+): ([^"]*)"', output))


def _check_batch(document):
    placed = dict((p['vm'], p['host']) for p in document['placements'])
    assert dict((vm, placed.get(vm)) for vm in FORCED) == FORCED, document['placements']
    assert placed['web01'] != placed['web02'], document['placements']
    assert document['unplaced'] == []
    assert sorted(document['hosts']) == HOSTS
    assert document['summary']['vms'] == 5 and document['summary']['placed'] == 5 and document['summary']['unplaced'] == 0
    # The timing alone differs between two runs that place the same way.
    assert 'seconds' not in document['engine']
    return placed


@pytest.fixture(scope='module')
def first_run(core, tmp_path_factory):
    """place_vms with the factdb cache (SQLite): localhost discovered by the role, the
    synthetic hosts from their XML; the placement written as YAML."""
    workdir = str(tmp_path_factory.mktemp('placement-%s' % core.version))
    store = Backend('sqlite', os.path.join(workdir, 'store', 'facts.db'), os.path.join(workdir, 'store', 'facts.db'))
    runner = _runner(core, workdir, store.connection)
    path = os.path.join(runner.out_dir, 'placement.yml')
    rc, output = _place(runner, cache=True, placement_output_path=path)
    return runner, store, path, rc, output


def test_a_batch_is_placed_shown_written_and_kept_for_later_plays(first_run):
    runner, store, path, rc, output = first_run

    assert rc == 0, output
    with open(path) as handle:
        placed = _check_batch(yaml.safe_load(handle))
    # The role discovered localhost; the synthetic hosts had their facts.
    assert _discovery(output) == {'localhost': 'ok', 'hv-sev': 'skipping', 'hv-tdx': 'skipping'}
    table = '\n'.join(_table(output))
    _row(table, r'^5 placed, 0 already on their host, 0 unplaced, of 5 VM\(s\); 3 host\(s\) used; engine heuristic')
    _row(table, r'^VM +HOST +POLICY +EXISTING +WHY$')
    for vm, host in sorted(placed.items()):
        _row(table, r'^%s +%s +default +no +\S' % (vm, re.escape(host)))
    _row(table, r'^HOST +VMS +VCPU used/capacity +MEMORY_MB used/capacity')
    _row(table, r'^localhost +[12] +[12]/2 ')
    assert _recap(output)['localhost']['changed'] == 1
    # hostcaps_placement on localhost, for the plays after the role.
    later = _later_play(output)
    assert sorted(later) == HOSTS
    assert dict((vm, host) for host, vms in later.items() for vm in vms) == placed
    # The cache kept every host's facts.
    cached = store.snapshot()
    assert sorted(cached) == HOSTS and all('libvirt_host_caps' in cached[host] and 'sriov' in cached[host] for host in HOSTS)


def test_a_second_run_reads_the_factdb_cache_and_changes_nothing(first_run):
    runner, store, path, rc, output = first_run
    assert rc == 0, output
    with open(path, 'rb') as handle:
        written = handle.read()
    mtime = os.stat(path).st_mtime_ns

    # No synthetic facts made, and a libvirt URI that leads nowhere for every host: the
    # placement can only come from the cached facts.
    rc, output = _place(runner, cache=True, placement_output_path=path, synthetic=False,
                        hostcaps_libvirt_uri='qemu:///system?socket=/nonexistent/libvirt-sock')

    assert rc == 0, output
    assert _discovery(output) == dict((host, 'skipping') for host in HOSTS)
    assert dict((host, counts['changed']) for host, counts in _recap(output).items()) == dict((host, 0) for host in HOSTS), output
    with open(path, 'rb') as handle:
        assert handle.read() == written
    assert os.stat(path).st_mtime_ns == mtime


def test_a_vm_that_fits_no_host_fails_the_play_with_its_reasons(core, tmp_path):
    runner = _runner(core, str(tmp_path), inventory_extra=RESERVED_TDX)
    path = os.path.join(runner.out_dir, 'placement.yml')

    rc, output = _place(runner, VMS + [BIG], placement_output_path=path)

    assert rc == 2, output
    unplaced = _unplaced(_table(output))
    assert sorted(unplaced) == ['big01', 'tdx01']
    assert all('needs 1048576 MiB of memory' in reason for reason in unplaced['big01']), unplaced
    # hv-tdx's own reserved memory (a host variable) leaves tdx01 nowhere to go.
    assert [reason for reason in unplaced['tdx01'] if 'hv-tdx' in reason and 'needs 2048 MiB' in reason and 'hostcaps_reserved' in reason], unplaced
    _row(output, r'FAILED! => .*"msg": "2 of 6 VM\(s\) cannot be placed: big01 \(.+\), tdx01 \(.*needs 2048 MiB.*\); see the table '
                 r'above\. Set placement_fail_on_unplaced to false to go on with the VMs that were placed\."')
    assert not os.path.exists(path)


def test_fail_on_unplaced_false_goes_on_and_writes_the_unplaced_vms(core, tmp_path):
    runner = _runner(core, str(tmp_path), inventory_extra=RESERVED_TDX)
    path = os.path.join(runner.out_dir, 'placement.json')

    rc, output = _place(runner, VMS + [BIG], placement_output_path=path, placement_output_format='json',
                        placement_fail_on_unplaced=False)

    assert rc == 0, output
    with open(path) as handle:
        document = json.load(handle)
    assert [u['vm'] for u in document['unplaced']] == ['big01', 'tdx01']
    assert all(u['reasons'] for u in document['unplaced'])
    placed = dict((p['vm'], p['host']) for p in document['placements'])
    assert sorted(placed) == ['local01', 'sev01', 'web01', 'web02']
    assert placed['sev01'] == 'hv-sev' and placed['local01'] == 'localhost'
    assert document['summary']['unplaced'] == 2
    assert sorted(_later_play(output)) == HOSTS


def test_check_mode_writes_nothing(core, tmp_path):
    runner = _runner(core, str(tmp_path))
    path = os.path.join(runner.out_dir, 'placement.yml')

    rc, output = _place(runner, placement_output_path=path, args=['--check'])

    assert rc == 0, output
    assert os.listdir(runner.out_dir) == []
    # The table and the fact are there; the file would be written.
    _row('\n'.join(_table(output)), r'^5 placed, 0 already on their host, 0 unplaced, of 5 VM\(s\)')
    _row(output, r'TASK \[virtumancer\.hostcaps\.placement : Write the placement to .*placement\.yml\] \**\nchanged: \[localhost\]')
    assert sorted(_later_play(output)) == HOSTS
