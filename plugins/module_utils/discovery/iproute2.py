# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parser for ``ip -json -details link show`` output: the VF settings (MAC, VLAN, trust,
spoof checking) that the kernel keeps on the physical function and sysfs does not show."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

# The MAC the kernel reports for a VF that was never given one.
_UNSET_MAC = '00:00:00:00:00:00'


def parse_vf_info(json_text):
    """``{pf interface name: {vf index: {mac, vlan, trust, spoofchk}}}``.

    Values the installed iproute2 or the driver does not report are None. Raises
    ValueError when the text is not iproute2's JSON.
    """
    try:
        links = json.loads(json_text)
    except ValueError as exc:
        raise ValueError('ip -json link show printed no JSON: %s' % exc)
    if not isinstance(links, list):
        raise ValueError('ip -json link show printed %s, not a list of links' % type(links).__name__)
    result = {}
    for link in links:
        if not isinstance(link, dict) or not link.get('vfinfo_list'):
            continue
        vfs = result.setdefault(link.get('ifname'), {})
        for vf in link['vfinfo_list']:
            if not isinstance(vf, dict) or not isinstance(vf.get('vf'), int):
                continue
            # iproute2 5.x prints "address"; older releases printed "mac".
            mac = vf.get('address') or vf.get('mac')
            vlans = [entry.get('vlan') for entry in vf.get('vlan_list') or [] if isinstance(entry, dict)]
            if not vlans and isinstance(vf.get('vlan'), int):
                vlans = [vf['vlan']]
            vfs[vf['vf']] = {
                'mac': None if mac in (None, _UNSET_MAC) else mac,
                # VLAN 0 means untagged
                'vlan': vlans[0] if vlans and vlans[0] else None,
                'trust': vf.get('trust') if isinstance(vf.get('trust'), bool) else None,
                'spoofchk': vf.get('spoofchk') if isinstance(vf.get('spoofchk'), bool) else None,
            }
    return result
