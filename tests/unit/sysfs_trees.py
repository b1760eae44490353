# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fake /sys trees laid out as the kernel lays them out, for the PCI and SR-IOV readers.

Device directories live under ``devices/pci<domain>:00/`` (or under a bridge);
``bus/pci/devices/<addr>``, ``driver``, ``iommu_group``, ``physfn``, ``virtfnN`` and
``class/net/<ifname>`` are relative symlinks, as in a real /sys, so a reader that works
here follows links the way it must on a host. Attribute files hold the kernel's text
(``0x8086\\n``, ``0x020000\\n``, ``-1\\n``).

``ProcTree`` is the matching fake /proc: the mounts (``self/mountinfo``), ``swaps``,
routes (``net/route``, ``net/ipv6_route``) and IPv6 addresses (``net/if_inet6``) that
tell which devices the host uses, in the kernel's formats.

The scenario functions build one host each and return the addresses they made, for
tests and for the benchmark under tests/bench.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

# Files every PCI function has besides the ones a scenario sets; a reader lists them too.
_COMMON_FILES = {
    'broken_parity_status': '0', 'consistent_dma_mask_bits': '64', 'd3cold_allowed': '1',
    'dma_mask_bits': '64', 'driver_override': '(null)', 'enable': '1', 'irq': '16',
    'local_cpulist': '0-15', 'msi_bus': '1', 'power_state': 'D0', 'revision': '0x02',
}


def _write(path, content):
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        os.makedirs(parent)
    with open(path, 'w') as handle:
        handle.write(content + '\n')


def _symlink(target, link):
    """A relative symlink at ``link`` to the absolute path ``target``."""
    parent = os.path.dirname(link)
    if not os.path.isdir(parent):
        os.makedirs(parent)
    os.symlink(os.path.relpath(target, parent), link)


def _read(path):
    with open(path) as handle:
        return handle.read().strip()


class SysfsTree:
    """A fake /sys under ``path``; ``root`` is what a reader takes as its sysfs root."""

    def __init__(self, path):
        self.root = str(path)
        self._device_dirs = {}
        for part in ('bus/pci/devices', 'bus/pci/drivers', 'class/net', 'class/block', 'class/iommu', 'block',
                     'kernel/iommu_groups', 'devices/virtual/block'):
            os.makedirs(self.path(part))

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def device_dir(self, address):
        return self._device_dirs[address]

    def pci(self, address, vendor, device, cls, driver=None, numa=-1, iommu_group=None,
            subsystem=None, parent=None, **extra_attrs):
        """One PCI function. ``vendor``/``device`` are 4 hex digits, ``cls`` 6;
        ``subsystem`` is a (vendor, device) pair or None for no subsystem files;
        ``parent`` the address of a bridge to nest under; ``extra_attrs`` more
        attribute files (name -> content without the newline)."""
        if parent is None:
            base = self.path('devices', 'pci%s:00' % address[:4])
        else:
            base = self._device_dirs[parent]
        device_dir = os.path.join(base, address)
        self._device_dirs[address] = device_dir
        attrs = dict(_COMMON_FILES)
        attrs.update({
            'vendor': '0x' + vendor, 'device': '0x' + device, 'class': '0x' + cls,
            'numa_node': str(numa),
            'modalias': 'pci:v0000%sd0000%ssv*sd*bc%ssc%si%s' % (vendor.upper(), device.upper(), cls[:2], cls[2:4], cls[4:]),
        })
        if subsystem is not None:
            attrs['subsystem_vendor'] = '0x' + subsystem[0]
            attrs['subsystem_device'] = '0x' + subsystem[1]
        attrs.update(dict((name, str(value)) for name, value in extra_attrs.items()))
        for name, value in attrs.items():
            _write(os.path.join(device_dir, name), value)
        for subdir in ('power', 'msi_irqs'):
            os.makedirs(os.path.join(device_dir, subdir))
        _symlink(self.path('bus', 'pci'), os.path.join(device_dir, 'subsystem'))
        _symlink(device_dir, self.path('bus', 'pci', 'devices', address))
        if driver is not None:
            self.bind(address, driver)
        if iommu_group is not None:
            self.iommu(address, iommu_group)
        return device_dir

    def bridge(self, address, vendor='8086', device='2030', parent=None, numa=-1):
        """A PCI-to-PCI bridge (class 060400) that later functions may nest under."""
        return self.pci(address, vendor, device, '060400', driver='pcieport', numa=numa, parent=parent)

    def bind(self, address, driver):
        """Bind to ``driver``: the device's ``driver`` link and the driver's link back."""
        device_dir = self._device_dirs[address]
        driver_dir = self.path('bus', 'pci', 'drivers', driver)
        if not os.path.isdir(driver_dir):
            os.makedirs(driver_dir)
            for name in ('bind', 'unbind', 'new_id', 'remove_id', 'uevent'):
                _write(os.path.join(driver_dir, name), '')
        _symlink(driver_dir, os.path.join(device_dir, 'driver'))
        _symlink(device_dir, os.path.join(driver_dir, address))

    def iommu(self, address, group):
        """Put the device in IOMMU group ``group`` (created on first use)."""
        device_dir = self._device_dirs[address]
        group_dir = self.path('kernel', 'iommu_groups', str(group))
        if not os.path.isdir(group_dir):
            os.makedirs(os.path.join(group_dir, 'devices'))
            _write(os.path.join(group_dir, 'type'), 'DMA')
        _symlink(group_dir, os.path.join(device_dir, 'iommu_group'))
        _symlink(device_dir, os.path.join(group_dir, 'devices', address))

    def sriov_pf(self, address, vendor, device, vf_device, total_vfs, cls='020000', **pci_args):
        """An SR-IOV capable function with no VFs yet; ``vf`` adds them."""
        return self.pci(address, vendor, device, cls,
                        sriov_totalvfs=total_vfs, sriov_numvfs=0,
                        # The kernel prints sriov_vf_device as bare %x, unlike vendor/device.
                        sriov_vf_device=vf_device.lstrip('0') or '0',
                        sriov_offset=8, sriov_stride=1, sriov_drivers_autoprobe=1, **pci_args)

    def vf(self, pf, index, address, driver=None, iommu_group=None, subsystem=None):
        """VF ``index`` of ``pf`` at ``address``: a sibling directory of the PF with the
        PF's vendor and ``sriov_vf_device``, ``physfn`` and ``virtfnN`` links, and the
        PF's ``sriov_numvfs`` raised to the number of its VFs."""
        pf_dir = self._device_dirs[pf]
        vendor = _read(os.path.join(pf_dir, 'vendor'))[2:]
        vf_device = _read(os.path.join(pf_dir, 'sriov_vf_device')).zfill(4)
        cls = _read(os.path.join(pf_dir, 'class'))[2:]
        numa = _read(os.path.join(pf_dir, 'numa_node'))
        parent_dir = os.path.dirname(pf_dir)
        parent = None if os.path.basename(parent_dir).startswith('pci') else os.path.basename(parent_dir)
        vf_dir = self.pci(address, vendor, vf_device, cls, driver=driver, numa=numa,
                          iommu_group=iommu_group, subsystem=subsystem, parent=parent)
        _symlink(pf_dir, os.path.join(vf_dir, 'physfn'))
        _symlink(vf_dir, os.path.join(pf_dir, 'virtfn%d' % index))
        count = len([name for name in os.listdir(pf_dir) if name.startswith('virtfn')])
        _write(os.path.join(pf_dir, 'sriov_numvfs'), str(count))
        return vf_dir

    def netdev(self, address, name, mac, mtu=1500, operstate='up', speed=-1, eswitch_mode=None, ifindex=2,
               admin_up=None, under=None):
        """Network device ``name`` of the function: ``<dev>/net/<name>/`` with its
        attributes, and ``class/net/<name>`` linking to it. ``eswitch_mode`` writes
        ``compat/devlink/mode`` as mlx5 does. ``admin_up`` sets IFF_UP in ``flags``
        (default: up when the link is); ``under`` nests ``net/`` in a child device, as
        virtio-net does (``<dev>/virtio2/net/eth0``)."""
        device_dir = self._device_dirs[address]
        if under is not None:
            device_dir = os.path.join(device_dir, under)
        net_dir = os.path.join(device_dir, 'net', name)
        if admin_up is None:
            admin_up = operstate == 'up'
        attrs = {'address': mac, 'mtu': str(mtu), 'operstate': operstate, 'speed': str(speed),
                 'type': '1', 'ifindex': str(ifindex), 'carrier': '1' if operstate == 'up' else '0',
                 # IFF_BROADCAST | IFF_MULTICAST, plus IFF_UP and IFF_RUNNING when up
                 'flags': '0x1003' if admin_up else '0x1002',
                 'uevent': 'INTERFACE=%s\nIFINDEX=%d' % (name, ifindex)}
        for attr, value in attrs.items():
            _write(os.path.join(net_dir, attr), value)
        if eswitch_mode is not None:
            _write(os.path.join(net_dir, 'compat', 'devlink', 'mode'), eswitch_mode)
        _symlink(device_dir, os.path.join(net_dir, 'device'))
        _symlink(net_dir, self.path('class', 'net', name))
        return net_dir

    def disk(self, address, name, dev, under, partitions=(), size=1953525168):
        """Disk ``name`` (``dev`` is ``major:minor``) of the function at
        ``<dev>/<under>/<name>`` (``nvme/nvme0`` for NVMe, ``virtio1/block`` for
        virtio-blk), with ``block/<name>`` and ``class/block/<name>`` linking to it.
        ``partitions`` are (name, dev) pairs, subdirectories with a ``partition`` file."""
        disk_dir = os.path.join(self._device_dirs[address], under, name)
        for attr, value in (('dev', dev), ('size', str(size)), ('removable', '0'), ('ro', '0'),
                            ('uevent', 'MAJOR=%s\nMINOR=%s\nDEVNAME=%s\nDEVTYPE=disk' % (tuple(dev.split(':')) + (name,)))):
            _write(os.path.join(disk_dir, attr), value)
        for subdir in ('holders', 'slaves', 'queue', 'power'):
            os.makedirs(os.path.join(disk_dir, subdir))
        _symlink(disk_dir, self.path('block', name))
        _symlink(disk_dir, self.path('class', 'block', name))
        for number, (part, part_dev) in enumerate(partitions, 1):
            part_dir = os.path.join(disk_dir, part)
            for attr, value in (('dev', part_dev), ('partition', str(number)), ('start', str(2048 * number)),
                                ('size', '1048576'), ('uevent', 'DEVNAME=%s\nDEVTYPE=partition' % part)):
                _write(os.path.join(part_dir, attr), value)
            for subdir in ('holders', 'power'):
                os.makedirs(os.path.join(part_dir, subdir))
            _symlink(part_dir, self.path('class', 'block', part))
        return disk_dir

    def holder(self, disk, part, name, dev):
        """Device-mapper device ``name`` (``dm-0``) built on ``part`` of ``disk`` (or on
        the whole disk when ``part`` is None): ``holders/<name>`` there and
        ``slaves/<part>`` in the virtual block device."""
        held = os.path.realpath(self.path('block', disk))
        if part is not None:
            held = os.path.join(held, part)
        dm_dir = self.path('devices', 'virtual', 'block', name)
        _write(os.path.join(dm_dir, 'dev'), dev)
        _write(os.path.join(dm_dir, 'dm', 'name'), 'vg0-root')
        _symlink(held, os.path.join(dm_dir, 'slaves', os.path.basename(held)))
        _symlink(dm_dir, os.path.join(held, 'holders', name))
        _symlink(dm_dir, self.path('block', name))
        return dm_dir

    def make_unreadable(self, address, attr):
        """Turn attribute ``attr`` (relative to the device, ``net/eth0/speed`` too) into
        a directory of the same name.

        chmod 000 stops nobody when the tests run as root (CAP_DAC_OVERRIDE), so a
        permission error cannot be faked that way. Reading a directory fails with
        EISDIR for every user, which stands for the real failures: ``speed`` of a
        down link raising EINVAL, a driver refusing an attribute.
        """
        path = os.path.join(self._device_dirs[address], attr)
        if os.path.lexists(path):
            os.remove(path)
        os.makedirs(path)
        return path


class ProcTree:
    """A fake /proc under ``path`` for what the host uses; ``root`` is the proc root.

    Starts as a host with only pseudo file systems mounted, no swap, no routes and only
    lo's IPv6 address; the methods add to that."""

    _MOUNTINFO_HEAD = [
        '22 1 0:21 / /proc rw,relatime shared:5 - proc proc rw',
        '23 1 0:22 / /sys rw,relatime shared:6 - sysfs sysfs rw',
        '24 1 0:6 / /dev rw,relatime shared:2 - devtmpfs devtmpfs rw,size=12334192k,mode=755',
    ]

    def __init__(self, path):
        self.root = str(path)
        self._mounts = list(self._MOUNTINFO_HEAD)
        self._swaps = []
        self._routes = []
        self._routes6 = ['00000000000000000000000000000001 80 00000000000000000000000000000000 00 '
                         '00000000000000000000000000000000 00000000 00000002 00000000 80200001       lo']
        self._addresses6 = ['00000000000000000000000000000001 01 80 10 80       lo']
        self._write()

    def _write(self):
        _write(os.path.join(self.root, 'self', 'mountinfo'), '\n'.join(self._mounts))
        _write(os.path.join(self.root, 'swaps'), '\n'.join(
            ['Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority'] + self._swaps))
        _write(os.path.join(self.root, 'net', 'route'), '\n'.join(
            ['Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT'] + self._routes))
        _write(os.path.join(self.root, 'net', 'ipv6_route'), '\n'.join(self._routes6))
        _write(os.path.join(self.root, 'net', 'if_inet6'), '\n'.join(self._addresses6))

    def mount(self, source, dev, mount_point, fstype='ext4'):
        """A mount of ``source`` (``/dev/nvme0n1p2``) whose device number is ``dev``."""
        self._mounts.append('%d 1 %s / %s rw,relatime shared:1 - %s %s rw' % (
            30 + len(self._mounts), dev, mount_point.replace(' ', '\\040'), fstype, source))
        self._write()

    def swap(self, path, kind='partition'):
        self._swaps.append('%s\t\t\t\t%s\t8388604\t\t0\t\t-2' % (path, kind))
        self._write()

    def route(self, interface, destination='00000000', gateway='010200C0', mask='00000000'):
        """An IPv4 route in the main table, in net/route's little-endian hex (the
        default: 0.0.0.0/0 via 192.0.2.1)."""
        self._routes.append('%s\t%s\t%s\t0003\t0\t0\t0\t%s\t0\t0\t0' % (interface, destination, gateway, mask))
        self._write()

    def address6(self, interface, address='fd000000000000000000000000000002', index=2):
        """An IPv6 address of ``interface`` and its local route, as the kernel adds it."""
        self._addresses6.append('%s %02x 40 00 80 %8s' % (address, index, interface))
        self._routes6.append('%s 80 00000000000000000000000000000000 00 00000000000000000000000000000000 '
                             '00000000 00000003 00000000 80200001 %8s' % (address, interface))
        self._write()


def pcie_link(speed, width, max_speed=None, max_width=None):
    """The link attribute files of a PCIe function, in the kernel's text (``8.0 GT/s PCIe``
    since Linux 5.4, ``Unknown``): pass them to ``SysfsTree.pci`` as keywords."""
    return {'current_link_speed': speed, 'current_link_width': width,
            'max_link_speed': max_speed or speed, 'max_link_width': max_width or width}


# Scenarios: one host each, named after the hardware. Each returns the addresses made.

def intel_e810_4vf(tree):
    """Intel E810-C (8086:1593, ice), 128 VFs possible, 4 created (8086:1889):
    VFs 0 and 1 bound to vfio-pci for passthrough, 2 and 3 to iavf with netdevs."""
    pf = '0000:3b:00.0'
    tree.sriov_pf(pf, '8086', '1593', vf_device='1889', total_vfs=128, driver='ice', numa=0,
                  iommu_group=40, subsystem=('8086', '0005'), **pcie_link('16.0 GT/s PCIe', 16))
    tree.netdev(pf, 'ens1f0', 'b4:96:91:aa:bb:00', mtu=9000, speed=25000, ifindex=4)
    vfs = ['0000:3b:01.%d' % index for index in range(4)]
    for index, vf in enumerate(vfs):
        tree.vf(pf, index, vf, driver='vfio-pci' if index < 2 else 'iavf', iommu_group=141 + index,
                subsystem=('8086', '0000'))
    tree.netdev(vfs[2], 'ens1f0v2', '52:54:00:0e:81:02', speed=25000, ifindex=12)
    tree.netdev(vfs[3], 'ens1f0v3', '52:54:00:0e:81:03', operstate='down', ifindex=13)
    return {'pf': pf, 'vfs': vfs}


def mellanox_cx6_switchdev(tree):
    """Mellanox ConnectX-6 Dx (15b3:101d, mlx5_core) with the eswitch in switchdev mode:
    the uplink netdev carries compat/devlink/mode, the VF representors hang under the
    PF, VF 0 (15b3:101e) is bound to mlx5_core and VF 1 to vfio-pci."""
    pf = '0000:5e:00.0'
    tree.sriov_pf(pf, '15b3', '101d', vf_device='101e', total_vfs=8, driver='mlx5_core', numa=1,
                  iommu_group=60, subsystem=('15b3', '0016'))
    tree.netdev(pf, 'ens2f0np0', '0c:42:a1:10:20:30', mtu=9000, speed=100000, eswitch_mode='switchdev', ifindex=6)
    vfs = ['0000:5e:00.2', '0000:5e:00.3']
    tree.vf(pf, 0, vfs[0], driver='mlx5_core', iommu_group=61, subsystem=('15b3', '0016'))
    tree.vf(pf, 1, vfs[1], driver='vfio-pci', iommu_group=62, subsystem=('15b3', '0016'))
    tree.netdev(pf, 'ens2f0npf0vf0', '9a:1b:2c:3d:4e:50', ifindex=20)
    tree.netdev(pf, 'ens2f0npf0vf1', '9a:1b:2c:3d:4e:51', ifindex=21)
    tree.netdev(vfs[0], 'ens2f0v0', '02:00:00:5e:00:02', speed=100000, ifindex=22)
    return {'pf': pf, 'vfs': vfs}


def pf_capable_zero_vfs(tree):
    """Intel X710 (8086:1572, i40e): SR-IOV capable (64 VFs) but none created."""
    pf = '0000:af:00.0'
    tree.sriov_pf(pf, '8086', '1572', vf_device='154c', total_vfs=64, driver='i40e', numa=1,
                  iommu_group=80, subsystem=('8086', '0007'))
    tree.netdev(pf, 'ens3f0', '3c:fd:fe:c0:ff:ee', speed=10000, ifindex=8)
    return {'pf': pf}


def plain_nic(tree):
    """Intel I210 (8086:1533, igb) on a root port: no SR-IOV attributes at all."""
    tree.bridge('0000:00:1c.0', numa=0)
    nic = '0000:02:00.0'
    tree.pci(nic, '8086', '1533', '020000', driver='igb', numa=0, iommu_group=15,
             subsystem=('15d9', '1533'), parent='0000:00:1c.0')
    tree.netdev(nic, 'eno1', 'ac:1f:6b:01:02:03', speed=1000, ifindex=2)
    return {'nic': nic, 'bridge': '0000:00:1c.0'}


def nvidia_gpu_alone(tree):
    """NVIDIA A10 (10de:2236, 3D controller 030200) alone in its IOMMU group, bound to
    vfio-pci: ready for passthrough."""
    gpu = '0000:ca:00.0'
    tree.pci(gpu, '10de', '2236', '030200', driver='vfio-pci', numa=1, iommu_group=90,
             subsystem=('10de', '1482'))
    return {'gpu': gpu}


def gpu_with_audio_in_group(tree):
    """NVIDIA TU102 (10de:1e04, VGA 030000) on vfio-pci sharing its IOMMU group with its
    HDMI audio function (10de:10f7, 040300) still on snd_hda_intel: not viable for
    passthrough until the audio function is moved to vfio-pci as well."""
    gpu, audio = '0000:65:00.0', '0000:65:00.1'
    tree.pci(gpu, '10de', '1e04', '030000', driver='vfio-pci', numa=0, iommu_group=30,
             subsystem=('10de', '12fa'))
    tree.pci(audio, '10de', '10f7', '040300', driver='snd_hda_intel', numa=0, iommu_group=30,
             subsystem=('10de', '12fa'))
    return {'gpu': gpu, 'audio': audio}


def synthetic_pfs(tree, pfs=8, vfs=64):
    """``pfs`` E810 PFs on buses 0x18.. with ``vfs`` VFs each, for the benchmark. Even
    VFs are on iavf with a netdev, odd ones on vfio-pci; every function has its own
    IOMMU group."""
    made = {'pfs': [], 'vfs': []}
    group = 100
    for pf_index in range(pfs):
        bus = 0x18 + pf_index
        pf = '0000:%02x:00.0' % bus
        tree.sriov_pf(pf, '8086', '1593', vf_device='1889', total_vfs=256, driver='ice',
                      numa=pf_index % 2, iommu_group=group, subsystem=('8086', '0005'))
        group += 1
        tree.netdev(pf, 'ens%df0' % pf_index, 'b4:96:91:00:%02x:00' % pf_index, mtu=9000, speed=25000)
        made['pfs'].append(pf)
        for index in range(vfs):
            # VF routing IDs follow the PF's at offset 8, stride 1: device 1.., function 0-7.
            vf = '0000:%02x:%02x.%d' % (bus, 1 + index // 8, index % 8)
            tree.vf(pf, index, vf, driver='iavf' if index % 2 == 0 else 'vfio-pci',
                    iommu_group=group, subsystem=('8086', '0000'))
            group += 1
            if index % 2 == 0:
                tree.netdev(vf, 'ens%df0v%d' % (pf_index, index), '52:54:00:%02x:%02x:%02x' % (pf_index, index // 256, index % 256),
                            speed=25000)
            made['vfs'].append(vf)
    return made


def debian12_virtio_vm(tree, proc):
    """This test machine: a Debian 12 KVM guest on q35 without a virtual IOMMU. Host
    bridge 0000:00:00.0 (8086:0d57, no driver), virtio-blk 0000:00:02.0 (1af4:1042)
    holding vda, mounted on /, and virtio-net 0000:00:03.0 (1af4:1041), its only NIC,
    carrying eth0: up, with an IPv6 address and the default route. The kernel made no
    IOMMU groups and class/iommu is empty."""
    tree.pci('0000:00:00.0', '8086', '0d57', '060000', subsystem=('1af4', '1100'))
    tree.pci('0000:00:02.0', '1af4', '1042', '018000', driver='virtio-pci', subsystem=('1af4', '1100'))
    tree.disk('0000:00:02.0', 'vda', '254:0', under='virtio1/block')
    tree.pci('0000:00:03.0', '1af4', '1041', '020000', driver='virtio-pci', subsystem=('1af4', '1100'))
    tree.netdev('0000:00:03.0', 'eth0', '02:fc:00:00:00:01', mtu=1400, under='virtio2')
    proc.mount('/dev/vda', '254:0', '/')
    proc.route('eth0')
    proc.route('eth0', destination='000200C0', gateway='00000000', mask='00FFFFFF')
    proc.address6('eth0')
    return {'nic': '0000:00:03.0', 'disk_controller': '0000:00:02.0', 'host_bridge': '0000:00:00.0'}


def nvme_root_and_spares(tree, proc):
    """Three Samsung PM9A3 NVMe drives (144d:a80a, class 010802, nvme), each alone in its
    IOMMU group: nvme0n1 holds the host's /boot/efi, / and swap partitions; nvme1n1 is an
    LVM physical volume under dm-0, mounted on /var/lib/libvirt/images; nvme2n1 is
    unused."""
    drives = ['0000:3d:00.0', '0000:3e:00.0', '0000:3f:00.0']
    for index, address in enumerate(drives):
        tree.pci(address, '144d', 'a80a', '010802', driver='nvme', numa=0, iommu_group=20 + index,
                 subsystem=('144d', 'a801'))
    tree.disk(drives[0], 'nvme0n1', '259:0', under='nvme/nvme0',
              partitions=[('nvme0n1p1', '259:1'), ('nvme0n1p2', '259:2'), ('nvme0n1p3', '259:3')])
    tree.disk(drives[1], 'nvme1n1', '259:4', under='nvme/nvme1')
    tree.holder('nvme1n1', None, 'dm-0', '253:0')
    tree.disk(drives[2], 'nvme2n1', '259:5', under='nvme/nvme2')
    proc.mount('/dev/nvme0n1p2', '259:2', '/')
    proc.mount('/dev/nvme0n1p1', '259:1', '/boot/efi', fstype='vfat')
    proc.mount('/dev/mapper/vg0-images', '253:0', '/var/lib/libvirt/images', fstype='xfs')
    proc.swap('/dev/nvme0n1p3')
    return {'root': drives[0], 'lvm': drives[1], 'spare': drives[2]}


def aspeed_bmc_vga(tree):
    """The BMC's ASPEED AST2500 (1a03:2000, VGA 030000, ast) that draws the host console
    (boot_vga 1), alone in its IOMMU group."""
    vga = '0000:04:00.0'
    tree.pci(vga, '1a03', '2000', '030000', driver='ast', numa=0, iommu_group=7, subsystem=('15d9', '1b95'), boot_vga=1)
    return {'vga': vga}
