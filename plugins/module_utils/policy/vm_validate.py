# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation of VM definitions: each on its own (vm_spec), then against the hosts
(vm_hosts). The engine behind the ``vm_validate`` filter.

Hosts are indexed once. VMs that ask the same of a host (everything but their names) share
one verdict, and a VM that one host fully satisfies costs a scan up to that host only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_catalog import catalog_problems, index_catalog
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_hosts import HostIndex
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_spec import check_vm, duplicate_names, problem

CATALOG_KEYS = ('resource_classes', 'hardware_traits', 'qos_policies', 'placement_policies')


class InputError(ValueError):
    """The input as a whole cannot be validated; the message names the path."""


def _catalog(catalog, problems):
    if catalog is None:
        return index_catalog(None)
    if not isinstance(catalog, dict):
        raise InputError('catalog must be a mapping with the keys %s, got %s; pass catalog={"resource_classes": '
                         'hostcaps_resource_classes, ...}' % (', '.join(CATALOG_KEYS), type(catalog).__name__))
    for found in catalog_problems(catalog):
        problems.append(problem(None, 'catalog.%s' % found['field'], found['code'], found['message'], found['severity']))
    return index_catalog(catalog)


def _signature(vm):
    return json.dumps(dict((key, value) for key, value in vm.items() if key != 'name'), sort_keys=True)


def _verdict(index, vm):
    """The host-side problem of ``vm`` without its name, or None when some host satisfies it."""
    if index.first_pass(vm) is not None:
        return None
    results = index.check(vm)
    if not results:
        return ('no_hosts', 'no host to check against: hosts is empty', 'error', {})
    per_host = dict((host, {'code': code, 'field': field, 'message': message}) for host, dummy, code, field, message in results)
    unknown = sum(1 for result in results if result[1] == 'unknown')
    if unknown:
        return ('no_host_confirmed', 'no host is known to satisfy this VM: %d host(s) cannot confirm a requirement, %d fail one'
                % (unknown, len(results) - unknown), 'warning', per_host)
    return ('no_host_fits', '0 of %d hosts satisfy this VM; each host lists the first requirement it fails' % len(results), 'error',
            per_host)


def validate_vms(vms, catalog=None, hosts=None):
    """Problems of ``vms`` (a list of VM definitions); an empty list means valid.

    ``catalog``: {resource_classes, hardware_traits, qos_policies, placement_policies}.
    ``hosts``: host name -> that host's facts (hostvars[h].ansible_facts). Raises InputError
    for input that cannot be validated at all (the message names the path).
    """
    if not isinstance(vms, list):
        raise InputError('the VM definitions must be a list of mappings, got %s; pass a list such as hostcaps_vms'
                         % ('null' if vms is None else type(vms).__name__))
    problems = []
    index_of_catalog = _catalog(catalog, problems)
    resolved = [check_vm(vm, position, index_of_catalog, problems) for position, vm in enumerate(vms)]
    duplicates = duplicate_names(vms, problems)
    if hosts is None:
        return problems
    if not isinstance(hosts, dict):
        raise InputError('hosts must map host names to their facts (hostvars[host].ansible_facts), got %s'
                         % type(hosts).__name__)
    try:
        index = HostIndex(hosts, index_of_catalog.hardware_traits)
    except ValueError as exc:
        raise InputError(str(exc))
    verdicts = {}
    for vm in resolved:
        if vm is None or vm['name'] in duplicates:
            continue
        signature = _signature(vm)
        if signature not in verdicts:
            verdicts[signature] = _verdict(index, vm)
        found = verdicts[signature]
        if found is not None:
            code, message, severity, per_host = found
            problems.append(problem(vm['name'], 'hosts', code, message, severity, dict(per_host)))
    return problems
