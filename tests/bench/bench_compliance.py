# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compliance evaluation of 1,000 hosts x 40 rules from cached facts, with the JUnit,
HTML and JSON writing, in one call; the size of the HTML file and its load time in
headless Chromium.

The hosts are bench_vm_place's: four families of real fixtures (EPYC Milan, EPYC with
SEV, Xeon with TDX, Xeon without UEFI) built through the collection's parsers, each host
its own objects, as hostvars hold them once read from the factdb cache. They are varied
here: libvirt and QEMU versions, domains using part of the resources, one host in 50
without facts, one in 40 with facts a week old, and inventory groups. The rules are the
role's baseline (roles/compliance/vars/main.yml) plus 29 of every check type, some with
applies_to by group, pattern or JMESPath, and waivers (valid and expired).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile
import time

HOSTS_COUNT, RULES_COUNT = 1000, 40
TARGET_SECONDS = 3.0
TARGET_HTML_MB = 5.0
TARGET_LOAD_SECONDS = 2.0
NOW = '2026-12-03T12:00:00Z'
VERSIONS = (('8.0.0', '6.2.0'), ('9.0.0', '7.2.22'), ('10.0.0', '8.2.2'), ('11.3.0', '9.2.0'))


def baseline_rules():
    import yaml
    from _common import REPO_ROOT
    with open(os.path.join(REPO_ROOT, 'roles', 'compliance', 'vars', 'main.yml')) as handle:
        return yaml.safe_load(handle)['compliance_baseline_rules']


def extra_rules(count):
    """``count`` rules cycling through every check type and applies_to form."""
    templates = [
        lambda n: {'min_libvirt_version': '%d.0' % (8 + n % 4)},
        lambda n: {'min_qemu_version': '7.%d' % (n % 3), 'applies_to': {'groups': ['rack%d' % (n % 4)]}},
        lambda n: {'min_free': {'VCPU': 8 * (n % 5 + 1), 'MEMORY_MB': 16384 * (n % 3 + 1)}},
        lambda n: {'jmespath': 'libvirt_host_caps.host_info.online_cpus >= `%d`' % (16 * (n % 5 + 1))},
        lambda n: {'jmespath': 'libvirt_host_caps.memory_info.total_mb', 'expect': 262144},
        lambda n: {'required_traits': ['CUSTOM_IOMMU'], 'applies_to': {'hosts': ['hv0%d*' % (n % 10)]}},
        lambda n: {'forbidden_traits': ['HW_CPU_HYPERTHREADING'],
                   'applies_to': {'jmespath': "libvirt_host_caps.cpu_info.vendor == 'Intel'"}},
        lambda n: {'max_age': '%dh' % (6 * (n % 4 + 1))},
        lambda n: {'jmespath': "length(libvirt_host_caps.storage_info.pools[?active]) > `0`"},
    ]
    severities = ('info', 'warning', 'error', 'critical')
    rules = []
    for number in range(count):
        rule = {'name': 'extra_%02d' % number, 'description': 'bench rule %d' % number,
                'severity': severities[number % len(severities)]}
        rule.update(templates[number % len(templates)](number))
        rules.append(rule)
    return rules


def fleet():
    """(hosts, groups) varied from bench_vm_place's hosts."""
    import copy
    from bench_vm_place import hosts_facts
    hosts = hosts_facts()
    groups = {'all': sorted(hosts)}
    for index, name in enumerate(sorted(hosts)):
        groups.setdefault('rack%d' % (index % 4), []).append(name)
        if index % 50 == 7:
            hosts[name] = {}
            continue
        caps = hosts[name]['ansible_facts']['libvirt_host_caps']
        libvirt_version, qemu_version = VERSIONS[index % len(VERSIONS)]
        caps['host_info'].update(libvirt_version=libvirt_version, hypervisor='QEMU', hypervisor_version=qemu_version)
        caps['resources']['VCPU']['used'] = (index * 7) % 120
        caps['resources']['MEMORY_MB']['used'] = (index * 4099) % 250000
        caps['collected_at'] = '2026-11-26T12:00:00Z' if index % 40 == 3 else '2026-12-03T%02d:00:00Z' % (index % 12)
        hosts[name]['ansible_facts']['libvirt_host_caps'] = copy.deepcopy(caps)
    return hosts, groups


WAIVERS = [
    {'host': 'hv00*', 'rule': 'extra_0*', 'reason': 'first rack in maintenance', 'expires': '2027-01-31'},
    {'host': 'hv01*', 'rule': 'tpm_2_0', 'reason': 'no swtpm yet', 'expires': '2026-11-30'},
    {'host': '*', 'rule': 'facts_complete', 'reason': 'offline dumps', 'expires': '2026-12-31'},
]


def everything(hosts, rules, groups):
    """One call: the evaluation and the three files' texts."""
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.policy.compliance import evaluate
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report.compliance_html import compliance_html
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report.compliance_json import compliance_json
    from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report.junit import junit_xml
    document = evaluate(hosts, rules, waivers=WAIVERS, groups=groups, now=NOW, max_age='1d')
    return document, junit_xml(document), compliance_html(document), compliance_json(document)


def _browser_load(path):
    """Seconds until the load event of ``path`` in headless Chromium (median of 3), and the
    console errors; None when no browser can be started here."""
    import sys
    from _common import REPO_ROOT
    sys.path.insert(0, os.path.join(REPO_ROOT, 'tests', 'functional'))
    try:
        from browser import start_browser
        browser = start_browser()
    except BaseException as exc:  # pytest.fail raises an Exception subclass outside pytest too
        return None, 'no headless Chromium: %s' % exc
    try:
        times = sorted(browser.open(path) for dummy in range(3))
        errors = browser.console_errors()
        cells = browser.run('return document.querySelectorAll("#matrix tbody td[class^=c-]").length')
        return (times[1], errors, cells), None
    finally:
        browser.driver.quit()


def _run(ctx, bench):
    from _common import INFO, MISS, Result, interleave, ratio_verdict, seconds, table
    result = Result(bench.name)
    start = time.perf_counter()
    hosts, groups = fleet()
    rules = baseline_rules()
    rules = rules + extra_rules(RULES_COUNT - len(rules))
    ctx.say('%d hosts (%d without facts), %d rules (%d of the baseline), %d waivers; built in %.1f s' % (
        len(hosts), sum(1 for host in hosts.values() if not host), len(rules), len(baseline_rules()), len(WAIVERS),
        time.perf_counter() - start))
    answers = {}

    def call():
        answers.clear()
        answers['all'] = everything(hosts, rules, groups)

    rounds = ctx.rounds_for(bench)
    stats = interleave([('all', call)], rounds, warmup=1)['all']
    document, junit, html, json_text = answers['all']
    expected = len(hosts) * (len(rules) + 1)
    if len(document['results']) != expected or junit.count('<testcase ') != expected:
        result.invalid = 'expected %d results and testcases, got %d and %d' % (
            expected, len(document['results']), junit.count('<testcase '))
        return result
    sizes = dict((name, len(text.encode('utf-8')) / 1024.0 / 1024.0) for name, text in (
        ('junit', junit), ('html', html), ('json', json_text)))
    verdicts = document['summary']['verdicts']
    ctx.say('verdicts: %s' % ', '.join('%s %d' % item for item in sorted(verdicts.items())))
    ctx.say('sizes: JUnit %.1f MB, HTML %.1f MB, JSON %.1f MB' % (sizes['junit'], sizes['html'], sizes['json']))

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, 'compliance.html')
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write(html)
        loaded, why = _browser_load(path)
    rows = [
        ('evaluation + JUnit + HTML + JSON, one call (median of %d)' % rounds, seconds(stats.median), '< %.1f s' % TARGET_SECONDS,
         ratio_verdict(stats.median, TARGET_SECONDS)),
        ('HTML size', '%.2f MB' % sizes['html'], '< %.1f MB' % TARGET_HTML_MB, ratio_verdict(sizes['html'], TARGET_HTML_MB)),
    ]
    if loaded is None:
        rows.append(('HTML load in headless Chromium', why[:80], '< %.1f s' % TARGET_LOAD_SECONDS, MISS))
    else:
        load, errors, cells = loaded
        rows.append(('HTML load in headless Chromium (median of 3)', seconds(load), '< %.1f s' % TARGET_LOAD_SECONDS,
                     ratio_verdict(load, TARGET_LOAD_SECONDS) if not errors and cells == expected else MISS))
        if errors or cells != expected:
            ctx.say('browser: %d matrix cells of %d, console errors: %s' % (cells, expected, errors[:3]))
    rows.append(('results (hosts x rules incl. facts_fresh)', '%d' % expected, '', INFO))
    rows.append(('fastest, slowest call', '%s, %s' % (seconds(stats.min), seconds(stats.max)), '', INFO))
    ctx.say(table(['metric', 'value', 'target', 'verdict'], rows, 'lrrl'))
    for row in rows:
        result.add(*row)
    return result


def _benchmarks():
    from _common import Benchmark
    return [Benchmark('compliance', 'compliance: %d hosts x %d rules, evaluation + JUnit + HTML + JSON in one call; HTML size '
                      'and load time in headless Chromium' % (HOSTS_COUNT, RULES_COUNT), _run, min_rounds=1, default_rounds=5)]


BENCHMARKS = _benchmarks()
