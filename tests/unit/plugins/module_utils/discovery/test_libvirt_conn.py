# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Opening connections with read_only auto, against libvirt's embedded test driver and a
socket that does not exist (the refusals of permission are run for real by the
integration target libvirt_host_caps_read_only)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.discovery import libvirt_conn

pytestmark = pytest.mark.skipif(not libvirt_conn.HAS_LIBVIRT, reason='libvirt-python is not installed')

NO_DAEMON = 'qemu+unix:///system?socket=/nonexistent/libvirt-sock'


def test_auto_gets_read_write_where_it_is_allowed():
    conn, refusal = libvirt_conn.connect_auto('test:///default')
    try:
        assert refusal is None
        assert conn.getType() == 'TEST'
    finally:
        conn.close()


def test_auto_does_not_fall_back_when_no_daemon_answers():
    with pytest.raises(libvirt_conn.ConnectError) as caught:
        libvirt_conn.connect_auto(NO_DAEMON)
    message = str(caught.value)
    assert message.startswith('cannot connect to libvirt at qemu+unix:///system: ')
    assert 'read-write was refused' not in message
    assert 'Check that the libvirt daemon runs there' in message


def test_a_missing_socket_is_not_a_refusal_of_permission():
    import libvirt
    with pytest.raises(libvirt.libvirtError) as caught:
        libvirt.open(NO_DAEMON)
    assert libvirt_conn.refused_for_permission(caught.value) is False
