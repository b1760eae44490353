# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``host_traits`` filter; the rules live in ``module_utils/traits.py``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.facts_input import unwrap_host_facts
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.traits import derive_traits
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import plain_arguments


@plain_arguments(AnsibleFilterError)
def host_traits(data, custom_traits=None, sriov=None):
    try:
        facts, sriov = unwrap_host_facts(data, sriov)
        return derive_traits(facts, sriov=sriov, custom_traits=custom_traits)
    except (ValueError, ImportError) as exc:
        raise AnsibleFilterError('host_traits: %s' % exc)


class FilterModule(object):

    def filters(self):
        return {'host_traits': host_traits}
