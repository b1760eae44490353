# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.capabilities import parse_capabilities
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery import libvirt_conn
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.collect import default_probes, live_sources, resolve_probes
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.libvirt_conn import is_test_driver, reads_local_sysfs, safe_uri
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.host_facts import SUBSETS, build_facts
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.subsets import SubsetError, resolve_subsets


@pytest.mark.parametrize('uri, expected', [
    ('qemu+ssh://admin:s3cret@hv1.example.com:2222/system?keyfile=/root/.ssh/id', 'qemu+ssh://hv1.example.com:2222/system'),
    ('qemu:///system', 'qemu:///system'),
    ('test:///default', 'test:///default'),
])
def test_safe_uri_drops_credentials_and_query(uri, expected):
    assert safe_uri(uri) == expected


@pytest.mark.parametrize('uri, local', [
    ('qemu:///system', True), ('qemu+unix:///system', True), ('test:///default', False),
    ('qemu+ssh://hv1/system', False), ('qemu://localhost/system', True),
])
def test_sysfs_is_read_only_for_local_real_drivers(uri, local):
    assert reads_local_sysfs(uri) is local


def test_default_probes_cover_default_machine_and_aliases(fixture_xml):
    probes = default_probes(parse_capabilities(fixture_xml('debian12-epyc-milan-kvm.caps.xml')))
    assert ('x86_64', 'pc', 'kvm', True) in probes
    assert ('x86_64', 'q35', 'kvm', False) in probes
    assert ('i686', 'q35', 'kvm', False) in probes
    assert all(virttype == 'kvm' for dummy, dummy2, virttype, dummy3 in probes)


def test_the_alias_of_the_default_machine_replaces_a_default_probe(fixture_xml):
    probes = default_probes(parse_capabilities(fixture_xml('debian12-epyc-milan-kvm.caps.xml')))
    assert not [p for p in probes if p[1] is None]


def test_aarch64_probes_the_virt_alias_as_default(fixture_xml):
    probes = default_probes(parse_capabilities(fixture_xml('aarch64-gic.caps.xml')))
    assert probes == [('aarch64', 'virt', 'kvm', True)]


def test_default_probes_fall_back_to_the_driver_type(fixture_xml):
    probes = default_probes(parse_capabilities(fixture_xml('testdriver.caps.xml')))
    assert probes == [('i686', None, 'test', True)]


def test_user_probes_get_host_arch_and_kvm(fixture_xml):
    caps = parse_capabilities(fixture_xml('debian12-epyc-milan-kvm.caps.xml'))
    assert resolve_probes([{'machine': 'q35'}], caps) == [('x86_64', 'q35', 'kvm', False)]
    assert resolve_probes([{'arch': 'x86_64', 'virttype': 'qemu'}], caps) == [('x86_64', None, 'qemu', True)]


@pytest.mark.parametrize('requested, expected', [
    (['all'], list(SUBSETS)),
    (['!cpu'], [s for s in SUBSETS if s != 'cpu']),
    (['all', '!domain_capabilities'], [s for s in SUBSETS if s != 'domain_capabilities']),
    (['!all', 'cpu'], ['cpu']),
    (['memory', 'cpu'], ['cpu', 'memory']),
    (['!all'], []),
])
def test_gather_subset_grammar(requested, expected):
    assert resolve_subsets(requested, SUBSETS) == expected


def test_unknown_subset_names_the_choices():
    with pytest.raises(SubsetError, match="unknown subset 'cpus'; use all, host, cpu"):
        resolve_subsets(['cpus'], SUBSETS)


@pytest.mark.parametrize('uri, simulated', [
    ('test:///default', True), ('test:///srv/fleet/node-a.xml', True), ('test+tcp://hv1/default', True),
    ('qemu:///system', False), ('qemu+ssh://hv1/system', False), ('hv1', False),
])
def test_the_test_driver_is_told_apart(uri, simulated):
    assert is_test_driver(uri) is simulated


@pytest.mark.skipif(not libvirt_conn.HAS_LIBVIRT, reason='libvirt-python is not installed')
def test_a_test_driver_host_does_not_take_this_machines_host_name():
    # libvirt's test driver answers virConnectGetHostname with this machine's name.
    conn = libvirt_conn.connect('test:///default')
    try:
        assert conn.getHostname() == socket.gethostname()
        src = live_sources(conn, 'test:///default')
        facts = build_facts(src, uri='test:///default')
    finally:
        conn.close()
    assert facts['host_info']['hostname'] is None
    assert {'category': 'host_info', 'severity': 'error',
            'message': "hostname: libvirt's test driver names the machine it runs on, not the simulated host "
                       "(test:///default)"} in facts['errors']
    # What the simulated host does describe is still read from the driver.
    assert facts['host_info']['online_cpus'] == 16 and facts['host_info']['hypervisor'] == 'TEST'
