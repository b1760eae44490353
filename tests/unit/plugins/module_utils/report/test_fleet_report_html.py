# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report page (module_utils/report/fleet_html.py), read back with an HTML
parser: its tables hold what the model says, and no value from hosts, traits, devices or
the history can add markup."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from html.parser import HTMLParser

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.filter.fleet_report_html import fleet_report_html
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report.fleet import build_fleet
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report.fleet_html import render_fleet
from ansible_collections.virtumancer.hostcaps.tests.unit.report_fleet import fleet, host

NOW = '2026-12-03T20:00:00Z'
HOSTILE = u'<script>alert("host")</script>&\'hv\u2028'
HOSTILE_TRAIT = u'CUSTOM_<img src=x onerror=alert(1)>'
HOSTILE_DEVICE = u'</td></tr></table><b onmouseover="alert(2)">GPU</b>'
HOSTILE_VALUE = u'</script><svg onload=alert(3)>'


class Page(HTMLParser):
    """Tables by id, as rows of (tag, attributes, text) cells, and every tag seen."""

    def __init__(self, text):
        HTMLParser.__init__(self, convert_charrefs=True)
        self.tables, self.tags, self._table, self._row, self._cell = {}, [], None, None, None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == 'table':
            self._table = self.tables.setdefault(attrs.get('id'), [])
        elif tag == 'tr' and self._table is not None:
            self._row = [attrs]
            self._table.append(self._row)
        elif tag in ('td', 'th') and self._row is not None:
            self._cell = [tag, attrs, '']
            self._row.append(self._cell)

    def handle_endtag(self, tag):
        if tag in ('td', 'th'):
            self._cell = None
        elif tag == 'table':
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[2] += data

    def body_rows(self, table):
        """Rows after the header row: (row attributes, [(tag, attributes, text)])."""
        return [(row[0], row[1:]) for row in self.tables[table][1:]]

    def header(self, table):
        return [cell[2] for cell in self.tables[table][0][1:]]


def hostile_fleet():
    hosts = fleet(4)
    evil = host('gpu', 2)
    evil['ansible_facts']['libvirt_host_caps']['traits'].append(HOSTILE_TRAIT)
    evil['ansible_facts']['sriov']['passthrough_devices'][0]['device_name'] = HOSTILE_DEVICE
    hosts[HOSTILE] = evil
    hosts['hv-none'] = None
    return hosts


DRIFT = {HOSTILE: [{'path': 'libvirt_host_caps.host_info["<b>"]', 'op': 'changed', 'old': HOSTILE_VALUE, 'new': {'x': HOSTILE_VALUE}},
                   {'path': 'libvirt_host_caps.traits', 'op': 'added', 'new': HOSTILE_TRAIT}],
         'hv0001': [{'path': 'libvirt_host_caps', 'op': 'added', 'new': {}}]}


@pytest.fixture(scope='module')
def model():
    return build_fleet(hostile_fleet(), drift=DRIFT, drift_since='2026-11-26', max_age='1d', now=NOW)


@pytest.fixture(scope='module')
def text(model):  # pylint: disable=redefined-outer-name
    return render_fleet(model)


@pytest.fixture(scope='module')
def page(text):  # pylint: disable=redefined-outer-name
    return Page(text)


def test_no_hostile_value_reaches_the_markup(text, page):  # pylint: disable=redefined-outer-name
    for value in (HOSTILE, HOSTILE_TRAIT, HOSTILE_DEVICE, HOSTILE_VALUE, 'alert('):
        assert value not in text or value == 'alert(' and '<script>alert' not in text
    assert text.count('<script') == 1  # the page's own script
    assert not [(tag, attrs) for tag, attrs in page.tags if any(name.startswith('on') for name in attrs)]
    assert not [tag for tag, attrs in page.tags if tag in ('img', 'iframe', 'object', 'embed')]
    # And they are shown as text, whole.
    heat = [cells[0][2] for attrs, cells in page.body_rows('heatmap-table')]
    assert HOSTILE in heat
    assert HOSTILE_TRAIT in page.header('trait-table')
    assert any(HOSTILE_DEVICE in cell[2] for attrs, cells in page.body_rows('device-table') for cell in cells)
    assert any(HOSTILE_VALUE == cell[2] for attrs, cells in page.body_rows('drift-table') for cell in cells)


def test_nothing_is_loaded_from_elsewhere(page):  # pylint: disable=redefined-outer-name
    for tag, attrs in page.tags:
        for name in ('src', 'href', 'action', 'data'):
            assert not attrs.get(name) or attrs[name].startswith('#'), (tag, attrs)
        if tag == 'svg':
            assert attrs['xmlns'] == 'http://www.w3.org/2000/svg'  # a namespace name, never fetched


def test_the_heat_map_has_a_cell_per_host_and_class_coloured_by_utilisation(model, page):  # pylint: disable=redefined-outer-name
    assert page.header('heatmap-table') == ['Host', 'State'] + model['classes']
    rows = page.body_rows('heatmap-table')
    assert [cells[0][2] for attrs, cells in rows] == [entry['name'] for entry in model['hosts']]
    for (attrs, cells), entry in zip(rows, model['hosts']):
        assert attrs['data-state'] == entry['state']
        for cell, name in zip(cells[2:], model['classes']):
            found = entry['resources'].get(name)
            if found is None or found['utilisation'] is None:
                assert cell[1]['class'] == 'u un'
                continue
            ratio = found['utilisation']
            expected = 'ux' if ratio > 1 else 'u%d' % min(int(ratio * 10), 9)
            assert cell[1]['class'] == 'u ' + expected, (entry['name'], name)
            assert cell[2] == '%d%%' % round(ratio * 100)
            assert cell[1]['title'].startswith('%s: %s used of %s = (total %s - reserved %s)' % (
                name, format(found['used'], ','), format(int(found['capacity']), ','), format(found['total'], ','), found['reserved']))


def test_the_host_without_facts_is_in_every_host_table(page):  # pylint: disable=redefined-outer-name
    heat = dict((cells[0][2], cells) for attrs, cells in page.body_rows('heatmap-table'))
    assert heat['hv-none'][1][2] == 'no facts' and set(cell[2] for cell in heat['hv-none'][2:]) == {'-'}
    assert 'hv-none' in [cells[0][2] for attrs, cells in page.body_rows('trait-table')]
    assert [cells[1][2] for attrs, cells in page.body_rows('attention-table') if cells[0][2] == 'hv-none'] == ['no facts']


def test_the_trait_matrix_marks_what_each_host_offers(model, page):  # pylint: disable=redefined-outer-name
    traits = page.header('trait-table')[1:]
    with_facts = [entry for entry in model['hosts'] if entry['traits']]
    # Only the traits that tell hosts apart are columns; the others are listed once.
    assert traits == sorted(t for t, n in model['traits'] if n < len(with_facts))
    assert 'HW_CPU_X86_AMD_SEV' in traits and 'COMPUTE_ARCH_X86_64' not in traits
    offered = dict((entry['name'], set(entry['traits'])) for entry in model['hosts'])
    for attrs, cells in page.body_rows('trait-table'):
        marks = [trait for trait, cell in zip(traits, cells[1:]) if cell[2] == u'\u25cf']
        assert marks == sorted(offered[cells[0][2]] & set(traits)), cells[0][2]
        # The tokens the "Offers" choice filters on name the same columns.
        assert sorted(traits[int(token, 16)] for token in attrs['data-t'].split()) == marks


def test_the_inventory_tables_hold_the_functions_and_devices(model, page):  # pylint: disable=redefined-outer-name
    assert len(page.body_rows('pf-table')) == len(model['physical_functions'])
    devices = page.body_rows('device-table')
    assert len(devices) == len(model['passthrough_devices'])
    assert [cells[7][2] for attrs, cells in devices if cells[3][2] == 'NVIDIA Corporation GA102GL [A10]'] == ['yes', 'yes']
    assert re.search(r'<svg class="chart" id="gpu-chart"', render_fleet(model))


def test_the_drift_table_shows_changes_traits_and_new_hosts(page):  # pylint: disable=redefined-outer-name
    rows = [(attrs['data-op'], [cell[2] for cell in cells]) for attrs, cells in page.body_rows('drift-table')]
    assert ('new', ['hv0001', '(the whole host)', 'new', 'first recorded after 2026-11-26T00:00:00Z: every fact is new']) in rows
    assert ('added', [HOSTILE, 'traits', 'added', '', HOSTILE_TRAIT]) in rows
    assert ('changed', [HOSTILE, 'libvirt_host_caps.host_info["<b>"]', 'changed', HOSTILE_VALUE, '{"x": "%s"}' % HOSTILE_VALUE]) in rows


def test_a_long_drift_value_is_cut_in_the_cell():
    long_value = 'x' * 1000
    text = render_fleet(build_fleet(fleet(1), drift={'hv0000': [{'path': 'a.b', 'op': 'removed', 'old': long_value}]},
                                    drift_since='7d', now=NOW))
    assert long_value not in text and 'x' * 157 + '...' in text


def test_the_filter_gives_the_same_page_as_the_module_utils():
    hosts = fleet(3)
    assert fleet_report_html(hosts, generated_at=NOW, max_age='1d', title='T') == render_fleet(
        build_fleet(hosts, now=NOW, max_age='1d', title='T'))


def test_the_filter_names_a_wrong_argument():
    from ansible.errors import AnsibleFilterError
    with pytest.raises(AnsibleFilterError, match="^fleet_report_html: max_age: string 'soon' is not a duration"):
        fleet_report_html({}, max_age='soon')
