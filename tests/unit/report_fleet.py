# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleets for the report tests and bench, from the real fixtures through the collection's
parsers and builders: four host families (EPYC with SEV and an E810 with 4 VFs, one of
them given to web01; EPYC Milan with an NVIDIA A10 and an RTX 3090; Xeon with TDX and a
ConnectX-6 PF; Xeon without UEFI and no sriov facts), each host with its own storage pool
size and running domains, so that every heat map bucket is reached."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.domain_xml import parse_assigned_pci
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.node_device import parse_pci_device
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.storage import parse_pool
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.sriov import build_sriov, merge_records
from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import domains, facts_from, read_fixture

FAMILIES = {
    'sev': (('amd-epyc-sev.caps.xml', 'amd-epyc-sev.domcaps-q35.xml'),
            ('intel-e810-pf-4vf.nodedev.xml', 'intel-e810-vf.nodedev.xml'), ('web01-hostdev-vf.domain.xml',)),
    'gpu': (('debian12-epyc-milan-kvm.caps.xml', 'debian12-epyc-milan-kvm.domcaps-pc.xml', 'debian12-epyc-milan-kvm.domcaps-q35.xml'),
            ('nvidia-a10-gpu.nodedev.xml', 'nvidia-gpu-audio-group.nodedev.xml'), ()),
    'tdx': (('intel-tdx.caps.xml', 'intel-tdx.domcaps-q35.xml'), ('mellanox-cx6-pf.nodedev.xml',), ()),
    'noefi': (('intel-xeon-ht.caps.xml', 'x86-no-uefi.domcaps-q35.xml'), None, ()),
}
ORDER = ('sev', 'gpu', 'tdx', 'noefi')
POOL = 'testdriver-default.pool.xml'
_CACHE = {}


def sriov_of(family):
    """``sriov`` facts of ``family``, or None when it has none."""
    dummy, nodedevs, domain_docs = FAMILIES[family]
    if nodedevs is None:
        return None
    records = [r for r in (parse_pci_device(read_fixture(name)) for name in nodedevs) if r]
    assignments = {}
    for name in domain_docs:
        for use in parse_assigned_pci(read_fixture(name)):
            assignments.setdefault(use['address'], use)
    facts = build_sriov(merge_records(records), assignments)
    facts['errors'] = []
    return facts


def family_facts(family):
    """(libvirt_host_caps, sriov) of ``family``, built once (copy before changing)."""
    if family not in _CACHE:
        caps = FAMILIES[family][0]
        _CACHE[family] = (facts_from(*caps), sriov_of(family))
    return _CACHE[family]


def pool(size_gb, allocated_gb):
    found = parse_pool(read_fixture(POOL), True, True, True)
    found.update(capacity_gb=float(size_gb), allocation_gb=float(allocated_gb), available_gb=float(size_gb - allocated_gb))
    return found


def host(family, number=0, collected_at='2026-12-03T08:00:00Z'):
    """hostvars[host] of a host of ``family``: a pool of 1000 GiB with ``number`` x 37 %
    of it allocated, ``number`` % 5 running domains of 4 vCPUs and 16 GiB each."""
    caps, sriov = family_facts(family)
    caps = copy.deepcopy(caps)
    caps['collected_at'] = collected_at
    caps['storage_info'] = dict(caps.get('storage_info') or {}, pools=[pool(1000, (number * 370) % 1100)])
    running = [('vm%d' % index, True, 4, 16384) for index in range(number % 5)]
    caps['virt_info'] = dict(caps.get('virt_info') or {}, domains=domains(*running))
    caps.pop('resources', None)  # derived again from what changed
    found = {'libvirt_host_caps': caps}
    if sriov is not None:
        found['sriov'] = copy.deepcopy(sriov)
    return {'ansible_facts': found}


def fleet(size, collected_at='2026-12-03T08:00:00Z'):
    """{hvNNNN: hostvars} of ``size`` hosts cycling over the families."""
    return dict(('hv%04d' % number, host(ORDER[number % len(ORDER)], number, collected_at)) for number in range(size))
