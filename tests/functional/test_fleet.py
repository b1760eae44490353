# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet chain over real SSH (tests/functional/fleet.py): virtumancer.hostcaps.discover,
virtumancer.hostcaps.place_vms, virtumancer.hostcaps.compliance (the default baseline) and
virtumancer.hostcaps.report with the factdb cache (SQLite), on ansible-core 2.19; the
discovery alone on 2.17.

One store goes through three runs, in order: the first runs the whole chain and discovers
every reachable host (hv-down's facts were seeded, stale, and must survive its failure);
the second, within hostcaps_max_age, asks no host but the two that fail; sim-small gets
twice the memory; the third is forced and reports that change."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import time

import pytest

from browser import browser  # noqa: F401  pylint: disable=unused-import
from conftest import CORES, Ansible, Backend, Core, REPO_ROOT
from fleet import DOWN, GONE, HOSTS, REACHABLE, SIMULATED, Fleet, new_fleet

CACHE = 'virtumancer.hostcaps.factdb'
CAPS_TASK = 'discover : Discover libvirt host capabilities]'
SRIOV_TASK = 'discover : Discover SR-IOV functions and passthrough devices]'
# VMs are kvm or qemu guests, which libvirt's test driver does not run: only the hosts of
# a real libvirt can take them.
VMS = [
    {'name': 'web01', 'vcpus': 1, 'memory_mb': 512, 'disk_gb': 0},
    {'name': 'web02', 'vcpus': 1, 'memory_mb': 512, 'disk_gb': 0},
]
# What each simulated host's node XML says (tests/functional/fleet/node-*.xml).
HARDWARE = {
    'sim-big': {'cpus': 64, 'memory_mb': 524288, 'numa': 2, 'vfs': 4, 'max_vfs': 128, 'gpus': 0, 'networks': ['prod', 'storage'], 'pools': ['images']},
    'sim-mid': {'cpus': 16, 'memory_mb': 65536, 'numa': 1, 'vfs': 8, 'max_vfs': 64, 'gpus': 0, 'networks': ['default'], 'pools': ['default']},
    'sim-small': {'cpus': 4, 'memory_mb': 8192, 'numa': 1, 'vfs': 0, 'max_vfs': 0, 'gpus': 0, 'networks': [], 'pools': ['local']},
    'sim-gpu': {'cpus': 96, 'memory_mb': 1048576, 'numa': 4, 'vfs': 2, 'max_vfs': 128, 'gpus': 2, 'networks': ['prod'], 'pools': ['images', 'scratch']},
    'sim-edge': {'cpus': 12, 'memory_mb': 32768, 'numa': 2, 'vfs': 0, 'max_vfs': 64, 'gpus': 0, 'networks': ['isolated'], 'pools': ['edge']},
}
THREE_DAYS = 3 * 86400


def _seed_facts(age_seconds):
    """Real facts (from the unit fixtures of a Debian 12 EPYC host), collected age_seconds ago."""
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.host_facts import build_facts
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.offline import xml_sources
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.sriov import build_sriov
    fixtures = os.path.join(REPO_ROOT, 'tests', 'unit', 'fixtures', 'libvirt')
    with open(os.path.join(fixtures, 'debian12-epyc-milan-kvm-24g.caps.xml')) as handle:
        caps = build_facts(xml_sources(handle.read()), uri='qemu:///system')
    caps['collected_at'] = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(time.time() - age_seconds))
    return {'libvirt_host_caps': caps, 'sriov': build_sriov([])}


def _task_hosts(output, task):
    """{host: ok | skipping | fatal | failed ...} of one task of the output."""
    if task not in output:
        return {}
    results = output.split(task)[1].split('TASK [')[0]
    return dict((host, status) for status, host in re.findall(r'^(\w+): \[([^\]]+)\]', results, re.MULTILINE))


class Chain:
    """Runs playbooks/fleet_chain.yml of one core over the fleet, against one store."""

    def __init__(self, core, fleet_, workdir):
        self.store = Backend('sqlite', os.path.join(workdir, 'store', 'facts.db'), os.path.join(workdir, 'store', 'facts.db'))
        self.runner = Ansible(core, self.store.connection, workdir)
        self.runner.inventory = fleet_.inventory(os.path.join(workdir, 'fleet.yml'))
        self.fleet = fleet_

    def run(self, **variables):
        started = time.time()
        result = self.runner.playbook('fleet_chain.yml', dict({'hostcaps_vms': VMS}, **variables), check=False,
                                      env=Fleet.env(self.runner.env()))
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        chain = self.runner.output('chain.json')
        return {'output': output, 'seconds': time.time() - started, 'summary': chain['discovery'],
                'placement': chain['placement'], 'compliance': chain['compliance'], 'report': chain['report'],
                'out_dir': self.runner.out_dir}

    def seed(self, host, facts):
        store = self.store.open_store(create=True)
        try:
            store.set(host, facts)
        finally:
            store.close()

    def snapshot(self):
        return self.store.snapshot()


@pytest.fixture(scope='module')
def fleet(tmp_path_factory):
    return new_fleet(tmp_path_factory)


@pytest.fixture(scope='module')
def runs(fleet, tmp_path_factory):
    """The four runs on ansible-core 2.19, each with what the store held after it."""
    core = Core('2.19', CORES['2.19'][0])
    chain = Chain(core, fleet, str(tmp_path_factory.mktemp('fleet-chain')))
    seeded = _seed_facts(THREE_DAYS)
    chain.seed(DOWN, seeded)
    found = {'seeded': seeded}
    out = chain.runner.out_dir
    # The baseline fails hosts here (hv-down's stale facts, hv-gone's missing ones): the
    # chain goes on to the report, as a CI job that collects every artifact first would.
    found['first'] = chain.run(compliance_output_dir=out, hostcaps_compliance_fail_on='none',
                               report_output_path=os.path.join(out, 'fleet.html'))
    found['first']['store'] = chain.snapshot()
    found['second'] = chain.run(place=False)
    fleet.edit_node('sim-small', '<memory>8388608</memory>', '<memory>16777216</memory>')
    found['forced'] = chain.run(place=False, hostcaps_force_discovery=True)
    found['forced']['store'] = chain.snapshot()
    return found


def test_every_reachable_host_is_discovered_and_cached(runs):
    first = runs['first']
    summary = first['summary']
    assert summary['discovered'] == sorted(REACHABLE), summary['hosts']
    assert summary['counts'] == {'hosts': len(HOSTS), 'discovered': len(REACHABLE), 'fresh': 0, 'failed': 1, 'unreachable': 1, 'changed': 0}
    assert all(summary['hosts'][host]['reason'] == 'missing' for host in REACHABLE)
    assert summary['hosts'][DOWN]['reason'] == 'stale' and summary['hosts'][GONE]['reason'] == 'missing'
    store = first['store']
    for host in REACHABLE:
        assert 'libvirt_host_caps' in store[host] and 'sriov' in store[host], host
        assert store[host]['libvirt_host_caps']['errors'] is not None
        # Their first version: nothing to compare with yet.
        assert summary['hosts'][host]['changes']['first_version'] is True, summary['hosts'][host]
    # The table of the role lists every host.
    for host in HOSTS:
        assert re.search(r'\b%s +(discovered|failed|unreachable) ' % re.escape(host), first['output']), host


def test_failed_and_unreachable_hosts_are_reported_and_keep_their_cached_facts(runs):
    first = runs['first']
    summary = first['summary']
    problems = dict((entry['host'], entry) for entry in summary['problems'])
    assert sorted(problems) == [DOWN, GONE]
    assert problems[DOWN]['status'] == 'failed'
    assert 'cannot connect to libvirt at qemu+unix:///system' in problems[DOWN]['message']
    assert problems[GONE]['status'] == 'unreachable'
    assert 'ssh' in problems[GONE]['message'].lower() or 'connect' in problems[GONE]['message'].lower()
    # The seeded facts of hv-down are still its facts; hv-gone never had any.
    assert first['store'][DOWN] == runs['seeded']
    assert GONE not in first['store']
    # The placement went on with the others.
    assert _task_hosts(first['output'], CAPS_TASK)[GONE] == 'fatal'


def test_simulated_hosts_have_their_own_hardware(runs):
    store = runs['first']['store']
    for host, hardware in sorted(HARDWARE.items()):
        caps, sriov = store[host]['libvirt_host_caps'], store[host]['sriov']
        assert caps['uri'].startswith('test:///') and caps['uri'].endswith('node-%s.xml' % host.split('-')[1])
        assert caps['host_info']['online_cpus'] == hardware['cpus'], host
        assert caps['host_info']['memory_mb'] == hardware['memory_mb'], host
        assert caps['host_info']['numa_nodes'] == hardware['numa'], host
        assert sriov['summary']['total_vfs'] == hardware['vfs'], (host, sriov['summary'])
        assert (sriov['summary']['max_vfs'] or 0) == hardware['max_vfs'], (host, sriov['summary'])
        assert sum(1 for device in sriov['passthrough_devices'] if device['class_id'].startswith('03')) == hardware['gpus'], host
        assert sorted(net['name'] for net in caps['network_info']['networks']) == hardware['networks'], host
        assert sorted(pool['name'] for pool in caps['storage_info']['pools']) == hardware['pools'], host
        assert caps['resources']['VCPU']['total'] == hardware['cpus']
        # Nothing of the machine that runs the test driver: no host name, no /sys, no /proc.
        assert caps['host_info']['hostname'] is None
        assert caps['virt_info']['dev_kvm_accessible'] is None and caps['memory_info']['ksm'] is None
        assert caps['memory_info']['sources']['kernel'] is None


def test_the_real_and_the_read_only_host(runs):
    store = runs['first']['store']
    local = store['hv-local']['libvirt_host_caps']
    assert local['uri'] == 'qemu:///system' and local['host_info']['hostname']
    assert local['domain_capabilities'], local['errors']
    assert not [error for error in local['errors'] if error['category'] == 'connection']
    readonly = store['hv-readonly']['libvirt_host_caps']
    connection = [error for error in readonly['errors'] if error['category'] == 'connection']
    # hostcaps-ro is refused read-write and falls back to the read-only socket.
    assert len(connection) == 1 and 'a read-only connection was used' in connection[0]['message'], readonly['errors']
    assert readonly['domain_capabilities'] is None
    assert readonly['host_info']['online_cpus'] == local['host_info']['online_cpus']


def test_the_placement_ran_on_the_discovered_fleet(runs):
    placement = runs['first']['placement']
    placed = dict((entry['vm'], entry['host']) for entry in placement['placements'])
    assert sorted(placed) == ['web01', 'web02'] and set(placed.values()) <= {'hv-local', 'hv-readonly'}, placement
    assert placement['unplaced'] == []
    # Every host with fresh facts was a candidate, with the facts the discovery cached;
    # hv-down's cached facts are three days old and asking it again failed: it is skipped
    # with the failure, not placed on with facts that old.
    assert sorted(placement['hosts']) == sorted(REACHABLE)
    skipped = dict((problem['field'], problem['message']) for problem in placement['problems'] if problem['code'] == 'host_skipped')
    assert sorted(skipped) == ['hosts.' + DOWN, 'hosts.' + GONE], placement['problems']
    assert 'gathering its facts failed (cannot connect to libvirt' in skipped['hosts.' + DOWN], skipped
    assert 'unreachable' in skipped['hosts.' + GONE], skipped


def _compliance_files(out_dir):
    import json
    with open(os.path.join(out_dir, 'compliance.json')) as handle:
        return json.load(handle)


def test_the_compliance_baseline_judges_every_host_and_names_the_missing_and_stale_facts(runs):
    first = runs['first']
    document = _compliance_files(first['out_dir'])
    assert sorted(document['hosts']) == sorted(HOSTS)
    rules = [rule['name'] for rule in document['rules']]
    assert len(document['results']) == len(HOSTS) * len(rules)
    verdicts = dict(((r['host'], r['rule']), r['verdict']) for r in document['results'])
    assert all(verdicts[(host, 'facts_fresh')] == 'pass' for host in REACHABLE)
    # hv-down's seeded facts are three days old; hv-gone never had any.
    assert verdicts[(DOWN, 'facts_fresh')] == verdicts[(GONE, 'facts_fresh')] == 'fail'
    assert all(verdicts[(GONE, rule)] == 'skipped' for rule in rules if rule != 'facts_fresh')
    # The simulated hosts have no /dev/kvm of this machine: the baseline cannot pass them as KVM hosts.
    assert all(verdicts[(host, rule)] != 'pass' for host in SIMULATED for rule in rules if rule == 'hardware_virtualization')
    assert first['compliance']['summary'] == document['summary']


def test_the_fleet_junit_has_one_testcase_per_host_and_rule_as_the_json_says(runs):
    import junitparser
    document = _compliance_files(runs['first']['out_dir'])
    suites = list(junitparser.JUnitXml.fromfile(os.path.join(runs['first']['out_dir'], 'compliance.junit.xml')))
    cases = dict(((case.name, suite.name), [type(entry).__name__ for entry in case.result]) for suite in suites for case in suite)
    assert len(cases) == sum(len(list(suite)) for suite in suites) == len(document['results'])
    kinds = {'pass': [], 'fail': ['Failure'], 'error': ['Error'], 'waived': ['Skipped'], 'skipped': ['Skipped'],
             'not_applicable': ['Skipped']}
    for result in document['results']:
        assert cases[(result['host'], result['rule'])] == kinds[result['verdict']], result


def test_the_fleet_html_reports_agree_with_the_json_and_load_in_a_browser(runs, browser):  # noqa: F811  pylint: disable=redefined-outer-name
    import json
    out = runs['first']['out_dir']
    document = _compliance_files(out)
    browser.open(os.path.join(out, 'compliance.html'))
    assert browser.console_errors() == []
    data = json.loads(browser.run('return document.getElementById("compliance-data").textContent;'))
    assert data['hosts'] == document['hosts'] and [r['name'] for r in data['rules']] == [r['name'] for r in document['rules']]
    for result in document['results']:
        detail = data['details'][data['matrix'][data['hosts'].index(result['host'])][
            [r['name'] for r in data['rules']].index(result['rule'])]]
        assert detail[:3] == [result['verdict'], result['severity'], result['message']], result
    browser.screenshot('fleet-compliance')

    report = runs['first']['report']
    assert report['hosts'] == len(HOSTS) and report['without_facts'] == 1 and report['stale'] == 1
    assert sorted(entry['host'] for entry in report['attention']) == sorted([DOWN, GONE])
    browser.open(os.path.join(out, 'fleet.html'))
    assert browser.console_errors() == []
    shown = browser.run('return Array.from(document.querySelectorAll("#heatmap-table tbody tr")).map(function (r) {'
                        ' return r.cells[0].textContent; });')
    assert sorted(shown) == sorted(HOSTS)
    browser.screenshot('fleet-report')


def test_a_second_run_within_max_age_asks_only_the_hosts_that_failed(runs):
    second = runs['second']
    summary = second['summary']
    assert summary['fresh'] == sorted(REACHABLE)
    assert summary['discovered'] == [] and summary['failed'] == [DOWN] and summary['unreachable'] == [GONE]
    tasks = _task_hosts(second['output'], CAPS_TASK)
    assert dict((host, tasks[host]) for host in REACHABLE) == dict((host, 'skipping') for host in REACHABLE)
    assert all(_task_hosts(second['output'], SRIOV_TASK)[host] == 'skipping' for host in HOSTS)


def test_forcing_rediscovers_and_reports_the_change_of_one_host(runs):
    forced = runs['forced']
    summary = forced['summary']
    assert summary['discovered'] == sorted(REACHABLE)
    assert all(summary['hosts'][host]['reason'] == 'forced' for host in HOSTS)
    small = summary['hosts']['sim-small']['changes']
    assert small['count'] >= 1 and small['version'] == small['version_before'] + 1, small
    assert 'libvirt_host_caps.host_info.memory_mb' in small['paths'], small
    assert summary['changed'] == ['sim-small'], summary['hosts']
    for host in SIMULATED:
        if host != 'sim-small':
            assert summary['hosts'][host]['changes']['count'] == 0, summary['hosts'][host]
    assert forced['store']['sim-small']['libvirt_host_caps']['host_info']['memory_mb'] == 16384
    assert re.search(r'sim-small changed: .*libvirt_host_caps\.host_info\.memory_mb', forced['output'])


def test_the_discovery_on_ansible_core_217(fleet, tmp_path):
    core = Core('2.17', CORES['2.17'][0])
    if not os.path.exists(core.tool('ansible-playbook')):
        pytest.fail('ansible-core 2.17: run `make venv-core217` first', pytrace=False)
    chain = Chain(core, fleet, str(tmp_path))
    run = chain.run(place=False)
    summary = run['summary']
    assert summary['discovered'] == sorted(REACHABLE) and summary['failed'] == [DOWN] and summary['unreachable'] == [GONE]
    store = chain.snapshot()
    assert sorted(store) == sorted(REACHABLE)
    assert store['sim-gpu']['libvirt_host_caps']['host_info']['online_cpus'] == 96
