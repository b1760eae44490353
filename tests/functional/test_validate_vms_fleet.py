# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's playbook virtumancer.hostcaps.validate_vms on a fleet with hosts
missing: this machine (qemu:///system), a host that cannot be reached (192.0.2.1, TEST-NET-1)
and a host whose libvirt cannot be read (a socket that does not exist). Real
ansible-playbook runs, every supported ansible-core, with and without --limit."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import subprocess

from conftest import RUN_TIMEOUT, Ansible

PLAYBOOK = 'virtumancer.hostcaps.validate_vms'
FLEET = """[hypervisors]
localhost ansible_connection=local
broken ansible_connection=local hostcaps_libvirt_uri=qemu:///system?socket=/nonexistent/libvirt-sock
ghost ansible_host=192.0.2.1 ansible_connection=ssh ansible_timeout=5 ansible_ssh_common_args='-o BatchMode=yes'
"""
CATALOG = {
    'hostcaps_resource_classes': [{'name': 'm1.small', 'vcpus': 1, 'memory_mb': 256, 'disk_gb': 1}],
    'hostcaps_hardware_traits': [
        {'name': 'CUSTOM_KVM_HOST', 'query': "contains(libvirt_host_caps.domain_capabilities[].virttype, 'kvm')"},
        {'name': 'CUSTOM_FAST_NIC', 'query': 'length(sriov.physical_functions[?speed_mbps >= `25000`]) > `0`'},
    ],
}
VALID = [{'name': 'web01', 'resource_class': 'm1.small', 'required_traits': ['CUSTOM_KVM_HOST']},
         {'name': 'web02', 'vcpus': 1, 'memory_mb': 512, 'disk_gb': 0}]
# An NFV VM this machine cannot run: it has no VF and no fast NIC.
NFV = [{'name': 'nfv01', 'vcpus': 1, 'memory_mb': 512, 'disk_gb': 0, 'sriov_vfs': 2,
        'required_traits': ['CUSTOM_FAST_NIC', 'CUSTOM_KVM_HOST']}]


def validate(core, tmp_path, vms, *args):
    """ansible-playbook virtumancer.hostcaps.validate_vms on the fleet; no fact cache."""
    runner = Ansible(core, None, str(tmp_path))
    inventory = os.path.join(str(tmp_path), 'fleet.ini')
    with open(inventory, 'w') as handle:
        handle.write(FLEET)
    variables = dict(CATALOG, hostcaps_vms=vms)
    command = [core.tool('ansible-playbook'), '-i', inventory, PLAYBOOK, '-e', json.dumps(variables)] + list(args)
    result = subprocess.run(command, cwd=str(tmp_path), env=runner.env(cache=False), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, timeout=RUN_TIMEOUT, check=False)
    return result.returncode, result.stdout


def row(output, pattern):
    found = re.search(pattern, output)
    assert found, 'no line matches %r in\n%s' % (pattern, output)
    return found


def test_hosts_that_cannot_be_reached_or_read_are_skipped_with_a_warning(core, tmp_path):
    rc, output = validate(core, tmp_path, VALID)

    assert rc == 0, output
    row(output, r'hosts +warning +host_skipped +hosts\.ghost: host ghost is skipped, no VM is checked against it: unreachable \('
                r'[^)]*192\.0\.2\.1')
    row(output, r'hosts +warning +host_skipped +hosts\.broken: host broken is skipped, no VM is checked against it: gathering its '
                r'facts failed \([^)]*nonexistent')
    row(output, r'2 VM definition\(s\) valid against 1 host\(s\); skipped without facts: broken, ghost')


def test_every_requirement_a_host_fails_is_listed(core, tmp_path):
    rc, output = validate(core, tmp_path, NFV)

    assert rc == 2, output
    row(output, r'nfv01 +error +no_host_fits +hosts: 0 of 1 hosts satisfy this VM; each host lists every requirement')
    row(output, r'localhost +sriov_vfs_insufficient sriov_vfs: needs 2 SR-IOV VFs')
    row(output, r'localhost +trait_missing required_traits: lacks the required trait CUSTOM_FAST_NIC')
    row(output, r'1 of 1 VM definition\(s\) have errors: nfv01; see the table above')


def test_limit_chooses_the_hosts_to_validate_against(core, tmp_path):
    rc, output = validate(core, tmp_path, VALID, '--limit', 'localhost')

    assert rc == 0, output
    assert 'ghost' not in output and 'broken' not in output
    row(output, r'"2 VM definition\(s\) valid against 1 host\(s\)"')


def test_no_host_with_facts_fails_and_names_each_host(core, tmp_path):
    rc, output = validate(core, tmp_path, VALID, '--limit', 'ghost,broken')

    assert rc == 2, output
    row(output, r'hosts +warning +host_skipped +hosts\.broken: host broken is skipped')
    row(output, r'hosts +warning +host_skipped +hosts\.ghost: host ghost is skipped')
    row(output, r'hosts +error +no_host_facts +hosts: none of the 2 host\(s\) has libvirt_host_caps facts')
    row(output, r'errors in the hosts; see the table above')
