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


# The deepest element nesting parse_xml takes. libvirt's documents nest about 8 levels
# (a domain's <devices><hostdev><source><address>); the serializer and the parsers recurse
# per level, so a document of thousands of levels would exhaust Python's stack.
MAX_XML_DEPTH = 64

# The most digits of a number libvirt writes: an unsigned 64-bit value has 20. A longer
# run of digits is no libvirt value, and int() refuses beyond 4300 digits anyway.
MAX_INT_DIGITS = 20
# The largest size in KiB a parser returns (2**63 - 1, the signed 64-bit range the fact
# store, JSON consumers and libvirt itself keep to).
MAX_KIB = 2 ** 63 - 1

_INT_RE = re.compile(r'^[+-]?[0-9]{1,%d}$' % MAX_INT_DIGITS)


class XMLInputError(ValueError):
    """Raised when a document is not the libvirt XML it claims to be."""


def short_text(value, limit=40):
    """``value`` quoted for a message, cut to ``limit`` characters, with characters that
    are not printable (a lone surrogate, a control character) escaped."""
    value = str(value)
    cut = value[:limit]
    shown = repr(cut) if cut.isprintable() else ascii(cut)
    return shown + ('... (%s characters)' % format(len(value), ',') if len(value) > limit else '')


def _check_text(text, what):
    """Refuse a str that cannot be encoded: expat takes UTF-8, and a lone surrogate (from
    a file read with errors='surrogateescape', or a JSON escape) is not a character."""
    if isinstance(text, bytes):
        return
    try:
        text.encode('utf-8')
    except UnicodeEncodeError as exc:
        raise XMLInputError('%s holds %s at character %d, which is not text (a lone surrogate); read the document as UTF-8 '
                            'without errors=surrogateescape' % (what, ascii(text[exc.start:exc.start + 1]), exc.start))


def _check_depth(root, what):
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_XML_DEPTH:
            raise XMLInputError('%s nests elements more than %d levels deep (at <%s>); libvirt\'s documents nest fewer than 10, '
                                'so check that this is the document it should be' % (what, MAX_XML_DEPTH, short_text(node.tag)[1:-1]))
        stack.extend((child, depth + 1) for child in node)


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
    _check_text(text, what)
    try:
        root = ElementTree.fromstring(text.strip())
    except ElementTree.ParseError as exc:
        raise XMLInputError('%s is not well-formed XML: %s' % (what, exc))
    if root.tag != root_tag:
        raise XMLInputError('%s must have the root element <%s>, got <%s>' % (what, root_tag, short_text(root.tag)[1:-1]))
    _check_depth(root, what)
    return root


def serialize(node):
    return ElementTree.tostring(node, encoding='unicode')


def text(node, path, default=None):
    found = node.find(path) if node is not None else None
    if found is None or found.text is None:
        return default
    return found.text.strip()


def to_int(value, where='the value'):
    """The whole number libvirt wrote (``where`` names it for the message); None when
    absent or empty. Raises XMLInputError for anything else: a word, a fraction, more
    than ``MAX_INT_DIGITS`` digits."""
    if value is None or not value.strip():
        return None
    if not _INT_RE.match(value.strip()):
        raise XMLInputError('%s is %s, not a whole number; libvirt writes a decimal integer of at most %d digits there'
                            % (where, short_text(value.strip()), MAX_INT_DIGITS))
    return int(value.strip())


def attr_int(node, name):
    """The whole number in attribute ``name`` of ``node`` (see ``to_int``)."""
    if node is None:
        return None
    return to_int(node.get(name), "<%s %s='...'>" % (node.tag, name))


def int_text(node, path):
    """The whole number in the text of ``node.find(path)`` (see ``to_int``)."""
    return to_int(text(node, path), '<%s>' % path)


def known_first(value):
    """A sort key that puts None (unknown) after every known value, without comparing it."""
    return (value is None, 0 if value is None else value)


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


# libvirt's size units (virScaleInteger) as bytes per unit.
_UNIT_BYTES = dict(
    [(name, 1) for name in ('b', 'byte', 'bytes')]
    + [(name, 1024 ** power) for power, letter in enumerate('kmgtpe', 1) for name in (letter, letter + 'ib')]
    + [(letter + 'b', 1000 ** power) for power, letter in enumerate('kmgtpe', 1)]
)


def to_kib(value, unit, where='the size'):
    """A libvirt size with its ``unit`` attribute in KiB (rounded down), in integers so
    no size overflows a float; None when absent. Raises XMLInputError for a value that is
    not a whole number (see ``to_int``), a unit libvirt does not know, or a size beyond
    ``MAX_KIB``."""
    number = to_int(value, where)
    if number is None:
        return None
    factor = _UNIT_BYTES.get((unit or 'KiB').strip().lower())
    if factor is None:
        raise XMLInputError('%s has the unit %s, which libvirt does not know; use one of b, KiB, MiB, GiB, TiB, KB, MB, GB, TB'
                            % (where, short_text(unit)))
    kib = number * factor // 1024
    if abs(kib) > MAX_KIB:
        raise XMLInputError('%s is %s %s, beyond %s KiB (2**63 - 1); no host has that much, so check the document'
                            % (where, short_text(value.strip()), short_text(unit)[1:-1], format(MAX_KIB, ',')))
    return kib


def attr_kib(node, name='size'):
    """The size in attribute ``name`` of ``node`` with its ``unit`` attribute, in KiB."""
    if node is None:
        return None
    return to_kib(node.get(name), node.get('unit'), "<%s %s='...'>" % (node.tag, name))


def text_kib(node, default_unit=None):
    """The size in the text of ``node`` with its ``unit`` attribute, in KiB."""
    if node is None:
        return None
    return to_kib(node.text, node.get('unit', default_unit), '<%s>' % node.tag)
