# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``compliance_evaluate`` filter; the engine lives in ``module_utils/policy/compliance.py``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import plain_arguments
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.compliance import RuleError, evaluate


@plain_arguments(AnsibleFilterError)
def compliance_evaluate(hosts, rules=None, waivers=None, groups=None, now=None, max_age=86400, fail_on='error'):
    try:
        return evaluate(hosts, rules=rules, waivers=waivers, groups=groups, now=now, max_age=max_age, fail_on=fail_on)
    except RuleError as exc:
        raise AnsibleFilterError('compliance_evaluate: %s' % exc)


class FilterModule(object):

    def filters(self):
        return {'compliance_evaluate': compliance_evaluate}
