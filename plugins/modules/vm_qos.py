#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: vm_qos
short_description: Apply a QoS policy to an existing libvirt domain, live and in its definition
version_added: 0.1.0
description:
  - Sets the CPU, memory, block I/O and network limits of a QoS policy of the catalog
    (see C(docs/catalog.md) and C(docs/qos.md)) on a domain that is already defined on the
    hypervisor, through libvirt's tuning APIs, without restarting it.
  - A running domain gets every value live and in its persistent definition, so it keeps
    them across restarts (C(virsh ... --live --config)); a transient one, live only. A shut-off
    domain gets its persistent definition only.
  - The policy is checked first with the rules of P(virtumancer.hostcaps.catalog_validate#filter),
    libvirt's own ranges; an invalid policy fails the task before anything is read or changed,
    with every problem named. Its warnings are shown as task warnings.
  - Every value is read back first, live and in the definition, and only those that differ
    are written, so a second run with the same policy reports no change and makes no write call.
  - What one policy owns follows libvirt's APIs. C(cpu), C(memory) and C(blkio_weight) set the
    keys the policy gives and leave the others as they are. C(disk) is the whole C(<iotune>) of
    each disk it applies to; a key it leaves out becomes 0, no limit (C(group_name) changes only
    when the policy gives one). Each direction of C(network) (inbound, outbound) the policy gives
    is set whole, a key left out becoming 0, none; a direction it leaves out is kept.
  - When the host refuses a value (a cgroup controller that is not mounted, a QEMU too old for a
    burst length, a kernel without the C(sfq) queueing discipline that libvirt shapes traffic
    with, a C(floor) on a network without inbound QoS), the task fails, naming the section, the
    device, the values and libvirt's message, after applying what the host accepted. A value
    refused live is not written to the definition either, so the domain is never defined with a
    value it cannot start with.
author:
  - virtumancer.hostcaps contributors (@virtumancer)
extends_documentation_fragment:
  - virtumancer.hostcaps.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads the current values and reports in RV(changes) what would change, without writing.
  diff_mode:
    support: full
    details:
      - The values before and after, per scope (live, config), section and device.
options:
  uri:
    description:
      - libvirt connection URI of the hypervisor. The connection is read-write, which takes root
        or membership in the C(libvirt) group.
      - Its password, and the value of any query parameter named like a password or token, is
        masked wherever Ansible shows or logs the module's arguments and results.
    type: str
    default: qemu:///system
  name:
    description:
      - The name of the domain, as C(virsh list --all) shows it.
    type: str
    required: true
    aliases: [domain]
  policy:
    description:
      - The QoS policy, a mapping as an entry of C(hostcaps_qos_policies) in the catalog has it
        (see the examples), with C(cpu) (C(shares), C(period), C(quota)), C(memory)
        (C(hard_limit_mb), C(soft_limit_mb), C(swap_hard_limit_mb)), C(blkio_weight), C(disk) (the
        C(<iotune>) keys) and C(network) (C(inbound), C(outbound)). See C(docs/qos.md) for each key
        and its range.
      - C(name) and C(description) are allowed and not needed.
    type: dict
    required: true
  disks:
    description:
      - The target devices of the disks that get the policy's C(disk) limits, such as V(vda).
      - Default is every disk of the domain with C(device='disk') and a source; CD-ROMs, floppies
        and LUNs only when named here.
      - A disk named here that the domain lacks fails the task.
    type: list
    elements: str
  interfaces:
    description:
      - The interfaces that get the policy's C(network) bandwidth, by MAC address, or by host-side
        device name (V(vnet0)) while the domain runs.
      - Default is every interface libvirt can shape (type C(network), C(bridge), C(direct) or
        C(ethernet)). A hostdev (SR-IOV) interface named here fails the task, as libvirt cannot
        shape a passed-through device.
      - An inbound C(floor) needs C(type='network') interfaces on networks whose forward mode is
        route, nat, open or none; other ones fail the task before anything is changed.
    type: list
    elements: str
notes:
  - Needs the Python library C(libvirt-python) on the host.
  - libvirt reports a memory limit that is not set as 9007199254740991 KiB
    (C(VIR_DOMAIN_MEMORY_PARAM_UNLIMITED)), and a C(cputune) value that the definition does not
    set as 0; RV(changes) shows them as libvirt gives them.
seealso:
  - module: virtumancer.hostcaps.libvirt_host_caps
  - plugin: virtumancer.hostcaps.catalog_validate
    plugin_type: filter
  - name: libvirt domain XML, CPU tuning, memory tuning, block I/O tuning, disk iotune, quality of service
    link: https://libvirt.org/formatdomain.html#cpu-tuning
    description: The elements a QoS policy sets, and libvirt's ranges for them.
'''

EXAMPLES = r'''
- name: Give web01 the gold QoS policy of the catalog, live and in its definition
  virtumancer.hostcaps.vm_qos:
    name: web01
    policy: "{{ hostcaps_qos_policies | selectattr('name', 'eq', 'gold') | first }}"

- name: Limit the data disk and the first interface only
  virtumancer.hostcaps.vm_qos:
    uri: qemu+ssh://root@hv1.example.com/system
    name: db01
    policy:
      cpu: {shares: 2048, period: 100000, quota: 200000}
      disk: {total_iops_sec: 2000, total_iops_sec_max: 4000, total_iops_sec_max_length: 30}
      network:
        inbound: {average: 125000, peak: 250000, burst: 1024}
    disks: [vdb]
    interfaces: ['52:54:00:12:34:56']

- name: See what a policy would change, with the values before and after
  virtumancer.hostcaps.vm_qos:
    name: web01
    policy: "{{ hostcaps_qos_policies | selectattr('name', 'eq', 'silver') | first }}"
  check_mode: true
  diff: true
  register: qos_preview
'''

RETURN = r'''
domain:
  description: The name of the domain.
  returned: always
  type: str
  sample: web01
scopes:
  description:
    - Where the values were compared and written, V(live) (the running domain) and V(config) (its
      persistent definition).
  returned: when the domain was found
  type: list
  elements: str
  sample: [live, config]
changes:
  description:
    - Every value that differed, in libvirt's domain XML names (C(cputune), C(memtune) in KiB,
      C(blkiotune), C(iotune), C(bandwidth) with C(inbound.average) and so on); in check mode, what
      would change. Empty when the domain already has the policy.
    - When the task fails because the host refused a value, the changes that were applied.
  returned: when the domain was found
  type: list
  elements: dict
  contains:
    scope:
      description: V(live) or V(config).
      type: str
    section:
      description: V(cputune), V(memtune), V(blkiotune), V(iotune) or V(bandwidth).
      type: str
    device:
      description: The disk target (V(vda)) for C(iotune), the interface MAC for C(bandwidth), V(null) otherwise.
      type: str
    before:
      description: The differing values as they were.
      type: dict
    after:
      description: The values the policy sets.
      type: dict
  sample:
    - scope: live
      section: cputune
      device: null
      before: {shares: 1024}
      after: {shares: 2048}
    - scope: config
      section: iotune
      device: vda
      before: {total_iops_sec: 0}
      after: {total_iops_sec: 2000}
refused:
  description: What the host refused, one message per setter call; the task fails when it is not empty.
  returned: when the host refused a value
  type: list
  elements: str
libvirt_writes:
  description: How many libvirt setter calls were made; 0 in check mode and when nothing differed.
  returned: when the domain was found
  type: int
  sample: 4
'''

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery import libvirt_conn
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.domain_xml import parse_tunable_devices
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.network import parse_network
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy import qos
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_catalog import qos_policy_problems

try:
    import libvirt
except ImportError:  # reported by main() through libvirt_conn.HAS_LIBVIRT
    libvirt = None


class QosError(Exception):
    pass


def _getter(section):
    return {
        'cputune': lambda dom, device, flags: dom.schedulerParametersFlags(flags),
        'memtune': lambda dom, device, flags: dom.memoryParameters(flags),
        'blkiotune': lambda dom, device, flags: dom.blkioParameters(flags),
        'iotune': lambda dom, device, flags: dom.blockIoTune(device, flags),
        'bandwidth': lambda dom, device, flags: dom.interfaceParameters(device, flags),
    }[section]


def _setter(section):
    return {
        'cputune': lambda dom, device, params, flags: dom.setSchedulerParametersFlags(params, flags),
        'memtune': lambda dom, device, params, flags: dom.setMemoryParameters(params, flags),
        'blkiotune': lambda dom, device, params, flags: dom.setBlkioParameters(params, flags),
        'iotune': lambda dom, device, params, flags: dom.setBlockIoTune(device, params, flags),
        'bandwidth': lambda dom, device, params, flags: dom.setInterfaceParameters(device, params, flags),
    }[section]


def _flags(scope):
    # The Python bindings read the parameter types with the getter under the same flags,
    # and getters take one scope at a time, so live and config are separate calls.
    return libvirt.VIR_DOMAIN_AFFECT_LIVE if scope == 'live' else libvirt.VIR_DOMAIN_AFFECT_CONFIG


def _where(section, device):
    if device is None:
        return section
    return '%s of %s %s' % (section, 'disk' if section == 'iotune' else 'interface', device)


class Domain(object):
    """One domain and what the policy applies to in each scope."""

    def __init__(self, conn, dom, name):
        self.conn = conn
        self.dom = dom
        self.name = name
        active = bool(dom.isActive())
        persistent = bool(dom.isPersistent())
        self.scopes = [scope for scope, present in (('live', active), ('config', persistent)) if present]
        self.devices = {}
        for scope in self.scopes:
            flags = 0 if scope == 'live' else libvirt.VIR_DOMAIN_XML_INACTIVE
            self.devices[scope] = parse_tunable_devices(self.call('read the domain XML (%s)' % scope, dom.XMLDesc, flags),
                                                        "domain %r's XML" % name)

    def call(self, what, function, *args):
        try:
            return function(*args)
        except libvirt.libvirtError as exc:
            raise QosError("vm_qos: domain %r: libvirt cannot %s: %s" % (self.name, what, libvirt_conn.libvirt_message(exc)))

    def disks(self, names):
        """Per scope, the disk targets the policy's iotune applies to."""
        chosen = {}
        for scope in self.scopes:
            disks = self.devices[scope]['disks']
            if names is None:
                chosen[scope] = [disk['target'] for disk in disks if disk['device'] == 'disk' and disk['has_source']]
                continue
            known = [disk['target'] for disk in disks]
            for name in names:
                if name not in known:
                    raise QosError('vm_qos: domain %r has no disk %r (%s); its disks are %s. Name disks by their target '
                                   'dev, as virsh domblklist shows them' % (self.name, name, scope, ', '.join(known) or 'none'))
            chosen[scope] = list(names)
        return chosen

    def interfaces(self, names):
        """The interfaces (their ``parse_tunable_devices`` entries) the bandwidth applies
        to, the same MACs in every scope."""
        every = []
        for scope in self.scopes:
            every.extend(self.devices[scope]['interfaces'])
        by_mac = {}
        for interface in every:
            if interface['mac'] and interface['mac'] not in by_mac:
                by_mac[interface['mac']] = interface
        if names is None:
            return [interface for interface in by_mac.values() if interface['type'] in qos.BANDWIDTH_INTERFACE_TYPES]
        chosen = []
        for name in names:
            found = by_mac.get(name.lower()) or next((item for item in every if item['target'] == name), None)
            if found is None:
                raise QosError('vm_qos: domain %r has no interface %r; name interfaces by MAC address, or by host device '
                               '(vnet0) while the domain runs; virsh domiflist %s lists them. Its MACs are %s'
                               % (self.name, name, self.name, ', '.join(sorted(by_mac)) or 'none'))
            chosen.append(found)
        return chosen

    def network_facts(self, interfaces):
        """The libvirt networks of the ``type='network'`` interfaces, as the host facts
        hold them, for the floor rules; a network libvirt does not know is left out."""
        networks = []
        for name in sorted(set(item['network'] for item in interfaces if item['network'])):
            try:
                network = self.conn.networkLookupByName(name)
                networks.append(parse_network(network.XMLDesc(0)))
            except libvirt.libvirtError:
                continue
        return networks


def _targets(domain, desired, disks, interfaces):
    """Every (scope, section, device) the policy sets, with its current values."""
    targets = []
    for section in qos.DOMAIN_SECTIONS + qos.DEVICE_SECTIONS:
        if section not in desired:
            continue
        for scope in domain.scopes:
            if section == 'iotune':
                devices = disks[scope]
            elif section == 'bandwidth':
                devices = [interface['mac'] for interface in interfaces]
            else:
                devices = [None]
            for device in devices:
                parameters = domain.call('read %s (%s)' % (_where(section, device), scope), _getter(section),
                                         domain.dom, device, _flags(scope))
                targets.append({'scope': scope, 'section': section, 'device': device,
                                'current': qos.settings_from_parameters(section, parameters)})
    return targets


def _apply(domain, changes, desired):
    """Writes ``changes``, live before config; returns (applied, refused, writes)."""
    applied, refused, writes = [], [], 0
    refused_live = set()
    for change in changes:
        key = (change['section'], change['device'])
        if change['scope'] == 'config' and key in refused_live:
            refused.append('%s (config) left as it is, as the running domain refused it' % _where(*key))
            continue
        parameters = qos.change_parameters(change, desired)
        writes += 1
        try:
            _setter(change['section'])(domain.dom, change['device'], parameters, _flags(change['scope']))
        except libvirt.libvirtError as exc:
            if change['scope'] == 'live':
                refused_live.add(key)
            values = ', '.join('%s=%s' % (name, change['after'][name]) for name in sorted(change['after']))
            refused.append('libvirt refused %s %s (%s): %s' % (_where(*key), values, change['scope'], libvirt_conn.libvirt_message(exc)))
            continue
        applied.append(change)
    return applied, refused, writes


def run(module, conn):
    params = module.params
    name = params['name']
    tuning = qos.qos_tuning(params['policy'])
    desired = qos.desired_settings(tuning)
    try:
        dom = conn.lookupByName(name)
    except libvirt.libvirtError as exc:
        raise QosError('vm_qos: no domain %r at %s: %s. Define it first; virsh list --all shows the defined ones'
                       % (name, libvirt_conn.safe_uri(params['uri']), libvirt_conn.libvirt_message(exc)))
    domain = Domain(conn, dom, name)
    disks = domain.disks(params['disks']) if 'iotune' in desired else {}
    interfaces = domain.interfaces(params['interfaces']) if 'bandwidth' in desired else []
    if interfaces:
        floor = desired['bandwidth'].get('inbound.floor')
        problems = qos.interface_bandwidth_problems(
            params['policy'], [dict(item, name=item['mac']) for item in interfaces],
            domain.network_facts(interfaces) if floor else None, params['policy'].get('name'))
        if problems:
            raise QosError('vm_qos: domain %r: %s' % (name, '; '.join(problem['message'] for problem in problems)))
    for scope in domain.scopes:
        if 'iotune' in desired and not disks[scope]:
            module.warn('vm_qos: domain %r has no disk with a source in its %s XML; the policy\'s disk limits were not '
                        'applied there' % (name, scope))
    if 'bandwidth' in desired and not interfaces:
        module.warn('vm_qos: domain %r has no interface libvirt can shape; the policy\'s network bandwidth was not applied' % name)
    changes = qos.plan_changes(desired, _targets(domain, desired, disks, interfaces))
    result = {'domain': name, 'scopes': domain.scopes, 'changes': changes, 'libvirt_writes': 0, 'changed': bool(changes)}
    if module.check_mode or not changes:
        return result, []
    applied, refused, writes = _apply(domain, changes, desired)
    result.update(changes=applied, libvirt_writes=writes, changed=bool(applied))
    return result, refused


def main():
    module = libvirt_conn.URIModule(
        argument_spec=dict(
            uri=dict(type='str', default='qemu:///system'),
            name=dict(type='str', required=True, aliases=['domain']),
            policy=dict(type='dict', required=True),
            disks=dict(type='list', elements='str'),
            interfaces=dict(type='list', elements='str'),
        ),
        supports_check_mode=True,
    )
    if not libvirt_conn.HAS_LIBVIRT:
        module.fail_json(msg=missing_required_lib('libvirt-python'), exception=str(libvirt_conn.LIBVIRT_IMPORT_ERROR))
    params = module.params
    problems = qos_policy_problems(params['policy'], require_name=False)
    errors = [problem['message'] for problem in problems if problem['severity'] == 'error']
    if errors:
        module.fail_json(msg='vm_qos: the policy is not valid: %s' % '; '.join(errors), domain=params['name'], problems=problems)
    for problem in problems:
        module.warn(problem['message'])
    try:
        conn = libvirt_conn.connect(params['uri'], read_only=False)
    except libvirt_conn.ConnectError as exc:
        module.fail_json(msg=str(exc), domain=params['name'])
    try:
        result, refused = run(module, conn)
    except QosError as exc:
        module.fail_json(msg=str(exc), domain=params['name'])
    finally:
        conn.close()
    if module._diff:
        result['diff'] = qos.diff_of_changes(result['changes'])
    if refused:
        module.fail_json(msg='vm_qos: domain %r: %s' % (params['name'], '; '.join(refused)), refused=refused, **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
