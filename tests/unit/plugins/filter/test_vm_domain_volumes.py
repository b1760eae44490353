# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vm_domain_volumes filter: the volumes vm_domain_xml's domain names, and every
refusal as a filter error, the one vm_domain_xml gives. The volumes themselves are tested
in module_utils/policy/test_domain_build.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError
from lxml import etree

from ansible_collections.virtumancer.hostcaps.plugins.filter.vm_domain_volumes import vm_domain_volumes
from ansible_collections.virtumancer.hostcaps.plugins.filter.vm_domain_xml import vm_domain_xml
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy import domain_build
from ansible_collections.virtumancer.hostcaps.tests.unit.domain_xml_table import CATALOG, DISK, NETWORK, POOL, hostvars

VM = {'name': 'web01', 'vcpus': 2, 'memory_mb': 1024, 'disk_gb': 0, 'machine': 'q35', 'disks': [DISK, dict(DISK, size_gb=5)],
      'networks': [{'network': NETWORK}]}


def test_the_filter_returns_the_volumes_the_domain_names():
    volumes = vm_domain_volumes(VM, host=hostvars('milan'), catalog=CATALOG)
    domain = etree.fromstring(vm_domain_xml(VM, host=hostvars('milan'), catalog=CATALOG))
    assert [(v['pool'], v['name'], v['size_gb']) for v in volumes] == [(POOL, 'web01-disk0', 1), (POOL, 'web01-disk1', 5)]
    assert [v['name'] for v in volumes] == [d.get('volume') for d in domain.findall('devices/disk/source')]
    assert etree.fromstring(volumes[1]['xml']).findtext('capacity') == '5'


@pytest.mark.parametrize('kind, vm, message', [
    ('milan', dict(VM, firmware='uefi'), "^vm_domain_volumes: vm 'web01' cannot be written as a domain: firmware must be one of "
                                         "bios, efi, got string 'uefi'; did you mean 'efi'\\?$"),
    ('milan', dict(VM, disks=[{'size_gb': 1}]), "^vm_domain_volumes: vm 'web01': disks\\[0\\].pool: host 'hv-milan' has no storage "
                                                "pool named default"),
    ('milan', 'web01', 'the VM cannot be written as a domain: vms\\[0\\] must be a mapping'),
])
def test_what_cannot_be_expressed_is_a_filter_error(kind, vm, message):
    with pytest.raises(AnsibleFilterError, match=message):
        vm_domain_volumes(vm, host=hostvars(kind), catalog=CATALOG)


@pytest.mark.parametrize('kwargs, message', [
    ({}, 'vm_domain_volumes: host is required'),
    ({'host': {}, 'hosts': {}}, "^vm_domain_volumes: unknown option 'hosts' \\(did you mean host\\?\\)"),
    ({'placement': 'hv1', 'host': {}}, "placement must be vm_place's answer"),
])
def test_arguments_of_the_wrong_shape_are_filter_errors(kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        vm_domain_volumes(VM, **kwargs)


def test_without_lxml_the_filter_says_what_to_install(monkeypatch):
    monkeypatch.setattr(domain_build, 'etree', None)
    with pytest.raises(AnsibleFilterError, match='^vm_domain_volumes: vm_domain_volumes needs the Python package lxml on the controller'):
        vm_domain_volumes(VM, host=hostvars('milan'), catalog=CATALOG)
