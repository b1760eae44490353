# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``discovery_summary`` filter; the rules live in ``module_utils/policy/discovery.py``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import plain_arguments
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.discovery import (
    DEFAULT_CHANGE_PATHS, discovery_summary as summarize,
)


@plain_arguments(AnsibleFilterError)
def discovery_summary(hosts, max_paths=DEFAULT_CHANGE_PATHS, check_mode=False):
    if isinstance(max_paths, bool) or not isinstance(max_paths, int) or max_paths < 0:
        raise AnsibleFilterError('discovery_summary: max_paths must be a whole number of 0 or more, got %r' % (max_paths,))
    try:
        return summarize(hosts, max_paths=max_paths, check_mode=bool(check_mode))
    except ValueError as exc:
        raise AnsibleFilterError('discovery_summary: %s' % exc)


class FilterModule(object):

    def filters(self):
        return {'discovery_summary': discovery_summary}
