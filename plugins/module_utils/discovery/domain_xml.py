# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parser for libvirt domain XML (``virsh dumpxml``): the host PCI devices a domain takes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.node_device import address_attributes
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.xmlparse import attr_int, parse_xml, text

DOMAIN_XML = 'the domain XML'


def _assignment(address, domain, kind, mac=None, vlan=None):
    return {'address': address, 'domain': domain, 'kind': kind, 'mac': mac, 'vlan': vlan, 'active': None}


def _pci_source(device):
    """The host address in ``<source><address/>``. The device's own ``<address>`` child
    is where the guest sees it, so it is never read here."""
    address = device.find('source/address')
    if address is None or address.get('type', 'pci') != 'pci':
        return None
    return address_attributes(address)


def parse_assigned_pci(xml_text, what=DOMAIN_XML):
    """Every host PCI function the domain is given, as ``{address, domain, kind, mac,
    vlan, active}``, in document order.

    ``kind`` is ``hostdev`` for ``<hostdev mode='subsystem' type='pci'>`` and
    ``interface`` for ``<interface type='hostdev'>`` (an SR-IOV VF whose MAC and VLAN
    libvirt programs through the PF). The XML does not say whether the domain runs, and a
    defined domain takes its devices when it starts, so ``active`` is None for the caller
    to fill from the domain state.

    An ``<interface type='network'>`` on a hostdev-pool network is left out: libvirt
    picks its VF only when the domain starts and the persistent XML does not name it.
    """
    root = parse_xml(xml_text, 'domain', what)
    name = text(root, 'name')
    assigned = []
    for device in root.findall('devices/*'):
        if device.tag == 'hostdev':
            # libvirt's default mode is subsystem; 'capabilities' hostdevs are LXC-only.
            if device.get('mode', 'subsystem') != 'subsystem' or device.get('type') != 'pci':
                continue
            address = _pci_source(device)
            if address is not None:
                assigned.append(_assignment(address, name, 'hostdev'))
        elif device.tag == 'interface' and device.get('type') == 'hostdev':
            address = _pci_source(device)
            if address is None:
                continue
            mac = device.find('mac')
            # A hostdev interface takes one VLAN tag; libvirt refuses trunks on it.
            tag = device.find('vlan/tag')
            assigned.append(_assignment(
                address, name, 'interface',
                mac=mac.get('address').lower() if mac is not None and mac.get('address') else None,
                vlan=attr_int(tag, 'id') if tag is not None else None,
            ))
    return assigned



def parse_tunable_devices(xml_text, what=DOMAIN_XML):
    """The disks and interfaces of a domain that per-device QoS can name.

    ``disks``: ``[{target, device, bus, has_source}]``, the ``<disk>`` elements with a
    target, in document order (``device`` is disk, cdrom, floppy or lun; an empty
    CD-ROM drive has no source).
    ``interfaces``: ``[{mac, target, type, network}]``, in document order; ``target`` is
    the host-side device (vnet0) of a running domain, None in a persistent definition;
    ``network`` the libvirt network of a ``type='network'`` interface. The MAC names an
    interface in both the live domain and its persistent definition; libvirt's
    interface APIs take it for either.
    """
    root = parse_xml(xml_text, 'domain', what)
    disks = []
    for disk in root.findall('devices/disk'):
        target = disk.find('target')
        if target is None or not target.get('dev'):
            continue
        source = disk.find('source')
        disks.append({
            'target': target.get('dev'),
            'device': disk.get('device', 'disk'),
            'bus': target.get('bus'),
            'has_source': source is not None and bool(source.attrib),
        })
    interfaces = []
    for interface in root.findall('devices/interface'):
        mac = interface.find('mac')
        target = interface.find('target')
        source = interface.find('source')
        kind = interface.get('type')
        interfaces.append({
            'mac': mac.get('address').lower() if mac is not None and mac.get('address') else None,
            'target': target.get('dev') if target is not None else None,
            'type': kind,
            'network': source.get('network') if kind == 'network' and source is not None else None,
        })
    return {'disks': disks, 'interfaces': interfaces}
