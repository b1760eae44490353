# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shape of the facts that traits, resources and the VM checks read, and a check of
facts against it.

Facts read back from a shared cache, or handed in by a playbook, are untrusted input: a
list where a mapping belongs, a mapping where a name belongs. Each consumer checks the
shape of what it reads here, once, so its rules may rely on it and a host whose facts are
malformed is named with the path and the type found instead of failing somewhere inside
a rule. Every value may be null (unknown) or missing; a key not listed is not read, so
any value passes there.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import MAX_INT, format_path, type_name

# Leaf types: the type names of the messages (as YAML says them) -> the check.
INT, NUMBER, STRING, BOOL, PCI_ID, ANY = 'integer', 'number', 'string', 'boolean', 'string or integer', 'any'


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_INT


LEAVES = {
    INT: _is_int,
    NUMBER: lambda value: _is_int(value) or isinstance(value, float),
    STRING: lambda value: isinstance(value, str),
    BOOL: lambda value: isinstance(value, bool),
    PCI_ID: lambda value: isinstance(value, str) or _is_int(value),
    ANY: lambda value: True,
}


class ListOf(object):
    __slots__ = ('item',)

    def __init__(self, item):
        self.item = item


class MapOf(object):
    """A mapping of any string keys to values of one shape."""
    __slots__ = ('item',)

    def __init__(self, item):
        self.item = item


STRINGS = ListOf(STRING)
_SUPPORTED = {'supported': BOOL}
_ENUMS = dict(_SUPPORTED)

DOMAIN_CAPABILITIES_ENTRY = {
    'arch': STRING, 'machine': STRING, 'requested_machine': STRING, 'virttype': STRING, 'default_machine': BOOL,
    'max_vcpus': INT,
    'os': {'supported': BOOL, 'firmware': STRINGS,
           'loader': {'supported': BOOL, 'paths': STRINGS, 'secure': STRINGS}},
    'cpu': {'host_passthrough': BOOL, 'maximum': BOOL, 'custom_supported': BOOL,
            'host_model': {'supported': BOOL, 'name': STRING, 'required_features': STRINGS, 'disabled_features': STRINGS},
            'models': {'usable': STRINGS, 'unusable': STRINGS, 'unknown': STRINGS}},
    'devices': {
        'video': {'supported': BOOL, 'model_type': STRINGS},
        'filesystem': {'supported': BOOL, 'driver_type': STRINGS},
        'iommu': {'supported': BOOL, 'model': STRINGS},
        'disk': {'supported': BOOL, 'bus': STRINGS},
        'tpm': {'supported': BOOL, 'model': STRINGS, 'backend_model': STRINGS, 'backend_version': STRINGS},
    },
    'features': {
        'sev': {'supported': BOOL, 'max_guests': INT, 'max_es_guests': INT},
        'sev_snp': _SUPPORTED, 'tdx': _SUPPORTED,
        'launch_security': {'supported': BOOL, 'sectype': STRINGS},
    },
}

LIBVIRT_HOST_CAPS = {
    'schema_version': INT,
    'traits': STRINGS,
    'host_info': {'arch': STRING, 'cpu_vendor': STRING, 'cpu_model': STRING, 'hostname': STRING, 'threads': INT,
                  'online_cpus': INT, 'memory_mb': INT},
    'cpu_info': {
        'arch': STRING, 'vendor': STRING, 'model': STRING, 'features': STRINGS, 'features_source': STRING,
        'topology': {'threads': INT},
        'host_model': {'supported': BOOL, 'required_features': STRINGS},
        'guest_features': {'host_model': STRINGS, 'host_passthrough': STRINGS, 'custom': MapOf(STRINGS)},
    },
    'memory_info': {
        'total_mb': INT, 'page_sizes_kb': ListOf(INT), 'ksm': {'enabled': BOOL},
        'hugepages': ListOf({'size_kb': INT, 'total': INT, 'free': INT}),
    },
    'security_info': {
        'uefi': BOOL, 'secure_boot': BOOL, 'tdx': BOOL, 's390_pv': BOOL,
        'tpm': {'supported': BOOL, 'emulator': BOOL, 'models': STRINGS, 'version_1_2': BOOL, 'version_2_0': BOOL},
        'sev': {'supported': BOOL, 'es': BOOL, 'snp': BOOL, 'max_guests': INT},
        'sgx': _SUPPORTED,
        'iommu': _SUPPORTED,
    },
    'storage_info': {
        'disk_buses': STRINGS,
        'pools': ListOf({'name': STRING, 'active': BOOL, 'capacity_gb': NUMBER, 'allocation_gb': NUMBER,
                         'available_gb': NUMBER}),
    },
    'network_info': {'networks': ListOf({'name': STRING, 'active': BOOL})},
    'virt_info': {
        'kvm_available': BOOL, 'nested_virtualization': BOOL,
        'domains': {'vcpus_running': INT, 'memory_mb_running': INT},
        'guests': ListOf({'os_type': STRING, 'arch': STRING, 'domain_types': STRINGS,
                          'machines': ListOf({'name': STRING, 'canonical': STRING, 'max_cpus': INT})}),
    },
    'domain_capabilities': ListOf(DOMAIN_CAPABILITIES_ENTRY),
}

_PCI_DEVICE = {'address': STRING, 'vendor_id': PCI_ID, 'device_id': PCI_ID, 'kind': STRING, 'candidate': BOOL,
               'reason': STRING, 'trust': BOOL, 'assigned_to': ANY}

SRIOV = {
    'summary': {'capable': BOOL, 'total_vfs': INT, 'free_vfs': INT, 'assignments_known': BOOL},
    'virtual_functions': ListOf(_PCI_DEVICE),
    'passthrough_devices': ListOf(_PCI_DEVICE),
}


def _expected(shape):
    if isinstance(shape, ListOf):
        return 'a list'
    if isinstance(shape, (dict, MapOf)):
        return 'a mapping'
    return 'a whole number of at most 19 digits' if shape == INT else 'a %s' % shape


def _found(value):
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        return 'an integer beyond the 64-bit range'
    name = type_name(value)
    return '%s %s' % ('an' if name[0] in 'aeiou' else 'a', name)


_KEY_ORDER = {}


def _keys(shape):
    """The (key, shape) pairs of a mapping shape in key order, computed once per shape."""
    found = _KEY_ORDER.get(id(shape))
    if found is None:
        found = _KEY_ORDER[id(shape)] = tuple((key, shape[key]) for key in sorted(shape))
    return found


def shape_problems(value, shape, path=(), limit=5):
    """Up to ``limit`` problems of ``value`` against ``shape``, each
    ``(path, expected, found)`` with ``path`` a tuple of keys and indexes."""
    problems = []
    stack = [(value, shape, tuple(path))]
    while stack and len(problems) < limit:
        value, shape, where = stack.pop()
        if value is None or shape == ANY:
            continue
        if isinstance(shape, dict):
            if not isinstance(value, dict):
                problems.append((where, _expected(shape), _found(value)))
                continue
            nested = []
            for key, item_shape in _keys(shape):
                item = value.get(key)
                if item is None:
                    continue
                if isinstance(item_shape, str):
                    # A leaf is checked here rather than on the stack: most values are leaves.
                    if not LEAVES[item_shape](item):
                        problems.append((where + (key,), _expected(item_shape), _found(item)))
                else:
                    nested.append((item, item_shape, where + (key,)))
            stack.extend(reversed(nested))
        elif isinstance(shape, MapOf):
            if not isinstance(value, dict):
                problems.append((where, _expected(shape), _found(value)))
                continue
            for key, item in value.items():
                if not isinstance(key, str):
                    problems.append((where + (key,), 'string keys', _found(key)))
                    break
                stack.append((item, shape.item, where + (key,)))
        elif isinstance(shape, ListOf):
            if not isinstance(value, list):
                problems.append((where, _expected(shape), _found(value)))
            elif isinstance(shape.item, str):
                # Lists of names (features, models) are the bulk of the facts: one pass each.
                check = LEAVES[shape.item]
                bad = next((index for index, item in enumerate(value) if item is not None and not check(item)), None)
                if bad is not None:
                    problems.append((where + (bad,), _expected(shape.item), _found(value[bad])))
            else:
                stack.extend((item, shape.item, where + (index,)) for index, item in reversed(list(enumerate(value))))
        elif not LEAVES[shape](value):
            problems.append((where, _expected(shape), _found(value)))
    return problems


def _fits(shape):
    """A function of a value, true when ``shape_problems`` finds no problem in it. The
    walk above names every problem with its path; this one only answers yes or no, with
    no path built and no stack, and the leaves of a mapping compared in place (a host's
    facts are some 1,500 values, read for every host of a fleet)."""
    if isinstance(shape, str):
        leaf = LEAVES[shape]
        return lambda value: value is None or leaf(value)
    if isinstance(shape, ListOf):
        return _fits_list(shape)
    if isinstance(shape, MapOf):
        item_fits = _fits(shape.item)

        def map_fits(value):
            if value is None:
                return True
            if not isinstance(value, dict):
                return False
            return all(isinstance(key, str) and item_fits(item) for key, item in value.items())
        return map_fits
    # A mapping: its leaves by kind, then its nested shapes.
    kinds = {}
    nested = []
    for key, item_shape in _keys(shape):
        if isinstance(item_shape, str):
            kinds.setdefault(item_shape, []).append(key)
        else:
            nested.append((key, _fits(item_shape)))
    strings, booleans, integers = tuple(kinds.pop(STRING, ())), tuple(kinds.pop(BOOL, ())), tuple(kinds.pop(INT, ()))
    kinds.pop(ANY, None)
    others = tuple((key, LEAVES[kind]) for kind, keys in kinds.items() for key in keys)

    def mapping_fits(value):
        if value is None:
            return True
        if not isinstance(value, dict):
            return False
        get = value.get
        for key in strings:
            item = get(key)
            if item is not None and not isinstance(item, str):
                return False
        for key in booleans:
            item = get(key)
            if item is not None and not isinstance(item, bool):
                return False
        for key in integers:
            item = get(key)
            if item is not None and not _is_int(item):
                return False
        for key, leaf in others:
            item = get(key)
            if item is not None and not leaf(item):
                return False
        for key, item_fits in nested:
            if not item_fits(get(key)):
                return False
        return True
    return mapping_fits


def _fits_list(shape):
    if shape.item == STRING:
        def strings_fit(value):
            if value is None:
                return True
            if not isinstance(value, list):
                return False
            # Lists of names are the bulk of the facts: their types are collected in C.
            kinds = set(map(type, value))
            return kinds <= _NAME_TYPES or all(item is None or isinstance(item, str) for item in value)
        return strings_fit
    item_fits = _fits(shape.item)

    def list_fits(value):
        if value is None:
            return True
        if not isinstance(value, list):
            return False
        for item in value:
            if not item_fits(item):
                return False
        return True
    return list_fits


_NAME_TYPES = frozenset((str, type(None)))


class MalformedFacts(ValueError):
    """Facts that do not have the shape their consumers read; ``problems`` lists
    ``(path, expected, found)``."""

    def __init__(self, problems):
        self.problems = problems
        ValueError.__init__(self, '; '.join(
            '%s is %s, expected %s' % (format_path(list(path)), found, expected) for path, expected, found in problems))

    def under(self, roots):
        """The same problems with each path's first step replaced by ``roots[step]`` (a
        list of steps), to name where the facts sit in the caller's input."""
        return MalformedFacts([(tuple(roots.get(path[0], path[:1])) + tuple(path[1:]), expected, found)
                               for path, expected, found in self.problems])


def check_facts(facts, sriov=None, facts_path=('libvirt_host_caps',), sriov_path=('sriov',)):
    """Raise MalformedFacts when ``facts`` (libvirt_host_caps) or ``sriov`` do not have
    the shape the consumers read; the paths in the message start at the given ones."""
    if _FACTS_FIT(facts) and _SRIOV_FIT(sriov):
        return
    problems = shape_problems(facts, LIBVIRT_HOST_CAPS, facts_path)
    problems += shape_problems(sriov, SRIOV, sriov_path, limit=5 - len(problems))
    if problems:
        raise MalformedFacts(problems)


_FACTS_FIT, _SRIOV_FIT = _fits(LIBVIRT_HOST_CAPS), _fits(SRIOV)
