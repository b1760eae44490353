# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report (fleet_report_html) in headless Chromium: a fleet of twelve hosts from
the real fixtures, one with facts older than max_age, one without facts and one with a
hostile name, plus a drift list. The page loads without console errors, its heat map and
trait matrix have the cells the model says, and sorting and filtering work."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from browser import browser  # noqa: F401  pylint: disable=unused-import

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report.fleet import build_fleet
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report.fleet_html import render_fleet
from ansible_collections.virtumancer.hostcaps.tests.unit.report_fleet import fleet, host

NOW = '2026-12-03T20:00:00Z'
HOSTILE = u'</script><script>document.title="owned"</script>"hv\''
DRIFT = {
    'hv0000': [{'path': 'libvirt_host_caps.memory_info.total_mb', 'op': 'changed', 'old': 257430, 'new': 128715},
               {'path': 'libvirt_host_caps.traits', 'op': 'removed', 'old': 'HW_CPU_X86_AMD_SEV'}],
    'hv0005': [{'path': 'libvirt_host_caps', 'op': 'added', 'new': {}}],
    'hv0002': [],
}


@pytest.fixture(scope='module')
def report(tmp_path_factory):
    hosts = fleet(12)
    hosts['hv-old'] = host('tdx', 7, collected_at='2026-11-01T00:00:00Z')
    hosts['hv-none'] = None
    hosts[HOSTILE] = host('sev', 9)
    model = build_fleet(hosts, drift=DRIFT, drift_since='2026-11-26', max_age='1d', now=NOW, title='Fleet <test>')
    path = tmp_path_factory.mktemp('fleet') / 'fleet.html'
    path.write_text(render_fleet(model), encoding='utf-8')
    return model, str(path)


def _column(browser, table, index):  # pylint: disable=redefined-outer-name
    return browser.run('return Array.from(document.querySelectorAll("#%s tbody tr")).filter(function (r) { return !r.hidden; })'
                       '.map(function (r) { return r.cells[%d].textContent; });' % (table, index))


def test_the_report_loads_without_errors_with_every_section(browser, report):  # noqa: F811  pylint: disable=redefined-outer-name
    model, path = report
    browser.open(path)
    assert browser.console_errors() == []
    assert browser.driver.title == 'Fleet <test>'
    assert [e.get_attribute('id') for e in browser.css('h2')] == ['attention', 'capacity', 'heatmap', 'traits', 'inventory', 'drift']
    assert len(browser.css('#totals-chart g')) == len(model['classes'])
    browser.screenshot('fleet-report')


def test_the_heat_map_has_hosts_by_classes_cells(browser, report):  # noqa: F811  pylint: disable=redefined-outer-name
    model, path = report
    browser.open(path)
    names = [entry['name'] for entry in model['hosts']]
    assert _column(browser, 'heatmap-table', 0) == names
    assert len(browser.css('#heatmap-table tbody td.u')) == len(names) * len(model['classes'])
    cell = browser.css('#heatmap-table tbody tr:nth-child(%d) td.u' % (names.index('hv0001') + 1))[0]
    vcpu = model['hosts'][names.index('hv0001')]['resources']['VCPU']
    assert cell.text == '%d%%' % round(vcpu['utilisation'] * 100)
    assert cell.get_attribute('title').startswith('VCPU: %d used of %d' % (vcpu['used'], vcpu['capacity']))


def test_the_trait_matrix_has_the_expected_cells(browser, report):  # noqa: F811  pylint: disable=redefined-outer-name
    model, path = report
    browser.open(path)
    traits = browser.run('return Array.from(document.querySelectorAll("#trait-table thead th")).slice(1).map(function (c) { return c.textContent; });')
    marks = browser.run('return Array.from(document.querySelectorAll("#trait-table tbody tr")).map(function (r) {'
                        ' return [r.cells[0].textContent, Array.from(r.cells).slice(1).map(function (c) { return c.textContent; })]; });')
    offered = dict((entry['name'], set(entry['traits'])) for entry in model['hosts'])
    assert [name for name, cells in marks] == [entry['name'] for entry in model['hosts']]
    for name, cells in marks:
        assert [trait for trait, cell in zip(traits, cells) if cell] == sorted(offered[name] & set(traits)), name


def test_sorting_a_heat_map_column_orders_hosts_by_utilisation(browser, report):  # noqa: F811  pylint: disable=redefined-outer-name
    model, path = report
    browser.open(path)
    index = 2 + model['classes'].index('MEMORY_MB')
    header = browser.css('#heatmap-table thead th')[index]

    def expected(reverse):
        keyed = [(-1 if (e['resources'].get('MEMORY_MB') or {}).get('utilisation') is None else e['resources']['MEMORY_MB']['utilisation'],
                  e['name']) for e in model['hosts']]
        return [value for value, name in sorted(keyed, key=lambda item: item[0], reverse=reverse)]

    def shown():
        return [float(v) for v in browser.run('return Array.from(document.querySelectorAll("#heatmap-table tbody tr"))'
                                              '.map(function (r) { return r.cells[%d].getAttribute("data-sort"); });' % index)]
    header.click()
    assert shown() == pytest.approx(expected(False), abs=1e-4)
    header.click()
    assert shown() == pytest.approx(expected(True), abs=1e-4)
    assert header.get_attribute('aria-sort') == 'descending'


def test_filters_keep_the_hosts_asked_for(browser, report):  # noqa: F811  pylint: disable=redefined-outer-name
    model, path = report
    browser.open(path)
    from selenium.webdriver.support.ui import Select
    Select(browser.css('select[data-filter="heatmap-table"]')[0]).select_by_value('no_facts')
    assert _column(browser, 'heatmap-table', 0) == ['hv-none']
    box = browser.css('input[data-filter="trait-table"]')[0]
    box.send_keys('hv00')
    assert len(_column(browser, 'trait-table', 0)) == 12
    choice = Select(browser.css('select[data-filter="trait-table"]')[0])
    choice.select_by_visible_text('HW_CPU_X86_AMD_SEV')
    sev = [e['name'] for e in model['hosts'] if 'HW_CPU_X86_AMD_SEV' in e['traits'] and e['name'].startswith('hv00')]
    assert _column(browser, 'trait-table', 0) == sev and len(sev) == 3
    assert browser.css('[data-count="trait-table"]')[0].text == '3'
    Select(browser.css('select[data-filter="drift-table"]')[0]).select_by_value('new')
    assert _column(browser, 'drift-table', 0) == ['hv0005']
    assert browser.console_errors() == []
