# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible_facts.sriov from fake sysfs trees laid out as the kernel lays out /sys, node
device and domain XML in libvirt's format, and iproute2's JSON."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.domain_xml import parse_assigned_pci
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.node_device import parse_pci_device
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.resources import derive_resources
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.sriov import build_sriov, merge_records
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.sriov_collect import gather_sriov
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.traits import derive_traits
from ansible_collections.virtumancer.hostcaps.tests.unit import sysfs_trees
from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import read_fixture

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures')
PCI_IDS = [os.path.join(FIXTURES, 'pci.ids')]


def ip_link(name):
    with open(os.path.join(FIXTURES, 'iproute2', name)) as handle:
        return handle.read()


def host(tmp_path, *scenarios):
    tree = sysfs_trees.SysfsTree(str(tmp_path))
    for scenario in scenarios:
        scenario(tree)
    return tree.root


def facts_of(tmp_path, *scenarios, **sources):
    return gather_sriov(host(tmp_path, *scenarios), pci_ids_paths=PCI_IDS, **sources)


def by_address(entries):
    return dict((entry['address'], entry) for entry in entries)


# -- Intel E810 with 4 VFs, 2 on vfio-pci --------------------------------------------


@pytest.fixture
def e810(tmp_path):
    return facts_of(tmp_path, sysfs_trees.intel_e810_4vf)


def test_e810_pf(e810):
    pf = e810['physical_functions'][0]
    assert (pf['address'], pf['driver'], pf['total_vfs'], pf['num_vfs'], pf['vf_device_id']) == (
        '0000:3b:00.0', 'ice', 128, 4, '1889')


def test_e810_pf_link(e810):
    pf = e810['physical_functions'][0]
    assert (pf['interface'], pf['mtu'], pf['link_state'], pf['speed_mbps']) == ('ens1f0', 9000, 'up', 25000)


def test_e810_names_from_pci_ids(e810):
    pf = e810['physical_functions'][0]
    assert pf['vendor_name'] == 'Intel Corporation'
    assert 'E810-C' in pf['device_name']


def test_e810_vfs_in_index_order_with_their_pf(e810):
    vfs = e810['virtual_functions']
    assert [vf['vf_index'] for vf in vfs] == [0, 1, 2, 3]
    assert set(vf['pf_address'] for vf in vfs) == {'0000:3b:00.0'}


def test_vfs_on_vfio_pci_are_passthrough_ready(e810):
    assert [vf['passthrough_ready'] for vf in e810['virtual_functions']] == [True, True, False, False]


def test_vf_netdev_and_mac_from_its_own_interface(e810):
    vf = by_address(e810['virtual_functions'])['0000:3b:01.2']
    assert (vf['interface'], vf['mac']) == ('ens1f0v2', '52:54:00:0e:81:02')


def test_without_libvirt_assignments_are_unknown(e810):
    assert e810['summary']['assignments_known'] is False
    assert e810['summary']['free_vfs'] is None
    assert all(vf['assigned_to'] is None for vf in e810['virtual_functions'])


def test_e810_summary(e810):
    summary = e810['summary']
    assert (summary['capable'], summary['configured'], summary['total_vfs'], summary['max_vfs']) == (True, True, 4, 128)


def test_sysfs_only_facts_say_their_source(e810):
    assert e810['physical_functions'][0]['sources'] == ['sysfs']
    assert e810['errors'] == []


def test_domain_assignment_marks_vfs_used(tmp_path):
    records = merge_records(sysfs_trees_records(tmp_path, sysfs_trees.intel_e810_4vf))
    assignments = dict((use['address'], use) for use in
                       parse_assigned_pci(read_fixture('web01-hostdev-vf.domain.xml')))
    facts = build_sriov(records, assignments)
    vfs = by_address(facts['virtual_functions'])
    assert vfs['0000:3b:01.1']['assigned_to'] == 'web01'
    assert (vfs['0000:3b:01.1']['mac'], vfs['0000:3b:01.1']['vlan']) == ('52:54:00:6d:90:02', 42)
    # Free is what a VM may be given: neither a domain nor the host uses it.
    host_used = [vf['address'] for vf in vfs.values() if not vf['assigned_to'] and vf['candidate'] is False]
    assert host_used and facts['summary']['free_vfs'] == 4 - len([vf for vf in vfs.values() if vf['assigned_to']]) - len(host_used)


def sysfs_trees_records(tmp_path, *scenarios):
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.pci_sysfs import read_pci_devices
    return read_pci_devices(host(tmp_path, *scenarios))


def test_vf_settings_from_iproute2(tmp_path):
    facts = facts_of(tmp_path, sysfs_trees.intel_e810_4vf,
                     ip_link_json=lambda: ip_link('intel-e810-4vf.ip-link.json'))
    vf0 = facts['virtual_functions'][0]
    assert (vf0['mac'], vf0['vlan'], vf0['trust'], vf0['spoofchk']) == ('52:54:00:12:34:01', 100, True, True)


def test_unset_vf_mac_in_iproute2_is_not_a_mac(tmp_path):
    facts = facts_of(tmp_path, sysfs_trees.intel_e810_4vf,
                     ip_link_json=lambda: ip_link('intel-e810-4vf.ip-link.json'))
    assert facts['virtual_functions'][3]['mac'] == '52:54:00:0e:81:03'  # its own netdev, not 00:00:...


def test_broken_iproute2_output_is_an_error_not_a_failure(tmp_path):
    facts = facts_of(tmp_path, sysfs_trees.intel_e810_4vf, ip_link_json=lambda: 'Object "link" is unknown')
    assert [e['source'] for e in facts['errors']] == ['iproute2']
    assert len(facts['virtual_functions']) == 4


def test_iproute2_of_a_host_without_vfs(tmp_path):
    facts = facts_of(tmp_path, sysfs_trees.plain_nic, ip_link_json=lambda: ip_link('debian12-no-sriov.ip-link.json'))
    assert facts['errors'] == []


# -- other NICs ----------------------------------------------------------------------


def test_mellanox_switchdev_eswitch_mode(tmp_path):
    pf = facts_of(tmp_path, sysfs_trees.mellanox_cx6_switchdev)['physical_functions'][0]
    assert (pf['interface'], pf['eswitch_mode']) == ('ens2f0np0', 'switchdev')


def test_pf_capable_with_zero_vfs(tmp_path):
    facts = facts_of(tmp_path, sysfs_trees.pf_capable_zero_vfs)
    assert (facts['summary']['capable'], facts['summary']['configured']) == (True, False)
    assert (facts['physical_functions'][0]['total_vfs'], facts['physical_functions'][0]['num_vfs']) == (64, 0)


def test_plain_nic_is_a_network_passthrough_candidate(tmp_path):
    facts = facts_of(tmp_path, sysfs_trees.plain_nic)
    assert facts['physical_functions'] == []
    assert [(d['address'], d['kind']) for d in facts['passthrough_devices']] == [('0000:02:00.0', 'network')]


def test_host_without_sriov_hardware(tmp_path):
    facts = facts_of(tmp_path, sysfs_trees.plain_nic)
    assert facts['summary']['capable'] is False
    assert facts['virtual_functions'] == []


# -- GPUs and IOMMU groups -----------------------------------------------------------


def test_gpu_alone_in_its_group_is_viable(tmp_path):
    gpu = facts_of(tmp_path, sysfs_trees.nvidia_gpu_alone)['passthrough_devices'][0]
    assert (gpu['kind'], gpu['iommu_group'], gpu['iommu_group_viable']) == ('gpu', 90, True)


def test_gpu_sharing_its_group_with_audio_on_another_driver_is_not_viable(tmp_path):
    devices = facts_of(tmp_path, sysfs_trees.gpu_with_audio_in_group)['passthrough_devices']
    assert [(d['address'], d['iommu_group_viable']) for d in devices] == [('0000:65:00.0', False)]


def test_bridges_in_the_group_do_not_spoil_it(tmp_path):
    tree = sysfs_trees.SysfsTree(str(tmp_path))
    tree.bridge('0000:00:01.0')
    tree.pci('0000:01:00.0', '10de', '2236', '030200', driver='vfio-pci', iommu_group=7, parent='0000:00:01.0')
    tree.iommu('0000:00:01.0', 7)
    gpu = gather_sriov(tree.root, pci_ids_paths=PCI_IDS)['passthrough_devices'][0]
    assert gpu['iommu_group_viable'] is True


def test_passthrough_devices_counted_per_vendor(tmp_path):
    facts = facts_of(tmp_path, sysfs_trees.nvidia_gpu_alone, sysfs_trees.plain_nic)
    assert facts['summary']['passthrough_by_vendor'] == {'NVIDIA Corporation': 1, 'Intel Corporation': 1}


# -- merging sysfs with libvirt ------------------------------------------------------


def test_sysfs_and_libvirt_records_merge_per_address(tmp_path):
    records = merge_records(sysfs_trees_records(tmp_path, sysfs_trees.intel_e810_4vf),
                            [parse_pci_device(read_fixture('intel-e810-pf-4vf.nodedev.xml'))])
    pf = records['0000:3b:00.0']
    assert pf['sources'] == ['sysfs', 'libvirt']
    assert pf['iommu_group'] == 40  # sysfs is read first and wins
    # Both read the link; only libvirt tells the port number.
    assert pf['pcie_link'] == {'max_speed_gts': 16.0, 'max_width': 16, 'speed_gts': 16.0, 'width': 16, 'port': 0}


def test_libvirt_alone_computes_vf_indexes_from_the_pf(fixture_xml):
    records = merge_records([parse_pci_device(fixture_xml(name)) for name in
                             ('intel-e810-pf-4vf.nodedev.xml', 'intel-e810-vf.nodedev.xml')])
    facts = build_sriov(records)
    assert [(vf['address'], vf['vf_index']) for vf in facts['virtual_functions']] == [
        ('0000:3b:01.0', 0), ('0000:3b:01.1', 1), ('0000:3b:01.2', 2), ('0000:3b:01.3', 3)]
    assert [vf['device_id'] for vf in facts['virtual_functions']] == ['1889', None, None, None]


# -- feeding traits and resources ----------------------------------------------------


def test_sriov_traits(tmp_path):
    facts = facts_of(tmp_path, sysfs_trees.intel_e810_4vf, sysfs_trees.nvidia_gpu_alone,
                     ip_link_json=lambda: ip_link('intel-e810-4vf.ip-link.json'))
    traits = derive_traits({}, sriov=facts)
    assert traits == ['CUSTOM_PCI_10DE_2236', 'HW_NIC_SRIOV', 'HW_NIC_SRIOV_TRUSTED']


def test_no_trust_known_gives_no_trusted_trait(e810):
    assert 'HW_NIC_SRIOV_TRUSTED' not in derive_traits({}, sriov=e810)


def test_free_vfs_feed_sriov_net_vf(tmp_path):
    records = merge_records(sysfs_trees_records(tmp_path, sysfs_trees.intel_e810_4vf))
    facts = build_sriov(records, {'0000:3b:01.0': {'domain': 'web01'}})
    # Used: the one web01 has and the one the host itself uses (candidate false).
    assert derive_resources({}, sriov=facts)['SRIOV_NET_VF'] == {
        'total': 4, 'reserved': 0, 'used': 2, 'allocation_ratio': 1.0}


def test_unknown_assignments_count_no_vf_as_used(e810):
    assert derive_resources({}, sriov=e810)['SRIOV_NET_VF']['used'] == 0


def test_free_gpus_feed_pgpu(tmp_path):
    records = merge_records(sysfs_trees_records(tmp_path, sysfs_trees.nvidia_gpu_alone,
                                                sysfs_trees.gpu_with_audio_in_group))
    facts = build_sriov(records, {'0000:ca:00.0': {'domain': 'render01'}})
    assert derive_resources({}, sriov=facts)['PGPU'] == {'total': 2, 'reserved': 0, 'used': 1, 'allocation_ratio': 1.0}


# -- passthrough candidates: IOMMU, group, and what the host itself uses -------------


def host_with_proc(tmp_path, *scenarios):
    """Facts of a fake /sys and /proc; each scenario takes (tree, proc)."""
    tree = sysfs_trees.SysfsTree(str(tmp_path / 'sys'))
    proc = sysfs_trees.ProcTree(str(tmp_path / 'proc'))
    for scenario in scenarios:
        scenario(tree, proc)
    return gather_sriov(tree.root, pci_ids_paths=PCI_IDS, proc_root=proc.root)


def test_only_nic_of_a_host_without_iommu_is_no_candidate(tmp_path):
    # This machine: 0000:00:03.0 carries eth0 with the default route, and no IOMMU.
    facts = host_with_proc(tmp_path, sysfs_trees.debian12_virtio_vm)
    nic = by_address(facts['passthrough_devices'])['0000:00:03.0']
    assert nic['candidate'] is False
    assert nic['reason'] == (
        'the host has no IOMMU: the kernel made no IOMMU groups (turn on VT-d or AMD-Vi in the firmware and boot with '
        'intel_iommu=on or amd_iommu=on); the host uses it: interface eth0 is up, has IPv6 addresses and carries the '
        'default route')
    assert (facts['summary']['iommu_active'], facts['summary']['iommu_groups'], facts['summary']['passthrough_candidates']) == (False, 0, 0)
    assert facts['errors'] == []


def test_nic_the_host_uses_is_no_candidate_even_with_an_iommu(tmp_path):
    def scenario(tree, proc):
        sysfs_trees.plain_nic(tree)
        proc.route('eno1')
    nic = host_with_proc(tmp_path, scenario)['passthrough_devices'][0]
    assert (nic['candidate'], nic['reason']) == (False, 'the host uses it: interface eno1 is up and carries the default route')


def test_nic_that_is_down_and_unrouted_is_a_candidate(tmp_path):
    tree = sysfs_trees.SysfsTree(str(tmp_path / 'sys'))
    proc = sysfs_trees.ProcTree(str(tmp_path / 'proc'))
    tree.bridge('0000:00:1c.0')
    tree.iommu('0000:00:1c.0', 15)
    tree.pci('0000:02:00.0', '8086', '1533', '020000', driver='igb', iommu_group=15, parent='0000:00:1c.0')
    tree.netdev('0000:02:00.0', 'eno1', 'ac:1f:6b:01:02:03', operstate='down')
    nic = gather_sriov(tree.root, proc_root=proc.root)['passthrough_devices'][0]
    # The root port shares the group; a bridge needs no passing along.
    assert (nic['candidate'], nic['reason'], nic['iommu_group_peers']) == (True, None, [])


def test_bridge_port_is_used_through_its_bridge(tmp_path):
    tree = sysfs_trees.SysfsTree(str(tmp_path / 'sys'))
    proc = sysfs_trees.ProcTree(str(tmp_path / 'proc'))
    tree.pci('0000:02:00.0', '8086', '1533', '020000', driver='igb', iommu_group=15)
    net_dir = tree.netdev('0000:02:00.0', 'eno1', 'ac:1f:6b:01:02:03', operstate='down')
    os.makedirs(tree.path('devices', 'virtual', 'net', 'br0'))
    os.symlink(tree.path('devices', 'virtual', 'net', 'br0'), os.path.join(net_dir, 'master'))
    nic = gather_sriov(tree.root, proc_root=proc.root)['passthrough_devices'][0]
    assert (nic['candidate'], nic['reason']) == (False, 'the host uses it: interface eno1 is a port of br0')


def test_without_proc_a_down_interface_leaves_the_verdict_unknown(tmp_path):
    tree = sysfs_trees.SysfsTree(str(tmp_path))
    tree.pci('0000:02:00.0', '8086', '1533', '020000', driver='igb', iommu_group=15)
    tree.netdev('0000:02:00.0', 'eno1', 'ac:1f:6b:01:02:03', operstate='down')
    nic = gather_sriov(tree.root)['passthrough_devices'][0]
    assert nic['candidate'] is None
    assert nic['reason'].startswith('whether the host uses it is unknown')


def test_nvme_holding_the_root_file_system_is_no_candidate(tmp_path):
    facts = host_with_proc(tmp_path, sysfs_trees.nvme_root_and_spares)
    drives = by_address(facts['passthrough_devices'])
    assert [(d['kind'], d['candidate']) for d in drives.values()] == [('nvme', False), ('nvme', False), ('nvme', True)]
    assert drives['0000:3d:00.0']['reason'] == (
        'the host uses it: partition nvme0n1p1 is mounted on /boot/efi; partition nvme0n1p2 is mounted on /; '
        'partition nvme0n1p3 is in use as swap')
    assert drives['0000:3e:00.0']['reason'] == 'the host uses it: disk nvme1n1 is held by dm-0'


def test_btrfs_mount_is_found_by_its_source(tmp_path):
    # btrfs reports an anonymous device number (0:N); only the source names the partition.
    def scenario(tree, proc):
        tree.pci('0000:3d:00.0', '144d', 'a80a', '010802', driver='nvme', iommu_group=20)
        tree.disk('0000:3d:00.0', 'nvme0n1', '259:0', under='nvme/nvme0', partitions=[('nvme0n1p2', '259:2')])
        proc.mount('/dev/nvme0n1p2', '0:45', '/srv/my data', fstype='btrfs')
    drive = host_with_proc(tmp_path, scenario)['passthrough_devices'][0]
    assert drive['reason'] == 'the host uses it: partition nvme0n1p2 is mounted on /srv/my data'


def test_gpu_with_its_audio_function_is_a_candidate_passed_together(tmp_path):
    gpu = facts_of(tmp_path, sysfs_trees.gpu_with_audio_in_group)['passthrough_devices'][0]
    # Not ready as it stands (the audio function is on snd_hda_intel), but the host uses
    # neither, so both can go to one VM.
    assert (gpu['iommu_group_viable'], gpu['candidate'], gpu['iommu_group_peers']) == (False, True, ['0000:65:00.1'])


def test_free_gpu_alone_in_its_group_with_an_iommu_is_a_candidate(tmp_path):
    facts = facts_of(tmp_path, sysfs_trees.nvidia_gpu_alone)
    gpu = facts['passthrough_devices'][0]
    assert (gpu['candidate'], gpu['reason'], gpu['iommu_group_peers']) == (True, None, [])
    assert (facts['summary']['iommu_active'], facts['summary']['passthrough_candidates']) == (True, 1)


def test_gpu_sharing_its_group_with_a_nic_the_host_uses_is_no_candidate(tmp_path):
    def scenario(tree, proc):
        tree.pci('0000:65:00.0', '10de', '2236', '030200', driver='nouveau', iommu_group=30)
        tree.pci('0000:65:00.1', '8086', '1533', '020000', driver='igb', iommu_group=30)
        tree.netdev('0000:65:00.1', 'eno2', 'ac:1f:6b:01:02:04')
    gpu = by_address(host_with_proc(tmp_path, scenario)['passthrough_devices'])['0000:65:00.0']
    assert (gpu['candidate'], gpu['reason']) == (
        False, 'IOMMU group 30 also holds 0000:65:00.1, which the host uses: interface eno2 is up')


def test_boot_vga_shows_the_host_console(tmp_path):
    facts = facts_of(tmp_path, sysfs_trees.aspeed_bmc_vga, sysfs_trees.nvidia_gpu_alone)
    vga = by_address(facts['passthrough_devices'])['0000:04:00.0']
    assert (vga['candidate'], vga['reason']) == (False, 'the host uses it: it is the boot VGA device, which shows the host console')
    assert derive_resources({}, sriov=facts)['PGPU']['total'] == 1


def test_pgpu_counts_candidates_only(tmp_path):
    tree = sysfs_trees.SysfsTree(str(tmp_path / 'sys'))
    proc = sysfs_trees.ProcTree(str(tmp_path / 'proc'))
    tree.pci('0000:ca:00.0', '10de', '2236', '030200', driver='vfio-pci')  # no IOMMU: no group
    facts = gather_sriov(tree.root, proc_root=proc.root)
    assert facts['passthrough_devices'][0]['candidate'] is False
    assert derive_resources({}, sriov=facts)['PGPU']['total'] == 0


def test_vfio_noiommu_groups_are_no_iommu(tmp_path):
    tree = sysfs_trees.SysfsTree(str(tmp_path / 'sys'))
    tree.pci('0000:ca:00.0', '10de', '2236', '030200', driver='vfio-pci', iommu_group=0)
    with open(tree.path('kernel', 'iommu_groups', '0', 'name'), 'w') as handle:
        handle.write('vfio-noiommu\n')
    facts = gather_sriov(tree.root)
    assert facts['summary']['iommu_active'] is False
    assert facts['passthrough_devices'][0]['reason'].startswith('the host has no IOMMU')


def test_libvirt_alone_cannot_tell_what_the_host_uses(fixture_xml):
    records = merge_records([parse_pci_device(fixture_xml('nvidia-gpu-audio-group.nodedev.xml'))])
    gpu = build_sriov(records)['passthrough_devices'][0]
    assert gpu['candidate'] is None
    assert gpu['reason'].startswith('whether the host uses it is unknown: only libvirt told about it')
    assert 'IOMMU group 27 also holds 0000:65:00.1, which was not read' in gpu['reason']


def test_libvirt_without_an_iommu_group_is_no_candidate(fixture_xml):
    records = merge_records([parse_pci_device(fixture_xml('debian12-virtio-net-pci.nodedev.xml'))])
    nic = build_sriov(records)['passthrough_devices'][0]
    assert nic['candidate'] is False
    assert nic['reason'].startswith('it is in no IOMMU group')


def test_device_on_vfio_pci_from_libvirt_alone_is_a_candidate(fixture_xml):
    records = merge_records([parse_pci_device(fixture_xml('nvidia-a10-gpu.nodedev.xml'))])
    assert build_sriov(records)['passthrough_devices'][0]['candidate'] is True


def test_vf_the_host_uses_is_no_candidate(tmp_path):
    vfs = by_address(host_with_proc(tmp_path, lambda tree, proc: sysfs_trees.intel_e810_4vf(tree))['virtual_functions'])
    assert [(vf['address'], vf['candidate']) for vf in vfs.values()] == [
        ('0000:3b:01.0', True), ('0000:3b:01.1', True), ('0000:3b:01.2', False), ('0000:3b:01.3', True)]
    assert vfs['0000:3b:01.2']['reason'] == 'the host uses it: interface ens1f0v2 is up'


def test_unreadable_proc_is_reported(tmp_path):
    facts = gather_sriov(host(tmp_path, sysfs_trees.plain_nic), proc_root=str(tmp_path / 'noproc'))
    assert [e['source'] for e in facts['errors']] == ['procfs']
    assert 'noproc/net/route' in facts['errors'][0]['message']
