# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A sysfs_root or proc_root that holds a FIFO (or a device) where the kernel has an
attribute file, or that is no directory at all: the readers skip what is no regular file
and say so in ``errors``, and never wait. Every test runs under an alarm, so a reader
that blocks fails the test instead of hanging the run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import signal

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery import meminfo, sysfs
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.pci_sysfs import read_pci_devices
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.sriov_collect import gather_sriov
from ansible_collections.virtumancer.hostcaps.tests.unit import sysfs_trees

ALARM_SECONDS = 10


class Hung(Exception):
    pass


@pytest.fixture(autouse=True)
def alarm():
    """Interrupts a blocking open() or read() of a FIFO: the test fails, the run goes on."""
    def ring(dummy_signum, dummy_frame):
        raise Hung('a reader blocked for %d s' % ALARM_SECONDS)
    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(ALARM_SECONDS)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _fifo(path):
    if os.path.exists(path):
        os.remove(path)
    elif not os.path.isdir(os.path.dirname(path)):
        os.makedirs(os.path.dirname(path))
    os.mkfifo(path)
    return path


def _ksm(root, **values):
    base = os.path.join(str(root), 'kernel', 'mm', 'ksm')
    os.makedirs(base)
    for name, value in values.items():
        with open(os.path.join(base, name), 'w') as handle:
            handle.write('%s\n' % value)
    return base


def test_a_fifo_attribute_is_skipped_and_recorded(tmp_path):
    base = _ksm(tmp_path, pages_shared=12, pages_sharing=40, merge_across_nodes=1)
    fifo = _fifo(os.path.join(base, 'run'))
    with sysfs.skipped_files() as skipped:
        ksm = sysfs.read_ksm(str(tmp_path))
    assert ksm == {'run': None, 'enabled': None, 'pages_shared': 12, 'pages_sharing': 40, 'merge_across_nodes': True}
    assert skipped == ['%s is a FIFO, not a regular file; it was not read' % fifo]


def test_a_device_where_an_attribute_belongs_is_skipped(tmp_path):
    base = _ksm(tmp_path, run=1)
    os.symlink('/dev/zero', os.path.join(base, 'pages_shared'))
    with sysfs.skipped_files() as skipped:
        assert sysfs.read_ksm(str(tmp_path))['pages_shared'] is None
    assert skipped == ['%s/pages_shared is a character device, not a regular file; it was not read' % base]


def test_regular_attributes_are_read_as_before(tmp_path):
    _ksm(tmp_path, run=1, pages_shared=0, pages_sharing=0, merge_across_nodes=0)
    with sysfs.skipped_files() as skipped:
        assert sysfs.read_ksm(str(tmp_path))['enabled'] is True
    assert skipped == []


def test_a_fifo_at_a_pci_vendor_keeps_the_device_and_reports_the_file(tmp_path):
    tree = sysfs_trees.SysfsTree(str(tmp_path / 'sys'))
    sysfs_trees.intel_e810_4vf(tree)
    _fifo(os.path.join(tree.device_dir('0000:3b:00.0'), 'vendor'))
    fifo = os.path.join(tree.root, 'bus', 'pci', 'devices', '0000:3b:00.0', 'vendor')
    records = dict((r['address'], r) for r in read_pci_devices(tree.root))
    assert records['0000:3b:00.0']['vendor_id'] is None
    assert records['0000:3b:00.0']['device_id'] == '1593'
    facts = gather_sriov(tree.root)
    assert [e['source'] for e in facts['errors']] == ['sysfs']
    assert facts['errors'][0]['message'].startswith('%s is a FIFO, not a regular file; it was not read. ' % fifo)
    assert 'sysfs_root must be where the kernel\'s own /sys is mounted' in facts['errors'][0]['message']
    assert facts['summary']['capable'] is True


def test_a_fifo_in_proc_root_is_reported_and_its_use_unknown(tmp_path):
    tree = sysfs_trees.SysfsTree(str(tmp_path / 'sys'))
    proc = sysfs_trees.ProcTree(str(tmp_path / 'proc'))
    sysfs_trees.intel_e810_4vf(tree)
    fifo = _fifo(os.path.join(proc.root, 'self', 'mountinfo'))
    errors = gather_sriov(tree.root, proc_root=proc.root)['errors']
    assert [e['source'] for e in errors] == ['procfs', 'procfs']
    assert errors[0]['message'].startswith('%s is a FIFO, not a regular file; it was not read. ' % fifo)
    assert errors[1]['message'].startswith('could not read %s;' % fifo)


def test_a_fifo_as_proc_meminfo_is_an_error_naming_it(tmp_path):
    fifo = _fifo(str(tmp_path / 'meminfo'))
    with pytest.raises(ValueError, match='^%s is a FIFO, not a regular file; it was not read$' % fifo):
        meminfo.read_memory_totals(str(tmp_path))


def _roots(tmp_path):
    """sysfs_root values that are no directory: missing, a file, a symlink loop."""
    a_file = tmp_path / 'a-file'
    a_file.write_text(u'x')
    os.symlink(str(tmp_path / 'loop-b'), str(tmp_path / 'loop-a'))
    os.symlink(str(tmp_path / 'loop-a'), str(tmp_path / 'loop-b'))
    return [(str(tmp_path / 'missing'), 'does not exist'), (str(a_file), 'is not a directory'),
            (str(tmp_path / 'loop-a'), 'is a symlink loop')]


def test_root_problem_names_the_option_the_path_and_why(tmp_path):
    for root, why in _roots(tmp_path):
        assert sysfs.root_problem(root) == 'sysfs_root %s %s' % (root, why)
        assert sysfs.root_problem(root, 'proc_root') == 'proc_root %s %s' % (root, why)
    assert sysfs.root_problem(str(tmp_path)) is None


def test_sriov_facts_report_a_root_that_is_no_directory(tmp_path):
    for root, why in _roots(tmp_path):
        errors = gather_sriov(root, proc_root=root)['errors']
        assert [e['source'] for e in errors] == ['sysfs', 'procfs']
        assert errors[0]['message'] == "sysfs_root %s %s; set sysfs_root to where the host's /sys is mounted" % (root, why)
        assert errors[1]['message'].startswith('proc_root %s %s, so it could not read ' % (root, why))
        assert '%s/self/mountinfo' % root in errors[1]['message']
