# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsers for storage pool XML (``virsh pool-dumpxml``) and the storage pool
capabilities document (``virsh pool-capabilities``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.xmlparse import (
    enums, parse_xml, supported, text, text_kib,
)

KIB_PER_GIB = 1024.0 ** 2


def _gib(node):
    if node is None:
        return None
    kib = text_kib(node, 'bytes')
    return None if kib is None else round(kib / KIB_PER_GIB, 2)


def parse_pool(xml_text, active=None, autostart=None, persistent=None):
    """One pool; ``active``/``autostart``/``persistent`` come from the pool object, not the XML."""
    root = parse_xml(xml_text, 'pool', 'the storage pool XML')
    return {
        'name': text(root, 'name'),
        'uuid': text(root, 'uuid'),
        'type': root.get('type'),
        'active': active,
        'state': None if active is None else ('active' if active else 'inactive'),
        'autostart': autostart,
        'persistent': persistent,
        # An inactive pool reports the sizes of its last refresh, or zeros.
        'capacity_gb': _gib(root.find('capacity')),
        'allocation_gb': _gib(root.find('allocation')),
        'available_gb': _gib(root.find('available')),
        'target_path': text(root, 'target/path'),
    }


def parse_pool_capabilities(xml_text):
    """Pool types this libvirt supports, with their volume formats."""
    root = parse_xml(xml_text, 'storagepoolCapabilities', 'the storage pool capabilities XML')
    pool_types = []
    for pool in root.findall('pool'):
        vol_options = pool.find('volOptions')
        default = vol_options.find('defaultFormat') if vol_options is not None else None
        pool_types.append({
            'type': pool.get('type'),
            'supported': supported(pool),
            'volume_formats': enums(vol_options).get('target_format_type', []),
            'default_volume_format': default.get('type') if default is not None else None,
            'source_formats': enums(pool.find('poolOptions')).get('source_format_type', []),
        })
    return pool_types
