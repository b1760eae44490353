# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile input to every filter: well-formed but odd libvirt XML, JMESPath that jmespath
itself fails on, type-confused facts, numbers beyond 64 bits and nesting beyond any real
document. Each gives a result or an Ansible error that names the value, never a raw Python
exception. The property tests start from real facts and real libvirt XML and mutate them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import re

import pytest
import yaml

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible.errors import AnsibleError, AnsibleFilterError

from ansible_collections.virtumancer.hostcaps.plugins.filter.caps_from_xml import caps_from_xml
from ansible_collections.virtumancer.hostcaps.plugins.filter.catalog_validate import catalog_validate
from ansible_collections.virtumancer.hostcaps.plugins.filter.compliance_evaluate import compliance_evaluate
from ansible_collections.virtumancer.hostcaps.plugins.filter.compliance_report import compliance_report
from ansible_collections.virtumancer.hostcaps.plugins.filter.discovery_due import discovery_due
from ansible_collections.virtumancer.hostcaps.plugins.filter.fleet_report_html import fleet_report_html
from ansible_collections.virtumancer.hostcaps.plugins.filter.host_resources import host_resources
from ansible_collections.virtumancer.hostcaps.plugins.filter.host_traits import host_traits
from ansible_collections.virtumancer.hostcaps.plugins.filter.sriov_from_xml import sriov_from_xml
from ansible_collections.virtumancer.hostcaps.plugins.filter.vm_domain_xml import vm_domain_xml
from ansible_collections.virtumancer.hostcaps.plugins.filter.vm_validate import vm_validate
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.fact_shape import MalformedFacts
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import describe, short_repr
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.resources import derive_resources
from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import read_fixture

FACTDB_FIXTURE = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'factdb', 'debian12-kvm-host.facts.json')
CAPS = 'debian12-epyc-milan-kvm.caps.xml'
DOMCAPS = 'debian12-epyc-milan-kvm.domcaps-q35.xml'
NODEDEV = 'intel-e810-pf-4vf.nodedev.xml'
VM = {'name': 'web01', 'vcpus': 2, 'memory_mb': 2048, 'disk_gb': 10}


@pytest.fixture(scope='module')
def host():
    """ansible_facts of the Debian 12 test host as the factdb cache gave them back."""
    with open(FACTDB_FIXTURE) as handle:
        facts = json.load(handle)
    return {'libvirt_host_caps': facts['libvirt_host_caps'], 'sriov': facts['sriov']}


def deep_list(levels, leaf='x'):
    value = leaf
    for dummy in range(levels):
        value = [value]
    return value


def filter_error(call, *args, **kwargs):
    with pytest.raises(AnsibleFilterError) as err:
        call(*args, **kwargs)
    message = str(err.value)
    assert len(message) < 1500, message
    return message


# -- well-formed but odd libvirt XML ---------------------------------------------


@pytest.mark.parametrize('old, new, named', [
    ("<pages unit='KiB' size='4'/>", "<pages unit='KiB' size='abc'/>", "<pages size='...'> is 'abc'"),
    ("<cpu id='0'", "<cpu id='x'", "<cpu id='...'> is 'x'"),
    ("<pages unit='KiB' size='4'/>", "<pages unit='GiB' size='%s'/>" % ('9' * 400), '(400 characters), not a whole number'),
    ("<pages unit='KiB' size='4'/>", "<pages unit='KiB' size='%s'/>" % ('9' * 5000), '(5,000 characters), not a whole number'),
    ("<pages unit='KiB' size='4'/>", "<pages unit='parsec' size='4'/>", "the unit 'parsec'"),
    ("<pages unit='KiB' size='4'/>", "<pages unit='EiB' size='%s'/>" % ('9' * 20), 'beyond 9,223,372,036,854,775,807 KiB'),
    ('<cpu>', '<cpu>' + '<a>' * 5000 + '</a>' * 5000, 'more than 64 levels deep (at <a>)'),
    ('<vendor>', '<vendor>\ud800', "holds '\\ud800' at character"),
])
def test_odd_capabilities_xml_is_a_clear_error(old, new, named):
    xml = read_fixture(CAPS)
    assert old in xml
    message = filter_error(caps_from_xml, xml.replace(old, new, 1))
    assert message.startswith('caps_from_xml: ') and named in message


def test_a_lone_surrogate_in_domain_capabilities_is_a_clear_error():
    message = filter_error(caps_from_xml, read_fixture(CAPS), [read_fixture(DOMCAPS).replace('<path>', '<path>\udc00', 1)])
    assert "the domain capabilities XML holds '\\udc00'" in message


def test_a_host_model_feature_without_a_name_is_skipped():
    domcaps = read_fixture(DOMCAPS).replace("<feature policy='require' name='x2apic'/>", "<feature policy='require'/>", 1)
    facts = caps_from_xml(read_fixture(CAPS), [domcaps])
    required = facts['domain_capabilities'][0]['cpu']['host_model']['required_features']
    assert 'x2apic' not in required and None not in required and 'tsc-deadline' in required


def test_a_node_device_number_that_is_a_word_is_a_clear_error():
    xml = read_fixture(NODEDEV)
    assert "<numa node='" in xml
    message = filter_error(sriov_from_xml, [re.sub(r"<numa node='[^']*'", "<numa node='many'", xml, count=1)])
    assert "<numa node='...'> is 'many', not a whole number" in message


# -- JMESPath that jmespath itself fails on ---------------------------------------

DEEP_QUERY = '(' * 10000 + 'libvirt_host_caps' + ')' * 10000
STRING_NUMBER_QUERY = "libvirt_host_caps.memory_info.total_mb >= '2048'"


@pytest.mark.parametrize('query, why', [
    (DEEP_QUERY, 'nests too deeply for jmespath to parse (20,017 characters)'),
    ("total_mb >= '2048'", "compares with the string '2048' by >=, which fails on a number"),
    ("`3` < '1.5'", "compares with the string '1.5' by <"),
])
def test_catalog_validate_lists_a_query_jmespath_fails_on(query, why):
    problems = catalog_validate({'hardware_traits': [{'name': 'CUSTOM_X', 'query': query}]})
    assert [(p['field'], p['code']) for p in problems] == [('hardware_traits[0].query', 'invalid_query')]
    assert why in problems[0]['message'] and len(problems[0]['message']) < 600


def test_catalog_validate_keeps_a_string_comparison_of_strings():
    assert catalog_validate({'hardware_traits': [{'name': 'CUSTOM_X', 'query': "libvirt_host_caps.host_info.arch >= 'x86'"}]}) == []


@pytest.mark.parametrize('query', [DEEP_QUERY, STRING_NUMBER_QUERY])
def test_host_traits_names_the_trait_of_a_query_jmespath_fails_on(host, query):
    message = filter_error(host_traits, host, custom_traits=[{'name': 'CUSTOM_X', 'query': query}])
    assert message.startswith('host_traits: custom trait CUSTOM_X: query ')


def test_a_comparison_that_fails_on_the_facts_names_the_trait(host):
    # Only the facts say that arch is a string and threads a number: jmespath raises TypeError.
    query = 'libvirt_host_caps.host_info.arch > libvirt_host_caps.host_info.threads'
    message = filter_error(host_traits, host, custom_traits=[{'name': 'CUSTOM_X', 'query': query}])
    assert 'custom trait CUSTOM_X' in message and "'>' not supported between instances of 'str' and 'int'" in message

    catalog = {'hardware_traits': [{'name': 'CUSTOM_X', 'query': query}]}
    problems = vm_validate([dict(VM, required_traits=['CUSTOM_X'])], catalog=catalog, hosts={'hv1': host})
    failed = [p for p in problems if p['code'] == 'trait_query_failed']
    assert [p['field'] for p in failed] == ['hosts.hv1'] and 'custom trait CUSTOM_X' in failed[0]['message']


@pytest.mark.parametrize('query', [DEEP_QUERY, STRING_NUMBER_QUERY])
def test_vm_validate_lists_a_hardware_trait_jmespath_fails_on(host, query):
    catalog = {'hardware_traits': [{'name': 'CUSTOM_X', 'query': query}]}
    problems = vm_validate([dict(VM, required_traits=['CUSTOM_X'])], catalog=catalog, hosts={'hv1': host})
    assert ('catalog.hardware_traits[0].query', 'invalid_query') in [(p['field'], p['code']) for p in problems]


# -- type-confused host facts ----------------------------------------------------

CONFUSED = [
    (('libvirt_host_caps', 'traits'), [{}], 'libvirt_host_caps.traits[0] is a mapping, expected a string'),
    (('libvirt_host_caps', 'domain_capabilities'), [{'machine': 7}],
     'libvirt_host_caps.domain_capabilities[0].machine is an integer, expected a string'),
    (('sriov', 'summary'), 'x', 'sriov.summary is a string, expected a mapping'),
    (('libvirt_host_caps', 'virt_info', 'guests'), [{'arch': ['x86_64'], 'os_type': 'hvm'}],
     'libvirt_host_caps.virt_info.guests[0].arch is a list, expected a string'),
    (('libvirt_host_caps', 'storage_info', 'pools'), [{'name': {}}], 'libvirt_host_caps.storage_info.pools[0].name is a mapping'),
    (('sriov', 'passthrough_devices'), [3.5], 'sriov.passthrough_devices[0] is a number, expected a mapping'),
]


def _confuse(host, path, value):
    facts = copy.deepcopy(host)
    holder = facts
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    return facts


@pytest.mark.parametrize('path, value, named', CONFUSED)
def test_host_traits_and_host_resources_name_a_confused_fact(host, path, value, named):
    facts = _confuse(host, path, value)
    assert named in filter_error(host_traits, facts)
    assert named in filter_error(host_resources, facts)


@pytest.mark.parametrize('path, value, named', CONFUSED)
def test_vm_validate_reports_a_host_with_confused_facts_and_checks_the_others(host, path, value, named):
    problems = vm_validate([VM], hosts={'hv1': _confuse(host, path, value), 'hv2': host})
    assert [(p['field'], p['code']) for p in problems] == [('hosts.hv1', 'host_facts_malformed')]
    assert 'host hv1 is left out' in problems[0]['message'] and named.replace('libvirt_host_caps', 'hosts.hv1.libvirt_host_caps', 1) \
        .replace('sriov.', 'hosts.hv1.sriov.', 1) in problems[0]['message']


@pytest.mark.parametrize('path, value, named', CONFUSED)
def test_vm_domain_xml_names_a_confused_fact_of_its_host(host, path, value, named):
    message = filter_error(vm_domain_xml, VM, host=_confuse(host, path, value), host_name='hv1')
    assert message.startswith('vm_domain_xml: host hv1 is left out') and named.replace(
        'libvirt_host_caps', 'hosts.hv1.libvirt_host_caps', 1).replace('sriov.', 'hosts.hv1.sriov.', 1) in message


def test_an_integer_beyond_64_bits_in_the_facts_is_a_clear_error(host):
    facts = _confuse(host, ('libvirt_host_caps', 'host_info', 'online_cpus'), 2 ** 63)
    assert 'libvirt_host_caps.host_info.online_cpus is an integer of about 20 digits, beyond the 64-bit range' \
        in filter_error(host_resources, facts)
    # Derived without the filter (the module derives from facts it built itself), the
    # shape check bounds the integers the same way.
    with pytest.raises(MalformedFacts) as err:
        derive_resources(facts['libvirt_host_caps'])
    assert 'libvirt_host_caps.host_info.online_cpus is an integer beyond the 64-bit range' in str(err.value)


@pytest.mark.parametrize('call', [host_traits, host_resources, lambda facts: vm_validate([VM], hosts={'hv1': facts})])
def test_a_name_nested_5000_deep_is_a_clear_error(host, call):
    facts = _confuse(host, ('libvirt_host_caps', 'host_info', 'hostname'), deep_list(5000))
    message = filter_error(call, facts)
    assert 'host_info.hostname[0][0]' in message and 'nests more than 64 levels deep' in message


# -- numbers beyond 64 bits -------------------------------------------------------


def test_vcpus_of_5000_digits_is_a_clear_error():
    message = filter_error(vm_validate, [dict(VM, vcpus=10 ** 5000)])
    assert message.startswith('vm_validate: vms[0].vcpus is an integer of about 5,001 digits, beyond the 64-bit range')


@pytest.mark.parametrize('reserved', [{'MEMORY_MB': '9' * 5000}, {'MEMORY_MB': '²'}, {'MEMORY_MB': 1e300}])
def test_a_reserved_amount_beyond_64_bits_is_a_clear_error(host, reserved):
    assert 'reserved[MEMORY_MB]: ' in filter_error(host_resources, host, reserved=reserved)


def test_messages_print_huge_and_deep_values_bounded():
    assert short_repr(10 ** 5000) == '<about 5,001 digits>'
    assert describe(deep_list(5000)) == 'list [[...]]'
    assert len(describe({'k': 'x' * 10 ** 6, 'l': list(range(10 ** 5))})) <= 80


# -- property tests: random and mutated input from real facts and XML --------------

HUGE = 10 ** 400
ODD_VALUES = st.one_of(
    st.sampled_from([None, True, 0, -1, 1.5, float('nan'), float('inf'), '', 'x', '\ud800', [], {}, [{}], [None], ['x'], [7],
                     {'a': 1}, {'machine': 7}, 2 ** 63 - 1, 2 ** 63, -2 ** 63 - 1, HUGE, '9' * 5000]),
    st.integers(min_value=1, max_value=200).map(deep_list),
    st.text(max_size=20),
    st.integers(),
)


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):
            yield from _paths(item, path + (index,))


def _mutate(value, path, new):
    holder = value
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = new


def assert_result_or_ansible_error(call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except AnsibleError as exc:
        # The message itself must be printable and bounded.
        assert len(str(exc)) < 5000


with open(FACTDB_FIXTURE) as _handle:
    _REAL = json.load(_handle)
REAL_HOST = {'libvirt_host_caps': _REAL['libvirt_host_caps'], 'sriov': _REAL['sriov']}
HOST_PATHS = [path for path in _paths(REAL_HOST) if path]
CATALOG = {
    'resource_classes': [{'name': 'small', 'vcpus': 2, 'memory_mb': 2048, 'disk_gb': 10, 'required_traits': ['COMPUTE_FIRMWARE_UEFI']}],
    'hardware_traits': [{'name': 'CUSTOM_BIG', 'query': 'libvirt_host_caps.memory_info.total_mb >= `1024`'},
                        {'name': 'CUSTOM_X86', 'query': "starts_with(libvirt_host_caps.host_info.arch, 'x86')"}],
    'qos_policies': [{'name': 'gold', 'cpu': {'shares': 2048}}],
    'placement_policies': [{'name': 'spread', 'strategy': 'spread', 'reserved': {'MEMORY_MB': 1024}}],
}
CATALOG_PATHS = [path for path in _paths(CATALOG) if path]
VMS = [dict(VM, resource_class=None, required_traits=['CUSTOM_BIG'], hugepages='2M', firmware='efi', secure_boot=True, tpm='2.0',
            sriov_vfs=1, pci_devices=[{'vendor': '8086', 'device': '1593'}], disks=[{'pool': 'default', 'size_gb': 1, 'bus': 'virtio'}],
            networks=[{'network': 'default'}], cpu={'mode': 'custom', 'model': 'EPYC', 'features': ['avx2']}),
       {'name': 'db01', 'resource_class': 'small', 'machine': 'q35', 'memory_encryption': 'sev'}]
VM_PATHS = [path for path in _paths(VMS) if path]
QUERIES = st.sampled_from([DEEP_QUERY, STRING_NUMBER_QUERY, 'libvirt_host_caps.host_info.arch > libvirt_host_caps.host_info.threads',
                           "contains(libvirt_host_caps.traits, 'HW_CPU_X86_AVX2')", 'sort(libvirt_host_caps.*)', 'max_by(sriov.*, &x)',
                           'sum(libvirt_host_caps.memory_info.page_sizes_kb)', '!!!', ''])


def _mutated_host(data):
    """REAL_HOST with one to four values replaced by odd ones."""
    host = copy.deepcopy(REAL_HOST)
    for dummy in range(data.draw(st.integers(min_value=1, max_value=4))):
        try:
            _mutate(host, data.draw(st.sampled_from(HOST_PATHS)), data.draw(ODD_VALUES))
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation replaced the container on this path
    return host


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_host_filters_on_mutated_real_facts_give_a_result_or_an_ansible_error(data):
    host = _mutated_host(data)
    custom = [{'name': 'CUSTOM_Q', 'query': data.draw(QUERIES)}]
    assert_result_or_ansible_error(host_traits, host, custom_traits=custom)
    assert_result_or_ansible_error(host_resources, host, reserved=data.draw(st.sampled_from([None, {'VCPU': 2}, {'VCPU': HUGE}])))
    catalog = dict(CATALOG, hardware_traits=CATALOG['hardware_traits'] + [dict(custom[0], name='CUSTOM_Q')])
    assert_result_or_ansible_error(vm_validate, VMS, catalog=catalog, hosts={'hv1': host, 'hv2': REAL_HOST}, detail='all')
    assert_result_or_ansible_error(vm_domain_xml, VM, host=host, catalog=catalog)


with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'roles', 'compliance', 'vars',
                       'main.yml')) as _handle:
    BASELINE = yaml.safe_load(_handle)['compliance_baseline_rules']
NOW = '2026-12-03T20:00:00Z'


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_fleet_filters_on_mutated_real_facts_give_a_result_or_an_ansible_error(data):
    host = _mutated_host(data)
    hosts = {'hv1': {'ansible_facts': host}, 'hv2': {'ansible_facts': REAL_HOST}, 'hv3': {}}
    rules = BASELINE + [{'name': 'custom_q', 'description': 'a query drawn', 'severity': 'error', 'jmespath': data.draw(QUERIES)}]
    try:
        results = compliance_evaluate(hosts, rules=rules, now=NOW, max_age='1d')
    except AnsibleError as exc:
        assert len(str(exc)) < 5000
    else:
        for kind in ('junit', 'html', 'json', 'table'):
            assert_result_or_ansible_error(compliance_report, results, format=kind)
    assert_result_or_ansible_error(fleet_report_html, hosts, generated_at=NOW, max_age='1d')
    assert_result_or_ansible_error(discovery_due, host, max_age='1d', now=NOW)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_catalog_and_vm_filters_on_mutated_definitions_give_a_result_or_an_ansible_error(data):
    catalog, vms = copy.deepcopy(CATALOG), copy.deepcopy(VMS)
    for dummy in range(data.draw(st.integers(min_value=1, max_value=3))):
        target, paths = data.draw(st.sampled_from([(catalog, CATALOG_PATHS), (vms, VM_PATHS)]))
        try:
            _mutate(target, data.draw(st.sampled_from(paths)), data.draw(st.one_of(ODD_VALUES, QUERIES)))
        except (KeyError, IndexError, TypeError):
            pass
    assert_result_or_ansible_error(catalog_validate, catalog)
    assert_result_or_ansible_error(vm_validate, vms, catalog=catalog, hosts={'hv1': REAL_HOST})
    for definition in vms:
        assert_result_or_ansible_error(vm_domain_xml, definition, host=REAL_HOST, catalog=catalog)


ODD_TEXT = st.one_of(
    st.sampled_from(['', 'abc', '-1', '0x10', '1e400', 'nan', '9' * 21, '9' * 400, '9' * 5000, '\ud800', '\udc00x', ' 7 ', '٣']),
    st.text(alphabet='0123456789-+. xKMGiB', max_size=25),
)
ATTRIBUTE_RE = re.compile(r"""(?<==')[^']*(?=')""")
TEXT_RE = re.compile(r'(?<=>)[^<>]+(?=</)')
XML_FIXTURES = {
    'caps': read_fixture(CAPS), 'domcaps': read_fixture(DOMCAPS), 'nodedev': read_fixture(NODEDEV),
    'vf': read_fixture('intel-e810-vf.nodedev.xml'), 'domain': read_fixture('web01-hostdev-vf.domain.xml'),
}
XML_SPANS = dict((name, [m.span() for m in ATTRIBUTE_RE.finditer(xml)] + [m.span() for m in TEXT_RE.finditer(xml)])
                 for name, xml in XML_FIXTURES.items())


def _mutated_xml(data, name):
    xml = XML_FIXTURES[name]
    spans = sorted(set(data.draw(st.lists(st.sampled_from(XML_SPANS[name]), min_size=1, max_size=3))), reverse=True)
    for start, end in spans:
        xml = xml[:start] + data.draw(ODD_TEXT) + xml[end:]
    if data.draw(st.booleans()):
        depth = data.draw(st.sampled_from([5, 70, 3000]))
        xml = xml.replace('>', '>' + '<n>' * depth + '</n>' * depth, 1) if name != 'caps' else xml.replace(
            '<cpu>', '<cpu>' + '<n>' * depth + '</n>' * depth, 1)
    return xml


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_xml_filters_on_mutated_real_libvirt_xml_give_a_result_or_an_ansible_error(data):
    facts = None
    try:
        facts = caps_from_xml(_mutated_xml(data, 'caps'), [_mutated_xml(data, 'domcaps')])
    except AnsibleError:
        pass
    try:
        sriov = sriov_from_xml([_mutated_xml(data, 'nodedev'), _mutated_xml(data, 'vf')], domains=[_mutated_xml(data, 'domain')])
    except AnsibleError:
        sriov = None
    if facts is not None:
        # What the parsers let through must be facts the consumers take.
        assert_result_or_ansible_error(host_traits, facts, sriov=sriov)
        assert_result_or_ansible_error(host_resources, facts, sriov=sriov)
        assert_result_or_ansible_error(vm_validate, VMS, catalog=CATALOG, hosts={'hv1': {'libvirt_host_caps': facts, 'sriov': sriov}})
