# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""/proc/meminfo, as captured on the Debian 12 test machine and in broken variants."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.meminfo import (
    parse_meminfo, read_memory_totals,
)

PROC_24G = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures', 'proc', 'debian12-epyc-milan-kvm-24g')


def write_meminfo(root, text):
    with open(os.path.join(str(root), 'meminfo'), 'w') as handle:
        handle.write(text)


def test_the_captured_meminfo_gives_the_kernels_totals_in_mib():
    assert read_memory_totals(PROC_24G) == {'total_mb': 24683584 // 1024, 'free_mb': 22891480 // 1024,
                                            'available_mb': 23872212 // 1024}


def test_only_sizes_in_kb_are_kept():
    with open(os.path.join(PROC_24G, 'meminfo')) as handle:
        fields = parse_meminfo(handle.read())
    assert fields['Hugepagesize'] == 2048
    assert 'HugePages_Total' not in fields  # a page count, not a size


def test_lines_that_do_not_parse_are_skipped():
    assert parse_meminfo('MemTotal: 1024 kB\ngarbage\nMemFree: lots kB\nMemAvailable: 10 MB\n: 5 kB\n') == {
        'MemTotal': 1024}


def test_a_kernel_without_memavailable_leaves_it_unknown(tmp_path):
    write_meminfo(tmp_path, 'MemTotal:        4096000 kB\nMemFree:         1024000 kB\n')
    assert read_memory_totals(str(tmp_path)) == {'total_mb': 4000, 'free_mb': 1000, 'available_mb': None}


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ValueError, match='%s cannot be read' % os.path.join(str(tmp_path), 'meminfo')):
        read_memory_totals(str(tmp_path))


def test_a_file_without_memtotal_is_refused(tmp_path):
    write_meminfo(tmp_path, 'MemFree: 1024 kB\n')
    with pytest.raises(ValueError, match='has no MemTotal line'):
        read_memory_totals(str(tmp_path))
