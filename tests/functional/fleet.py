# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fleet of hypervisors reached over real SSH, for the functional tests of the fleet
roles (discover, and the plays after it). ``hack/fleet.sh`` starts the private sshd
daemons (root on 127.0.0.2-15, hostcaps-ro on 127.0.0.16, port 2022); this module
copies the test-driver node XMLs of tests/functional/fleet/ into a directory of the test,
so a test may change a host's hardware, and writes the inventory:

==============  ============  ===========  ==========================================
host            address       user         what it exercises
==============  ============  ===========  ==========================================
sim-big         127.0.0.2     root         test:///node-big.xml: 2 NUMA, 64 CPUs, 512 GiB, E810 4 VFs
sim-mid         127.0.0.3     root         test:///node-mid.xml: 1 NUMA, 16 CPUs, 64 GiB, CX-6 8 VFs
sim-small       127.0.0.4     root         test:///node-small.xml: 4 CPUs, 8 GiB, no SR-IOV
sim-gpu         127.0.0.5     root         test:///node-gpu.xml: 4 NUMA, 96 CPUs, 1 TiB, 2 A10, 2 VFs
sim-edge        127.0.0.6     root         test:///node-edge.xml: 2 NUMA, 12 CPUs, SR-IOV capable, 0 VFs
hv-local        127.0.0.7     root         this machine's qemu:///system
hv-readonly     127.0.0.16    hostcaps-ro  qemu:///system of a private libvirtd, read-only socket only
hv-down         127.0.0.8     root         a libvirt socket that does not exist: the modules fail
hv-gone         127.0.0.254   root         nothing listens: unreachable
==============  ============  ===========  ==========================================

Modules run with the system Python (/usr/bin/python3 and python3-libvirt), as on a real
hypervisor; the repository's .venv is not readable by hostcaps-ro.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import json
import os
import shutil
import subprocess

import pytest

FUNCTIONAL_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(FUNCTIONAL_DIR))
FLEET_SCRIPT = os.path.join(REPO_ROOT, 'hack', 'fleet.sh')
NODE_DIR = os.path.join(FUNCTIONAL_DIR, 'fleet')
NO_DAEMON = 'qemu+unix:///system?socket=/nonexistent/libvirt-sock'
SYSTEM_PYTHON = '/usr/bin/python3'
# Nothing listens on this loopback address: ssh is refused at once.
GONE_ADDRESS = '127.0.0.254'

# name: (node XML or URI, address key, user)
SIMULATED = ['sim-big', 'sim-mid', 'sim-small', 'sim-gpu', 'sim-edge']
REACHABLE = SIMULATED + ['hv-local', 'hv-readonly']
DOWN = 'hv-down'
GONE = 'hv-gone'
HOSTS = REACHABLE + [DOWN, GONE]


class Fleet:
    """The running fleet: its SSH settings (from ``hack/fleet.sh status``), the node XMLs
    of the simulated hosts (copies under ``node_dir``), and inventories of it."""

    def __init__(self, settings, node_dir):
        self.settings = settings
        self.node_dir = node_dir
        self.port = int(settings['FLEET_PORT'])
        self.key = settings['FLEET_KEY']
        root_addresses = settings['FLEET_ROOT_ADDRESSES'].split()
        self.hosts = {}
        for position, name in enumerate(SIMULATED):
            self.hosts[name] = {'ansible_host': root_addresses[position], 'hostcaps_libvirt_uri': 'test://' + self.node_xml(name)}
        self.hosts['hv-local'] = {'ansible_host': root_addresses[len(SIMULATED)], 'hostcaps_libvirt_uri': 'qemu:///system'}
        self.hosts[DOWN] = {'ansible_host': root_addresses[len(SIMULATED) + 1], 'hostcaps_libvirt_uri': NO_DAEMON}
        self.hosts['hv-readonly'] = {
            'ansible_host': settings['FLEET_RO_ADDRESS'], 'ansible_user': settings['FLEET_RO_USER'],
            'hostcaps_libvirt_uri': 'qemu:///system',
            # No home directory: anything Ansible must put on that host goes to /tmp.
            'ansible_remote_tmp': '/tmp/.ansible-%s' % settings['FLEET_RO_USER'],
        }
        self.hosts[GONE] = {'ansible_host': GONE_ADDRESS}

    def node_xml(self, name):
        """The path of a simulated host's node XML (``sim-big`` -> node-big.xml)."""
        return os.path.join(self.node_dir, 'node-%s.xml' % name.split('-', 1)[1])

    def edit_node(self, name, old, new):
        """Change a simulated host's hardware: replace ``old`` by ``new`` in its node XML."""
        path = self.node_xml(name)
        with open(path) as handle:
            text = handle.read()
        assert old in text, '%r is not in %s' % (old, path)
        with open(path, 'w') as handle:
            handle.write(text.replace(old, new, 1))

    def inventory(self, path, hosts=None, groups=None, host_vars=None):
        """Write a YAML inventory of ``hosts`` (default: all) in the group ``hypervisors``
        (plus ``simulated``, and ``groups``: {group: [host, ...]}), with ``host_vars``
        ({host: {var: value}}) on top; returns ``path``."""
        hosts = HOSTS if hosts is None else hosts
        members = {}
        for name in hosts:
            entry = dict(self.hosts[name])
            entry.update((host_vars or {}).get(name, {}))
            members[name] = entry
        children = {'simulated': {'hosts': dict((name, {}) for name in hosts if name in SIMULATED)}}
        for group, names in (groups or {}).items():
            children[group] = {'hosts': dict((name, {}) for name in names)}
        inventory = {'all': {'children': {
            'hypervisors': {'hosts': members, 'vars': {
                'ansible_connection': 'ssh',
                'ansible_user': 'root',
                'ansible_port': self.port,
                'ansible_ssh_private_key_file': self.key,
                'ansible_ssh_common_args': '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR',
                'ansible_python_interpreter': SYSTEM_PYTHON,
            }},
        }}}
        inventory['all']['children'].update(children)
        with open(path, 'w') as handle:
            json.dump(inventory, handle, indent=1)
        return path

    @staticmethod
    def env(env):
        """``env`` (an ``Ansible.env()``) with what runs over this fleet need: the YAML
        inventory, pipelining, a short SSH connect timeout and a fork per host."""
        env = dict(env)
        env.update({
            'ANSIBLE_INVENTORY_ENABLED': 'yaml',
            'ANSIBLE_PIPELINING': 'true',
            'ANSIBLE_TIMEOUT': '5',
            'ANSIBLE_FORKS': str(len(HOSTS)),
            'ANSIBLE_HOST_KEY_CHECKING': 'false',
        })
        # The modules run with each host's Python (the inventory's), not the controller's.
        env.pop('ANSIBLE_PYTHON_INTERPRETER', None)
        return env


def start_fleet(ansible_playbook):
    """Run ``hack/fleet.sh start`` (idempotent) and return its settings."""
    if os.geteuid() != 0:
        pytest.fail('the SSH fleet needs root (it logs in as root and as hostcaps-ro)', pytrace=False)
    env = dict(os.environ, ANSIBLE_PLAYBOOK=ansible_playbook)
    result = subprocess.run([FLEET_SCRIPT, 'start'], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, timeout=180, check=False)
    if result.returncode != 0:
        pytest.fail('hack/fleet.sh start exited %d\n%s\n%s' % (result.returncode, result.stdout, result.stderr), pytrace=False)
    return dict(line.split('=', 1) for line in result.stdout.splitlines() if '=' in line)


@functools.lru_cache(maxsize=None)
def fleet_settings():
    """The fleet's settings, starting it once per test session."""
    return start_fleet(os.path.join(REPO_ROOT, '.venv', 'bin', 'ansible-playbook'))


def new_fleet(tmp_path_factory):
    """The fleet, with node XMLs of its own (for a module-scoped fixture of a test file:
    ``return new_fleet(tmp_path_factory)``)."""
    settings = fleet_settings()
    node_dir = str(tmp_path_factory.mktemp('fleet-nodes'))
    for name in os.listdir(NODE_DIR):
        if name.endswith('.xml'):
            shutil.copy(os.path.join(NODE_DIR, name), node_dir)
    return Fleet(settings, node_dir)
