# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.capabilities import parse_capabilities
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.xmlparse import XMLInputError

MILAN = 'debian12-epyc-milan-kvm.caps.xml'


@pytest.fixture
def milan(fixture_xml):
    return parse_capabilities(fixture_xml(MILAN))


def test_host_cpu_identity(milan):
    assert (milan['cpu']['arch'], milan['cpu']['model'], milan['cpu']['vendor']) == ('x86_64', 'kvm64', 'AMD')


def test_host_cpu_topology(milan):
    assert milan['cpu']['topology'] == {'sockets': 1, 'dies': 1, 'cores': 2, 'threads': 1}


def test_host_cpu_features_are_the_listed_extras(milan):
    assert 'avx2' in milan['cpu']['features']
    assert 'svm' not in milan['cpu']['features']


def test_tsc_counter(milan):
    assert milan['cpu']['tsc'] == {'frequency_hz': 2445432000, 'scaling': False}


def test_page_sizes_in_kib(milan):
    assert milan['cpu']['page_sizes_kb'] == [4, 2048, 1048576]


def test_cell_memory_and_pages(milan):
    cell = milan['cells'][0]
    assert cell['memory_kb'] > 4 * 1024 * 1024
    assert [p['size_kb'] for p in cell['pages']] == [4, 2048, 1048576]
    assert [c['id'] for c in cell['cpus']] == [0, 1]


def test_iommu_support_no_is_false(milan):
    assert milan['iommu_supported'] is False


def test_cache_bank_size_in_kib(milan):
    assert milan['cache_banks'] == [{'id': 0, 'level': 3, 'type': 'both', 'size_kb': 32768, 'cpus': '0-1'}]


def test_dac_secmodel_keeps_baselabels(milan):
    dac = [m for m in milan['secmodels'] if m['model'] == 'dac'][0]
    assert dac['baselabels'] == {'kvm': '+64055:+64055', 'qemu': '+64055:+64055'}


def test_guest_machine_aliases_name_their_canonical_machine(milan):
    x86 = [g for g in milan['guests'] if g['arch'] == 'x86_64'][0]
    aliases = dict((m['name'], m['canonical']) for m in x86['machines'] if m['canonical'])
    assert aliases == {'pc': 'pc-i440fx-7.2', 'q35': 'pc-q35-7.2'}


def test_guest_domain_types(milan):
    x86 = [g for g in milan['guests'] if g['arch'] == 'x86_64'][0]
    assert x86['domain_types'] == ['kvm', 'qemu']


def test_deprecated_machine_is_flagged(milan):
    i686 = [g for g in milan['guests'] if g['arch'] == 'i686'][0]
    flags = dict((m['name'], m['deprecated']) for m in i686['machines'])
    assert flags['pc-i440fx-1.5'] is True
    assert flags['pc-i440fx-7.2'] is False


def test_test_driver_host_has_no_cpu_model(fixture_xml):
    caps = parse_capabilities(fixture_xml('testdriver.caps.xml'))
    assert caps['cpu']['model'] is None
    assert len(caps['cells']) == 2
    assert caps['guests'][0]['domain_types'] == ['test']


def test_malformed_xml_is_a_clear_error():
    with pytest.raises(XMLInputError, match='capabilities XML is not well-formed'):
        parse_capabilities('<capabilities><host>')


def test_wrong_document_names_the_root_it_got(fixture_xml):
    with pytest.raises(XMLInputError, match='root element <capabilities>, got <domainCapabilities>'):
        parse_capabilities(fixture_xml('debian12-epyc-milan-kvm.domcaps-q35.xml'))


def test_external_entities_are_refused_not_fetched():
    doc = ('<!DOCTYPE capabilities [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
           '<capabilities><host><uuid>&x;</uuid></host></capabilities>')
    with pytest.raises(XMLInputError, match='undefined entity'):
        parse_capabilities(doc)


def test_entity_expansion_bomb_is_refused():
    entities = ''.join('<!ENTITY e%d "&e%d;&e%d;&e%d;&e%d;&e%d;&e%d;&e%d;&e%d;&e%d;&e%d;">' % ((i,) + (i - 1,) * 10)
                       for i in range(1, 10))
    doc = ('<!DOCTYPE capabilities [<!ENTITY e0 "lol">%s]><capabilities><host><uuid>&e9;</uuid></host>'
           '</capabilities>' % entities)
    with pytest.raises(XMLInputError):
        parse_capabilities(doc)
