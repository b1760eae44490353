# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""virsh on this machine's libvirtd, as the tests that define domains read them back and
clean up after themselves."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess

URI = 'qemu:///system'


def virsh(*args):
    """The output of ``virsh <args>``; a failure fails the test with virsh's message."""
    result = subprocess.run(['virsh', '-c', URI] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, timeout=60, check=False)
    assert result.returncode == 0, 'virsh %s: %s' % (' '.join(args), result.stderr)
    return result.stdout


def virsh_quietly(*args):
    """The output of ``virsh <args>``, or '' when it fails: for cleaning up what a test may
    or may not have made."""
    result = subprocess.run(['virsh', '-c', URI] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, timeout=60, check=False)
    return result.stdout if result.returncode == 0 else ''


def tuning(*args):
    """``virsh <args>`` output of ``name : value`` lines as a dict of strings."""
    return dict((key.strip(), value.strip()) for key, colon, value in (line.partition(':') for line in virsh(*args).splitlines())
                if colon)
