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
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import describe, short_name, type_name

CATALOG_KEYS = ('resource_classes', 'hardware_traits', 'qos_policies', 'placement_policies')
DETAILS = ('first', 'all')


class InputError(ValueError):
    """The input as a whole cannot be validated; the message names the path."""


def _catalog(catalog, problems):
    if catalog is None:
        return index_catalog(None)
    if not isinstance(catalog, dict):
        raise InputError('catalog must be a mapping with the keys %s, got %s; pass catalog={"resource_classes": '
                         'hostcaps_resource_classes, ...}' % (', '.join(CATALOG_KEYS), type_name(catalog)))
    for found in catalog_problems(catalog):
        problems.append(problem(None, 'catalog.%s' % found['field'], found['code'], found['message'], found['severity']))
    return index_catalog(catalog)


# Fields that do not change what a VM asks of a host.
UNCHECKED_FIELDS = ('name', 'groups')


def signature(vm):
    """The part of a resolved VM that host checks read, as a string: VMs that share it
    share every verdict."""
    return json.dumps(dict((key, value) for key, value in vm.items() if key not in UNCHECKED_FIELDS), sort_keys=True)


def _verdict(index, vm, detail):
    """The host-side problem of ``vm`` without its name, or None when some host satisfies it."""
    if index.first_pass(vm) is not None:
        return None
    results = index.check(vm)
    if not results:
        return ('no_hosts', 'no host to check against: hosts is empty', 'error', {})
    per_host = dict((host, {'code': code, 'field': field, 'message': message}) for host, dummy, code, field, message in results)
    listed = 'the first requirement it fails'
    if detail == 'all':
        listed = 'every requirement it fails or cannot confirm'
        for host, found in index.check_all(vm).items():
            per_host[host]['requirements'] = [
                {'verdict': verdict, 'code': code, 'field': field, 'message': message} for verdict, code, field, message in found]
    unknown = sum(1 for result in results if result[1] == 'unknown')
    if unknown:
        return ('no_host_confirmed', 'no host is known to satisfy this VM: %d host(s) cannot confirm a requirement, %d fail one'
                % (unknown, len(results) - unknown), 'warning', per_host)
    return ('no_host_fits', '0 of %d hosts satisfy this VM; each host lists %s' % (len(results), listed), 'error', per_host)


def _skip_reason(name, missing, gathered):
    """Why host ``name`` has no facts: the result of the task that should have gathered
    them when the caller passes it (unreachable, failed), then what its facts lack."""
    result = gathered.get(name) if isinstance(gathered, dict) else None
    said = ''
    if isinstance(result, dict):
        message = str(result.get('msg') or '').strip()
        if result.get('unreachable'):
            said = 'unreachable (%s)' % (message or 'no message')
        elif result.get('failed'):
            said = 'gathering its facts failed (%s)' % (message or 'no message')
        elif result.get('skipped'):
            said = 'gathering its facts was skipped (%s)' % (result.get('false_condition') or result.get('skip_reason') or 'no reason given')
    return '%s; it has %s' % (said, missing) if said else 'it has %s' % missing


def _host_problems(index, gathered, problems):
    """Rows for hosts left out (no facts) and custom traits whose query failed on a host;
    False when no host is left to check the VMs against."""
    for name in sorted(index.skipped, key=str):
        problems.append(problem(
            None, 'hosts.%s' % short_name(name), 'host_skipped',
            'host %s is skipped, no VM is checked against it: %s. Gather its facts with virtumancer.hostcaps.libvirt_host_caps '
            '(or keep them in the factdb cache), or leave it out with --limit' % (name, _skip_reason(name, index.skipped[name], gathered)),
            'warning'))
    for name in sorted(index.malformed, key=str):
        problems.append(problem(
            None, 'hosts.%s' % short_name(name), 'host_facts_malformed',
            'host %s is left out, no VM is checked against it: its facts have values of the wrong type (%s). Gather its facts '
            'again with virtumancer.hostcaps.libvirt_host_caps and sriov_facts, or fix what wrote them to the cache'
            % (short_name(name), index.malformed[name])))
    for host, trait, message in index.trait_failures:
        problems.append(problem(None, 'hosts.%s' % short_name(host), 'trait_query_failed', message))
    if (index.skipped or index.malformed) and not index.hosts:
        problems.append(problem(
            None, 'hosts', 'no_host_facts', 'none of the %d host(s) has libvirt_host_caps facts, so no VM could be checked against '
            'a host (each is named above); gather them with virtumancer.hostcaps.libvirt_host_caps'
            % (len(index.skipped) + len(index.malformed))))
        return False
    return True


class Checked(object):
    """What validation leaves for the deciding engines: the problems so far, the resolved
    VMs (None where a VM has errors), the names used twice, and the index of the hosts
    (None without ``hosts``, or when no host has facts)."""

    __slots__ = ('problems', 'resolved', 'duplicates', 'index', 'catalog')


def check_input(vms, catalog=None, hosts=None, detail='first', gathered=None):
    """The VMs on their own and the hosts read, without the verdicts against hosts."""
    if not isinstance(vms, list):
        raise InputError('the VM definitions must be a list of mappings, got %s; pass a list such as hostcaps_vms'
                         % type_name(vms))
    if detail not in DETAILS:
        raise InputError('detail must be %s, got %s' % (' or '.join(DETAILS), describe(detail)))
    if gathered is not None and not isinstance(gathered, dict):
        raise InputError('gathered must map host names to the registered result of the task that gathers their facts, got %s'
                         % type_name(gathered))
    checked = Checked()
    checked.problems = []
    index_of_catalog = checked.catalog = _catalog(catalog, checked.problems)
    memo = {}
    checked.resolved = [check_vm(vm, position, index_of_catalog, checked.problems, memo) for position, vm in enumerate(vms)]
    checked.duplicates = duplicate_names(vms, checked.problems)
    checked.index = None
    if hosts is None:
        return checked
    if not isinstance(hosts, dict):
        raise InputError('hosts must map host names to their facts (hostvars[host].ansible_facts), got %s'
                         % type_name(hosts))
    try:
        index = HostIndex(hosts, index_of_catalog.hardware_traits)
    except ValueError as exc:
        raise InputError(str(exc))
    if _host_problems(index, gathered, checked.problems):
        checked.index = index
    return checked


def add_verdicts(checked, detail='first', satisfied=()):
    """Appends the verdict of every checkable VM against the hosts to the problems.
    ``satisfied``: names of VMs a host is already known to satisfy, which have none."""
    verdicts = {}
    for vm in checked.resolved:
        if vm is None or vm['name'] in checked.duplicates or vm['name'] in satisfied:
            continue
        key = signature(vm)
        if key not in verdicts:
            verdicts[key] = _verdict(checked.index, vm, detail)
        found = verdicts[key]
        if found is not None:
            code, message, severity, per_host = found
            checked.problems.append(problem(vm['name'], 'hosts', code, message, severity, dict(per_host)))


def validate_vms(vms, catalog=None, hosts=None, detail='first', gathered=None):
    """Problems of ``vms`` (a list of VM definitions); an empty list means valid.

    ``catalog``: {resource_classes, hardware_traits, qos_policies, placement_policies}.
    ``hosts``: host name -> that host's facts (hostvars[h].ansible_facts); a host without
    libvirt_host_caps facts is skipped with a ``host_skipped`` warning. ``detail``:
    ``first`` (each host's first failed requirement) or ``all`` (every one, in
    ``requirements``). ``gathered``: host name -> the registered result of the task that
    gathers its facts, to say why a host has none. Raises InputError for input that
    cannot be validated at all (the message names the path).
    """
    checked = check_input(vms, catalog, hosts, detail, gathered)
    if checked.index is not None:
        add_verdicts(checked, detail)
    return checked.problems
