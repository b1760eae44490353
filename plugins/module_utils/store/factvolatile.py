# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which parts of a host's facts are counters rather than configuration.

A counter moves between two runs on a host whose configuration did not change: free
memory, the ``used`` of resources, running domains, pool allocation, and in the facts of
``ansible.builtin.setup`` the clock, uptime, load and free space. The factdb store records a
new version of a host only when its facts without these change (a change of counters alone
updates the latest version in place), and the factdb diff leaves them out by default.

``VOLATILE_PATHS`` is the one list of them; docs/factdb.md prints it. A path uses the
diff's grammar (factdiff.py) from the top of a host's facts, plus wildcards: ``*`` is any
mapping key, ``[*]`` every element of a list, and ``[key=value]`` the elements of a list
whose ``key`` has that value (a bare string, or JSON as in ``[persistent=false]``). The
path's last step is removed: a key from its mapping, a selected element from its list.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.store import factjson

# Bump when VOLATILE_PATHS changes: the store then recomputes the configuration digest of a
# host's latest version before comparing, instead of adding a version for the new rule.
RULES_VERSION = 1

VOLATILE_PATHS = (
    # libvirt_host_caps: free memory and huge pages, KSM's page counters.
    'libvirt_host_caps.collected_at',
    'libvirt_host_caps.memory_info.free_mb',
    'libvirt_host_caps.memory_info.available_mb',
    'libvirt_host_caps.memory_info.sources.kernel.free_mb',
    'libvirt_host_caps.memory_info.sources.kernel.available_mb',
    'libvirt_host_caps.memory_info.sources.libvirt.free_mb',
    'libvirt_host_caps.memory_info.cells[*].free_mb',
    'libvirt_host_caps.memory_info.cells[*].pages[*].free',
    'libvirt_host_caps.memory_info.hugepages[*].free',
    'libvirt_host_caps.memory_info.ksm.pages_shared',
    'libvirt_host_caps.memory_info.ksm.pages_sharing',
    # What the running domains take, and which domains run.
    'libvirt_host_caps.resources.*.used',
    'libvirt_host_caps.virt_info.domains.running',
    'libvirt_host_caps.virt_info.domains.vcpus_running',
    'libvirt_host_caps.virt_info.domains.memory_mb_running',
    'libvirt_host_caps.virt_info.domains.list[*].active',
    # A transient domain exists only while it runs.
    'libvirt_host_caps.virt_info.domains.list[persistent=false]',
    # Storage pools fill up; their capacity is configuration.
    'libvirt_host_caps.storage_info.pools[*].allocation_gb',
    'libvirt_host_caps.storage_info.pools[*].available_gb',
    # Follows the VFs' assignments, which are recorded themselves.
    'sriov.summary.free_vfs',
    # ansible.builtin.setup
    'ansible_date_time',
    'ansible_uptime_seconds',
    'ansible_loadavg',
    'ansible_memfree_mb',
    'ansible_swapfree_mb',
    'ansible_memory_mb.real.free',
    'ansible_memory_mb.real.used',
    'ansible_memory_mb.nocache',
    'ansible_memory_mb.swap.free',
    'ansible_memory_mb.swap.used',
    'ansible_memory_mb.swap.cached',
    'ansible_mounts[*].size_available',
    'ansible_mounts[*].block_available',
    'ansible_mounts[*].block_used',
    'ansible_mounts[*].inode_available',
    'ansible_mounts[*].inode_used',
    'ansible_lvm.vgs.*.free_g',
    'ansible_lvm.pvs.*.free_g',
    # The SSH session of the run that gathered the facts.
    'ansible_env.SSH_CLIENT',
    'ansible_env.SSH_CONNECTION',
    'ansible_env.SSH_TTY',
    'ansible_env.XDG_SESSION_ID',
)

# Computed from the other facts (facts/resources.py): a change there is reported at its source.
DERIVED_PATHS = ('libvirt_host_caps.resources',)

_STEP = re.compile(r'\[([^\]]*)\]|([^.\[\]]+)')
_PATH = re.compile(r'^(?:[^.\[\]]+|\[[^\]]*\])(?:\.[^.\[\]]+|\[[^\]]*\])*$')
_REMOVE = 'remove'
_MISSING = object()


class _Node(object):
    __slots__ = ('keys', 'any_key', 'items', 'where')

    def __init__(self):
        self.keys = {}
        self.any_key = None
        self.items = None
        self.where = []


class VolatileError(ValueError):
    """A path that the grammar above cannot read."""


def _steps(path):
    if not _PATH.match(path):
        raise VolatileError('volatile path %r: write keys joined by ".", with "*", "[*]" or "[key=value]" as wildcards'
                            % (path,))
    steps = []
    for selector, key in _STEP.findall(path):
        if key:
            steps.append(('key', key))
        elif selector == '*':
            steps.append(('items',))
        elif selector.startswith('"'):
            steps.append(('key', json.loads(selector)))
        elif '=' in selector:
            name, dummy, text = selector.partition('=')
            try:
                value = json.loads(text)
            except ValueError:
                value = text
            steps.append(('where', name, value))
        else:
            raise VolatileError('volatile path %r: [%s] is neither [*], [key=value] nor a quoted key' % (path, selector))
    return steps


def compile_paths(paths):
    """A matcher for ``strip`` from path patterns (VolatileError names a bad one)."""
    root = _Node()
    for path in paths:
        node, steps = root, _steps(path)
        for index, step in enumerate(steps):
            last = index == len(steps) - 1
            node = _descend(node, step, last)
            if node is _REMOVE:
                break
    return root


def _descend(node, step, last):
    """The child of ``node`` for ``step``, made when missing; _REMOVE when it is removed whole."""
    kind = step[0]
    if kind == 'where':
        for name, value, child in node.where:
            if name == step[1] and _same(value, step[2]):
                break
        else:
            child = None
    elif kind == 'items':
        child = node.items
    elif step[1] == '*':
        child = node.any_key
    else:
        child = node.keys.get(step[1])
    if child is _REMOVE:
        return _REMOVE
    if last or child is None:
        child = _REMOVE if last else _Node()
        if kind == 'where':
            node.where = [entry for entry in node.where if not (entry[0] == step[1] and _same(entry[1], step[2]))]
            node.where.append((step[1], step[2], child))
        elif kind == 'items':
            node.items = child
        elif step[1] == '*':
            node.any_key = child
        else:
            node.keys[step[1]] = child
    return child


def _same(one, other):
    # 0, 0.0 and false are three values in facts; Python would take them for one.
    return type(one) is type(other) and one == other


def strip(facts, matcher):
    """``facts`` without what ``matcher`` (from compile_paths) names. The parts that change are
    copied; the rest is shared with ``facts``, which is returned itself when nothing matches."""
    return _strip(facts, matcher)


def _strip(value, node):
    if isinstance(value, dict):
        copy = None
        for key, child in node.keys.items():
            if key in value:
                copy = _strip_key(value, copy, key, child)
        if node.any_key is not None:
            for key in list(value):
                copy = _strip_key(value, copy, key, node.any_key)
        return value if copy is None else copy
    if isinstance(value, list) and (node.items is not None or node.where):
        kept, changed = [], False
        for item in value:
            new = item
            for name, wanted, child in node.where:
                if isinstance(new, dict) and name in new and _same(new[name], wanted):
                    new = _MISSING if child is _REMOVE else _strip(new, child)
                    if new is _MISSING:
                        break
            if new is not _MISSING and node.items is not None:
                new = _MISSING if node.items is _REMOVE else _strip(new, node.items)
            changed = changed or new is not item
            if new is not _MISSING:
                kept.append(new)
        return kept if changed else value
    return value


def _strip_key(value, copy, key, child):
    """``copy`` (a copy of ``value`` made when first needed) with ``key`` stripped by ``child``."""
    source = value if copy is None else copy
    if key not in source:
        return copy
    if child is _REMOVE:
        new = _MISSING
    else:
        new = _strip(source[key], child)
        if new is source[key]:
            return copy
    if copy is None:
        copy = dict(value)
    if new is _MISSING:
        del copy[key]
    else:
        copy[key] = new
    return copy


VOLATILE = compile_paths(VOLATILE_PATHS)


def configuration(facts):
    """``facts`` without their volatile counters (VOLATILE_PATHS)."""
    return _strip(facts, VOLATILE)


def same_configuration(old, new):
    """Whether ``old`` and ``new`` differ in counters only, lists of scalars compared as sets,
    as the diff compares them: ``ansible.builtin.setup`` lists some sets in any order
    (``ansible_interfaces``, ``ansible_virtualization_tech_guest``), which is no change."""
    return factjson.encode(_as_sets(configuration(old)))[0] == factjson.encode(_as_sets(configuration(new)))[0]


def _as_sets(value):
    """``value`` with its lists of scalars sorted (copies where needed)."""
    if isinstance(value, dict):
        copy = None
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                changed = _as_sets(item)
                if changed is not item:
                    if copy is None:
                        copy = dict(value)
                    copy[key] = changed
        return value if copy is None else copy
    if isinstance(value, list):
        if all(isinstance(item, _SCALARS) for item in value):
            ordered = sorted(value, key=_scalar_order)
            return value if ordered == value else ordered
        copy = None
        for index, item in enumerate(value):
            if isinstance(item, (dict, list)):
                changed = _as_sets(item)
                if changed is not item:
                    if copy is None:
                        copy = list(value)
                    copy[index] = changed
        return value if copy is None else copy
    return value


_SCALARS = (str, int, float, bool, type(None))


def _scalar_order(item):
    # Mixed types sort by type first: 1, 1.0 and true stay three values, in a fixed order.
    return (type(item).__name__, '' if item is None else item)
