# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parser for a ``<cpu>`` definition with its features expanded: what
``virConnectBaselineCPU`` and ``virConnectBaselineHypervisorCPU`` return with
``VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES`` (``virsh cpu-baseline --features``,
``virsh hypervisor-cpu-baseline --features``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.xmlparse import parse_xml, text


def parse_cpu_definition(xml_text):
    """``{model, vendor, required_features, disabled_features}`` of one ``<cpu>``.

    A feature without a policy is required: that is how libvirt reads it in a CPU
    definition.
    """
    root = parse_xml(xml_text, 'cpu', 'the CPU definition XML')
    features = [(f.get('name'), f.get('policy') or 'require') for f in root.findall('feature') if f.get('name')]
    return {
        'model': text(root, 'model'),
        'vendor': text(root, 'vendor'),
        'required_features': sorted({name for name, policy in features if policy in ('require', 'force')}),
        'disabled_features': sorted({name for name, policy in features if policy in ('disable', 'forbid')}),
    }


def model_definition_xml(model):
    """The ``<cpu>`` that names only ``model``, for libvirt to expand."""
    return '<cpu><model>%s</model></cpu>' % (
        model.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;'))
