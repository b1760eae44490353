# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils is grouped by stage, and imports point one way:
discovery <- facts <- policy, with the store on its own, and the report writers
reading all but discovery."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import os

import pytest

MODULE_UTILS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'plugins', 'module_utils')
PREFIX = 'ansible_collections.virtumancer.hostcaps.plugins.module_utils.'
STAGES = ('discovery', 'facts', 'store', 'policy', 'report')
# What each stage may import from the collection's module_utils.
ALLOWED = {
    'discovery': {'discovery'},
    'facts': {'discovery', 'facts'},
    'store': {'store'},
    'policy': {'facts', 'policy'},
    'report': {'facts', 'policy', 'store', 'report'},
}


def _sources():
    for stage in STAGES:
        folder = os.path.join(MODULE_UTILS, stage)
        for name in sorted(os.listdir(folder)):
            if name.endswith('.py'):
                yield stage, os.path.join(folder, name)


def _imported_stages(path):
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module + '.' + alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            if name.startswith(PREFIX):
                yield name[len(PREFIX):].split('.')[0]


def test_every_module_util_belongs_to_a_stage():
    loose = [name for name in os.listdir(MODULE_UTILS) if name.endswith('.py')]
    assert loose == [], 'module_utils files outside discovery/, facts/, store/, policy/, report/: %s' % loose
    assert sorted(d for d in os.listdir(MODULE_UTILS) if not d.startswith('__')) == sorted(STAGES)


@pytest.mark.parametrize('stage,path', list(_sources()), ids=lambda v: os.path.basename(v) if '/' in str(v) else v)
def test_imports_point_one_way(stage, path):
    imported = set(_imported_stages(path))
    assert imported <= ALLOWED[stage], '%s (%s) imports from %s; %s may import only from %s' % (
        os.path.basename(path), stage, sorted(imported - ALLOWED[stage]), stage, sorted(ALLOWED[stage]))
