# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every filter as a playbook calls it, on every supported ansible-core: with the facts that
libvirt_host_caps (qemu:///system, read-write) and sriov_facts returned in the same play, and
with the same facts read back from the factdb cache by a later run that gathers nothing.

ansible-core 2.19 hands filters its tagged and lazy containers, 2.17 its unsafe text; plain
dicts in a unit test show neither. A filter that lets them through fails here: jmespath
refuses them ("received: unknown") and messages name their classes (_AnsibleTaggedStr)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from xml.etree import ElementTree

from conftest import Ansible

VALIDATE_INVENTORY = '[hv]\nhv1 ansible_connection=local\n'


def _runner(core, connection, tmp_path):
    runner = Ansible(core, connection, str(tmp_path))
    runner.inventory = runner.write_inventory(['hv1'])
    return runner


def _filters_run(runner, gather, cache=True):
    runner.playbook('filters.yml', {'gather': gather}, env=runner.env(cache=cache))
    return runner.output('filters.json')


def _without_ansible_classes(results):
    text = json.dumps(results)
    assert '_AnsibleTagged' not in text and 'AnsibleUnsafe' not in text and '_AnsibleLazy' not in text, text


def _check_filters(results):
    """What each filter must return on this machine's facts, whatever the core."""
    facts, sriov = results['facts'], results['sriov']
    _without_ansible_classes(results)

    # host_traits: the custom traits say what the facts say.
    traits = set(results['host_traits'])
    expected = {
        'CUSTOM_AVX2': 'HW_CPU_X86_AVX2' in facts['traits'],
        'CUSTOM_X86': (facts['host_info']['arch'] or '').startswith('x86'),
        'CUSTOM_KVM_PROBED': 'kvm' in [entry.get('virttype') for entry in facts['domain_capabilities'] or []],
        'CUSTOM_PCI_LISTED': len(sriov['passthrough_devices']) > 0,
    }
    assert dict((name, name in traits) for name in expected) == expected
    assert expected['CUSTOM_X86'] and expected['CUSTOM_KVM_PROBED']
    assert set(facts['traits']) <= traits
    assert results['host_traits_of_hostvars'] == results['host_traits']
    assert ('CUSTOM_AVX2' in results['host_traits_of_the_issue']) == expected['CUSTOM_AVX2']

    # host_resources: the module's inventory, with the ratio given.
    resources = results['host_resources']
    assert resources['VCPU']['allocation_ratio'] == 4.0
    assert resources['VCPU']['total'] == facts['resources']['VCPU']['total']
    assert resources['MEMORY_MB']['total'] == facts['resources']['MEMORY_MB']['total']

    # vm_validate: a host without facts is skipped, a query that fails on one host's facts
    # is an error row, every failed requirement is listed, type names are plain.
    problems = results['vm_validate']
    rows = [(p['vm'], p['field'], p['code'], p['severity']) for p in problems]
    assert (None, 'hosts.ghost', 'host_skipped', 'warning') in rows
    assert (None, 'hosts.broken', 'trait_query_failed', 'error') in rows
    failed_query = [p['message'] for p in problems if p['code'] == 'trait_query_failed']
    assert len(failed_query) == 1 and 'custom trait CUSTOM_X86' in failed_query[0] and 'host broken' in failed_query[0]
    typed = [p for p in problems if p['vm'] == 'typed01']
    assert [(p['field'], p['code']) for p in typed] == [('vcpus', 'wrong_type')]
    assert "got string '4'" in typed[0]['message']
    assert not [p for p in problems if p['vm'] == 'fits01'], problems
    huge = [p for p in problems if p['vm'] == 'huge01']
    assert [(p['field'], p['code']) for p in huge] == [('hosts', 'no_host_fits')]
    hv1 = huge[0]['hosts']['hv1']
    assert [(r['verdict'], r['code']) for r in hv1['requirements']][:2] == [('fail', 'memory_exceeds_host'), ('fail', 'sriov_vfs_insufficient')]
    assert ('fail', 'trait_missing') in [(r['verdict'], r['code']) for r in hv1['requirements']]
    assert sorted(huge[0]['hosts']) == ['broken', 'hv1']

    # vm_place: the same verdicts, then capacity and groups; the host's own reserved memory.
    placed = results['vm_place']
    assert [(p['vm'], p['host'], p['existing']) for p in placed['placements']] == [('fits01', 'hv1', False), ('web01', 'hv1', False)]
    unplaced = dict((u['vm'], u) for u in placed['unplaced'])
    assert sorted(unplaced) == ['huge01', 'typed01', 'web02']
    assert unplaced['web02']['codes']['anti_affinity_full'] == 1
    assert '1 host (hv1): hard anti-affinity group web already has 1 here (max 1 per host)' in unplaced['web02']['reasons']
    assert unplaced['huge01']['codes'] == {'memory_exceeds_host': 2}, unplaced['huge01']
    assert [r for r in unplaced['huge01']['reasons'] if r.startswith('1 host (hv1): ') and r.endswith('512 MiB of them reserved (hostcaps_reserved)')]
    assert unplaced['typed01']['codes'] == {'invalid': 1} and "got string '4'" in unplaced['typed01']['reasons'][0]
    memory = placed['hosts']['hv1']['resources']['MEMORY_MB']
    assert memory['capacity'] == facts['resources']['MEMORY_MB']['total'] - 512 and memory['placed'] == 512
    assert [p['code'] for p in placed['problems'] if p['vm'] == 'huge01'] == ['no_host_fits']

    # vm_place with the exact engine: as good, proven optimal. Which of the two alike web
    # VMs gets the one place is the engine's choice.
    exact = results['vm_place_cp_sat']
    assert exact['engine']['requested'] == 'cp-sat' and exact['engine']['status'] == 'optimal', exact['engine']
    assert exact['summary'] == placed['summary'] and exact['problems'] == placed['problems']
    assert exact['hosts']['hv1']['resources'] == placed['hosts']['hv1']['resources']
    chosen = [(p['vm'], p['host']) for p in exact['placements']]
    assert chosen in ([('fits01', 'hv1'), ('web01', 'hv1')], [('fits01', 'hv1'), ('web02', 'hv1')]), chosen
    assert sorted(u['vm'] for u in exact['unplaced']) == sorted(['huge01', 'typed01', ({'web01', 'web02'} - {chosen[1][0]}).pop()])

    # catalog_validate: the type a user wrote, not the class Ansible holds it in.
    messages = [p['message'] for p in results['catalog_validate']]
    assert [m for m in messages if "got string '2'" in m], messages

    # caps_from_xml: the virsh XML gives the host the module saw.
    offline = results['caps_from_xml']
    assert offline['host_info']['arch'] == facts['host_info']['arch']
    assert offline['cpu_info']['model'] == facts['cpu_info']['model']
    assert [entry['machine'] for entry in offline['domain_capabilities']] == [
        entry['machine'] for entry in facts['domain_capabilities'] if entry.get('virttype') == 'kvm' and entry['machine'].startswith('pc-q35')][:1]

    # vm_domain_xml: the host's versioned q35, its emulator, the secure-boot firmware and
    # TPM its domain capabilities offer; with the placement, the host it chose.
    root = ElementTree.fromstring(results['vm_domain_xml'])
    q35 = [entry for entry in facts['domain_capabilities']
           if (entry['arch'], entry['virttype'], entry['requested_machine']) == (facts['host_info']['arch'], 'kvm', 'q35')][0]
    assert (root.get('type'), root.findtext('name'), root.find('os/type').get('machine')) == ('kvm', 'xml01', q35['machine'])
    assert root.findtext('devices/emulator') == q35['emulator']
    assert root.find('os/loader').get('secure') == 'yes' and root.find('features/smm').get('state') == 'on'
    assert root.find('devices/tpm/backend').get('version') == '2.0'
    assert root.find('devices/tpm').get('model') in q35['devices']['tpm']['model']
    placed_xml = ElementTree.fromstring(results['vm_domain_xml_placed'])
    assert [(p['vm'], p['host']) for p in results['xml_placement']['placements']] == [('xml01', 'hv1'), ('xml02', 'hv1')]
    assert (placed_xml.findtext('name'), placed_xml.findtext('vcpu'), placed_xml.findtext('memory')) == ('xml02', '1', str(256 * 1024))
    assert placed_xml.find('os/type').get('machine') == [
        entry['machine'] for entry in facts['domain_capabilities']
        if entry['arch'] == facts['host_info']['arch'] and entry['virttype'] == 'kvm' and entry['default_machine']][0]

    # compliance_evaluate and compliance_report: a host without facts fails facts_fresh and
    # skips the rest; a JMESPath rule and applies_to see the facts as plain JSON types.
    verdicts = dict(((r['host'], r['rule']), r['verdict']) for r in results['compliance']['results'])
    assert verdicts == {('ghost', 'facts_fresh'): 'fail', ('ghost', 'kvm'): 'skipped', ('ghost', 'x86_kvm'): 'skipped',
                        ('ghost', 'libvirt'): 'skipped', ('hv1', 'facts_fresh'): 'pass', ('hv1', 'kvm'): 'pass',
                        ('hv1', 'x86_kvm'): 'pass', ('hv1', 'libvirt'): 'pass'}
    assert len(ElementTree.fromstring(results['compliance_junit'].encode('utf-8')).findall('testsuite/testcase')) == 8

    # sriov_from_xml: every PCI node device is read, none is lost.
    from_xml = results['sriov_from_xml']
    assert from_xml['errors'] == [] and int(results['nodedev_count']) > 0
    listed = set(d['address'] for key in ('physical_functions', 'virtual_functions', 'passthrough_devices') for d in from_xml[key])
    assert set(d['address'] for d in sriov['passthrough_devices']) <= listed


def test_every_filter_on_facts_a_module_returned_in_the_same_play(core, tmp_path):
    runner = _runner(core, None, tmp_path)

    _check_filters(_filters_run(runner, gather=True, cache=False))


def test_every_filter_on_facts_read_back_from_factdb(core, backend, tmp_path):
    runner = _runner(core, backend.connection, tmp_path)
    live = _filters_run(runner, gather=True)
    assert sorted(backend.snapshot()['hv1']) == ['hostcaps_xml', 'libvirt_host_caps', 'sriov']

    cached = _filters_run(runner, gather=False)

    _check_filters(cached)
    # The same answers from the cache as from the live facts; caps_from_xml stamps the time
    # it ran.
    for results in (live, cached):
        results['caps_from_xml'].pop('collected_at')
        results['vm_place']['engine'].pop('seconds')
        results['vm_place_cp_sat']['engine'].pop('seconds')
        results['xml_placement']['engine'].pop('seconds')
    assert cached == live
