# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vm_validate's memory rule counts the figure the facts decided (memory_info.total_mb):
a 16 GiB VM on the Debian 12 test machine, whose libvirt sees 5081 of the kernel's 24105 MiB."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.meminfo import read_memory_totals
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_hosts import HostIndex
from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import facts_from

CAPS_24G = 'debian12-epyc-milan-kvm-24g.caps.xml'
DOMCAPS = ('debian12-epyc-milan-kvm.domcaps-pc.xml', 'debian12-epyc-milan-kvm.domcaps-q35.xml')
PROC_24G = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures', 'proc', 'debian12-epyc-milan-kvm-24g')
NODE_INFO_24G = {'model': 'x86_64', 'memory_mb': 5081, 'cpus': 2, 'mhz': 2445, 'nodes': 1,
                 'sockets': 1, 'cores': 2, 'threads': 1}
VM_16G = {
    'name': 'big01', 'vcpus': 2, 'memory_mb': 16384, 'disk_gb': 0, 'arch': None, 'machine': None,
    'virt_type': 'kvm', 'firmware': 'bios', 'secure_boot': False, 'tpm': None, 'memory_encryption': None,
    'cpu': {'mode': 'host-model', 'model': None, 'features': [], 'dedicated': False},
    'hugepages': None, 'numa_nodes': 1, 'sriov_vfs': 0, 'pci_devices': [], 'disks': [], 'networks': [],
    'required_traits': [], 'forbidden_traits': [], 'resources': {}, 'placement_policy': None, 'qos_policy': None,
}


def verdict(facts):
    return HostIndex({'hv1': facts}).check(VM_16G)[0]


def test_a_16g_vm_fits_the_kernels_24g():
    facts = facts_from(CAPS_24G, *DOMCAPS, node_info=NODE_INFO_24G, kernel_meminfo=read_memory_totals(PROC_24G))
    assert verdict(facts) == ('hv1', 'pass', None, None, None)


def test_off_the_host_libvirts_figure_decides():
    facts = facts_from(CAPS_24G, *DOMCAPS, node_info=NODE_INFO_24G)
    assert verdict(facts) == ('hv1', 'fail', 'memory_exceeds_host', 'memory_mb',
                              'needs 16384 MiB of memory; the host has 5081 MiB in all')
