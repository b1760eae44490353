# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``gather_subset`` with the grammar of ansible.builtin.setup."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class SubsetError(ValueError):
    pass


def resolve_subsets(requested, valid):
    """Names to gather: named subsets (``all`` = every name) minus ``!name`` ones. With no
    named subset, everything is gathered unless ``!all`` is given."""
    include, exclude = set(), set()
    exclude_all = False
    for raw in requested or ['all']:
        item = str(raw).strip()
        negate = item.startswith('!')
        name = item[1:] if negate else item
        if name != 'all' and name not in valid:
            raise SubsetError('gather_subset: unknown subset %r; use all, %s, each optionally prefixed with "!"'
                              % (item, ', '.join(valid)))
        if negate and name == 'all':
            exclude_all = True
        elif negate:
            exclude.add(name)
        else:
            include.update(valid if name == 'all' else [name])
    if not include and not exclude_all:
        include = set(valid)
    return [name for name in valid if name in include and name not in exclude]
