# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""sriov_facts in process on a synthetic sysfs tree (8 PFs x 64 VFs, laid out as the
kernel lays out /sys) against a plain Python walk that reads the same files."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import tempfile

from _common import INFO, Benchmark, Result, interleave, millis, ratio_verdict, table

TARGET = 2.0
PFS, VFS = 8, 64


def plain_walk(root):
    """What a straightforward script would do: open().read() every attribute the module
    reads, os.path helpers for links, no caching."""
    devices = os.path.join(root, 'bus', 'pci', 'devices')
    found = []
    for address in sorted(os.listdir(devices)):
        path = os.path.join(devices, address)
        entry = {'address': address}
        for attr in ('vendor', 'device', 'subsystem_vendor', 'subsystem_device', 'class', 'numa_node'):
            with open(os.path.join(path, attr)) as handle:
                entry[attr] = handle.read().strip()
        for link in ('driver', 'iommu_group', 'physfn'):
            if os.path.islink(os.path.join(path, link)):
                entry[link] = os.path.basename(os.readlink(os.path.join(path, link)))
        if 'iommu_group' in entry:
            entry['group'] = sorted(os.listdir(os.path.join(root, 'kernel', 'iommu_groups', entry['iommu_group'], 'devices')))
        if os.path.exists(os.path.join(path, 'sriov_totalvfs')):
            for attr in ('sriov_totalvfs', 'sriov_numvfs', 'sriov_vf_device'):
                with open(os.path.join(path, attr)) as handle:
                    entry[attr] = handle.read().strip()
            entry['virtfns'] = dict((name, os.path.basename(os.readlink(os.path.join(path, name))))
                                    for name in os.listdir(path) if name.startswith('virtfn'))
        net = os.path.join(path, 'net')
        entry['net'] = []
        if os.path.isdir(net):
            for name in sorted(os.listdir(net)):
                values = {'name': name}
                for attr in ('address', 'mtu', 'operstate', 'speed', 'compat/devlink/mode'):
                    try:
                        with open(os.path.join(net, name, attr)) as handle:
                            values[attr] = handle.read().strip()
                    except (IOError, OSError):
                        values[attr] = None
                entry['net'].append(values)
        found.append(entry)
    return found


def _run(ctx, bench):
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.pci_ids import lookup_pci_names
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.sriov_collect import gather_sriov
    from ansible_collections.virtumancer.hostcaps.tests.unit import sysfs_trees

    result = Result(bench.name)
    workdir = tempfile.mkdtemp(prefix='bench-sriov-')
    try:
        tree = sysfs_trees.SysfsTree(workdir)
        sysfs_trees.synthetic_pfs(tree, pfs=PFS, vfs=VFS)
        root = tree.root
        facts = gather_sriov(root, pci_ids_paths=[])
        walked = plain_walk(root)
        expected = PFS + PFS * VFS
        if (len(facts['physical_functions']), len(facts['virtual_functions'])) != (PFS, PFS * VFS) or len(walked) != expected:
            counts = (len(facts['physical_functions']), len(facts['virtual_functions']), len(walked), PFS, PFS * VFS)
            result.invalid = ('the synthetic tree gave %d PFs, %d VFs to the module and %d functions to the walk, '
                              'expected %d PFs, %d VFs' % counts)
            return result
        rounds = ctx.rounds_for(bench)
        ctx.say('synthetic tree: %d PFs x %d VFs = %d PCI functions in %s' % (PFS, VFS, expected, root))
        ctx.say('interleaved module,walk: 2 warm-up rounds + %d measured rounds' % rounds)
        stats = interleave([('module', lambda: gather_sriov(root, pci_ids_paths=[])),
                            ('walk', lambda: plain_walk(root))], rounds, warmup=2)
        pairs = set((r['vendor_id'], r['device_id']) for r in facts['physical_functions'] + facts['virtual_functions'])
        names = interleave([('pci.ids', lambda: lookup_pci_names(pairs))], rounds, warmup=1)['pci.ids']
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    module, walk = stats['module'], stats['walk']
    ctx.say()
    ctx.say(table(['', 'median', 'min', 'max'], [
        ('module: gather_sriov (sysfs, merge, classify)', millis(module.median), millis(module.min), millis(module.max)),
        ('plain walk reading the same files', millis(walk.median), millis(walk.min), millis(walk.max)),
        ('pci.ids name lookup (module only, informational)', millis(names.median), millis(names.min), millis(names.max)),
    ], 'lrrr'))
    ratio = module.median / walk.median
    ctx.say()
    ctx.say('module/walk %.3f  target <= %.2f  %s' % (ratio, TARGET, ratio_verdict(ratio, TARGET)))
    result.add('module/walk', '%.3f' % ratio, '<= %.2f' % TARGET, ratio_verdict(ratio, TARGET))
    result.add('module median', millis(module.median), '', INFO)
    result.add('walk median', millis(walk.median), '', INFO)
    result.add('pci.ids lookup', millis(names.median), '', INFO)
    return result


BENCHMARKS = [
    Benchmark('sriov_inprocess', 'sriov_facts in process on 8 PFs x 64 VFs vs a plain Python walk of the same files',
              _run, min_rounds=10, default_rounds=20),
]
