# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``host_resources`` filter; the inventory rules live in ``module_utils/resources.py``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.resources import derive_resources
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.facts_input import unwrap_host_facts
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import plain_arguments


@plain_arguments(AnsibleFilterError)
def host_resources(data, sriov=None, allocation_ratios=None, reserved=None):
    try:
        facts, sriov = unwrap_host_facts(data, sriov)
        return derive_resources(facts, sriov=sriov, allocation_ratios=allocation_ratios, reserved=reserved)
    except ValueError as exc:
        raise AnsibleFilterError('host_resources: %s' % exc)


class FilterModule(object):

    def filters(self):
        return {'host_resources': host_resources}
