# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parser for libvirt node device XML (``virsh nodedev-dumpxml``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.xmlparse import parse_xml


def is_sriov_physical_function(xml_text):
    """True when a PCI device can create virtual functions.

    libvirt prints ``<capability type='virt_functions' maxCount='N'/>`` for every
    SR-IOV capable function, also while no VF is enabled.
    """
    root = parse_xml(xml_text, 'device', 'the node device XML')
    return root.find("capability[@type='pci']/capability[@type='virt_functions']") is not None
