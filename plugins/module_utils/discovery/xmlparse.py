# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small helpers shared by the XML parsers: a hardened parser and tri-state readers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from xml.etree import ElementTree


# libvirt prints this link speed when the kernel reports none (virtual and down NICs).
UNKNOWN_LINK_SPEED = 4294967295


# The largest document parse_xml takes, in characters (bytes for bytes input). libvirt's
# own documents stay far below it: capabilities of a 448-thread host, domain capabilities
# or a domain with hundreds of devices are well under 1 MiB. Parsing is memory-bound
# (about 17 times the document's size), so this bounds what a hostile or broken document
# costs a hypervisor: about 2 s and 180 MB, where 56 MB took 33 s and 1.2 GB.
MAX_XML_SIZE = 8 * 1024 * 1024


class XMLInputError(ValueError):
    """Raised when a document is not the libvirt XML it claims to be."""


def parse_xml(text, root_tag, what):
    """Parse ``text`` and check that its root element is ``root_tag``.

    The standard library parser is enough for libvirt's documents and keeps the
    hypervisors free of a compiled XML library. It never fetches external entities, and
    the expat it uses (2.4.1 and later) refuses entity expansion attacks, which matters
    because support dumps handed to the offline filters are untrusted input. A document
    longer than ``MAX_XML_SIZE`` is refused before it is parsed.
    """
    if not isinstance(text, (str, bytes)):
        raise XMLInputError('%s must be an XML string, got %s' % (what, type(text).__name__))
    if len(text) > MAX_XML_SIZE:
        raise XMLInputError('%s is %s %s long, above the limit of %s (%d MiB) for one libvirt XML document; libvirt\'s '
                            'own documents stay under 1 MiB, so check that this is the document it should be'
                            % (what, format(len(text), ','), 'bytes' if isinstance(text, bytes) else 'characters',
                               format(MAX_XML_SIZE, ','), MAX_XML_SIZE // (1024 * 1024)))
    try:
        root = ElementTree.fromstring(text.strip())
    except ElementTree.ParseError as exc:
        raise XMLInputError('%s is not well-formed XML: %s' % (what, exc))
    if root.tag != root_tag:
        raise XMLInputError('%s must have the root element <%s>, got <%s>' % (what, root_tag, root.tag))
    return root


def serialize(node):
    return ElementTree.tostring(node, encoding='unicode')


def text(node, path, default=None):
    found = node.find(path) if node is not None else None
    if found is None or found.text is None:
        return default
    return found.text.strip()


def to_int(value, default=None):
    if value is None:
        return default
    try:
        return int(str(value).strip())
    except ValueError:
        return default


def int_text(node, path):
    return to_int(text(node, path))


def yes_no(value):
    """libvirt's yes/no attribute as True/False; anything else (or absent) is None."""
    if value is None:
        return None
    value = value.strip().lower()
    if value in ('yes', 'on', 'true'):
        return True
    if value in ('no', 'off', 'false'):
        return False
    return None


def supported(node):
    """Tri-state of an element's ``supported`` attribute; a missing element is unknown."""
    if node is None:
        return None
    return yes_no(node.get('supported'))


_CAMEL = re.compile(r'(?<=[a-z0-9])([A-Z])')


def snake(name):
    """``backendModel`` -> ``backend_model``, ``s390-pv`` -> ``s390_pv``."""
    return _CAMEL.sub(r'_\1', name).replace('-', '_').lower()


def enums(node):
    """Every ``<enum name=...>`` child as ``{snake_name: [values]}``."""
    result = {}
    if node is None:
        return result
    for enum in node.findall('enum'):
        result[snake(enum.get('name', ''))] = [v.text.strip() for v in enum.findall('value') if v.text]
    return result


def to_kib(value, unit):
    """Convert a libvirt size with its ``unit`` attribute to KiB."""
    number = to_int(value)
    if number is None:
        return None
    factors = {
        'b': 1.0 / 1024, 'bytes': 1.0 / 1024, 'kb': 1000.0 / 1024, 'k': 1, 'kib': 1,
        'mb': 1000.0 ** 2 / 1024, 'm': 1024, 'mib': 1024,
        'gb': 1000.0 ** 3 / 1024, 'g': 1024 ** 2, 'gib': 1024 ** 2,
        'tb': 1000.0 ** 4 / 1024, 't': 1024 ** 3, 'tib': 1024 ** 3,
    }
    factor = factors.get((unit or 'KiB').lower())
    if factor is None:
        return None
    return int(number * factor)
