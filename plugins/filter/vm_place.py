# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``vm_place`` filter; the engine lives in ``module_utils/policy/placement.py``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.placement import place_vms
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_validate import InputError
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import plain_arguments


@plain_arguments(AnsibleFilterError)
def vm_place(vms, catalog=None, hosts=None, engine='heuristic', time_limit=10, gathered=None):
    try:
        return place_vms(vms, catalog=catalog, hosts=hosts, engine=engine, time_limit=time_limit, gathered=gathered)
    except (InputError, ImportError) as exc:
        raise AnsibleFilterError('vm_place: %s' % exc)


class FilterModule(object):

    def filters(self):
        return {'vm_place': vm_place}
