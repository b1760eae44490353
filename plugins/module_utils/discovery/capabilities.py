# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parser for libvirt's host capabilities document (``virsh capabilities``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.xmlparse import (
    attr_int, attr_kib, int_text, parse_xml, serialize, text, text_kib, to_int, yes_no,
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
        'page_sizes_kb': sorted(size for size in (attr_kib(p, 'size') for p in cpu.findall('pages')) if size is not None),
        'topology': None if topology is None else {
            key: attr_int(topology, key) for key in ('sockets', 'dies', 'cores', 'threads')
        },
        'tsc': None if counter is None else {
            'frequency_hz': attr_int(counter, 'frequency'),
            'scaling': yes_no(counter.get('scaling')),
        },
        'signature': None if signature is None else {
            key: attr_int(signature, key) for key in ('family', 'model', 'stepping')
        },
        'microcode_version': attr_int(cpu.find('microcode'), 'version') if cpu.find('microcode') is not None else None,
        'maxphysaddr_bits': attr_int(maxphys, 'bits') if maxphys is not None else None,
        'xml': serialize(cpu),
    }


def _cell(cell):
    memory = cell.find('memory')
    return {
        'id': attr_int(cell, 'id'),
        'memory_kb': text_kib(memory) if memory is not None else None,
        'pages': [
            {'size_kb': attr_kib(p, 'size'), 'total': to_int(p.text, '<pages> text')}
            for p in cell.findall('pages')
        ],
        'distances': {
            str(s.get('id')): attr_int(s, 'value') for s in cell.findall('distances/sibling')
        },
        'cpus': [
            {
                'id': attr_int(c, 'id'),
                'socket_id': attr_int(c, 'socket_id'),
                'die_id': attr_int(c, 'die_id'),
                'core_id': attr_int(c, 'core_id'),
                'siblings': c.get('siblings'),
            }
            for c in cell.findall('cpus/cpu')
        ],
    }


def _cache_bank(bank):
    return {
        'id': attr_int(bank, 'id'),
        'level': attr_int(bank, 'level'),
        'type': bank.get('type'),
        'size_kb': attr_kib(bank, 'size'),
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
        'max_cpus': attr_int(machine, 'maxCpus'),
        'deprecated': yes_no(machine.get('deprecated')) is True,
    }
