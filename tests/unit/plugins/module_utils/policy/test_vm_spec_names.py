# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An unknown catalog or group name is reported with a bounded hint, however large the
catalog."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_validate import validate_vms


def _problem(result, code):
    found = [problem for problem in result if problem['code'] == code]
    assert found, result
    return found[0]['message']


def _catalog(groups, qos=()):
    return {'placement_policies': [{'name': 'default', 'anti_affinity': [{'name': name} for name in groups]}],
            'qos_policies': [{'name': name, 'cpu': {'shares': 1024}} for name in qos]}


def test_an_unknown_group_lists_ten_group_names_and_counts_the_rest():
    groups = ['grp%04d' % number for number in range(3000)]
    result = validate_vms([{'name': 'vm1', 'vcpus': 1, 'memory_mb': 512, 'disk_gb': 10, 'groups': ['zzzzzzzzzzzzzzzzz']}],
                          catalog=_catalog(groups), hosts={})
    message = _problem(result, 'unknown_group')
    assert "'grp0000'" in message and "'grp0009'" in message and "'grp0010'" not in message
    assert message.endswith('and 2990 more')
    assert len(message) < 400


def test_an_unknown_group_close_to_a_known_one_is_named():
    result = validate_vms([{'name': 'vm1', 'vcpus': 1, 'memory_mb': 512, 'disk_gb': 10, 'groups': ['grp0007x']}],
                          catalog=_catalog(['grp%04d' % number for number in range(50)]), hosts={})
    assert "did you mean 'grp0007'?" in _problem(result, 'unknown_group')


def test_an_unknown_qos_policy_lists_few_names_each_cut_short():
    long_names = ['q%03d-' % number + 'x' * 55 for number in range(40)]
    result = validate_vms([{'name': 'vm1', 'vcpus': 1, 'memory_mb': 512, 'disk_gb': 10, 'qos_policy': 'gold'}],
                          catalog=_catalog([], qos=long_names), hosts={})
    message = _problem(result, 'unknown_qos_policy')
    assert 'and 30 more' in message
    assert len(message) < 700


def test_a_few_unknown_names_are_all_listed():
    result = validate_vms([{'name': 'vm1', 'vcpus': 1, 'memory_mb': 512, 'disk_gb': 10, 'qos_policy': 'gold'}],
                          catalog=_catalog([], qos=['bronze', 'silver']), hosts={})
    assert _problem(result, 'unknown_qos_policy').endswith("known: 'bronze', 'silver'")


def _cpu(model, features=()):
    vm = {'name': 'vm1', 'vcpus': 1, 'memory_mb': 512, 'disk_gb': 10,
          'cpu': {'mode': 'custom', 'model': model, 'features': list(features)}}
    return [p for p in validate_vms([vm], catalog={}, hosts={}) if p['field'].startswith('cpu.')]


def test_cpu_model_and_feature_names_are_libvirt_names_of_at_most_64_characters():
    assert _cpu('EPYC-Milan-v2', ['avx512-vp2intersect', 'spec-ctrl']) == []
    long_model, = _cpu('(' * 40000)
    assert long_model['field'] == 'cpu.model' and long_model['code'] == 'invalid_value' and len(long_model['message']) < 300
    long_feature, = _cpu('EPYC', ['a' * 65])
    assert long_feature['field'] == 'cpu.features[0]' and len(long_feature['message']) < 300
