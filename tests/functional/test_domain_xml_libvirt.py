# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The domain XML of vm_domain_xml against this machine's own libvirt (qemu:///system).

This host's facts are gathered as libvirt_host_caps and sriov_facts gather them (the same
module_utils, read-write), with a TCG probe of q35 besides the default ones. A storage
pool in a directory of its own and an isolated network, both transient, stand for the
table's pool and network. Then:

- every VM of the unit tests' table that this host can run is defined with libvirt's
  own validation (VIR_DOMAIN_DEFINE_VALIDATE), read back and undefined;
- a subset is started: the firmware runs without an OS image, and the live XML is read
  back;
- Secure Boot with a TPM 2.0 on q35 is started and its live XML read back. It runs under
  TCG: this machine is a nested KVM guest whose KVM has no System Management Mode, which
  Secure Boot needs ("System Management Mode not supported by this hypervisor").

A KVM guest here also needs a CPU model libvirt calls usable: host-model and
host-passthrough guests stop at "failed to set MSR 0x10a" on this machine (see
tests/unit/fixtures/libvirt/README.md), so the started KVM guests take the first usable
custom model of this host's facts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import tempfile
import time
import uuid

import pytest

from lxml import etree

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.collect import live_sources
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.host_facts import build_facts
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.sriov_collect import gather_sriov
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.domain_build import BuildError, domain_xml
from ansible_collections.virtumancer.hostcaps.tests.unit.domain_xml_table import CATALOG, DISK, NETWORK, POOL, TABLE

libvirt = pytest.importorskip('libvirt', reason='libvirt-python is in requirements.txt; run make venv')

URI = 'qemu:///system'
PROBES = [{'arch': 'x86_64', 'virttype': 'kvm'}, {'arch': 'x86_64', 'machine': 'pc', 'virttype': 'kvm'},
          {'arch': 'x86_64', 'machine': 'q35', 'virttype': 'kvm'}, {'arch': 'x86_64', 'machine': 'q35', 'virttype': 'qemu'}]
# The rows of the table written for this machine's kind of host (the Debian 12 test
# machine's captured XML): each must be definable here.
OWN_KINDS = ('milan', 'milan-tcg')
UNDEFINE = libvirt.VIR_DOMAIN_UNDEFINE_NVRAM | libvirt.VIR_DOMAIN_UNDEFINE_TPM
RUNNING_WAIT = 4


def _remove_leftover(lookup, name):
    try:
        found = lookup(name)
    except libvirt.libvirtError:
        return
    if found.isActive():
        found.destroy()
    if found.isPersistent():
        found.undefine()


@pytest.fixture(scope='module')
def conn():
    try:
        connection = libvirt.open(URI)
    except libvirt.libvirtError as exc:
        pytest.fail('%s does not answer (%s); start libvirtd (make libvirtd)' % (URI, exc), pytrace=False)
    yield connection
    connection.close()


@pytest.fixture(scope='module')
def host(conn):
    """hostvars of this host, with the table's pool and network present, and the pool."""
    _remove_leftover(conn.storagePoolLookupByName, POOL)
    _remove_leftover(conn.networkLookupByName, NETWORK)
    # qemu runs as another user: the directory must be one it can reach.
    directory = tempfile.mkdtemp(prefix='hostcaps-xml-', dir='/var/lib/libvirt/images')
    os.chmod(directory, 0o711)
    pool = conn.storagePoolCreateXML("<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>"
                                     % (POOL, directory), 0)
    # Isolated, without addresses: no dnsmasq, nothing leaves the host.
    network = conn.networkCreateXML("<network><name>%s</name><bridge name='hcxml%s' stp='on' delay='0'/></network>"
                                    % (NETWORK, uuid.uuid4().hex[:6]))
    try:
        facts = build_facts(live_sources(conn, URI, '/sys', PROBES, read_only=False), uri=URI)
        sriov = gather_sriov('/sys', conn, proc_root='/proc')
        yield {'inventory_hostname': 'localhost', 'ansible_facts': {'libvirt_host_caps': facts, 'sriov': sriov}}, pool
    finally:
        for volume in pool.listAllVolumes():
            volume.delete()
        pool.destroy()
        network.destroy()
        shutil.rmtree(directory, ignore_errors=True)


def _volumes(pool, root):
    for source in root.findall("devices/disk[@type='volume']/source"):
        assert source.get('pool') == POOL
        pool.createXML("<volume><name>%s</name><capacity unit='M'>64</capacity><allocation>0</allocation>"
                       "<target><format type='raw'/></target></volume>" % source.get('volume'), 0)


def _define(conn, pool, xml_text):
    root = etree.fromstring(xml_text)
    _volumes(pool, root)
    _remove_leftover(conn.lookupByName, root.findtext('name'))
    return conn.defineXMLFlags(xml_text, libvirt.VIR_DOMAIN_DEFINE_VALIDATE), root


def _clean(conn, pool, domain):
    if domain.isActive():
        domain.destroy()
    domain.undefineFlags(UNDEFINE)
    for volume in pool.listAllVolumes():
        volume.delete()


def test_every_domain_of_the_table_this_host_can_run_is_defined_with_validation(conn, host):
    hostvars, pool = host
    defined, refused = [], {}
    for ident, kind, definition in TABLE:
        try:
            xml_text = domain_xml(definition, hostvars, CATALOG)
        except BuildError as exc:
            refused[ident] = str(exc)
            continue
        domain, root = _define(conn, pool, xml_text)
        try:
            back = etree.fromstring(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
            assert back.find('os/type').get('machine') == root.find('os/type').get('machine')
            assert back.findtext('uuid') == root.findtext('uuid')
            assert len(back.findall('devices/disk')) == len(root.findall('devices/disk'))
            defined.append(ident)
        finally:
            _clean(conn, pool, domain)
    own = [ident for ident, kind, definition in TABLE if kind in OWN_KINDS]
    assert set(own) <= set(defined), dict((ident, refused.get(ident)) for ident in own if ident not in defined)
    # The others need what this host lacks, and say so by the field.
    for ident, message in refused.items():
        assert "host 'localhost'" in message, message
    assert len(defined) >= 20


def _usable_model(hostvars, virt_type='kvm', machine='q35'):
    """The first CPU model libvirt calls usable for ``machine`` in this host's facts."""
    for entry in hostvars['ansible_facts']['libvirt_host_caps']['domain_capabilities']:
        if entry['virttype'] == virt_type and entry.get('requested_machine') == machine:
            return entry['cpu']['models']['usable'][0]
    raise AssertionError('no %s %s probe in the facts' % (virt_type, machine))


def _start(conn, domain):
    domain.create()
    deadline = time.time() + RUNNING_WAIT
    while time.time() < deadline:
        state = domain.state()[0]
        assert state == libvirt.VIR_DOMAIN_RUNNING, 'the domain left the running state: %r' % (domain.state(),)
        time.sleep(0.5)
    return etree.fromstring(domain.XMLDesc(0))


@pytest.mark.parametrize('ident, more', [
    ('start-bios-q35', {'machine': 'q35'}),
    ('start-bios-pc-tpm-1.2', {'machine': 'pc', 'tpm': '1.2'}),
    ('start-bios-q35-tpm-2.0-numa', {'machine': 'q35', 'tpm': '2.0', 'numa_nodes': 2}),
    # OVMF is 64-bit code, which none of the CPU models KVM can give here runs: under TCG.
    ('start-efi-q35-tcg', {'machine': 'q35', 'firmware': 'efi', 'virt_type': 'qemu'}),
])
def test_a_subset_starts_and_reads_back_as_written(conn, host, ident, more):
    hostvars, pool = host
    definition = dict({'name': 'hostcaps-' + ident, 'vcpus': 2, 'memory_mb': 256, 'disk_gb': 0, 'disks': [DISK],
                       'networks': [{'network': NETWORK}]}, **more)
    if more.get('virt_type') != 'qemu':
        definition['cpu'] = {'mode': 'custom', 'model': _usable_model(hostvars)}
    domain, root = _define(conn, pool, domain_xml(definition, hostvars, CATALOG))
    try:
        live = _start(conn, domain)
        assert live.find('os/type').get('machine') == root.find('os/type').get('machine')
        if 'cpu' in definition:
            assert live.find('cpu/model').text == definition['cpu']['model']
        assert live.find("devices/interface[@type='network']/source").get('network') == NETWORK
        assert live.find('devices/disk/source').get('volume') == 'hostcaps-%s-disk0' % ident
        if more.get('tpm'):
            assert live.find('devices/tpm/backend').attrib['version'] == more['tpm']
        if more.get('firmware') == 'efi':
            # libvirt chose a firmware without Secure Boot: the plain OVMF build here.
            loader = live.find('os/loader')
            assert loader.get('type') == 'pflash' and loader.get('secure') != 'yes', etree.tostring(loader)
            assert loader.text in hostvars['ansible_facts']['libvirt_host_caps']['security_info']['firmware_paths']
            assert live.find('os/nvram') is not None
        if more.get('numa_nodes'):
            assert [c.get('cpus') for c in live.findall('cpu/numa/cell')] == ['0', '1']
    finally:
        _clean(conn, pool, domain)


def test_secure_boot_with_tpm_2_0_on_q35_starts_and_reads_back(conn, host):
    hostvars, pool = host
    definition = {'name': 'hostcaps-start-secure-boot', 'vcpus': 1, 'memory_mb': 512, 'disk_gb': 0, 'disks': [DISK],
                  'networks': [{'network': NETWORK}], 'virt_type': 'qemu', 'machine': 'q35', 'firmware': 'efi',
                  'secure_boot': True, 'tpm': '2.0'}
    domain, root = _define(conn, pool, domain_xml(definition, hostvars, CATALOG))
    try:
        live = _start(conn, domain)
        loader = live.find('os/loader')
        assert (loader.get('secure'), loader.get('type'), loader.get('readonly')) == ('yes', 'pflash', 'yes')
        assert loader.text in hostvars['ansible_facts']['libvirt_host_caps']['security_info']['firmware_paths']
        # Enrolled keys: the variable store starts from the template with Microsoft's keys
        # (OVMF_VARS_4M.ms.fd in Debian's OVMF).
        assert live.find('os/nvram').get('template').endswith('.ms.fd')
        assert live.find('features/smm').get('state') == 'on'
        tpm = live.find('devices/tpm')
        assert (tpm.get('model'), tpm.find('backend').get('type'), tpm.find('backend').get('version')) == ('tpm-crb', 'emulator', '2.0')
        assert live.find('os/type').get('machine') == root.find('os/type').get('machine')
        assert root.find('os/type').get('machine').startswith('pc-q35-')
    finally:
        _clean(conn, pool, domain)


def test_a_started_vm_has_its_qos_policy_live(conn, host):
    """Every section but the bandwidth: libvirt shapes an interface with tc's sfq qdisc,
    which this machine's kernel does not have ("Specified qdisc kind is unknown"). The
    bandwidth is defined with the table's qos-bandwidth rows above."""
    hostvars, pool = host
    policy = dict([entry for entry in CATALOG['qos_policies'] if entry['name'] == 'everything'][0], name='live')
    policy.pop('network')
    catalog = dict(CATALOG, qos_policies=CATALOG['qos_policies'] + [policy])
    definition = {'name': 'hostcaps-start-qos', 'vcpus': 2, 'memory_mb': 256, 'disk_gb': 0, 'machine': 'q35', 'disks': [DISK],
                  'networks': [{'network': NETWORK}], 'qos_policy': 'live', 'cpu': {'mode': 'custom', 'model': _usable_model(hostvars)}}
    domain, root = _define(conn, pool, domain_xml(definition, hostvars, catalog))
    try:
        live = _start(conn, domain)
        scheduler = domain.schedulerParametersFlags(libvirt.VIR_DOMAIN_AFFECT_LIVE)
        assert (scheduler['cpu_shares'], scheduler['vcpu_period'], scheduler['vcpu_quota']) == (
            policy['cpu']['shares'], policy['cpu']['period'], policy['cpu']['quota'])
        assert domain.memoryParameters(libvirt.VIR_DOMAIN_AFFECT_LIVE)['soft_limit'] == policy['memory']['soft_limit_mb'] * 1024
        assert domain.blkioParameters(libvirt.VIR_DOMAIN_AFFECT_LIVE)['weight'] == policy['blkio_weight']
        iotune = domain.blockIoTune(live.find('devices/disk/target').get('dev'), libvirt.VIR_DOMAIN_AFFECT_LIVE)
        assert (iotune['read_iops_sec'], iotune['write_iops_sec']) == (policy['disk']['read_iops_sec'], policy['disk']['write_iops_sec'])
    finally:
        _clean(conn, pool, domain)
