# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The domain XML of a VM on its host (domain_build): every domain of the table passes
libvirt's own schema, every value comes from the host's facts, and what cannot be
expressed is an error naming the field."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re
import shutil
import subprocess

import pytest

from lxml import etree

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy import domain_build
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.domain_build import BuildError, domain_volumes, domain_xml
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.placement import place_vms
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.qos import qos_tuning
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_validate import InputError
from ansible_collections.virtumancer.hostcaps.tests.unit.domain_xml_table import (
    CATALOG, DISK, NETWORK, POOL, TABLE, host_facts, hostvars, pool, sriov_facts,
)

VALIDATOR = shutil.which('virt-xml-validate')
SCHEMA = '/usr/share/libvirt/schemas/domaincommon.rng'


def build(vm, kind='milan', catalog=None, **kwargs):
    return etree.fromstring(domain_xml(vm, hostvars(kind), catalog or CATALOG, **kwargs))


def vm(name='web01', **more):
    found = {'name': name, 'vcpus': 2, 'memory_mb': 1024, 'disk_gb': 0, 'disks': [DISK], 'networks': [{'network': NETWORK}]}
    found.update(more)
    return found


def error(vm_definition, kind='milan', catalog=None, **kwargs):
    with pytest.raises(BuildError) as err:
        domain_xml(vm_definition, hostvars(kind), catalog or CATALOG, **kwargs)
    return str(err.value)


# -- libvirt's schema ------------------------------------------------------------------


def _schema_knows(launch_type):
    """Whether the installed libvirt schema has ``<launchSecurity type=launch_type>``:
    libvirt 9.0 (Debian 12) knows sev and s390-pv; sev-snp came with 10.5, tdx with 11.x."""
    with open(SCHEMA) as handle:
        return '<value>%s</value>' % launch_type in handle.read()


def validate(xml_text, tmp_path, schema='domain'):
    path = tmp_path / ('%s.xml' % schema)
    path.write_text(xml_text)
    result = subprocess.run([VALIDATOR, str(path), schema], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, check=False)
    assert result.returncode == 0, result.stdout + xml_text


def test_the_table_has_every_variant():
    assert len(TABLE) >= 30
    vms = [entry[2] for entry in TABLE]
    for key, values in (('firmware', ('efi',)), ('secure_boot', (True,)), ('tpm', ('1.2', '2.0')), ('hugepages', ('2M', '1G')),
                        ('memory_encryption', ('sev', 'sev-es', 'sev-snp', 'tdx'))):
        assert set(values) <= set(entry.get(key) for entry in vms), key
    assert any(entry.get('sriov_vfs') for entry in vms) and any(entry.get('pci_devices') for entry in vms)
    assert any((entry.get('cpu') or {}).get('dedicated') and entry.get('numa_nodes', 1) > 1 for entry in vms)
    used = set()
    for entry in vms:
        if entry.get('qos_policy'):
            used.update(qos_tuning(POLICIES[entry['qos_policy']]))
    assert used == {'cputune', 'memtune', 'blkiotune', 'iotune', 'bandwidth'}


@pytest.mark.skipif(VALIDATOR is None, reason='virt-xml-validate is not installed (Debian: libvirt-clients; bindep.txt test profile)')
@pytest.mark.parametrize('kind, definition', [entry[1:] for entry in TABLE], ids=[entry[0] for entry in TABLE])
def test_every_domain_of_the_table_passes_libvirts_schema(kind, definition, tmp_path):
    text = domain_xml(definition, hostvars(kind), CATALOG)
    root = etree.fromstring(text)
    launch = root.find('launchSecurity')
    if launch is not None and not _schema_knows(launch.get('type')):
        # This libvirt's schema predates the type: the rest of the document is validated
        # against it, the element itself against libvirt's documented form (formatdomain,
        # "Launch Security": sev-snp with cbitpos, reducedPhysBits and a 64-bit policy;
        # tdx with a policy).
        expected = {'sev-snp': ['cbitpos', 'reducedPhysBits', 'policy'], 'tdx': ['policy']}[launch.get('type')]
        assert [child.tag for child in launch] == expected
        assert re.match(r'^0x[0-9a-f]{8}$', launch.find('policy').text)
        root.remove(launch)
        text = etree.tostring(root, encoding='unicode')
    validate(text, tmp_path)


def test_the_same_vm_and_host_give_the_same_xml():
    for ident, kind, definition in TABLE[:8]:
        assert domain_xml(definition, hostvars(kind), CATALOG) == domain_xml(copy.deepcopy(definition), hostvars(kind), CATALOG)


# -- what the host's facts decide --------------------------------------------------------


@pytest.mark.parametrize('kind, machine, expected', [
    ('milan', 'pc', 'pc-i440fx-7.2'),
    ('milan', 'q35', 'pc-q35-7.2'),
    ('milan', None, 'pc-i440fx-7.2'),
    ('milan', 'pc-q35-6.2', 'pc-q35-6.2'),
    ('tdx', 'q35', 'pc-q35-10.1'),
    ('arm', None, 'virt-7.2'),
])
def test_a_machine_alias_becomes_the_hosts_versioned_machine(kind, machine, expected):
    definition = vm(machine=machine, **({'firmware': 'efi', 'cpu': {'mode': 'host-passthrough'}} if kind == 'arm' else {}))
    assert build(definition, kind).find('os/type').get('machine') == expected


@pytest.mark.parametrize('kind, arch, emulator', [
    ('milan', None, '/usr/bin/qemu-system-x86_64'),
    ('milan', 'i686', '/usr/bin/qemu-system-i386'),
    ('arm', None, '/usr/bin/qemu-system-aarch64'),
])
def test_the_emulator_and_arch_are_the_hosts(kind, arch, emulator):
    definition = vm(arch=arch, **({'firmware': 'efi', 'cpu': {'mode': 'host-passthrough'}} if kind == 'arm' else {}))
    root = build(definition, kind)
    assert root.findtext('devices/emulator') == emulator
    assert root.find('os/type').get('arch') == (arch or host_facts(kind)['host_info']['arch'])


def test_secure_boot_asks_for_enrolled_keys_a_secure_loader_and_smm():
    root = build(vm(machine='q35', firmware='efi', secure_boot=True))
    assert root.find('os').get('firmware') == 'efi'
    assert [(f.get('name'), f.get('enabled')) for f in root.findall('os/firmware/feature')] == [
        ('enrolled-keys', 'yes'), ('secure-boot', 'yes')]
    assert root.find('os/loader').attrib == {'secure': 'yes'}
    assert root.find('features/smm').get('state') == 'on'


def test_uefi_without_secure_boot_asks_for_firmware_without_it():
    root = build(vm(machine='q35', firmware='efi'))
    assert [(f.get('name'), f.get('enabled')) for f in root.findall('os/firmware/feature')] == [('secure-boot', 'no')]
    assert root.find('os/loader') is None and root.find('features/smm') is None


def test_bios_leaves_the_firmware_to_qemu():
    root = build(vm(machine='q35'))
    assert root.find('os').get('firmware') is None and root.find('os/firmware') is None


@pytest.mark.parametrize('kind, machine, version, model', [
    ('milan', 'q35', '2.0', 'tpm-crb'),
    ('milan', 'pc', '2.0', 'tpm-crb'),
    ('milan', 'q35', '1.2', 'tpm-tis'),
    ('arm', None, '2.0', 'tpm-tis'),
])
def test_the_tpm_emulator_has_the_version_asked_and_a_model_the_host_offers(kind, machine, version, model):
    definition = vm(machine=machine, tpm=version, **({'firmware': 'efi', 'cpu': {'mode': 'host-passthrough'}} if kind == 'arm' else {}))
    tpm = build(definition, kind).find('devices/tpm')
    assert tpm.get('model') == model
    assert tpm.find('backend').attrib == {'type': 'emulator', 'version': version}


@pytest.mark.parametrize('kind, encryption, launch_type, cbitpos, policy', [
    ('sev', 'sev', 'sev', '47', '0x0033'),
    ('sev', 'sev-es', 'sev', '47', '0x0037'),
    ('snp', 'sev-snp', 'sev-snp', '51', '0x00030000'),
    ('tdx', 'tdx', 'tdx', None, '0x10000000'),
])
def test_launch_security_carries_the_hosts_cbitpos_and_the_documented_policy(kind, encryption, launch_type, cbitpos, policy):
    root = build(vm(machine='q35', firmware='efi', memory_encryption=encryption), kind)
    launch = root.find('launchSecurity')
    assert (launch.get('type'), launch.findtext('cbitpos'), launch.findtext('policy')) == (launch_type, cbitpos, policy)
    if cbitpos:
        assert launch.findtext('reducedPhysBits') == '1'


@pytest.mark.parametrize('feature,value', [('sev', True), ('sev', ['47']), ('gic', True), ('gic', 'supported')])
def test_a_domain_capability_feature_of_another_shape_is_unknown_not_a_crash(feature, value):
    """A damaged cache can hold a scalar where libvirt's element was: the host is refused
    naming the SEV value, and a GIC is simply not written."""
    host = copy.deepcopy(hostvars('sev'))
    for domcaps in host['ansible_facts']['libvirt_host_caps']['domain_capabilities']:
        domcaps.setdefault('features', {})[feature] = value
    definition = vm(machine='q35', firmware='efi', memory_encryption='sev') if feature == 'sev' else vm()
    if feature == 'sev':
        with pytest.raises(BuildError, match=r'features\.sev is a (boolean|list), expected a mapping'):
            domain_xml(definition, host, CATALOG)
    else:
        assert etree.fromstring(domain_xml(definition, host, CATALOG)).find('features/gic') is None


def test_a_host_name_of_any_length_leaves_the_message_short():
    """Without an inventory name, the host is named by the hostname libvirt reported, which
    a damaged cache can make as long as it likes."""
    host = copy.deepcopy(hostvars('milan'))
    del host['inventory_hostname']
    host['ansible_facts']['libvirt_host_caps']['host_info']['hostname'] = '9' * 5000
    with pytest.raises(BuildError) as err:
        domain_xml(vm(disks=[{'size_gb': 1, 'pool': 'nowhere'}]), host, CATALOG)
    message = str(err.value)
    assert "host '%s...'" % ('9' * 250) in message and len(message) < 600, message


def test_an_encrypted_guest_has_virtio_through_the_iommu_and_no_balloon():
    root = build(vm(machine='q35', firmware='efi', memory_encryption='sev', disks=[DISK, dict(DISK, bus='scsi')]), 'sev')
    assert root.find('devices/disk/driver').get('iommu') == 'on'
    assert root.find('devices/interface/driver').get('iommu') == 'on'
    assert root.find("devices/controller[@type='scsi']/driver").get('iommu') == 'on'
    assert root.find('devices/memballoon').get('model') == 'none'


@pytest.mark.parametrize('encryption', ['sev-snp', 'tdx'])
def test_snp_and_tdx_guests_have_stateless_firmware_and_no_smm(encryption):
    root = build(vm(machine='q35', firmware='efi', memory_encryption=encryption), 'snp' if encryption == 'sev-snp' else 'tdx')
    assert root.find('os/loader').attrib == {'stateless': 'yes'}
    assert root.find('features/smm').get('state') == 'off'


def test_hugepages_of_the_size_asked():
    assert build(vm(machine='q35', hugepages='2M'), 'sev').find('memoryBacking/hugepages/page').attrib == {
        'size': '2048', 'unit': 'KiB'}


def test_guest_nodes_hold_whole_hugepages_and_are_bound_to_distinct_host_cells():
    root = build(vm(machine='q35', hugepages='1G', memory_mb=3072, vcpus=3, numa_nodes=2), 'sev')
    cells = [(c.get('id'), c.get('cpus'), c.get('memory')) for c in root.findall('cpu/numa/cell')]
    assert cells == [('0', '0-1', str(2 * 1048576)), ('1', '2', str(1048576))]
    assert root.find('numatune/memory').attrib == {'mode': 'strict', 'nodeset': '0-1'}
    assert [(m.get('cellid'), m.get('nodeset')) for m in root.findall('numatune/memnode')] == [('0', '0'), ('1', '1')]


def test_dedicated_vcpus_are_pinned_to_cpus_of_the_cell_their_node_is_bound_to():
    root = build(vm(machine='q35', vcpus=8, memory_mb=4096, numa_nodes=2, cpu={'dedicated': True}), 'tdx')
    host_cells = dict((cell['id'], set(cell['cpus'])) for cell in host_facts('tdx')['memory_info']['cells'])
    bound = dict((int(m.get('cellid')), int(m.get('nodeset'))) for m in root.findall('numatune/memnode'))
    pins = dict((int(p.get('vcpu')), int(p.get('cpuset'))) for p in root.findall('cputune/vcpupin'))
    assert sorted(pins) == list(range(8)) and len(set(pins.values())) == 8
    for node, cell in enumerate(root.findall('cpu/numa/cell')):
        first, last = [int(n) for n in cell.get('cpus').split('-')]
        assert all(pins[vcpu] in host_cells[bound[node]] for vcpu in range(first, last + 1))
    assert root.find('cputune/emulatorpin').get('cpuset') is not None


def test_floating_guest_nodes_are_not_bound():
    root = build(vm(machine='q35', vcpus=4, memory_mb=4096, numa_nodes=2), 'sev')
    assert len(root.findall('cpu/numa/cell')) == 2
    assert root.find('numatune') is None and root.find('cputune') is None


def test_vfs_are_free_vfs_of_the_hosts_sriov_facts_in_address_order():
    root = build(vm(machine='q35', sriov_vfs=3, networks=[]), 'sev')
    addresses = [_address(i.find('source/address')) for i in root.findall("devices/interface[@type='hostdev']")]
    # 0000:3b:01.2 carries the host's own ens1f0v2 (candidate false in the sriov facts).
    assert addresses == ['0000:3b:01.0', '0000:3b:01.1', '0000:3b:01.3']
    assert all(i.get('managed') == 'yes' for i in root.findall("devices/interface[@type='hostdev']"))


def test_a_vf_a_domain_uses_is_not_handed_out_unless_it_is_the_vms_own():
    host = hostvars('sev')
    sriov = copy.deepcopy(sriov_facts())
    sriov['virtual_functions'][0]['assigned_to'] = 'other'
    sriov['virtual_functions'][1]['assigned_to'] = 'vf-own'
    host['ansible_facts'] = dict(host['ansible_facts'], sriov=sriov)
    root = etree.fromstring(domain_xml(vm('vf-own', machine='q35', sriov_vfs=1, networks=[]), host, CATALOG))
    assert _address(root.find("devices/interface[@type='hostdev']/source/address")) == '0000:3b:01.1'


def test_passthrough_devices_are_candidates_with_the_ids_asked():
    root = build(vm(machine='q35', pci_devices=[{'vendor': '10de', 'device': '2236'}, {'vendor': '0x10DE', 'device': '1E04'}]), 'sev')
    assert [_address(h.find('source/address')) for h in root.findall('devices/hostdev')] == ['0000:ca:00.0', '0000:65:00.0']


def test_disks_are_pool_volumes_in_the_pools_default_format_named_after_the_vm():
    root = build(vm(machine='q35', disks=[DISK, dict(DISK, bus='sata'), dict(DISK, bus='virtio')]))
    disks = [(d.get('type'), d.find('source').get('pool'), d.find('source').get('volume'), d.find('driver').get('type'),
              d.find('target').get('dev')) for d in root.findall('devices/disk')]
    assert disks == [('volume', POOL, 'web01-disk0', 'raw', 'vda'), ('volume', POOL, 'web01-disk1', 'raw', 'sda'),
                     ('volume', POOL, 'web01-disk2', 'raw', 'vdb')]


def test_networks_are_libvirt_network_interfaces_with_stable_macs():
    root = build(vm(networks=[{'network': NETWORK}, {'network': NETWORK, 'model': 'e1000e'}]))
    nics = root.findall("devices/interface[@type='network']")
    assert [(n.find('source').get('network'), n.find('model').get('type')) for n in nics] == [(NETWORK, 'virtio'), (NETWORK, 'e1000e')]
    macs = [n.find('mac').get('address') for n in nics]
    assert len(set(macs)) == 2 and all(mac.startswith('52:54:00:') for mac in macs)
    assert root.findtext('uuid') == build(vm(networks=[])).findtext('uuid')


# -- the QoS policy ----------------------------------------------------------------------

POLICIES = dict((policy['name'], policy) for policy in CATALOG['qos_policies'])


@pytest.mark.parametrize('name', sorted(POLICIES))
def test_a_qos_policy_is_written_as_qos_tuning_says(name):
    tuning = qos_tuning(POLICIES[name])
    root = build(vm(qos_policy=name, machine='q35', disks=[DISK, dict(DISK, bus='sata')],
                    networks=[{'network': NETWORK}, {'network': NETWORK, 'model': 'e1000e'}]))
    cputune = root.find('cputune')
    assert dict((c.tag, int(c.text)) for c in cputune) == tuning['cputune'] if 'cputune' in tuning else cputune is None
    memtune = root.find('memtune')
    assert dict((c.tag, int(c.text)) for c in memtune) == tuning['memtune'] if 'memtune' in tuning else memtune is None
    assert all(c.get('unit') == 'KiB' for c in (memtune if memtune is not None else ()))
    blkiotune = root.find('blkiotune')
    assert {'weight': int(blkiotune.findtext('weight'))} == tuning['blkiotune'] if 'blkiotune' in tuning else blkiotune is None
    for disk in root.findall('devices/disk'):
        iotune = disk.find('iotune')
        assert dict((c.tag, c.text if c.tag == 'group_name' else int(c.text)) for c in iotune) == tuning['iotune'] \
            if 'iotune' in tuning else iotune is None
    for nic in root.findall("devices/interface[@type='network']"):
        bandwidth = nic.find('bandwidth')
        assert dict((c.tag, dict((k, int(v)) for k, v in c.attrib.items())) for c in bandwidth) == tuning['bandwidth'] \
            if 'bandwidth' in tuning else bandwidth is None


def test_qos_cputune_and_pinning_share_one_cputune():
    cputune = build(vm(machine='q35', qos_policy='cpu-unlimited', cpu={'dedicated': True}), 'sev').find('cputune')
    assert [c.tag for c in cputune] == ['shares', 'quota', 'vcpupin', 'vcpupin', 'emulatorpin']


def test_a_bandwidth_on_a_vf_is_an_error():
    message = error(vm(machine='q35', sriov_vfs=1, qos_policy='network-shaped'), 'sev')
    assert message.startswith("vm 'web01': qos_policy: host 'hv-sev': interface the SR-IOV VF 0000:3b:01.0 is a hostdev interface")
    assert 'networks[0]' not in message


def test_a_floor_needs_a_network_of_forward_mode_route_nat_open_or_none():
    host = hostvars('milan')
    facts = copy.deepcopy(host_facts('milan'))
    facts['network_info']['networks'][0]['forward_mode'] = 'bridge'
    host['ansible_facts'] = dict(host['ansible_facts'], libvirt_host_caps=facts)
    with pytest.raises(BuildError) as err:
        domain_xml(vm(qos_policy='network-floor'), host, CATALOG)
    assert str(err.value).startswith("vm 'web01': qos_policy: host 'hv-milan': interface networks[0]: network.inbound.floor of "
                                     "QoS policy 'network-floor' (12500 KB/s) needs a network of forward mode route, nat, open or none")


# -- the placement ---------------------------------------------------------------------


def test_vm_place_hands_each_vm_of_a_batch_its_own_vfs_and_cpus_and_the_xml_uses_them():
    vms = [vm('nfv%d' % index, machine='q35', sriov_vfs=1, vcpus=2, cpu={'dedicated': True}, networks=[]) for index in range(3)]
    answer = place_vms(vms, CATALOG, {'hv-sev': hostvars('sev')})
    placed = dict((entry['vm'], entry) for entry in answer['placements'])
    assert [placed['nfv%d' % i]['devices']['vfs'] for i in range(3)] == [['0000:3b:01.0'], ['0000:3b:01.1'], ['0000:3b:01.3']]
    cpus = [cpu for entry in placed.values() for node in entry['numa'] for cpu in node['host_cpus']]
    assert len(cpus) == 6 and len(set(cpus)) == 6
    for index in range(3):
        root = etree.fromstring(domain_xml(vms[index], hostvars('sev'), CATALOG, placement=answer))
        assert _address(root.find("devices/interface[@type='hostdev']/source/address")) == placed['nfv%d' % index]['devices']['vfs'][0]
        assert sorted(int(p.get('cpuset')) for p in root.findall('cputune/vcpupin')) == sorted(
            placed['nfv%d' % index]['numa'][0]['host_cpus'])


def test_one_entry_of_the_placement_is_enough():
    definition = vm('gpu', machine='q35', pci_devices=[{'vendor': '10de', 'device': '2236'}])
    entry = place_vms([definition], CATALOG, {'hv-sev': hostvars('sev')})['placements'][0]
    assert entry['devices'] == {'vfs': [], 'pci': ['0000:ca:00.0']}
    assert _address(build(definition, 'sev', placement=entry).find('devices/hostdev/source/address')) == '0000:ca:00.0'


def test_the_host_must_be_the_one_the_placement_chose():
    entry = {'vm': 'web01', 'host': 'hv2', 'numa': None, 'devices': {'vfs': [], 'pci': []}}
    assert "placement: vm_place put it on host 'hv2', but host= holds the facts of 'hv-milan'" in error(vm(), placement=entry)


def test_an_unplaced_vm_says_why():
    answer = {'placements': [], 'unplaced': [{'vm': 'web01', 'reasons': ['3 hosts (a, b, c): MEMORY_MB needs 9']}]}
    assert "vm 'web01': placement: vm_place found no host for it (3 hosts (a, b, c): MEMORY_MB needs 9)" in error(vm(), placement=answer)


# -- what cannot be expressed --------------------------------------------------------------


@pytest.mark.parametrize('kind, definition, expected', [
    ('no-uefi', vm(machine='q35', firmware='efi', secure_boot=True),
     "vm 'web01': firmware: host 'hv-no-uefi': firmware efi: no UEFI firmware is installed"),
    ('no-uefi', vm(machine='q35', firmware='efi', secure_boot=True), "vm 'web01': secure_boot: host 'hv-no-uefi': no secure-boot-capable loader"),
    ('milan', vm(machine='pc', firmware='efi', secure_boot=True), 'secure_boot needs a q35 machine type (SMM)'),
    ('no-tpm', vm(machine='q35', tpm='2.0'), "vm 'web01': tpm: host 'hv-no-tpm': tpm 2.0 needs an emulated TPM (swtpm)"),
    ('milan', vm(machine='q35', firmware='efi', memory_encryption='sev'),
     "vm 'web01': memory_encryption: host 'hv-milan': memory_encryption sev: x86_64/pc-q35-7.2/kvm does not offer AMD SEV"),
    ('sev', vm(machine='q35', firmware='efi', memory_encryption='tdx'), "vm 'web01': memory_encryption: host 'hv-sev': Intel TDX is not offered"),
    ('snp', vm(machine='q35', firmware='efi', memory_encryption='sev-snp', secure_boot=True),
     "vm 'web01': secure_boot: host 'hv-snp' cannot give a sev-snp guest Secure Boot"),
    ('sev', vm(machine='q35', sriov_vfs=4), "vm 'web01': sriov_vfs: host 'hv-sev': needs 4 free SR-IOV VFs; 3 of 4 are free"),
    ('milan', vm(machine='q35', sriov_vfs=1), "vm 'web01': sriov_vfs: host 'hv-milan' has no sriov facts to choose its devices from; "
                                              "gather them with virtumancer.hostcaps.sriov_facts"),
    ('milan', vm(firmware='uefi'), "firmware must be one of bios, efi, got string 'uefi'; did you mean 'efi'?"),
    ('milan', vm(tpm='3.0'), 'tpm must be null, "1.2" or "2.0"'),
    ('milan', vm(disks=[{'size_gb': 1}]), "vm 'web01': disks[0].pool: host 'hv-milan' has no storage pool named default"),
    ('milan', vm(disks=[dict(DISK, pool='nope')]), "vm 'web01': disks[0].pool: host 'hv-milan': storage pool 'nope' does not exist"),
    ('milan', vm(networks=[{'network': 'nope'}]), "vm 'web01': networks[0].network: host 'hv-milan': network 'nope' does not exist"),
    ('milan', vm(machine='q35', hugepages='2M'), "vm 'web01': hugepages: host 'hv-milan': needs 512 2M pages for 1024 MiB; the host has 0 configured"),
    ('milan', vm(qos_policy='gold'), "qos_policy 'gold' is not in the catalog"),
])
def test_what_the_host_or_the_vm_cannot_express_is_an_error_naming_the_field(kind, definition, expected):
    assert expected in error(definition, kind)


def test_a_device_that_is_no_passthrough_candidate_is_not_given():
    host = hostvars('sev')
    sriov = copy.deepcopy(sriov_facts())
    gpu = [d for d in sriov['passthrough_devices'] if d['address'] == '0000:ca:00.0'][0]
    gpu.update(candidate=False, reason='its IOMMU group has 0000:ca:00.1 on a host driver')
    host['ansible_facts'] = dict(host['ansible_facts'], sriov=sriov)
    with pytest.raises(BuildError) as err:
        domain_xml(vm(machine='q35', pci_devices=[{'vendor': '10de', 'device': '2236'}]), host, CATALOG)
    assert "vm 'web01': pci_devices[0]: host 'hv-sev': needs 1 x 10de:2236" in str(err.value)
    assert 'not a passthrough candidate (0000:ca:00.0: its IOMMU group' in str(err.value)


def test_a_hugepage_vm_without_placement_needs_free_pages_known_per_cell(monkeypatch):
    host = hostvars('sev')
    facts = copy.deepcopy(host_facts('sev'))
    for cell in facts['memory_info']['cells']:
        for page in cell['pages']:
            page['free'] = None
    host['ansible_facts'] = dict(host['ansible_facts'], libvirt_host_caps=facts)
    with pytest.raises(BuildError) as err:
        domain_xml(vm(machine='q35', hugepages='1G', memory_mb=2048), host, CATALOG)
    assert "vm 'web01': numa_nodes: host 'hv-sev' has no 1 distinct NUMA cells with room" in str(err.value)
    assert 'place it with vm_place and pass placement' in str(err.value)


def test_every_problem_of_the_vm_is_named_at_once():
    message = error(vm(firmware='uefi', tpm='3.0', vcpus='2'))
    assert message.startswith("vm 'web01' cannot be written as a domain: ")
    assert 'vcpus must be an integer' in message and 'firmware must be one of' in message and 'tpm must be null' in message


@pytest.mark.parametrize('call, expected', [
    (lambda: domain_xml(vm(), None), 'host is required'),
    (lambda: domain_xml(vm(), 'hv1'), 'host must be the facts of one host'),
    (lambda: domain_xml(vm(), hostvars('milan'), placement=[]), "placement must be vm_place's answer"),
    (lambda: domain_xml(vm(), hostvars('milan'), placement={'placements': 'x'}), 'placement.placements must be a list'),
    (lambda: domain_xml(vm(), hostvars('milan'), placement={'vm': 'web01', 'host': 'hv-milan', 'devices': {'vfs': ['eth0']}}),
     'devices must be {vfs: [PCI address], pci: [PCI address]}'),
    (lambda: domain_xml(vm(), hostvars('milan'), catalog=[]), 'catalog must be a mapping'),
    (lambda: domain_xml(vm(), hostvars('milan'), placement={'vm': 'web01', 'host': 'hv-milan', 'numa': [
        {'guest_node': 0, 'host_cell': 0, 'host_cpus': ['0']}]}), 'host_cpus a list of CPU numbers'),
    (lambda: domain_xml(vm(), {'ansible_facts': {'libvirt_host_caps': {'schema_version': 2}}}), 'schema_version is 2'),
])
def test_arguments_of_the_wrong_shape_are_named(call, expected):
    with pytest.raises(InputError) as err:
        call()
    assert expected in str(err.value)


def test_a_name_xml_cannot_hold_is_an_error():
    host = hostvars('milan')
    facts = copy.deepcopy(host_facts('milan'))
    facts['network_info']['networks'] = None  # the network cannot be checked, so the name reaches the XML
    host['ansible_facts'] = {'libvirt_host_caps': facts}
    with pytest.raises(BuildError) as err:
        domain_xml(vm(networks=[{'network': 'lan\x01'}]), host, CATALOG)
    assert str(err.value).startswith("vm 'web01': a value cannot be written in XML (All strings must be XML compatible")


def test_a_host_without_facts_is_named():
    with pytest.raises(BuildError) as err:
        domain_xml(vm(), {'inventory_hostname': 'ghost', 'ansible_facts': {}})
    assert str(err.value).startswith('host ghost is skipped, no VM is checked against it: it has no facts at all.')


def test_without_lxml_the_message_says_what_to_install(monkeypatch):
    monkeypatch.setattr(domain_build, 'etree', None)
    with pytest.raises(ImportError) as err:
        domain_xml(vm(), hostvars('milan'))
    assert 'needs the Python package lxml on the controller' in str(err.value)


# -- the volumes of the disks ----------------------------------------------------------


def _with_pools(kind, *more):
    """hostvars of ``kind`` with the storage pools ``more`` (pool dicts) besides the table's."""
    found = copy.deepcopy(hostvars(kind))
    found['ansible_facts']['libvirt_host_caps']['storage_info']['pools'].extend(more)
    return found


def test_the_volumes_are_those_the_domain_names_in_its_disks_in_order():
    definition = vm(machine='q35', disks=[DISK, dict(DISK, size_gb=20, bus='sata'), dict(DISK, size_gb=3)])
    root = build(definition)
    volumes = domain_volumes(definition, hostvars('milan'), CATALOG)
    sources = [d.find('source') for d in root.findall('devices/disk')]
    assert [(v['pool'], v['name']) for v in volumes] == [(source.get('pool'), source.get('volume')) for source in sources]
    assert [(v['size_gb'], v['format']) for v in volumes] == [(1, 'raw'), (20, 'raw'), (3, 'raw')]
    second = etree.fromstring(volumes[1]['xml'])
    assert (second.findtext('name'), second.find('capacity').get('unit'), second.findtext('capacity')) == ('web01-disk1', 'GiB', '20')
    assert second.find('target/format').get('type') == 'raw'


def test_a_volume_of_a_directory_pool_is_sparse_and_one_of_lvm_is_allocated_in_full():
    host = _with_pools('milan', dict(pool('vg0'), type='logical'))
    volumes = domain_volumes(vm(disks=[DISK, {'size_gb': 8, 'pool': 'vg0'}]), host, CATALOG)
    sparse, full = [etree.fromstring(v['xml']) for v in volumes]
    assert sparse.findtext('allocation') == '0'
    # No default format for logical pools in the facts: libvirt chooses.
    assert full.find('allocation') is None and full.find('target/format') is None and volumes[1]['format'] is None


def test_a_vm_given_only_disk_gb_has_one_volume_of_that_size_in_the_default_pool():
    host = _with_pools('milan', pool('default'))
    definition = {'name': 'db01', 'resource_class': 'nfv.small', 'sriov_vfs': 0, 'disk_gb': 40}
    catalog = dict(CATALOG, resource_classes=[dict(CATALOG['resource_classes'][0], resources={})])
    assert [(v['pool'], v['name'], v['size_gb']) for v in domain_volumes(definition, host, catalog)] == [('default', 'db01-disk0', 40)]
    assert [(v['pool'], v['size_gb']) for v in domain_volumes(dict(definition, disk_gb=None), host, catalog)] == [('default', 1)]


def test_a_vm_without_disks_has_no_volumes():
    assert domain_volumes(vm(disks=[]), hostvars('milan'), CATALOG) == []


@pytest.mark.skipif(VALIDATOR is None, reason='virt-xml-validate is not installed (Debian: libvirt-clients; bindep.txt test profile)')
def test_every_volume_passes_libvirts_schema(tmp_path):
    host = _with_pools('milan', dict(pool('vg0'), type='logical'))
    for volume in domain_volumes(vm(disks=[DISK, {'size_gb': 8, 'pool': 'vg0'}]), host, CATALOG):
        validate(volume['xml'], tmp_path, 'storagevol')


def test_the_volumes_of_a_vm_that_cannot_be_written_are_the_same_error():
    definition = vm(machine='q35', firmware='efi', secure_boot=True)
    with pytest.raises(BuildError) as err:
        domain_volumes(definition, hostvars('no-uefi'), CATALOG)
    assert str(err.value) == error(definition, 'no-uefi')


def _address(element):
    return '%s:%s:%s.%s' % (element.get('domain')[2:], element.get('bus')[2:], element.get('slot')[2:], element.get('function')[2:])
