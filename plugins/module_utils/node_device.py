# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parser for libvirt node device XML (``virsh nodedev-dumpxml``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.xmlparse import parse_xml, text, to_int


def is_sriov_physical_function(xml_text):
    """True when a PCI device can create virtual functions.

    libvirt prints ``<capability type='virt_functions' maxCount='N'/>`` for every
    SR-IOV capable function, also while no VF is enabled.
    """
    root = parse_xml(xml_text, 'device', 'the node device XML')
    return root.find("capability[@type='pci']/capability[@type='virt_functions']") is not None


def parse_net_device(xml_text):
    """A ``net`` node device as a host interface entry (the same keys as libvirt's
    interface XML and sysfs give). Node devices do not say whether a NIC is a bridge
    port or a bond, so ``type`` is ``ethernet`` for every device with a parent device
    and ``virtual`` otherwise."""
    root = parse_xml(xml_text, 'device', 'the node device XML')
    net = root.find("capability[@type='net']")
    if net is None:
        return None
    link = net.find('link')
    speed = to_int(link.get('speed')) if link is not None else None
    return {
        'name': text(net, 'interface'),
        'type': 'ethernet' if text(root, 'parent') not in (None, 'computer') else 'virtual',
        'mac': text(net, 'address'),
        'active': None if link is None or link.get('state') is None else link.get('state') == 'up',
        'mtu': None,
        'members': [],
        'vlan_tag': None,
        # libvirt prints 2^32-1 when the kernel reports no speed (virtual NICs).
        'speed_mbps': None if speed in (None, 4294967295) else speed,
        'source': 'node_device',
    }
