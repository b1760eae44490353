# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The canonical text of facts: orjson and the standard library write the same bytes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import gc
import hashlib
import json

import orjson
import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.store import factjson
from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import facts_from


class TaggedStr(str):
    pass


class TaggedInt(int):
    pass


class TaggedFloat(float):
    pass


class TaggedDict(dict):
    pass


class TaggedList(list):
    pass


# (what the facts hold, the canonical text, what reading the text gives back)
CASES = [
    ('libvirt facts', {'libvirt_host_caps': facts_from('amd-epyc-sev.caps.xml', 'amd-epyc-sev.domcaps-q35.xml')}, None, None),
    ('keys sorted, no spaces', {'b': 1, 'a': [True, False, None], 'c': {'z': 0, 'y': 1.5}},
     '{"a":[true,false,null],"b":1,"c":{"y":1.5,"z":0}}', None),
    ('UTF-8, not escapes', {'hôte': 'ℌ日本', 'esc': 'a"b\\c\n\t\x01'}, '{"esc":"a\\"b\\\\c\\n\\t\\u0001","hôte":"ℌ日本"}', None),
    ('NaN and infinities as null', {'x': float('nan'), 'y': [float('inf'), -float('inf')]}, '{"x":null,"y":[null,null]}',
     {'x': None, 'y': [None, None]}),
    ('keys that are not strings', {1: 'a', 'b': 2, None: 3, 2.5: 4}, '{"1":"a","2.5":4,"b":2,"null":3}',
     {'1': 'a', '2.5': 4, 'b': 2, 'null': 3}),
    ('integers beyond 64 bits', {'big': 2 ** 70}, '{"big":1180591620717411303424}', None),
    ('subclasses as their plain values',
     {TaggedStr('k'): TaggedStr('v'), 'i': TaggedInt(3), 'f': TaggedFloat(2.5), 'd': TaggedDict(z=1, a=2), 'l': TaggedList([1])},
     '{"d":{"a":2,"z":1},"f":2.5,"i":3,"k":"v","l":[1]}', {'d': {'a': 2, 'z': 1}, 'f': 2.5, 'i': 3, 'k': 'v', 'l': [1]}),
    ('dates, sets, bytes, tuples',
     {'dt': datetime.datetime(2020, 1, 2, 3, 4, 5, 6789), 'utc': datetime.datetime(2020, 1, 2, tzinfo=datetime.timezone.utc),
      'day': datetime.date(2020, 1, 2), 'set': {3, 1, 2}, 'raw': b'caf\xc3\xa9', 'tuple': (1, 2)},
     '{"day":"2020-01-02","dt":"2020-01-02T03:04:05.006789","raw":"café","set":[1,2,3],"tuple":[1,2],'
     '"utc":"2020-01-02T00:00:00+00:00"}', None),
    ('a lone surrogate, escaped', {'s': 'a\ud800b'}, '{"s":"a\\ud800b"}', None),
]


@pytest.fixture(params=['orjson', 'stdlib'])
def encoder(request, monkeypatch):
    if request.param == 'stdlib':
        monkeypatch.setattr(factjson, 'orjson', None)
    else:
        assert factjson.orjson is orjson
    return request.param


@pytest.mark.parametrize('name, facts, text, back', CASES, ids=[case[0] for case in CASES])
def test_the_canonical_text_and_its_digest(encoder, name, facts, text, back):
    found, digest = factjson.encode(facts)

    if text is None:
        text = json.dumps(json.loads(found), sort_keys=True, separators=(',', ':'), ensure_ascii=False)
    assert found == text, name
    assert digest == hashlib.sha256(found.encode('utf-8')).hexdigest()
    expected = json.loads(text) if back is None else back
    assert factjson.decode(found) == expected
    assert factjson.decode(found.encode('utf-8')) == expected


@pytest.mark.parametrize('name, facts, text, back', CASES, ids=[case[0] for case in CASES])
def test_orjson_and_the_standard_library_write_the_same_bytes(monkeypatch, name, facts, text, back):
    fast = factjson.encode(facts)
    monkeypatch.setattr(factjson, 'orjson', None)

    assert factjson.encode(facts) == fast, name


def test_floats_with_an_exponent_are_the_one_difference_and_read_back_equal(monkeypatch):
    facts = {'tiny': 1e-07, 'huge': 1e+16}
    fast, dummy = factjson.encode(facts)
    monkeypatch.setattr(factjson, 'orjson', None)
    slow, dummy = factjson.encode(facts)

    assert (fast, slow) == ('{"huge":1e+16,"tiny":1e-7}', '{"huge":1e+16,"tiny":1e-07}')
    assert factjson.decode(fast) == factjson.decode(slow) == facts


def test_facts_that_contain_themselves_are_a_value_error(encoder):
    facts = {'a': []}
    facts['a'].append(facts)

    with pytest.raises(ValueError):
        factjson.encode(facts)


@pytest.mark.parametrize('collecting', [True, False], ids=['collector-on', 'collector-off'])
def test_reading_leaves_the_cyclic_collector_as_it_found_it(encoder, collecting):
    text, dummy = factjson.encode({'libvirt_host_caps': {'traits': ['HW_CPU_X86_AVX2']}})
    was = gc.isenabled()
    try:
        (gc.enable if collecting else gc.disable)()
        factjson.decode(text)
        assert gc.isenabled() is collecting
        with pytest.raises(ValueError):
            factjson.decode('{"not json')
        assert gc.isenabled() is collecting
    finally:
        (gc.enable if was else gc.disable)()
