# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vm_place filter's options: the engine and its time limit, and a missing ortools as a
filter error. The placement itself is tested in module_utils/policy/test_placement_*."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import sys

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.virtumancer.hostcaps.plugins.filter.vm_place import vm_place
from ansible_collections.virtumancer.hostcaps.tests.unit.placement_fleet import hostvars, vm

HOSTS = {'hv1': hostvars(), 'hv2': hostvars()}


def test_cp_sat_places_through_the_filter():
    pytest.importorskip('ortools')
    answer = vm_place([vm('web01')], hosts=HOSTS, engine='cp-sat', time_limit=5)
    assert answer['engine']['status'] == 'optimal'
    assert [entry['host'] for entry in answer['placements']] == ['hv1']


def test_cp_sat_without_ortools_is_a_filter_error_that_names_the_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, 'ortools', None)
    monkeypatch.setitem(sys.modules, 'ortools.sat.python', None)
    with pytest.raises(AnsibleFilterError, match=r"^vm_place: engine cp-sat needs the Python package ortools on the controller: "
                                                 r"pip install ortools; or use engine='heuristic'$"):
        vm_place([vm('web01')], hosts=HOSTS, engine='cp-sat')


@pytest.mark.parametrize('time_limit', [0, -1, 3601, True, '10'])
def test_a_time_limit_out_of_range_is_refused(time_limit):
    with pytest.raises(AnsibleFilterError, match='time_limit must be a number of seconds above 0 and at most 3600'):
        vm_place([vm('web01')], hosts=HOSTS, engine='cp-sat', time_limit=time_limit)


def test_an_unknown_engine_is_refused():
    with pytest.raises(AnsibleFilterError, match="engine must be heuristic or cp-sat, got string 'exact'"):
        vm_place([vm('web01')], hosts=HOSTS, engine='exact')
