# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role virtumancer.hostcaps.compliance, through the playbook
virtumancer.hostcaps.compliance, on every supported ansible-core. The fleet: this machine
(qemu:///system) and libvirt's test driver (test:///default), both discovered by the module
in the same play; hv-sev and hv-tdx, whose facts playbooks/compliance.yml makes from the
libvirt XML fixtures; and gone, which never had facts.

Two runs per core: the first gathers into a factdb cache (SQLite) and fails on the
baseline's error-level violations, writing the three files; the second reads the facts back
from the cache only, with fail_on none and --check: it passes and writes nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

import pytest

from conftest import Ansible, Backend

INVENTORY = """[hypervisors]
local ansible_connection=local hostcaps_libvirt_uri=qemu:///system
testdrv ansible_connection=local hostcaps_libvirt_uri=test:///default
hv-sev ansible_connection=local
hv-tdx ansible_connection=local
gone ansible_connection=local

[live]
local
testdrv

[synthetic]
hv-sev
hv-tdx

[lab]
testdrv
"""
HOSTS = ['gone', 'hv-sev', 'hv-tdx', 'local', 'testdrv']
EXTRA_RULES = [
    # Applies to the group lab only (testdrv); waived there until 2099.
    {'name': 'lab_only', 'severity': 'critical', 'applies_to': {'groups': ['lab']}, 'min_libvirt_version': '99.0'},
    # Applies by host pattern; the test driver's hypervisor is not QEMU.
    {'name': 'qemu7', 'severity': 'info', 'applies_to': {'hosts': ['local', 'test*']}, 'min_qemu_version': '7.0'},
    # A JMESPath applies_to and an expected value; a waiver that expired in 2020.
    {'name': 'x86_memory', 'severity': 'warning', 'applies_to': {'jmespath': "libvirt_host_caps.host_info.arch == 'x86_64'"},
     'jmespath': 'libvirt_host_caps.memory_info.total_mb > `1048576`', 'expect': True},
]
WAIVERS = [
    {'host': 'testdrv', 'rule': 'lab_only', 'reason': 'lab host, upgrade planned', 'expires': '2099-01-01'},
    {'host': 'local', 'rule': 'x86_*', 'reason': 'old waiver', 'expires': '2020-06-30'},
]
VARIABLES = {
    'hostcaps_compliance_rules': '{{ compliance_baseline_rules + extra_rules }}',
    'extra_rules': EXTRA_RULES,
    'hostcaps_compliance_waivers': WAIVERS,
}
BASELINE = ['hardware_virtualization', 'kvm_available', 'dev_kvm_accessible', 'cgroup_controllers', 'iommu_enabled', 'facts_complete',
            'secure_guest_amd_sev', 'secure_guest_amd_sev_es', 'secure_guest_amd_sev_snp', 'secure_guest_intel_tdx',
            'uefi_secure_boot', 'tpm_2_0']
RULES = ['facts_fresh'] + BASELINE + ['lab_only', 'qemu7', 'x86_memory']
# Verdicts that do not depend on this machine's hardware.
EXPECTED = {
    ('gone', 'facts_fresh'): 'fail',
    ('gone', 'kvm_available'): 'skipped',
    ('local', 'facts_fresh'): 'pass',
    ('local', 'kvm_available'): 'pass',
    ('local', 'dev_kvm_accessible'): 'pass',
    ('local', 'qemu7'): 'pass',
    ('local', 'lab_only'): 'not_applicable',
    ('local', 'x86_memory'): 'fail',
    ('testdrv', 'kvm_available'): 'fail',
    ('testdrv', 'lab_only'): 'waived',
    ('testdrv', 'qemu7'): 'fail',
    ('testdrv', 'dev_kvm_accessible'): 'not_applicable',
    # This machine mounts every controller libvirt needs; a test driver host has no /sys of its own.
    ('local', 'cgroup_controllers'): 'pass',
    ('testdrv', 'cgroup_controllers'): 'not_applicable',
    ('hv-sev', 'secure_guest_amd_sev'): 'pass',
    ('hv-sev', 'secure_guest_amd_sev_es'): 'pass',
    ('hv-sev', 'secure_guest_intel_tdx'): 'not_applicable',
    ('hv-sev', 'qemu7'): 'not_applicable',
    ('hv-tdx', 'secure_guest_intel_tdx'): 'pass',
    ('hv-tdx', 'secure_guest_amd_sev'): 'not_applicable',
    ('hv-tdx', 'hardware_virtualization'): 'pass',
}


def _run(runner, extra=None, args=(), cache=True):
    variables = dict(VARIABLES)
    variables.update(extra or {})
    result = runner.playbook('compliance.yml', variables, args=args, check=False, env=runner.env(cache=cache))
    return result.returncode, result.stdout + result.stderr


def _later_verdicts(output):
    found = re.search(r'"later play verdicts: ([^"]*)"', output)
    assert found, output
    return dict(((host, rule), verdict) for host, rule, verdict in (item.split('/') for item in found.group(1).split()))


def _check_verdicts(verdicts):
    assert sorted(set(host for host, dummy in verdicts)) == HOSTS
    assert len(verdicts) == len(HOSTS) * len(RULES)
    for key, verdict in EXPECTED.items():
        assert verdicts[key] == verdict, (key, verdicts[key])
    # A host without facts fails facts_fresh and has every other rule skipped, never passed.
    assert [verdicts[('gone', rule)] for rule in RULES[1:]] == ['skipped'] * (len(RULES) - 1)


@pytest.fixture(scope='module')
def first_run(core, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp('compliance-%s' % core.version))
    store = Backend('sqlite', os.path.join(workdir, 'store', 'facts.db'), os.path.join(workdir, 'store', 'facts.db'))
    runner = Ansible(core, store.connection, workdir)
    runner.inventory = os.path.join(workdir, 'fleet.ini')
    with open(runner.inventory, 'w') as handle:
        handle.write(INVENTORY)
    out = os.path.join(runner.out_dir, 'reports')
    rc, output = _run(runner, {'gather': True, 'compliance_output_dir': out})
    return runner, store, out, rc, output


def test_violations_fail_the_play_after_the_reports_are_written(first_run):
    runner, store, out, rc, output = first_run

    assert rc == 2, output
    assert sorted(os.listdir(out)) == ['compliance.html', 'compliance.json', 'compliance.junit.xml']
    assert all(oct(os.stat(os.path.join(out, name)).st_mode & 0o777) == '0o644' for name in os.listdir(out))
    failed = re.search(r'FAILED! => .*"msg": "(\d+) compliance violation\(s\) at or above error: ([^"]*)"', output)
    assert failed, output
    assert 'gone facts_fresh (error): facts missing' in failed.group(2)
    assert 'testdrv kvm_available (error): libvirt_host_caps.traits lacks CUSTOM_KVM' in failed.group(2)
    # The table: one line per rule, and the summary.
    assert re.search(r'"facts_fresh +error +4 +1 +0 +0 +0 +0 +gone"', output), output
    assert re.search(r'"5 host\(s\) x 16 rule\(s\): .*; %s blocking at or above error"' % failed.group(1), output), output
    # Every reachable host's facts were cached.
    assert sorted(store.snapshot()) == ['hv-sev', 'hv-tdx', 'local', 'testdrv']


def test_the_json_holds_every_result_with_its_evidence(first_run):
    runner, store, out, rc, output = first_run
    with open(os.path.join(out, 'compliance.json')) as handle:
        document = json.load(handle)

    assert document['schema_version'] == 1
    assert document['hosts'] == HOSTS
    assert [rule['name'] for rule in document['rules']] == RULES
    verdicts = dict(((r['host'], r['rule']), r['verdict']) for r in document['results'])
    _check_verdicts(verdicts)
    results = dict(((r['host'], r['rule']), r) for r in document['results'])
    expired = results[('local', 'x86_memory')]
    assert expired['waiver']['expired'] is True and 'waiver expired on 2020-06-30: old waiver' in expired['message']
    assert expired['evidence'] == {'path': 'libvirt_host_caps.memory_info.total_mb > `1048576`', 'value': False}
    waived = results[('testdrv', 'lab_only')]
    assert waived['waiver'] == {'host': 'testdrv', 'rule': 'lab_only', 'reason': 'lab host, upgrade planned',
                                'expires': '2099-01-01', 'expired': False}
    assert results[('local', 'qemu7')]['evidence']['path'] == 'libvirt_host_caps.host_info.hypervisor_version'
    assert document['summary']['results'] == len(HOSTS) * len(RULES)
    assert document['summary']['blocking'] >= 2


def test_the_html_matrix_agrees_with_the_json(first_run):
    runner, store, out, rc, output = first_run
    from lxml import html
    with open(os.path.join(out, 'compliance.json')) as handle:
        document = json.load(handle)
    page = html.parse(os.path.join(out, 'compliance.html')).getroot()

    data = json.loads(page.get_element_by_id('compliance-data').text)
    assert data['hosts'] == HOSTS and [rule['name'] for rule in data['rules']] == RULES
    rows = dict((int(row.get('data-h')), row.findall('td')) for row in page.get_element_by_id('matrix').find('tbody'))
    for result in document['results']:
        h, r = HOSTS.index(result['host']), RULES.index(result['rule'])
        verdict, severity, message, path, value, waiver = data['details'][data['matrix'][h][r]]
        assert (verdict, severity, message) == (result['verdict'], result['severity'], result['message'])
        assert path == (result['evidence'] or {}).get('path')
        assert rows[h][0].text == result['host'] and rows[h][2 + r].get('class').startswith('c-' + verdict[0])


def test_the_junit_file_has_one_testcase_per_host_and_rule(first_run):
    runner, store, out, rc, output = first_run
    import junitparser
    from lxml import etree

    path = os.path.join(out, 'compliance.junit.xml')
    etree.parse(path)
    suites = list(junitparser.JUnitXml.fromfile(path))

    assert [suite.name for suite in suites] == RULES
    cases = dict(((case.name, suite.name), case) for suite in suites for case in suite)
    assert len(cases) == sum(len(list(suite)) for suite in suites) == len(HOSTS) * len(RULES)
    for (host, rule), verdict in EXPECTED.items():
        case = cases[(host, rule)]
        kinds = [type(entry).__name__ for entry in case.result]
        assert kinds == {'pass': [], 'fail': ['Failure'], 'waived': ['Skipped'], 'skipped': ['Skipped'],
                         'not_applicable': ['Skipped']}[verdict], (host, rule, kinds)
    failure = cases[('testdrv', 'kvm_available')].result[0]
    assert failure.message == 'libvirt_host_caps.traits lacks CUSTOM_KVM' and failure.type == 'error'
    assert 'waived until 2099-01-01' in cases[('testdrv', 'lab_only')].result[0].message


def test_a_rerun_from_the_factdb_cache_with_fail_on_none_in_check_mode_passes_and_writes_nothing(first_run):
    runner, store, out, rc, output = first_run
    out2 = os.path.join(runner.out_dir, 'check')

    # Nothing gathered, nothing made: the facts can only come from the cache.
    rc, output = _run(runner, {'gather': False, 'compliance_output_dir': out2, 'hostcaps_compliance_fail_on': 'none'},
                      args=['--check'])

    assert rc == 0, output
    assert not os.path.exists(out2)
    assert re.search(r'TASK \[virtumancer\.hostcaps\.compliance : Write the compliance reports into .*\] \**\n'
                     r'changed: \[\w+ -> localhost\] => \(item=compliance\.junit\.xml\)', output), output
    _check_verdicts(_later_verdicts(output))
    with open(os.path.join(out, 'compliance.json')) as handle:
        first = dict(((r['host'], r['rule']), r['verdict']) for r in json.load(handle)['results'])
    assert _later_verdicts(output) == first
