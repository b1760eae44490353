# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: factdb
author: virtumancer.hostcaps contributors (@virtumancer)
version_added: 0.1.0
short_description: Read the factdb fact cache and its history without running a play
description:
  - Reads the store of the P(virtumancer.hostcaps.factdb#cache) cache plugin, an SQLite file or a PostgreSQL
    database, and answers one query per call. It never creates a store and never changes facts or history; an
    SQLite store is opened read-only. Opening a store written by an older plugin version upgrades its schema, as the
    cache plugin would. The store must be private to the user, as for the cache plugin.
  - An option the lookup does not know (a misspelling such as C(from_verison)) is an error, not ignored.
  - V(hosts) lists the hosts with current facts in the store, or with O(trait) the hosts whose current facts have
    that trait. A host whose facts were removed (C(--flush-cache), M(ansible.builtin.meta) V(clear_facts)) is not listed, but its
    history stays for V(versions) and V(diff).
  - V(latest) returns the latest facts of O(host), even when C(fact_caching_timeout) has expired them for plays.
  - V(versions) lists the recorded versions of O(host), oldest first. The cache records one version per run and
    per configuration; a run that changed only counters (free memory, the C(used) of resources, running domains,
    ...) updated the latest version instead of adding one.
  - V(diff) compares two versions of O(host) and returns one change per differing value, for drift reports.
    With O(since), it compares the version that was current at that moment with the latest one, which tells what changed
    on the host since then.
  - Use C(query) or C(lookup(..., wantlist=true)) to always get a list; C(lookup) without C(wantlist) returns
    the only element of a one-element answer (the facts of V(latest), a single host name).
options:
  _terms:
    description:
      - The query, one of V(hosts), V(latest), V(versions) or V(diff). Exactly one term.
    type: list
    elements: str
    required: true
  connection:
    description:
      - The store, as for the cache plugin, so that the lookup reads what the play wrote.
      - A path to an SQLite file (V(~) is expanded), or a V(postgresql://) URI.
    type: str
    default: ~/.ansible/hostcaps/facts.db
    env:
      - name: ANSIBLE_CACHE_PLUGIN_CONNECTION
    ini:
      - section: defaults
        key: fact_caching_connection
  lock_timeout:
    description:
      - Seconds to wait for a lock that another process or session holds (a controller upgrading the store, a table
        locked by hand) before failing with a message naming the lock, as for the cache plugin.
    type: int
    default: 30
    env:
      - name: ANSIBLE_CACHE_PLUGIN_LOCK_TIMEOUT
    ini:
      - section: defaults
        key: fact_caching_lock_timeout
  host:
    description:
      - The inventory host name, as the fact cache keys it. Required by V(latest), V(versions) and V(diff).
    type: str
  trait:
    description:
      - With V(hosts), only the hosts whose latest C(libvirt_host_caps.traits) hold this trait,
        for example V(HW_CPU_X86_AMD_SEV) or V(CUSTOM_FAST_NIC).
    type: str
  from_version:
    description:
      - With V(diff), the older version. Defaults to the version recorded just before O(to_version).
      - When O(to_version) is the first version recorded, there is nothing to compare and the result is empty.
      - Not with O(since), which chooses the older version by time.
    type: int
  since:
    description:
      - With V(diff), the older version is the one that was current at this moment, the last one recorded at or
        before it. Use it for "what changed since last week".
      - An ISO 8601 date or date and time (V(2026-11-26), V(2026-11-26T08:00:00Z), V(2026-11-26T09:00:00+01:00);
        without an offset it is UTC), or a duration before now, a whole number with one unit V(m), V(h), V(d) or
        V(w) (V(7d), V(12h)). Anything else is an error naming the value.
      - A host first recorded after that moment (a new host) is compared with nothing, so every top-level fact of
        the newer version is one V(added) change (V(libvirt_host_caps), V(sriov), ...). A moment after the newer
        version gives an empty result.
      - Retention (C(fact_caching_history_versions), C(fact_caching_history_days)) may have dropped the versions of
        that time; the host then reads as first recorded after it.
    type: str
  to_version:
    description:
      - With V(diff), the newer version. Defaults to the latest one.
    type: int
  ignore:
    description:
      - With V(diff), what is left out of the comparison. A name without C(.) or C([) is a key skipped at any depth
        of the facts; a path from the top of the facts, with V(*) for any key, V([*]) for every list element and
        V([key=value]) for the elements with that value, is removed from both versions
        (V(libvirt_host_caps.resources.*.used), V(ansible_mounts[*].size_available)).
      - Not set, it leaves out V(collected_at), the derived V(libvirt_host_caps.resources) and the counters that
        move between runs without a change of configuration (free memory and huge pages, running domains, storage
        pool allocation, the clock and free space of C(ansible.builtin.setup), ...), listed in C(docs/factdb.md).
      - V([]) compares everything; V([collected_at]) is what this option left out before.
    type: list
    elements: str
notes:
  - The history is kept per host, so the cache plugin's C(_prefix) does not apply here.
  - C(docs/factdb.md) in the collection shows the cache, this lookup, drift reports and grouping hosts by trait
    with P(ansible.builtin.constructed#inventory).
seealso:
  - plugin: virtumancer.hostcaps.factdb
    plugin_type: cache
'''

EXAMPLES = r'''
- name: Hosts whose latest facts say they can run SEV guests
  ansible.builtin.debug:
    msg: "{{ query('virtumancer.hostcaps.factdb', 'hosts', trait='HW_CPU_X86_AMD_SEV') }}"

- name: Every host in a shared PostgreSQL store
  ansible.builtin.debug:
    msg: "{{ query('virtumancer.hostcaps.factdb', 'hosts', connection='postgresql://ansible@db.example.com/facts') }}"

- name: Total memory of hv1 as last recorded, without contacting hv1
  ansible.builtin.debug:
    msg: "{{ lookup('virtumancer.hostcaps.factdb', 'latest', host='hv1').libvirt_host_caps.memory_info.total_mb }}"

- name: When each version of hv1 was collected
  ansible.builtin.debug:
    msg: "{{ query('virtumancer.hostcaps.factdb', 'versions', host='hv1') | map(attribute='collected_at') }}"

- name: What changed on hv1 in its last recorded change
  ansible.builtin.debug:
    msg: "{{ query('virtumancer.hostcaps.factdb', 'diff', host='hv1') }}"

- name: What changed on hv1 in the last 7 days (a new host lists its facts as added)
  ansible.builtin.debug:
    msg: "{{ query('virtumancer.hostcaps.factdb', 'diff', host='hv1', since='7d') | map(attribute='path') | unique }}"

- name: What changed on hv1 since the morning of 26 November 2026, UTC
  ansible.builtin.debug:
    msg: "{{ query('virtumancer.hostcaps.factdb', 'diff', host='hv1', since='2026-11-26T08:00:00Z') }}"

- name: Traits hv1 lost between version 3 and the latest
  ansible.builtin.debug:
    msg: >-
      {{ query('virtumancer.hostcaps.factdb', 'diff', host='hv1', from_version=3)
         | selectattr('path', 'equalto', 'libvirt_host_caps.traits')
         | selectattr('op', 'equalto', 'removed')
         | map(attribute='old') }}
'''

RETURN = r'''
_raw:
  description:
    - V(hosts) - host names, sorted.
    - V(latest) - one element, the facts dict of the host as the cache holds it (C(libvirt_host_caps), C(sriov) and
      any other cacheable fact at the top).
    - V(versions) - one dict per version, oldest first.
    - V(diff) - one dict per change, sorted by path. Mapping keys are joined with C(.), and quoted as C(a["x.y"])
      when they hold other characters than letters, digits and C(_-:/@+). List elements are named by identity
      (C(pools[name=default]), C(domain_capabilities[arch=x86_64,machine=pc-q35-8.2,virttype=kvm]),
      C(cells[id=0]), C(hugepages[size_kb=2048])), else by position (C([0])). Lists of scalars such as
      C(traits) are sets, with one change per element added or removed.
  type: list
  elements: raw
  contains:
    version:
      description: V(versions) - the version number, increasing per host.
      type: int
      sample: 3
    collected_at:
      description: V(versions) - when the facts of this version were collected or stored, UTC.
      type: str
      sample: '2024-05-08T10:00:00Z'
    updated_at:
      description:
        - V(versions) - when the version last took new facts, UTC; later than C(collected_at) when later runs
          changed only its counters.
      type: str
      sample: '2024-05-09T10:00:00Z'
    schema_version:
      description: V(versions) - the C(libvirt_host_caps.schema_version) of the facts.
      type: int
      sample: 1
    hash:
      description: V(versions) - a digest of the facts; equal digests mean equal facts.
      type: str
    path:
      description: V(diff) - where the value lives in the facts.
      type: str
      sample: libvirt_host_caps.memory_info.total_mb
    op:
      description: V(diff) - V(changed), V(added) or V(removed).
      type: str
      sample: changed
    old:
      description: V(diff) - the value in O(from_version); absent for V(added).
      type: raw
      sample: 512000
    new:
      description: V(diff) - the value in O(to_version); absent for V(removed).
      type: raw
      sample: 256000
'''

import difflib
import os
import time

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.store.factdiff import DEFAULT_IGNORE, diff_facts
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.store.factsince import SinceError, parse_since
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.store.factvolatile import VolatileError
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.store.factstore import FactStoreError, mask_uri, open_store, shown

QUERIES = ('hosts', 'latest', 'versions', 'diff')
# Options each query reads; any other one given is a mistake worth reporting.
QUERY_OPTIONS = {
    'hosts': ('trait',),
    'latest': ('host',),
    'versions': ('host',),
    'diff': ('host', 'from_version', 'to_version', 'ignore', 'since'),
}
SPECIFIC_OPTIONS = ('host', 'trait', 'from_version', 'to_version', 'ignore', 'since')
OPTIONS = ('connection', 'lock_timeout') + SPECIFIC_OPTIONS


def display_connection(connection):
    """The connection as it may be shown: a URI loses its password."""
    return mask_uri(connection) if '://' in connection else connection


class LookupModule(LookupBase):

    # The option since as epoch seconds, read once per run (a duration is before the run's now).
    _since = None

    def run(self, terms, variables=None, **kwargs):
        # set_options() passes over a name it does not know: a misspelled option would
        # silently answer another question.
        for option in sorted(kwargs, key=str):
            if option not in OPTIONS:
                close = difflib.get_close_matches(str(option), OPTIONS, n=1)
                raise AnsibleLookupError('factdb lookup: unknown option %s%s; the options are %s'
                                         % (shown(option), ' (did you mean %s?)' % close[0] if close else '', ', '.join(OPTIONS)))
        for option in ('from_version', 'to_version'):
            # Ansible would take true for version 1.
            if isinstance(kwargs.get(option), bool):
                raise AnsibleLookupError("factdb lookup: option %s=%s is not a version number; give a number from query 'versions'"
                                         % (option, kwargs[option]))
        self.set_options(var_options=variables, direct=kwargs)
        if len(terms) != 1:
            raise AnsibleLookupError('factdb lookup: expected one term, the query (one of %s), got %s; pass options such as host= as keywords'
                                     % (', '.join(QUERIES), shown(list(terms)[:5])))
        query = terms[0]
        if query not in QUERIES:
            raise AnsibleLookupError('factdb lookup: unknown query %s; use one of %s' % (shown(query), ', '.join(QUERIES)))
        for option in SPECIFIC_OPTIONS:
            if kwargs.get(option) is not None and option not in QUERY_OPTIONS[query]:
                raise AnsibleLookupError("factdb lookup: option %s=%s has no meaning for query %r; it is read by %s"
                                         % (option, shown(kwargs[option]), query,
                                            ', '.join(repr(q) for q in QUERIES if option in QUERY_OPTIONS[q])))
        since = self.get_option('since')
        if since is not None:
            if kwargs.get('from_version') is not None:
                raise AnsibleLookupError('factdb lookup: options since=%s and from_version=%s both choose the older version of diff; '
                                         'give one of them' % (shown(since), shown(kwargs['from_version'])))
            try:
                # Checked before the store is opened: a typo is reported as such, whatever the store.
                self._since = parse_since(since, time.time())
            except SinceError as exc:
                raise AnsibleLookupError('factdb lookup: option %s' % exc)

        connection = self.get_option('connection')
        if not connection:
            raise AnsibleLookupError('factdb lookup: option connection is empty; set it, ANSIBLE_CACHE_PLUGIN_CONNECTION '
                                     'or fact_caching_connection to the SQLite path or postgresql:// URI of the store')
        if '://' not in connection:
            connection = os.path.expanduser(connection)

        try:
            # The store opens lazily; open it now so that a missing or foreign store is reported as such.
            store = open_store(connection, create=False, lock_timeout=self.get_option('lock_timeout')).open()
        except FactStoreError as exc:
            # The store's messages name the store (without password) and say what to do.
            raise AnsibleLookupError('factdb lookup: %s' % exc)
        try:
            return getattr(self, '_query_%s' % query)(store, connection)
        except FactStoreError as exc:
            raise AnsibleLookupError('factdb lookup: query %r failed: %s' % (query, exc))
        finally:
            store.close()

    def _host(self, query, connection):
        host = self.get_option('host')
        if not host:
            raise AnsibleLookupError("factdb lookup: query %r needs the option host, the inventory name of a host in the store %s, "
                                     "e.g. query('virtumancer.hostcaps.factdb', %r, host='hv1')" % (query, display_connection(connection), query))
        return host

    @staticmethod
    def _unknown_host(host, connection):
        return AnsibleLookupError("factdb lookup: host %r has no facts in the store %s; check the name against the inventory "
                                  "(query 'hosts' lists the stored ones) or run a play that caches its facts first"
                                  % (host, display_connection(connection)))

    def _query_hosts(self, store, connection):
        trait = self.get_option('trait')
        if trait:
            return list(store.hosts_with_trait(trait))
        return list(store.hosts())

    def _query_latest(self, store, connection):
        host = self._host('latest', connection)
        facts = store.latest(host)
        if facts is None:
            if store.versions(host):
                raise AnsibleLookupError("factdb lookup: host %r has no current facts in the store %s (removed by --flush-cache or "
                                         "meta: clear_facts) but its history remains; use query 'versions' and 'diff', or run a play "
                                         "that caches its facts again" % (host, display_connection(connection)))
            raise self._unknown_host(host, connection)
        return [facts]

    def _query_versions(self, store, connection):
        host = self._host('versions', connection)
        versions = store.versions(host)
        if not versions:
            raise self._unknown_host(host, connection)
        return list(versions)

    def _query_diff(self, store, connection):
        host = self._host('diff', connection)
        numbers = [entry['version'] for entry in store.versions(host)]
        if not numbers:
            raise self._unknown_host(host, connection)
        to_version = self._version(host, 'to_version', numbers, numbers[-1])
        position = numbers.index(to_version)
        if self.get_option('since') is not None:
            from_version = store.version_at(host, self._since)
            if from_version is not None and from_version >= to_version:
                return []
            # None: first recorded after since, so compared with nothing (every fact added).
            old = {} if from_version is None else self._facts(store, host, from_version, connection)
        else:
            from_version = self._version(host, 'from_version', numbers, numbers[position - 1] if position else None)
            if from_version is None or from_version == to_version:
                return []
            old = self._facts(store, host, from_version, connection)
        new = self._facts(store, host, to_version, connection)
        ignore = self.get_option('ignore')
        for position, path in enumerate(ignore or ()):
            if not isinstance(path, str):
                raise AnsibleLookupError('factdb lookup: option ignore: element %d is %s (%s), not a string; give key names '
                                         "and paths such as ['collected_at', 'libvirt_host_caps.resources.*.used']"
                                         % (position, shown(path), type(path).__name__))
        try:
            return diff_facts(old, new, ignore=DEFAULT_IGNORE if ignore is None else ignore)
        except VolatileError as exc:
            raise AnsibleLookupError('factdb lookup: option ignore: %s' % exc)

    def _version(self, host, option, numbers, default):
        version = self.get_option(option)
        if version is None:
            return default
        if version not in numbers:
            raise AnsibleLookupError('factdb lookup: host %r has no version %s (%s=%s); its versions are %s, '
                                     "see query('virtumancer.hostcaps.factdb', 'versions', host=%r)"
                                     % (host, version, option, version, _ranges(numbers), host))
        return version

    @staticmethod
    def _facts(store, host, version, connection):
        facts = store.version_facts(host, version)
        if facts is None:
            raise AnsibleLookupError('factdb lookup: version %s of host %r is gone from the store %s, most likely pruned by retention '
                                     'while this lookup ran; run the lookup again' % (version, host, display_connection(connection)))
        return facts


def _ranges(numbers):
    """``[1, 2, 3, 7, 9, 10]`` as ``1-3, 7, 9-10``: retention can leave long histories."""
    spans = []
    for number in numbers:
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ', '.join(str(low) if low == high else '%d-%d' % (low, high) for low, high in spans)
