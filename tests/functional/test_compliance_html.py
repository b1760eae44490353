# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compliance HTML report (module_utils/report/compliance_html.py) in headless
Chromium: no console error, the matrix has one cell per host x rule, sorting and filtering
work, and a click on a failing cell shows the fact behind it. The hosts are a live Debian
12 KVM host as the factdb cache kept it, a copy of it with a hostile name, and a host
without facts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from browser import browser  # noqa: F401  pylint: disable=unused-import

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.compliance import evaluate
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report.compliance_html import compliance_html

FACTDB = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'unit', 'fixtures', 'factdb',
                      'debian12-kvm-host.facts.json')
HOSTILE = u'</script><script>document.title="owned"</script>&"\''
RULES = [
    {'name': 'kvm', 'required_traits': ['CUSTOM_KVM']},
    {'name': 'sev', 'severity': 'critical', 'required_traits': ['HW_CPU_X86_AMD_SEV']},
    {'name': 'iommu', 'severity': 'warning', 'jmespath': 'libvirt_host_caps.security_info.iommu.supported', 'expect': True},
]
WAIVERS = [{'host': 'hv2', 'rule': 'sev', 'reason': 'lab host', 'expires': '2027-01-31'}]


@pytest.fixture(scope='module')
def report(tmp_path_factory):
    with open(FACTDB) as handle:
        live = json.load(handle)
    hosts = {'hv1': {'ansible_facts': live}, 'hv2': {'ansible_facts': live}, HOSTILE: {'ansible_facts': live}, 'gone': None}
    document = evaluate(hosts, RULES, waivers=WAIVERS, now='2026-12-02T18:00:00Z')
    path = tmp_path_factory.mktemp('compliance-html') / 'compliance.html'
    path.write_text(compliance_html(document), encoding='utf-8')
    return str(path), document


def _hosts(browser):
    return browser.run('return Array.from(document.querySelectorAll("#matrix tbody tr")).filter(function (r) { return !r.hidden; })'
                       '.map(function (r) { return r.cells[0].textContent; });')


def test_the_matrix_loads_without_errors_with_a_cell_per_host_and_rule(browser, report):
    path, document = report
    browser.open(path)

    assert browser.console_errors() == []
    assert browser.driver.title == 'Compliance of 4 hosts against 4 rules'
    assert _hosts(browser) == document['hosts'] == [HOSTILE, 'gone', 'hv1', 'hv2']
    assert len(browser.css('#matrix tbody td[class^="c-"]')) == 4 * 4
    row = browser.run('return Array.from(document.querySelector("#matrix tbody tr[data-h=\\"2\\"]").cells)'
                      '.map(function (c) { return c.textContent; });')
    assert row == ['hv1', '2', 'pass', 'pass', 'FAIL', 'FAIL']
    browser.screenshot('compliance-matrix')


def test_a_click_on_a_failing_cell_shows_its_fact(browser, report):
    path, document = report
    browser.open(path)

    browser.css('#matrix tbody tr[data-h="2"] td')[4].click()

    panel = browser.css('#detail')[0]
    assert panel.is_displayed()
    fields = dict((name, browser.css('#detail [data-field="%s"]' % name)[0].text) for name in (
        'host', 'verdict', 'path', 'value', 'message', 'waiver'))
    assert fields == {'host': 'hv1', 'verdict': 'fail', 'path': 'libvirt_host_caps.traits', 'value': '[]',
                      'message': 'libvirt_host_caps.traits lacks HW_CPU_X86_AMD_SEV', 'waiver': ''}
    browser.css('#matrix tbody tr[data-h="3"] td')[4].click()
    assert browser.css('#detail [data-field="verdict"]')[0].text == 'waived'
    assert browser.css('#detail [data-field="waiver"]')[0].text == 'waived until 2027-01-31 (hosts hv2, rule sev): lab host'
    browser.screenshot('compliance-cell-detail')
    assert browser.console_errors() == []


def test_sorting_by_violations_and_filtering_by_verdict_and_text(browser, report):
    path, document = report
    browser.open(path)

    header = browser.css('#matrix thead th')[1]
    header.click()
    header.click()
    assert sorted(_hosts(browser)[:2]) == sorted([HOSTILE, 'hv1'])
    counts = browser.run('return Array.from(document.querySelectorAll("#matrix tbody tr")).map(function (r) { return Number(r.cells[1].textContent); });')
    assert counts == [2, 2, 1, 1]
    from selenium.webdriver.support.ui import Select
    Select(browser.css('select[data-filter="matrix"]')[0]).select_by_value('skipped')
    assert _hosts(browser) == ['gone']
    Select(browser.css('select[data-filter="matrix"]')[0]).select_by_value('waived')
    assert _hosts(browser) == ['hv2']
    Select(browser.css('select[data-filter="matrix"]')[0]).select_by_value('')
    browser.css('input[data-filter="matrix"]')[0].send_keys('hv')
    assert sorted(_hosts(browser)) == ['hv1', 'hv2']
    assert browser.css('[data-count="matrix"]')[0].text == '2'
    assert browser.console_errors() == []
