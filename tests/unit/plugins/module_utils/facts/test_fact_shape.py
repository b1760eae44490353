# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shape check of host facts answers first with a quick yes or no, and walks the facts
for the paths only when the answer is no: both must find the same facts malformed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import copy
import json
import os

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts import fact_shape
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.fact_shape import LIBVIRT_HOST_CAPS, SRIOV, MalformedFacts, check_facts
from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import facts_from

FACTDB_FIXTURE = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures', 'factdb', 'debian12-kvm-host.facts.json')


class Text(str):
    """A str of another class, as Ansible hands its unsafe text."""


class Mapping(dict):
    """A dict of another class."""


class Whole(int):
    """An int of another class, as ansible-core 2.19 tags its values."""


with open(FACTDB_FIXTURE) as _handle:
    _REAL = json.load(_handle)
# The captured SEV host: guests with hundreds of machines, CPU models, two domain capabilities.
SEV = facts_from('amd-epyc-sev.caps.xml', 'amd-epyc-sev.domcaps-q35.xml', 'debian12-epyc-milan-kvm.domcaps-pc.xml')
HOSTS = ({'libvirt_host_caps': _REAL['libvirt_host_caps'], 'sriov': _REAL['sriov']}, {'libvirt_host_caps': SEV, 'sriov': None})

ODD_VALUES = st.sampled_from([
    None, True, False, 0, -1, 1.5, float('nan'), '', 'x', Text('x'), [], {}, [{}], [None], ['x'], [Text('x')], ['x', 7], [7], [True],
    [2 ** 63], [None, 'x'], {'a': 1}, {7: 'x'}, {'machine': 7}, Mapping(), Mapping(arch='x86_64'), collections.OrderedDict(x=1),
    2 ** 63 - 1, 2 ** 63, -2 ** 63 + 1, -2 ** 63, 10 ** 40, (), ('x',), b'x', {'name': 'n', 'canonical': 'c', 'max_cpus': 288},
    {'name': 'n', 'max_cpus': True}, {'name': Text('n')},
])


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, path + (index,))


PATHS = [[path for path in _paths(host) if len(path) > 1] for host in HOSTS]


def _mutate(value, path, new):
    holder = value
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = new


def _agree(facts, sriov):
    walked = fact_shape.shape_problems(facts, LIBVIRT_HOST_CAPS) + fact_shape.shape_problems(sriov, SRIOV)
    assert fact_shape._FACTS_FIT(facts) == (not fact_shape.shape_problems(facts, LIBVIRT_HOST_CAPS))
    assert fact_shape._SRIOV_FIT(sriov) == (not fact_shape.shape_problems(sriov, SRIOV))
    if walked:
        with pytest.raises(MalformedFacts):
            check_facts(facts, sriov)
    else:
        check_facts(facts, sriov)


@pytest.mark.parametrize('which', [0, 1])
def test_the_captured_facts_fit(which):
    assert fact_shape._FACTS_FIT(HOSTS[which]['libvirt_host_caps'])
    check_facts(HOSTS[which]['libvirt_host_caps'], HOSTS[which]['sriov'])


@pytest.mark.parametrize('path, value, fits', [
    (('libvirt_host_caps', 'cpu_info', 'features'), [Text('avx2'), None, 'sse'], True),
    (('libvirt_host_caps', 'cpu_info', 'features'), ['avx2', b'sse'], False),
    (('libvirt_host_caps', 'host_info', 'online_cpus'), True, False),
    (('libvirt_host_caps', 'host_info', 'online_cpus'), 2 ** 63, False),
    (('libvirt_host_caps', 'host_info', 'online_cpus'), -(2 ** 63 - 1), True),
    (('libvirt_host_caps', 'host_info'), Mapping(arch=Text('x86_64')), True),
    (('libvirt_host_caps', 'host_info', 'online_cpus'), Whole(4), True),
    (('libvirt_host_caps', 'host_info', 'online_cpus'), Whole(2 ** 63), False),
    (('libvirt_host_caps', 'host_info', 'online_cpus'), '', False),
    (('libvirt_host_caps', 'host_info', 'online_cpus'), -(2 ** 63), False),
    (('libvirt_host_caps', 'host_info', 'arch'), Text('x86_64'), True),
    (('libvirt_host_caps', 'host_info', 'arch'), 7, False),
    (('libvirt_host_caps', 'domain_capabilities', 0, 'default_machine'), 0, False),
    (('libvirt_host_caps', 'cpu_info', 'guest_features'), {'custom': {'EPYC': ['avx']}}, True),
    (('libvirt_host_caps', 'cpu_info', 'guest_features'), {'custom': {'EPYC': ['avx'], 7: ['x']}}, False),
    (('libvirt_host_caps', 'cpu_info', 'guest_features'), {'custom': {'EPYC': [7]}}, False),
    (('libvirt_host_caps', 'storage_info', 'pools'), [{'name': 'default', 'available_gb': 1.5}], True),
    (('libvirt_host_caps', 'storage_info', 'pools'), [{'name': 'default', 'available_gb': '1.5'}], False),
    (('sriov', 'passthrough_devices', 0, 'vendor_id'), 0x1af4, True),
    (('sriov', 'passthrough_devices', 0, 'vendor_id'), 1.5, False),
    (('sriov', 'passthrough_devices', 0, 'assigned_to'), {'any': ['thing']}, True),
    (('sriov', 'summary', 'free_vfs'), False, False),
    (('libvirt_host_caps', 'virt_info', 'guests'), [{'arch': 'x86_64', 'machines': [None, {'name': 'pc', 'max_cpus': 288}]}], True),
    (('libvirt_host_caps', 'virt_info', 'guests'), [{'arch': 'x86_64', 'machines': [{'name': 'pc', 'max_cpus': True}]}], False),
    (('libvirt_host_caps', 'virt_info', 'guests'), [{'arch': 'x86_64', 'machines': [{'name': 'pc'}, ['q35']]}], False),
    (('libvirt_host_caps', 'virt_info', 'guests'), [{'arch': 'x86_64', 'machines': [{'name': 'pc', 'canonical': 7}]}], False),
    (('libvirt_host_caps', 'virt_info', 'guests'), [{'arch': 'x86_64', 'machines': [Mapping(name=Text('pc')), {}, None]}], True),
    (('libvirt_host_caps', 'virt_info', 'guests'), [{'arch': 'x86_64', 'machines': [Mapping(name=7)]}], False),
    (('libvirt_host_caps', 'virt_info', 'guests'), [{'arch': 'x86_64', 'machines': [{'name': 'pc', 'max_cpus': 2 ** 63}]}], False),
    (('libvirt_host_caps', 'virt_info', 'guests'), [{'arch': 'x86_64', 'machines': [{'name': 'pc', 'max_cpus': Whole(288)}]}], True),
    (('libvirt_host_caps', 'virt_info', 'guests'), [{'arch': 'x86_64', 'machines': [{'name': 'pc', 'max_cpus': ''}]}], False),
])
def test_one_value_fits_or_not_as_the_walk_says(path, value, fits):
    host = copy.deepcopy(HOSTS[0])
    _mutate(host, path, value)
    assert (fact_shape._FACTS_FIT(host['libvirt_host_caps']) and fact_shape._SRIOV_FIT(host['sriov'])) is fits
    _agree(host['libvirt_host_caps'], host['sriov'])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_the_quick_answer_is_that_of_the_walk_on_mutated_real_facts(data):
    which = data.draw(st.sampled_from([0, 1]))
    host = copy.deepcopy(HOSTS[which])
    for dummy in range(data.draw(st.integers(min_value=1, max_value=3))):
        try:
            _mutate(host, data.draw(st.sampled_from(PATHS[which])), data.draw(ODD_VALUES))
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation replaced the container on this path
    _agree(host['libvirt_host_caps'], host['sriov'])
