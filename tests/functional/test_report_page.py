# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The page skeleton of the HTML reports (module_utils/report/html.py) in headless
Chromium: its sorting and filtering script, its escaping, and its offline policy."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from browser import browser  # noqa: F401  pylint: disable=unused-import

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report import html

HOSTILE = u'</script><script>document.title="owned"</script><!-- & "quoted" \u2028 é'

ROWS = [
    # host, cpus, verdicts
    (u'hv10', 64, 'fail'),
    (u'hv9', 8, 'pass'),
    (HOSTILE, 128, 'pass waived'),
    (u'hv2-gpu', 16, 'waived'),
]


@pytest.fixture(scope='module')
def page_file(tmp_path_factory):
    body = [u'<div class="controls">', html.filter_box('hosts', 'Filter hosts'),
            html.filter_select('hosts', 'data-verdicts', 'Verdict', [('pass', 'pass'), ('fail', 'fail'), ('waived', 'waived')]),
            u'<span data-count="hosts">%d</span> shown</div>' % len(ROWS),
            u'<div class="scroll"><table id="hosts">',
            html.sortable_header([('Host', ''), ('CPUs', 'num')]), u'<tbody>']
    for name, cpus, verdicts in ROWS:
        body.append(u'<tr data-verdicts="%s"><td>%s</td><td class="num" data-sort="%d">%d</td></tr>'
                    % (html.esc(verdicts), html.esc(name), cpus, cpus))
    body.append(u'</tbody></table></div>')
    body.append(html.json_data('evidence', {'hosts': [row[0] for row in ROWS]}))
    path = tmp_path_factory.mktemp('page') / 'page.html'
    path.write_text(html.page(u'Hosts <&> "page"', u''.join(body), generated_at='2026-12-03T20:00:00Z'), encoding='utf-8')
    return str(path)


def column(browser, index):
    return browser.run('return Array.from(document.querySelectorAll("#hosts tbody tr"))'
                       '.filter(function (r) { return !r.hidden; }).map(function (r) { return r.cells[%d].textContent; });'
                       % index)


def test_the_page_loads_without_console_errors_and_escapes_every_value(browser, page_file):
    browser.open(page_file)
    assert browser.console_errors() == []
    assert browser.driver.title == u'Hosts <&> "page"'
    assert column(browser, 0) == [row[0] for row in ROWS]
    embedded = browser.run('return JSON.parse(document.getElementById("evidence").textContent);')
    assert embedded == {'hosts': [row[0] for row in ROWS]}
    browser.screenshot('report-page')


def test_a_header_click_sorts_numbers_as_numbers_then_reverses(browser, page_file):
    browser.open(page_file)
    header = browser.css('#hosts th')[1]
    header.click()
    assert column(browser, 1) == ['8', '16', '64', '128']
    assert header.get_attribute('aria-sort') == 'ascending'
    header.click()
    assert column(browser, 1) == ['128', '64', '16', '8']
    browser.css('#hosts th')[0].click()
    assert column(browser, 0) == [HOSTILE, 'hv2-gpu', 'hv9', 'hv10']


def test_the_text_box_and_the_choice_filter_rows_together(browser, page_file):
    browser.open(page_file)
    box = browser.css('input[data-filter="hosts"]')[0]
    box.send_keys('hv')
    assert column(browser, 0) == ['hv10', 'hv9', 'hv2-gpu']
    from selenium.webdriver.support.ui import Select
    Select(browser.css('select[data-filter="hosts"]')[0]).select_by_value('waived')
    assert column(browser, 0) == ['hv2-gpu']
    assert browser.css('[data-count="hosts"]')[0].text == '1'
    box.clear()
    browser.run('arguments[0].dispatchEvent(new Event("input"));', box)
    assert column(browser, 0) == [HOSTILE, 'hv2-gpu']
    assert browser.console_errors() == []


def test_a_resource_from_the_network_is_refused_by_the_page_policy(browser, tmp_path):
    path = tmp_path / 'remote.html'
    path.write_text(html.page('remote', '<img src="http://192.0.2.1/x.png" alt="x">'), encoding='utf-8')
    browser.open(str(path))
    errors = browser.console_errors()
    assert any('Content Security Policy' in entry['message'] for entry in errors), errors
