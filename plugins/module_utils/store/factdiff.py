# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Structured difference between two versions of a host's facts, for drift reports.

``diff_facts(old, new)`` returns one change per differing leaf, sorted by path::

    {'path': 'libvirt_host_caps.memory_info.total_mb', 'op': 'changed', 'old': 512000, 'new': 256000}
    {'path': 'libvirt_host_caps.traits', 'op': 'removed', 'old': 'HW_CPU_X86_AMD_SEV'}
    {'path': 'libvirt_host_caps.storage_info.pools[name=default]', 'op': 'added', 'new': {...}}

Path grammar, so that a path names exactly one place:

- Mapping keys are joined with ``.``. A key that is empty or holds a character out of
  ``A-Z a-z 0-9 _ - : / @ +`` is written as a JSON string in brackets: ``a["x.y"]``.
- ``[3]`` is a list position (used when list elements have no identity, see below).
- ``[name=default]`` or ``[arch=x86_64,machine=pc-q35-7.2,virttype=kvm]`` selects the list
  element whose identity key(s) have these values. A bare value is a string; a value
  that would read as a number, ``true``, ``false`` or ``null``, or holds another
  character than the safe ones above, is written in JSON (``[id=0]``, ``[name="0"]``).

Comparison rules:

- Lists whose elements are all scalars (traits, CPU features, page sizes) are sets: one
  ``added`` or ``removed`` change per element, with the list's path. Order and
  repetition are ignored, because these lists are sorted or libvirt-ordered name sets.
- Lists whose elements are all mappings are matched by the first identity in
  ``IDENTITY_KEYS`` that every element of both lists has (not null) and that is unique
  within each list; the elements are then compared key by key. Otherwise (and for mixed
  lists) elements are compared by position.
- A value whose type changes (``null`` to a mapping when a category could be read again,
  a mapping to a list) is one ``changed`` entry holding both whole values. An added or
  removed key or list element is one entry holding the whole value.
- ``ignore`` holds key names, skipped at every depth, and paths from the top of the facts
  with the wildcards of factvolatile.py (``libvirt_host_caps.resources.*.used``), removed
  from both sides before comparing. ``DEFAULT_IGNORE`` leaves out ``collected_at``, the
  derived ``libvirt_host_caps.resources`` and the counters of ``VOLATILE_PATHS``, so that a
  diff reports configuration drift; ``ignore=()`` compares everything.

Pure Python on plain data: no Ansible import, usable from modules, filters and lookups.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.store import factvolatile
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.store.factvolatile import DERIVED_PATHS, VOLATILE_PATHS

DEFAULT_IGNORE = ('collected_at',) + DERIVED_PATHS + VOLATILE_PATHS

# Identity of list elements, tried in order. The triple identifies a domain capabilities
# probe; ``size_kb`` a page size entry (memory_info.hugepages, cells[].pages); the pair
# an entry of ``errors``, whose positions shift whenever one source starts or stops failing.
IDENTITY_KEYS = (('address',), ('name',), ('id',), ('arch', 'machine', 'virttype'), ('size_kb',), ('category', 'message'))

_SAFE = re.compile(r'^[A-Za-z0-9_\-:/@+]+$')
_SAFE_VALUE = re.compile(r'^[A-Za-z0-9_\-:/@+.]+$')
_OP_ORDER = {'removed': 0, 'changed': 1, 'added': 2}
_SCALARS = (str, int, float, bool, type(None))


def diff_facts(old, new, ignore=DEFAULT_IGNORE, identity_keys=IDENTITY_KEYS):
    """Changes from ``old`` to ``new`` (two facts mappings), sorted by path.

    ``ignore`` is an iterable of key names skipped at any depth and of paths (with a ``.``
    or ``[``) removed from both sides. ``identity_keys`` is a sequence of key tuples tried in
    order to match list elements. ``None`` on either side
    stands for a host without facts, so every key of the other side is added or removed.
    """
    old = {} if old is None else old
    new = {} if new is None else new
    for side, value in (('old', old), ('new', new)):
        if not isinstance(value, dict):
            raise TypeError('diff_facts: %s facts must be a mapping of fact names (or None), got %s; pass the facts dict of one host version'
                            % (side, type(value).__name__))
    if isinstance(ignore, str):
        ignore = (ignore,)
    ignore = list(ignore or ())
    paths = [entry for entry in ignore if '.' in entry or '[' in entry]
    if paths:
        matcher = factvolatile.compile_paths(paths)
        old, new = factvolatile.strip(old, matcher), factvolatile.strip(new, matcher)
    context = _Context(frozenset(entry for entry in ignore if entry not in paths), tuple(tuple(keys) for keys in identity_keys))
    changes = []
    _diff(context, '', old, new, changes)
    changes.sort(key=_change_order)
    return changes


class _Context(object):
    __slots__ = ('ignore', 'identity_keys')

    def __init__(self, ignore, identity_keys):
        self.ignore = ignore
        self.identity_keys = identity_keys


def _diff(context, path, old, new, changes):
    if isinstance(old, dict) and isinstance(new, dict):
        _diff_dicts(context, path, old, new, changes)
    elif isinstance(old, list) and isinstance(new, list):
        _diff_lists(context, path, old, new, changes)
    elif not _same(old, new):
        changes.append({'path': path, 'op': 'changed', 'old': old, 'new': new})


def _same(old, new):
    # 1 == 1.0 == True in Python; in facts they are three different values.
    return type(old) is type(new) and old == new


def _diff_dicts(context, path, old, new, changes):
    for key in old:
        if key in context.ignore:
            continue
        child = join_key(path, key)
        if key not in new:
            changes.append({'path': child, 'op': 'removed', 'old': old[key]})
        else:
            _diff(context, child, old[key], new[key], changes)
    for key in new:
        if key not in old and key not in context.ignore:
            changes.append({'path': join_key(path, key), 'op': 'added', 'new': new[key]})


def _diff_lists(context, path, old, new, changes):
    both = old + new
    if all(isinstance(item, _SCALARS) for item in both):
        _diff_sets(path, old, new, changes)
        return
    if both and all(isinstance(item, dict) for item in both):
        keys = _identity(context.identity_keys, old, new)
        if keys is not None:
            _diff_by_identity(context, path, keys, old, new, changes)
            return
    for index in range(max(len(old), len(new))):
        child = '%s[%d]' % (path, index)
        if index >= len(new):
            changes.append({'path': child, 'op': 'removed', 'old': old[index]})
        elif index >= len(old):
            changes.append({'path': child, 'op': 'added', 'new': new[index]})
        else:
            _diff(context, child, old[index], new[index], changes)


def _diff_sets(path, old, new, changes):
    old_set = dict((_canonical(item), item) for item in old)
    new_set = dict((_canonical(item), item) for item in new)
    for token, item in old_set.items():
        if token not in new_set:
            changes.append({'path': path, 'op': 'removed', 'old': item})
    for token, item in new_set.items():
        if token not in old_set:
            changes.append({'path': path, 'op': 'added', 'new': item})


def _identity(identity_keys, old, new):
    for keys in identity_keys:
        if all(_has_identity(item, keys) for item in old + new) and _unique(old, keys) and _unique(new, keys):
            return keys
    return None


def _has_identity(item, keys):
    for key in keys:
        value = item.get(key)
        if value is None or not isinstance(value, _SCALARS):
            return False
    return True


def _unique(items, keys):
    seen = set(_canonical([item[key] for key in keys]) for item in items)
    return len(seen) == len(items)


def _diff_by_identity(context, path, keys, old, new, changes):
    old_by_id = dict((_canonical([item[key] for key in keys]), item) for item in old)
    new_by_id = dict((_canonical([item[key] for key in keys]), item) for item in new)
    for token, item in old_by_id.items():
        child = path + _selector(keys, item)
        if token not in new_by_id:
            changes.append({'path': child, 'op': 'removed', 'old': item})
        else:
            _diff(context, child, item, new_by_id[token], changes)
    for token, item in new_by_id.items():
        if token not in old_by_id:
            changes.append({'path': path + _selector(keys, item), 'op': 'added', 'new': item})


def _selector(keys, item):
    return '[%s]' % ','.join('%s=%s' % (key, format_value(item[key])) for key in keys)


def join_key(path, key):
    """``path`` extended by the mapping key ``key``, quoted when it is not a plain name."""
    key = key if isinstance(key, str) else str(key)
    if _SAFE.match(key):
        return '%s.%s' % (path, key) if path else key
    return '%s[%s]' % (path, json.dumps(key, ensure_ascii=False))


def format_value(value):
    """An identity value as written in a path selector: bare when that cannot be misread."""
    if isinstance(value, str) and _SAFE_VALUE.match(value) and not _reads_as_json(value):
        return value
    return json.dumps(value, ensure_ascii=False)


def _reads_as_json(text):
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _canonical(value):
    # json keeps 1, 1.0 and true apart, which a set of Python values would merge.
    return json.dumps(value, sort_keys=True, default=repr)


_NUMBER = re.compile(r'(\d+)')


def _natural(path):
    # [10] after [9]; split keeps strings at even and digit runs at odd positions.
    parts = _NUMBER.split(path)
    return tuple(int(part) if index % 2 else part for index, part in enumerate(parts))


def _change_order(change):
    value = change['new'] if change['op'] == 'added' else change['old']
    return (_natural(change['path']), _OP_ORDER[change['op']], _canonical(value))
