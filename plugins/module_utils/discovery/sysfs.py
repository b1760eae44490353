# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readers for the host facts that only the kernel's /sys tells.

Every function takes the sysfs root (``/sys`` normally, another path when the host's
/sys is mounted into a container) and returns plain data; ``None`` means the kernel
did not expose the value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import errno
import os
import stat

# The lists of paths that read_file skipped, innermost last (see skipped_files).
_SKIP_RECORDS = []

_KINDS = ((stat.S_ISFIFO, 'a FIFO'), (stat.S_ISSOCK, 'a socket'), (stat.S_ISCHR, 'a character device'),
          (stat.S_ISBLK, 'a block device'), (stat.S_ISDIR, 'a directory'))


class NotRegularFile(OSError):
    """An attribute path that is no regular file; reading it could block for ever."""


def open_regular(path):
    """A read-only descriptor of ``path``, which must be a regular file.

    O_NONBLOCK makes opening a FIFO return at once instead of waiting for a writer, and
    fstat checks the very file that was opened, so it cannot be swapped in between.
    Every kernel attribute in /sys and /proc is a regular file; anything else in a tree
    handed in as sysfs_root or proc_root would hang or never end (a FIFO, a tty)."""
    handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        mode = os.fstat(handle).st_mode
    except OSError:
        os.close(handle)
        raise
    if not stat.S_ISREG(mode):
        os.close(handle)
        kind = next((name for test, name in _KINDS if test(mode)), 'not a regular file')
        raise NotRegularFile(errno.EINVAL, '%s is %s, not a regular file; it was not read' % (path, kind))
    return handle


def read_bytes(path, limit=None):
    """The content of the regular file ``path`` (at most ``limit`` bytes); raises
    NotRegularFile or OSError."""
    handle = open_regular(path)
    try:
        if limit is not None:
            return os.read(handle, limit)
        chunks = []
        while True:
            chunk = os.read(handle, 65536)
            if not chunk:
                return b''.join(chunks)
            chunks.append(chunk)
    finally:
        os.close(handle)


@contextlib.contextmanager
def skipped_files():
    """Collects the messages of the files read_file skipped as no regular files while
    the block runs, for the caller to report in ``errors``. A reader that only returns
    None for an unreadable attribute cannot tell its caller why."""
    found = []
    _SKIP_RECORDS.append(found)
    try:
        yield found
    finally:
        _SKIP_RECORDS.remove(found)


def read_file(path):
    """The stripped text of one attribute file, or None when it cannot be read.

    sysfs attributes are at most a page; os.open/os.read avoid the text layer of
    open(), which costs more than the read itself on a tree of hundreds of VFs.
    Reads fail in more ways than a missing file: ``speed`` of a down link raises
    EINVAL, some drivers refuse attributes with EPERM or EOPNOTSUPP. A path that is no
    regular file is skipped and recorded for ``skipped_files``.
    """
    text = read_text(path, 8192, 'ascii')
    return None if text is None else text.strip()


def read_text(path, limit=None, encoding='utf-8'):
    """The whole text of a regular file (/proc files are longer than a page), or None
    when it cannot be read; a path that is no regular file is recorded as read_file's."""
    try:
        data = read_bytes(path, limit)
    except NotRegularFile as exc:
        if _SKIP_RECORDS:
            _SKIP_RECORDS[-1].append(exc.strerror)
        return None
    except OSError:
        return None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def skipped_message(messages, option='sysfs_root'):
    """One ``errors`` message for the files skipped as no regular files, the first few named."""
    shown = '; '.join(messages[:5]) + ('; and %d more' % (len(messages) - 5) if len(messages) > 5 else '')
    return ('%s. Their values are unknown. %s must be where the kernel\'s own %s is mounted, whose '
            'attributes are regular files' % (shown, option, '/proc' if option == 'proc_root' else '/sys'))


def root_problem(root, option='sysfs_root'):
    """Why ``root`` cannot be the tree ``option`` names (it does not exist, is a file,
    is a symlink loop), or None when it is a directory."""
    try:
        mode = os.stat(root).st_mode
    except OSError as exc:
        why = {errno.ENOENT: 'does not exist', errno.ELOOP: 'is a symlink loop',
               errno.ENOTDIR: 'does not exist (a parent is not a directory)'}.get(exc.errno, exc.strerror)
        return '%s %s %s' % (option, root, why)
    if not stat.S_ISDIR(mode):
        return '%s %s is not a directory' % (option, root)
    return None


def read_attr(root, *parts):
    """The stripped content of one sysfs attribute, or None when it cannot be read."""
    return read_file(os.path.join(root, *parts))


def _int_attr(root, *parts):
    value = read_attr(root, *parts)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def read_ksm(root):
    """Kernel samepage merging state from ``kernel/mm/ksm``."""
    base = os.path.join(root, 'kernel', 'mm', 'ksm')
    if not os.path.isdir(base):
        return None
    run = _int_attr(base, 'run')
    merge_across_nodes = _int_attr(base, 'merge_across_nodes')
    return {
        # run: 0 stopped, 1 running, 2 stopped and unmerged
        'run': run,
        'enabled': None if run is None else run == 1,
        'pages_shared': _int_attr(base, 'pages_shared'),
        'pages_sharing': _int_attr(base, 'pages_sharing'),
        'merge_across_nodes': None if merge_across_nodes is None else merge_across_nodes == 1,
    }


def count_iommu_groups(root):
    """Number of IOMMU groups in ``kernel/iommu_groups``; 0 when the IOMMU is off."""
    base = os.path.join(root, 'kernel', 'iommu_groups')
    if not os.path.isdir(base):
        return None
    return len([name for name in os.listdir(base) if name.isdigit()])


def read_kvm_nested(root):
    """Nested virtualization from the ``nested`` parameter of kvm_intel or kvm_amd."""
    for module in ('kvm_intel', 'kvm_amd'):
        value = read_attr(root, 'module', module, 'parameters', 'nested')
        if value is not None:
            return {'module': module, 'enabled': value.upper() in ('Y', '1')}
    return None


def read_cgroups(root):
    """The cgroup controllers the kernel gives processes, from ``fs/cgroup``:
    ``{version, controllers}``, or None when no cgroup tree is mounted there.

    cgroup v2 lists its controllers in ``fs/cgroup/cgroup.controllers``. cgroup v1 mounts
    each hierarchy on its own directory, named after its controllers (``cpu,cpuacct``,
    with ``cpu`` and ``cpuacct`` as links to it); a mounted one holds ``cgroup.procs``.
    ``systemd`` (a named hierarchy without a controller) and ``unified`` (the empty v2
    tree of a hybrid host) are no controllers."""
    base = os.path.join(root, 'fs', 'cgroup')
    if not os.path.isdir(base):
        return None
    listed = read_attr(base, 'cgroup.controllers')
    if listed is not None:
        return {'version': 2, 'controllers': sorted(set(listed.split()))}
    names = set()
    for entry in os.listdir(base):
        if entry in ('systemd', 'unified') or not os.path.isfile(os.path.join(base, entry, 'cgroup.procs')):
            continue
        names.update(name for name in entry.split(',') if name)
    return {'version': 1, 'controllers': sorted(names)} if names else None


def read_net_interfaces(root):
    """Host network interfaces from ``class/net``: kind, MAC, state, MTU, members."""
    base = os.path.join(root, 'class', 'net')
    if not os.path.isdir(base):
        return None
    interfaces = []
    for name in sorted(os.listdir(base)):
        path = os.path.join(base, name)
        operstate = read_attr(path, 'operstate')
        interfaces.append({
            'name': name,
            'type': _net_kind(path),
            'mac': read_attr(path, 'address'),
            'active': None if operstate is None else operstate in ('up', 'unknown'),
            'mtu': _int_attr(path, 'mtu'),
            'members': _members(path),
            'vlan_tag': None,
            'speed_mbps': _speed(path),
            'source': 'sysfs',
        })
    return interfaces


def _speed(path):
    # Virtual and down links report -1 or refuse the read.
    speed = _int_attr(path, 'speed')
    return speed if speed is not None and speed > 0 else None


def _net_kind(path):
    if os.path.isdir(os.path.join(path, 'bridge')):
        return 'bridge'
    if os.path.isdir(os.path.join(path, 'bonding')):
        return 'bond'
    uevent = read_attr(path, 'uevent') or ''
    for line in uevent.splitlines():
        if line.startswith('DEVTYPE='):
            return {'vlan': 'vlan', 'bridge': 'bridge', 'bond': 'bond'}.get(line[8:], line[8:])
    if read_attr(path, 'type') == '772':
        return 'loopback'
    if os.path.exists(os.path.join(path, 'device')):
        return 'ethernet'
    return 'virtual'


def _members(path):
    brif = os.path.join(path, 'brif')
    if os.path.isdir(brif):
        return sorted(os.listdir(brif))
    slaves = read_attr(path, 'bonding', 'slaves')
    if slaves is not None:
        return sorted(slaves.split())
    return []
