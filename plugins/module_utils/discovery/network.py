# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsers for libvirt network XML (``virsh net-dumpxml``) and host interface XML
(``virsh iface-dumpxml``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.xmlparse import (
    UNKNOWN_LINK_SPEED, attr_int, parse_xml, text,
)


def parse_network(xml_text, active=None, autostart=None, persistent=None):
    root = parse_xml(xml_text, 'network', 'the network XML')
    forward = root.find('forward')
    bridge = root.find('bridge')
    return {
        'name': text(root, 'name'),
        'uuid': text(root, 'uuid'),
        'active': active,
        'autostart': autostart,
        'persistent': persistent,
        # No <forward> element means an isolated network.
        'forward_mode': 'isolated' if forward is None else forward.get('mode', 'nat'),
        'bridge': bridge.get('name') if bridge is not None else None,
        'ip_addresses': [ip.get('address') for ip in root.findall('ip') if ip.get('address')],
    }


def parse_interface(xml_text, active=None):
    root = parse_xml(xml_text, 'interface', 'the interface XML')
    link = root.find('link')
    speed = attr_int(link, 'speed') if link is not None else None
    kind = root.get('type')
    if kind == 'bridge':
        members = root.findall('bridge/interface')
    elif kind == 'bond':
        members = root.findall('bond/interface')
    else:
        members = []
    mtu = root.find('mtu')
    return {
        'name': root.get('name'),
        'type': kind,
        'mac': root.find('mac').get('address') if root.find('mac') is not None else None,
        'active': active,
        'mtu': attr_int(mtu, 'size') if mtu is not None else None,
        'members': sorted(m.get('name') for m in members if m.get('name')),
        'vlan_tag': attr_int(root.find('vlan'), 'tag') if root.find('vlan') is not None else None,
        'speed_mbps': None if speed in (None, UNKNOWN_LINK_SPEED) else speed,
        'source': 'libvirt',
    }
