# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build ``libvirt_host_caps`` from the XML fixtures through the real parsers and
builders, as an offline dump would be built."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.capabilities import parse_capabilities
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.domain_capabilities import (
    parse_domain_capabilities,
)
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.host_facts import (
    SUBSETS, FactSources, build_facts,
)

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures', 'libvirt')


def read_fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


def domcaps_entries(*domcaps):
    """The ``domain_capabilities`` entries of the ``domcaps`` fixtures, as the module
    lists them: the first of each arch is its default machine."""
    entries = []
    for name in domcaps:
        entry = parse_domain_capabilities(read_fixture(name))
        entry['requested_machine'] = None
        entry['default_machine'] = not any(e['arch'] == entry['arch'] for e in entries)
        entries.append(entry)
    return entries


def domains(*listed):
    """``virt_info.domains`` as collect.py reads it, from ``(name, active, vcpus, memory_mb)``."""
    entries = [{'name': name, 'uuid': '00000000-0000-0000-0000-%012d' % index, 'active': active, 'persistent': True,
                'vcpus': vcpus, 'memory_mb': memory_mb} for index, (name, active, vcpus, memory_mb) in enumerate(listed)]
    running = [entry for entry in entries if entry['active']]
    return {'defined': len(entries), 'running': len(running), 'vcpus_running': sum(e['vcpus'] for e in running),
            'memory_mb_running': sum(e['memory_mb'] for e in running), 'list': entries}


def facts_from(caps, *domcaps, **live):
    """Facts of the ``caps`` fixture plus ``domcaps`` fixtures. ``live`` adds the sources
    only a live host has (``pools=[...]``, ``domains={...}``, ``ksm={...}``) and may
    name ``subsets``."""
    subsets = live.pop('subsets', SUBSETS)
    capabilities = parse_capabilities(read_fixture(caps))
    entries = domcaps_entries(*domcaps)
    fetchers = {'capabilities': lambda: capabilities}
    if entries:
        fetchers['domain_capabilities'] = lambda: entries
    for name, value in live.items():
        fetchers[name] = (lambda v=value: v)
    return build_facts(FactSources(fetchers), subsets)
