# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The passwords in a store's connection string, found by a scanner that cannot fail.

A connection string is shown in messages, and libpq echoes it in its own; it must never
show a password, whatever the string holds. ``urlsplit`` raises on strings libpq still
echoes (``postgresql://u:pw@[::1/db``), so this scanner parses nothing: it looks for the
places a password can be and masks them wider rather than narrower:

- the userinfo of a URI: from the first ``:`` after ``://`` to the last ``@`` before the
  first ``/``; libpq ends the userinfo at the first ``@``, urlsplit at the last one before
  ``/``, ``?`` or ``#``, and both lie inside;
- the value of every parameter whose name, percent-decoded and in any case, ends in
  ``password`` (``password``, ``sslpassword``): up to the next ``&`` in a URI; in a libpq
  ``key=value`` string, a quoted value with its backslash escapes, else up to white space.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from urllib.parse import unquote

MASK = '***'
# A parameter name: after the start, white space, ``?``, ``&`` or ``;``.
_PARAMETER = re.compile(r'(?<![^\s?&;])([^\s?&;=]+)\s*=[ \t\r\n\f\v]*')
_ESCAPED = re.compile(r'\\(.)', re.DOTALL)
# libpq takes a string as a URI only when it starts with its scheme; a '://' inside a
# quoted key=value password does not make one.
_URI_START = re.compile(r'^\s*[A-Za-z][A-Za-z0-9+.-]*://')


def _quoted_end(text, start):
    """The end of the libpq quoted value that starts at ``text[start] == "'"``."""
    position = start + 1
    while position < len(text):
        char = text[position]
        if char == '\\':
            position += 2
            continue
        if char == "'":
            return position + 1
        position += 1
    return len(text)


def secret_spans(text):
    """(start, end) of every password in ``text``, sorted and merged."""
    spans = []
    scheme = _URI_START.match(text)
    uri = scheme.end() - 3 if scheme else -1
    if uri >= 0:
        start = uri + 3
        slash = text.find('/', start)
        end = len(text) if slash < 0 else slash
        at = text.rfind('@', start, end)
        colon = text.find(':', start, at) if at >= 0 else -1
        if colon >= 0:
            spans.append((colon + 1, at))
    for match in _PARAMETER.finditer(text):
        if not unquote(match.group(1)).lower().endswith('password'):
            continue
        start = match.end()
        if uri >= 0:
            end = text.find('&', start)
            end = len(text) if end < 0 else end
        elif text.startswith("'", start):
            end = _quoted_end(text, start)
        else:
            end = start
            while end < len(text) and not text[end].isspace():
                end += 1
        spans.append((start, end))
    merged = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def mask(text):
    """``text`` with every password replaced by ``***``."""
    pieces = []
    done = 0
    for start, end in secret_spans(text):
        pieces.append(text[done:start])
        pieces.append(MASK)
        done = end
    pieces.append(text[done:])
    return ''.join(pieces)


def secrets(text):
    """Every spelling of every password in ``text`` (as written, percent-decoded,
    unquoted), longest first, to scrub them from messages that echo them."""
    found = set()
    for start, end in secret_spans(text):
        value = text[start:end]
        if value.startswith("'"):
            value = value[1:-1] if len(value) > 1 and value.endswith("'") else value[1:]
            found.add(_ESCAPED.sub(r'\1', value))
        found.update((value, unquote(value)))
    return sorted((value for value in found if value), key=lambda value: (-len(value), value))
