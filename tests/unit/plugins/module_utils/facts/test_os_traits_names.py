# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The os-traits and os-resource-classes names the collection carries match the installed packages."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

import os_resource_classes
import os_traits

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts import os_traits_names
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.os_traits_names import OS_TRAITS
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.vm_catalog import RESOURCE_CLASS_NAMES

REGENERATE = 'regenerate it with: .venv/bin/python hack/os-traits-names.py'


def test_names_are_those_of_the_installed_os_traits():
    installed = frozenset(os_traits.get_traits())
    missing = sorted(installed - OS_TRAITS)
    gone = sorted(OS_TRAITS - installed)
    assert not missing and not gone, (
        'os_traits_names.py differs from the installed os-traits: missing %s, not in os-traits %s; %s'
        % (missing, gone, REGENERATE))


def test_names_are_kept_sorted_one_per_line():
    with open(os_traits_names.__file__.replace('.pyc', '.py')) as handle:
        listed = re.findall(r"^    '([A-Z0-9_]+)',$", handle.read(), re.MULTILINE)
    assert listed == sorted(OS_TRAITS), 'the literal is not sorted or not one name a line; %s' % REGENERATE


def test_resource_class_names_are_those_of_the_installed_os_resource_classes():
    assert list(RESOURCE_CLASS_NAMES) == list(os_resource_classes.STANDARDS)
