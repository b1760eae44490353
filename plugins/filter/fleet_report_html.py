# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``fleet_report_html`` filter: the model of ``module_utils/report/fleet.py`` drawn by
``module_utils/report/fleet_html.py``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import plain_arguments
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report.fleet import build_fleet
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report.fleet_html import render_fleet


@plain_arguments(AnsibleFilterError)
def fleet_report_html(hosts, drift=None, drift_since=None, max_age=None, generated_at=None, title=None, hardware_traits=None):
    try:
        return render_fleet(build_fleet(hosts, drift=drift, drift_since=drift_since, max_age=max_age, now=generated_at,
                                        custom_traits=hardware_traits, title=title))
    except (ValueError, ImportError) as exc:
        raise AnsibleFilterError('fleet_report_html: %s' % exc)


class FilterModule(object):

    def filters(self):
        return {'fleet_report_html': fleet_report_html}
