# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.libvirt_conn import safe_uri
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.host_facts import SUBSETS, build_facts
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.offline import xml_sources
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.xmlparse import XMLInputError
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import plain_arguments, type_name


@plain_arguments(AnsibleFilterError)
def caps_from_xml(capabilities_xml, domain_capabilities=None, uri=None):
    """``virsh capabilities`` (+ ``virsh domcapabilities``) XML -> ``libvirt_host_caps`` facts."""
    if domain_capabilities is not None and not isinstance(domain_capabilities, (str, list, tuple)):
        raise AnsibleFilterError(
            'caps_from_xml: domain_capabilities must be a list of XML strings (virsh domcapabilities output), '
            'got %s' % type_name(domain_capabilities))
    if uri is not None and not isinstance(uri, str):
        raise AnsibleFilterError('caps_from_xml: uri must be a string (a libvirt URI such as qemu:///system), got %s'
                                 % type_name(uri))
    try:
        sources = xml_sources(capabilities_xml, domain_capabilities)
    except XMLInputError as exc:
        raise AnsibleFilterError('caps_from_xml: %s. Pass the output of "virsh capabilities" as input and '
                                 'of "virsh domcapabilities" in domain_capabilities.' % exc)
    # Facts are stored and shown: never the URI's user, password or parameters.
    return build_facts(sources, SUBSETS, uri=None if uri is None else safe_uri(uri))


class FilterModule(object):

    def filters(self):
        return {'caps_from_xml': caps_from_xml}
