# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one text form of a host's facts in the factdb store, and reading it back.

The canonical text is JSON with sorted keys, no spaces and UTF-8 (not ``\\u`` escapes); its
sha256 is the digest that tells versions apart. orjson writes and parses it several times
faster than the standard library; it is used when installed, and the standard library
writes the same text without it, so stores written with and without orjson agree.

What JSON cannot hold is written as its nearest JSON: NaN and infinities as null (as
orjson does), sets as sorted lists, dates as ISO 8601 text, bytes as UTF-8 text, other
keys than strings as their JSON text. Subclasses of str, int, float, dict and list (such
as Ansible's tagged and unsafe values) are written as the plain values they hold.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import gc
import hashlib
import json
import math

try:
    import orjson
except ImportError:
    orjson = None

_ORJSON_OPTIONS = 0 if orjson is None else orjson.OPT_SORT_KEYS
_STDLIB = {'sort_keys': True, 'separators': (',', ':'), 'ensure_ascii': False, 'allow_nan': False}


def _default(value):
    """JSON for what facts may hold besides JSON types (both encoders call it)."""
    if isinstance(value, float):
        return float(value)  # a float subclass, which orjson does not take
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        try:
            return sorted(value)
        except TypeError:
            return sorted(value, key=repr)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode('utf-8', 'replace')
    if hasattr(value, 'keys') and hasattr(value, '__getitem__'):
        return dict((k, value[k]) for k in value.keys())
    if isinstance(value, tuple):
        return list(value)
    return str(value)


def _key(key):
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, (bool, int, float)):
        return json.dumps(key)
    return str(key)


def _plain(value):
    """``value`` with string keys only and null for NaN and infinities: what the fast paths
    refused, made JSON-ready for the standard library."""
    if isinstance(value, dict):
        return dict((_key(k), _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _stdlib_text(facts):
    try:
        return json.dumps(facts, default=_default, **_STDLIB)
    except (TypeError, ValueError):
        # Keys that are not strings (unsortable when mixed), NaN or infinities.
        return json.dumps(_plain(facts), default=_default, **_STDLIB)


def encode(facts):
    """``(text, digest)`` of ``facts``: the canonical JSON text and its sha256 in hex.

    Raises ValueError when ``facts`` cannot be written as JSON (a structure that contains
    itself, say).
    """
    if orjson is not None:
        try:
            data = orjson.dumps(facts, default=_default, option=_ORJSON_OPTIONS)
            return data.decode('utf-8'), hashlib.sha256(data).hexdigest()
        except (TypeError, orjson.JSONEncodeError):
            pass  # keys that are not strings, integers beyond 64 bits, lone surrogates
    try:
        text = _stdlib_text(facts)
    except RecursionError:
        raise ValueError('the facts contain themselves or are nested too deeply')
    try:
        data = text.encode('utf-8')
    except UnicodeEncodeError:
        # A lone surrogate has no UTF-8 form: escaped as JSON's \\uXXXX instead.
        text = json.dumps(_plain(facts), default=_default, sort_keys=True, separators=(',', ':'), ensure_ascii=True)
        data = text.encode('utf-8')
    return text, hashlib.sha256(data).hexdigest()


def decode(text):
    """The facts of a stored canonical text (str or bytes)."""
    # A host's facts are thousands of dicts and lists without a cycle among them. Left on, the
    # cyclic collector runs several times while they are built, and each run goes through
    # the controller's older objects again: a third of the time of a read, measured on the
    # facts of tests/unit/fixtures/factdb. It is switched back on at once, and only by the
    # call that switched it off.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if orjson is not None:
            try:
                return orjson.loads(text)
            except orjson.JSONDecodeError:
                pass  # integers beyond 64 bits, which the standard library reads
        if isinstance(text, (bytes, bytearray, memoryview)):
            text = bytes(text).decode('utf-8')
        return json.loads(text)
    finally:
        if collecting:
            gc.enable()
