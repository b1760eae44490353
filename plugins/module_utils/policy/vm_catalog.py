# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The policy catalog: resource classes, hardware traits, QoS and placement policies.

The catalog is plain inventory variables, a mapping with the optional lists
``resource_classes``, ``hardware_traits``, ``qos_policies`` and ``placement_policies``
(see docs/catalog.md). ``catalog_problems`` reports everything wrong with it as data,
all problems at once rather than the first one, so a role can show them together;
``index_catalog`` hands the decision engines the entries that have no error.

QoS policies are checked against libvirt's own ranges (the limits are in
``policy/qos.py``, which maps a policy to libvirt's names); what depends on the VM's
interfaces and the host's networks is checked by ``qos.interface_bandwidth_problems``
where both are known. Placement policies are checked for their keys, types and plainly
invalid values (a negative amount, an unknown strategy).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import math
import re

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.os_traits_names import OS_TRAITS
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.traits import CUSTOM_TRAIT_RE, HAS_JMESPATH, QueryError, compile_query
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import describe, short_repr
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy import qos as qos_limits

SECTIONS = ('resource_classes', 'hardware_traits', 'qos_policies', 'placement_policies')
SECTION_LABELS = {
    'resource_classes': 'resource class',
    'hardware_traits': 'hardware trait',
    'qos_policies': 'QoS policy',
    'placement_policies': 'placement policy',
}
NAME_RE = re.compile(r'^[A-Za-z0-9_.-]{1,64}$')
CUSTOM_RESOURCE_CLASS_RE = re.compile(r'^CUSTOM_[A-Z0-9_]+$')

# The standard names of os-resource-classes 1.1.0, in its order.
RESOURCE_CLASS_NAMES = (
    'VCPU', 'MEMORY_MB', 'DISK_GB', 'PCI_DEVICE', 'SRIOV_NET_VF', 'NUMA_SOCKET', 'NUMA_CORE',
    'NUMA_THREAD', 'NUMA_MEMORY_MB', 'IPV4_ADDRESS', 'VGPU', 'VGPU_DISPLAY_HEAD',
    'NET_BW_EGR_KILOBIT_PER_SEC', 'NET_BW_IGR_KILOBIT_PER_SEC', 'PCPU', 'MEM_ENCRYPTION_CONTEXT',
    'FPGA', 'PGPU', 'NET_PACKET_RATE_KILOPACKET_PER_SEC', 'NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC',
    'NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC',
)

# A resource class sets these with its own keys; in ``resources`` they would count twice.
SIZE_KEYS = {'VCPU': 'vcpus', 'MEMORY_MB': 'memory_mb', 'DISK_GB': 'disk_gb'}


# -- names -----------------------------------------------------------------------


def valid_trait_name(name):
    """True for an os-traits name or a ``CUSTOM_[A-Z0-9_]+`` one."""
    return isinstance(name, str) and (name in OS_TRAITS or bool(CUSTOM_TRAIT_RE.match(name)))


def suggest_trait(name):
    """The os-traits name closest to a misspelled one, or None when none is close."""
    if not isinstance(name, str) or len(name) > 128:
        return None
    spelled = re.sub(r'[^A-Z0-9_]', '_', name.strip().upper())
    if spelled in OS_TRAITS:
        return spelled
    matches = difflib.get_close_matches(spelled, sorted(OS_TRAITS), n=1, cutoff=0.8)
    return matches[0] if matches else None


def valid_resource_class_name(name):
    """True for an os-resource-classes name or a ``CUSTOM_[A-Z0-9_]+`` one."""
    return isinstance(name, str) and (name in RESOURCE_CLASS_NAMES or bool(CUSTOM_RESOURCE_CLASS_RE.match(name)))


def _custom_name(name):
    text = re.sub(r'[^A-Z0-9_]', '_', short_repr(name, 64).strip("'").strip().upper())
    return text if text.startswith('CUSTOM_') else 'CUSTOM_' + text


def _did_you_mean(word, choices, cutoff=0.6):
    # difflib's cost grows with the product of the lengths: no name is longer than 64.
    if not isinstance(word, str) or len(word) > 64:
        return ''
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return 'did you mean %s?' % matches[0] if matches else ''


def _words(*parts):
    return ' '.join(part for part in parts if part)


# -- problems --------------------------------------------------------------------


class _Problems(object):
    """Collects the problems of one catalog entry, or of the catalog itself."""

    def __init__(self, section=None, name=None):
        self.section = section
        self.name = name
        self.items = []

    def add(self, field, code, text, severity='error'):
        where = field or 'catalog'
        if self.name is not None:
            where = '%s %s (%s)' % (SECTION_LABELS[self.section], short_repr(self.name), field)
        self.items.append({
            'section': self.section, 'name': self.name, 'field': field, 'code': code,
            'message': '%s: %s' % (where, text), 'severity': severity,
        })


def _join(field, key):
    key = key if isinstance(key, str) and len(key) <= 64 else short_repr(key, 40)
    return '%s.%s' % (field, key) if field else key


# -- checks: each is check(problems, field, value) and adds what is wrong ----------


def _whole(minimum, example):
    """An int (a bool is not one) >= minimum; None as minimum allows any int."""
    bound = '' if minimum is None else ' >= %d' % minimum

    def check(problems, field, value):
        if isinstance(value, bool) or not isinstance(value, int):
            problems.add(field, 'wrong_type', 'expected a whole number%s, got %s; write it without quotes, e.g. %s'
                         % (bound, describe(value), example))
        elif minimum is not None and value < minimum:
            problems.add(field, 'out_of_range', 'must be%s, got %d; e.g. %s' % (bound, value, example))
    return check


def _number(minimum, inclusive, example):
    """An int or float, finite, >= minimum (> minimum unless inclusive)."""
    bound = '%s %s' % ('>=' if inclusive else '>', minimum)

    def check(problems, field, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.add(field, 'wrong_type', 'expected a number %s, got %s; write it without quotes, e.g. %s'
                         % (bound, describe(value), example))
        elif (isinstance(value, float) and math.isinf(value)) or not (value >= minimum if inclusive else value > minimum):
            problems.add(field, 'out_of_range', 'must be a finite number %s, got %s; e.g. %s' % (bound, short_repr(value), example))
    return check


def _whole_in(low, high, example, element, unlimited=None):
    """An int in low..high, libvirt's range for ``element``; ``unlimited`` is one more
    value allowed, libvirt's "no limit"."""
    allowed = '%d..%d' % (low, high)
    if unlimited is not None:
        allowed = '%d (no limit) or %s' % (unlimited, allowed)

    def check(problems, field, value):
        if isinstance(value, bool) or not isinstance(value, int):
            problems.add(field, 'wrong_type', 'expected a whole number %s, got %s; write it without quotes, e.g. %s'
                         % (allowed, describe(value), example))
        elif value != unlimited and not low <= value <= high:
            problems.add(field, 'out_of_range', 'must be %s, libvirt\'s range for %s, got %d; e.g. %s'
                         % (allowed, element, value, example))
    return check


def _text(example, non_empty=False):
    def check(problems, field, value):
        if not isinstance(value, str):
            problems.add(field, 'wrong_type', 'expected a string, got %s; e.g. %s' % (describe(value), example))
        elif non_empty and not value.strip():
            problems.add(field, 'invalid_value', 'must not be empty; e.g. %s' % example)
    return check


def _flag(example):
    def check(problems, field, value):
        if not isinstance(value, bool):
            problems.add(field, 'wrong_type', 'expected true or false, got %s; e.g. %s' % (describe(value), example))
    return check


def _choice(choices, example):
    def check(problems, field, value):
        if not isinstance(value, str):
            problems.add(field, 'wrong_type', 'expected one of %s, got %s; e.g. %s' % (', '.join(choices), describe(value), example))
        elif value not in choices:
            problems.add(field, 'invalid_value', 'must be one of %s, got %s; %s'
                         % (', '.join(choices), short_repr(value), _words(_did_you_mean(value, choices), 'e.g. ' + example)))
    return check


def _list_of(item, example):
    def check(problems, field, value):
        if not isinstance(value, (list, tuple)):
            problems.add(field, 'wrong_type', 'expected a list, got %s; e.g. %s' % (describe(value), example))
            return
        for index, element in enumerate(value):
            item(problems, '%s[%d]' % (field, index), element)
    return check


def _mapping(what, fields, example, required=()):
    """A dict of the known ``fields`` (key -> check); a null value counts as not set."""
    def check(problems, field, value):
        if not isinstance(value, dict):
            problems.add(field, 'wrong_type', 'expected %s as a mapping, got %s; e.g. %s' % (what, describe(value), example))
            return
        for key in value:
            if key not in fields:
                problems.add(_join(field, key), 'unknown_key', 'unknown key %s in %s; %s the known keys are %s'
                             % (short_repr(key), what, _did_you_mean(key, fields) or 'remove it,', ', '.join(sorted(fields))))
        for key in required:
            if value.get(key) is None:
                problems.add(_join(field, key), 'missing_key', '%s is not set; %s needs %s, e.g. %s'
                             % (key, what, ', '.join(required), example))
        for key, key_check in fields.items():
            if value.get(key) is not None:
                key_check(problems, _join(field, key), value[key])
    return check


def _resource_map(amount, example):
    """A dict of resource class name -> amount, each amount checked by ``amount``."""
    def check(problems, field, value):
        if not isinstance(value, dict):
            problems.add(field, 'wrong_type', 'expected a mapping of resource class to amount, got %s; e.g. %s'
                         % (describe(value), example))
            return
        for key, key_value in value.items():
            where = _join(field, key)
            if not valid_resource_class_name(key):
                fix = _words(_did_you_mean(key, RESOURCE_CLASS_NAMES), 'for a resource of your own write %s' % _custom_name(key))
                problems.add(where, 'invalid_resource_class', '%s is neither an os-resource-classes name nor CUSTOM_[A-Z0-9_]+; %s' % (short_repr(key), fix))
            amount(problems, where, key_value)
    return check


def _trait_list(problems, field, value):
    key = field.rsplit('.', 1)[-1]
    if not isinstance(value, (list, tuple)):
        problems.add(field, 'wrong_type', 'expected a list of trait names, got %s; e.g. %s: [HW_CPU_X86_AVX2]' % (describe(value), key))
        return
    seen = set()
    for index, trait in enumerate(value):
        where = '%s[%d]' % (field, index)
        if not isinstance(trait, str):
            problems.add(where, 'wrong_type', 'expected a trait name, got %s; e.g. %s: [HW_CPU_X86_AVX2]' % (describe(trait), key))
        elif not valid_trait_name(trait):
            close = suggest_trait(trait)
            fix = _words(close and 'did you mean %s?' % close, 'for a trait of your own define %s in hardware_traits' % _custom_name(trait))
            problems.add(where, 'invalid_trait_name', '%s is neither an os-traits name nor CUSTOM_[A-Z0-9_]+; %s' % (short_repr(trait), fix))
        elif trait in seen:
            problems.add(where, 'duplicate_trait', '%s is listed twice; remove one' % short_repr(trait), severity='warning')
        if isinstance(trait, str):
            seen.add(trait)


def _trait_conflicts(problems, field, entry):
    required = entry.get('required_traits')
    forbidden = entry.get('forbidden_traits')
    if not isinstance(required, (list, tuple)) or not isinstance(forbidden, (list, tuple)):
        return
    required = set(trait for trait in required if isinstance(trait, str))
    for index, trait in enumerate(forbidden):
        if isinstance(trait, str) and trait in required:
            problems.add('%s.forbidden_traits[%d]' % (field, index), 'trait_required_and_forbidden',
                         '%s is both required and forbidden, so no host can match; keep it in one of the two lists' % trait)


def _entry_name(problems, field, value):
    if not isinstance(value, str):
        problems.add(field, 'wrong_type', 'expected a name string, got %s; e.g. name: small' % describe(value))
    elif not NAME_RE.match(value):
        problems.add(field, 'invalid_name', 'must be 1 to 64 letters, digits, _, . or -, got %s; e.g. name: %s'
                     % (short_repr(value), re.sub(r'[^A-Za-z0-9_.-]', '-', value)[:64] or 'small'))


def _custom_trait_name(problems, field, value):
    if not isinstance(value, str):
        problems.add(field, 'wrong_type', 'expected a trait name, got %s; e.g. name: CUSTOM_FAST_NIC' % describe(value))
    elif not CUSTOM_TRAIT_RE.match(value):
        why = ('%s is an os-traits name that host_traits derives itself; a hardware trait defines a new one' % value
               if value in OS_TRAITS else 'upper-case it and replace other characters with _')
        problems.add(field, 'invalid_trait_name', 'must match CUSTOM_[A-Z0-9_]+, got %s; %s, e.g. name: %s'
                     % (short_repr(value), why, _custom_name(value)))


def _query(problems, field, value):
    example = "query: 'sriov.physical_functions[?speed_mbps >= `25000`]'"
    if not isinstance(value, str):
        problems.add(field, 'wrong_type', 'expected a JMESPath string, got %s; quote it in YAML, e.g. %s' % (describe(value), example))
    elif not value.strip():
        problems.add(field, 'invalid_query', 'is empty; give a JMESPath over libvirt_host_caps and sriov, e.g. %s' % example)
    elif not HAS_JMESPATH:
        problems.add(field, 'unchecked_query', 'query %s was not compiled: the Python library jmespath is missing on the '
                     'controller; pip install jmespath' % short_repr(value), severity='warning')
    else:
        try:
            compile_query(value)
        except QueryError as exc:
            problems.add(field, 'invalid_query', 'query %s %s; fix the expression, paths start at '
                         'libvirt_host_caps or sriov and literals need backticks (`25000`)' % (short_repr(value), exc))


# -- sections --------------------------------------------------------------------


_DESCRIPTION = _text('description: General purpose')

_RESOURCE_CLASS = _mapping('a resource class', {
    'name': _entry_name,
    'vcpus': _whole(1, 'vcpus: 2'),
    'memory_mb': _whole(64, 'memory_mb: 4096'),
    'disk_gb': _whole(0, 'disk_gb: 20'),
    'resources': _resource_map(_whole(0, 'resources: {SRIOV_NET_VF: 1}'), 'resources: {SRIOV_NET_VF: 1}'),
    'required_traits': _trait_list,
    'forbidden_traits': _trait_list,
    'description': _DESCRIPTION,
}, '{name: small, vcpus: 2, memory_mb: 4096, disk_gb: 20}', required=('name', 'vcpus', 'memory_mb', 'disk_gb'))

_HARDWARE_TRAIT = _mapping('a hardware trait', {
    'name': _custom_trait_name,
    'query': _query,
    'description': _DESCRIPTION,
}, "{name: CUSTOM_FAST_NIC, query: 'sriov.physical_functions[?speed_mbps >= `25000`]'}", required=('name', 'query'))

# -- QoS policies: libvirt's ranges (policy/qos.py holds the limits and the citations) --

_Q = qos_limits


def _inbound_only(problems, field, value):
    problems.add(field, 'inbound_only', 'floor %s is a guaranteed minimum that libvirt gives to inbound traffic only; '
                 'move it to network.inbound.floor, or remove it' % short_repr(value))


def _bandwidth(direction):
    low, high = _Q.BANDWIDTH_RANGE
    units = {'average': 'KB/s', 'peak': 'KB/s', 'burst': 'KB', 'floor': 'KB/s'}
    fields = dict((key, _whole_in(low, high, '%s: %s' % (key, 1024 if key == 'burst' else 125000),
                                  '<bandwidth><%s %s> (%s)' % (direction, key, units[key])))
                  for key in _Q.BANDWIDTH_FIELDS[direction])
    if 'floor' not in fields:
        fields['floor'] = _inbound_only
    return _mapping('network.%s' % direction, fields, '{average: 125000, peak: 250000, burst: 1024}')


def _iotune_fields():
    fields = {}
    for key in _Q.IOTUNE_NUMBERS:
        if key.endswith('_max_length'):
            example = '%s: 10' % key
        elif 'bytes' in key:
            example = '%s: 104857600' % key
        else:
            example = '%s: 2000' % key
        fields[key] = _whole_in(0, _Q.IOTUNE_MAX, example, '<iotune><%s> (0 is no limit)' % key)
    fields[_Q.IOTUNE_GROUP_NAME] = _text('group_name: tenant-a', non_empty=True)
    return fields


_QOS_POLICY = _mapping('a QoS policy', {
    'name': _entry_name,
    'cpu': _mapping('cpu', {
        'shares': _whole_in(_Q.CPU_SHARES_RANGE[0], _Q.CPU_SHARES_RANGE[1], 'shares: 1024', '<cputune><shares>'),
        'period': _whole_in(_Q.CPU_PERIOD_RANGE[0], _Q.CPU_PERIOD_RANGE[1], 'period: 100000', '<cputune><period> (microseconds)'),
        'quota': _whole_in(_Q.CPU_QUOTA_RANGE[0], _Q.CPU_QUOTA_RANGE[1], 'quota: 50000, or quota: -1 for no limit',
                           '<cputune><quota> (microseconds)', unlimited=_Q.CPU_QUOTA_UNLIMITED),
    }, '{shares: 1024, period: 100000, quota: 50000}'),
    'memory': _mapping('memory', dict(
        (key, _whole_in(1, _Q.MEMORY_LIMIT_MAX_MB, '%s: 4096' % key, '<memtune><%s> in MiB; leave the key out for no limit' % element))
        for key, element in _Q.MEMTUNE_FIELDS), '{soft_limit_mb: 4096}'),
    'disk': _mapping('disk', _iotune_fields(), '{total_iops_sec: 1000}'),
    'blkio_weight': _whole_in(_Q.BLKIO_WEIGHT_RANGE[0], _Q.BLKIO_WEIGHT_RANGE[1], 'blkio_weight: 500', '<blkiotune><weight>'),
    'network': _mapping('network', {'inbound': _bandwidth('inbound'), 'outbound': _bandwidth('outbound')},
                        '{inbound: {average: 125000}}'),
    'description': _DESCRIPTION,
}, '{name: gold, cpu: {shares: 2048}}', required=('name',))


def _number_at(mapping, key):
    """mapping[key] when it is a whole number (a bool is none), else None: a value of the
    wrong type has its own problem already."""
    value = mapping.get(key) if isinstance(mapping, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _qos_memory(problems, field, memory):
    hard = _number_at(memory, 'hard_limit_mb')
    swap = _number_at(memory, 'swap_hard_limit_mb')
    if hard is not None and swap is not None and swap < hard:
        problems.add(field + '.swap_hard_limit_mb', 'swap_below_hard_limit', 'swap_hard_limit_mb %d is below hard_limit_mb %d; '
                     'it is memory plus swap, so libvirt refuses it below the memory limit: raise it to %d or more, or '
                     'remove it' % (swap, hard, hard))
    if hard is not None:
        # formatdomain.html#memory-tuning: QEMU's own overhead cannot be known in advance.
        problems.add(field + '.hard_limit_mb', 'hard_limit_advised_against', 'hard_limit_mb %d: libvirt advises against a '
                     'hard limit for QEMU/KVM guests unless their memory is locked (<memoryBacking><locked/>), because the '
                     'kernel kills a guest whose QEMU process, guest RAM plus an overhead nobody can compute, outgrows it; '
                     'use soft_limit_mb, or keep hard_limit_mb for locked guests with ample room above their memory'
                     % hard, severity='warning')


def _qos_disk(problems, field, disk):
    # A value out of range has its problem already; here it counts as not set.
    value = dict((key, _number_at(disk, key) or 0) for key in _Q.IOTUNE_NUMBERS)
    value = dict((key, number if 0 <= number <= _Q.IOTUNE_MAX else 0) for key, number in value.items())
    for kind in ('bytes_sec', 'iops_sec', 'bytes_sec_max', 'iops_sec_max'):
        total = 'total_' + kind
        both = [key for key in ('read_' + kind, 'write_' + kind) if value[key]]
        if value[total] and both:
            problems.add('%s.%s' % (field, total), 'exclusive_fields', '%s cannot be set with %s (libvirt\'s <iotune>): '
                         'keep %s alone, or remove it and keep %s' % (total, ' and '.join(both), total, ' and '.join(both)))
    for rate in _Q.IOTUNE_RATES:
        burst, length = rate + '_max', rate + '_max_length'
        if value[burst] and not value[rate]:
            problems.add('%s.%s' % (field, burst), 'burst_needs_rate', '%s %d is a burst above %s, which is not set; libvirt '
                         'and QEMU refuse a burst without its rate: set %s too, or remove %s'
                         % (burst, value[burst], rate, rate, burst))
        elif value[burst] and value[burst] < value[rate]:
            problems.add('%s.%s' % (field, burst), 'burst_below_rate', '%s %d is below %s %d; a burst must be at least the '
                         'rate it rises above: raise it to %d or more, or remove it'
                         % (burst, value[burst], rate, value[rate], value[rate]))
        if value[length] and not value[burst]:
            problems.add('%s.%s' % (field, length), 'burst_length_needs_burst', '%s %d is the length of the %s burst, which '
                         'is not set; set %s too, or remove %s' % (length, value[length], burst, burst, length))
        elif value[length] and value[burst] * value[length] > _Q.IOTUNE_MAX:
            problems.add('%s.%s' % (field, length), 'out_of_range', '%s %d times %s %d is above QEMU\'s limit of %d for a '
                         'burst; shorten the burst to %d seconds or less'
                         % (length, value[length], burst, value[burst], _Q.IOTUNE_MAX, _Q.IOTUNE_MAX // value[burst]))


def _qos_network(problems, field, network):
    for direction in _Q.BANDWIDTH_DIRECTIONS:
        rates = network.get(direction) if isinstance(network, dict) else None
        if not isinstance(rates, dict) or rates.get('average') is not None:
            continue
        for key in ('peak', 'burst'):
            if rates.get(key) is not None:
                problems.add('%s.%s.%s' % (field, direction, key), 'needs_average', '%s is set without average; libvirt '
                             'shapes %s traffic to an average rate first and takes peak and burst above it: set '
                             '%s.average too, e.g. average: 125000' % (key, direction, direction))


def _qos_policy(problems, field, entry):
    _QOS_POLICY(problems, field, entry)
    if not isinstance(entry, dict):
        return
    if isinstance(entry.get('memory'), dict):
        _qos_memory(problems, field + '.memory', entry['memory'])
    weight = _number_at(entry, 'blkio_weight')
    if weight is not None and _Q.BLKIO_WEIGHT_RANGE[0] <= weight < _Q.BLKIO_WEIGHT_SCHEMA_MIN:
        problems.add(field + '.blkio_weight', 'blkio_weight_below_100', 'blkio_weight %d works on Linux 2.6.39 and later '
                     '(cgroup v1 blkio.weight before it, and libvirt\'s domain schema, take 100..1000): vm_qos can set '
                     'it on such a host, but a domain XML with it fails virt-xml-validate; use 100 or more where that '
                     'matters' % weight, severity='warning')
    if isinstance(entry.get('disk'), dict):
        _qos_disk(problems, field + '.disk', entry['disk'])
    if isinstance(entry.get('network'), dict):
        _qos_network(problems, field + '.network', entry['network'])


_MEMBERS_EXAMPLE = "members: ['web-*']"

_GROUP = _mapping('an affinity group', {
    'name': _text('name: web', non_empty=True),
    'hard': _flag('hard: true'),
    'max_per_host': _whole(1, 'max_per_host: 1'),
    'members': _list_of(_text(_MEMBERS_EXAMPLE, non_empty=True), _MEMBERS_EXAMPLE),
}, '{name: web, hard: true, max_per_host: 1}', required=('name',))

_HOSTS_EXAMPLE = "hosts: [hv1, 'rack2-*']"

_PLACEMENT_POLICY = _mapping('a placement policy', {
    'name': _entry_name,
    'strategy': _choice(('spread', 'pack'), 'strategy: spread'),
    'allocation_ratios': _resource_map(_number(0, False, 'allocation_ratios: {VCPU: 4.0}'), 'allocation_ratios: {VCPU: 4.0}'),
    'reserved': _resource_map(_number(0, True, 'reserved: {MEMORY_MB: 2048}'), 'reserved: {MEMORY_MB: 2048}'),
    'required_traits': _trait_list,
    'forbidden_traits': _trait_list,
    'hosts': _list_of(_text(_HOSTS_EXAMPLE, non_empty=True), _HOSTS_EXAMPLE),
    'affinity': _list_of(_GROUP, 'affinity: [{name: db, hard: false}]'),
    'anti_affinity': _list_of(_GROUP, 'anti_affinity: [{name: web, hard: true, max_per_host: 1}]'),
    'allow_unconfirmed': _flag('allow_unconfirmed: false'),
    'description': _DESCRIPTION,
}, '{name: default, strategy: spread}', required=('name',))


def _resource_class(problems, field, entry):
    _RESOURCE_CLASS(problems, field, entry)
    if not isinstance(entry, dict):
        return
    _trait_conflicts(problems, field, entry)
    resources = entry.get('resources')
    if isinstance(resources, dict):
        for key in resources:
            if key in SIZE_KEYS:
                problems.add('%s.resources.%s' % (field, key), 'invalid_value', '%s is set by %s; remove it from resources'
                             % (key, SIZE_KEYS[key]))


def _placement_policy(problems, field, entry):
    _PLACEMENT_POLICY(problems, field, entry)
    if not isinstance(entry, dict):
        return
    _trait_conflicts(problems, field, entry)
    # A VM joins a group by its name alone, so one name must mean one group.
    seen = {}
    for kind in ('affinity', 'anti_affinity'):
        groups = entry.get(kind)
        for index, group in enumerate(groups if isinstance(groups, (list, tuple)) else ()):
            name = group.get('name') if isinstance(group, dict) else None
            if not isinstance(name, str) or not name.strip():
                continue
            where = '%s.%s[%d].name' % (field, kind, index)
            if name in seen:
                problems.add(where, 'duplicate_name', 'group %s is also %s; a VM joins a group by name, so give each group '
                             'its own name' % (short_repr(name), seen[name]))
            else:
                seen[name] = '%s.%s[%d]' % (field, kind, index)


ENTRY_CHECKS = {
    'resource_classes': _resource_class,
    'hardware_traits': _HARDWARE_TRAIT,
    'qos_policies': _qos_policy,
    'placement_policies': _placement_policy,
}


def _entry_problems(section, index, entry):
    name = entry.get('name') if isinstance(entry, dict) else None
    problems = _Problems(section, name if isinstance(name, str) else None)
    ENTRY_CHECKS[section](problems, '%s[%d]' % (section, index), entry)
    return problems.items


def _entries(catalog, section):
    """The entries of a section as (index, entry), none when it is missing or not a list."""
    entries = catalog.get(section) if isinstance(catalog, dict) else None
    return list(enumerate(entries)) if isinstance(entries, (list, tuple)) else []


# -- entry points ----------------------------------------------------------------


def catalog_problems(catalog):
    """Every problem of the catalog as ``{section, name, field, code, message, severity}``;
    an empty list when it is valid. None is an empty catalog."""
    if catalog is None:
        return []
    top = _Problems()
    if not isinstance(catalog, dict):
        top.add(None, 'wrong_type', 'expected a mapping with any of %s, got %s; e.g. {resource_classes: [...]}'
                % (', '.join(SECTIONS), describe(catalog)))
        return top.items
    for key in catalog:
        if key not in SECTIONS:
            top.add(_join(None, key), 'unknown_key', 'unknown section %s; %s'
                    % (short_repr(key), _words(_did_you_mean(key, SECTIONS), 'a catalog has %s' % ', '.join(SECTIONS))))
    problems = top.items
    for section in SECTIONS:
        entries = catalog.get(section)
        if entries is not None and not isinstance(entries, (list, tuple)):
            section_problems = _Problems(section)
            section_problems.add(section, 'wrong_type', 'expected a list of entries with a name, got %s; write each %s as a list item '
                                 '(- name: ...)' % (describe(entries), SECTION_LABELS[section]))
            problems.extend(section_problems.items)
            continue
        first = {}
        for index, entry in _entries(catalog, section):
            problems.extend(_entry_problems(section, index, entry))
            name = entry.get('name') if isinstance(entry, dict) else None
            if not isinstance(name, str):
                continue
            if name in first:
                duplicate = _Problems(section, name)
                duplicate.add('%s[%d].name' % (section, index), 'duplicate_name', 'the name is also used by %s[%d]; names in %s '
                              'must be unique, rename one' % (section, first[name], section))
                problems.extend(duplicate.items)
            else:
                first[name] = index
    return problems


def qos_policy_problems(policy, field='policy', require_name=True):
    """The problems of one QoS policy given on its own, such as vm_qos's ``policy``
    option, as ``catalog_problems`` words them, with ``field`` in place of
    ``qos_policies[<index>]``. Without ``require_name``, a policy may have no name (one
    written inline rather than taken from the catalog)."""
    name = policy.get('name') if isinstance(policy, dict) else None
    problems = _Problems('qos_policies', name if isinstance(name, str) else None)
    _qos_policy(problems, field, policy)
    if not require_name:
        return [problem for problem in problems.items if (problem['code'], problem['field']) != ('missing_key', field + '.name')]
    return problems.items


class Catalog(object):
    """The catalog entries that have no error, by name (the first one when a name repeats).

    ``hardware_traits`` is a list of (name, query) pairs, the form
    ``traits.normalize_custom_traits`` returns; ``dict(catalog.hardware_traits)`` is a
    ``custom_traits`` argument for ``traits.derive_traits``.
    """

    def __init__(self, resource_classes=None, hardware_traits=None, qos_policies=None, placement_policies=None):
        self.resource_classes = resource_classes or {}
        self.hardware_traits = hardware_traits or []
        self.qos_policies = qos_policies or {}
        self.placement_policies = placement_policies or {}
        self._group_names = {}

    def group_names(self, policy_name):
        """The names of the affinity and anti-affinity groups of placement policy
        ``policy_name`` (none when there is no such policy), worked out once per policy:
        every VM that joins a group is checked against them."""
        found = self._group_names.get(policy_name)
        if found is None:
            policy = self.placement_policies.get(policy_name) or {}
            found = self._group_names[policy_name] = frozenset(
                group['name'] for kind in ('affinity', 'anti_affinity') for group in policy.get(kind) or ())
        return found

    def __repr__(self):
        return 'Catalog(resource_classes=%r, hardware_traits=%r, qos_policies=%r, placement_policies=%r)' % (
            sorted(self.resource_classes), [name for name, dummy in self.hardware_traits],
            sorted(self.qos_policies), sorted(self.placement_policies))


def index_catalog(catalog):
    """A ``Catalog`` of the entries without errors; ``catalog_problems`` says what the
    others lack. None, or anything that is not a mapping, is an empty catalog."""
    sections = {}
    for section in SECTIONS:
        valid = {}
        for index, entry in _entries(catalog, section):
            problems = _entry_problems(section, index, entry)
            if any(problem['severity'] == 'error' for problem in problems) or entry['name'] in valid:
                continue
            valid[entry['name']] = entry
        sections[section] = valid
    return Catalog(
        resource_classes=sections['resource_classes'],
        hardware_traits=[(name, entry['query']) for name, entry in sections['hardware_traits'].items()],
        qos_policies=sections['qos_policies'],
        placement_policies=sections['placement_policies'],
    )
