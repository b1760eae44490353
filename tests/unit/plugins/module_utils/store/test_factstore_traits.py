# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The traits index of the factdb store: exact under concurrent controllers, and rebuilt from
the stored facts when an older store is upgraded. Both backends, PostgreSQL the real server."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# pylint: disable=redefined-outer-name  # pytest fixtures are passed by name

import multiprocessing

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.store import factstore
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.store.factstore import open_store
# pylint: disable-next=unused-import
from ansible_collections.virtumancer.hostcaps.tests.unit.plugins.module_utils.store.test_factstore import backend, caps  # noqa: F401

CONTROLLERS = 3
HOSTS_PER_CONTROLLER = 3000
# Every tenth host is written again later with other traits, so the index also loses entries.
REWRITE_EVERY = 10
TRAIT_BITS = 4


def host_traits(number, rewritten=False):
    """Traits that differ from host to host: each of 16 combinations of CUSTOM_BIT<n>, plus one
    every host has; a rewrite takes CUSTOM_ALL away and gives CUSTOM_REWRITTEN."""
    traits = ['CUSTOM_BIT%d' % bit for bit in range(TRAIT_BITS) if number >> bit & 1]
    return traits + (['CUSTOM_REWRITTEN'] if rewritten else ['CUSTOM_ALL'])


def _controller(connection, name, count, barrier, errors):
    try:
        store = open_store(connection).open()
        barrier.wait(60)
        for number in range(count):
            store.set('%s-%04d' % (name, number), caps(traits=host_traits(number), total_mb=number))
            if number >= 100 and number % REWRITE_EVERY == 0:
                again = number - 100
                store.set('%s-%04d' % (name, again), caps(traits=host_traits(again, rewritten=True), total_mb=again))
        store.close()
    except Exception as exc:  # pylint: disable=broad-except
        errors.put('%s: %s' % (name, exc))


def index_errors(store):
    """Every (trait, host) on which hosts_with_trait() and the stored facts disagree."""
    expected = {}
    for host in store.hosts():
        for trait in factstore.facts_traits(store.latest(host)):
            expected.setdefault(trait, set()).add(host)
    traits = set(expected) | set('CUSTOM_BIT%d' % bit for bit in range(TRAIT_BITS)) | {'CUSTOM_ALL', 'CUSTOM_REWRITTEN'}
    missing, extra = [], []
    for trait in sorted(traits):
        found = set(store.hosts_with_trait(trait))
        missing.extend((trait, host) for host in sorted(expected.get(trait, set()) - found))
        extra.extend((trait, host) for host in sorted(found - expected.get(trait, set())))
    return missing, extra


def write_concurrently(connection, controllers, count):
    context = multiprocessing.get_context('fork')
    errors = context.Queue()
    barrier = context.Barrier(controllers)
    names = ['c%d' % number for number in range(controllers)]
    procs = [context.Process(target=_controller, args=(connection, name, count, barrier, errors)) for name in names]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(600)
    assert errors.empty(), errors.get()
    assert [proc.exitcode for proc in procs] == [0] * controllers


def test_three_controllers_writing_3000_hosts_each_leave_an_exact_traits_index(backend):
    backend.open().open().close()

    write_concurrently(backend.connection, CONTROLLERS, HOSTS_PER_CONTROLLER)

    store = backend.open()
    assert len(store.hosts()) == CONTROLLERS * HOSTS_PER_CONTROLLER
    missing, extra = index_errors(store)
    assert (len(missing), len(extra)) == (0, 0), 'hosts_with_trait() misses %d and adds %d (trait, host), e.g. %s %s' % (
        len(missing), len(extra), missing[:3], extra[:3])


def test_a_schema_4_store_with_hosts_missing_from_the_traits_index_gets_it_rebuilt(backend, monkeypatch):
    # Schema 4 as its plugin left it after the race: some hosts marked indexed (pending = 0)
    # without their rows in traits, and a row of a trait the host no longer has.
    monkeypatch.setattr(factstore, 'SCHEMA_VERSION', 4)
    old = backend.open()
    for number in range(40):
        old.set('hv%02d' % number, caps(traits=host_traits(number), total_mb=number))
    old.set('pfx_hv00', caps(traits=['CUSTOM_OTHER_PREFIX'], total_mb=1), host='hv00', now=1.0)
    old.set('hv39', {'ansible_distribution': 'Debian'})
    old.close()
    monkeypatch.undo()
    backend.sql('DELETE FROM traits')
    backend.sql('INSERT INTO traits (trait, host) SELECT j.value, h.host FROM host_traits h, %s'
                % ('json_each(h.traits) j' if backend.name == 'sqlite' else 'jsonb_array_elements_text(h.traits::jsonb) j(value)'))
    backend.sql('UPDATE host_traits SET indexed = traits, pending = 0')
    backend.sql("DELETE FROM traits WHERE host IN ('hv03', 'hv17') OR (trait = 'CUSTOM_BIT0' AND host = 'hv21')")
    backend.sql("INSERT INTO traits (trait, host) VALUES ('CUSTOM_STALE', 'hv05')")
    monkeypatch.setattr(factstore, 'SCHEMA_VERSION', 4)
    drifted = backend.open()
    assert 'hv03' not in drifted.hosts_with_trait('CUSTOM_ALL') and drifted.hosts_with_trait('CUSTOM_STALE') == ['hv05']
    drifted.close()
    monkeypatch.undo()

    store = backend.open()

    assert store.schema_version() == factstore.SCHEMA_VERSION == 5
    assert index_errors(store) == ([], [])
    assert store.hosts_with_trait('CUSTOM_ALL') == ['hv%02d' % number for number in range(39)]
    assert store.hosts_with_trait('CUSTOM_STALE') == []
    assert store.hosts_with_trait('CUSTOM_OTHER_PREFIX') == []
    assert backend.sql('SELECT COUNT(*) FROM host_traits WHERE pending = 1') == [(0,)]
    rows = backend.sql('SELECT COUNT(*) FROM traits')[0][0]
    assert rows == sum(len(host_traits(number)) for number in range(39))


def test_a_traits_index_row_damaged_outside_the_store_is_made_anew_from_the_facts(backend):
    store = backend.open()
    for number in range(4):
        store.set('hv%d' % number, caps(traits=host_traits(number), total_mb=number))
    store.close()
    # Written by hand or by a broken disk: the host waits to be indexed with text that is not
    # a JSON list, or the record of what was indexed is not one.
    backend.sql("UPDATE host_traits SET traits = 'not json', pending = 1 WHERE host = 'hv1'")
    backend.sql("UPDATE host_traits SET indexed = '{\"a\": 1}', pending = 1 WHERE host = 'hv2'")
    backend.sql("INSERT INTO traits (trait, host) VALUES ('CUSTOM_STALE', 'hv2')")

    store = backend.open()
    assert store.hosts_with_trait('CUSTOM_ALL') == ['hv0', 'hv1', 'hv2', 'hv3']
    for number in range(4, 4 + factstore.TRAITS_PENDING_MAX + 16):
        store.set('hv%d' % number, caps(traits=host_traits(number), total_mb=number))

    assert backend.sql('SELECT COUNT(*) FROM host_traits WHERE pending = 1 AND host IN (?, ?)', ('hv1', 'hv2')) == [(0,)]
    assert index_errors(store) == ([], [])
    assert store.hosts_with_trait('CUSTOM_STALE') == []
