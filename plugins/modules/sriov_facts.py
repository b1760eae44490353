#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: sriov_facts
short_description: Inventory SR-IOV functions and PCI passthrough devices of a hypervisor
version_added: 0.1.0
description:
  - Lists the SR-IOV physical functions (PFs), their virtual functions (VFs) and the other
    PCI devices a VM may be given (GPUs and 3D controllers, NVMe, network functions that are
    neither PF nor VF, accelerators), and returns them as C(ansible_facts.sriov).
  - Says for each device and VF whether it is a passthrough candidate, that is whether the host
    has an IOMMU, the device's IOMMU group is viable, and the host itself uses nothing on it (an interface
    that is up, has addresses or carries a route; a disk or partition that is mounted, swap or
    held by device-mapper; the boot console). Devices that are not are still listed, with the
    reason.
  - Sources are merged per PCI address. sysfs (C(bus/pci/devices), C(class/net), C(block),
    C(kernel/iommu_groups)) and /proc are read when the URI is local or not given; libvirt node devices and the domains' XML are read
    when O(uri) is given; the VF settings kept on the PF (MAC, VLAN, trust, spoof checking)
    come from C(ip -json -details link show) when the host's own /sys is read.
    Each device lists in C(sources) who told about it.
  - Vendor and device names come from the C(pci.ids) database of hwdata or pciutils when
    it is installed, else only the ids are given.
  - A source that fails adds an entry to C(errors) and the others still count. An
    attribute that cannot be read leaves its field V(null) and never drops the device.
  - A host without SR-IOV hardware returns C(summary.capable=false) and empty lists.
author:
  - virtumancer.hostcaps contributors (@virtumancer)
extends_documentation_fragment:
  - virtumancer.hostcaps.attributes
  - virtumancer.hostcaps.attributes.facts
options:
  sysfs_root:
    description:
      - Where the host's C(/sys) is mounted, for running inside a container.
      - A path that is no directory, and any file in it that is no regular file (a FIFO), is
        an entry in C(errors); the values it would give are V(null).
    type: path
    default: /sys
  proc_root:
    description:
      - Where the host's C(/proc) is mounted, for running inside a container. Its mounts
        (C(self/mountinfo)), C(swaps), routes (C(net/route), C(net/ipv6_route)) and IPv6
        addresses (C(net/if_inet6)) tell which devices the host uses, and so which are
        passthrough candidates.
      - Read only when sysfs is read, since both must describe the same host.
      - A path that is no directory, and any file in it that is no regular file, is an entry
        in C(errors).
    type: path
    default: /proc
  uri:
    description:
      - libvirt connection URI. When given, node devices and the PCI devices assigned to
        defined domains are read; without it, C(assigned_to) and C(summary.free_vfs) are
        unknown (V(null)).
      - sysfs is not read for a remote URI or libvirt's C(test) driver, whose devices are
        not this machine's.
      - Its password, and the value of any query parameter named like a password or token,
        is masked wherever Ansible shows or logs the module's arguments and results. An empty
        or malformed URI fails, naming what is wrong and libvirt's reason.
    type: str
  read_only:
    description: Open a read-only libvirt connection; node devices and domain XML need no more.
    type: bool
    default: true
requirements:
  - libvirt-python (only with O(uri))
notes:
  - XML documents above 8 MiB (8,388,608 characters) are refused, with an entry in C(errors).
  - The offline twin P(virtumancer.hostcaps.sriov_from_xml#filter) builds the same structure
    from saved C(virsh nodedev-dumpxml) documents.
  - C(free_vfs) feeds the C(SRIOV_NET_VF) resource and GPUs that are passthrough candidates the C(PGPU) resource of
    P(virtumancer.hostcaps.host_resources#filter); the traits C(HW_NIC_SRIOV),
    C(HW_NIC_SRIOV_TRUSTED) and C(CUSTOM_PCI_<VENDOR>_<DEVICE>) come from
    P(virtumancer.hostcaps.host_traits#filter).
seealso:
  - name: libvirt node device XML format
    description: What libvirt reports for PCI functions, PFs and VFs.
    link: https://libvirt.org/formatnode.html
'''

EXAMPLES = r'''
- name: SR-IOV inventory including which VM uses each VF
  virtumancer.hostcaps.sriov_facts:
    uri: qemu:///system

- name: Hosts with free VFs
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }} has {{ ansible_facts.sriov.summary.free_vfs }} free VFs"
  when: ansible_facts.sriov.summary.free_vfs | default(0, true) > 0

- name: Only sysfs, from a container with the host's /sys at /host-sys
  virtumancer.hostcaps.sriov_facts:
    sysfs_root: /host-sys
'''

RETURN = r'''
ansible_facts:
  description: Facts added to the host.
  returned: always
  type: dict
  contains:
    sriov:
      description: SR-IOV and passthrough inventory. See C(docs/facts.md) of the collection.
      returned: always
      type: dict
      contains:
        physical_functions:
          description:
            - One entry per PF. Ids are 4 lower-case hex digits, C(class_id) 6.
            - Keys C(address), C(vendor_id), C(device_id), C(vendor_name), C(device_name), C(class_id),
              C(driver), C(numa_node), C(iommu_group), C(pcie_link), C(total_vfs), C(num_vfs), C(vf_device_id),
              C(interfaces) (each C(name), C(mac), C(mtu), C(link_state), C(speed_mbps), C(eswitch_mode),
              C(admin_up), C(master)), the first interface's C(interface), C(mac), C(mtu), C(link_state),
              C(speed_mbps), C(eswitch_mode), and C(sources).
            - C(pcie_link) holds C(max_speed_gts) and C(max_width) (what the device and its slot can do),
              C(speed_gts) and C(width) (what was trained) and C(port) (the port number, libvirt only); it is
              V(null) when neither a speed nor a width is known. Every entry below has it too.
          returned: always
          type: list
          elements: dict
        virtual_functions:
          description:
            - One entry per VF. Keys C(address), C(pf_address), C(vf_index), the ids and names, C(driver),
              C(passthrough_ready) (bound to vfio-pci), C(interface), C(mac), C(vlan), C(trust),
              C(spoofchk), C(assigned_to) (the domain using it), C(numa_node), C(iommu_group), C(pcie_link),
              C(candidate), C(reason), C(iommu_group_peers), C(sources).
            - A VF known only from its PF's node device XML has its address, PF, index and the PF's
              C(sources); every other key is V(null).
          returned: always
          type: list
          elements: dict
        passthrough_devices:
          description:
            - GPUs and 3D controllers (class 03xx), NVMe (0108), network functions that are neither PF nor
              VF (02xx) and accelerators (12xx). C(kind) is C(gpu), C(nvme), C(network) or C(accelerator).
            - C(candidate) is V(true) when a VM can be given the device without taking something from the
              host, V(false) when not and V(null) when that is unknown; C(reason) says why for V(false) and
              V(null) (V(null) for a candidate). C(iommu_group_peers) are the other non-bridge members of its
              IOMMU group, which go to the same VM.
            - C(iommu_group_viable) is true when every device of the IOMMU group is bound to vfio-pci or
              pci-stub or is a bridge right now, V(null) when that cannot be told.
          returned: always
          type: list
          elements: dict
          sample:
            - address: "0000:00:03.0"
              kind: network
              driver: virtio-pci
              iommu_group: null
              candidate: false
              reason: >-
                the host has no IOMMU: the kernel made no IOMMU groups (turn on VT-d or AMD-Vi in the firmware
                and boot with intel_iommu=on or amd_iommu=on); the host uses it: interface eth0 is up, has IPv6
                addresses and carries the default route
              iommu_group_peers: null
        summary:
          description:
            - C(capable) (any PF), C(configured) (any VF), C(max_vfs) (sum of the PFs' total_vfs, V(null) when one
              is unknown), C(total_vfs) (VFs listed), C(free_vfs) (VFs a VM may be given, which no domain uses and
              the host does not either, C(candidate) not V(false); V(null) without O(uri)),
              C(assignments_known), C(passthrough_by_vendor) (count per vendor name or id),
              C(passthrough_candidates) (devices with C(candidate=true)), C(iommu_active) (the kernel made IOMMU
              groups; V(null) when sysfs was not read), C(iommu_groups) (how many).
          returned: always
          type: dict
          sample: {capable: true, configured: true, max_vfs: 128, total_vfs: 4, free_vfs: 2,
                   assignments_known: true, passthrough_by_vendor: {NVIDIA Corporation: 1},
                   passthrough_candidates: 1, iommu_active: true, iommu_groups: 112}
        errors:
          description: One C({source, message}) entry per source that could not be read.
          returned: always
          type: list
          elements: dict
'''

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery import libvirt_conn
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.sriov_collect import gather_sriov


def main():
    module = libvirt_conn.URIModule(
        argument_spec=dict(
            sysfs_root=dict(type='path', default='/sys'),
            proc_root=dict(type='path', default='/proc'),
            uri=dict(type='str'),
            read_only=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    uri = module.params['uri']
    sysfs_root = module.params['sysfs_root']
    if uri is not None and not libvirt_conn.reads_local_sysfs(uri):
        sysfs_root = None
    conn = None
    if uri is not None:
        if not libvirt_conn.HAS_LIBVIRT:
            module.fail_json(msg=missing_required_lib('libvirt-python'), exception=str(libvirt_conn.LIBVIRT_IMPORT_ERROR))
        try:
            conn = libvirt_conn.connect(uri, module.params['read_only'])
        except libvirt_conn.ConnectError as exc:
            module.fail_json(msg=str(exc))

    ip_link_json = None
    ip_bin = module.get_bin_path('ip')
    if ip_bin and sysfs_root == '/sys':
        def ip_link_json():
            rc, out, err = module.run_command([ip_bin, '-json', '-details', 'link', 'show'])
            if rc != 0:
                raise RuntimeError('%s -json -details link show failed (rc=%d): %s' % (ip_bin, rc, err.strip()))
            return out

    try:
        facts = gather_sriov(sysfs_root, conn, ip_link_json,
                             proc_root=module.params['proc_root'] if sysfs_root is not None else None)
    finally:
        if conn is not None:
            conn.close()
    module.exit_json(changed=False, ansible_facts={'sriov': facts})


if __name__ == '__main__':
    main()
