# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A catalog QoS policy in libvirt's names and units, for the domain XML and for vm_qos.

The catalog keeps its own names (``memory.hard_limit_mb``, ``blkio_weight``,
``network.inbound``); libvirt has two sets of its own: the elements of the domain XML
(``<memtune><hard_limit unit='KiB'>``) and the typed parameters of its tuning APIs
(``hard_limit`` for ``virDomainSetMemoryParameters``, ``vcpu_period`` for
``virDomainSetSchedulerParametersFlags``). This file is the one place that maps the
first to the other two, so a policy means the same in a defined VM as on a running one.

``qos_tuning`` gives the domain XML's names; ``tuning_parameters`` gives, per libvirt
API, the typed parameters of the same values.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

KIB_PER_MB = 1024

# libvirt's ranges, formatdomain.html#cpu-tuning: <shares> [2, 262144]; <period> [1000,
# 1000000] microseconds; <quota> [1000, 17592186044415] microseconds, or negative for no
# limit (the schema, domaincommon.rng, takes -1 only).
CPU_SHARES_RANGE = (2, 262144)
CPU_PERIOD_RANGE = (1000, 1000000)
CPU_QUOTA_RANGE = (1000, 17592186044415)
CPU_QUOTA_UNLIMITED = -1
# formatdomain.html#memory-tuning: every *_limit is 0 .. VIR_DOMAIN_MEMORY_PARAM_UNLIMITED
# (2**53 - 1 KiB), which itself means "no limit"; in whole MiB, below it.
MEMORY_LIMIT_MAX_KIB = 9007199254740991
MEMORY_LIMIT_MAX_MB = (MEMORY_LIMIT_MAX_KIB - 1) // KIB_PER_MB
# formatdomain.html#block-i-o-tuning: <weight> [100, 1000], or [10, 1000] since Linux
# 2.6.39 (cgroup v1 blkio.weight before it refused 10..99; libvirt's schema still says
# 100..1000, so a domain XML below 100 fails virt-xml-validate).
BLKIO_WEIGHT_RANGE = (10, 1000)
BLKIO_WEIGHT_SCHEMA_MIN = 100
# formatdomain.html#hard-drives-floppy-disks-cdroms (<iotune>): 0 or no element is no
# limit. QEMU caps every rate and burst at 1e15 (THROTTLE_VALUE_MAX), and a burst rate
# times its length too; libvirt refuses larger values before asking QEMU.
IOTUNE_MAX = 10 ** 15
# formatdomain.html#quality-of-service (<bandwidth>): average, peak and floor in KB/s,
# burst in KB, each 1 .. 2**32 - 1 (an unsignedInt in networkcommon.rng, and the UINT
# typed parameters of virDomainSetInterfaceParameters).
BANDWIDTH_RANGE = (1, 4294967295)

# <cputune> element -> the QEMU driver's scheduler parameter
# (VIR_DOMAIN_SCHEDULER_CPU_SHARES, _VCPU_PERIOD, _VCPU_QUOTA). <cputune>'s period and
# quota are the vCPU threads' ones; emulator_*, global_* and iothread_* are not set by
# a catalog policy.
CPUTUNE_PARAMETERS = (('shares', 'cpu_shares'), ('period', 'vcpu_period'), ('quota', 'vcpu_quota'))

# catalog memory key -> <memtune> element, which is also the typed parameter
# (VIR_DOMAIN_MEMORY_HARD_LIMIT, _SOFT_LIMIT, _SWAP_HARD_LIMIT), both in KiB.
MEMTUNE_FIELDS = (('hard_limit_mb', 'hard_limit'), ('soft_limit_mb', 'soft_limit'), ('swap_hard_limit_mb', 'swap_hard_limit'))

# <blkiotune><weight>, typed parameter VIR_DOMAIN_BLKIO_WEIGHT.
BLKIO_WEIGHT = 'weight'

# The six base rates of <iotune>; each has a _max burst rate and a _max_length (seconds).
IOTUNE_RATES = ('total_bytes_sec', 'read_bytes_sec', 'write_bytes_sec',
                'total_iops_sec', 'read_iops_sec', 'write_iops_sec')
# Every numeric <iotune> element, in the order of formatdomain; the catalog's disk keys
# and the typed parameters of virDomainSetBlockIoTune (VIR_DOMAIN_BLOCK_IOTUNE_*) have
# these same names.
IOTUNE_NUMBERS = (IOTUNE_RATES + tuple(rate + '_max' for rate in IOTUNE_RATES)
                  + tuple(rate + '_max_length' for rate in IOTUNE_RATES) + ('size_iops_sec',))
IOTUNE_GROUP_NAME = 'group_name'
IOTUNE_FIELDS = IOTUNE_NUMBERS + (IOTUNE_GROUP_NAME,)

# <bandwidth><inbound>/<outbound> attributes; the typed parameters of
# virDomainSetInterfaceParameters are '<direction>.<attribute>'
# (VIR_DOMAIN_BANDWIDTH_IN_AVERAGE = 'inbound.average', ...). floor is inbound only.
BANDWIDTH_FIELDS = {
    'inbound': ('average', 'peak', 'burst', 'floor'),
    'outbound': ('average', 'peak', 'burst'),
}
BANDWIDTH_DIRECTIONS = ('inbound', 'outbound')

# Sections of qos_tuning, in the order of the domain XML.
SECTIONS = ('cputune', 'memtune', 'blkiotune', 'iotune', 'bandwidth')


def _set(mapping, key):
    return isinstance(mapping, dict) and mapping.get(key) is not None


def qos_tuning(policy):
    """The QoS ``policy`` (a catalog entry, already checked by ``catalog_problems``) as
    libvirt's domain XML elements and units, only the sections and values it sets::

        {'cputune': {'shares': 2048, 'period': 100000, 'quota': -1},
         'memtune': {'hard_limit': KiB, 'soft_limit': KiB, 'swap_hard_limit': KiB},
         'blkiotune': {'weight': 500},
         'iotune': {'total_bytes_sec': ..., 'read_iops_sec_max_length': ..., 'group_name': 'db'},
         'bandwidth': {'inbound': {'average': KB/s, 'peak': KB/s, 'burst': KB, 'floor': KB/s},
                       'outbound': {'average': ..., 'peak': ..., 'burst': ...}}}

    ``iotune`` applies to each disk and ``bandwidth`` to each interface the policy is
    given to; which ones is the caller's choice. None, or a policy that sets nothing,
    gives ``{}``.
    """
    policy = policy if isinstance(policy, dict) else {}
    tuning = {}
    cpu = policy.get('cpu')
    cputune = dict((key, cpu[key]) for key, dummy in CPUTUNE_PARAMETERS if _set(cpu, key))
    if cputune:
        tuning['cputune'] = cputune
    memory = policy.get('memory')
    memtune = dict((element, memory[key] * KIB_PER_MB) for key, element in MEMTUNE_FIELDS if _set(memory, key))
    if memtune:
        tuning['memtune'] = memtune
    if policy.get('blkio_weight') is not None:
        tuning['blkiotune'] = {BLKIO_WEIGHT: policy['blkio_weight']}
    disk = policy.get('disk')
    # An <iotune> value of 0 is no limit, as is no element: libvirt never writes a zero
    # back, and its schema refuses total_* beside read_*/write_* whatever their values.
    iotune = dict((key, disk[key]) for key in IOTUNE_FIELDS if _set(disk, key) and disk[key] != 0)
    if iotune:
        tuning['iotune'] = iotune
    network = policy.get('network')
    bandwidth = {}
    for direction in BANDWIDTH_DIRECTIONS:
        rates = network.get(direction) if isinstance(network, dict) else None
        found = dict((key, rates[key]) for key in BANDWIDTH_FIELDS[direction] if _set(rates, key))
        if found:
            bandwidth[direction] = found
    if bandwidth:
        tuning['bandwidth'] = bandwidth
    return tuning


# -- typed parameters ----------------------------------------------------------------

# The libvirt APIs vm_qos calls, one per kind of typed parameters, by the section of
# qos_tuning they set: domain-wide (scheduler, memory, blkio), per disk (block), per
# interface (interface).
API_OF_SECTION = {
    'cputune': 'scheduler',
    'memtune': 'memory',
    'blkiotune': 'blkio',
    'iotune': 'block',
    'bandwidth': 'interface',
}


def tuning_parameters(tuning):
    """``qos_tuning``'s result as the typed parameters of libvirt's tuning APIs::

        {'scheduler': {'cpu_shares': 2048, 'vcpu_period': 100000, 'vcpu_quota': -1},
         'memory': {'hard_limit': KiB, ...},
         'blkio': {'weight': 500},
         'block': {'total_bytes_sec': ..., 'group_name': 'db'},
         'interface': {'inbound.average': ..., 'outbound.burst': ...}}

    only the kinds that have a value. ``block`` is for each disk and ``interface`` for
    each interface the policy applies to.
    """
    tuning = tuning or {}
    parameters = {}
    cputune = tuning.get('cputune') or {}
    scheduler = dict((name, cputune[key]) for key, name in CPUTUNE_PARAMETERS if key in cputune)
    if scheduler:
        parameters['scheduler'] = scheduler
    if tuning.get('memtune'):
        parameters['memory'] = dict(tuning['memtune'])
    if tuning.get('blkiotune'):
        parameters['blkio'] = dict(tuning['blkiotune'])
    if tuning.get('iotune'):
        parameters['block'] = dict(tuning['iotune'])
    interface = {}
    for direction, rates in (tuning.get('bandwidth') or {}).items():
        for key, value in rates.items():
            interface['%s.%s' % (direction, key)] = value
    if interface:
        parameters['interface'] = interface
    return parameters


# -- bandwidth against the VM's interfaces and the host's networks ------------------

# Interface types whose traffic libvirt can shape (virNetDevSupportsBandwidth): those
# with a host-side device, a tap or macvtap, that tc acts on.
BANDWIDTH_INTERFACE_TYPES = ('network', 'bridge', 'direct', 'ethernet')

# Forward modes of a libvirt network on which an interface may have an inbound floor:
# libvirt's virNetDevSupportBandwidthFloor (route, nat, open, and none, which the host
# facts call 'isolated'). formatdomain.html#quality-of-service: floor works only through
# a virtual network, whose own <bandwidth> shares out what is left above the floors.
FLOOR_FORWARD_MODES = ('route', 'nat', 'open', 'isolated')


def _problem(field, code, message, severity='error'):
    return {'field': field, 'code': code, 'message': message, 'severity': severity}


def _interface_label(interface, index):
    label = interface.get('name') if isinstance(interface, dict) else None
    return label if isinstance(label, str) and label else 'interfaces[%d]' % index


def interface_bandwidth_problems(policy, interfaces, networks, policy_name=None):
    """What keeps the ``network`` bandwidth of QoS ``policy`` off the given interfaces of
    a VM on a host: the checks that need the VM and the host, which the catalog cannot
    make. Returns ``[{field, code, message, severity}]``, empty when it fits.

    ``interfaces``: the interfaces the bandwidth would be written on, each a mapping with
      ``type``: libvirt's interface type (``network``, ``bridge``, ``direct``,
      ``hostdev``, ...); default ``network`` when ``network`` is given;
      ``network``: the libvirt network name of a ``type: network`` interface;
      ``name``: optional, how messages name it (default ``interfaces[<index>]``).
      The VM spec's ``networks`` entries (``{network, model}``) are such mappings.
    ``networks``: the host's libvirt networks, the ``network_info.networks`` list of
      its ``libvirt_host_caps`` facts (each ``{name, forward_mode, ...}``), or None
      when unknown.

    Rules (formatdomain.html#quality-of-service, formatnetwork.html#quality-of-service):
    - bandwidth on a hostdev interface is an error (``bandwidth_on_hostdev``): a VF
      passed through bypasses the host's tap device, where libvirt shapes the traffic.
      A ``type: network`` interface on a network of forward mode ``hostdev`` is one too.
    - bandwidth on any other type than network, bridge, direct or ethernet (user,
      vhostuser, ...) is an error too (``bandwidth_unsupported_type``).
    - ``inbound.floor`` needs a ``type: network`` interface (``floor_needs_network``)
      on a network whose forward mode is route, nat, open or none
      (``floor_forward_mode``); a network the host does not have, or an unknown
      network list, cannot confirm it (``unknown_network``). libvirt also needs an
      inbound ``<bandwidth>`` on that network itself, which the host facts do not
      record: libvirt refuses such a VM when it starts.
    A policy without ``network`` bandwidth fits any interface.
    """
    bandwidth = qos_tuning(policy).get('bandwidth')
    if not bandwidth:
        return []
    what = 'QoS policy %r' % policy_name if policy_name else 'the QoS policy'
    floor = (bandwidth.get('inbound') or {}).get('floor')
    modes = None
    if isinstance(networks, (list, tuple)):
        modes = dict((net.get('name'), net.get('forward_mode')) for net in networks if isinstance(net, dict))
    problems = []
    for index, interface in enumerate(interfaces or ()):
        interface = interface if isinstance(interface, dict) else {}
        label = _interface_label(interface, index)
        network = interface.get('network')
        kind = interface.get('type') or ('network' if network is not None else None)
        mode = modes.get(network) if modes is not None and kind == 'network' else None
        if kind == 'hostdev' or mode == 'hostdev':
            via = 'a hostdev interface' if kind == 'hostdev' else 'on network %r, whose forward mode is hostdev,' % network
            problems.append(_problem(label, 'bandwidth_on_hostdev', (
                'interface %s is %s: a passed-through VF or device bypasses the host, so libvirt cannot shape its '
                'traffic and refuses <bandwidth> on it; give it no bandwidth (leave it out of the interfaces '
                '%s applies to), or use a virtio interface on a libvirt network' % (label, via, what))))
            continue
        if kind is not None and kind not in BANDWIDTH_INTERFACE_TYPES:
            problems.append(_problem(label, 'bandwidth_unsupported_type', (
                'interface %s is of type %r: libvirt shapes the traffic of %s interfaces only, through their host-side '
                'device; leave it out of the interfaces %s applies to' % (label, kind, ', '.join(BANDWIDTH_INTERFACE_TYPES), what))))
            continue
        if floor is None:
            continue
        if kind != 'network':
            problems.append(_problem(label, 'floor_needs_network', (
                "interface %s is of type %r: network.inbound.floor of %s (%s KB/s) works only on a type='network' "
                'interface; attach it to a libvirt network of forward mode route, nat, open or none, or remove '
                'the floor' % (label, kind, what, floor))))
        elif modes is None or network not in modes:
            known = 'the host has no network %r' % network if modes is not None else 'the host\'s networks are unknown'
            problems.append(_problem(label, 'unknown_network', (
                'interface %s: network.inbound.floor of %s needs a network of forward mode route, nat, open or none, '
                'and %s; gather the host\'s facts again, or name a network it has' % (label, what, known))))
        elif mode not in FLOOR_FORWARD_MODES:
            problems.append(_problem(label, 'floor_forward_mode', (
                'interface %s: network.inbound.floor of %s (%s KB/s) needs a network of forward mode route, nat, '
                'open or none, but network %r has forward mode %r; use such a network, or remove the floor'
                % (label, what, floor, network, mode))))
    return problems


# -- live tuning: what vm_qos reads, compares and writes (pure, no libvirt) ----------

# Where a value lives: 'live' (the running domain, VIR_DOMAIN_AFFECT_LIVE) and
# 'config' (its persistent definition, VIR_DOMAIN_AFFECT_CONFIG).
SCOPES = ('live', 'config')
# Sections set once per domain, and sections set per device (disk target, interface MAC).
DOMAIN_SECTIONS = ('cputune', 'memtune', 'blkiotune')
DEVICE_SECTIONS = ('iotune', 'bandwidth')


def _bandwidth_keys():
    return tuple('%s.%s' % (direction, key) for direction in BANDWIDTH_DIRECTIONS for key in BANDWIDTH_FIELDS[direction])


# Per section, its keys (qos_tuning's names; bandwidth flattened to 'inbound.average')
# and the typed parameter libvirt's getter and setter call each.
TYPED_NAMES = {
    'cputune': dict(CPUTUNE_PARAMETERS),
    'memtune': dict((element, element) for dummy, element in MEMTUNE_FIELDS),
    'blkiotune': {BLKIO_WEIGHT: BLKIO_WEIGHT},
    'iotune': dict((key, key) for key in IOTUNE_FIELDS),
    'bandwidth': dict((key, key) for key in _bandwidth_keys()),
}


def desired_settings(tuning):
    """What vm_qos makes true for ``qos_tuning``'s result, per section, as
    ``{section: {key: value}}`` with bandwidth keys flattened (``inbound.average``).

    libvirt's APIs decide how much of a section one policy owns:
    - cputune, memtune, blkiotune: only the keys the policy sets; the others keep their
      values.
    - iotune: the whole <iotune> of each disk. virDomainSetBlockIoTune resets the other
      members of a group it is given one of (read_bytes_sec clears total_bytes_sec), so
      a partial setting would depend on what was there; a key the policy leaves out is 0,
      no limit. group_name only when the policy sets one: without it QEMU names the
      group after the device.
    - bandwidth: each direction the policy sets, whole (virDomainSetInterfaceParameters
      replaces a direction it is given any value of); a key left out is 0, none. A
      direction the policy does not set keeps its values.
    """
    desired = {}
    for section in DOMAIN_SECTIONS:
        if tuning.get(section):
            desired[section] = dict(tuning[section])
    iotune = tuning.get('iotune')
    if iotune:
        desired['iotune'] = dict((key, iotune.get(key, 0)) for key in IOTUNE_NUMBERS)
        if iotune.get(IOTUNE_GROUP_NAME):
            desired['iotune'][IOTUNE_GROUP_NAME] = iotune[IOTUNE_GROUP_NAME]
    bandwidth = tuning.get('bandwidth') or {}
    flat = {}
    for direction in BANDWIDTH_DIRECTIONS:
        if bandwidth.get(direction):
            for key in BANDWIDTH_FIELDS[direction]:
                flat['%s.%s' % (direction, key)] = bandwidth[direction].get(key, 0)
    if flat:
        desired['bandwidth'] = flat
    return desired


def settings_from_parameters(section, parameters):
    """A libvirt getter's typed parameters as ``section``'s keys, leaving out what a QoS
    policy does not set (emulator_period, device_weight, ...)."""
    parameters = parameters or {}
    return dict((key, parameters[name]) for key, name in TYPED_NAMES[section].items() if name in parameters)


def plan_changes(desired, targets):
    """The changes that make ``targets`` hold ``desired`` (``desired_settings``).

    ``targets``: what is there now, each ``{scope, section, device, current}`` with
    ``current`` the section's keys as ``settings_from_parameters`` gives them; device is
    None for a domain-wide section, a disk target or an interface MAC otherwise.
    Returns ``[{scope, section, device, before, after}]`` in the order of ``targets``,
    only those where a value differs, ``before`` and ``after`` holding only the
    differing keys; an empty list when nothing is to change.
    """
    changes = []
    for target in targets:
        wanted = desired.get(target['section']) or {}
        current = target.get('current') or {}
        differing = sorted(key for key, value in wanted.items() if current.get(key) != value)
        if differing:
            changes.append({
                'scope': target['scope'], 'section': target['section'], 'device': target.get('device'),
                'before': dict((key, current.get(key)) for key in differing),
                'after': dict((key, wanted[key]) for key in differing),
            })
    return changes


def change_parameters(change, desired):
    """The typed parameters of the one setter call that makes ``change`` true.

    Domain-wide sections send the differing keys only. iotune sends the disk's whole
    desired <iotune>, and bandwidth every key of each direction that differs, because
    libvirt resets the rest of a group or direction it is given part of.
    """
    section = change['section']
    names = TYPED_NAMES[section]
    if section == 'iotune':
        keys = desired['iotune']
    elif section == 'bandwidth':
        directions = set(key.split('.', 1)[0] for key in change['after'])
        keys = [key for key in desired['bandwidth'] if key.split('.', 1)[0] in directions]
    else:
        keys = change['after']
    return dict((names[key], desired[section][key]) for key in keys)


def describe_change(change):
    """One change in libvirt's XML names, for messages:
    ``iotune of disk vda (config): total_iops_sec 0 -> 1000``."""
    where = change['section']
    if change['device'] is not None:
        where += ' of %s %s' % ('disk' if change['section'] == 'iotune' else 'interface', change['device'])
    values = ', '.join('%s %s -> %s' % (key, change['before'][key], change['after'][key]) for key in sorted(change['after']))
    return '%s (%s): %s' % (where, change['scope'], values)


def diff_of_changes(changes):
    """Ansible's ``diff`` of the changes: ``{before, after}``, each
    ``{scope: {section: values}}`` for a domain-wide section and
    ``{scope: {section: {device: values}}}`` for a per-device one."""
    diff = {'before': {}, 'after': {}}
    for change in changes:
        for side in ('before', 'after'):
            place = diff[side].setdefault(change['scope'], {}).setdefault(change['section'], {})
            if change['device'] is not None:
                place = place.setdefault(change['device'], {})
            place.update(change[side])
    return diff
