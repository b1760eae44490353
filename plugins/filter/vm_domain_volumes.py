# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``vm_domain_volumes`` filter; the engine lives in ``module_utils/policy/domain_build.py``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.domain_build import domain_volumes
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_validate import InputError
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import plain_arguments


@plain_arguments(AnsibleFilterError)
def vm_domain_volumes(vm, host=None, catalog=None, placement=None, host_name=None):
    try:
        return domain_volumes(vm, host, catalog=catalog, placement=placement, host_name=host_name)
    except (InputError, ImportError) as exc:
        raise AnsibleFilterError('vm_domain_volumes: %s' % exc)


class FilterModule(object):

    def filters(self):
        return {'vm_domain_volumes': vm_domain_volumes}
