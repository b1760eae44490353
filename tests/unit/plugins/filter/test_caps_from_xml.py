# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.virtumancer.hostcaps.plugins.filter.caps_from_xml import FilterModule

caps_from_xml = FilterModule().filters()['caps_from_xml']


def test_same_structure_as_the_module(fixture_xml):
    facts = caps_from_xml(fixture_xml('debian12-epyc-milan-kvm.caps.xml'),
                          domain_capabilities=[fixture_xml('debian12-epyc-milan-kvm.domcaps-q35.xml')])
    assert facts['schema_version'] == 1
    assert facts['security_info']['secure_boot'] is True
    assert [d['machine'] for d in facts['domain_capabilities']] == ['pc-q35-7.2']


def test_a_single_domcaps_string_is_accepted(fixture_xml):
    facts = caps_from_xml(fixture_xml('debian12-epyc-milan-kvm.caps.xml'),
                          domain_capabilities=fixture_xml('debian12-epyc-milan-kvm.domcaps-q35.xml'))
    assert len(facts['domain_capabilities']) == 1


def test_garbage_input_names_the_document_and_the_fix():
    with pytest.raises(AnsibleFilterError, match='capabilities XML is not well-formed.*virsh capabilities'):
        caps_from_xml('not xml')


def test_domcaps_given_as_input_is_refused(fixture_xml):
    with pytest.raises(AnsibleFilterError, match='root element <capabilities>, got <domainCapabilities>'):
        caps_from_xml(fixture_xml('debian12-epyc-milan-kvm.domcaps-q35.xml'))


def test_domain_capabilities_of_the_wrong_type_is_refused(fixture_xml):
    with pytest.raises(AnsibleFilterError, match='domain_capabilities must be a list of XML strings'):
        caps_from_xml(fixture_xml('debian12-epyc-milan-kvm.caps.xml'), domain_capabilities={'q35': 'x'})


def test_non_string_input_is_refused():
    with pytest.raises(AnsibleFilterError, match='must be an XML string, got dict'):
        caps_from_xml({'host': {}})


@pytest.mark.parametrize('uri,recorded', [
    ('qemu+ssh://admin:Sekr1t@hv1.example.com/system?keyfile=/root/.ssh/id', 'qemu+ssh://hv1.example.com/system'),
    ('qemu+ssh://admin:Sekr1t@[::1/system', 'qemu+ssh://[::1/system'),
    ('qemu+ssh://admin:Sekr1t@hv1:abc/system', 'qemu+ssh://hv1:abc/system'),
    (None, None),
])
def test_the_recorded_uri_has_no_credentials(fixture_xml, uri, recorded):
    facts = caps_from_xml(fixture_xml('debian12-epyc-milan-kvm.caps.xml'), uri=uri)
    assert facts['uri'] == recorded
    assert 'Sekr1t' not in repr(facts)


def test_a_uri_that_is_no_string_is_refused(fixture_xml):
    with pytest.raises(AnsibleFilterError, match='uri must be a string .*, got mapping'):
        caps_from_xml(fixture_xml('debian12-epyc-milan-kvm.caps.xml'), uri={'password': 'x'})


def test_a_document_above_the_size_limit_is_refused_by_name_size_and_limit(fixture_xml):
    caps = fixture_xml('debian12-epyc-milan-kvm.caps.xml')
    huge = caps.replace('<feature ', "<feature name='x'/>" * 500000 + '<feature ', 1)
    with pytest.raises(AnsibleFilterError) as caught:
        caps_from_xml(huge)
    assert ('the capabilities XML is %s characters long, above the limit of 8,388,608 (8 MiB)' % format(len(huge), ','))\
        in str(caught.value)
