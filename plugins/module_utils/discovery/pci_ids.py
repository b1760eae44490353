# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Vendor and device names for PCI ids from the host's pci.ids (pciutils/hwdata).

The file lists vendors sorted by id, each followed by its devices (one TAB) and their
subsystems (two TABs), and ends with the device class section (lines starting ``C``).
A lookup reads it once, top to bottom, and stops after the last vendor it was asked
about, so naming the devices of a host costs a fraction of a full parse.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io

# pciutils installs it in /usr/share/misc (Debian, Ubuntu), hwdata in /usr/share/hwdata
# (Fedora, RHEL, SUSE); a few distributions put it in /usr/share directly.
DEFAULT_PATHS = ('/usr/share/misc/pci.ids', '/usr/share/hwdata/pci.ids', '/usr/share/pci.ids')


def _normal_id(value):
    if value is None:
        return None
    value = str(value).strip().lower()
    if value.startswith('0x'):
        value = value[2:]
    return value.zfill(4)


def _scan(handle, wanted):
    """Names from an open pci.ids for ``wanted`` (vendor -> set of devices):
    ({vendor: name}, {(vendor, device): name})."""
    vendor_names = {}
    device_names = {}
    last_vendor = max(wanted)
    devices = None
    vendor = None
    for line in handle:
        first = line[:1]
        if first == '\t':
            # Subsystem lines (two TABs) and devices of vendors nobody asked about.
            if devices is None or line[1:2] == '\t':
                continue
            device = line[1:5]
            if device in devices:
                device_names[(vendor, device)] = line[5:].strip()
            continue
        if first == '#' or not line.strip():
            continue
        if first == 'C' and line[1:2] == ' ':
            break
        candidate = line[:4].lower()
        # Vendors are sorted by id: past the last one wanted, nothing more to find.
        if candidate > last_vendor:
            break
        if candidate in wanted:
            vendor = candidate
            vendor_names[vendor] = line[4:].strip()
            devices = wanted[vendor]
        else:
            vendor = devices = None
    return vendor_names, device_names


def lookup_pci_names(pairs, paths=DEFAULT_PATHS):
    """Names for (vendor_id, device_id) pairs of hex ids: {(vendor, device):
    (vendor_name, device_name)}, each name None when pci.ids does not list it.

    The keys are the pairs as given. The first of ``paths`` that can be opened is
    read; {} when none can (pci.ids is not installed everywhere, and names are only
    a convenience).
    """
    pairs = list(pairs)
    wanted = {}
    for vendor, device in pairs:
        vendor, device = _normal_id(vendor), _normal_id(device)
        if vendor is not None:
            devices = wanted.setdefault(vendor, set())
            if device is not None:
                devices.add(device)
    for path in paths:
        try:
            # Old files are latin-1, current ones UTF-8: replace what does not decode.
            with io.open(path, 'r', encoding='utf-8', errors='replace') as handle:
                vendor_names, device_names = _scan(handle, wanted) if wanted else ({}, {})
        except (IOError, OSError):
            continue
        names = {}
        for vendor, device in pairs:
            key_vendor, key_device = _normal_id(vendor), _normal_id(device)
            names[(vendor, device)] = (vendor_names.get(key_vendor), device_names.get((key_vendor, key_device)))
        return names
    return {}
