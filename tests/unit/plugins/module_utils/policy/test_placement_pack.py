# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pack weighs each resource class by how much of it the batch needs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import facts_from
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.placement import place_vms

# 64 CPUs and 257430 MiB each.
SEV = ('amd-epyc-sev.caps.xml', 'amd-epyc-sev.domcaps-q35.xml')
CATALOG = {'placement_policies': [{'name': 'default', 'strategy': 'pack'}]}
# (vcpus, GiB): 256 vCPUs in all, exactly four hosts' worth; memory is not short.
SIZES = [(24, 8), (16, 96), (24, 64), (8, 8), (32, 8), (24, 32), (4, 32), (16, 16), (24, 8), (32, 128), (16, 64), (4, 96), (32, 16)]


def test_pack_fills_hosts_by_the_class_the_batch_needs_most():
    facts = facts_from(*SEV)
    hosts = dict(('hv%d' % number, {'libvirt_host_caps': facts}) for number in range(6))
    vms = [{'name': 'vm%02d' % number, 'vcpus': vcpus, 'memory_mb': gib * 1024, 'disk_gb': 0}
           for number, (vcpus, gib) in enumerate(SIZES)]
    answer = place_vms(vms, catalog=CATALOG, hosts=hosts)
    assert answer['summary']['placed'] == len(SIZES)
    assert answer['summary']['hosts_used'] == 4
    assert all(usage['resources']['VCPU']['free'] == 0 for usage in answer['hosts'].values() if usage['vms'])
