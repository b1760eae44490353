# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``fleet_report`` filter; the model lives in ``module_utils/report/fleet.py``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import plain_arguments
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report.fleet import build_fleet


@plain_arguments(AnsibleFilterError)
def fleet_report(hosts, drift=None, drift_since=None, max_age=None, generated_at=None, title=None, hardware_traits=None):
    try:
        return build_fleet(hosts, drift=drift, drift_since=drift_since, max_age=max_age, now=generated_at,
                           custom_traits=hardware_traits, title=title)
    except (ValueError, ImportError) as exc:
        raise AnsibleFilterError('fleet_report: %s' % exc)


class FilterModule(object):

    def filters(self):
        return {'fleet_report': fleet_report}
