# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.host_facts import build_facts
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.offline import xml_sources
from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import read_fixture


@pytest.fixture
def fixture_xml():
    """Read an XML document captured from (or derived from) a real libvirt."""
    return read_fixture


@pytest.fixture
def offline_facts():
    """``libvirt_host_caps`` built from saved XML exactly as the caps_from_xml filter does."""
    def build(caps, *domcaps):
        return build_facts(xml_sources(read_fixture(caps), [read_fixture(name) for name in domcaps]))
    return build
