# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resource inventory of a host, derived from its ``libvirt_host_caps`` (and ``sriov``) facts.

Classes are the os-resource-classes names. Each entry is
``{total, reserved, used, allocation_ratio}``; what a placement may still hand out is
``(total - reserved) * allocation_ratio - used``. A class whose total is unknown is left
out rather than reported as zero, so "no data" never reads as "no capacity".
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.fact_shape import check_facts
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.facts_input import dig
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import describe, short_repr

RESOURCE_CLASSES = ('VCPU', 'PCPU', 'MEMORY_MB', 'DISK_GB', 'MEM_ENCRYPTION_CONTEXT', 'SRIOV_NET_VF', 'PGPU')
DEFAULT_ALLOCATION_RATIO = 1.0
# Amounts and ratios as users write them in strings: ASCII digits only, no more than
# a 64-bit count has (int() refuses beyond 4300 digits, str.isdigit() takes '²').
_WHOLE_RE = re.compile(r'^\s*[0-9]{1,19}\s*$')
_DECIMAL_RE = re.compile(r'^\s*[0-9]{1,19}(\.[0-9]{1,19})?\s*$')
MAX_AMOUNT = 2 ** 63 - 1


def _count(value):
    """A non-negative int, or None (bool is not a count)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


# -- per class: (total, used) or None when the total is unknown ----------------------


def _domains_hold(facts, key, running_key):
    """What the host's domains hold: every domain listed, defined or running (a stopped
    domain takes its share again when it starts); the running total when only that is
    known; 0 when the domains were not read."""
    listed = dig(facts, 'virt_info', 'domains', 'list')
    if isinstance(listed, list):
        return sum(_count(domain.get(key)) or 0 for domain in listed if isinstance(domain, dict))
    return _count(dig(facts, 'virt_info', 'domains', running_key)) or 0


def vcpu(facts, sriov):
    total = _count(dig(facts, 'host_info', 'online_cpus'))
    if total is None:
        return None
    return total, _domains_hold(facts, 'vcpus', 'vcpus_running')


def pcpu(facts, sriov):
    """Dedicated CPUs: none. Every online CPU is inventoried as VCPU; carving a
    dedicated set out of them is a host configuration this collection does not read."""
    if _count(dig(facts, 'host_info', 'online_cpus')) is None:
        return None
    return 0, 0


def host_memory_mb(facts):
    """The host's memory in MiB, as ``MEMORY_MB`` and ``vm_validate`` count it:
    ``memory_info.total_mb`` (the kernel's MemTotal when gathered on the host, see
    ``memory_info.total_mb_source``), else ``host_info.memory_mb``; None when unknown."""
    total = _count(dig(facts, 'memory_info', 'total_mb'))
    return total if total is not None else _count(dig(facts, 'host_info', 'memory_mb'))


def memory_mb(facts, sriov):
    total = host_memory_mb(facts)
    if total is None:
        return None
    return total, _domains_hold(facts, 'memory_mb', 'memory_mb_running')


def disk_gb(facts, sriov):
    """Active storage pools, in whole GiB (rounded down: never promise a partial GiB)."""
    pools = dig(facts, 'storage_info', 'pools')
    if not isinstance(pools, list):
        return None
    active = [p for p in pools if isinstance(p, dict) and p.get('active') is True]
    sized = [p for p in active if _number(p.get('capacity_gb')) is not None]
    if active and not sized:
        return None
    total = sum(_number(p['capacity_gb']) for p in sized)
    used = sum(_number(p.get('allocation_gb')) or 0 for p in sized)
    return int(math.floor(total)), int(math.floor(used))


def mem_encryption_context(facts, sriov):
    """SEV guests the platform can run at once (ASIDs); SEV-ES has its own, smaller
    pool that os-resource-classes does not name, so it is not inventoried."""
    sev = dig(facts, 'security_info', 'sev') or {}
    if sev.get('supported') is not True:
        return None
    total = _count(sev.get('max_guests'))
    return None if total is None else (total, 0)


def sriov_net_vf(facts, sriov):
    """The VFs that exist; those a domain uses are used. ``free_vfs`` is unknown when
    ``sriov_facts`` ran without a libvirt URI, and then none is counted as used."""
    total = _count(dig(sriov, 'summary', 'total_vfs'))
    if total is None:
        return None
    free = _count(dig(sriov, 'summary', 'free_vfs'))
    return total, (total - free if free is not None else 0)


def pgpu(facts, sriov):
    """GPUs and 3D controllers a VM may be given: passthrough candidates only, so not
    the host's console or a GPU without an IOMMU; those a domain uses are used."""
    devices = dig(sriov, 'passthrough_devices')
    if not isinstance(devices, list):
        return None
    gpus = [d for d in devices if isinstance(d, dict) and d.get('kind') == 'gpu' and d.get('candidate') is True]
    return len(gpus), len([d for d in gpus if d.get('assigned_to')])


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


CLASSES = (
    ('VCPU', vcpu), ('PCPU', pcpu), ('MEMORY_MB', memory_mb), ('DISK_GB', disk_gb),
    ('MEM_ENCRYPTION_CONTEXT', mem_encryption_context), ('SRIOV_NET_VF', sriov_net_vf),
    ('PGPU', pgpu),
)


# -- overrides -------------------------------------------------------------------


def _check_classes(option, values):
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ValueError(
            '%s: expected a mapping of resource class to value such as {VCPU: 4.0}, got %s'
            % (option, describe(values)))
    for name in values:
        if name not in RESOURCE_CLASSES:
            raise ValueError(
                '%s: unknown resource class %s; use one of %s'
                % (option, short_repr(name), ', '.join(RESOURCE_CLASSES)))
    return values


def validate_allocation_ratios(allocation_ratios):
    """``{class: ratio}`` as floats; a ratio must be a number > 0."""
    ratios = {}
    for name, value in _check_classes('allocation_ratios', allocation_ratios).items():
        ratio = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            ratio = float(value)
        elif isinstance(value, str) and _DECIMAL_RE.match(value):
            ratio = float(value)
        if ratio is None or math.isnan(ratio) or math.isinf(ratio) or ratio <= 0:
            raise ValueError(
                'allocation_ratios[%s]: %s is not a positive number; give a ratio such as 1.0 '
                '(no overcommit) or 4.0' % (name, short_repr(value)))
        ratios[name] = ratio
    return ratios


def validate_reserved(reserved):
    """``{class: amount}`` as ints; an amount must be a whole number >= 0."""
    amounts = {}
    for name, value in _check_classes('reserved', reserved).items():
        amount = None
        if isinstance(value, int) and not isinstance(value, bool):
            amount = value
        elif isinstance(value, float) and value.is_integer():
            amount = int(value)
        elif isinstance(value, str) and _WHOLE_RE.match(value):
            amount = int(value)
        if amount is None or not 0 <= amount <= MAX_AMOUNT:
            raise ValueError(
                'reserved[%s]: %s is not a whole number from 0 to 2**63-1; give the amount in the class unit '
                '(MEMORY_MB in MiB, DISK_GB in GiB), e.g. reserved: {MEMORY_MB: 2048}' % (name, short_repr(value)))
        amounts[name] = amount
    return amounts


# -- entry point -----------------------------------------------------------------


def derive_resources(facts, sriov=None, allocation_ratios=None, reserved=None):
    """``{class: {total, reserved, used, allocation_ratio}}`` for every class whose
    total the facts tell. Raises ValueError on a bad ratio or reserved amount, and
    MalformedFacts (a ValueError) naming the path of a fact of the wrong type."""
    ratios = validate_allocation_ratios(allocation_ratios)
    amounts = validate_reserved(reserved)
    facts = facts if isinstance(facts, dict) else {}
    sriov = sriov if isinstance(sriov, dict) else None
    check_facts(facts, sriov)
    inventory = {}
    for name, measure in CLASSES:
        measured = measure(facts, sriov)
        if measured is None:
            continue
        total, used = measured
        inventory[name] = {
            'total': total,
            'reserved': amounts.get(name, 0),
            'used': used,
            'allocation_ratio': ratios.get(name, DEFAULT_ALLOCATION_RATIO),
        }
    return inventory
