# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters on hostile input in real ansible-playbook runs, on every supported core: the
task fails with the filter's message (exit code 2, a failed task), never with a Python
exception that ansible-core reports as an internal error (exit code 250)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from conftest import Ansible, flat

CASES = [
    ('vcpus', 'vm_validate: vms[0].vcpus is an integer of about 5,001 digits, beyond the 64-bit range'),
    ('facts', 'host_traits: libvirt_host_caps.domain_capabilities[0].machine is an integer, expected a string'),
    ('query', 'host_traits: custom trait CUSTOM_DEEP: query '),
    ('xml', 'caps_from_xml: the capabilities XML nests elements more than 64 levels deep'),
    ('domain_xml_vm', "vm_domain_xml: vm 'web01' cannot be written as a domain: firmware must be one of bios, efi, got string 'uefi'"),
    ('domain_xml_host', "vm_domain_xml: vm 'conf01': memory_encryption: host 'hv1': memory_encryption sev: x86_64/pc-q35-7.2/kvm does "
                        "not offer AMD SEV"),
    ('domain_xml_facts', 'vm_domain_xml: host unnamed is left out, no VM is checked against it: its facts have values of the wrong type'),
]
RAW_EXCEPTIONS = ('Traceback', 'RecursionError', 'TypeError', 'OverflowError', 'UnicodeEncodeError', 'AttributeError',
                  'maximum recursion depth', 'Exceeds the limit')


def _runner(core, tmp_path):
    runner = Ansible(core, None, str(tmp_path))
    runner.inventory = runner.write_inventory(['hv1'])
    return runner


@pytest.mark.parametrize('case, message', CASES, ids=[case for case, dummy in CASES])
def test_hostile_input_fails_the_task_with_the_filters_message(core, tmp_path, case, message):
    runner = _runner(core, tmp_path)

    result = runner.playbook('hostile_filters.yml', {'case': case}, check=False, env=runner.env(cache=False))

    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    # ansible-core 2.17 wraps long messages.
    assert message in output or message.replace(' ', '') in flat(output).replace(' ', ''), output
    assert not [word for word in RAW_EXCEPTIONS if word in output], output


def test_a_query_comparing_with_a_string_number_is_a_catalog_problem(core, tmp_path):
    runner = _runner(core, tmp_path)

    runner.playbook('hostile_filters.yml', {'case': 'catalog'}, env=runner.env(cache=False))

    problems = runner.output('catalog.json')
    assert [(p['field'], p['code']) for p in problems] == [('hardware_traits[0].query', 'invalid_query')]
    assert "compares with the string '2048' by >=" in problems[0]['message']
