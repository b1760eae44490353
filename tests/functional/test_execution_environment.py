# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""meta/execution-environment.yml with ansible-builder 3, without a container engine:
`introspect` finds the collection's Python and system requirements as a build would, and
`create` writes a build context for an execution environment holding the collection."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import subprocess

import yaml

from conftest import COLLECTIONS_PATH, REPO_ROOT

BUILDER = os.path.join(REPO_ROOT, '.venv', 'bin', 'ansible-builder')


def _lines(path):
    with open(path) as handle:
        return [line.split('#')[0].strip() for line in handle if line.split('#')[0].strip()]


def _run(*args):
    result = subprocess.run([BUILDER] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout
    return result.stdout


def test_introspect_finds_the_collections_requirements_and_bindep():
    found = yaml.safe_load(_run('introspect', COLLECTIONS_PATH))
    python = [entry.split('#')[0].strip() for entry in found['python'] if 'virtumancer.hostcaps' in entry]
    system = [entry.split('#')[0].strip() for entry in found['system'] if 'virtumancer.hostcaps' in entry]
    assert python == _lines(os.path.join(REPO_ROOT, 'requirements.txt'))
    assert system == _lines(os.path.join(REPO_ROOT, 'bindep.txt'))
    assert 'libvirt-dev [platform:dpkg compile]' in system and 'libvirt0 [platform:dpkg]' in system


def test_create_writes_a_build_context_with_the_collection(tmp_path):
    with open(os.path.join(REPO_ROOT, 'meta', 'execution-environment.yml')) as handle:
        meta = yaml.safe_load(handle)
    assert meta['version'] == 3
    # An EE definition as a user writes one: the collection's own dependency files, as
    # named by meta/execution-environment.yml, plus ansible-core and ansible-runner.
    for name in (meta['dependencies']['python'], meta['dependencies']['system']):
        shutil.copy(os.path.join(REPO_ROOT, name), str(tmp_path / name))
    definition = {
        'version': 3,
        'images': {'base_image': {'name': 'quay.io/fedora/python-311:latest'}},
        'dependencies': {
            'python': meta['dependencies']['python'],
            'system': meta['dependencies']['system'],
            'ansible_core': {'package_pip': 'ansible-core>=2.17,<2.20'},
            'ansible_runner': {'package_pip': 'ansible-runner'},
            'galaxy': {'collections': [{'name': 'community.libvirt'}]},
        },
    }
    with open(str(tmp_path / 'execution-environment.yml'), 'w') as handle:
        yaml.safe_dump(definition, handle)
    context = tmp_path / 'context'
    _run('create', '-f', str(tmp_path / 'execution-environment.yml'), '-c', str(context), '--output-filename', 'Containerfile')

    with open(str(context / 'Containerfile')) as handle:
        containerfile = handle.read()
    assert 'quay.io/fedora/python-311:latest' in containerfile
    assert 'ansible-core>=2.17,<2.20' in containerfile and 'ansible-runner' in containerfile
    assert 'introspect' in containerfile and 'assemble' in containerfile
    assert _lines(str(context / '_build' / 'requirements.txt')) == _lines(os.path.join(REPO_ROOT, 'requirements.txt'))
    assert _lines(str(context / '_build' / 'bindep.txt')) == _lines(os.path.join(REPO_ROOT, 'bindep.txt'))
    assert os.path.exists(str(context / '_build' / 'requirements.yml'))
