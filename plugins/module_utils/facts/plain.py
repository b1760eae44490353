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

# The deepest nesting a filter takes. Facts nest about 8 levels (hostvars, ansible_facts,
# libvirt_host_caps, cpu_info, guest_features, custom, model, feature); the code behind
# the filters recurses per level, so thousands of levels would exhaust Python's stack.
MAX_DEPTH = 64
# The integer range a filter takes: signed 64 bits, what libvirt, the kernel and JSON
# consumers count in. Beyond it, float() overflows and printing one of more than 4300
# digits raises ValueError (Python 3.11+), so such a value must not get further in.
MAX_INT = 2 ** 63 - 1

# The base class's own conversion, which returns exactly that class even for a
# subclass that overrides __str__ or __int__ (bool is final, so it never gets here).
_SCALARS = ((int, int.__int__), (float, float.__float__), (str, str.__str__), (bytes, bytes))

# The YAML names users write their values in.
_TYPE_NAMES = ((bool, 'boolean'), (int, 'integer'), (float, 'number'), (str, 'string'), (bytes, 'bytes'),
               (Mapping, 'mapping'), (list, 'list'), (tuple, 'list'), (Set, 'set'))


class PlainInputError(ValueError):
    """A value a filter cannot take: nested too deep or an integer out of range. ``path``
    is where it is, from the argument down (``['hosts', 'hv1', 'host_info']``)."""

    def __init__(self, reason):
        ValueError.__init__(self, reason)
        self.reason = reason
        self.path = []

    def __str__(self):
        return '%s %s' % (format_path(self.path) or 'the value', self.reason)


def format_path(parts):
    """``hosts.hv1.cpu_info.features[3]``; a key is shortened, never printed whole, and a
    long path keeps its first and last steps."""
    if len(parts) > 12:
        return '%s...(%d levels)...%s' % (format_path(parts[:8]), len(parts) - 10, format_path(parts[-2:]))
    text = ''
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            text += '[%d]' % part
        else:
            key = part if isinstance(part, str) else short_repr(part, 40)
            text += ('.' if text else '') + (key if len(key) <= 40 else key[:37] + '...')
    return text


def integer_size(value):
    """``<about 5,000 digits>`` for an int, without converting it to text (which Python
    refuses beyond 4300 digits)."""
    digits = int(abs(value).bit_length() * 0.30103) + 1
    return '<about %s digits>' % format(digits, ',')


def short_repr(value, limit=60):
    """``repr(value)`` cut to ``limit`` characters, safe for any value: an int of any
    size, a structure of any depth or size (only its top is looked at)."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        return repr(int(value)) if abs(value) <= MAX_INT else integer_size(value)
    if isinstance(value, (str, bytes)):
        # Cut before repr: a document of megabytes is not copied for a message.
        text = repr(value[:limit]) + ('...' if len(value) > limit else '')
    elif isinstance(value, float):
        text = repr(value)
    elif isinstance(value, (Mapping, list, tuple, Set)):
        text = _shallow_repr(value, limit)
    else:
        text = '<%s>' % type(value).__name__
    return text if len(text) <= limit else text[:limit - 3] + '...'


def short_name(value, limit=64):
    """A name for a message: as it is when it is a short printable string, else
    ``short_repr``."""
    if isinstance(value, str) and len(value) <= limit and value.isprintable():
        return value
    return short_repr(value, limit)


def _shallow_repr(value, limit):
    """The first items of a container, each shortened, nested containers as ``[...]``."""
    if isinstance(value, Mapping):
        items = ['%s: %s' % (_item_repr(key), _item_repr(item)) for key, item in _first(value.items(), limit)]
        opening, closing = '{', '}'
    else:
        items = [_item_repr(item) for item in _first(value, limit)]
        opening, closing = '[', ']'
    more = ', ...' if len(value) > len(items) else ''
    return opening + ', '.join(items) + more + closing


def _first(items, limit):
    found = []
    for item in items:
        if len(found) >= limit // 4:
            break
        found.append(item)
    return found


def _item_repr(value):
    if isinstance(value, Mapping):
        return '{...}' if value else '{}'
    if isinstance(value, (list, tuple, Set)):
        return '[...]' if value else '[]'
    return short_repr(value, 30)


def plain(value, depth=0, locate=True):
    """``value`` with every mapping a ``dict``, every list, tuple and set a ``list`` and
    every str, int, float and bool of exactly that class. Anything else (None, dates,
    Jinja's Undefined) is returned as it is. Raises PlainInputError for nesting deeper
    than ``MAX_DEPTH`` or an integer beyond ``MAX_INT``, with its path unless ``locate``
    is false."""
    kind = type(value)
    if kind is str or kind is bool or kind is float or value is None:
        return value
    if kind is int or (isinstance(value, int) and not isinstance(value, bool)):
        if not -MAX_INT <= value <= MAX_INT:
            raise PlainInputError('is an integer of %s, beyond the 64-bit range (%s); give a whole number of at most 19 digits'
                                  % (integer_size(value)[1:-1], format(MAX_INT, ',')))
        return value if kind is int else int.__int__(value)
    mapping = kind is dict or isinstance(value, Mapping)
    if mapping or kind is list or isinstance(value, (list, tuple, Set)):
        if depth >= MAX_DEPTH:
            raise PlainInputError('nests more than %d levels deep; no fact or VM definition nests that deep, so check how '
                                  'the value is built' % MAX_DEPTH)
        depth += 1
        try:
            if mapping:
                return {plain(key, depth, locate): plain(item, depth, locate) for key, item in value.items()}
            return [plain(item, depth, locate) for item in value]
        except PlainInputError as exc:
            # Only now look for where, once per level: the common case pays nothing for the path.
            if locate:
                exc.path.insert(0, _failing_step(value, mapping, depth))
            raise
    for base, make in _SCALARS:
        if isinstance(value, base):
            return make(value)
    return value


def _failing_step(value, mapping, depth):
    """The key or index of the item of ``value`` that ``plain`` refuses."""
    for step, item in (value.items() if mapping else enumerate(value)):
        try:
            plain(item, depth, locate=False)
            if mapping:
                plain(step, depth, locate=False)
        except PlainInputError:
            return step if isinstance(step, (str, int)) else short_repr(step, 40)
    return '?'


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
    return '%s %s' % (type_name(value), short_repr(value, limit))


def plain_arguments(error):
    """A decorator: the filter called with plain copies of its arguments (see ``plain``).
    A value no filter can take fails the call with ``error`` (the filter's
    AnsibleFilterError, which module_utils cannot import) naming the argument and the
    path in it."""
    def decorate(function):
        @functools.wraps(function)
        def call(*args, **kwargs):
            _check_arguments(function, error, args, kwargs)
            try:
                args = [_plain_argument(function, position, arg) for position, arg in enumerate(args)]
                kwargs = dict((key, _plain_argument(function, key, arg)) for key, arg in kwargs.items())
            except PlainInputError as exc:
                raise error('%s: %s' % (function.__name__, exc))
            return function(*args, **kwargs)
        call.plain_arguments = True
        return call
    return decorate


def _check_arguments(function, error, args, kwargs):
    """A misspelled option or one too many arguments fails naming the option and the ones
    there are; Python's own TypeError says neither."""
    names = function.__code__.co_varnames[:function.__code__.co_argcount]
    options = names[1:]
    for key in sorted(kwargs, key=str):
        if key not in options:
            import difflib  # only for this message: the modules import this file too, on every run
            close = difflib.get_close_matches(key, options, n=1) if isinstance(key, str) and len(key) <= 64 else []
            raise error('%s: unknown option %s%s; %s' % (
                function.__name__, short_repr(key, 40), ' (did you mean %s?)' % close[0] if close else '',
                'the options are %s' % ', '.join(options) if options else 'it takes no options'))
    if len(args) > len(names):
        raise error('%s: takes the input and at most %d positional option(s) (%s), got %d arguments; pass options by name'
                    % (function.__name__, len(options), ', '.join(options), len(args)))
    if not args:
        raise error('%s: no input given; use it as {{ value | virtumancer.hostcaps.%s }}' % (function.__name__, function.__name__))


def _plain_argument(function, position, value):
    try:
        return plain(value)
    except PlainInputError as exc:
        exc.path.insert(0, _argument_name(function, position))
        raise


def _argument_name(function, position):
    """The name of argument ``position`` (an index or a keyword)."""
    if not isinstance(position, int):
        return position
    names = function.__code__.co_varnames[:function.__code__.co_argcount]
    return names[position] if position < len(names) else 'argument %d' % position
