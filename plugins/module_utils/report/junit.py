# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""JUnit XML of a compliance results document (``policy/compliance.py``), made with
junitparser. One testsuite per rule, one testcase per host in it (classname
``hostcaps.compliance.<rule>``, name the host): CI systems list suites with their counts,
so a reader sees at once which requirement fails on how many hosts. A failed rule is a
``failure`` (a check that could not be made an ``error``) whose message names the fact
path and its value; waived, not applicable and skipped results are ``skipped`` with the
reason (and a waiver's expiry)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import junitparser
    HAS_JUNITPARSER = True
    JUNITPARSER_IMPORT_ERROR = None
except ImportError as exc:  # controller-side only, for the compliance role's JUnit file
    junitparser = None
    HAS_JUNITPARSER = False
    JUNITPARSER_IMPORT_ERROR = exc

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report.text import xml_safe

CLASSNAME_PREFIX = 'hostcaps.compliance.'
# Host names and rule names are identities: kept whole up to this length. Messages and
# details are cut shorter; the JSON and HTML files carry the same results.
NAME_LIMIT = 1024
MESSAGE_LIMIT = 2000
DETAIL_LIMIT = 4000


def _detail(result):
    """The text of a failure or skipped element: every field behind the verdict."""
    lines = ['host: %s' % result['host'], 'rule: %s' % result['rule'], 'severity: %s' % result['severity'],
             'verdict: %s' % result['verdict']]
    found = result.get('evidence')
    if found:
        lines.append('fact: %s' % found.get('path'))
        lines.append('value: %s' % _value(found.get('value')))
    waiver = result.get('waiver')
    if waiver:
        expired = ' (expired)' if waiver.get('expired') else ''
        lines.append('waiver: %s until %s%s: %s' % (waiver.get('host'), waiver.get('expires'), expired, waiver.get('reason')))
    lines.append('message: %s' % result['message'])
    return '\n'.join(lines)


def _value(value):
    import json
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def junit_xml(document, name='hostcaps compliance'):
    """The JUnit XML text of ``document``, with its XML declaration (UTF-8)."""
    if not HAS_JUNITPARSER:
        raise ImportError('the JUnit output needs the Python library junitparser on the controller: pip install '
                          "'junitparser>=3.1' (%s)" % JUNITPARSER_IMPORT_ERROR)
    by_rule = {}
    for result in document['results']:
        by_rule.setdefault(result['rule'], []).append(result)
    root = junitparser.JUnitXml(xml_safe(name, NAME_LIMIT))
    totals = [0, 0, 0, 0]
    for rule in document['rules']:
        results = by_rule.get(rule['name'], [])
        suite = junitparser.TestSuite(xml_safe(rule['name'], NAME_LIMIT))
        if document.get('generated_at'):
            suite.timestamp = xml_safe(document['generated_at'], 64)
        classname = xml_safe(CLASSNAME_PREFIX + rule['name'], NAME_LIMIT)
        cases, counts = [], [len(results), 0, 0, 0]
        for result in results:
            case = junitparser.TestCase(xml_safe(result['host'], NAME_LIMIT), classname)
            verdict = result['verdict']
            if verdict != 'pass':
                if verdict == 'fail':
                    outcome = junitparser.Failure(xml_safe(result['message'], MESSAGE_LIMIT), result['severity'])
                    counts[1] += 1
                elif verdict == 'error':
                    outcome = junitparser.Error(xml_safe(result['message'], MESSAGE_LIMIT), result['severity'])
                    counts[2] += 1
                else:
                    outcome = junitparser.Skipped(xml_safe(result['message'], MESSAGE_LIMIT), verdict)
                    counts[3] += 1
                if verdict in ('fail', 'error', 'waived'):
                    outcome.text = xml_safe(_detail(result), DETAIL_LIMIT)
                case.append(outcome)
            cases.append(case)
        suite.extend(cases)
        # Counted here: junitparser's update_statistics walks every case again per call.
        suite.tests, suite.failures, suite.errors, suite.skipped = counts
        suite.time = 0.0
        root.append(suite)
        totals = [total + count for total, count in zip(totals, counts)]
    root.tests, root.failures, root.errors, root.skipped = totals
    root.time = 0.0
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + root.tostring().decode('utf-8') + '\n'
