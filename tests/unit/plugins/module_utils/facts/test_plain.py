# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plain() against the values ansible-core 2.19 really hands a filter: its tagged str,
int, float, list and dict (the controller's own classes, tagged with an origin as the
YAML loader does), and the type names messages print for them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import jmespath
import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import describe, plain, type_name

_tags = pytest.importorskip('ansible._internal._datatag._tags', reason='ansible-core 2.19 tags values; older cores do not')
ORIGIN = _tags.Origin(path='/inventory/group_vars/hypervisors.yml', line_num=3)


def tag(value):
    return ORIGIN.tag(value)


def tagged_facts():
    traits = tag([tag('COMPUTE_ARCH_X86_64'), tag('HW_CPU_X86_AVX2')])
    memory = tag({tag('total_mb'): tag(24105)})
    cpu = tag({tag('model'): tag('EPYC-Rome'), tag('ghz'): tag(2.5)})
    return tag({tag('libvirt_host_caps'): tag({tag('traits'): traits, tag('memory_info'): memory, tag('cpu_info'): cpu})})


def classes(value):
    """The exact class names in ``value``, as jmespath sees them (keys must be plain str)."""
    kind = type(value).__name__
    if kind == 'dict':
        assert [type(key).__name__ for key in value] == ['str'] * len(value)
        return dict((key, classes(item)) for key, item in value.items())
    if kind == 'list':
        return [classes(item) for item in value]
    return kind


def test_the_tagged_values_are_what_jmespath_cannot_read():
    # The reason plain() exists: jmespath dispatches on the exact class name.
    with pytest.raises(jmespath.exceptions.JMESPathTypeError, match='received: "unknown"'):
        jmespath.search("contains(libvirt_host_caps.traits, 'HW_CPU_X86_AVX2')", tagged_facts())


def test_plain_makes_every_value_its_builtin_class():
    facts = plain(tagged_facts())

    assert classes(facts) == {'libvirt_host_caps': {'traits': ['str', 'str'], 'memory_info': {'total_mb': 'int'},
                                                    'cpu_info': {'model': 'str', 'ghz': 'float'}}}
    assert facts == {'libvirt_host_caps': {'traits': ['COMPUTE_ARCH_X86_64', 'HW_CPU_X86_AVX2'], 'memory_info': {'total_mb': 24105},
                                           'cpu_info': {'model': 'EPYC-Rome', 'ghz': 2.5}}}
    assert jmespath.search("contains(libvirt_host_caps.traits, 'HW_CPU_X86_AVX2')", facts) is True


@pytest.mark.parametrize('value, expected', [
    ((1, 'a'), [1, 'a']),
    (frozenset(['x']), ['x']),
    (True, True),
    (None, None),
    (b'raw', b'raw'),
])
def test_tuples_and_sets_become_lists_and_the_rest_stays(value, expected):
    assert plain(value) == expected and type(plain(value)) is type(expected)


def test_a_value_of_another_kind_is_returned_as_it_is():
    marker = object()
    assert plain({'x': marker})['x'] is marker


@pytest.mark.parametrize('value, name, described', [
    (tag('4'), 'string', "string '4'"),
    (tag(4), 'integer', 'integer 4'),
    (tag(4.5), 'number', 'number 4.5'),
    (tag([tag('x')]), 'list', "list ['x']"),
    (tag({tag('a'): tag(1)}), 'mapping', "mapping {'a': 1}"),
    (None, 'null', 'null'),
    (False, 'boolean', 'boolean false'),
], ids=['str', 'int', 'float', 'list', 'dict', 'None', 'bool'])
def test_type_names_are_the_same_for_tagged_and_plain_values(value, name, described):
    assert (type_name(value), describe(value)) == (name, described)
    assert (type_name(plain(value)), describe(plain(value))) == (name, described)


def test_describe_shortens_long_values():
    assert describe('x' * 100) == "string '%s..." % ('x' * 56)
