# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A batch checks a VM that differs from an earlier one only in its name once: every VM
must still get the resolved definition and the problems a check of its own gives, under
its own name."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_spec import check_vm, duplicate_names
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_validate import check_input


class Text(str):
    """A str of another class, as Ansible hands its unsafe text."""


CATALOG = {
    'resource_classes': [{'name': 'small', 'vcpus': 2, 'memory_mb': 2048, 'disk_gb': 10},
                         {'name': 'big', 'vcpus': 16, 'memory_mb': 65536, 'disk_gb': 10, 'required_traits': ['COMPUTE_FIRMWARE_UEFI']}],
    'placement_policies': [{'name': 'default', 'anti_affinity': [{'name': 'web', 'max_per_host': 1}]},
                           {'name': 'other', 'affinity': [{'name': 'db'}], 'reserved': {'MEMORY_MB': 1024}}],
}
# Definitions apart from their names: plain ones the batch shares, and values that look
# alike but differ in type (1, 1.0 and true; a list and a tuple; a str of another class).
BODIES = [
    {'resource_class': 'small'}, {'resource_class': 'big'}, {'resource_class': 'small', 'groups': ['web']},
    {'resource_class': 'small', 'groups': ['db']}, {'resource_class': 'small', 'groups': ['db'], 'placement_policy': 'other'},
    {'resource_class': 'nope'}, {'vcpus': 1, 'memory_mb': 512, 'disk_gb': 10}, {'vcpus': True, 'memory_mb': 512, 'disk_gb': 10},
    {'vcpus': 1.0, 'memory_mb': 512, 'disk_gb': 10}, {'vcpus': '1', 'memory_mb': 512, 'disk_gb': 10},
    {'vcpus': 1, 'memory_mb': 512, 'disk_gb': 10, 'required_traits': ['HW_CPU_X86_AVX2']},
    {'vcpus': 1, 'memory_mb': 512, 'disk_gb': 10, 'required_traits': ('HW_CPU_X86_AVX2',)},
    {'vcpus': 1, 'memory_mb': 512, 'disk_gb': 10, 'required_traits': [Text('HW_CPU_X86_AVX2')]},
    {'vcpus': 1, 'memory_mb': 512, 'disk_gb': 10, 'required_traits': ['not a trait']},
    {'resource_class': Text('small')}, {'resource_class': 'small', 'firmware': 'efi', 'secure_boot': True},
    {'resource_class': 'small', 'secure_boot': True}, {'resource_class': 'small', 'secure_boot': 1},
    {'resource_class': 'small', 'tpm': 2.0}, {'resource_class': 'small', 'tpm': '2.0'}, {'resource_class': 'small', 'colour': 'red'},
    {'resource_class': 'small', 'disk_gb': 5, 'disks': [{'size_gb': 8}]}, {'vcpus': 10 ** 30, 'memory_mb': 512, 'disk_gb': 10},
    {'resource_class': 'small', 'cpu': {'mode': 'custom'}}, {'resource_class': 'small', 'hugepages': '2M', 'memory_mb': 1025},
]
NAMES = st.one_of(st.sampled_from(['vm1', 'vm2', 'vm3', 'db.01', 'x' * 65, '', 'bad name', None, 7, Text('vm4')]),
                  st.from_regex(r'[a-z]{1,6}', fullmatch=True))


def _alone(vms):
    """The problems and resolved VMs of a check of each VM on its own, as check_input gives them."""
    checked = check_input([], CATALOG)
    problems = list(checked.problems)
    resolved = [check_vm(vm, position, checked.catalog, problems) for position, vm in enumerate(vms)]
    duplicate_names(vms, problems)
    return problems, resolved


def _vm(name, body):
    found = {} if name is None else {'name': name}
    found.update(body)
    return found


def test_vms_alike_but_their_names_get_their_own_names_and_problems():
    vms = [_vm(name, body) for body in BODIES for name in ('a1', 'a2', 'bad name', None, 'a3')]
    checked = check_input(vms, CATALOG)
    assert (checked.problems, checked.resolved) == _alone(vms)
    assert any(problem['vm'] == 'a2' and problem['code'] == 'unknown_resource_class' for problem in checked.problems)
    assert [vm['name'] for vm in checked.resolved[:5] if vm] == ['a1', 'a2', 'a3']


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(picks=st.lists(st.tuples(NAMES, st.sampled_from(BODIES)), min_size=1, max_size=30))
def test_a_batch_of_repeated_definitions_is_checked_as_each_alone(picks):
    vms = [_vm(name, body) for name, body in picks]
    checked = check_input(vms, CATALOG)
    assert (checked.problems, checked.resolved) == _alone(vms)
