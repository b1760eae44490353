# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compliance rules over cached host facts: one result per (host, rule), with the fact
path and value behind each verdict. ``docs/compliance.md`` describes the rule and waiver
formats and the results document; the writers of JUnit, JSON and HTML live in
``module_utils/report/``.

Every rule is validated and its JMESPath compiled once (``compile_rules``); ``evaluate``
then only loops over hosts and rules. A host without facts, or with facts older than the
maximum age, fails the built-in rule ``facts_fresh`` and its other rules are ``skipped``,
never passed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import fnmatch
import json
import re

from collections.abc import Mapping

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.freshness import (
    UTC, collected_time, format_age, parse_max_age, parse_time,
)
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import describe, short_name, short_repr
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.traits import (
    HAS_JMESPATH, JMESPATH_IMPORT_ERROR, QueryError, _search_error, compile_query, derive_traits, sriov_traits,
)

SCHEMA_VERSION = 1
SEVERITIES = ('info', 'warning', 'error', 'critical')
SEVERITY_RANK = dict((name, rank) for rank, name in enumerate(SEVERITIES))
FAIL_ON = SEVERITIES + ('none',)
VERDICTS = ('pass', 'fail', 'error', 'waived', 'not_applicable', 'skipped')
# Verdicts that count against a host: a check that could not be made is no pass.
VIOLATIONS = ('fail', 'error')

BUILTIN_RULE = 'facts_fresh'
CHECKS = ('required_traits', 'forbidden_traits', 'jmespath', 'min_libvirt_version', 'min_qemu_version', 'min_free', 'max_age')
RULE_KEYS = ('name', 'description', 'severity', 'applies_to', 'expect') + CHECKS
APPLIES_KEYS = ('groups', 'hosts', 'jmespath')
WAIVER_KEYS = ('host', 'rule', 'reason', 'expires')
DEFAULT_MAX_AGE = 86400

NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$')
TRAIT_RE = re.compile(r'^[A-Z0-9_]{1,255}$')
RESOURCE_RE = re.compile(r'^[A-Z0-9_]{1,255}$')
VERSION_RE = re.compile(r'^[0-9]{1,6}(\.[0-9]{1,6}){0,3}$')
FACT_VERSION_RE = re.compile(r'^\s*([0-9]{1,6}(?:\.[0-9]{1,6}){0,3})')
# Evidence values longer than this (as JSON) are kept as a shortened text.
EVIDENCE_LIMIT = 240

SKIP_REASON = 'not evaluated: facts missing or stale (see %s)' % BUILTIN_RULE


class RuleError(ValueError):
    """A rule or a waiver that cannot be used; the message names it, the field, the value
    and the fix."""


def _rule_error(index, name, field, text):
    who = 'rule %s' % short_name(name) if isinstance(name, str) and name else 'rules[%d]' % index
    return RuleError('compliance %s: %s%s' % (who, '%s ' % field if field else '', text))


def parse_version(text):
    """``(9, 0, 0)`` from ``'9.0.0'`` or ``'8.2.0 (Debian 1:8.2)'``; None when it does not
    start with a version."""
    found = FACT_VERSION_RE.match(text) if isinstance(text, str) else None
    return tuple(int(part) for part in found.group(1).split('.')) if found else None


def _compare_versions(have, want):
    width = max(len(have), len(want))
    return (have + (0,) * (width - len(have))) >= (want + (0,) * (width - len(want)))


def truthy(value):
    """JMESPath's truth: false, null, and empty strings, lists and objects are false;
    every number is true (0 too)."""
    return not (value is None or value is False or value == '' or value == [] or value == {})


_encode_string = json.encoder.encode_basestring


def json_text(value, limit=EVIDENCE_LIMIT):
    """``value`` as compact JSON, cut to ``limit`` characters."""
    if value is None:
        return 'null'
    if value is True or value is False:
        return 'true' if value else 'false'
    if isinstance(value, str):
        text = _encode_string(value if len(value) <= limit else value[:limit])
    elif isinstance(value, (int, float)):
        text = repr(value)
    else:
        try:
            text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(', ', ': '), default=str)
        except (TypeError, ValueError):
            text = short_repr(value, limit)
    return text if len(text) <= limit else text[:limit - 3] + '...'


def _small(value):
    """True for a value surely shorter than EVIDENCE_LIMIT as JSON, without encoding it."""
    if value is None or isinstance(value, (bool, int, float)):
        return True
    if isinstance(value, str):
        return len(value) < EVIDENCE_LIMIT // 2
    if isinstance(value, list) and len(value) <= 8:
        return all(isinstance(item, str) and len(item) <= 24 or item is None or isinstance(item, (bool, int, float))
                   for item in value)
    return False


def evidence(path, value):
    """``{path, value}``; a value whose JSON is longer than EVIDENCE_LIMIT is kept as its
    shortened JSON text, with ``truncated: true``."""
    if _small(value):
        return {'path': path, 'value': value}
    text = json_text(value, EVIDENCE_LIMIT + 1)
    if len(text) > EVIDENCE_LIMIT:
        return {'path': path, 'value': text[:EVIDENCE_LIMIT - 3] + '...', 'truncated': True}
    return {'path': path, 'value': value}


# -- rules -------------------------------------------------------------------------


class Rule:
    """One validated rule: ``check(host)`` returns ``(verdict, message, evidence)``."""

    builtin = False

    def __init__(self, name, description, severity, kind, params, applies=None, expect=None, has_expect=False):
        self.name = name
        self.description = description
        self.severity = severity
        self.kind = kind
        self.params = params
        self.applies = applies
        self.expect = expect
        self.has_expect = has_expect
        self.compiled = None

    def describe(self):
        check = dict(self.params) if self.kind in ('required_traits', 'forbidden_traits') else {self.kind: self.params}
        if self.has_expect:
            check['expect'] = self.expect
        found = {'name': self.name, 'description': self.description, 'severity': self.severity,
                 'check': check, 'builtin': self.builtin}
        if self.applies:
            found['applies_to'] = self.applies.source
        return found


class Applies:
    """The ``applies_to`` of a rule: every condition given must hold."""

    def __init__(self, source, groups, hosts, query, compiled):
        self.source = source
        self.groups = groups
        self.hosts = hosts
        self.query = query
        self.compiled = compiled

    def why_not(self, host):
        """None when the rule applies to ``host``, else why not (for the result)."""
        if self.groups is not None and not (self.groups & host.groups):
            return 'applies to the groups %s; the host is in %s' % (', '.join(sorted(self.groups)), ', '.join(sorted(host.groups)) or 'none')
        if self.hosts is not None and not any(fnmatch.fnmatchcase(host.name, pattern) for pattern in self.hosts):
            return 'applies to hosts matching %s' % ', '.join(self.hosts)
        if self.compiled is not None:
            try:
                value = self.compiled.search(host.data)
            except Exception as exc:  # jmespath raises its own errors and Python's on bad data
                raise _SearchFailed('applies_to.jmespath %s failed on these facts: %s' % (short_repr(self.query, 120), _search_error(exc)))
            if not truthy(value):
                return 'applies_to.jmespath %s is %s here' % (short_repr(self.query, 120), json_text(value, 60))
        return None


class _SearchFailed(Exception):
    pass


def _strings(index, name, field, value, pattern=None, what='a name'):
    """A list of strings from a string or a list of them, checked against ``pattern``."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(item, str) and item for item in items):
        raise _rule_error(index, name, field, 'is %s; give %s or a non-empty list of them' % (describe(value), what))
    if pattern is not None:
        for item in items:
            if not pattern.match(item):
                raise _rule_error(index, name, field, '%s is not %s; %s' % (
                    short_repr(item), what, 'trait names are upper case, e.g. COMPUTE_SECURITY_TPM_2_0'
                    if pattern is TRAIT_RE else 'resource classes are upper case, e.g. MEMORY_MB'))
    return items


def _compile(index, name, field, query):
    if not isinstance(query, str) or not query.strip():
        raise _rule_error(index, name, field, "is %s; give a JMESPath expression over the facts, e.g. "
                          "'libvirt_host_caps.virt_info.kvm_available'" % describe(query))
    if not HAS_JMESPATH:
        raise _rule_error(index, name, field, 'needs the Python library jmespath on the controller: pip install jmespath (%s)'
                          % JMESPATH_IMPORT_ERROR)
    try:
        return compile_query(query)
    except QueryError as exc:
        raise _rule_error(index, name, field, '%s %s; fix the expression: paths start at libvirt_host_caps or sriov, '
                          'literals need backticks (`25000`) or quotes (\'AMD\')' % (short_repr(query, 120), exc))


def _version(index, name, field, value):
    if isinstance(value, float):
        raise _rule_error(index, name, field, 'is the number %r, which YAML read from a version that was not quoted '
                          "(9.10 becomes 9.1); quote it: '%s'" % (value, value))
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not VERSION_RE.match(text.strip()):
        raise _rule_error(index, name, field, "is %s, not a version; write it as numbers with dots, quoted, e.g. '8.0.0'"
                          % describe(value))
    return text.strip()


def _applies(index, name, value):
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _rule_error(index, name, 'applies_to', 'is %s; give a mapping with any of %s' % (describe(value), ', '.join(APPLIES_KEYS)))
    unknown = sorted(set(value) - set(APPLIES_KEYS), key=str)
    if unknown:
        raise _rule_error(index, name, 'applies_to', 'has the unknown key %s; the keys are %s'
                          % (short_repr(unknown[0], 40), ', '.join(APPLIES_KEYS)))
    groups = set(_strings(index, name, 'applies_to.groups', value['groups'], what='a group name')) if 'groups' in value else None
    hosts = _strings(index, name, 'applies_to.hosts', value['hosts'], what='a host pattern') if 'hosts' in value else None
    query = value.get('jmespath')
    compiled = _compile(index, name, 'applies_to.jmespath', query) if 'jmespath' in value else None
    if groups is None and hosts is None and compiled is None:
        return None
    return Applies(dict(value), groups, hosts, query, compiled)


def compile_rule(index, rule):
    """A ``Rule`` of the mapping ``rule`` (the ``index``-th of the list); RuleError when it is
    not valid."""
    if not isinstance(rule, Mapping):
        raise _rule_error(index, None, None, 'is %s; each rule is a mapping with name, description, severity and one '
                          'check (%s)' % (describe(rule), ', '.join(CHECKS)))
    name = rule.get('name')
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise _rule_error(index, None, 'name', 'is %s; give a name of letters, digits and _ . : - (at most 128), e.g. '
                          'kvm_usable' % describe(name))
    if name == BUILTIN_RULE:
        raise _rule_error(index, name, 'name', 'is the built-in rule of fact freshness; set its age with max_age '
                          '(hostcaps_max_age) and choose another name')
    unknown = sorted(set(rule) - set(RULE_KEYS), key=str)
    if unknown:
        import difflib  # only for this message
        key = unknown[0]
        close = difflib.get_close_matches(key, RULE_KEYS, n=1) if isinstance(key, str) else []
        raise _rule_error(index, name, None, 'has the unknown key %s%s; the keys are %s'
                          % (short_repr(key, 40), ' (did you mean %s?)' % close[0] if close else '', ', '.join(RULE_KEYS)))
    description = rule.get('description', '')
    if not isinstance(description, str):
        raise _rule_error(index, name, 'description', 'is %s; give a text' % describe(description))
    severity = rule.get('severity', 'error')
    if severity not in SEVERITIES:
        raise _rule_error(index, name, 'severity', 'is %s; use one of %s' % (describe(severity), ', '.join(SEVERITIES)))
    checks = [key for key in CHECKS if key in rule]
    kinds = set('traits' if key in ('required_traits', 'forbidden_traits') else key for key in checks)
    if len(kinds) != 1:
        raise _rule_error(index, name, None, '%s; give exactly one check of %s (required_traits and forbidden_traits '
                          'together count as one)' % ('has no check' if not kinds else 'has %d checks (%s)' % (len(kinds), ', '.join(checks)),
                                                      ', '.join(CHECKS)))
    if 'expect' in rule and 'jmespath' not in rule:
        raise _rule_error(index, name, 'expect', 'goes only with a jmespath check; remove it or add jmespath')
    applies = _applies(index, name, rule.get('applies_to'))
    kind = checks[0]
    if kind in ('required_traits', 'forbidden_traits'):
        params = dict((key, _strings(index, name, key, rule[key], TRAIT_RE, 'a trait name')) for key in checks)
        found = Rule(name, description, severity, 'traits', params, applies)
    elif kind == 'jmespath':
        found = Rule(name, description, severity, kind, rule[kind], applies, rule.get('expect'), 'expect' in rule)
        found.compiled = _compile(index, name, 'jmespath', rule[kind])
    elif kind in ('min_libvirt_version', 'min_qemu_version'):
        text = _version(index, name, kind, rule[kind])
        found = Rule(name, description, severity, kind, text, applies)
        found.compiled = parse_version(text)
    elif kind == 'min_free':
        amounts = rule[kind]
        if not isinstance(amounts, Mapping) or not amounts:
            raise _rule_error(index, name, kind, 'is %s; give resource classes and the free amount each needs, e.g. '
                              '{MEMORY_MB: 4096, VCPU: 2}' % describe(amounts))
        for resource, amount in amounts.items():
            if not isinstance(resource, str) or not RESOURCE_RE.match(resource):
                raise _rule_error(index, name, kind, 'names %s, not a resource class; use the names of the facts\' '
                                  'resources, e.g. MEMORY_MB, VCPU, DISK_GB' % short_repr(resource, 40))
            if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount < 0:
                raise _rule_error(index, name, '%s.%s' % (kind, resource), 'is %s; give a number >= 0' % describe(amount))
        found = Rule(name, description, severity, kind, dict(amounts), applies)
    else:
        try:
            seconds = parse_max_age(rule[kind], 'max_age')
        except ValueError as exc:
            raise _rule_error(index, name, None, str(exc))
        found = Rule(name, description, severity, kind, rule[kind], applies)
        found.compiled = seconds
    return found


def compile_rules(rules):
    """``Rule`` objects of a list of rule mappings, in order; RuleError for the first one
    that is not valid, or for two of the same name."""
    if rules is None:
        rules = []
    if not isinstance(rules, list):
        raise RuleError('compliance rules: expected a list of rules, got %s; see docs/compliance.md' % describe(rules))
    compiled, seen = [], set()
    for index, rule in enumerate(rules):
        found = compile_rule(index, rule)
        if found.name in seen:
            raise _rule_error(index, found.name, 'name', 'is used by an earlier rule too; give each rule its own name')
        seen.add(found.name)
        compiled.append(found)
    return compiled


class FreshnessRule(Rule):
    builtin = True

    def __init__(self, max_age):
        Rule.__init__(self, BUILTIN_RULE, 'The host has libvirt_host_caps facts, collected at most %s ago (built in: '
                      'facts missing or stale)' % (format_age(max_age) if max_age else 'any time'),
                      'error', 'max_age', max_age)
        self.compiled = max_age

    def describe(self):
        found = Rule.describe(self)
        found['check'] = {'max_age': self.compiled}
        return found


# -- waivers -----------------------------------------------------------------------


class Waiver:
    def __init__(self, hosts, rules, reason, expires):
        self.hosts = hosts
        self.rules = rules
        self.reason = reason
        self.expires = expires

    def matches(self, host, rule):
        return (any(fnmatch.fnmatchcase(host, pattern) for pattern in self.hosts)
                and any(fnmatch.fnmatchcase(rule, pattern) for pattern in self.rules))

    def describe(self, expired):
        return {'host': self.hosts[0] if len(self.hosts) == 1 else self.hosts,
                'rule': self.rules[0] if len(self.rules) == 1 else self.rules,
                'reason': self.reason, 'expires': self.expires.isoformat(), 'expired': expired}


def _waiver_error(index, field, text):
    return RuleError('compliance waivers[%d]%s: %s' % (index, '.' + field if field else '', text))


def _date(index, value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _waiver_error(index, 'expires', 'is %s, not a date; write it as YYYY-MM-DD, e.g. 2027-03-31' % describe(value))


def compile_waivers(waivers):
    """``Waiver`` objects of a list of waiver mappings; RuleError for one that is not valid."""
    if waivers is None:
        return []
    if not isinstance(waivers, list):
        raise RuleError('compliance waivers: expected a list of {host, rule, reason, expires}, got %s' % describe(waivers))
    found = []
    for index, waiver in enumerate(waivers):
        if not isinstance(waiver, Mapping):
            raise _waiver_error(index, None, 'is %s; write it as {host: PATTERN, rule: NAME, reason: TEXT, expires: '
                                'YYYY-MM-DD}' % describe(waiver))
        unknown = sorted(set(waiver) - set(WAIVER_KEYS), key=str)
        if unknown:
            raise _waiver_error(index, None, 'has the unknown key %s; the keys are %s' % (short_repr(unknown[0], 40), ', '.join(WAIVER_KEYS)))
        missing = [key for key in WAIVER_KEYS if key not in waiver]
        if missing:
            raise _waiver_error(index, None, 'lacks %s; a waiver names the hosts, the rule, why and until when' % ', '.join(missing))
        hosts = _waiver_patterns(index, 'host', waiver['host'])
        rules = _waiver_patterns(index, 'rule', waiver['rule'])
        reason = waiver['reason']
        if not isinstance(reason, str) or not reason.strip():
            raise _waiver_error(index, 'reason', 'is %s; say why the rule is waived, for whoever reads the report' % describe(reason))
        found.append(Waiver(hosts, rules, reason.strip(), _date(index, waiver['expires'])))
    return found


def _waiver_patterns(index, field, value):
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(item, str) and item for item in items):
        raise _waiver_error(index, field, 'is %s; give a name or pattern (fnmatch: hv-lab-*), or a list of them' % describe(value))
    return items


# -- hosts -------------------------------------------------------------------------


class Host:
    """What the rules read of one host."""

    def __init__(self, name, data, groups):
        self.name = name
        self.groups = groups
        self.facts = None
        self.sriov = None
        self.problem = None
        self._traits = None
        holder = data
        if isinstance(holder, Mapping) and isinstance(holder.get('ansible_facts'), Mapping):
            holder = holder['ansible_facts']
        if not isinstance(holder, Mapping) or not holder:
            self.problem = 'no facts at all (never gathered, or the host was unreachable)'
        elif 'libvirt_host_caps' in holder:
            facts = holder['libvirt_host_caps']
            if facts is None:
                self.problem = 'libvirt_host_caps is null'
            elif not isinstance(facts, Mapping):
                self.problem = 'libvirt_host_caps is %s, not the facts mapping' % describe(facts, 40)
            else:
                self.facts = facts
                sriov = holder.get('sriov')
                self.sriov = sriov if isinstance(sriov, Mapping) else None
        elif 'schema_version' in holder or 'host_info' in holder:
            self.facts = holder
        else:
            self.problem = 'facts, but no libvirt_host_caps among them'
        self.data = {'libvirt_host_caps': self.facts, 'sriov': self.sriov}

    @property
    def traits(self):
        if self._traits is None:
            listed = self.facts.get('traits')
            if isinstance(listed, list):
                traits = set(item for item in listed if isinstance(item, str))
            else:
                try:
                    traits = set(derive_traits(dict(self.facts)))
                except ValueError:
                    traits = set()
            try:
                traits.update(sriov_traits(self.sriov))
            except (TypeError, ValueError, AttributeError):
                pass
            self._traits = traits
        return self._traits


# -- checks ------------------------------------------------------------------------


def _check_traits(rule, host):
    traits = host.traits
    required = rule.params.get('required_traits', [])
    forbidden = rule.params.get('forbidden_traits', [])
    missing = [name for name in required if name not in traits]
    present = [name for name in forbidden if name in traits]
    shown = sorted(name for name in required + forbidden if name in traits)
    found = evidence('libvirt_host_caps.traits', shown)
    problems = []
    if missing:
        problems.append('lacks %s' % ', '.join(missing))
    if present:
        problems.append('has the forbidden %s' % ', '.join(present))
    if problems:
        return 'fail', 'libvirt_host_caps.traits %s' % ' and '.join(problems), found
    parts = []
    if required:
        parts.append('has %s' % ', '.join(required))
    if forbidden:
        parts.append('has none of %s' % ', '.join(forbidden))
    return 'pass', 'libvirt_host_caps.traits %s' % ' and '.join(parts), found


def _check_jmespath(rule, host):
    path = rule.params
    try:
        value = rule.compiled.search(host.data)
    except Exception as exc:  # jmespath raises its own errors and Python's on bad data
        return 'error', 'jmespath %s failed on these facts: %s; guard what may be null, e.g. x || `[]`' % (
            short_repr(path, 120), _search_error(exc)), evidence(path, None)
    shown = json_text(value, 80)
    if rule.has_expect:
        expect = rule.expect
        same = value == expect and isinstance(value, bool) == isinstance(expect, bool)
        if same:
            return 'pass', '%s is %s' % (path, shown), evidence(path, value)
        return 'fail', '%s is %s; expected %s' % (path, shown, json_text(expect, 80)), evidence(path, value)
    if truthy(value):
        return 'pass', '%s is %s' % (path, shown), evidence(path, value)
    return 'fail', '%s is %s; expected a true value (not false, null or empty)' % (path, shown), evidence(path, value)


def _check_version(rule, host):
    path = 'libvirt_host_caps.host_info.libvirt_version' if rule.kind == 'min_libvirt_version' \
        else 'libvirt_host_caps.host_info.hypervisor_version'
    info = host.facts.get('host_info') if isinstance(host.facts.get('host_info'), Mapping) else {}
    value = info.get(path.rsplit('.', 1)[1])
    if rule.kind == 'min_qemu_version':
        hypervisor = info.get('hypervisor')
        if not isinstance(hypervisor, str) or hypervisor.upper() != 'QEMU':
            return 'fail', 'libvirt_host_caps.host_info.hypervisor is %s, not QEMU; needs QEMU >= %s' % (
                json_text(hypervisor, 40), rule.params), evidence('libvirt_host_caps.host_info.hypervisor', hypervisor)
    have = parse_version(value)
    if have is None:
        return 'fail', '%s is %s (unknown: offline facts carry no versions); needs >= %s' % (
            path, json_text(value, 40), rule.params), evidence(path, value)
    if _compare_versions(have, rule.compiled):
        return 'pass', '%s is %s, >= %s' % (path, value, rule.params), evidence(path, value)
    return 'fail', '%s is %s; needs >= %s' % (path, value, rule.params), evidence(path, value)


def _number(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _check_min_free(rule, host):
    resources = host.facts.get('resources') if isinstance(host.facts.get('resources'), Mapping) else {}
    short, first, passed = [], None, []
    for name, amount in rule.params.items():
        path = 'libvirt_host_caps.resources.%s' % name
        inventory = resources.get(name)
        if not isinstance(inventory, Mapping) or _number(inventory.get('total')) is None:
            short.append('%s is absent (needs %s free)' % (path, _amount(amount)))
            first = first or evidence(path, inventory)
            continue
        total = _number(inventory.get('total'))
        reserved = _number(inventory.get('reserved')) or 0
        used = _number(inventory.get('used')) or 0
        ratio = _number(inventory.get('allocation_ratio'))
        ratio = 1.0 if ratio is None else ratio
        free = (total - reserved) * ratio - used
        shown = dict(inventory, free=_amount(free))
        if free < amount:
            short.append('%s has %s free ((total %s - reserved %s) x %s - used %s); needs %s'
                         % (path, _amount(free), _amount(total), _amount(reserved), _amount(ratio), _amount(used), _amount(amount)))
            first = first or evidence(path, shown)
        else:
            passed.append((path, shown, '%s has %s free, >= %s' % (path, _amount(free), _amount(amount))))
    if short:
        return 'fail', '; '.join(short), first
    return 'pass', '; '.join(text for dummy, dummy2, text in passed), evidence(passed[0][0], passed[0][1])


def _amount(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return round(value, 3) if isinstance(value, float) else value


def _check_max_age(rule, host, now):
    collected = collected_time(host.facts)
    raw = host.facts.get('collected_at')
    path = 'libvirt_host_caps.collected_at'
    limit = rule.compiled
    if collected is None:
        return 'fail', '%s is %s, not a time; the facts\' age is unknown' % (path, json_text(raw, 60)), evidence(path, raw)
    age = (now - collected).total_seconds()
    if limit and age > limit:
        return 'fail', '%s is %s, %s old; older than the max age %s' % (path, raw, format_age(age), format_age(limit)), evidence(path, raw)
    return 'pass', '%s is %s, %s old%s' % (path, raw, format_age(max(age, 0)), '; max age %s' % format_age(limit) if limit else ''), \
        evidence(path, raw)


def _check_fresh(rule, host, now):
    if host.facts is None:
        return 'fail', 'facts missing: %s; run the discover role (or libvirt_host_caps) on the host' % host.problem, \
            evidence('libvirt_host_caps', None)
    verdict, message, found = _check_max_age(rule, host, now)
    if verdict == 'fail':
        message = 'facts stale: %s; discover the host again' % message
    return verdict, message, found


CHECK_FUNCTIONS = {
    'traits': _check_traits,
    'jmespath': _check_jmespath,
    'min_libvirt_version': _check_version,
    'min_qemu_version': _check_version,
    'min_free': _check_min_free,
}


# -- evaluation --------------------------------------------------------------------


def _host_groups(groups):
    """host -> set of group names, from Ansible's ``groups`` (group -> hosts)."""
    if groups is None:
        return {}
    if not isinstance(groups, Mapping):
        raise RuleError('compliance groups: expected the mapping of group name to host names (Ansible\'s groups), got %s'
                        % describe(groups))
    found = {}
    for group, members in groups.items():
        if isinstance(members, str) or not isinstance(members, list):
            continue
        for member in members:
            found.setdefault(str(member), set()).add(str(group))
    return found


def _result(host, rule, verdict, message, found, waiver=None):
    return {'host': host, 'rule': rule.name, 'severity': rule.severity, 'verdict': verdict, 'message': message,
            'evidence': found, 'waiver': waiver}


def _apply_waivers(result, waivers, today):
    expired = None
    for waiver in waivers:
        if not waiver.matches(result['host'], result['rule']):
            continue
        if today <= waiver.expires:
            result['verdict'] = 'waived'
            result['waiver'] = waiver.describe(False)
            result['message'] = '%s (waived until %s: %s)' % (result['message'], waiver.expires.isoformat(), waiver.reason)
            return
        if expired is None or waiver.expires > expired.expires:
            expired = waiver
    if expired is not None:
        result['waiver'] = expired.describe(True)
        result['message'] = '%s (waiver expired on %s: %s)' % (result['message'], expired.expires.isoformat(), expired.reason)


def evaluate(hosts, rules=None, waivers=None, groups=None, now=None, max_age=DEFAULT_MAX_AGE, fail_on='error'):
    """The results document of ``rules`` over ``hosts`` (host name -> hostvars[host],
    its ansible_facts, or the bare libvirt_host_caps; None for a host without facts).
    ``groups`` is Ansible's ``groups``, for ``applies_to.groups``; ``now`` the time the
    facts' age is measured at (default: the clock); ``max_age`` the age beyond which a
    host's facts fail ``facts_fresh`` (seconds or ``1d``/``12h``/``30m``; 0: no limit);
    ``fail_on`` the lowest severity that counts as blocking in ``summary.blocking``.
    Raises RuleError for a rule, waiver or argument that is not valid."""
    if not isinstance(hosts, Mapping):
        raise RuleError('compliance hosts: expected a mapping of host name to its variables or facts, got %s' % describe(hosts))
    compiled = compile_rules(rules)
    compiled_waivers = compile_waivers(waivers)
    try:
        seconds = parse_max_age(max_age, 'max_age')
        now = datetime.datetime.now(UTC) if now is None else parse_time(now, 'now')
    except ValueError as exc:
        raise RuleError('compliance %s' % exc)
    if fail_on not in FAIL_ON:
        raise RuleError('compliance fail_on: %s is not one of %s' % (describe(fail_on), ', '.join(FAIL_ON)))
    membership = _host_groups(groups)
    fresh = FreshnessRule(seconds)
    today = now.date()
    results = []
    names = sorted(hosts, key=str)
    for name in names:
        host = Host(str(name), hosts[name], membership.get(str(name), set()))
        verdict, message, found = _check_fresh(fresh, host, now)
        first = _result(host.name, fresh, verdict, message, found)
        if verdict != 'pass' and compiled_waivers:
            _apply_waivers(first, compiled_waivers, today)
        results.append(first)
        usable = host.facts is not None and first['verdict'] in ('pass', 'waived')
        for rule in compiled:
            if not usable:
                results.append(_result(host.name, rule, 'skipped', SKIP_REASON, None))
                continue
            results.append(_evaluate_one(rule, host, now, compiled_waivers, today))
    every = [fresh] + compiled
    return {
        'schema_version': SCHEMA_VERSION,
        'generated_at': now.strftime('%Y-%m-%dT%H:%M:%SZ'),
        'max_age': seconds,
        'fail_on': fail_on,
        'hosts': [str(name) for name in names],
        'rules': [rule.describe() for rule in every],
        'results': results,
        'summary': summarize(results, fail_on, len(names), len(every)),
    }


def _evaluate_one(rule, host, now, waivers, today):
    if rule.applies is not None:
        try:
            why = rule.applies.why_not(host)
        except _SearchFailed as exc:
            result = _result(host.name, rule, 'error', '%s; guard what may be null, e.g. x || `[]`' % exc, None)
            if waivers:
                _apply_waivers(result, waivers, today)
            return result
        if why is not None:
            return _result(host.name, rule, 'not_applicable', 'not applicable: %s' % why, None)
    if rule.kind == 'max_age':
        verdict, message, found = _check_max_age(rule, host, now)
    else:
        verdict, message, found = CHECK_FUNCTIONS[rule.kind](rule, host)
    result = _result(host.name, rule, verdict, message, found)
    if verdict in VIOLATIONS and waivers:
        _apply_waivers(result, waivers, today)
    return result


def blocking(result, fail_on):
    """True when ``result`` is a violation at or above ``fail_on``."""
    return (fail_on != 'none' and result['verdict'] in VIOLATIONS
            and SEVERITY_RANK[result['severity']] >= SEVERITY_RANK[fail_on])


def summarize(results, fail_on, hosts, rules, examples=5):
    by_verdict = dict((verdict, 0) for verdict in VERDICTS)
    by_severity = dict((severity, 0) for severity in SEVERITIES)
    failing_hosts = set()
    first = []
    count = 0
    for result in results:
        by_verdict[result['verdict']] += 1
        if result['verdict'] in VIOLATIONS:
            by_severity[result['severity']] += 1
            failing_hosts.add(result['host'])
            if blocking(result, fail_on):
                count += 1
                if len(first) < examples:
                    first.append('%s %s (%s): %s' % (result['host'], result['rule'], result['severity'], result['message']))
    return {'hosts': hosts, 'rules': rules, 'results': len(results), 'verdicts': by_verdict,
            'violations': by_severity, 'hosts_failing': len(failing_hosts), 'blocking': count, 'blocking_examples': first}
