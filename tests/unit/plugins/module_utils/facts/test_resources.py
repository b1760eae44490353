# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resource inventory derived from facts that were built from saved libvirt XML."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import domains, facts_from, read_fixture
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.resources import (
    RESOURCE_CLASSES, derive_resources,
)
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.storage import parse_pool


MILAN = 'debian12-epyc-milan-kvm.caps.xml'
MILAN_Q35 = 'debian12-epyc-milan-kvm.domcaps-q35.xml'
SEV = 'amd-epyc-sev.caps.xml'
SEV_Q35 = 'amd-epyc-sev.domcaps-q35.xml'
TESTDRIVER = 'testdriver.caps.xml'
TESTDRIVER_POOL = 'testdriver-default.pool.xml'


def saved_pool(active=True):
    return parse_pool(read_fixture(TESTDRIVER_POOL), active=active, autostart=False, persistent=True)


@pytest.fixture(scope='module')
def milan():
    return derive_resources(facts_from(MILAN, MILAN_Q35))


# -- VCPU, PCPU, MEMORY_MB -----------------------------------------------------------


def test_vcpu_total_is_the_online_cpus(milan):
    assert milan['VCPU']['total'] == 2


def test_vcpu_used_is_zero_when_domains_are_unknown(milan):
    assert milan['VCPU']['used'] == 0


def test_vcpu_used_counts_running_guests():
    resources = derive_resources(facts_from(MILAN, domains=domains(('web01', True, 3, 4096))))
    assert resources['VCPU']['used'] == 3


def test_a_defined_domain_that_is_stopped_holds_its_share_too():
    resources = derive_resources(facts_from(MILAN, domains=domains(('web01', True, 3, 4096), ('db01', False, 2, 1024))))
    assert (resources['VCPU']['used'], resources['MEMORY_MB']['used']) == (5, 5120)


def test_without_the_domain_list_the_running_totals_count():
    listed = domains(('web01', True, 3, 4096), ('db01', False, 2, 1024))
    del listed['list']
    resources = derive_resources(facts_from(MILAN, domains=listed))
    assert (resources['VCPU']['used'], resources['MEMORY_MB']['used']) == (3, 4096)


def test_memory_total_is_the_cells_memory(milan):
    assert milan['MEMORY_MB']['total'] == 5073108 // 1024


def test_memory_used_counts_running_guests():
    resources = derive_resources(facts_from(MILAN, domains=domains(('web01', True, 3, 4096))))
    assert resources['MEMORY_MB']['used'] == 4096


def test_memory_falls_back_to_host_info_when_memory_was_not_gathered():
    facts = facts_from(MILAN, subsets=('host', 'cpu'))
    assert 'memory_info' not in facts
    assert derive_resources(facts)['MEMORY_MB']['total'] == facts['host_info']['memory_mb']


def test_pcpu_is_zero(milan):
    assert milan['PCPU'] == {'total': 0, 'reserved': 0, 'used': 0, 'allocation_ratio': 1.0}


def test_every_entry_has_the_four_keys(milan):
    for name, entry in milan.items():
        assert sorted(entry) == ['allocation_ratio', 'reserved', 'total', 'used'], name


def test_every_class_is_an_os_resource_classes_name(milan):
    assert set(milan) <= set(RESOURCE_CLASSES)


def test_build_facts_stores_the_same_inventory():
    facts = facts_from(MILAN, MILAN_Q35)
    assert facts['resources'] == derive_resources(facts)


# -- DISK_GB -------------------------------------------------------------------------


def test_disk_sums_active_pools():
    resources = derive_resources(facts_from(TESTDRIVER, pools=[saved_pool()]))
    assert resources['DISK_GB']['total'] == 100


def test_disk_ignores_inactive_pools():
    resources = derive_resources(facts_from(TESTDRIVER, pools=[saved_pool(), saved_pool(active=False)]))
    assert resources['DISK_GB']['total'] == 100


def test_disk_rounds_down_to_whole_gib():
    pool = dict(saved_pool(), capacity_gb=10.99, allocation_gb=3.7)
    resources = derive_resources(facts_from(TESTDRIVER, pools=[pool]))
    assert (resources['DISK_GB']['total'], resources['DISK_GB']['used']) == (10, 3)


def test_no_pools_is_zero_disk():
    assert derive_resources(facts_from(TESTDRIVER, pools=[]))['DISK_GB']['total'] == 0


def test_unreadable_pools_leave_disk_out(milan):
    assert 'DISK_GB' not in milan


# -- MEM_ENCRYPTION_CONTEXT ----------------------------------------------------------


def test_sev_max_guests_is_the_encryption_context_total():
    assert derive_resources(facts_from(SEV, SEV_Q35))['MEM_ENCRYPTION_CONTEXT']['total'] == 15


def test_no_sev_gives_no_encryption_context(milan):
    assert 'MEM_ENCRYPTION_CONTEXT' not in milan


# -- unknown totals are left out -----------------------------------------------------


def test_no_facts_give_no_inventory():
    assert derive_resources({}) == {}


def test_failed_categories_give_no_inventory():
    facts = dict.fromkeys(('host_info', 'memory_info', 'security_info', 'storage_info', 'virt_info'))
    assert derive_resources(facts) == {}


# -- SR-IOV and GPUs (with sriov facts: test_sriov.py) ------------------------------


def test_no_sriov_facts_give_no_vfs(milan):
    assert 'SRIOV_NET_VF' not in milan


# -- allocation ratios and reserved --------------------------------------------------


def test_allocation_ratio_defaults_to_one(milan):
    assert milan['VCPU']['allocation_ratio'] == 1.0


def test_allocation_ratio_override():
    resources = derive_resources(facts_from(MILAN), allocation_ratios={'VCPU': 4.0})
    assert (resources['VCPU']['allocation_ratio'], resources['MEMORY_MB']['allocation_ratio']) == (4.0, 1.0)


def test_allocation_ratio_as_a_numeric_string_is_accepted():
    assert derive_resources(facts_from(MILAN), allocation_ratios={'VCPU': '16'})['VCPU']['allocation_ratio'] == 16.0


def test_reserved_override():
    resources = derive_resources(facts_from(MILAN), reserved={'MEMORY_MB': 2048})
    assert (resources['MEMORY_MB']['reserved'], resources['VCPU']['reserved']) == (2048, 0)


def test_reserved_for_a_class_the_host_lacks_is_ignored(milan):
    assert 'PGPU' not in derive_resources(facts_from(MILAN), reserved={'PGPU': 1})


@pytest.mark.parametrize('value', [0, -1, 'lots', True, None, float('nan')])
def test_bad_allocation_ratio_names_class_value_and_fix(value):
    with pytest.raises(ValueError) as err:
        derive_resources({}, allocation_ratios={'VCPU': value})
    message = str(err.value)
    assert 'allocation_ratios[VCPU]' in message and repr(value) in message and 'positive number' in message


@pytest.mark.parametrize('value', [-1, 1.5, 'half', False, None])
def test_bad_reserved_names_class_value_and_fix(value):
    with pytest.raises(ValueError) as err:
        derive_resources({}, reserved={'MEMORY_MB': value})
    message = str(err.value)
    assert 'reserved[MEMORY_MB]' in message and repr(value) in message and 'whole number' in message


def test_unknown_resource_class_lists_the_known_ones():
    with pytest.raises(ValueError) as err:
        derive_resources({}, allocation_ratios={'VCPUS': 4.0})
    assert "'VCPUS'" in str(err.value) and 'VCPU, PCPU, MEMORY_MB' in str(err.value)


def test_allocation_ratios_must_be_a_mapping():
    with pytest.raises(ValueError) as err:
        derive_resources({}, allocation_ratios=[4.0])
    assert 'allocation_ratios' in str(err.value) and '{VCPU: 4.0}' in str(err.value)
