# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parser for libvirt node device XML (``virsh nodedev-dumpxml``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.xmlparse import (
    UNKNOWN_LINK_SPEED, XMLInputError, attr_int, parse_xml, text,
)

NODE_DEVICE_XML = 'the node device XML'


def is_sriov_physical_function(xml_text):
    """True when a PCI device can create virtual functions.

    libvirt prints ``<capability type='virt_functions' maxCount='N'/>`` for every
    SR-IOV capable function, also while no VF is enabled.
    """
    root = parse_xml(xml_text, 'device', NODE_DEVICE_XML)
    return root.find("capability[@type='pci']/capability[@type='virt_functions']") is not None


def parse_net_device(xml_text):
    """A ``net`` node device as a host interface entry (the same keys as libvirt's
    interface XML and sysfs give). Node devices do not say whether a NIC is a bridge
    port or a bond, so ``type`` is ``ethernet`` for every device with a parent device
    and ``virtual`` otherwise."""
    root = parse_xml(xml_text, 'device', NODE_DEVICE_XML)
    net = root.find("capability[@type='net']")
    if net is None:
        return None
    link = net.find('link')
    speed = attr_int(link, 'speed') if link is not None else None
    return {
        'name': text(net, 'interface'),
        'type': 'ethernet' if text(root, 'parent') not in (None, 'computer') else 'virtual',
        'mac': text(net, 'address'),
        'active': None if link is None or link.get('state') is None else link.get('state') == 'up',
        'mtu': None,
        'members': [],
        'vlan_tag': None,
        'speed_mbps': None if speed in (None, UNKNOWN_LINK_SPEED) else speed,
        'source': 'node_device',
    }


def pci_number(value):
    """A PCI address part as libvirt writes it: decimal in the node device's
    ``<bus>``/``<slot>`` elements, ``0x`` hex in ``<address bus='0x3b'/>`` attributes.
    None when absent or not a number."""
    if value is None:
        return None
    value = value.strip().lower()
    digits = value[2:] if value.startswith('0x') else value
    # A PCI domain has at most 8 hex digits (10 decimal); longer is no address part.
    if not 0 < len(digits) <= 10:
        return None
    try:
        return int(digits, 16) if value.startswith('0x') else int(digits, 10)
    except ValueError:
        return None


def format_pci_address(domain, bus, slot, function):
    """``0000:3b:00.0``, the form sysfs uses, or None when a part is missing."""
    parts = (domain, bus, slot, function)
    if any(part is None for part in parts):
        return None
    return '%04x:%02x:%02x.%x' % parts


def address_attributes(node):
    """The PCI address of an ``<address domain= bus= slot= function=/>`` element."""
    if node is None:
        return None
    return format_pci_address(*(pci_number(node.get(part)) for part in ('domain', 'bus', 'slot', 'function')))


def _hex_id(value, digits):
    """``0x1593`` -> ``1593``; ``0x20000`` -> ``020000``, padded as sysfs pads it."""
    if value is None:
        return None
    value = value.strip().lower()
    value = value[2:] if value.startswith('0x') else value
    # IDs have 4 hex digits and classes 6; a longer run is no ID.
    if not 0 < len(value) <= digits:
        return None
    try:
        return '%0*x' % (digits, int(value, 16))
    except ValueError:
        return None


def _addresses(nodes):
    return [address for address in (address_attributes(node) for node in nodes) if address is not None]


def _gts(value):
    """A link speed in GT/s (``8``, ``2.5``); None when absent, zero or not a finite number."""
    try:
        speed = float(value) if value else None
    except ValueError:
        return None
    return speed if speed and math.isfinite(speed) and speed > 0 else None


def _pcie_link(pci):
    """``<pci-express>``: ``validity='cap'`` is what the device and its port can do
    (``max_*``, and ``port``, the port number of the link), ``validity='sta'`` what was
    trained. A VF has no link of its own and a link that is down trained none: the kernel
    reads zero there and libvirt prints ``width='0'`` without a speed; both are unknown.
    None when neither a speed nor a width is known."""
    cap = pci.find("pci-express/link[@validity='cap']")
    sta = pci.find("pci-express/link[@validity='sta']")
    link = {
        'max_speed_gts': _gts(None if cap is None else cap.get('speed')),
        'max_width': attr_int(cap, 'width') or None,
        'speed_gts': _gts(None if sta is None else sta.get('speed')),
        'width': attr_int(sta, 'width') or None,
        'port': attr_int(cap, 'port'),
    }
    # A port number alone (a VF prints port='0' width='0') tells nothing about a link.
    return link if any(link[key] is not None for key in ('max_speed_gts', 'max_width', 'speed_gts', 'width')) else None


def parse_pci_device(xml_text, what=NODE_DEVICE_XML):
    """A ``pci`` node device as a PCI device record, the same keys the sysfs reader
    gives, so the two can be merged per address. None for any other node device.

    libvirt knows no subsystem IDs and no VF index; those stay None for the sysfs
    reader and the merge to fill. Net devices are separate node devices whose parent is
    the PCI device, so ``netdevs`` is always empty here and ``block_devices`` unknown.
    """
    root = parse_xml(xml_text, 'device', what)
    pci = root.find("capability[@type='pci']")
    if pci is None:
        return None
    address = format_pci_address(*(pci_number(text(pci, part)) for part in ('domain', 'bus', 'slot', 'function')))
    if address is None:
        raise XMLInputError("%s: PCI device '%s' needs numeric <domain>, <bus>, <slot> and <function> elements"
                            % (what, text(root, 'name')))
    numa = pci.find('numa')
    numa_node = attr_int(numa, 'node') if numa is not None else None
    group = pci.find('iommuGroup')
    virt_functions = pci.find("capability[@type='virt_functions']")
    vf_addresses = _addresses(virt_functions.findall('address')) if virt_functions is not None else []
    vendor, product = pci.find('vendor'), pci.find('product')
    return {
        'address': address,
        'vendor_id': _hex_id(vendor.get('id'), 4) if vendor is not None else None,
        'device_id': _hex_id(product.get('id'), 4) if product is not None else None,
        'vendor_name': text(pci, 'vendor') or None,
        'device_name': text(pci, 'product') or None,
        'subsystem_vendor_id': None,
        'subsystem_device_id': None,
        # Old libvirt releases print no <class>; the class is then unknown, not absent.
        'class_id': _hex_id(text(pci, 'class'), 6),
        'driver': text(root, 'driver/name'),
        # The kernel says -1 when the firmware gives no proximity information.
        'numa_node': None if numa_node is None or numa_node < 0 else numa_node,
        'iommu_group': attr_int(group, 'number') if group is not None else None,
        'iommu_group_devices': sorted(_addresses(group.findall('address'))) if group is not None else None,
        'sriov_capable': virt_functions is not None,
        'total_vfs': attr_int(virt_functions, 'maxCount') if virt_functions is not None else None,
        'num_vfs': len(vf_addresses) if virt_functions is not None else None,
        'vf_device_id': None,
        'physfn': address_attributes(pci.find("capability[@type='phys_function']/address")),
        'vf_index': None,
        'virtfns': dict(enumerate(vf_addresses)),
        'netdevs': [],
        # What the host does with the function is only in sysfs and /proc.
        'block_devices': None,
        'boot_vga': None,
        'pcie_link': _pcie_link(pci),
        'source': 'libvirt',
    }
