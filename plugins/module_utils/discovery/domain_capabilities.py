# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parser for libvirt's domain capabilities (``virsh domcapabilities``), one document per
(arch, machine, virttype) probe."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.xmlparse import (
    attr_int, attr_kib, enums, int_text, parse_xml, snake, supported, text, text_kib, yes_no,
)


def parse_domain_capabilities(xml_text):
    """Return one ``domain_capabilities`` fact entry.

    Every ``supported`` value is tri-state: an element libvirt did not print is
    ``None`` (unknown), never ``False``.
    """
    root = parse_xml(xml_text, 'domainCapabilities', 'the domain capabilities XML')
    vcpu = root.find('vcpu')
    return {
        'arch': text(root, 'arch'),
        'machine': text(root, 'machine'),
        'virttype': text(root, 'domain'),
        'emulator': text(root, 'path'),
        'max_vcpus': attr_int(vcpu, 'max') if vcpu is not None else None,
        'iothreads': supported(root.find('iothreads')),
        'os': _os(root.find('os')),
        'cpu': _cpu(root.find('cpu')),
        'memory_backing': _element(root.find('memoryBacking')),
        'devices': dict(
            (snake(child.tag), _element(child)) for child in _children(root.find('devices'))
        ),
        'features': _features(root.find('features')),
    }


def _children(node):
    return [] if node is None else list(node)


def _element(node):
    """``<x supported='yes'><enum name='a'>...`` as ``{'supported': True, 'a': [...]}``."""
    if node is None:
        return None
    result = {'supported': supported(node)}
    result.update(enums(node))
    return result


def _os(node):
    if node is None:
        return None
    loader = node.find('loader')
    result = _element(node)
    result['loader'] = None if loader is None else dict(
        _element(loader), paths=[v.text.strip() for v in loader.findall('value') if v.text]
    )
    result.setdefault('firmware', None)
    return result


def _cpu(node):
    if node is None:
        return None
    modes = {}
    for mode in node.findall('mode'):
        modes[mode.get('name')] = mode
    host_model = modes.get('host-model')
    custom = modes.get('custom')
    return {
        'host_passthrough': supported(modes.get('host-passthrough')),
        'maximum': supported(modes.get('maximum')),
        'host_model': None if host_model is None else {
            'supported': supported(host_model),
            'name': text(host_model, 'model'),
            'fallback': host_model.find('model').get('fallback') if host_model.find('model') is not None else None,
            'vendor': text(host_model, 'vendor'),
            # A feature without a name tells nothing; libvirt never prints one.
            'required_features': sorted(
                f.get('name') for f in host_model.findall('feature') if f.get('policy') == 'require' and f.get('name')),
            'disabled_features': sorted(
                f.get('name') for f in host_model.findall('feature') if f.get('policy') == 'disable' and f.get('name')),
        },
        'custom_supported': supported(custom),
        'models': _models(custom),
    }


def _models(custom):
    """Named CPU models grouped by libvirt's verdict, in libvirt's order.

    ``usable='unknown'`` (QEMU could not tell) lands in ``unknown``; deprecated models are
    also listed under ``deprecated``.
    """
    models = {'usable': [], 'unusable': [], 'unknown': [], 'deprecated': []}
    for model in [] if custom is None else custom.findall('model'):
        name = (model.text or '').strip()
        verdict = yes_no(model.get('usable'))
        models['usable' if verdict else 'unusable' if verdict is False else 'unknown'].append(name)
        if yes_no(model.get('deprecated')):
            models['deprecated'].append(name)
    return models


def _features(node):
    features = {}
    for child in _children(node):
        name = snake(child.tag)
        if name == 'sev':
            features[name] = _sev(child)
        elif name == 'sgx':
            features[name] = _sgx(child)
        else:
            features[name] = _element(child)
    return features


def _sev(node):
    return {
        'supported': supported(node),
        'cbitpos': int_text(node, 'cbitpos'),
        'reduced_phys_bits': int_text(node, 'reducedPhysBits'),
        'max_guests': int_text(node, 'maxGuests'),
        'max_es_guests': int_text(node, 'maxESGuests'),
    }


def _sgx(node):
    size = node.find('section_size')
    return {
        'supported': supported(node),
        'flc': yes_no(text(node, 'flc')),
        'sgx1': yes_no(text(node, 'sgx1')),
        'sgx2': yes_no(text(node, 'sgx2')),
        'epc_size_kb': text_kib(size) if size is not None else None,
        'sections': [
            {'node': attr_int(s, 'node'), 'size_kb': attr_kib(s, 'size')}
            for s in node.findall('sections/section')
        ],
    }
