# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make demo`'s playbook, run the way the Makefile runs it: it says which libvirt answered
and prints no warning (an implicit inventory, a deprecation) on any supported core."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess

from conftest import COLLECTIONS_PATH, HOST_PYTHON, REPO_ROOT, RUN_TIMEOUT

INVENTORY = os.path.join(REPO_ROOT, 'playbooks', 'inventory', 'localhost.yml')
DEMO = os.path.join(REPO_ROOT, 'playbooks', 'demo.yml')


def _demo(core, tmp_path, *args):
    env = {
        'PATH': '%s:%s' % (core.bin_dir, os.environ.get('PATH', '/usr/bin:/bin')),
        'HOME': str(tmp_path),
        'PWD': str(tmp_path),
        'LANG': 'C.UTF-8',
        'ANSIBLE_COLLECTIONS_PATH': COLLECTIONS_PATH,
        'ANSIBLE_PYTHON_INTERPRETER': HOST_PYTHON,
        'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'ansible-tmp'),
        'ANSIBLE_NOCOLOR': '1',
    }
    result = subprocess.run([core.tool('ansible-playbook'), '-i', INVENTORY, DEMO] + list(args), cwd=str(tmp_path),
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                            timeout=RUN_TIMEOUT, check=False)
    assert result.returncode == 0, result.stdout
    return result.stdout


def test_demo_uses_the_daemon_and_warns_of_nothing(core, tmp_path):
    output = _demo(core, tmp_path)
    assert 'Using the libvirt daemon at qemu:///system.' in output
    assert '[WARNING]' not in output, output
    assert (tmp_path / '.tmp' / 'demo' / 'localhost-hostcaps.json').is_file()


def test_demo_falls_back_to_the_embedded_test_driver(core, tmp_path):
    output = _demo(core, tmp_path, '-e', 'demo_uri=qemu:///system?socket=/nonexistent/libvirt-sock')
    assert 'No libvirt daemon answered at qemu:///system?socket=/nonexistent/libvirt-sock' in output
    assert 'using the test driver embedded in libvirt, test:///default' in output
    assert '[WARNING]' not in output, output
