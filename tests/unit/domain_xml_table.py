# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hosts and the table of VMs the vm_domain_xml tests build domains of.

The hosts are the XML fixtures of real libvirt hosts (and the derived SEV, SEV-SNP, TDX
and Arm ones) built into facts by the real parsers, with a storage pool, a network, free
hugepages and, for the SEV host, the sriov facts of an Intel E810 with 4 VFs and two
NVIDIA GPUs read from a fake /sys laid out as the kernel lays it out. The table has every
firmware, TPM, memory encryption, hugepage, NUMA, SR-IOV, passthrough and QoS variant;
the unit tests validate each domain against libvirt's schema, the functional tests define
on this machine's libvirt the ones it can run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shutil
import tempfile

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.network import parse_network
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.pci_sysfs import read_iommu, read_pci_devices
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.procfs import read_host_use
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.storage import parse_pool, parse_pool_capabilities
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.sriov import build_sriov, merge_records
from ansible_collections.virtumancer.hostcaps.tests.unit import sysfs_trees
from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import facts_from, read_fixture

# The pool and network every VM of the table uses; the functional test makes them on
# this machine's libvirt for the time of the test.
POOL = 'hostcaps-xml-pool'
NETWORK = 'hostcaps-xml-net'
# What virNodeGetFreePages says on the two-cell hosts: both page sizes free in each cell.
FREE_PAGES = {0: {2048: 2048, 1048576: 8}, 1: {2048: 2048, 1048576: 8}}

HOST_FIXTURES = {
    # The Debian 12 test machine itself: pc is its default machine.
    'milan': ('debian12-epyc-milan-kvm.caps.xml', 'debian12-epyc-milan-kvm.domcaps-pc.xml', 'debian12-epyc-milan-kvm.domcaps-q35.xml'),
    # Its TCG probe only: a virt_type qemu guest.
    'milan-tcg': ('debian12-epyc-milan-kvm.caps.xml', 'debian12-epyc-milan-tcg.domcaps-q35.xml'),
    'sev': ('amd-epyc-sev.caps.xml', 'amd-epyc-sev.domcaps-q35.xml'),
    'snp': ('amd-epyc-sev.caps.xml', 'amd-epyc-genoa-snp.domcaps-q35.xml'),
    'tdx': ('intel-tdx.caps.xml', 'intel-tdx.domcaps-q35.xml'),
    'arm': ('aarch64-gic.caps.xml', 'aarch64-gic.domcaps-virt.xml'),
    'no-uefi': ('debian12-epyc-milan-kvm.caps.xml', 'x86-no-uefi.domcaps-q35.xml'),
    'no-tpm': ('debian12-epyc-milan-kvm.caps.xml', 'x86-no-tpm.domcaps-q35.xml'),
}
# Hosts with NUMA cells of hugepages get free pages; the SEV host gets SR-IOV and GPUs.
CELL_HOSTS = ('sev', 'snp', 'tdx')
SRIOV_HOSTS = ('sev',)

_CACHE = {}


def pool(name=POOL, size_gb=500):
    found = parse_pool(read_fixture('testdriver-default.pool.xml'), True, True, True)
    found.update(name=name, capacity_gb=float(size_gb), available_gb=float(size_gb))
    return found


def network(name=NETWORK):
    return parse_network(read_fixture('debian12-default-nat.network.xml').replace('<name>default</name>', '<name>%s</name>' % name),
                         True, True, True)


def sriov_facts():
    """The sriov facts of an E810 with 4 VFs (0000:3b:01.0-3; the host uses .2), an A10
    (10de:2236 at 0000:ca:00.0) and a TU102 (10de:1e04 at 0000:65:00.0), none in use, as
    sriov_facts reads them from /sys and /proc."""
    if 'sriov' not in _CACHE:
        root = tempfile.mkdtemp(prefix='hostcaps-sriov-')
        try:
            tree, proc = sysfs_trees.SysfsTree(root + '/sys'), sysfs_trees.ProcTree(root + '/proc')
            sysfs_trees.intel_e810_4vf(tree)
            sysfs_trees.nvidia_gpu_alone(tree)
            sysfs_trees.gpu_with_audio_in_group(tree)
            _CACHE['sriov'] = build_sriov(merge_records(read_pci_devices(tree.root)), assignments={},
                                          iommu=read_iommu(tree.root), host_use=read_host_use(proc.root))
        finally:
            shutil.rmtree(root)
    return _CACHE['sriov']


def host_facts(kind):
    """``libvirt_host_caps`` of host ``kind`` (HOST_FIXTURES)."""
    if kind not in _CACHE:
        live = {'pools': [pool()], 'networks': [network()],
                'pool_capabilities': parse_pool_capabilities(read_fixture('debian12.pool-capabilities.xml'))}
        if kind in CELL_HOSTS:
            live['free_pages'] = FREE_PAGES
        _CACHE[kind] = facts_from(*HOST_FIXTURES[kind], **live)
    return _CACHE[kind]


def hostvars(kind, name=None):
    """hostvars[host] of a host of ``kind``, named ``hv-<kind>`` unless ``name`` says."""
    facts = {'libvirt_host_caps': host_facts(kind)}
    if kind in SRIOV_HOSTS:
        facts['sriov'] = sriov_facts()
    return {'inventory_hostname': name or 'hv-' + kind, 'ansible_facts': facts}


DISK = {'size_gb': 1, 'pool': POOL}
NIC = {'network': NETWORK}
BASE = {'vcpus': 2, 'memory_mb': 1024, 'disk_gb': 0, 'disks': [DISK], 'networks': [NIC]}
EFI_Q35 = {'machine': 'q35', 'firmware': 'efi'}


def _vm(name, **more):
    found = dict(BASE, name=name)
    found.update(more)
    return found


CATALOG = {
    'resource_classes': [{'name': 'nfv.small', 'vcpus': 4, 'memory_mb': 4096, 'disk_gb': 1, 'resources': {'SRIOV_NET_VF': 1}}],
    'qos_policies': [
        {'name': 'cpu-capped', 'cpu': {'shares': 2048, 'period': 100000, 'quota': 50000}},
        {'name': 'cpu-unlimited', 'cpu': {'shares': 512, 'quota': -1}},
        {'name': 'memory-limits', 'memory': {'soft_limit_mb': 512, 'hard_limit_mb': 2048, 'swap_hard_limit_mb': 4096}},
        {'name': 'blkio', 'blkio_weight': 500},
        {'name': 'disk-iops', 'disk': {'total_iops_sec': 1000, 'read_bytes_sec': 104857600, 'write_bytes_sec': 52428800,
                                       'read_bytes_sec_max': 209715200, 'read_bytes_sec_max_length': 10, 'group_name': 'tenant-a'}},
        {'name': 'network-shaped', 'network': {'inbound': {'average': 125000, 'peak': 250000, 'burst': 1024},
                                               'outbound': {'average': 62500}}},
        {'name': 'network-floor', 'network': {'inbound': {'average': 125000, 'floor': 12500}}},
        {'name': 'everything', 'cpu': {'shares': 1024, 'period': 200000, 'quota': 100000}, 'memory': {'soft_limit_mb': 1024},
         'blkio_weight': 800, 'disk': {'read_iops_sec': 500, 'write_iops_sec': 250},
         'network': {'inbound': {'average': 250000}, 'outbound': {'average': 250000, 'burst': 2048}}},
    ],
}

# (id, host kind, VM definition): every one builds a domain that passes libvirt's schema.
TABLE = [
    # firmware and machine types
    ('bios-default-machine', 'milan', _vm('bios-default')),
    ('bios-pc', 'milan', _vm('bios-pc', machine='pc')),
    ('bios-q35', 'milan', _vm('bios-q35', machine='q35')),
    ('bios-versioned-machine', 'milan', _vm('bios-versioned', machine='pc-q35-6.2')),
    ('efi-q35', 'milan', _vm('efi-q35', **EFI_Q35)),
    ('efi-pc', 'milan', _vm('efi-pc', machine='pc', firmware='efi')),
    ('efi-secure-boot', 'milan', _vm('efi-sb', secure_boot=True, **EFI_Q35)),
    ('i686-guest', 'milan', _vm('i686-guest', arch='i686', vcpus=1)),
    ('efi-aarch64', 'arm', _vm('arm-efi', firmware='efi', cpu={'mode': 'host-passthrough'})),
    ('tcg-efi-secure-boot-tpm', 'milan-tcg', _vm('tcg-sb', virt_type='qemu', secure_boot=True, tpm='2.0', **EFI_Q35)),
    # TPM
    ('tpm-2.0-q35', 'milan', _vm('tpm2-q35', machine='q35', tpm='2.0')),
    ('tpm-1.2-q35', 'milan', _vm('tpm12-q35', machine='q35', tpm='1.2')),
    ('tpm-2.0-pc', 'milan', _vm('tpm2-pc', machine='pc', tpm='2.0')),
    ('secure-boot-tpm-2.0', 'milan', _vm('sb-tpm2', secure_boot=True, tpm='2.0', **EFI_Q35)),
    ('tpm-2.0-aarch64', 'arm', _vm('arm-tpm', firmware='efi', tpm='2.0', cpu={'mode': 'host-passthrough'})),
    # CPU
    ('cpu-host-passthrough', 'milan', _vm('cpu-passthrough', cpu={'mode': 'host-passthrough'})),
    ('cpu-maximum', 'milan', _vm('cpu-maximum', cpu={'mode': 'maximum'})),
    ('cpu-custom', 'milan', _vm('cpu-custom', cpu={'mode': 'custom', 'model': 'pentium3'})),
    ('cpu-custom-features', 'tdx', _vm('cpu-features', cpu={'mode': 'custom', 'model': 'SapphireRapids', 'features': ['vmx']})),
    # disks and networks
    ('disks-every-bus-q35', 'milan', _vm('disks-q35', machine='q35', disks=[
        dict(DISK, bus='virtio'), dict(DISK, bus='scsi'), dict(DISK, bus='sata'), dict(DISK, bus='usb'), dict(DISK, bus='virtio')])),
    ('disk-ide-pc', 'milan', _vm('disk-ide', machine='pc', disks=[dict(DISK, bus='ide')])),
    ('no-disk-two-nics', 'milan', _vm('two-nics', disks=[], networks=[NIC, dict(NIC, model='e1000e')])),
    # memory encryption
    ('sev', 'sev', _vm('sev', memory_encryption='sev', **EFI_Q35)),
    ('sev-tpm-scsi', 'sev', _vm('sev-tpm', memory_encryption='sev', tpm='2.0', disks=[dict(DISK, bus='scsi')], **EFI_Q35)),
    ('sev-es', 'sev', _vm('sev-es', memory_encryption='sev-es', **EFI_Q35)),
    ('sev-hugepages-1G', 'sev', _vm('sev-huge', memory_encryption='sev', hugepages='1G', memory_mb=2048, **EFI_Q35)),
    ('sev-snp', 'snp', _vm('sev-snp', memory_encryption='sev-snp', **EFI_Q35)),
    ('tdx', 'tdx', _vm('tdx', memory_encryption='tdx', **EFI_Q35)),
    # hugepages, NUMA and dedicated CPUs
    ('hugepages-2M', 'sev', _vm('huge-2m', machine='q35', hugepages='2M')),
    ('hugepages-1G-two-nodes', 'sev', _vm('huge-1g', machine='q35', hugepages='1G', memory_mb=4096, vcpus=4, numa_nodes=2)),
    ('hugepages-1G-odd-pages', 'sev', _vm('huge-odd', machine='q35', hugepages='1G', memory_mb=3072, vcpus=3, numa_nodes=2)),
    ('numa-two-nodes-floating', 'sev', _vm('numa-float', machine='q35', vcpus=4, memory_mb=4096, numa_nodes=2)),
    ('dedicated-one-node', 'sev', _vm('pinned-1', machine='q35', vcpus=4, cpu={'dedicated': True})),
    ('dedicated-two-nodes', 'tdx', _vm('pinned-2', machine='q35', vcpus=8, memory_mb=4096, numa_nodes=2, cpu={'dedicated': True})),
    ('dedicated-two-nodes-hugepages-2M', 'sev', _vm('pinned-2m', machine='q35', vcpus=6, memory_mb=6144, numa_nodes=2, hugepages='2M',
                                                    cpu={'dedicated': True})),
    # SR-IOV and PCI passthrough
    ('sriov-one-vf', 'sev', _vm('vf-1', machine='q35', sriov_vfs=1)),
    ('sriov-three-vfs-no-nic', 'sev', _vm('vf-3', machine='q35', sriov_vfs=3, networks=[])),
    ('sriov-from-resource-class', 'sev', {'name': 'vf-class', 'resource_class': 'nfv.small', 'machine': 'q35',
                                          'disks': [DISK], 'networks': []}),
    ('passthrough-gpu', 'sev', _vm('gpu', machine='q35', pci_devices=[{'vendor': '10de', 'device': '2236'}])),
    ('passthrough-two-gpus-efi', 'sev', _vm('gpus', pci_devices=[{'vendor': '10de', 'device': '2236'}, {'vendor': '0x10DE', 'device': '1e04'}],
                                            **EFI_Q35)),
    # QoS policies: <cputune>, <memtune>, <blkiotune>, per-disk <iotune>, per-interface <bandwidth>
    ('qos-cpu-capped', 'milan', _vm('qos-cpu', qos_policy='cpu-capped')),
    ('qos-cpu-unlimited-pinned', 'sev', _vm('qos-pinned', machine='q35', qos_policy='cpu-unlimited', cpu={'dedicated': True})),
    ('qos-memory-limits', 'milan', _vm('qos-memory', qos_policy='memory-limits')),
    ('qos-blkio-weight', 'milan', _vm('qos-blkio', qos_policy='blkio')),
    ('qos-iotune-two-disks', 'milan', _vm('qos-iotune', machine='q35', qos_policy='disk-iops', disks=[DISK, dict(DISK, bus='scsi')])),
    ('qos-bandwidth-two-nics', 'milan', _vm('qos-bandwidth', qos_policy='network-shaped', networks=[NIC, dict(NIC, model='e1000e')])),
    ('qos-bandwidth-floor', 'milan', _vm('qos-floor', qos_policy='network-floor')),
    ('qos-everything-sev', 'sev', _vm('qos-sev', qos_policy='everything', memory_encryption='sev', **EFI_Q35)),
    ('nfv-vf-gpu-hugepages-pinned', 'sev', _vm('nfv', machine='q35', vcpus=4, memory_mb=4096, hugepages='1G', numa_nodes=2,
                                               cpu={'dedicated': True}, sriov_vfs=2,
                                               pci_devices=[{'vendor': '10de', 'device': '2236'}])),
]
