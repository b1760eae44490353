# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.domain_capabilities import (
    parse_domain_capabilities,
)


@pytest.fixture
def q35(fixture_xml):
    return parse_domain_capabilities(fixture_xml('debian12-epyc-milan-kvm.domcaps-q35.xml'))


@pytest.fixture
def pc(fixture_xml):
    return parse_domain_capabilities(fixture_xml('debian12-epyc-milan-kvm.domcaps-pc.xml'))


def test_probe_identity(q35):
    assert (q35['arch'], q35['machine'], q35['virttype']) == ('x86_64', 'pc-q35-7.2', 'kvm')
    assert q35['max_vcpus'] == 288


def test_q35_loader_offers_secure_boot(q35):
    loader = q35['os']['loader']
    assert 'yes' in loader['secure']
    assert '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd' in loader['paths']


def test_i440fx_loader_has_no_secure_boot(pc):
    assert pc['os']['loader']['secure'] == ['no']


def test_firmware_enum(q35):
    assert q35['os']['firmware'] == ['efi']


def test_tpm_enums(q35):
    tpm = q35['devices']['tpm']
    assert tpm['supported'] is True
    assert tpm['model'] == ['tpm-tis', 'tpm-crb']
    assert tpm['backend_version'] == ['1.2', '2.0']


def test_sev_no_is_false(q35):
    assert q35['features']['sev']['supported'] is False


def test_host_model(q35):
    host_model = q35['cpu']['host_model']
    assert host_model['name'] == 'EPYC-Milan'
    assert 'x2apic' in host_model['required_features']
    assert 'svm' in host_model['disabled_features']


def test_named_models_are_grouped_by_usability(q35):
    models = q35['cpu']['models']
    assert 'EPYC-Milan' in models['unusable']
    assert '486' in models['usable']
    assert models['unknown'] == []


def test_unknown_usability_and_deprecation():
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.domain_capabilities import _models
    from xml.etree import ElementTree
    custom = ElementTree.fromstring(
        "<mode name='custom' supported='yes'>"
        "<model usable='unknown' vendor='Intel'>Skylake-Client</model>"
        "<model usable='yes' deprecated='yes' vendor='unknown'>pentium</model></mode>")
    assert _models(custom) == {'usable': ['pentium'], 'unusable': [], 'unknown': ['Skylake-Client'],
                               'deprecated': ['pentium']}


def test_disk_buses(q35):
    assert q35['devices']['disk']['bus'] == ['fdc', 'scsi', 'virtio', 'usb', 'sata']


def test_tcg_probe_reports_qemu_virttype(fixture_xml):
    tcg = parse_domain_capabilities(fixture_xml('debian12-epyc-milan-tcg.domcaps-q35.xml'))
    assert tcg['virttype'] == 'qemu'
