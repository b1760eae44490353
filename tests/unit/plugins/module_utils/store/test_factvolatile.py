# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Counters against configuration, on the facts the factdb cache held for the test machine."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import re

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.store import factvolatile
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.store.factvolatile import (
    VOLATILE_PATHS, VolatileError, compile_paths, configuration, same_configuration, strip,
)

CACHED = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures', 'factdb', 'debian12-kvm-host.facts.json')


@pytest.fixture
def cached():
    with open(CACHED) as handle:
        return json.load(handle)


def busy(facts):
    """``facts`` of the same host a while later: memory in use, a domain running, a pool filling."""
    later = copy.deepcopy(facts)
    caps = later['libvirt_host_caps']
    caps['collected_at'] = '2026-12-03T08:00:00Z'
    caps['memory_info']['free_mb'] -= 1024
    caps['memory_info']['cells'][0]['free_mb'] -= 1024
    caps['memory_info']['cells'][0]['pages'][0]['free'] -= 262144
    caps['resources']['MEMORY_MB']['used'] = 1024
    caps['resources']['VCPU']['used'] = 1
    caps['virt_info']['domains'].update(running=1, vcpus_running=1, memory_mb_running=1024)
    caps['virt_info']['domains']['list'] = [
        {'name': 'scratch', 'uuid': '5b1d0e0a-9d0e-4c7e-8f55-2f4f3c0b7a10', 'active': True, 'persistent': False,
         'vcpus': 1, 'memory_mb': 1024}]
    later['ansible_date_time'] = dict(later['ansible_date_time'], epoch='1796284800', time='08:00:00')
    later['ansible_uptime_seconds'] += 52000
    later['ansible_loadavg'] = {'1m': 0.5, '5m': 0.25, '15m': 0.1}
    later['ansible_memfree_mb'] -= 1024
    later['ansible_memory_mb']['real']['free'] -= 1024
    later['ansible_memory_mb']['real']['used'] += 1024
    later['ansible_memory_mb']['nocache'] = {'free': 22000, 'used': 2105}
    later['ansible_mounts'][0].update(size_available=80000000000, block_available=19531250, block_used=46521771,
                                      inode_available=16300000, inode_used=477216)
    later['ansible_env'].update(SSH_CLIENT='192.0.2.10 50999 22', SSH_CONNECTION='192.0.2.10 50999 192.0.2.2 22',
                                XDG_SESSION_ID='42')
    return later


def test_a_busier_host_has_the_same_configuration(cached):
    assert configuration(busy(cached)) == configuration(cached)


def test_configuration_keeps_what_is_not_a_counter(cached):
    left = configuration(cached)

    assert left['libvirt_host_caps']['memory_info']['total_mb'] == cached['libvirt_host_caps']['memory_info']['total_mb']
    assert 'free_mb' not in left['libvirt_host_caps']['memory_info']
    assert left['libvirt_host_caps']['resources']['MEMORY_MB'] == {'allocation_ratio': 1.0, 'reserved': 0, 'total': 4825}
    assert left['ansible_memory_mb'] == {'real': {'total': 24105}, 'swap': {'total': 0}}
    assert left['ansible_mounts'][0]['size_total'] == cached['ansible_mounts'][0]['size_total']
    assert 'size_available' not in left['ansible_mounts'][0]
    assert left['ansible_env']['HOME'] == '/root' and 'SSH_CLIENT' not in left['ansible_env']
    assert left['sriov'] == dict(cached['sriov'], summary=dict((key, value) for key, value in cached['sriov']['summary'].items()
                                                               if key != 'free_vfs'))
    assert set(cached) - set(left) == {'ansible_date_time', 'ansible_uptime_seconds', 'ansible_loadavg', 'ansible_memfree_mb',
                                       'ansible_swapfree_mb'}


@pytest.mark.parametrize('change', [
    lambda f: f['libvirt_host_caps']['memory_info'].update(total_mb=8192),
    lambda f: f['libvirt_host_caps']['traits'].remove('COMPUTE_SECURITY_TPM_2_0'),
    lambda f: f['libvirt_host_caps']['resources']['MEMORY_MB'].update(reserved=512),
    lambda f: f['libvirt_host_caps']['memory_info']['hugepages'][0].update(total=512),
    lambda f: f['libvirt_host_caps']['virt_info']['domains'].update(defined=1),
    lambda f: f['ansible_memory_mb']['real'].update(total=32768),
    lambda f: f['ansible_mounts'][0].update(size_total=540000000000),
    lambda f: f['ansible_env'].update(PATH='/usr/bin'),
    lambda f: f['sriov']['summary'].update(total_vfs=8),
], ids=['total-memory', 'trait', 'reserved', 'hugepages-allocated', 'domain-defined', 'setup-memory', 'disk-size', 'env', 'vfs'])
def test_a_change_of_configuration_is_seen(cached, change):
    changed = busy(cached)
    change(changed)

    assert configuration(changed) != configuration(cached)


def test_a_persistent_domain_is_configuration_a_transient_one_is_not(cached):
    persistent = busy(cached)
    persistent['libvirt_host_caps']['virt_info']['domains']['list'][0]['persistent'] = True
    stopped = copy.deepcopy(persistent)
    stopped['libvirt_host_caps']['virt_info']['domains']['list'][0]['active'] = False

    assert configuration(persistent)['libvirt_host_caps']['virt_info']['domains']['list'] == [
        {'name': 'scratch', 'uuid': '5b1d0e0a-9d0e-4c7e-8f55-2f4f3c0b7a10', 'persistent': True, 'vcpus': 1, 'memory_mb': 1024}]
    assert configuration(stopped) == configuration(persistent) != configuration(cached)


def test_strip_copies_what_it_changes_and_shares_the_rest(cached):
    before = copy.deepcopy(cached)

    left = configuration(cached)

    assert cached == before
    assert left['libvirt_host_caps']['domain_capabilities'] is cached['libvirt_host_caps']['domain_capabilities']
    assert configuration(left) is left


def test_facts_without_counters_come_back_as_they_are():
    facts = {'fact_marker': 'm1', 'libvirt_host_caps': {'traits': ['HW_CPU_X86_AVX2']}}

    assert configuration(facts) is facts


def test_wildcards_and_selectors():
    facts = {'a': {'x': {'n': 1, 'm': 2}, 'y': {'n': 3}}, 'l': [{'k': 0, 'v': 1}, {'k': '0', 'v': 2}, {'k': False, 'v': 3}],
             'q': {'x.y': 1, 'z': 2}}

    assert strip(facts, compile_paths(['a.*.n'])) == dict(facts, a={'x': {'m': 2}, 'y': {}})
    assert strip(facts, compile_paths(['l[k=0]'])) == dict(facts, l=[{'k': '0', 'v': 2}, {'k': False, 'v': 3}])
    assert strip(facts, compile_paths(['l[k="0"].v', 'l[k=false]'])) == dict(facts, l=[{'k': 0, 'v': 1}, {'k': '0'}])
    assert strip(facts, compile_paths(['l[*].v'])) == dict(facts, l=[{'k': 0}, {'k': '0'}, {'k': False}])
    assert strip(facts, compile_paths(['q["x.y"]'])) == dict(facts, q={'z': 2})
    # Removing a whole part wins over removing something inside it.
    assert strip(facts, compile_paths(['a.x.n', 'a.x'])) == dict(facts, a={'y': {'n': 3}})


@pytest.mark.parametrize('path', ['a..b', '.a', 'a.', 'a[b', 'a[x]'])
def test_a_path_the_grammar_cannot_read_is_refused_with_its_text(path):
    with pytest.raises(VolatileError, match=re.escape('volatile path %r' % path)):
        compile_paths([path])


def test_every_volatile_path_is_read():
    assert len(VOLATILE_PATHS) == len(set(VOLATILE_PATHS))
    for path in VOLATILE_PATHS:
        assert factvolatile._steps(path)  # pylint: disable=protected-access


def test_sets_setup_lists_in_another_order_are_the_same_configuration(cached):
    # Two runs of setup on the test machine listed these in another order.
    reordered = busy(cached)
    reordered['ansible_interfaces'].reverse()
    reordered['ansible_virtualization_tech_guest'].reverse()

    assert configuration(reordered) != configuration(cached)
    assert same_configuration(cached, reordered)


def test_same_configuration_keeps_values_of_other_types_apart(cached):
    changed = copy.deepcopy(cached)
    changed['ansible_interfaces'] = [1 if name == 'lo' else name for name in changed['ansible_interfaces']]
    traits = copy.deepcopy(cached)
    traits['libvirt_host_caps']['traits'].append('CUSTOM_NEW')

    assert not same_configuration(cached, changed)
    assert not same_configuration(cached, traits)
    assert same_configuration({'l': [1, True, 1.0, None, 'a']}, {'l': ['a', None, 1.0, True, 1]})
    assert not same_configuration({'l': [1, 1.0]}, {'l': [1, True]})


def test_the_kernels_free_and_available_memory_are_counters(cached):
    later = copy.deepcopy(cached)
    memory = later['libvirt_host_caps']['memory_info']
    memory['available_mb'] = 20000
    memory['sources'] = {'kernel': {'total_mb': 24105, 'free_mb': 19000, 'available_mb': 20000},
                         'libvirt': {'total_mb': 6233, 'cells_total_mb': 6233, 'free_mb': 4000}}
    earlier = copy.deepcopy(later)
    earlier['libvirt_host_caps']['memory_info'].update(available_mb=23000)
    earlier['libvirt_host_caps']['memory_info']['sources']['kernel'].update(free_mb=22000, available_mb=23000)
    earlier['libvirt_host_caps']['memory_info']['sources']['libvirt'].update(free_mb=4100)
    assert configuration(later) == configuration(earlier)
    earlier['libvirt_host_caps']['memory_info']['sources']['kernel']['total_mb'] = 32000
    assert configuration(later) != configuration(earlier)
