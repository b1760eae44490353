# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filters compliance_evaluate and compliance_report: registered, tagged 2.19 values
reach jmespath plain, and bad input is an AnsibleFilterError that names it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.virtumancer.hostcaps.plugins.filter.compliance_evaluate import FilterModule as EvaluateModule
from ansible_collections.virtumancer.hostcaps.plugins.filter.compliance_evaluate import compliance_evaluate
from ansible_collections.virtumancer.hostcaps.plugins.filter.compliance_report import FilterModule as ReportModule
from ansible_collections.virtumancer.hostcaps.plugins.filter.compliance_report import compliance_report

FACTDB = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'fixtures', 'factdb', 'debian12-kvm-host.facts.json')
NOW = '2026-12-02T18:00:00Z'
RULES = [
    {'name': 'kvm', 'applies_to': {'jmespath': "contains(libvirt_host_caps.traits, 'CUSTOM_KVM')"},
     'jmespath': "contains(libvirt_host_caps.traits, 'COMPUTE_SECURITY_TPM_2_0')"},
    {'name': 'sev', 'severity': 'warning', 'required_traits': ['HW_CPU_X86_AMD_SEV']},
]


@pytest.fixture(scope='module')
def hosts():
    with open(FACTDB) as handle:
        return {'kvm1': {'ansible_facts': json.load(handle)}, 'gone': {}}


def test_the_filters_are_registered():
    assert EvaluateModule().filters() == {'compliance_evaluate': compliance_evaluate}
    assert ReportModule().filters() == {'compliance_report': compliance_report}


def test_tagged_values_reach_jmespath_plain(hosts):
    tags = pytest.importorskip('ansible._internal._datatag._tags', reason='ansible-core 2.19 tags values')
    tag = tags.Origin(path='/inventory/group_vars/all.yml', line_num=3).tag

    def tagged(value):
        if isinstance(value, dict):
            return tag(dict((tagged(key), tagged(item)) for key, item in value.items()))
        if isinstance(value, list):
            return tag([tagged(item) for item in value])
        return tag(value) if isinstance(value, str) else value

    document = compliance_evaluate(tagged(hosts), rules=tagged(RULES), groups=tagged({'all': ['kvm1', 'gone']}), now=tag(NOW),
                                   max_age=tag('1d'))

    verdicts = dict(((r['host'], r['rule']), r['verdict']) for r in document['results'])
    assert verdicts == {('gone', 'facts_fresh'): 'fail', ('gone', 'kvm'): 'skipped', ('gone', 'sev'): 'skipped',
                        ('kvm1', 'facts_fresh'): 'pass', ('kvm1', 'kvm'): 'pass', ('kvm1', 'sev'): 'fail'}


@pytest.mark.parametrize('fmt, start', [('json', '{"fail_on":"error"'), ('junit', '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites'),
                                        ('html', '<!DOCTYPE html>'), ('table', 'RULE ')])
def test_every_format(hosts, fmt, start):
    document = compliance_evaluate(hosts, rules=RULES, now=NOW)

    assert compliance_report(document, format=fmt).startswith(start)


def test_a_bad_rule_is_a_filter_error_naming_it(hosts):
    with pytest.raises(AnsibleFilterError, match="compliance_evaluate: compliance rule sev: severity is string 'high'; use one of"):
        compliance_evaluate(hosts, rules=[dict(RULES[1], severity='high')])


def test_a_bad_format_or_input_is_a_filter_error(hosts):
    document = compliance_evaluate(hosts, rules=RULES, now=NOW)
    with pytest.raises(AnsibleFilterError, match="compliance_report: format string 'pdf' is not one of html, json, junit, table"):
        compliance_report(document, format='pdf')
    with pytest.raises(AnsibleFilterError, match='compliance_report: expected the results of virtumancer.hostcaps.compliance_evaluate'):
        compliance_report({'hosts': []})
    with pytest.raises(AnsibleFilterError, match="compliance_evaluate: compliance fail_on: string 'sometimes' is not one of"):
        compliance_evaluate(hosts, fail_on='sometimes')
    with pytest.raises(AnsibleFilterError, match="compliance_evaluate: compliance max_age: string 'soon' is not a duration"):
        compliance_evaluate(hosts, max_age='soon')
