# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vm_domain_xml filter: the XML as a string, and every refusal as a filter error
that names the field, never a Python exception. The domain itself is tested in
module_utils/policy/test_domain_build.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError
from lxml import etree

from ansible_collections.virtumancer.hostcaps.plugins.filter.vm_domain_xml import vm_domain_xml
from ansible_collections.virtumancer.hostcaps.plugins.filter.vm_place import vm_place
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy import domain_build
from ansible_collections.virtumancer.hostcaps.tests.unit.domain_xml_table import CATALOG, DISK, NETWORK, hostvars

VM = {'name': 'web01', 'vcpus': 2, 'memory_mb': 1024, 'disk_gb': 0, 'machine': 'q35', 'disks': [DISK], 'networks': [{'network': NETWORK}]}


def test_the_filter_returns_the_domain_xml():
    root = etree.fromstring(vm_domain_xml(VM, host=hostvars('milan'), catalog=CATALOG))
    assert (root.tag, root.findtext('name'), root.find('os/type').get('machine')) == ('domain', 'web01', 'pc-q35-7.2')


def test_the_facts_alone_and_host_name_are_enough():
    facts = hostvars('milan')['ansible_facts']
    assert vm_domain_xml(VM, host=facts, catalog=CATALOG, host_name='hv-milan') == vm_domain_xml(VM, host=hostvars('milan'),
                                                                                                 catalog=CATALOG)


def test_a_placement_of_the_filter_is_taken():
    vm = dict(VM, name='nfv01', sriov_vfs=1)
    answer = vm_place([vm], catalog=CATALOG, hosts={'hv-sev': hostvars('sev')})
    root = etree.fromstring(vm_domain_xml(vm, host=hostvars('sev'), catalog=CATALOG, placement=answer))
    assert root.find("devices/interface[@type='hostdev']/source/address").get('function') == '0x0'


@pytest.mark.parametrize('kind, vm, message', [
    ('milan', dict(VM, firmware='uefi'), "^vm_domain_xml: vm 'web01' cannot be written as a domain: firmware must be one of bios, efi, "
                                         "got string 'uefi'; did you mean 'efi'\\?$"),
    ('no-uefi', dict(VM, firmware='efi', secure_boot=True), "^vm_domain_xml: vm 'web01': firmware: host 'hv-no-uefi': firmware efi: "),
    ('milan', dict(VM, memory_encryption='sev', firmware='efi'), "vm 'web01': memory_encryption: host 'hv-milan': "),
    ('milan', [VM], 'the VM cannot be written as a domain: vms\\[0\\] must be a mapping'),
    ('milan', 'web01', 'the VM cannot be written as a domain: vms\\[0\\] must be a mapping'),
])
def test_what_cannot_be_expressed_is_a_filter_error(kind, vm, message):
    with pytest.raises(AnsibleFilterError, match=message):
        vm_domain_xml(vm, host=hostvars(kind), catalog=CATALOG)


@pytest.mark.parametrize('kwargs, message', [
    ({}, 'vm_domain_xml: host is required'),
    ({'host': ['hv1']}, 'vm_domain_xml: host must be the facts of one host'),
    ({'host': {'ansible_facts': {'libvirt_host_caps': 'x'}}}, 'libvirt_host_caps is string'),
    ({'host': {'libvirt_host_caps': {'schema_version': 1, 'traits': [{}]}}}, 'libvirt_host_caps.traits\\[0\\] is a mapping'),
    ({'host_name': 7, 'host': {}}, 'host_name must be a string, got integer 7'),
    ({'placement': 'hv1', 'host': {}}, "placement must be vm_place's answer"),
    ({'catalog': 'x', 'host': {}}, 'catalog must be a mapping'),
])
def test_arguments_of_the_wrong_shape_are_filter_errors(kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        vm_domain_xml(VM, **kwargs)


def test_a_catalog_with_errors_writes_no_domain():
    with pytest.raises(AnsibleFilterError, match="cannot be written as a domain: QoS policy 'gold' \\(qos_policies\\[0\\].cpu.shares\\)"):
        vm_domain_xml(VM, host=hostvars('milan'), catalog={'qos_policies': [{'name': 'gold', 'cpu': {'shares': 'x'}}]})


def test_without_lxml_the_filter_says_what_to_install(monkeypatch):
    monkeypatch.setattr(domain_build, 'etree', None)
    with pytest.raises(AnsibleFilterError, match='^vm_domain_xml: vm_domain_xml needs the Python package lxml on the controller'):
        vm_domain_xml(VM, host=hostvars('milan'), catalog=CATALOG)
