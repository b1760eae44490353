# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the host itself uses, from the kernel's /proc: mounts, swap, routes and
IPv6 addresses.

Each function takes the proc root (``/proc`` normally, the host's /proc mounted
elsewhere in a container) and returns plain data, or None when its file cannot be
read, which means unknown, never "nothing in use".
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.sysfs import read_text

# /proc/net/ipv6_route flag of the kernel's "unreachable" entries (ip6_null_entry on lo).
_RTF_REJECT = 0x200


def _lines(path):
    """The lines of a /proc file; None when it cannot be read."""
    text = read_text(path)
    return None if text is None else text.splitlines()


def _unescape(field):
    # mountinfo writes space, tab, newline and backslash in paths as \040, \011, \012, \134.
    for code, char in (('\\040', ' '), ('\\011', '\t'), ('\\012', '\n'), ('\\134', '\\')):
        field = field.replace(code, char)
    return field


def read_mounts(proc_root):
    """``[{dev, source, mount_point}]`` from ``self/mountinfo`` (what /proc/mounts shows,
    plus the device number). ``dev`` is ``major:minor``; it names the block device for
    most file systems, while btrfs and other multi-device ones give an anonymous
    ``0:N`` and only ``source`` names the device."""
    lines = _lines(os.path.join(proc_root, 'self', 'mountinfo'))
    if lines is None:
        return None
    mounts = []
    for line in lines:
        fields = line.split(' ')
        if ' - ' not in line or len(fields) < 5:
            continue
        tail = line.split(' - ', 1)[1].split(' ')
        mounts.append({
            'dev': fields[2],
            'source': _unescape(tail[1]) if len(tail) > 1 else None,
            'mount_point': _unescape(fields[4]),
        })
    return mounts


def read_swaps(proc_root):
    """The files and devices in use as swap (``swaps``), as the kernel names them."""
    lines = _lines(os.path.join(proc_root, 'swaps'))
    if lines is None:
        return None
    return [line.split()[0] for line in lines[1:] if line.split()]


def read_routes(proc_root):
    """``{interface: carries_a_default_route}`` for every interface with a route in
    the main IPv4 table (``net/route``) or in IPv6 (``net/ipv6_route``).

    None when ``net/route`` cannot be read. A kernel without IPv6 has no
    ``net/ipv6_route``; that adds no route rather than making the answer unknown."""
    ipv4 = _lines(os.path.join(proc_root, 'net', 'route'))
    if ipv4 is None:
        return None
    routes = {}
    for line in ipv4[1:]:
        fields = line.split()
        if len(fields) < 8:
            continue
        default = fields[1] == '00000000' and fields[7] == '00000000'
        routes[fields[0]] = routes.get(fields[0], False) or default
    for line in _lines(os.path.join(proc_root, 'net', 'ipv6_route')) or []:
        fields = line.split()
        if len(fields) < 10:
            continue
        try:
            flags = int(fields[8], 16)
        except ValueError:
            continue
        if flags & _RTF_REJECT:
            continue
        default = fields[0] == '0' * 32 and fields[1] == '00'
        routes[fields[9]] = routes.get(fields[9], False) or default
    return routes


def read_ipv6_address_interfaces(proc_root):
    """Interfaces with an IPv6 address (``net/if_inet6``). The kernel keeps no such
    file for IPv4; an IPv4 address shows through its routes instead. An empty list
    when the kernel has no IPv6."""
    if not os.path.isdir(os.path.join(proc_root, 'net')):
        return None
    lines = _lines(os.path.join(proc_root, 'net', 'if_inet6'))
    return sorted(set(line.split()[5] for line in lines or [] if len(line.split()) >= 6))


# The file behind each key of read_host_use, for messages.
HOST_USE_FILES = {
    'mounts': 'self/mountinfo', 'swaps': 'swaps', 'routes': 'net/route', 'ipv6_address_interfaces': 'net/if_inet6',
}


def read_host_use(proc_root):
    """Everything above in one mapping: ``mounts``, ``swaps``, ``routes``,
    ``ipv6_address_interfaces``; each None when it could not be read."""
    return {
        'mounts': read_mounts(proc_root),
        'swaps': read_swaps(proc_root),
        'routes': read_routes(proc_root),
        'ipv6_address_interfaces': read_ipv6_address_interfaces(proc_root),
    }
