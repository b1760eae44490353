# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fact modules in real ``ansible-playbook`` runs, on every supported core:

- a password in ``uri`` never shows, at any verbosity up to -vvvv with tracebacks on,
  whether the module succeeds, cannot connect, is given a malformed URI or fails
  argument validation; malformed URIs fail with libvirt's reason and the fix;
- a FIFO in ``sysfs_root``/``proc_root`` is skipped with an error instead of hanging the
  module, and a ``sysfs_root`` that is no directory is an error, not silent nulls.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

from conftest import COLLECTIONS_PATH, HOST_PYTHON, PLAYBOOKS

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'unit'))
import sysfs_trees  # noqa: E402  pylint: disable=wrong-import-position

SECRET = 'Sekr1t-Pa55'
URIS = [
    # libvirt's test driver takes a user and password and ignores them.
    'test://admin:%s@/default' % SECRET,
    'test:///default?password=%s' % SECRET,
    # No such host: ssh fails, libvirt says why.
    'qemu+ssh://admin:%s@nowhere.invalid/system' % SECRET,
    'qemu+ssh://admin:%s@[::1/system' % SECRET,
    'qemu+ssh://admin:%s@[]/x' % SECRET,
    'qemu+ssh://admin:%s@hv1.invalid:abc/system' % SECRET,
    'qemu+ssh://admin:%s@hv1.invalid:99999/system' % SECRET,
    '',
]
# A hanging module fails the test long before the suite's own limit.
HANG_TIMEOUT = 90


def _run(core, tmp_path, playbook, extra_vars, *args):
    out_dir = tmp_path / 'out'
    out_dir.mkdir(exist_ok=True)
    variables = dict(extra_vars, out_dir=str(out_dir))
    vars_file = tmp_path / 'vars.json'
    # A file, not -e on the command line: ansible-playbook echoes its own command line at -vvvv.
    vars_file.write_text(json.dumps(variables))
    env = {
        'PATH': '%s:%s' % (core.bin_dir, os.environ.get('PATH', '/usr/bin:/bin')),
        'HOME': str(tmp_path),
        'LANG': 'C.UTF-8',
        'ANSIBLE_COLLECTIONS_PATH': COLLECTIONS_PATH,
        'ANSIBLE_PYTHON_INTERPRETER': HOST_PYTHON,
        'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'ansible-tmp'),
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_DISPLAY_TRACEBACK': 'always',
        'ANSIBLE_HOST_KEY_CHECKING': 'false',
    }
    command = [core.tool('ansible-playbook'), '-i', 'localhost,', '-c', 'local', os.path.join(PLAYBOOKS, playbook),
               '-e', '@%s' % vars_file] + list(args)
    result = subprocess.run(command, cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, timeout=HANG_TIMEOUT, check=False)
    return result, out_dir


@pytest.mark.parametrize('verbosity', ['', '-v', '-vv', '-vvv', '-vvvv'])
def test_a_uri_password_never_shows(core, tmp_path, verbosity):
    uris_file = tmp_path / 'uris.yml'
    uris_file.write_text(json.dumps({'uris': URIS}))
    result, out_dir = _run(core, tmp_path, 'module_uris.yml', {'uris_file': str(uris_file)}, *([verbosity] if verbosity else []))
    assert result.returncode == 0, result.stdout + result.stderr
    assert SECRET not in result.stdout
    assert SECRET not in result.stderr
    with open(str(out_dir / 'uris.json')) as handle:
        kept = handle.read()
    assert SECRET not in kept
    results = json.loads(kept)

    for module in ('host_caps', 'sriov'):
        outcome = dict((URIS[r['index']], r) for r in results[module])
        for uri in URIS[:2]:
            assert not outcome[uri].get('failed'), outcome[uri]
        if module == 'host_caps':
            assert outcome[URIS[0]]['ansible_facts']['libvirt_host_caps']['uri'] == 'test:///default'
        for uri, problem in [(URIS[3], 'the IPv6 address has no closing "]"'), (URIS[4], 'the brackets hold no IPv6 address'),
                             (URIS[5], "the port 'abc' is not a number"), (URIS[6], 'the port 99999 is above 65535')]:
            message = outcome[uri]['msg']
            assert outcome[uri]['failed'] is True
            assert 'Traceback' not in message
            assert message.startswith('cannot connect to libvirt at qemu+ssh://'), message
            assert ('The URI is malformed: %s. Write it as driver[+transport]://' % problem) in message, message
        assert 'Could not resolve hostname nowhere.invalid' in outcome[URIS[2]]['msg']
        assert outcome[URIS[2]]['msg'].startswith('cannot connect to libvirt at qemu+ssh://nowhere.invalid/system: ')
        assert outcome['']['msg'].startswith('the libvirt URI is empty: give one such as qemu:///system')
    assert results['invalid']['failed'] is True
    assert 'not-a-virt-type' in results['invalid']['msg']


def _fifo(path):
    if os.path.exists(path):
        os.remove(path)
    elif not os.path.isdir(os.path.dirname(path)):
        os.makedirs(os.path.dirname(path))
    os.mkfifo(path)
    return path


def test_fifos_in_sysfs_and_procfs_are_skipped_with_errors(core, tmp_path):
    tree = sysfs_trees.SysfsTree(str(tmp_path / 'sys'))
    proc = sysfs_trees.ProcTree(str(tmp_path / 'proc'))
    sysfs_trees.intel_e810_4vf(tree)
    ksm_run = _fifo(tree.path('kernel', 'mm', 'ksm', 'run'))
    _fifo(os.path.join(tree.device_dir('0000:3b:00.0'), 'vendor'))
    mountinfo = _fifo(os.path.join(proc.root, 'self', 'mountinfo'))
    result, out_dir = _run(core, tmp_path, 'module_sysfs.yml', {'sysfs_root': tree.root, 'proc_root': proc.root})
    assert result.returncode == 0, result.stdout + result.stderr
    with open(str(out_dir / 'sysfs.json')) as handle:
        facts = json.load(handle)

    host_caps = facts['host_caps']
    assert host_caps['memory_info']['ksm']['run'] is None
    assert {'category': 'memory_info', 'severity': 'error',
            'message': '%s is a FIFO, not a regular file; it was not read. Their values are unknown. sysfs_root must be '
                       "where the kernel's own /sys is mounted, whose attributes are regular files" % ksm_run} \
        in host_caps['errors']

    sriov = facts['sriov']
    pf = [d for d in sriov['physical_functions'] if d['address'] == '0000:3b:00.0'][0]
    assert pf['vendor_id'] is None and pf['device_id'] == '1593'
    messages = dict((e['source'], e['message']) for e in sriov['errors'] if 'FIFO' in e['message'])
    assert messages['sysfs'].startswith('%s/bus/pci/devices/0000:3b:00.0/vendor is a FIFO' % tree.root)
    assert messages['procfs'].startswith('%s is a FIFO' % mountinfo)


@pytest.mark.parametrize('kind', ['missing', 'file', 'loop'])
def test_a_sysfs_root_that_is_no_directory_is_an_error(core, tmp_path, kind):
    root = tmp_path / 'root'
    why = {'missing': 'does not exist', 'file': 'is not a directory', 'loop': 'is a symlink loop'}[kind]
    if kind == 'file':
        root.write_text(u'not a directory')
    elif kind == 'loop':
        os.symlink(str(tmp_path / 'other'), str(root))
        os.symlink(str(root), str(tmp_path / 'other'))
    result, out_dir = _run(core, tmp_path, 'module_sysfs.yml', {'sysfs_root': str(root), 'proc_root': str(root)})
    assert result.returncode == 0, result.stdout + result.stderr
    with open(str(out_dir / 'sysfs.json')) as handle:
        facts = json.load(handle)
    problem = "sysfs_root %s %s; set sysfs_root to where the host's /sys is mounted" % (root, why)
    host_caps = facts['host_caps']
    assert host_caps['memory_info']['ksm'] is None
    assert host_caps['virt_info']['nested_virtualization'] is None
    assert {'category': 'memory_info', 'severity': 'error', 'message': 'ksm: ' + problem} in host_caps['errors']
    assert {'category': 'virt_info', 'severity': 'error', 'message': 'kvm_nested: ' + problem} in host_caps['errors']
    assert {'source': 'sysfs', 'message': problem} in facts['sriov']['errors']
    assert any(e['source'] == 'procfs' and e['message'].startswith('proc_root %s %s' % (root, why))
               for e in facts['sriov']['errors'])
