# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documents that are well-formed but huge: the cost grows linearly with their size, and
above the documented limit a document is refused by name, leaving its category null
with an error instead of taking the hypervisor's memory and time."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.domain_capabilities import (
    parse_domain_capabilities,
)
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.xmlparse import (
    MAX_XML_SIZE, XMLInputError, parse_xml,
)
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.host_facts import FactSources, build_facts
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.offline import xml_sources
from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import read_fixture

CAPS = 'debian12-epyc-milan-kvm.caps.xml'
DOMCAPS = 'debian12-epyc-milan-kvm.domcaps-q35.xml'


def _with_disk_buses(count):
    """The captured q35 domain capabilities with ``count`` more values in the disk bus enum."""
    values = ''.join('<value>bus%d</value>' % index for index in range(count))
    return read_fixture(DOMCAPS).replace("<enum name='bus'>", "<enum name='bus'>" + values, 1)


def _build_seconds(domcaps):
    """The fastest of three builds, to keep a busy machine's noise out of the ratio."""
    caps = read_fixture(CAPS)
    best = None
    for dummy in range(3):
        started = time.perf_counter()
        facts = build_facts(xml_sources(caps, [domcaps]))
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    return best, facts


def test_a_large_enum_costs_time_in_proportion_to_its_size():
    # 5,000 against 40,000 values: linear work takes 8 times as long, quadratic work
    # (a list membership test per value, as before) 64 times; 40,000 took 33 s then.
    small, dummy = _build_seconds(_with_disk_buses(5000))
    large, facts = _build_seconds(_with_disk_buses(40000))
    assert len(facts['storage_info']['disk_buses']) >= 40000
    assert large / small < 24, 'building facts took %.3f s for 5,000 enum values but %.3f s for 40,000' % (small, large)


def test_parse_xml_refuses_a_document_above_the_limit_by_name_size_and_limit():
    document = '<domainCapabilities>' + ' ' * MAX_XML_SIZE + '</domainCapabilities>'
    with pytest.raises(XMLInputError) as caught:
        parse_xml(document, 'domainCapabilities', 'the domain capabilities XML')
    assert str(caught.value).startswith(
        'the domain capabilities XML is %s characters long, above the limit of %s (8 MiB) for one libvirt XML document'
        % (format(len(document), ','), format(MAX_XML_SIZE, ',')))


def test_a_document_at_the_limit_is_still_parsed():
    document = '<domainCapabilities>' + ' ' * (MAX_XML_SIZE - 50) + '</domainCapabilities>'
    assert parse_xml(document, 'domainCapabilities', 'the domain capabilities XML').tag == 'domainCapabilities'


def test_an_oversized_domain_capabilities_document_makes_its_category_null_with_an_error():
    features = ''.join("<feature policy='require' name='f%07d'/>" % index for index in range(250000))
    huge = read_fixture(DOMCAPS).replace("<feature policy=", features + "<feature policy=", 1)
    assert len(huge) > MAX_XML_SIZE
    caps = xml_sources(read_fixture(CAPS)).get('capabilities')
    # The module's reader hands each document to the parser inside FactSources, like this.
    sources = FactSources({'capabilities': lambda: caps,
                           'domain_capabilities': lambda: [parse_domain_capabilities(huge)]})
    facts = build_facts(sources)
    assert facts['domain_capabilities'] is None
    assert facts['host_info'] is not None
    messages = [e['message'] for e in facts['errors'] if e['category'] == 'domain_capabilities']
    assert messages and 'above the limit of 8,388,608 (8 MiB)' in messages[0]
