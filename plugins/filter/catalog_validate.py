# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``catalog_validate`` filter; the rules live in ``module_utils/vm_catalog.py``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from jinja2 import Undefined

from ansible.errors import AnsibleFilterError

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_catalog import catalog_problems
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import plain_arguments


@plain_arguments(AnsibleFilterError)
def catalog_validate(catalog):
    # Older ansible-core hands an undefined variable to the filter instead of failing;
    # it has no value to describe, so it is an error rather than a problem.
    if isinstance(catalog, Undefined):
        raise AnsibleFilterError(
            'catalog_validate: the catalog is undefined; define it in group_vars, or pass '
            "an empty one with default({}) where no catalog is expected")
    return catalog_problems(catalog)


class FilterModule(object):

    def filters(self):
        return {'catalog_validate': catalog_validate}
