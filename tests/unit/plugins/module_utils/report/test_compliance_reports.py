# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The writers of a compliance results document (report/junit.py, compliance_json.py,
compliance_html.py, compliance_text.py): one JUnit testcase per host x rule that lxml and
junitparser parse back whatever the host names and messages hold, and an HTML matrix whose
embedded data says what the JSON says."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.compliance import evaluate
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report.compliance_html import compliance_html
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report.compliance_json import compliance_json
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report.compliance_text import compliance_table
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report.junit import junit_xml
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report.text import xml_safe

junitparser = pytest.importorskip('junitparser')
etree = pytest.importorskip('lxml.etree')
lxml_html = pytest.importorskip('lxml.html')

FACTDB = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'fixtures', 'factdb',
                      'debian12-kvm-host.facts.json')
NOW = '2026-12-02T18:00:00Z'
HOSTILE = [
    u'hv1',
    u'evil]]><x>&amp;"\'<',
    u'ctl\x00\x01\x08\x0b\x0c\x1b\x7f-host',
    u'bad-bytes-\udcff\udcfe',  # what surrogateescape makes of undecodable bytes
    u'\ufffe\uffff-nonchars',
    u'</script><script>alert(1)</script>',
    u'long-' + u'x' * 5000,
    u'unicode-\u00e9\u4e2d\U0001f600\u2028',
]
RULES = [
    {'name': 'kvm', 'required_traits': ['CUSTOM_KVM']},
    {'name': 'sev', 'severity': 'warning', 'required_traits': ['HW_CPU_X86_AMD_SEV']},
    # Fails with a message that holds the hostile text: the JMESPath literal is echoed.
    {'name': u'hostile', 'description': u'</th><b>]]>\x01', 'severity': 'critical', 'jmespath': u"libvirt_host_caps.host_info.arch == 'x]]><&\"\x01'"},
    {'name': 'lab', 'applies_to': {'hosts': ['hv*']}, 'min_libvirt_version': '99'},
    {'name': 'age', 'max_age': '1h'},
]


@pytest.fixture(scope='module')
def live():
    with open(FACTDB) as handle:
        return json.load(handle)


@pytest.fixture(scope='module')
def document(live):
    hosts = dict((name, {'ansible_facts': live}) for name in HOSTILE)
    hosts[u'no-facts-\x02'] = None
    waivers = [{'host': u'evil*', 'rule': 'sev', 'reason': u'reason with ]]> & <b> \x03', 'expires': '2027-01-01'},
               {'host': u'hv1', 'rule': 'sev', 'reason': 'expired', 'expires': '2020-01-01'}]
    return evaluate(hosts, RULES, waivers=waivers, now=NOW)


def test_the_document_covers_every_verdict(document):
    assert set(r['verdict'] for r in document['results']) == {'pass', 'fail', 'waived', 'not_applicable', 'skipped'}


def test_junit_has_one_testcase_per_host_and_rule_and_parses_back(document):
    text = junit_xml(document)

    root = etree.fromstring(text.encode('utf-8'))
    cases = root.findall('testsuite/testcase')
    assert len(cases) == len(document['hosts']) * len(document['rules']) == 9 * 6
    parsed = junitparser.JUnitXml.fromstring(text.encode('utf-8'))
    suites = list(parsed)
    assert [suite.name for suite in suites] == [xml_safe(rule['name']) for rule in document['rules']]
    assert sum(len(list(suite)) for suite in suites) == 54
    assert parsed.tests == 54
    assert sum(suite.failures for suite in suites) == sum(1 for r in document['results'] if r['verdict'] == 'fail')
    assert sum(suite.skipped for suite in suites) == sum(1 for r in document['results'] if r['verdict'] in (
        'waived', 'not_applicable', 'skipped'))
    # Host names come back as written, with what XML cannot hold shown as escapes.
    names = set(case.name for suite in suites for case in suite)
    assert u'evil]]><x>&amp;"\'<' in names
    assert u'ctl\\x00\\x01\\x08\\x0b\\x0c\\x1b\x7f-host' in names
    assert u'bad-bytes-\\udcff\\udcfe' in names
    assert u'\\ufffe\\uffff-nonchars' in names
    assert u'unicode-\u00e9\u4e2d\U0001f600\u2028' in names
    assert u'long-' + u'x' * 5000 not in names and any(name.startswith(u'long-xxx') and name.endswith('...') for name in names)


def test_junit_failure_names_the_fact_path_and_value(document):
    parsed = junitparser.JUnitXml.fromstring(junit_xml(document).encode('utf-8'))
    cases = dict(((suite.name, case.name), case) for suite in parsed for case in suite)

    failure = cases[('hostile', 'hv1')].result[0]
    assert isinstance(failure, junitparser.Failure)
    assert failure.type == 'critical'
    assert failure.message == (u'libvirt_host_caps.host_info.arch == \'x]]><&"\\x01\' is false; expected a true value '
                               u'(not false, null or empty)')
    assert 'fact: libvirt_host_caps.host_info.arch' in failure.text and 'value: false' in failure.text
    expired = cases[('sev', 'hv1')].result[0]
    assert isinstance(expired, junitparser.Failure) and 'waiver expired on 2020-01-01: expired' in expired.message


def test_junit_skipped_carries_the_reason_and_the_expiry(document):
    parsed = junitparser.JUnitXml.fromstring(junit_xml(document).encode('utf-8'))
    cases = dict(((suite.name, case.name), case) for suite in parsed for case in suite)

    waived = cases[('sev', u'evil]]><x>&amp;"\'<')].result[0]
    assert isinstance(waived, junitparser.Skipped) and waived.type == 'waived'
    assert waived.message.endswith(u'(waived until 2027-01-01: reason with ]]> & <b> \\x03)')
    not_applicable = cases[('lab', u'unicode-\u00e9\u4e2d\U0001f600\u2028')].result[0]
    assert isinstance(not_applicable, junitparser.Skipped) and not_applicable.type == 'not_applicable'
    skipped = cases[('kvm', u'no-facts-\\x02')].result[0]
    assert skipped.message == 'not evaluated: facts missing or stale (see facts_fresh)'
    assert cases[('kvm', 'hv1')].result == []


def test_junit_messages_are_bounded():
    long_message = {'host': 'h', 'rule': 'r', 'severity': 'error', 'verdict': 'fail', 'message': u'm' * 100000,
                    'evidence': {'path': 'p', 'value': u'v' * 100000}, 'waiver': None}
    document = {'rules': [{'name': 'r'}], 'results': [long_message], 'generated_at': NOW}

    text = junit_xml(document)

    assert len(text) < 10000
    assert etree.fromstring(text.encode('utf-8')).find('testsuite/testcase/failure') is not None


def test_the_json_is_the_document(document):
    text = compliance_json(document)

    assert json.loads(text) == json.loads(json.dumps(document))
    assert text.count('\n{"evidence":') == len(document['results'])
    text.encode('ascii')


def _embedded(text):
    page = lxml_html.fromstring(text)
    return page, json.loads(page.get_element_by_id('compliance-data').text)


def test_the_html_matrix_agrees_with_the_json(document):
    text = compliance_html(document)
    from_json = json.loads(compliance_json(document))

    page, data = _embedded(text)
    assert data['hosts'] == [xml_safe(host, 1024) for host in from_json['hosts']]
    assert [rule['name'] for rule in data['rules']] == [xml_safe(rule['name']) for rule in from_json['rules']]
    rows = page.get_element_by_id('matrix').find('tbody').findall('tr')
    assert len(rows) == len(from_json['hosts'])
    for result in from_json['results']:
        h, r = from_json['hosts'].index(result['host']), [rule['name'] for rule in from_json['rules']].index(result['rule'])
        verdict, severity, message, path, value, waiver = data['details'][data['matrix'][h][r]]
        assert (verdict, severity) == (result['verdict'], result['severity'])
        assert message == xml_safe(result['message'], 2000)
        assert path == (xml_safe(result['evidence']['path']) if result['evidence'] else None)
        assert (waiver is None) == (result['waiver'] is None)
        row = [row for row in rows if row.get('data-h') == str(h)][0]
        cell = row.findall('td')[2 + r]
        assert cell.get('class') == 'c-%s%s' % ({'not_applicable': 'n'}.get(result['verdict'], result['verdict'][0]),
                                                result['severity'][0])
        assert result['verdict'] in row.get('data-verdicts').split()


def test_the_html_is_one_offline_file_with_everything_escaped(document):
    text = compliance_html(document)

    assert '<script src' not in text and '<link' not in text and 'http://' not in text and 'https://' not in text
    # The embedded JSON cannot end its script element, and no host's markup gets in.
    data_element = text[text.index('id="compliance-data">'):]
    data_element = data_element[:data_element.index('</script>')]
    assert '</' not in data_element and '<script>alert' not in data_element
    assert text.count('<script>alert(1)') == 0
    assert '&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;' in text
    text.encode('utf-8')


def test_the_play_output_table_has_one_line_per_rule(document):
    lines = compliance_table(document).splitlines()

    assert lines[0].split()[:3] == ['RULE', 'SEVERITY', 'PASS']
    assert [line.split()[0] for line in lines[1:-1]] == [xml_safe(rule['name'], 60) for rule in document['rules']]
    assert lines[1].split()[:4] == ['facts_fresh', 'error', '8', '1']
    assert lines[-1].startswith('9 host(s) x 6 rule(s): ')
