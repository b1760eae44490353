# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleets for the placement tests: the facts of the captured AMD EPYC SEV host (64 CPUs,
two NUMA cells of 32 CPUs and 128715 MiB, 257430 MiB in all), built once by the real
parsers, then varied the way hosts of a fleet differ: the host's own
``hostcaps_reserved`` and ``hostcaps_allocation_ratios`` (capacity), its traits, a
storage pool of some size (DISK_GB), running domains, free hugepages per cell and
``hostcaps_custom_resources``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.storage import parse_pool
from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import domains, facts_from, read_fixture

SEV = 'amd-epyc-sev.caps.xml'
SEV_Q35 = 'amd-epyc-sev.domcaps-q35.xml'
POOL = 'testdriver-default.pool.xml'  # default-pool, 100 GiB
HOST_VCPUS = 64
HOST_MEMORY_MB = 257430
CELL_MEMORY_MB = 128715
CELL_CPUS = 32
# What virNodeGetFreePages says on the captured host when nothing else is asked.
FREE_PAGES = {0: {2048: 1000, 1048576: 4}, 1: {2048: 1000, 1048576: 4}}

_CACHE = {}


def pool(size_gb, name='default-pool'):
    """The captured pool with another size (active, nothing allocated)."""
    found = parse_pool(read_fixture(POOL), True, True, True)
    found.update(name=name, capacity_gb=float(size_gb), available_gb=float(size_gb))
    return found


def sev_facts(pool_gb=None, running=None, free_pages=None):
    """``libvirt_host_caps`` of the SEV host, with a pool of ``pool_gb`` GiB, the domains
    ``running`` (``[(name, active, vcpus, memory_mb)]``) and free hugepages per cell."""
    key = (pool_gb, repr(running), repr(free_pages))
    if key not in _CACHE:
        live = {'free_pages': FREE_PAGES if free_pages is None else free_pages}
        if pool_gb is not None:
            live['pools'] = [pool(pool_gb)]
        if running is not None:
            live['domains'] = domains(*running)
        _CACHE[key] = facts_from(SEV, SEV_Q35, **live)
    return dict(_CACHE[key])  # read only below the top level; traits get a new list


def hostvars(vcpus=HOST_VCPUS, memory_mb=HOST_MEMORY_MB, disk_gb=None, traits=(), running=None, free_pages=None,
             reserved=None, ratios=None, custom=None):
    """hostvars[host] of a SEV host whose capacity is ``vcpus`` and ``memory_mb`` (the
    rest kept back through its own ``hostcaps_reserved``, which ``reserved`` adds to),
    ``disk_gb`` of storage pool, ``traits`` beyond the facts' own."""
    facts = sev_facts(disk_gb, running, free_pages)
    if traits:
        facts['traits'] = sorted(set(facts['traits']) | set(traits))
    own = {'VCPU': HOST_VCPUS - vcpus, 'MEMORY_MB': HOST_MEMORY_MB - memory_mb}
    own.update(reserved or {})
    found = {'ansible_facts': {'libvirt_host_caps': facts}, 'hostcaps_reserved': own}
    if ratios:
        found['hostcaps_allocation_ratios'] = dict(ratios)
    if custom:
        found['hostcaps_custom_resources'] = dict(custom)
    return found


def vm(name, vcpus=2, memory_mb=4096, disk_gb=0, **more):
    found = {'name': name, 'vcpus': vcpus, 'memory_mb': memory_mb, 'disk_gb': disk_gb}
    found.update(more)
    return found
