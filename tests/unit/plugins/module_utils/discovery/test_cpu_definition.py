# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Expanded CPU definitions as libvirt 9.0 on this machine printed them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.cpu_definition import (
    model_definition_xml, parse_cpu_definition,
)
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.xmlparse import XMLInputError


@pytest.fixture
def milan(fixture_xml):
    return parse_cpu_definition(fixture_xml('debian12-kvm-guest-cpu.cpu-EPYC-Milan.xml'))


def test_model_without_vendor_when_only_the_model_was_asked(milan):
    assert (milan['model'], milan['vendor']) == ('EPYC-Milan', None)


def test_features_the_hypervisor_gives_are_required(milan):
    assert {'sse2', 'mmx', 'ibpb'} <= set(milan['required_features'])


def test_model_features_the_hypervisor_lacks_are_disabled(milan):
    assert {'avx2', 'aes', 'sha-ni', 'sse4.1', 'sse4.2', 'pdpe1gb'} <= set(milan['disabled_features'])


def test_the_two_lists_make_up_the_model(milan):
    assert (len(milan['required_features']), len(milan['disabled_features'])) == (48, 37)
    assert not set(milan['required_features']) & set(milan['disabled_features'])


def test_a_model_without_vendor(fixture_xml):
    parsed = parse_cpu_definition(fixture_xml('debian12-kvm-guest-cpu.cpu-486.xml'))
    assert parsed == {'model': '486', 'vendor': None, 'required_features': ['fpu', 'pse', 'vme'], 'disabled_features': []}


def test_a_feature_without_policy_is_required():
    parsed = parse_cpu_definition("<cpu><model>qemu64</model><feature name='x2apic'/></cpu>")
    assert parsed['required_features'] == ['x2apic']


def test_the_request_names_only_the_model():
    assert model_definition_xml('EPYC-Milan') == '<cpu><model>EPYC-Milan</model></cpu>'
    assert parse_cpu_definition(model_definition_xml('a<b'))['model'] == 'a<b'


def test_another_document_is_refused(fixture_xml):
    with pytest.raises(XMLInputError) as err:
        parse_cpu_definition(fixture_xml('debian12-kvm-guest-cpu.caps.xml'))
    assert '<cpu>' in str(err.value) and '<capabilities>' in str(err.value)
