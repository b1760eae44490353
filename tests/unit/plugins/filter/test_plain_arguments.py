# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every filter of the collection takes plain copies of its arguments (facts/plain.py),
so none can hand ansible-core's tagged or lazy containers to jmespath or name their
classes in a message. A filter added without it fails here."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import os

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import plain

FILTER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'plugins', 'filter')
PACKAGE = 'ansible_collections.virtumancer.hostcaps.plugins.filter.'


def _filters():
    for name in sorted(os.listdir(FILTER_DIR)):
        if name.endswith('.py') and not name.startswith('_'):
            module = importlib.import_module(PACKAGE + name[:-3])
            for filter_name, function in sorted(module.FilterModule().filters().items()):
                yield filter_name, function


FILTERS = list(_filters())


def test_the_collection_has_its_filters():
    assert [name for name, dummy in FILTERS] == [
        'caps_from_xml', 'catalog_validate', 'compliance_evaluate', 'compliance_report', 'discovery_due', 'discovery_summary',
        'fleet_report', 'fleet_report_html',
        'host_resources', 'host_traits', 'sriov_from_xml', 'vm_domain_volumes', 'vm_domain_xml', 'vm_place', 'vm_validate']


@pytest.mark.parametrize('name, function', FILTERS, ids=[name for name, dummy in FILTERS])
def test_every_filter_takes_plain_arguments(name, function):
    assert getattr(function, 'plain_arguments', False), (
        'filter %s does not convert its arguments; decorate it with facts.plain.plain_arguments' % name)


def test_a_tagged_query_argument_reaches_jmespath_plain():
    tags = pytest.importorskip('ansible._internal._datatag._tags', reason='ansible-core 2.19 tags values')
    from ansible_collections.virtumancer.hostcaps.plugins.filter.host_traits import host_traits
    tag = tags.Origin(path='/play.yml', line_num=5).tag
    facts = tag({tag('schema_version'): tag(1), tag('traits'): tag([tag('HW_CPU_X86_AVX2')]),
                 tag('host_info'): tag({tag('arch'): tag('x86_64')})})
    custom = tag([tag({tag('name'): tag('CUSTOM_AVX2'), tag('query'): tag("contains(libvirt_host_caps.traits, 'HW_CPU_X86_AVX2')")}),
                  tag({tag('name'): tag('CUSTOM_X86'), tag('query'): tag("starts_with(libvirt_host_caps.host_info.arch, 'x86')")})])

    traits = host_traits(facts, custom_traits=custom)

    assert {'CUSTOM_AVX2', 'CUSTOM_X86'} <= set(traits)
    assert plain(traits) == traits


@pytest.mark.parametrize('name, function', FILTERS, ids=[name for name, dummy in FILTERS])
def test_a_misspelled_option_names_the_options_of_the_filter(name, function):
    from ansible.errors import AnsibleFilterError
    options = function.__wrapped__.__code__.co_varnames[1:function.__wrapped__.__code__.co_argcount]
    misspelled = (options[0][:-1] + 'x') if options else 'option'
    with pytest.raises(AnsibleFilterError) as caught:
        function([], **{misspelled: None})
    message = str(caught.value)
    assert message.startswith('%s: unknown option %r' % (name, misspelled))
    assert message.endswith('the options are %s' % ', '.join(options) if options else 'it takes no options')
    if options:
        assert '(did you mean %s?)' % options[0] in message


@pytest.mark.parametrize('name, function', FILTERS, ids=[name for name, dummy in FILTERS])
def test_too_many_positional_arguments_are_refused_by_name(name, function):
    from ansible.errors import AnsibleFilterError
    with pytest.raises(AnsibleFilterError, match='%s: takes the input and at most' % name):
        function(*([None] * 8))
