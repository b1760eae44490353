# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""spread keeps the highest utilisation close to the fractional optimum on a batch large
enough to take the single-pass path (no portfolio, no ruin and recreate)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random

from ansible_collections.virtumancer.hostcaps.tests.unit.placement_fleet import hostvars, vm
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.placement import place_vms

HOSTS, VMS = 100, 1000
VCPUS, MEMORY_MB, DISK_GB = 64, 253952, 4096
VCPU_RATIO = 2
# (vcpus, memory_mb, disk_gb, weight): general, memory-heavy, CPU-heavy and disk-heavy shapes.
SIZES = ((1, 2048, 20, 10), (2, 4096, 40, 22), (4, 8192, 80, 20), (8, 16384, 160, 14), (16, 32768, 320, 6),
         (32, 65536, 640, 2), (4, 32768, 80, 8), (16, 16384, 80, 6), (2, 8192, 1024, 6))
CATALOG = {'placement_policies': [{'name': 'default', 'strategy': 'spread'}]}


def _batch():
    rng = random.Random(7)
    weights = [size[3] for size in SIZES]
    return [vm('vm%04d' % number, *rng.choices(SIZES, weights)[0][:3]) for number in range(VMS)]


def test_spread_comes_within_two_percent_of_the_fractional_optimum():
    vms = _batch()
    host = dict(vcpus=VCPUS, memory_mb=MEMORY_MB, disk_gb=DISK_GB, ratios={'VCPU': VCPU_RATIO})
    hosts = dict(('hv%03d' % number, hostvars(**host)) for number in range(HOSTS))
    answer = place_vms(vms, catalog=CATALOG, hosts=hosts)
    assert answer['summary']['placed'] == VMS
    capacity = (VCPUS * VCPU_RATIO, MEMORY_MB, DISK_GB)
    demand = dict((entry['name'], (entry['vcpus'], entry['memory_mb'], entry['disk_gb'])) for entry in vms)
    load = {}
    for entry in answer['placements']:
        used = load.setdefault(entry['host'], [0, 0, 0])
        for index, amount in enumerate(demand[entry['vm']]):
            used[index] += amount
    highest = max(used[index] / float(capacity[index]) for used in load.values() for index in range(3))
    optimum = max(sum(amounts[index] for amounts in demand.values()) / float(capacity[index] * HOSTS) for index in range(3))
    assert highest <= 1.02 * optimum, (highest, optimum)
