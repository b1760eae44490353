# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``vm_validate`` filter; the checks live in ``module_utils/vm_spec.py`` (a VM on its
own) and ``module_utils/vm_hosts.py`` (a VM against hosts' facts)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_validate import InputError, validate_vms
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import plain_arguments


@plain_arguments(AnsibleFilterError)
def vm_validate(vms, catalog=None, hosts=None, detail='first', gathered=None):
    try:
        return validate_vms(vms, catalog=catalog, hosts=hosts, detail=detail, gathered=gathered)
    except (InputError, ImportError) as exc:
        raise AnsibleFilterError('vm_validate: %s' % exc)


class FilterModule(object):

    def filters(self):
        return {'vm_validate': vm_validate}
