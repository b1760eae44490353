# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plain copies of the values a filter receives, and their type names for messages.

ansible-core 2.19 hands filters its own subclasses of dict, list, str, int and float
(values tagged with their origin, containers that template on access); 2.17 hands them
unsafe-text subclasses of str. jmespath recognises types by their exact class name, so
``contains()`` on such a list fails with "received: unknown", and a message that prints
``type(value).__name__`` shows ``_AnsibleTaggedStr``. Every filter converts its arguments
here, once, with ``plain_arguments``, so the code behind it only ever sees JSON types.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools

from collections.abc import Mapping, Set

# The base class's own conversion, which returns exactly that class even for a
# subclass that overrides __str__ or __int__ (bool is final, so it never gets here).
_SCALARS = ((int, int.__int__), (float, float.__float__), (str, str.__str__), (bytes, bytes))

# The YAML names users write their values in.
_TYPE_NAMES = ((bool, 'boolean'), (int, 'integer'), (float, 'number'), (str, 'string'), (bytes, 'bytes'),
               (Mapping, 'mapping'), (list, 'list'), (tuple, 'list'), (Set, 'set'))


def plain(value):
    """``value`` with every mapping a ``dict``, every list, tuple and set a ``list`` and
    every str, int, float and bool of exactly that class. Anything else (None, dates,
    Jinja's Undefined) is returned as it is."""
    kind = type(value)
    if kind is dict:
        return dict((plain(key), plain(item)) for key, item in value.items())
    if kind is list:
        return [plain(item) for item in value]
    if kind in (str, int, float, bool) or value is None:
        return value
    if isinstance(value, Mapping):
        return dict((plain(key), plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple, Set)):
        return [plain(item) for item in value]
    for base, make in _SCALARS:
        if isinstance(value, base):
            return make(value)
    return value


def type_name(value):
    """The name of ``value``'s type as YAML calls it (``string``, ``integer``,
    ``mapping``, ``null`` ...), the same for a plain value and Ansible's subclasses."""
    if value is None:
        return 'null'
    for base, name in _TYPE_NAMES:
        if isinstance(value, base):
            return name
    return type(value).__name__


def describe(value, limit=60):
    """``value`` with its type name, short enough for a message: ``string '4'``, ``null``."""
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'boolean %s' % str(value).lower()
    text = repr(plain(value))
    return '%s %s' % (type_name(value), text if len(text) <= limit else text[:limit - 3] + '...')


def plain_arguments(function):
    """``function`` called with plain copies of its arguments (see ``plain``)."""
    @functools.wraps(function)
    def call(*args, **kwargs):
        return function(*[plain(arg) for arg in args], **dict((key, plain(arg)) for key, arg in kwargs.items()))
    call.plain_arguments = True
    return call
