# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role virtumancer.hostcaps.report, through the playbook virtumancer.hostcaps.report,
on every supported ansible-core, with the factdb cache on SQLite.

Three hypervisors: hv-system is this machine (qemu:///system), hv-test libvirt's test
driver with a node XML of its own, hv-down a libvirt socket that does not exist. The first
run discovers all three in the same play; between the runs hv-test's node XML doubles its
CPUs and memory; the second run discovers hv-test only, so hv-system's facts are the ones
read back from the cache, and its report counts the changes since a moment between the two
runs. A third run in check mode, without drift, writes nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math
import os
import re
import stat
import time

import pytest

from browser import browser  # noqa: F401  pylint: disable=unused-import
from conftest import Ansible, Backend

INVENTORY = """[hypervisors]
hv-system ansible_connection=local hostcaps_libvirt_uri=qemu:///system
hv-test ansible_connection=local hostcaps_libvirt_uri=test://%s
hv-down ansible_connection=local hostcaps_libvirt_uri=qemu:///system?socket=/nonexistent/libvirt-sock
"""
HOSTS = ['hv-down', 'hv-system', 'hv-test']
NODE = """<node>
  <cpu><mhz>2400</mhz><model>x86_64</model><active>%(cpus)d</active><nodes>1</nodes><sockets>1</sockets>
    <cores>%(cpus)d</cores><threads>1</threads></cpu>
  <memory>%(kib)d</memory>
</node>
"""


def _node(path, cpus):
    with open(path, 'w') as handle:
        handle.write(NODE % {'cpus': cpus, 'kib': cpus * 2 * 1024 * 1024})


def _summary_lines(output):
    shown = output.split('report : Show the summary of the fleet report]')[1]
    start = shown.index('{')
    return json.loads(shown[start:shown.index('\n}\n', start) + 2])['msg']


@pytest.fixture(scope='module')
def runs(core, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp('report-%s' % core.version))
    store = Backend('sqlite', os.path.join(workdir, 'store', 'facts.db'), os.path.join(workdir, 'store', 'facts.db'))
    node = os.path.join(workdir, 'node.xml')
    _node(node, 4)
    runner = Ansible(core, store.connection, workdir)
    runner.inventory = os.path.join(workdir, 'fleet.ini')
    with open(runner.inventory, 'w') as handle:
        handle.write(INVENTORY % node)
    env = runner.env()

    def run(name, args=(), **variables):
        variables.setdefault('report_output_path', os.path.join(runner.out_dir, name + '.html'))
        result = runner.playbook('report.yml', variables, args=args, check=False, env=env)
        return result.returncode, result.stdout + result.stderr, variables['report_output_path']

    found = {'first': run('first', gather=HOSTS, with_sriov=['hv-system'])}
    with open(os.path.join(runner.out_dir, 'summary.json')) as handle:
        found['first_summary'] = json.load(handle)
    # A moment after every version of the first run and before the second run's.
    since = math.ceil(time.time())
    time.sleep(max(0.0, since - time.time()) + 0.05)
    _node(node, 8)
    found['since'] = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(since))
    found['second'] = run('second', gather=['hv-test'], report_drift_since=found['since'])
    with open(os.path.join(runner.out_dir, 'summary.json')) as handle:
        found['second_summary'] = json.load(handle)
    found['check'] = run('check', args=['--check'], gather=[], report_drift_since='')
    return found


def _read(path):
    with open(path, encoding='utf-8') as handle:
        return handle.read()


def test_the_first_run_reports_every_host_and_the_hosts_new_this_week(runs):
    rc, output, path = runs['first']
    assert rc == 0, output
    summary = runs['first_summary']
    assert (summary['hosts'], summary['fresh'], summary['stale'], summary['without_facts']) == (3, 2, 0, 1), summary
    assert [(entry['host'], entry['state']) for entry in summary['attention']] == [('hv-down', 'no_facts')]
    # Both hosts were first recorded in this run, after the default 7d before it.
    assert summary['hosts_changed'] == 2 and summary['path'] == path
    assert {'VCPU', 'MEMORY_MB'} <= set(summary['utilisation'])
    page = _read(path)
    assert page.count('<tr data-op="new">') == 2
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    lines = _summary_lines(output)
    assert lines[0] == '3 host(s): 2 with fresh facts, 0 stale, 1 without facts', lines
    assert 'attention: hv-down (no facts: no facts at all)' in lines, lines
    assert lines[-1] == 'report: %s' % path


def test_the_second_run_reads_the_cache_and_shows_what_changed_since(runs):
    rc, output, path = runs['second']
    assert rc == 0, output
    # hv-system was not asked again: its facts are the cached ones.
    gathered = output.split('Gather libvirt_host_caps]')[1].split('TASK [')[0]
    assert re.search(r'^skipping: \[hv-system\]', gathered, re.MULTILINE) and re.search(r'^ok: \[hv-test\]', gathered, re.MULTILINE)
    summary = runs['second_summary']
    assert summary['fresh'] == 2 and summary['hosts_changed'] == 1 and summary['drift_since'] == runs['since']
    page = _read(path)
    drift = page.split('<h2 id="drift">')[1]
    rows = re.findall(r'<tr data-op="(\w+)"><td>([^<]*)</td><td class="path">([^<]*)</td>', drift)
    assert set(host for op, host, what in rows) == {'hv-test'}, rows
    assert ('changed', 'hv-test', 'libvirt_host_caps.host_info.online_cpus') in rows, rows
    assert re.search(r'libvirt_host_caps\.host_info\.online_cpus</td><td class="op-changed">changed</td>'
                     r'<td title="4">4</td><td title="8">8</td>', drift)
    # The heat map counts hv-test's new CPUs as placement does.
    assert re.search(r'<th scope="row">hv-test</th>.*?title="VCPU: 0 used of 8 = \(total 8 - reserved 0\) x allocation ratio 1.00"',
                     page)


def test_check_mode_writes_no_report_and_an_empty_since_reads_no_drift(runs):
    rc, output, path = runs['check']
    assert rc == 0, output
    assert not os.path.exists(path)
    assert re.search(r'TASK \[virtumancer.hostcaps.report : Read what changed on each host since\] \*+\nskipping: ', output), output
    lines = _summary_lines(output)
    assert lines[0] == '3 host(s): 2 with fresh facts, 0 stale, 1 without facts', lines
    assert not [line for line in lines if 'changed since' in line], lines


def test_the_report_of_the_role_loads_in_a_browser(runs, browser, core):  # noqa: F811  pylint: disable=redefined-outer-name
    rc, output, path = runs['second']
    assert rc == 0, output
    browser.open(path)
    assert browser.console_errors() == []
    hosts = browser.run('return Array.from(document.querySelectorAll("#heatmap-table tbody th")).map(function (c) { return c.textContent; });')
    classes = browser.run('return Array.from(document.querySelectorAll("#heatmap-table thead th")).slice(2).map(function (c) { return c.textContent; });')
    assert hosts == HOSTS and {'VCPU', 'MEMORY_MB'} <= set(classes)
    assert len(browser.css('#heatmap-table tbody td.u')) == len(HOSTS) * len(classes)
    browser.screenshot('report-role-%s' % core.version)
