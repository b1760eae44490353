# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role virtumancer.hostcaps.vm_define, through the playbook
virtumancer.hostcaps.define_vms (the placement role, then vm_define), on every supported
ansible-core, against this machine's qemu:///system. The placement role gathers this
host's facts; the VMs go to a storage pool and an isolated network made for the test.

Two small BIOS guests (q35 and pc, KVM, no OS: the firmware just runs) are placed,
their volumes created, defined and started; their live values are the QoS policy of the
XML. A second run changes nothing, and neither does defining their XML again while
they run. A changed policy reaches the running VMs through vm_qos, live and in their
definition; the run after that changes nothing. Check mode with a new VM and another
policy changes nothing at all. A VM that cannot be expressed on its host fails naming
it, and a VM placed on a host without facts is named and skipped.

The guests take a CPU model libvirt calls usable here: host-model and host-passthrough
guests stop at "failed to set MSR 0x10a" on this nested machine (see
tests/unit/fixtures/libvirt/README.md). The policy has no network bandwidth: this
machine's kernel lacks the sfq queueing discipline libvirt shapes traffic with, so a
running guest cannot have one (test_vm_qos.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shutil
import tempfile
import uuid

from xml.etree import ElementTree

import pytest

from conftest import Ansible
from virsh import tuning, virsh, virsh_quietly

INVENTORY = """[hypervisors]
localhost ansible_connection=local
%s
"""
# Its libvirt leads nowhere: the placement role cannot gather its facts.
GONE = 'hv-gone ansible_connection=local hostcaps_libvirt_uri=qemu:///system?socket=/nonexistent/libvirt-sock'

GOLD = {'name': 'gold', 'cpu': {'shares': 512, 'period': 100000, 'quota': 50000}, 'memory': {'soft_limit_mb': 200},
        'blkio_weight': 300, 'disk': {'total_iops_sec': 500}}
# gold with other values, as virsh reads them back.
SILVER = dict(GOLD, cpu={'shares': 1024, 'period': 100000, 'quota': 80000}, blkio_weight=400, disk={'total_iops_sec': 800})
# Two vCPUs here, and other tests' domains may be defined: the VMs fit however many there are.
POLICIES = [{'name': 'default', 'allocation_ratios': {'VCPU': 16.0}}]


def qos_read_back(name, scope):
    """The values of GOLD's and SILVER's keys the domain has, live or in its definition."""
    schedinfo = tuning('schedinfo', name, '--' + scope)
    return {'cpu': {'shares': int(schedinfo['cpu_shares']), 'period': int(schedinfo['vcpu_period']),
                    'quota': int(schedinfo['vcpu_quota'])},
            'memory': {'soft_limit_mb': int(tuning('memtune', name, '--' + scope)['soft_limit']) // 1024},
            'blkio_weight': int(tuning('blkiotune', name, '--' + scope)['weight']),
            'disk': {'total_iops_sec': int(tuning('blkdeviotune', name, 'vda', '--' + scope)['total_iops_sec'])}}


def policy_values(policy):
    return dict((key, value) for key, value in policy.items() if key != 'name')


def domains(prefix=''):
    """The names of the domains defined here (other tests' too, without ``prefix``)."""
    return set(name for name in virsh('list', '--all', '--name').split() if name.startswith(prefix))


def usable_model(machine):
    """The first CPU model libvirt calls usable for a KVM guest of ``machine`` here."""
    caps = ElementTree.fromstring(virsh('domcapabilities', '--virttype', 'kvm', '--arch', 'x86_64', '--machine', machine))
    return caps.find("cpu/mode[@name='custom']/model[@usable='yes']").text


def recap(output):
    """{host: {ok: n, changed: n, ...}} of the PLAY RECAP."""
    return dict((host, dict((key, int(value)) for key, value in re.findall(r'(\w+)=(\d+)', counts)))
                for host, counts in re.findall(r'^(\S+)\s+: (ok=.*)$', output, re.MULTILINE))


def task_output(output, task):
    """What the role's task ``task`` printed, up to the next task."""
    parts = output.split('vm_define : %s]' % task)
    assert len(parts) == 2, 'no task %r in\n%s' % (task, output)
    return parts[1].split('\nTASK [')[0]


class Lab:
    """A storage pool and an isolated network of one core's runs, and the domains the
    role defines under its prefix."""

    def __init__(self, core):
        tag = uuid.uuid4().hex[:6]
        self.prefix = 'hcdef%s-%s' % (core.version.replace('.', ''), tag)
        self.pool = self.network = self.prefix
        # qemu runs as another user: the directory must be one it can reach.
        self.dir = tempfile.mkdtemp(prefix=self.prefix + '-', dir='/var/lib/libvirt/images')
        os.chmod(self.dir, 0o711)
        workdir = tempfile.mkdtemp(prefix=self.prefix + '-xml-')
        try:
            network_xml = os.path.join(workdir, 'network.xml')
            with open(network_xml, 'w') as handle:
                # No <forward>, no <ip>: isolated, without dnsmasq.
                handle.write("<network><name>%s</name><bridge name='hcd%s' stp='on' delay='0'/></network>" % (self.network, tag))
            virsh('net-create', network_xml)
        finally:
            shutil.rmtree(workdir)
        virsh('pool-create-as', self.pool, 'dir', '--target', self.dir)
        self.model = {'q35': usable_model('q35'), 'pc': usable_model('pc')}

    def vm(self, suffix, machine='q35', qos_policy='gold'):
        return {'name': '%s-%s' % (self.prefix, suffix), 'vcpus': 1, 'memory_mb': 128, 'disk_gb': 1, 'machine': machine,
                'cpu': {'mode': 'custom', 'model': self.model[machine]}, 'disks': [{'size_gb': 1, 'pool': self.pool}],
                'networks': [{'network': self.network}], 'qos_policy': qos_policy}

    def remove(self):
        for name in sorted(domains(self.prefix + '-')):
            virsh_quietly('destroy', name)
            virsh_quietly('undefine', name)
        for line in virsh_quietly('vol-list', self.pool).splitlines()[2:]:
            if line.split():
                virsh_quietly('vol-delete', line.split()[0], '--pool', self.pool)
        virsh_quietly('pool-destroy', self.pool)
        virsh_quietly('net-destroy', self.network)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope='module')
def lab(core):
    made = Lab(core)
    try:
        yield made
    finally:
        made.remove()


def define(core, workdir, variables, args=(), hosts=''):
    """One run of define_vms; (exit code, output)."""
    runner = Ansible(core, None, workdir)
    runner.inventory = os.path.join(workdir, 'hypervisors.ini')
    with open(runner.inventory, 'w') as handle:
        handle.write(INVENTORY % hosts)
    result = runner.playbook('define.yml', variables, args=args, check=False, env=runner.env(cache=False))
    return result.returncode, result.stdout + result.stderr


def batch(lab, *vms, **options):
    variables = {'hostcaps_vms': list(vms), 'hostcaps_qos_policies': [GOLD], 'hostcaps_placement_policies': POLICIES,
                 'vm_define_create_volumes': True, 'vm_define_start': True}
    variables.update(options)
    return variables


@pytest.fixture(scope='module')
def first_run(core, lab, tmp_path_factory):
    """define_vms with volumes and start, for two new VMs."""
    vms = [lab.vm('a'), lab.vm('b', machine='pc')]
    rc, output = define(core, str(tmp_path_factory.mktemp('define-%s' % core.version)), batch(lab, *vms))
    return vms, rc, output


def test_new_vms_get_their_volumes_are_defined_started_and_have_their_qos_policy(first_run, lab):
    vms, rc, output = first_run

    assert rc == 0, output
    names = [vm['name'] for vm in vms]
    for name in names:
        assert virsh('domstate', name).strip() == 'running'
        assert re.search(r'^changed: \[localhost\] => \(item=%s\)$' % re.escape(name), task_output(output, 'Define the new VMs'),
                         re.MULTILINE), output
    volumes = virsh('vol-list', lab.pool)
    assert all('%s-disk0' % name in volumes for name in names), volumes
    assert re.search(r'^Capacity: +1\.00 GiB$', virsh('vol-info', '%s-disk0' % names[0], '--pool', lab.pool), re.MULTILINE)
    # The QoS policy came with the XML: in the definition, and live.
    root = ElementTree.fromstring(virsh('dumpxml', names[0], '--inactive'))
    assert [root.findtext('cputune/%s' % key) for key in ('shares', 'period', 'quota')] == ['512', '100000', '50000']
    assert root.findtext('blkiotune/weight') == '300' and root.findtext('devices/disk/iotune/total_iops_sec') == '500'
    for name in names:
        assert qos_read_back(name, 'live') == policy_values(GOLD)
    assert root.find('os/type').get('machine').startswith('pc-q35-')
    assert ElementTree.fromstring(virsh('dumpxml', names[1])).find('os/type').get('machine').startswith('pc-i440fx-')
    # The table named both, and what was done.
    for name in names:
        assert re.search(r'%s +localhost +create volumes, define with QoS policy gold, start' % re.escape(name), output), output
    assert recap(output)['localhost']['changed'] == 3, output
    # community.libvirt's modules too run without a warning on this core.
    assert 'WARNING' not in output, output


def test_a_second_run_changes_nothing(first_run, lab, core, tmp_path):
    vms, rc, output = first_run
    assert rc == 0, output

    # And the same XML defined again, running as they are, changes nothing in libvirt either.
    rc, output = define(core, str(tmp_path), batch(lab, *vms, redefine=True))

    assert rc == 0, output
    assert recap(output)['localhost']['changed'] == 0, output
    for vm in vms:
        assert re.search(r'%s +localhost +defined already: apply QoS policy gold, start' % re.escape(vm['name']), output), output
        assert 'ok: [localhost] => (item=%s)' % vm['name'] in output.split('TASK [Define each VM placed here again, with its XML]')[1]


def test_check_mode_changes_nothing_and_says_what_would_change(first_run, lab, core, tmp_path):
    vms, rc, output = first_run
    assert rc == 0, output
    before = domains(lab.prefix)
    new = lab.vm('c')

    rc, output = define(core, str(tmp_path), batch(lab, *(vms + [new]), hostcaps_qos_policies=[dict(SILVER, name='gold')]),
                        args=['--check', '--diff'])

    assert rc == 0, output
    assert domains(lab.prefix) == before
    assert '%s-disk0' % new['name'] not in virsh('vol-list', lab.pool)
    for vm in vms:
        assert qos_read_back(vm['name'], 'live') == policy_values(GOLD)
        assert qos_read_back(vm['name'], 'config') == policy_values(GOLD)
    # The new VM would be defined, with its XML as the diff; its volume is not created, and
    # it is not started, as it does not exist. The others would get the other policy.
    defined = task_output(output, 'Define the new VMs')
    assert 'changed: [localhost] => (item=%s)' % new['name'] in defined and '+  <name>%s</name>' % new['name'] in defined, defined
    assert 'skipping: [localhost] => (item=%s-disk0 in pool %s)' % (new['name'], lab.pool) in task_output(
        output, 'Create the storage volumes of the new VMs'), output
    assert 'item=%s)' % new['name'] not in task_output(output, 'Start the placed VMs')
    applied = task_output(output, 'Apply the QoS policy of the VMs defined already')
    assert applied.count('changed: [localhost]') == 2 and '-            "shares": 512' in applied, applied
    assert 'check mode: nothing is changed' in output


def test_a_changed_qos_policy_reaches_the_running_vms_live_and_a_third_run_changes_nothing(first_run, lab, core, tmp_path):
    vms, rc, output = first_run
    assert rc == 0, output
    silver = dict(SILVER, name='gold')

    rc, output = define(core, str(tmp_path / 'changed'), batch(lab, *vms, hostcaps_qos_policies=[silver]))

    assert rc == 0, output
    assert recap(output)['localhost']['changed'] == 1, output
    applied = task_output(output, 'Apply the QoS policy of the VMs defined already')
    for vm in vms:
        assert 'changed: [localhost] => (item=%s: gold)' % vm['name'] in applied, applied
        assert virsh('domstate', vm['name']).strip() == 'running'
        assert qos_read_back(vm['name'], 'live') == policy_values(SILVER)
        assert qos_read_back(vm['name'], 'config') == policy_values(SILVER)

    rc, output = define(core, str(tmp_path / 'again'), batch(lab, *vms, hostcaps_qos_policies=[silver]))

    assert rc == 0, output
    assert recap(output)['localhost']['changed'] == 0, output


def test_a_vm_the_host_cannot_run_fails_naming_it_and_a_host_without_facts_is_named(lab, core, tmp_path):
    """A placement given to the role, as a file written earlier would give it: one VM on
    this host, which has no SEV, and one on a host whose facts could not be gathered."""
    sev = dict(lab.vm('sev'), firmware='efi', memory_encryption='sev')
    elsewhere = lab.vm('elsewhere')
    placement = {'placements': [{'vm': sev['name'], 'host': 'localhost', 'existing': False},
                                {'vm': elsewhere['name'], 'host': 'hv-gone', 'existing': False}],
                 'unplaced': []}
    before = domains(lab.prefix)

    rc, output = define(core, str(tmp_path), batch(lab, sev, elsewhere, vm_define_placement=placement, placement_fail_on_unplaced=False),
                        hosts=GONE)

    assert rc == 2, output
    assert re.search(r"vm_domain_xml: vm '%s': memory_encryption: host 'localhost': memory_encryption sev: .* does not offer AMD SEV"
                     % re.escape(sev['name']), output), output
    assert re.search(r'%s +hv-gone +skip: host hv-gone has no libvirt_host_caps facts' % re.escape(elsewhere['name']), output), output
    # Nothing was created or defined: the XML of the host is written first.
    assert domains(lab.prefix) == before
    assert sev['name'] not in virsh('vol-list', lab.pool)
    assert recap(output)['localhost']['failed'] == 1 and recap(output)['hv-gone']['failed'] == 0, output
