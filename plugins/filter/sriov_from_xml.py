# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.domain_xml import parse_assigned_pci
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.node_device import parse_pci_device
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.sriov import build_sriov, merge_records
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.xmlparse import XMLInputError
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import plain_arguments, type_name


def _documents(value, what):
    if isinstance(value, (str, bytes)):
        return [value]
    if not isinstance(value, (list, tuple)):
        raise AnsibleFilterError('sriov_from_xml: %s must be a list of XML strings, got %s' % (what, type_name(value)))
    return value


@plain_arguments(AnsibleFilterError)
def sriov_from_xml(node_devices, domains=None):
    """``virsh nodedev-dumpxml`` documents (+ ``virsh dumpxml`` of domains) -> ``sriov`` facts."""
    try:
        records = [r for r in (parse_pci_device(doc) for doc in _documents(node_devices, 'the input')) if r]
        assignments = None
        if domains is not None:
            assignments = {}
            for doc in _documents(domains, 'domains'):
                for use in parse_assigned_pci(doc):
                    assignments.setdefault(use['address'], use)
    except XMLInputError as exc:
        raise AnsibleFilterError('sriov_from_xml: %s. Pass "virsh nodedev-dumpxml" output as input and '
                                 '"virsh dumpxml" output in domains.' % exc)
    facts = build_sriov(merge_records(records), assignments)
    facts['errors'] = []
    return facts


class FilterModule(object):

    def filters(self):
        return {'sriov_from_xml': sriov_from_xml}
