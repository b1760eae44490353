# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading facts handed to the derivations and filters: the schema version, safe reads
from partial fact dicts (a subset not gathered, a category that failed)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import describe, short_repr

# Version of the libvirt_host_caps structure; changes only with a documented migration.
SCHEMA_VERSION = 1


def dig(data, *path):
    """``data[path[0]][path[1]]...``, or None when any step is missing or not a dict."""
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def as_list(value):
    return value if isinstance(value, list) else []


def unwrap_host_facts(data, sriov=None):
    """(libvirt_host_caps, sriov) from the facts themselves or a dict holding them.

    Accepts ``ansible_facts.libvirt_host_caps``, ``ansible_facts`` and ``hostvars[host]``.
    An explicit ``sriov`` wins over one found beside the facts. Raises ValueError.
    """
    if not isinstance(data, Mapping):
        raise ValueError(
            'expected the libvirt_host_caps facts (a mapping), got %s; pass '
            "ansible_facts.libvirt_host_caps or hostvars[host].ansible_facts"
            % describe(data))
    holder = data.get('ansible_facts') if isinstance(data.get('ansible_facts'), Mapping) else data
    if 'libvirt_host_caps' in holder:
        facts = holder['libvirt_host_caps']
        if sriov is None:
            sriov = holder.get('sriov')
        if not isinstance(facts, Mapping):
            raise ValueError(
                'libvirt_host_caps is %s, not a mapping; gather it with '
                'virtumancer.hostcaps.libvirt_host_caps first' % describe(facts))
    elif 'schema_version' in holder or 'host_info' in holder or 'cpu_info' in holder:
        facts = holder
    else:
        raise ValueError(
            'no libvirt_host_caps facts in the input (keys: %s); gather them with '
            'virtumancer.hostcaps.libvirt_host_caps and pass ansible_facts.libvirt_host_caps'
            % (', '.join(sorted(short_repr(k, 40) for k in holder)[:10]) or 'none'))
    facts = dict(facts)
    version = facts.get('schema_version')
    if version is not None and version != SCHEMA_VERSION:
        raise ValueError(
            'libvirt_host_caps schema_version is %s, this collection reads %d; '
            'gather the facts again with this version of virtumancer.hostcaps'
            % (short_repr(version), SCHEMA_VERSION))
    return facts, sriov
