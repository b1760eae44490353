# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which memory figure the facts carry: the kernel's on the host, libvirt's elsewhere.

The Debian 12 test machine's capabilities and /proc/meminfo were captured together:
libvirt's one NUMA cell holds 5203704 KiB while the kernel's MemTotal is 24683584 kB.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.capabilities import parse_capabilities
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.meminfo import read_memory_totals
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.host_facts import FactSources, build_facts
from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import facts_from

CAPS_24G = 'debian12-epyc-milan-kvm-24g.caps.xml'
PROC_24G = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures', 'proc', 'debian12-epyc-milan-kvm-24g')
# virsh nodeinfo at the same moment: "Memory size: 5203704 KiB" (libvirt-python gives MiB).
NODE_INFO_24G = {'model': 'x86_64', 'memory_mb': 5203704 // 1024, 'cpus': 2, 'mhz': 2445, 'nodes': 1,
                 'sockets': 1, 'cores': 2, 'threads': 1}
KERNEL_MB = 24683584 // 1024
CELLS_MB = 5203704 // 1024


def on_host(kernel=None):
    return facts_from(CAPS_24G, node_info=NODE_INFO_24G, kernel_meminfo=kernel or read_memory_totals(PROC_24G))


def warnings(facts):
    return [e for e in facts['errors'] if e['severity'] == 'warning']


def test_on_the_host_the_kernels_memtotal_is_the_total():
    memory = on_host()['memory_info']
    assert memory['total_mb'] == KERNEL_MB
    assert memory['total_mb_source'] == 'kernel'
    assert memory['available_mb'] == 23872212 // 1024
    assert memory['free_mb'] == 22891480 // 1024


def test_host_info_and_memory_mb_resource_use_the_same_figure():
    facts = on_host()
    assert facts['host_info']['memory_mb'] == KERNEL_MB
    assert facts['resources']['MEMORY_MB']['total'] == KERNEL_MB


def test_both_sources_are_reported():
    assert on_host()['memory_info']['sources'] == {
        'kernel': {'total_mb': KERNEL_MB, 'free_mb': 22891480 // 1024, 'available_mb': 23872212 // 1024},
        'libvirt': {'total_mb': CELLS_MB, 'cells_total_mb': CELLS_MB, 'free_mb': None},
    }


def test_cells_far_from_the_kernels_figure_give_one_warning():
    found = warnings(on_host())
    assert found == [{
        'category': 'memory_info', 'severity': 'warning',
        'message': "libvirt's NUMA cells add up to 5081 MiB, but the kernel's MemTotal (/proc/meminfo) is 24105 MiB "
                   "(-78.9 %); memory_info.total_mb, host_info.memory_mb and MEMORY_MB use the kernel's figure, "
                   "memory_info.cells and per-cell hugepages stay libvirt's",
    }]


def test_cells_within_one_percent_give_no_warning():
    kernel = {'total_mb': CELLS_MB * 100 // 99, 'free_mb': None, 'available_mb': None}
    facts = on_host(kernel)
    assert facts['memory_info']['total_mb'] == kernel['total_mb']
    assert warnings(facts) == []


def test_off_the_host_libvirts_figure_stays_and_is_named():
    facts = facts_from(CAPS_24G, node_info=NODE_INFO_24G)
    memory = facts['memory_info']
    assert (memory['total_mb'], memory['total_mb_source']) == (CELLS_MB, 'libvirt')
    assert memory['sources']['kernel'] is None
    assert memory['available_mb'] is None
    assert facts['host_info']['memory_mb'] == CELLS_MB
    assert warnings(facts) == []


def test_an_unreadable_meminfo_on_the_host_is_an_error_and_libvirt_is_used(fixture_xml):
    caps = parse_capabilities(fixture_xml(CAPS_24G))

    def unreadable():
        raise ValueError('/proc/meminfo cannot be read')
    facts = build_facts(FactSources({'capabilities': lambda: caps, 'node_info': lambda: NODE_INFO_24G,
                                     'kernel_meminfo': unreadable}))
    assert (facts['memory_info']['total_mb'], facts['memory_info']['total_mb_source']) == (CELLS_MB, 'libvirt')
    assert {'category': 'memory_info', 'severity': 'error',
            'message': 'kernel_meminfo: /proc/meminfo cannot be read'} in facts['errors']
