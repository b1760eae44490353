# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel's own memory figures, from ``/proc/meminfo``.

libvirt sums the NUMA nodes' ``meminfo`` (``/sys/devices/system/node/node*/``). On some
virtual machines that sum is far below the kernel's MemTotal (4825 against 24105 MiB on
a Debian 12 cloud guest), while ``/proc/meminfo`` is what the kernel allocates from.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery.sysfs import NotRegularFile, read_bytes


def parse_meminfo(text):
    """``{field: size_kb}`` for every ``Name:  <number> kB`` line.

    Lines without the ``kB`` unit (``HugePages_Total`` counts pages) and lines that do
    not parse are skipped, so a field the kernel renamed or dropped is simply absent.
    """
    fields = {}
    for line in (text or '').splitlines():
        name, sep, rest = line.partition(':')
        name, parts = name.strip(), rest.split()
        if not (sep and name) or len(parts) != 2 or parts[1] != 'kB' or not parts[0].isdigit():
            continue
        fields[name] = int(parts[0])
    return fields


def memory_totals(fields):
    """``{total_mb, free_mb, available_mb}`` in whole MiB, rounded down; a field the
    kernel did not list is None (MemAvailable exists since Linux 3.14)."""
    def mib(name):
        return fields[name] // 1024 if name in fields else None
    return {'total_mb': mib('MemTotal'), 'free_mb': mib('MemFree'), 'available_mb': mib('MemAvailable')}


def read_memory_totals(proc_root='/proc'):
    """The totals of ``<proc_root>/meminfo``; raises ValueError naming the file when it
    cannot be read or has no MemTotal."""
    path = os.path.join(proc_root, 'meminfo')
    try:
        data = read_bytes(path, 65536)
    except NotRegularFile as exc:
        raise ValueError(exc.strerror)
    except OSError as exc:
        raise ValueError('%s cannot be read: %s' % (path, exc.strerror or exc))
    totals = memory_totals(parse_meminfo(data.decode('ascii', 'replace')))
    if totals['total_mb'] is None:
        raise ValueError('%s has no MemTotal line' % path)
    return totals
