# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parser for libvirt's host capabilities document (``virsh capabilities``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.xmlparse import (
    int_text, parse_xml, serialize, text, to_int, to_kib, yes_no,
)


def parse_capabilities(xml_text):
    """Return the parts of ``<capabilities>`` that facts are built from."""
    root = parse_xml(xml_text, 'capabilities', 'the capabilities XML')
    host = root.find('host')
    if host is None:
        host = root.makeelement('host', {})
    cpu = host.find('cpu')
    return {
        'uuid': text(host, 'uuid'),
        'cpu': _host_cpu(cpu),
        'iommu_supported': yes_no(host.find('iommu').get('support')) if host.find('iommu') is not None else None,
        'cells': [_cell(cell) for cell in host.findall('topology/cells/cell')],
        'cache_banks': [_cache_bank(bank) for bank in host.findall('cache/bank')],
        'secmodels': [_secmodel(model) for model in host.findall('secmodel')],
        'guests': [_guest(guest) for guest in root.findall('guest')],
    }


def _host_cpu(cpu):
    if cpu is None:
        return {'arch': None, 'model': None, 'vendor': None, 'features': [], 'page_sizes_kb': [],
                'topology': None, 'tsc': None, 'signature': None, 'microcode_version': None,
                'maxphysaddr_bits': None, 'xml': None}
    topology = cpu.find('topology')
    counter = cpu.find("counter[@name='tsc']")
    signature = cpu.find('signature')
    maxphys = cpu.find('maxphysaddr')
    return {
        'arch': text(cpu, 'arch'),
        'model': text(cpu, 'model'),
        'vendor': text(cpu, 'vendor'),
        # Only features beyond the named model are listed here; the baseline
        # expansion done by the collector adds the model's own.
        'features': sorted({f.get('name') for f in cpu.findall('feature') if f.get('name')}),
        'page_sizes_kb': sorted(to_kib(p.get('size'), p.get('unit')) for p in cpu.findall('pages')),
        'topology': None if topology is None else {
            key: to_int(topology.get(key)) for key in ('sockets', 'dies', 'cores', 'threads')
        },
        'tsc': None if counter is None else {
            'frequency_hz': to_int(counter.get('frequency')),
            'scaling': yes_no(counter.get('scaling')),
        },
        'signature': None if signature is None else {
            key: to_int(signature.get(key)) for key in ('family', 'model', 'stepping')
        },
        'microcode_version': to_int(cpu.find('microcode').get('version')) if cpu.find('microcode') is not None else None,
        'maxphysaddr_bits': to_int(maxphys.get('bits')) if maxphys is not None else None,
        'xml': serialize(cpu),
    }


def _cell(cell):
    memory = cell.find('memory')
    return {
        'id': to_int(cell.get('id')),
        'memory_kb': to_kib(memory.text, memory.get('unit')) if memory is not None else None,
        'pages': [
            {'size_kb': to_kib(p.get('size'), p.get('unit')), 'total': to_int(p.text)}
            for p in cell.findall('pages')
        ],
        'distances': {
            str(s.get('id')): to_int(s.get('value')) for s in cell.findall('distances/sibling')
        },
        'cpus': [
            {
                'id': to_int(c.get('id')),
                'socket_id': to_int(c.get('socket_id')),
                'die_id': to_int(c.get('die_id')),
                'core_id': to_int(c.get('core_id')),
                'siblings': c.get('siblings'),
            }
            for c in cell.findall('cpus/cpu')
        ],
    }


def _cache_bank(bank):
    return {
        'id': to_int(bank.get('id')),
        'level': to_int(bank.get('level')),
        'type': bank.get('type'),
        'size_kb': to_kib(bank.get('size'), bank.get('unit')),
        'cpus': bank.get('cpus'),
    }


def _secmodel(model):
    return {
        'model': text(model, 'model'),
        'doi': text(model, 'doi'),
        'baselabels': {label.get('type'): (label.text or '').strip() for label in model.findall('baselabel')},
    }


def _guest(guest):
    arch = guest.find('arch')
    machines = []
    domain_types = []
    if arch is not None:
        machines = [_machine(m) for m in arch.findall('machine')]
        for domain in arch.findall('domain'):
            domain_types.append(domain.get('type'))
            # Machines listed under a domain type are specific to it (e.g. kvm-only ones).
            machines.extend(_machine(m) for m in domain.findall('machine'))
    seen = set()
    unique = []
    for machine in machines:
        if machine['name'] not in seen:
            seen.add(machine['name'])
            unique.append(machine)
    return {
        'os_type': text(guest, 'os_type'),
        'arch': arch.get('name') if arch is not None else None,
        'wordsize': int_text(arch, 'wordsize') if arch is not None else None,
        'emulator': text(arch, 'emulator') if arch is not None else None,
        'domain_types': sorted(set(d for d in domain_types if d)),
        'machines': unique,
    }


def _machine(machine):
    return {
        'name': (machine.text or '').strip(),
        'canonical': machine.get('canonical'),
        'max_cpus': to_int(machine.get('maxCpus')),
        'deprecated': yes_no(machine.get('deprecated')) is True,
    }
