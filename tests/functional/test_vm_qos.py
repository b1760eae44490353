# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vm_qos in real ``ansible-playbook`` runs, on every supported core, against domains it
defines on this machine's qemu:///system (KVM, q35, no OS: the firmware just runs):

- a running domain gets the policy live and in its definition, read back with virsh
  (schedinfo, memtune, blkiotune, blkdeviotune); a changed policy reads back too; a second
  run changes nothing and writes nothing; check mode writes nothing and says what would
  change, with the values before and after under --diff;
- a value the host refuses fails the task, naming it and libvirt's reason, after the
  accepted ones are applied; the definition does not get the refused value;
- a shut-off domain gets its definition only, interface bandwidth included (domiftune);
- a hostdev interface, an invalid policy and an unreachable libvirt fail before any change.

Every domain and network is made for one test, under a name of its own, and removed after.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import subprocess
import tempfile
import uuid

import pytest

from conftest import COLLECTIONS_PATH, HOST_PYTHON, PLAYBOOKS, RUN_TIMEOUT
from virsh import tuning, virsh, virsh_quietly

NET_MAC = '52:54:00:71:05:01'
# A hostdev interface on a PCI address this machine lacks: libvirt defines such a domain
# and would refuse it only at start.
HOSTDEV_MAC = '52:54:00:71:05:02'

GOLD = {
    'name': 'gold',
    'cpu': {'shares': 2048, 'period': 50000, 'quota': 25000},
    'memory': {'soft_limit_mb': 512, 'hard_limit_mb': 1024, 'swap_hard_limit_mb': 2048},
    'blkio_weight': 500,
    'disk': {'total_iops_sec': 1000, 'total_iops_sec_max': 2000, 'total_iops_sec_max_length': 10,
             'read_bytes_sec': 10485760, 'group_name': 'hcqos'},
}
# gold, read back: virsh's names and units (KiB).
GOLD_SCHEDINFO = {'cpu_shares': '2048', 'vcpu_period': '50000', 'vcpu_quota': '25000'}
GOLD_MEMTUNE = {'hard_limit': '1048576', 'soft_limit': '524288', 'swap_hard_limit': '2097152'}
GOLD_IOTUNE = {'total_iops_sec': '1000', 'total_iops_sec_max': '2000', 'total_iops_sec_max_length': '10',
               'read_bytes_sec': '10485760', 'write_bytes_sec': '0', 'total_bytes_sec': '0', 'group_name': 'hcqos'}

SILVER = {
    'name': 'silver',
    'cpu': {'shares': 512, 'quota': -1},
    'memory': {'soft_limit_mb': 256},
    'blkio_weight': 200,
    'disk': {'total_bytes_sec': 5242880},
}

BANDWIDTH = {'inbound': {'average': 1000, 'peak': 2000, 'burst': 512}, 'outbound': {'average': 500}}
BANDWIDTH_DOMIFTUNE = {'inbound.average': '1000', 'inbound.peak': '2000', 'inbound.burst': '512',
                       'outbound.average': '500', 'outbound.peak': '0', 'outbound.burst': '0'}


def subset(values, keys):
    return dict((key, values.get(key)) for key in keys)


class Lab:
    """An isolated libvirt network, a disk image and the domains of one test."""

    def __init__(self):
        tag = uuid.uuid4().hex[:8]
        self.prefix = 'hcqos-%s' % tag
        self.network = self.prefix
        # A bridge name has at most 15 characters.
        self.bridge = 'hcq%s' % tag
        # QEMU runs as another user: the image's directory must let it in.
        self.dir = tempfile.mkdtemp(prefix='hcqos-')
        os.chmod(self.dir, 0o755)
        self.image = os.path.join(self.dir, 'vda.qcow2')
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', self.image, '16M'], check=True, timeout=60)
        self.domains = []
        net_xml = os.path.join(self.dir, 'net.xml')
        with open(net_xml, 'w') as handle:
            # No <forward> and no <ip>: isolated, without dnsmasq, and with no inbound QoS.
            handle.write("<network><name>%s</name><bridge name='%s'/></network>" % (self.network, self.bridge))
        virsh('net-define', net_xml)
        virsh('net-start', self.network)

    def define(self, suffix, start, hostdev=False):
        name = '%s-%s' % (self.prefix, suffix)
        hostdev_xml = ''
        if hostdev:
            hostdev_xml = ("<interface type='hostdev' managed='yes'><mac address='%s'/><source>"
                           "<address type='pci' domain='0x0000' bus='0x3b' slot='0x01' function='0x1'/></source></interface>"
                           % HOSTDEV_MAC)
        xml = """<domain type='kvm'>
  <name>%s</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='%s'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'><mac address='%s'/><source network='%s'/><model type='virtio'/></interface>
    %s
    <memballoon model='none'/>
  </devices>
</domain>""" % (name, self.image, NET_MAC, self.network, hostdev_xml)
        path = os.path.join(self.dir, '%s.xml' % suffix)
        with open(path, 'w') as handle:
            handle.write(xml)
        virsh('define', path)
        self.domains.append(name)
        if start:
            virsh('start', name)
        return name

    def shapes_traffic(self):
        """Whether this kernel has the sfq queueing discipline libvirt shapes traffic
        with (CONFIG_NET_SCH_SFQ); tried on the lab's own bridge, then removed."""
        added = subprocess.run(['tc', 'qdisc', 'add', 'dev', self.bridge, 'root', 'sfq'], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, universal_newlines=True, check=False)
        if added.returncode != 0:
            return False
        subprocess.run(['tc', 'qdisc', 'del', 'dev', self.bridge, 'root'], check=False)
        return True

    def remove(self):
        for name in self.domains:
            virsh_quietly('destroy', name)
            virsh_quietly('undefine', name)
        virsh_quietly('net-destroy', self.network)
        virsh_quietly('net-undefine', self.network)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def lab():
    made = Lab()
    try:
        yield made
    finally:
        made.remove()


def vm_qos(core, tmp_path, domain, policy, *args, **options):
    """One ansible-playbook run of vm_qos; its registered result."""
    out_dir = tmp_path / 'out'
    out_dir.mkdir(exist_ok=True)
    variables = {'out_dir': str(out_dir), 'qos_domain': domain, 'qos_policy': policy}
    variables.update(('qos_%s' % key, value) for key, value in options.items())
    vars_file = tmp_path / 'vars.json'
    vars_file.write_text(json.dumps(variables))
    env = {
        'PATH': '%s:%s' % (core.bin_dir, os.environ.get('PATH', '/usr/bin:/bin')),
        'HOME': str(tmp_path),
        'LANG': 'C.UTF-8',
        'ANSIBLE_COLLECTIONS_PATH': COLLECTIONS_PATH,
        'ANSIBLE_PYTHON_INTERPRETER': HOST_PYTHON,
        'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'ansible-tmp'),
        'ANSIBLE_NOCOLOR': '1',
    }
    command = [core.tool('ansible-playbook'), '-i', 'localhost,', '-c', 'local', os.path.join(PLAYBOOKS, 'vm_qos.yml'),
               '-e', '@%s' % vars_file] + list(args)
    result = subprocess.run(command, cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, timeout=RUN_TIMEOUT, check=False)
    assert result.returncode == 0, result.stdout
    with open(str(out_dir / 'result.json')) as handle:
        return json.load(handle)


def succeeded(result):
    assert not result.get('failed'), result.get('msg')
    return result


def read_back(domain, scope):
    """The values a QoS policy sets, as virsh reads them in ``scope`` (live or config)."""
    flag = '--%s' % scope
    return {
        'schedinfo': subset(tuning('schedinfo', domain, flag), GOLD_SCHEDINFO),
        'memtune': subset(tuning('memtune', domain, flag), GOLD_MEMTUNE),
        'weight': tuning('blkiotune', domain, flag).get('weight'),
        'iotune': subset(tuning('blkdeviotune', domain, 'vda', flag), GOLD_IOTUNE),
    }


GOLD_READ_BACK = {'schedinfo': GOLD_SCHEDINFO, 'memtune': GOLD_MEMTUNE, 'weight': '500', 'iotune': GOLD_IOTUNE}


def test_running_domain_gets_the_policy_live_and_in_its_definition(core, tmp_path, lab):
    domain = lab.define('run', start=True)
    result = succeeded(vm_qos(core, tmp_path, domain, GOLD))
    assert result['changed'] is True
    assert result['scopes'] == ['live', 'config']
    assert any('hard_limit_mb 1024: libvirt advises against a hard limit' in warning for warning in result.get('warnings', []))
    assert read_back(domain, 'live') == GOLD_READ_BACK
    assert read_back(domain, 'config') == GOLD_READ_BACK

    # silver changes what it sets; the whole <iotune> of the disk is silver's.
    result = succeeded(vm_qos(core, tmp_path, domain, SILVER))
    assert result['changed'] is True
    for scope in ('live', 'config'):
        values = read_back(domain, scope)
        assert values['schedinfo'] == {'cpu_shares': '512', 'vcpu_period': '50000', 'vcpu_quota': '-1'}
        assert values['memtune'] == dict(GOLD_MEMTUNE, soft_limit='262144')
        assert values['weight'] == '200'
        assert subset(values['iotune'], ('total_bytes_sec', 'read_bytes_sec', 'total_iops_sec', 'total_iops_sec_max')) == {
            'total_bytes_sec': '5242880', 'read_bytes_sec': '0', 'total_iops_sec': '0', 'total_iops_sec_max': '0'}

    again = succeeded(vm_qos(core, tmp_path, domain, SILVER))
    assert (again['changed'], again['changes'], again['libvirt_writes']) == (False, [], 0)

    # Check mode with --diff: what would change, before and after; nothing written.
    preview = succeeded(vm_qos(core, tmp_path, domain, dict(SILVER, cpu={'shares': 4096}), '--check', '--diff'))
    assert preview['changed'] is True
    assert preview['libvirt_writes'] == 0
    assert [(change['scope'], change['section'], change['before'], change['after']) for change in preview['changes']] == [
        ('live', 'cputune', {'shares': 512}, {'shares': 4096}), ('config', 'cputune', {'shares': 512}, {'shares': 4096})]
    assert preview['diff'] == {'before': {'live': {'cputune': {'shares': 512}}, 'config': {'cputune': {'shares': 512}}},
                               'after': {'live': {'cputune': {'shares': 4096}}, 'config': {'cputune': {'shares': 4096}}}}
    assert tuning('schedinfo', domain, '--live')['cpu_shares'] == '512'
    assert tuning('schedinfo', domain, '--config')['cpu_shares'] == '512'


def test_a_refused_value_fails_naming_it_after_the_accepted_ones(core, tmp_path, lab):
    domain = lab.define('refused', start=True)
    # libvirt guarantees a floor only through a network that has inbound QoS of its own;
    # the lab's network has none, so the running domain refuses it.
    policy = {'name': 'floor', 'cpu': {'shares': 3000}, 'network': {'inbound': {'average': 1000, 'floor': 100}}}
    result = vm_qos(core, tmp_path, domain, policy)
    assert result['failed'] is True
    assert result['msg'].startswith("vm_qos: domain '%s': libvirt refused bandwidth of interface %s inbound.average=1000, "
                                    "inbound.floor=100 (live): " % (domain, NET_MAC))
    assert "network '%s' has no inbound QoS set" % lab.network in result['msg']
    assert result['refused'][1] == 'bandwidth of interface %s (config) left as it is, as the running domain refused it' % NET_MAC
    assert [(change['scope'], change['section']) for change in result['changes']] == [('live', 'cputune'), ('config', 'cputune')]
    assert result['changed'] is True
    assert tuning('schedinfo', domain, '--live')['cpu_shares'] == '3000'
    assert tuning('domiftune', domain, NET_MAC, '--config')['inbound.average'] == '0'


def test_running_domain_gets_interface_bandwidth_where_the_kernel_shapes_traffic(core, tmp_path, lab):
    domain = lab.define('bw', start=True)
    result = vm_qos(core, tmp_path, domain, {'name': 'bw', 'network': BANDWIDTH})
    if lab.shapes_traffic():
        succeeded(result)
        for scope in ('live', 'config'):
            assert subset(tuning('domiftune', domain, NET_MAC, '--%s' % scope), BANDWIDTH_DOMIFTUNE) == BANDWIDTH_DOMIFTUNE
        assert succeeded(vm_qos(core, tmp_path, domain, {'name': 'bw', 'network': BANDWIDTH}))['changed'] is False
    else:
        # A kernel without CONFIG_NET_SCH_SFQ (this machine's): libvirt's tc call fails,
        # and the definition is left without a bandwidth it could not start with.
        assert result['failed'] is True
        assert result['msg'].startswith("vm_qos: domain '%s': libvirt refused bandwidth of interface %s inbound.average=1000, "
                                        'inbound.burst=512, inbound.peak=2000, outbound.average=500 (live): ' % (domain, NET_MAC))
        assert 'sfq' in result['msg']
        assert result['changed'] is False
        assert tuning('domiftune', domain, NET_MAC, '--config')['inbound.average'] == '0'


def test_shut_off_domain_gets_its_definition_only(core, tmp_path, lab):
    domain = lab.define('off', start=False, hostdev=True)
    policy = dict(GOLD, network=dict(BANDWIDTH, inbound=dict(BANDWIDTH['inbound'], floor=100)))
    result = succeeded(vm_qos(core, tmp_path, domain, policy))
    assert (result['changed'], result['scopes']) == (True, ['config'])
    assert read_back(domain, 'config') == GOLD_READ_BACK
    assert subset(tuning('domiftune', domain, NET_MAC, '--config'), BANDWIDTH_DOMIFTUNE) == BANDWIDTH_DOMIFTUNE
    assert tuning('domiftune', domain, NET_MAC, '--config')['inbound.floor'] == '100'
    # The hostdev interface is not one the bandwidth goes to by default.
    assert tuning('domiftune', domain, HOSTDEV_MAC, '--config')['inbound.average'] == '0'
    assert virsh('domstate', domain).strip() == 'shut off'
    assert succeeded(vm_qos(core, tmp_path, domain, policy))['changed'] is False


def test_hostdev_invalid_policy_and_unreachable_libvirt_fail_before_any_change(core, tmp_path, lab):
    domain = lab.define('bad', start=False, hostdev=True)
    before = virsh('dumpxml', '--inactive', domain)

    hostdev = vm_qos(core, tmp_path, domain, {'name': 'bw', 'cpu': {'shares': 4000}, 'network': BANDWIDTH},
                     interfaces=[HOSTDEV_MAC])
    assert hostdev['failed'] is True
    assert hostdev['msg'].startswith("vm_qos: domain '%s': interface %s is a hostdev interface: a passed-through VF or device "
                                     'bypasses the host' % (domain, HOSTDEV_MAC))

    invalid = vm_qos(core, tmp_path, domain, {'name': 'bad', 'cpu': {'shares': 1}, 'blkio_weight': 5000})
    assert invalid['failed'] is True
    assert invalid['msg'] == ("vm_qos: the policy is not valid: QoS policy 'bad' (policy.cpu.shares): must be 2..262144, "
                              "libvirt's range for <cputune><shares>, got 1; e.g. shares: 1024; QoS policy 'bad' "
                              "(policy.blkio_weight): must be 10..1000, libvirt's range for <blkiotune><weight>, got 5000; "
                              'e.g. blkio_weight: 500')

    unreachable = vm_qos(core, tmp_path, domain, GOLD, uri='qemu:///system?socket=/nonexistent/libvirt-sock')
    assert unreachable['failed'] is True
    assert unreachable['msg'].startswith('cannot connect to libvirt at qemu:///system: ')

    missing = vm_qos(core, tmp_path, domain + '-nope', GOLD)
    assert missing['msg'].startswith("vm_qos: no domain '%s-nope' at qemu:///system: " % domain)
    assert virsh('dumpxml', '--inactive', domain) == before
