# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reads a live libvirt connection (and the local /sys) into ``FactSources``.

Each source is one libvirt call or sysfs read handed to the parser named after what
it reads; nothing here decides what the facts mean.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

try:
    import libvirt
except ImportError:  # reported by libvirt_conn.connect, which runs first
    libvirt = None

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.capabilities import parse_capabilities
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.domain_capabilities import (
    parse_domain_capabilities,
)
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.cpu_definition import (
    model_definition_xml, parse_cpu_definition,
)
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.libvirt_conn import (
    error_code, is_test_driver, libvirt_message, reads_local_sysfs, safe_uri,
)
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.host_facts import (
    FactSources, SourceUnavailable, primary_domain_capabilities,
)
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.network import (
    parse_interface, parse_network,
)
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.node_device import (
    is_sriov_physical_function, parse_net_device,
)
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.storage import (
    parse_pool, parse_pool_capabilities,
)
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery import meminfo, sysfs


def version_string(number):
    return '%d.%d.%d' % (number // 1000000, (number // 1000) % 1000, number % 1000)


def default_probes(caps):
    """(arch, machine, virttype, is_default) for every arch the host runs natively: the
    default machine and each canonical alias such as pc, q35 or virt."""
    host_arch = caps['cpu']['arch']
    guests = [g for g in caps['guests'] if g['os_type'] == 'hvm' and g['arch']]
    native = [g for g in guests if 'kvm' in g['domain_types']] or [g for g in guests if g['arch'] == host_arch]
    probes = []
    for guest in native:
        types = guest['domain_types']
        virttype = 'kvm' if 'kvm' in types else ('qemu' if 'qemu' in types else (types[0] if types else None))
        aliases = [m for m in guest['machines'] if m['canonical']]
        # libvirt lists an arch's default machine first; when an alias names it, that
        # alias probe stands for the default and a separate default probe is saved.
        default = guest['machines'][0]['name'] if guest['machines'] else None
        if not any(m['canonical'] == default for m in aliases):
            probes.append((guest['arch'], None, virttype, True))
        for machine in aliases:
            probes.append((guest['arch'], machine['name'], virttype, machine['canonical'] == default))
    return probes


def resolve_probes(requested, caps):
    """Fill the gaps of user-given probes: host arch, default machine, kvm when offered."""
    if requested is None:
        return default_probes(caps)
    probes = []
    for item in requested:
        arch = item.get('arch') or caps['cpu']['arch']
        virttype = item.get('virttype')
        if not virttype:
            types = set()
            for guest in caps['guests']:
                if guest['arch'] == arch:
                    types.update(guest['domain_types'])
            virttype = 'kvm' if 'kvm' in types else 'qemu'
        machine = item.get('machine') or None
        probes.append((arch, machine, virttype, machine is None))
    return probes


def live_sources(conn, uri, sysfs_root='/sys', probes=None, read_only=True, proc_root='/proc'):
    """``FactSources`` reading ``conn``; ``probes`` is the user's list of
    ``{arch, machine, virttype}`` dicts or None for the default set. ``proc_root`` is
    read, like ``sysfs_root``, only when ``uri`` is this host."""
    src = None

    def reporting_skipped(category, read):
        """``read`` with an error against ``category`` for every sysfs file it skipped
        as no regular file (a FIFO would have hung the module)."""
        def fetch():
            with sysfs.skipped_files() as skipped:
                value = read()
            if skipped:
                src.add_error(category, sysfs.skipped_message(skipped))
            return value
        return fetch

    def capabilities():
        return parse_capabilities(conn.getCapabilities())

    def node_info():
        model, memory_mb, cpus, mhz, nodes, sockets, cores, threads = conn.getInfo()
        return {'model': model, 'memory_mb': memory_mb, 'cpus': cpus, 'mhz': mhz, 'nodes': nodes,
                'sockets': sockets, 'cores': cores, 'threads': threads}

    def versions():
        return {
            'libvirt': version_string(conn.getLibVersion()),
            'hypervisor': conn.getType(),
            'hypervisor_version': version_string(conn.getVersion()),
        }

    def baseline_features():
        cpu_xml = src.get('capabilities')['cpu']['xml']
        if not cpu_xml:
            raise SourceUnavailable('the host CPU is not described')
        expanded = conn.baselineCPU([cpu_xml], libvirt.VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES)
        return parse_cpu_definition(expanded)['required_features']

    def cpu_model_expansions():
        # The hypervisor's baseline of a bare model lists the model's own features, and
        # marks 'disable' the ones this hypervisor cannot give (seen with libvirt 9.0).
        entry = primary_domain_capabilities(src.get('domain_capabilities'), src.get('capabilities')['cpu']['arch'])
        cpu = (entry or {}).get('cpu') or {}
        names = [(cpu.get('host_model') or {}).get('name')] + list((cpu.get('models') or {}).get('usable') or [])
        expansions = {}
        for name in names:
            if name and name not in expansions:
                expansions[name] = parse_cpu_definition(conn.baselineHypervisorCPU(
                    entry['emulator'], entry['arch'], entry['machine'], entry['virttype'],
                    [model_definition_xml(name)], libvirt.VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES))
        return expansions

    def domain_capabilities():
        caps = src.get('capabilities')
        entries, failures, seen = [], {}, set()
        for arch, machine, virttype, is_default in resolve_probes(probes, caps):
            try:
                entry = parse_domain_capabilities(conn.getDomainCapabilities(None, arch, machine, virttype, 0))
            except Exception as exc:
                message = libvirt_message(exc)
                failures.setdefault(message, []).append('%s/%s/%s' % (arch, machine or 'default', virttype))
                if read_only and error_code(exc) == libvirt.VIR_ERR_OPERATION_DENIED:
                    # libvirt >= 5.4 refuses domain capabilities on read-only connections.
                    failures[message].append('(not probed further: read-only connection; domain capabilities '
                                             'need a read-write one: read_only auto or false, as root or '
                                             'in the libvirt group)')
                    break
                continue
            key = (entry['arch'], entry['machine'], entry['virttype'])
            if key in seen:
                continue
            seen.add(key)
            entry['requested_machine'] = machine
            entry['default_machine'] = is_default
            entries.append(entry)
        messages = ['%s (probed arch/machine/virttype: %s)' % (message, ', '.join(where))
                    for message, where in failures.items()]
        if not entries:
            raise SourceUnavailable('; '.join(messages) or 'no guest architecture to probe')
        for message in messages:
            src.add_error('domain_capabilities', message)
        return entries

    def cells_free_memory():
        return conn.getCellsFreeMemory(0, max(len(src.get('capabilities')['cells']), 1))

    def free_pages():
        caps = src.get('capabilities')
        if not caps['cpu']['page_sizes_kb'] or not caps['cells']:
            return {}
        return conn.getFreePages(caps['cpu']['page_sizes_kb'], 0, len(caps['cells'])) or {}

    def pools():
        return [
            parse_pool(pool.XMLDesc(0), bool(pool.isActive()), bool(pool.autostart()), bool(pool.isPersistent()))
            for pool in conn.listAllStoragePools(0)
        ]

    def pool_capabilities():
        return parse_pool_capabilities(conn.getStoragePoolCapabilities(0))

    def networks():
        return [
            parse_network(net.XMLDesc(0), bool(net.isActive()), bool(net.autostart()), bool(net.isPersistent()))
            for net in conn.listAllNetworks(0)
        ]

    def interfaces():
        try:
            return [parse_interface(iface.XMLDesc(0), bool(iface.isActive())) for iface in conn.listAllInterfaces(0)]
        except libvirt.libvirtError as exc:
            reason = libvirt_message(exc)
        # No interface driver (netcf/udev) in this libvirt: the kernel's view when it is
        # this host, else libvirt's net node devices.
        if local:
            found = reporting_skipped('network_info', lambda: sysfs.read_net_interfaces(sysfs_root))()
            if found is not None:
                return found
        devices = conn.listAllDevices(libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_NET)
        found = [parse_net_device(device.XMLDesc(0)) for device in devices]
        if not found:
            raise SourceUnavailable('%s; and no net node device was listed' % reason)
        return sorted((entry for entry in found if entry), key=lambda entry: entry['name'] or '')

    def sriov_pf_count():
        devices = conn.listAllDevices(libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV)
        return sum(1 for device in devices if is_sriov_physical_function(device.XMLDesc(0)))

    def domains():
        listed = []
        for dom in conn.listAllDomains(0):
            state, max_mem_kb, dummy_mem, vcpus, dummy_time = dom.info()
            listed.append({
                'name': dom.name(),
                'uuid': dom.UUIDString(),
                'active': bool(dom.isActive()),
                'persistent': bool(dom.isPersistent()),
                'vcpus': vcpus,
                'memory_mb': max_mem_kb // 1024,
            })
        running = [d for d in listed if d['active']]
        return {
            'defined': len([d for d in listed if d['persistent']]),
            'running': len(running),
            'vcpus_running': sum(d['vcpus'] for d in running),
            'memory_mb_running': sum(d['memory_mb'] for d in running),
            'list': sorted(listed, key=lambda d: d['name']),
        }

    def max_vcpus():
        resolved = resolve_probes(probes, src.get('capabilities'))
        return conn.getMaxVcpus(resolved[0][2] if resolved else None)

    fetchers = {
        'capabilities': capabilities, 'node_info': node_info, 'versions': versions,
        'hostname': conn.getHostname, 'baseline_features': baseline_features,
        'cpu_model_expansions': cpu_model_expansions,
        'domain_capabilities': domain_capabilities, 'cells_free_memory': cells_free_memory,
        'free_pages': free_pages, 'pools': pools, 'pool_capabilities': pool_capabilities,
        'networks': networks, 'interfaces': interfaces, 'sriov_pf_count': sriov_pf_count,
        'domains': domains, 'max_vcpus': max_vcpus,
    }
    unavailable = {}
    local = reads_local_sysfs(uri)
    if local:
        problem = sysfs.root_problem(sysfs_root)
        if problem:
            for name in ('ksm', 'iommu_groups', 'kvm_nested', 'cgroups'):
                unavailable[name] = '%s; set sysfs_root to where the host\'s /sys is mounted' % problem
        else:
            fetchers.update({
                'ksm': reporting_skipped('memory_info', lambda: sysfs.read_ksm(sysfs_root)),
                'iommu_groups': lambda: sysfs.count_iommu_groups(sysfs_root),
                'kvm_nested': reporting_skipped('virt_info', lambda: sysfs.read_kvm_nested(sysfs_root)),
                'cgroups': reporting_skipped('virt_info', lambda: sysfs.read_cgroups(sysfs_root)),
            })
        fetchers.update({
            'dev_kvm': lambda: os.path.exists('/dev/kvm') and os.access('/dev/kvm', os.R_OK | os.W_OK),
            'kernel_meminfo': lambda: meminfo.read_memory_totals(proc_root),
        })
    else:
        for name in ('ksm', 'iommu_groups', 'kvm_nested', 'dev_kvm', 'cgroups'):
            unavailable[name] = 'sysfs is read only when the URI is local to a real hypervisor (%s is not)' % safe_uri(uri)
    if is_test_driver(uri):
        # The test driver answers virConnectGetHostname with gethostname() of the machine
        # the module runs on: a simulated host would carry that machine's name.
        del fetchers['hostname']
        unavailable['hostname'] = ("libvirt's test driver names the machine it runs on, not the simulated host "
                                   "(%s)" % safe_uri(uri))
    src = FactSources(fetchers, unavailable)
    return src
