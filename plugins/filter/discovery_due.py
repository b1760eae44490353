# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``discovery_due`` filter; the rules live in ``module_utils/policy/discovery.py``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import plain_arguments
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.discovery import discovery_due as due


@plain_arguments(AnsibleFilterError)
def discovery_due(facts, max_age='1d', force=False, now=None):
    if not isinstance(force, bool):
        raise AnsibleFilterError('discovery_due: force must be true or false, got %r; write hostcaps_force_discovery: true' % (force,))
    try:
        return due(facts, max_age, force=force, now=now)
    except ValueError as exc:
        raise AnsibleFilterError('discovery_due: %s' % exc)


class FilterModule(object):

    def filters(self):
        return {'discovery_due': discovery_due}
