# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compliance rules over facts (policy/compliance.py): each check type, applies_to,
waivers and their expiry, missing and stale facts, and strict rule validation. The hosts
are a live Debian 12 KVM host as the factdb cache kept it and hosts built from the libvirt
XML fixtures (EPYC Rome with SEV, Sapphire Rapids with TDX)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime
import json
import os

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.host_facts import build_facts
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.offline import xml_sources
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.compliance import RuleError, evaluate
from ansible_collections.virtumancer.hostcaps.tests.unit.facts_from_fixtures import read_fixture

FACTDB = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'fixtures', 'factdb',
                      'debian12-kvm-host.facts.json')
# debian12-kvm-host was collected at 2026-12-02T17:18:25Z.
NOW = '2026-12-02T18:00:00Z'
OFFLINE_NOW = datetime.datetime(2026, 12, 2, 17, 30, tzinfo=datetime.timezone.utc)


def _offline(caps, domcaps):
    return build_facts(xml_sources(read_fixture(caps), [read_fixture(domcaps)]), now=OFFLINE_NOW)


@pytest.fixture(scope='module')
def fleet():
    with open(FACTDB) as handle:
        live = json.load(handle)
    return {
        'kvm1': {'ansible_facts': live},
        'hv-sev': {'ansible_facts': {'libvirt_host_caps': _offline('amd-epyc-sev.caps.xml', 'amd-epyc-sev.domcaps-q35.xml')}},
        'hv-tdx': _offline('intel-tdx.caps.xml', 'intel-tdx.domcaps-q35.xml'),
    }


def _verdicts(document, rule=None):
    return dict(((r['host'], r['rule']), r['verdict']) for r in document['results'] if rule in (None, r['rule']))


def _one(document, host, rule):
    return [r for r in document['results'] if r['host'] == host and r['rule'] == rule][0]


def _run(hosts, *rules, **options):
    options.setdefault('now', NOW)
    return evaluate(hosts, list(rules), **options)


# -- the results document -----------------------------------------------------------


def test_every_host_has_one_result_per_rule_and_facts_fresh_first(fleet):
    document = _run(fleet, {'name': 'kvm', 'required_traits': ['CUSTOM_KVM']}, {'name': 'v', 'min_libvirt_version': '1.0'})

    assert document['schema_version'] == 1
    assert document['hosts'] == ['hv-sev', 'hv-tdx', 'kvm1']
    assert [rule['name'] for rule in document['rules']] == ['facts_fresh', 'kvm', 'v']
    assert document['rules'][0]['builtin'] is True and document['rules'][1]['builtin'] is False
    assert [(r['host'], r['rule']) for r in document['results']] == [
        (host, rule) for host in document['hosts'] for rule in ('facts_fresh', 'kvm', 'v')]
    assert document['summary']['results'] == 9
    assert document['generated_at'] == NOW


# -- checks ---------------------------------------------------------------------------


def test_required_traits_pass_and_fail_naming_the_missing_trait(fleet):
    document = _run(fleet, {'name': 'sev', 'required_traits': ['HW_CPU_X86_AMD_SEV', 'COMPUTE_FIRMWARE_UEFI']})

    assert _verdicts(document, 'sev') == {('hv-sev', 'sev'): 'pass', ('hv-tdx', 'sev'): 'fail', ('kvm1', 'sev'): 'fail'}
    failed = _one(document, 'kvm1', 'sev')
    assert failed['message'] == 'libvirt_host_caps.traits lacks HW_CPU_X86_AMD_SEV'
    assert failed['evidence'] == {'path': 'libvirt_host_caps.traits', 'value': ['COMPUTE_FIRMWARE_UEFI']}


def test_forbidden_traits_fail_where_the_host_has_one(fleet):
    document = _run(fleet, {'name': 'no_tdx', 'severity': 'critical', 'forbidden_traits': ['HW_CPU_X86_INTEL_TDX']})

    assert _verdicts(document, 'no_tdx') == {('hv-sev', 'no_tdx'): 'pass', ('hv-tdx', 'no_tdx'): 'fail', ('kvm1', 'no_tdx'): 'pass'}
    assert _one(document, 'hv-tdx', 'no_tdx')['message'] == 'libvirt_host_caps.traits has the forbidden HW_CPU_X86_INTEL_TDX'
    assert _one(document, 'hv-tdx', 'no_tdx')['severity'] == 'critical'


def test_jmespath_truthiness_and_expected_value(fleet):
    document = _run(fleet, {'name': 'kvm_dev', 'jmespath': 'libvirt_host_caps.virt_info.dev_kvm_accessible'},
                    {'name': 'cpus', 'jmespath': 'libvirt_host_caps.host_info.online_cpus', 'expect': 2},
                    {'name': 'zero_is_true', 'jmespath': 'libvirt_host_caps.resources.DISK_GB.total'})

    live = _one(document, 'kvm1', 'kvm_dev')
    assert live['verdict'] == 'pass'
    assert live['evidence'] == {'path': 'libvirt_host_caps.virt_info.dev_kvm_accessible', 'value': True}
    # Offline facts do not know /dev/kvm: null is no pass.
    offline = _one(document, 'hv-sev', 'kvm_dev')
    assert offline['verdict'] == 'fail'
    assert offline['message'] == ('libvirt_host_caps.virt_info.dev_kvm_accessible is null; expected a true value '
                                  '(not false, null or empty)')
    assert _one(document, 'kvm1', 'cpus')['verdict'] == 'pass'
    assert _one(document, 'hv-sev', 'cpus')['message'].endswith('; expected 2')
    # JMESPath's truth: the number 0 is true.
    assert _one(document, 'kvm1', 'zero_is_true')['verdict'] == 'pass'


def test_expect_true_is_not_met_by_the_number_one(fleet):
    document = _run(fleet, {'name': 'one', 'jmespath': 'libvirt_host_caps.host_info.numa_nodes', 'expect': True})

    assert _one(document, 'kvm1', 'one')['verdict'] == 'fail'


def test_a_jmespath_that_fails_on_the_facts_is_an_error_not_a_pass(fleet):
    document = _run(fleet, {'name': 'broken', 'jmespath': 'length(libvirt_host_caps.no_such_key)'})

    result = _one(document, 'kvm1', 'broken')
    assert result['verdict'] == 'error'
    assert 'length() expects' in result['message'] and 'guard what may be null' in result['message']
    assert document['summary']['blocking'] == 3


def test_versions_are_compared_as_numbers(fleet):
    document = _run(fleet, {'name': 'lv9', 'min_libvirt_version': '9'}, {'name': 'lv10', 'min_libvirt_version': '10.0'},
                    {'name': 'q7_10', 'min_qemu_version': '7.10'}, {'name': 'q7_2_9', 'min_qemu_version': '7.2.9'})

    # kvm1: libvirt 9.0.0, QEMU 7.2.22.
    verdicts = _verdicts(document)
    assert [verdicts[('kvm1', rule)] for rule in ('lv9', 'lv10', 'q7_10', 'q7_2_9')] == ['pass', 'fail', 'fail', 'pass']
    assert _one(document, 'kvm1', 'q7_2_9')['message'] == 'libvirt_host_caps.host_info.hypervisor_version is 7.2.22, >= 7.2.9'
    # Offline facts carry no versions: unknown is no pass.
    unknown = _one(document, 'hv-sev', 'lv9')
    assert unknown['verdict'] == 'fail' and 'unknown' in unknown['message']


def test_min_qemu_version_fails_on_another_hypervisor(fleet):
    hosts = copy.deepcopy({'kvm1': fleet['kvm1']})
    hosts['kvm1']['ansible_facts']['libvirt_host_caps']['host_info']['hypervisor'] = 'Test'

    document = _run(hosts, {'name': 'q', 'min_qemu_version': '1.0'})

    assert _one(document, 'kvm1', 'q')['message'] == "libvirt_host_caps.host_info.hypervisor is \"Test\", not QEMU; needs QEMU >= 1.0"


def test_min_free_uses_reserved_allocation_ratio_and_used(fleet):
    hosts = copy.deepcopy({'kvm1': fleet['kvm1']})
    hosts['kvm1']['ansible_facts']['libvirt_host_caps']['resources']['VCPU'].update(allocation_ratio=4.0, reserved=1, used=2)

    document = _run(hosts, {'name': 'fits', 'min_free': {'VCPU': 2, 'MEMORY_MB': 4096}},
                    {'name': 'too_much', 'min_free': {'VCPU': 3}}, {'name': 'gpu', 'min_free': {'PGPU': 1}})

    # VCPU: (2 - 1) * 4.0 - 2 = 2 free.
    assert _one(document, 'kvm1', 'fits')['verdict'] == 'pass'
    failed = _one(document, 'kvm1', 'too_much')
    assert failed['message'] == ('libvirt_host_caps.resources.VCPU has 2 free ((total 2 - reserved 1) x 4 - used 2); needs 3')
    assert failed['evidence']['value']['free'] == 2
    assert _one(document, 'kvm1', 'gpu')['message'] == 'libvirt_host_caps.resources.PGPU is absent (needs 1 free)'


def test_max_age_rule_against_collected_at(fleet):
    document = _run({'kvm1': fleet['kvm1']}, {'name': 'hour', 'max_age': '1h'}, {'name': 'half_hour', 'max_age': 1800})

    assert _one(document, 'kvm1', 'hour')['verdict'] == 'pass'
    stale = _one(document, 'kvm1', 'half_hour')
    assert stale['verdict'] == 'fail'
    assert stale['message'] == ('libvirt_host_caps.collected_at is 2026-12-02T17:18:25Z, 41m 35s old; older than the max age 30m')
    assert stale['evidence'] == {'path': 'libvirt_host_caps.collected_at', 'value': '2026-12-02T17:18:25Z'}


# -- facts missing or stale -----------------------------------------------------------


def test_a_host_without_facts_fails_facts_fresh_and_skips_the_rest(fleet):
    hosts = dict(fleet, gone=None, empty={'ansible_facts': {}}, other={'ansible_facts': {'sriov': {}}})

    document = _run(hosts, {'name': 'kvm', 'required_traits': ['CUSTOM_KVM']})

    for host in ('gone', 'empty', 'other'):
        fresh = _one(document, host, 'facts_fresh')
        assert fresh['verdict'] == 'fail' and fresh['severity'] == 'error'
        assert fresh['message'].startswith('facts missing: ')
        assert _one(document, host, 'kvm')['verdict'] == 'skipped'
        assert _one(document, host, 'kvm')['message'] == 'not evaluated: facts missing or stale (see facts_fresh)'
    assert document['summary']['blocking'] == 3


def test_stale_facts_fail_facts_fresh_and_their_rules_are_not_evaluated(fleet):
    document = _run({'kvm1': fleet['kvm1']}, {'name': 'kvm', 'required_traits': ['CUSTOM_KVM']},
                    now='2026-12-10T00:00:00Z', max_age='1d')

    fresh = _one(document, 'kvm1', 'facts_fresh')
    assert fresh['verdict'] == 'fail'
    assert fresh['message'] == ('facts stale: libvirt_host_caps.collected_at is 2026-12-02T17:18:25Z, 7d 6h old; older than '
                                'the max age 1d; discover the host again')
    assert _one(document, 'kvm1', 'kvm')['verdict'] == 'skipped'


def test_max_age_zero_takes_facts_of_any_age(fleet):
    document = _run({'kvm1': fleet['kvm1']}, now='2036-01-01T00:00:00Z', max_age=0)

    assert _one(document, 'kvm1', 'facts_fresh')['verdict'] == 'pass'


def test_a_waived_stale_host_is_evaluated_on_its_old_facts(fleet):
    waiver = {'host': 'kvm1', 'rule': 'facts_fresh', 'reason': 'host in repair', 'expires': '2026-12-31'}

    document = _run({'kvm1': fleet['kvm1']}, {'name': 'kvm', 'required_traits': ['CUSTOM_KVM']},
                    now='2026-12-10T00:00:00Z', waivers=[waiver])

    assert _verdicts(document) == {('kvm1', 'facts_fresh'): 'waived', ('kvm1', 'kvm'): 'pass'}


# -- applies_to ----------------------------------------------------------------------


def test_applies_to_groups(fleet):
    document = _run(fleet, {'name': 'sev', 'applies_to': {'groups': ['amd']}, 'required_traits': ['HW_CPU_X86_AMD_SEV']},
                    groups={'all': ['hv-sev', 'hv-tdx', 'kvm1'], 'amd': ['hv-sev', 'kvm1']})

    assert _verdicts(document, 'sev') == {('hv-sev', 'sev'): 'pass', ('hv-tdx', 'sev'): 'not_applicable', ('kvm1', 'sev'): 'fail'}
    assert _one(document, 'hv-tdx', 'sev')['message'] == 'not applicable: applies to the groups amd; the host is in all'


def test_applies_to_host_patterns(fleet):
    document = _run(fleet, {'name': 'hv', 'applies_to': {'hosts': ['hv-*']}, 'required_traits': ['COMPUTE_FIRMWARE_UEFI']})

    assert _verdicts(document, 'hv') == {('hv-sev', 'hv'): 'pass', ('hv-tdx', 'hv'): 'pass', ('kvm1', 'hv'): 'not_applicable'}


def test_applies_to_jmespath(fleet):
    document = _run(fleet, {'name': 'intel', 'applies_to': {'jmespath': "libvirt_host_caps.cpu_info.vendor == 'Intel'"},
                            'required_traits': ['HW_CPU_X86_INTEL_TDX']})

    assert _verdicts(document, 'intel') == {
        ('hv-sev', 'intel'): 'not_applicable', ('hv-tdx', 'intel'): 'pass', ('kvm1', 'intel'): 'not_applicable'}
    assert 'applies_to.jmespath' in _one(document, 'kvm1', 'intel')['message']


def test_applies_to_conditions_must_all_hold(fleet):
    document = _run(fleet, {'name': 'both', 'applies_to': {'hosts': ['hv-*'], 'jmespath': "libvirt_host_caps.cpu_info.vendor == 'AMD'"},
                            'required_traits': ['CUSTOM_KVM']})

    assert _verdicts(document, 'both') == {
        ('hv-sev', 'both'): 'pass', ('hv-tdx', 'both'): 'not_applicable', ('kvm1', 'both'): 'not_applicable'}


# -- waivers -------------------------------------------------------------------------


WAIVER = {'host': 'kvm*', 'rule': 'sev', 'reason': 'no SEV on lab hosts', 'expires': '2026-12-31'}
SEV_RULE = {'name': 'sev', 'severity': 'critical', 'required_traits': ['HW_CPU_X86_AMD_SEV']}


@pytest.mark.parametrize('now', ['2026-12-02T18:00:00Z', '2026-12-31T23:59:59Z'])
def test_a_waiver_waives_up_to_and_including_its_expiry_day(fleet, now):
    document = _run({'kvm1': fleet['kvm1']}, SEV_RULE, waivers=[WAIVER], now=now, max_age=0)

    result = _one(document, 'kvm1', 'sev')
    assert result['verdict'] == 'waived'
    assert result['waiver'] == {'host': 'kvm*', 'rule': 'sev', 'reason': 'no SEV on lab hosts', 'expires': '2026-12-31',
                                'expired': False}
    assert result['message'].endswith('(waived until 2026-12-31: no SEV on lab hosts)')
    assert result['evidence']['path'] == 'libvirt_host_caps.traits'
    assert document['summary']['blocking'] == 0


def test_an_expired_waiver_no_longer_waives_and_says_so(fleet):
    document = _run({'kvm1': fleet['kvm1']}, SEV_RULE, waivers=[WAIVER], now='2027-01-01T00:00:00Z', max_age=0)

    result = _one(document, 'kvm1', 'sev')
    assert result['verdict'] == 'fail'
    assert result['message'] == 'libvirt_host_caps.traits lacks HW_CPU_X86_AMD_SEV (waiver expired on 2026-12-31: no SEV on lab hosts)'
    assert result['waiver']['expired'] is True
    assert document['summary']['blocking'] == 1


def test_a_waiver_never_touches_a_pass_or_another_rule(fleet):
    document = _run(fleet, SEV_RULE, {'name': 'kvm', 'required_traits': ['CUSTOM_KVM']}, waivers=[dict(WAIVER, host='*')])

    assert _one(document, 'hv-sev', 'sev')['verdict'] == 'pass' and _one(document, 'hv-sev', 'sev')['waiver'] is None
    assert _one(document, 'hv-tdx', 'sev')['verdict'] == 'waived'
    assert _one(document, 'hv-tdx', 'kvm')['waiver'] is None


def test_waivers_by_rule_pattern_and_lists(fleet):
    waiver = {'host': ['hv-tdx', 'kvm1'], 'rule': 'secure_*', 'reason': 'r', 'expires': datetime.date(2030, 1, 1)}

    document = _run(fleet, dict(SEV_RULE, name='secure_sev'), waivers=[waiver])

    assert _verdicts(document, 'secure_sev') == {('hv-sev', 'secure_sev'): 'pass', ('hv-tdx', 'secure_sev'): 'waived',
                                                 ('kvm1', 'secure_sev'): 'waived'}


# -- fail_on and the summary ---------------------------------------------------------


@pytest.mark.parametrize('fail_on, blocking', [('info', 2), ('warning', 2), ('error', 2), ('critical', 1), ('none', 0)])
def test_blocking_counts_violations_at_or_above_fail_on(fleet, fail_on, blocking):
    document = _run(fleet, dict(SEV_RULE, name='crit'),  # fails on hv-tdx and kvm1
                    {'name': 'err', 'severity': 'error', 'required_traits': ['HW_CPU_X86_INTEL_TDX']},  # fails on hv-sev, kvm1
                    {'name': 'warn', 'severity': 'warning', 'required_traits': ['CUSTOM_KVM']},
                    waivers=[{'host': 'hv-*', 'rule': '*', 'reason': 'r', 'expires': '2030-01-01'}], fail_on=fail_on)

    # Left after the waivers of hv-*: kvm1's crit and err; every host has CUSTOM_KVM.
    assert document['summary']['violations'] == {'info': 0, 'warning': 0, 'error': 1, 'critical': 1}
    assert document['summary']['blocking'] == blocking
    assert len(document['summary']['blocking_examples']) == blocking
    assert document['fail_on'] == fail_on


# -- validation ----------------------------------------------------------------------


@pytest.mark.parametrize('rule, message', [
    ({'name': 'r', 'required_traits': ['X'], 'severty': 'error'},
     "compliance rule r: has the unknown key 'severty' (did you mean severity?); the keys are name, description"),
    ({'name': 'r', 'severity': 'fatal', 'required_traits': ['X']},
     "compliance rule r: severity is string 'fatal'; use one of info, warning, error, critical"),
    ({'name': 'r', 'jmespath': 'libvirt_host_caps.['},
     "compliance rule r: jmespath 'libvirt_host_caps.[' is not valid JMESPath"),
    ({'name': 'r', 'applies_to': {'jmespath': 'a ==== b'}, 'required_traits': ['X']},
     "compliance rule r: applies_to.jmespath 'a ==== b' is not valid JMESPath"),
    ({'name': 'r', 'min_libvirt_version': 'nine'},
     "compliance rule r: min_libvirt_version is string 'nine', not a version; write it as numbers with dots, quoted, e.g. '8.0.0'"),
    ({'name': 'r', 'min_qemu_version': 9.10},
     "compliance rule r: min_qemu_version is the number 9.1, which YAML read from a version that was not quoted"),
    ({'name': 'r'}, 'compliance rule r: has no check; give exactly one check of required_traits'),
    ({'name': 'r', 'required_traits': ['X'], 'max_age': '1d'}, 'compliance rule r: has 2 checks (required_traits, max_age)'),
    ({'name': 'r', 'required_traits': ['lower']}, "compliance rule r: required_traits 'lower' is not a trait name"),
    ({'name': 'r', 'min_free': {'MEMORY_MB': -1}}, 'compliance rule r: min_free.MEMORY_MB is integer -1; give a number >= 0'),
    ({'name': 'r', 'max_age': '1 fortnight'}, "compliance rule r: max_age: string '1 fortnight' is not a duration"),
    ({'name': 'r', 'required_traits': ['X'], 'applies_to': {'group': ['a']}},
     "compliance rule r: applies_to has the unknown key 'group'; the keys are groups, hosts, jmespath"),
    ({'name': 'r', 'required_traits': ['X'], 'expect': 1}, 'compliance rule r: expect goes only with a jmespath check'),
    ({'name': 'facts_fresh', 'required_traits': ['X']}, 'compliance rule facts_fresh: name is the built-in rule'),
    ({'required_traits': ['X']}, 'compliance rules[0]: name is null; give a name'),
    ('kvm', "compliance rules[0]: is string 'kvm'; each rule is a mapping"),
])
def test_a_rule_that_is_not_valid_names_the_rule_the_field_the_value_and_the_fix(fleet, rule, message):
    with pytest.raises(RuleError) as caught:
        evaluate(fleet, [rule], now=NOW)

    assert str(caught.value).startswith(message), str(caught.value)


def test_two_rules_of_one_name_are_refused(fleet):
    with pytest.raises(RuleError, match='compliance rule a: name is used by an earlier rule too'):
        evaluate(fleet, [{'name': 'a', 'required_traits': ['X']}, {'name': 'a', 'max_age': 60}])


@pytest.mark.parametrize('waiver, message', [
    ({'host': '*', 'rule': 'r', 'reason': 'x', 'expires': '31/12/2026'},
     "compliance waivers[0].expires: is string '31/12/2026', not a date; write it as YYYY-MM-DD"),
    ({'host': '*', 'rule': 'r', 'reason': 'x'}, 'compliance waivers[0]: lacks expires'),
    ({'host': '*', 'rule': 'r', 'reason': ' ', 'expires': '2027-01-01'}, "compliance waivers[0].reason: is string ' '"),
    ({'host': '*', 'rule': 'r', 'reason': 'x', 'expires': '2027-01-01', 'until': 1}, "compliance waivers[0]: has the unknown key 'until'"),
])
def test_a_waiver_that_is_not_valid_is_refused(fleet, waiver, message):
    with pytest.raises(RuleError) as caught:
        evaluate(fleet, [], waivers=[waiver])

    assert str(caught.value).startswith(message), str(caught.value)
