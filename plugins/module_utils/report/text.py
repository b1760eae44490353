# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Text any writer may put into XML or HTML: characters XML 1.0 cannot hold (control
characters, lone surrogates from undecodable bytes, U+FFFE/U+FFFF) shown as escapes, and
lengths bounded. A host name or message from the inventory or the facts goes through here
before a writer sees it, so every report is well-formed whatever the input."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# What XML 1.0 allows: tab, newline, carriage return, and the ranges below.
_INVALID_XML = re.compile(u'[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]')


def _escape(found):
    code = ord(found.group(0))
    return '\\x%02x' % code if code < 0x100 else '\\u%04x' % code


def xml_safe(value, limit=None):
    """``value`` as text XML 1.0 can hold: invalid characters as ``\\xNN``/``\\uNNNN``,
    cut to ``limit`` characters (with ``...``) when given."""
    text = value if isinstance(value, str) else ('' if value is None else str(value))
    if limit is not None and len(text) > limit:
        text = text[:limit - 3] + '...'
    if _INVALID_XML.search(text):
        text = _INVALID_XML.sub(_escape, text)
    return text
