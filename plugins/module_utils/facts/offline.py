# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``FactSources`` over saved XML documents (support dumps, hosts without libvirt-python).

Only what the documents say is filled; everything that needs a live connection is
reported as unavailable by ``FactSources`` itself.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.capabilities import parse_capabilities
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.domain_capabilities import (
    parse_domain_capabilities,
)
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.host_facts import (
    FactSources, SourceUnavailable,
)


def xml_sources(capabilities_xml, domain_capabilities_xml=None):
    """Sources for ``virsh capabilities`` plus zero or more ``virsh domcapabilities``."""
    capabilities = parse_capabilities(capabilities_xml)
    documents = domain_capabilities_xml or []
    if isinstance(documents, (str, bytes)):
        documents = [documents]
    entries = []
    for index, document in enumerate(documents):
        entry = parse_domain_capabilities(document)
        # The first document of each arch stands for the host's default machine.
        entry['requested_machine'] = None
        entry['default_machine'] = not any(e['arch'] == entry['arch'] for e in entries)
        entries.append(entry)

    def domain_capabilities():
        if not entries:
            raise SourceUnavailable('no domain capabilities XML was given (virsh domcapabilities output)')
        return entries

    return FactSources({
        'capabilities': lambda: capabilities,
        'domain_capabilities': domain_capabilities,
    })
