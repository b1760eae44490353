#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: libvirt_host_caps
short_description: Gather everything a libvirt/KVM hypervisor can run, as facts
version_added: 0.1.0
description:
  - Reads libvirt's host capabilities, domain capabilities (per arch, machine and virt type),
    storage pools, networks, host interfaces, node devices and domains, plus the host's
    C(/sys) when the URI is local, and returns them as C(ansible_facts.libvirt_host_caps).
  - Every category is read on its own. A category that cannot be read is V(null) and has an
    entry in RV(ansible_facts.libvirt_host_caps.errors); the others are still returned. The
    module fails only when it cannot connect at all.
  - Truth values are tri-state. V(null) means unknown (libvirt did not say), never V(false).
  - Traits (OpenStack os-traits names, or C(CUSTOM_*)) and a resource inventory
    (os-resource-classes names) are derived from the facts by the same code as the filters
    P(virtumancer.hostcaps.host_traits#filter) and P(virtumancer.hostcaps.host_resources#filter).
author:
  - virtumancer.hostcaps contributors (@virtumancer)
extends_documentation_fragment:
  - virtumancer.hostcaps.attributes
  - virtumancer.hostcaps.attributes.facts
options:
  uri:
    description:
      - libvirt connection URI. User names and passwords in it are never stored in the facts.
      - Its password, and the value of any query parameter named like a password or token,
        is masked wherever Ansible shows or logs the module's arguments and results.
      - An empty or malformed URI (a port that is no number or above 65535, an IPv6 address
        without its closing C(]) fails, naming what is wrong, libvirt's reason and the form
        to write it in.
    type: str
    default: qemu:///system
  read_only:
    description:
      - How to open the libvirt connection, V(auto), V(true) or V(false) (or any other spelling
        of a boolean that Ansible accepts). Gathering only reads, whichever is chosen.
      - V(auto) opens a read-write connection, and falls back to a read-only one when
        libvirt refuses read-write for lack of permission (polkit, SASL or an access control
        driver says no, or the read-write socket is closed to this user). The fallback is a
        C(severity=warning) entry of category C(connection) in
        RV(ansible_facts.libvirt_host_caps.errors).
      - V(false) needs a read-write connection and fails when it is refused.
      - V(true) opens a read-only connection.
      - libvirt 5.4 and later refuse domain capabilities on a read-only connection, so on
        one the C(domain_capabilities) category is V(null) and UEFI, Secure Boot, TPM, SEV,
        TDX, SGX, disk buses and CPU models stay unknown. Read-write access is root's, or
        a member's of the C(libvirt) group on Debian and Fedora.
    type: raw
    default: auto
  gather_subset:
    description:
      - Which categories to gather, with the grammar of M(ansible.builtin.setup).
      - V(all), V(host), V(cpu), V(memory), V(security), V(storage), V(network), V(virt),
        V(domain_capabilities); prefix a name with C(!) to leave it out (V(!all) leaves out
        everything not named).
      - Traits and resources are derived from whatever was gathered.
    type: list
    elements: str
    default: [all]
  domain_capabilities:
    description:
      - Which domain capabilities to probe. By default every guest arch the host runs natively
        (with C(kvm)), at its default machine and at every canonical alias such as C(pc),
        C(q35) or C(virt), with virt type C(kvm) when available and C(qemu) otherwise.
      - Secure Boot and SEV usually exist only on q35, so keep a q35 probe on x86 hosts.
    type: list
    elements: dict
    suboptions:
      arch:
        description: Guest architecture; the host's own arch when omitted.
        type: str
      machine:
        description: Machine type or alias; libvirt's default machine when omitted.
        type: str
      virttype:
        description: Virtualization type; C(kvm) when the arch offers it, else C(qemu).
        type: str
        choices: [kvm, qemu, hvf, xen, lxc, test]
  sysfs_root:
    description:
      - Where the host's C(/sys) is mounted, for running inside a container.
      - sysfs is read only when the URI is local and not libvirt's C(test) driver.
      - A path that is no directory (missing, a file, a symlink loop), and any file in it
        that is no regular file (a FIFO where the kernel has an attribute), leave their values
        V(null) with an entry in RV(ansible_facts.libvirt_host_caps.errors).
    type: path
    default: /sys
requirements:
  - libvirt-python
notes:
  - Every XML document libvirt returns is refused above 8 MiB (8,388,608 characters), far above
    what libvirt writes; the category it feeds is then V(null) with an entry in
    RV(ansible_facts.libvirt_host_caps.errors) naming the document, its size and the limit.
  - The offline twin P(virtumancer.hostcaps.caps_from_xml#filter) builds the same facts from
    saved C(virsh capabilities) and C(virsh domcapabilities) XML.
seealso:
  - name: libvirt capabilities XML format
    description: What the host capabilities document describes.
    link: https://libvirt.org/formatcaps.html
  - name: libvirt domain capabilities XML format
    description: What the domain capabilities document describes.
    link: https://libvirt.org/formatdomaincaps.html
'''

EXAMPLES = r'''
- name: Discover the hypervisor (read-write when allowed, for firmware, TPM and SEV)
  virtumancer.hostcaps.libvirt_host_caps:

- name: Fail unless firmware, TPM and SEV can be read (a read-write connection)
  virtumancer.hostcaps.libvirt_host_caps:
    read_only: false

- name: Only CPU and memory, from a container with the host's /sys mounted at /host-sys
  virtumancer.hostcaps.libvirt_host_caps:
    gather_subset: [cpu, memory]
    sysfs_root: /host-sys

- name: Probe only q35 for x86_64 with KVM
  virtumancer.hostcaps.libvirt_host_caps:
    domain_capabilities:
      - arch: x86_64
        machine: q35
        virttype: kvm

- name: Show the traits
  ansible.builtin.debug:
    var: ansible_facts.libvirt_host_caps.traits
'''

RETURN = r'''
ansible_facts:
  description: Facts added to the host.
  returned: always
  type: dict
  contains:
    libvirt_host_caps:
      description:
        - The hypervisor's capabilities. See the fact reference in the collection's C(docs/facts.md)
          for every key.
      returned: always
      type: dict
      contains:
        host_info:
          description: Hostname, UUID, arch, CPU model and vendor, topology, online CPUs, NUMA node count,
            memory_mb (the same figure as memory_info.total_mb), cpu_mhz, libvirt and hypervisor versions.
          returned: when the C(host) subset is gathered
          type: dict
          sample: {hostname: hv1, arch: x86_64, cpu_model: EPYC-Milan, cpu_vendor: AMD, sockets: 1, dies: 1,
                   cores: 2, threads: 1, online_cpus: 2, numa_nodes: 1, memory_mb: 4954, cpu_mhz: 2445,
                   libvirt_version: 9.0.0, hypervisor: QEMU, hypervisor_version: 7.2.22}
        cpu_info:
          description: Host CPU flags (expanded with libvirt's baseline when possible, see
            C(features_source)); the features a guest gets per CPU mode in C(guest_features)
            (C(host_model), C(custom) per usable model, C(host_passthrough); each null when
            unknown, and read-write connections only); the host flags no guest can get in
            C(host_only_features); host-model name and features, named CPU models grouped as
            usable, unusable, unknown and deprecated, vmx/svm, TSC frequency, cache banks.
          returned: when the C(cpu) subset is gathered
          type: dict
        memory_info:
          description: The host's memory (C(total_mb), the kernel's MemTotal when the URI is local, else
            libvirt's; C(total_mb_source) says which, C(sources) gives both readings), free and available
            memory, total and free memory per NUMA cell, page sizes, hugepages total and free per size and
            per cell, KSM state from sysfs.
          returned: when the C(memory) subset is gathered
          type: dict
        security_info:
          description: Security models, UEFI and firmware paths, Secure Boot and the machines offering it,
            TPM models/backends/versions, SEV/SEV-ES/SEV-SNP, TDX, SGX, s390 protected virtualization,
            IOMMU support and group count.
          returned: when the C(security) subset is gathered
          type: dict
        storage_info:
          description: Storage pools (type, state, capacity/allocation/available in GiB), supported pool types
            and volume formats, disk buses, models and devices from domain capabilities.
          returned: when the C(storage) subset is gathered
          type: dict
        network_info:
          description: libvirt networks (forward mode, bridge, active), host interfaces (bridges, bonds,
            VLANs), virtio support and the number of SR-IOV physical functions.
          returned: when the C(network) subset is gathered
          type: dict
        virt_info:
          description: Hypervisor and version, virt types, whether /dev/kvm is accessible, nested
            virtualization, guests (arch, os type, domain types, machines with canonical name and maxCpus),
            max vCPUs and existing domains.
          returned: when the C(virt) subset is gathered
          type: dict
        domain_capabilities:
          description: One entry per probed (arch, machine, virttype), as libvirt's domain capabilities
            describe it.
          returned: when the C(domain_capabilities) subset is gathered
          type: list
          elements: dict
        traits:
          description: Sorted, unique traits derived from the facts (os-traits names or C(CUSTOM_*)).
            C(HW_CPU_*) traits name features a guest can get (C(cpu_info.guest_features)), not the host
            CPU's flags.
          returned: always
          type: list
          elements: str
          sample: [COMPUTE_ARCH_X86_64, COMPUTE_FIRMWARE_UEFI, COMPUTE_SECURITY_TPM_2_0, HW_CPU_X86_AVX2]
        resources:
          description: Resource inventory by os-resource-classes name, each with total, reserved, used and
            allocation_ratio.
          returned: always
          type: dict
          sample: {VCPU: {total: 2, reserved: 0, used: 0, allocation_ratio: 1.0}}
        errors:
          description:
            - One entry per source that could not be read, with the C(category) it affects, a C(message)
              and a C(severity).
            - C(severity=error) means values are missing (null); C(severity=warning) means the facts are
              complete but something deserves attention, such as libvirt's memory figure disagreeing with
              the kernel's, or a read-only fallback (category C(connection)).
          returned: always
          type: list
          elements: dict
          sample: [{category: domain_capabilities, severity: error, message: "operation forbidden: read only access ..."}]
        schema_version:
          description: Version of this fact structure; changes only with a documented migration.
          returned: always
          type: int
          sample: 1
        collected_at:
          description: UTC time of collection, ISO 8601.
          returned: always
          type: str
          sample: '2026-11-25T20:00:00Z'
        uri:
          description: The connection URI without user, password or query.
          returned: always
          type: str
          sample: qemu:///system
'''

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery import libvirt_conn
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts import collect
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.host_facts import SUBSETS, build_facts
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.subsets import SubsetError, resolve_subsets


def main():
    module = libvirt_conn.URIModule(
        argument_spec=dict(
            uri=dict(type='str', default='qemu:///system'),
            read_only=dict(type='raw', default='auto'),
            gather_subset=dict(type='list', elements='str', default=['all']),
            domain_capabilities=dict(type='list', elements='dict', options=dict(
                arch=dict(type='str'),
                machine=dict(type='str'),
                virttype=dict(type='str', choices=['kvm', 'qemu', 'hvf', 'xen', 'lxc', 'test']),
            )),
            sysfs_root=dict(type='path', default='/sys'),
        ),
        supports_check_mode=True,
    )
    if not libvirt_conn.HAS_LIBVIRT:
        module.fail_json(msg=missing_required_lib('libvirt-python'), exception=str(libvirt_conn.LIBVIRT_IMPORT_ERROR))
    params = module.params
    try:
        subsets = resolve_subsets(params['gather_subset'], SUBSETS)
    except SubsetError as exc:
        module.fail_json(msg=str(exc))
    mode = params['read_only']
    if mode != 'auto':
        try:
            mode = boolean(mode, strict=True)
        except TypeError:
            module.fail_json(msg='read_only: expected auto, true or false, got %r' % (mode,))
    uri = libvirt_conn.safe_uri(params['uri'])
    refusal = None
    try:
        if mode == 'auto':
            conn, refusal = libvirt_conn.connect_auto(params['uri'])
        else:
            conn = libvirt_conn.connect(params['uri'], mode)
    except libvirt_conn.ConnectError as exc:
        module.fail_json(msg=str(exc))
    try:
        sources = collect.live_sources(conn, params['uri'], params['sysfs_root'], params['domain_capabilities'],
                                       mode is True or refusal is not None)
        if refusal is not None:
            sources.add_error('connection', (
                'read-write access to %s was refused (%s), so a read-only connection was used: libvirt gives no '
                'domain capabilities on it, and UEFI, Secure Boot, TPM and SEV stay unknown. Give this user '
                'read-write access (root, or the libvirt group), or set read_only: true to choose read-only'
                % (uri, refusal)), severity='warning')
        facts = build_facts(sources, subsets, uri=uri)
    finally:
        conn.close()
    module.exit_json(changed=False, ansible_facts={'libvirt_host_caps': facts})


if __name__ == '__main__':
    main()
