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


# URIs that urlsplit raises on, or that libvirt refuses to parse, each with a password.
MALFORMED = [
    'qemu+ssh://admin:Sekr1t@[::1/system',
    'qemu+ssh://admin:Sekr1t@[]/system',
    'qemu+ssh://admin:Sekr1t@hv1:abc/system',
    'qemu+ssh://admin:Sekr1t@hv1:99999/system',
    'qemu+ssh://admin:Sekr1t@::1/system',
]


@pytest.mark.parametrize('uri', MALFORMED + [
    '', 'qemu', 'admin:Sekr1t@hv1', '://', ':Sekr1t@', 'qemu+ssh://admin:Sek@r1t@hv1/system?a=%zz',
    'qemu://\udcff:Sekr1t@h/s', 'qemu://h:\u00b2/s', 'qemu://h:%s/s' % ('9' * 5000), None, 7, ['qemu:///system'],
])
def test_the_uri_scanners_never_raise(uri):
    libvirt_conn.split_uri(uri)
    libvirt_conn.uri_secrets(uri)
    libvirt_conn.uri_problem(uri)
    libvirt_conn.reads_local_sysfs(uri)
    if isinstance(uri, str):
        assert 'Sekr1t' not in libvirt_conn.safe_uri(uri)


@pytest.mark.parametrize('uri,expected', [
    ('qemu+ssh://admin:Sekr1t@hv1.example.com:2222/system?keyfile=/k&no_verify=1', 'qemu+ssh://hv1.example.com:2222/system'),
    ('qemu+ssh://admin:Sekr1t@[::1/system', 'qemu+ssh://[::1/system'),
    ('qemu+ssh://admin:Sekr1t@[fd00::2]:22/system', 'qemu+ssh://[fd00::2]:22/system'),
    ('qemu+ssh://admin:Sek/r1t@hv1/system', 'qemu+ssh://hv1/system'),
    ('test:///default?password=Sekr1t', 'test:///default'),
    ('test:///tmp/node@1.xml', 'test:///tmp/node@1.xml'),
    ('hv1', 'hv1'),
])
def test_safe_uri_keeps_no_credentials_and_names_even_a_malformed_uri(uri, expected):
    assert libvirt_conn.safe_uri(uri) == expected


@pytest.mark.parametrize('uri,secrets', [
    ('qemu+ssh://admin:Sekr1t@hv1/system', {'Sekr1t'}),
    ('qemu+ssh://admin:Sek%40r1t@[::1/system', {'Sek%40r1t', 'Sek@r1t'}),
    ('qemu+ssh://admin:Sek@r1t@hv1/system', {'Sek@r1t'}),
    ('qemu+tls://hv1/system?password=Sekr1t;pkipath=/p&API_TOKEN=t0k3n', {'Sekr1t', 't0k3n'}),
    ('qemu+ssh://admin@hv1/system?keyfile=/root/.ssh/id', set()),
    ('qemu:///system', set()),
])
def test_uri_secrets_are_the_password_and_password_like_parameters(uri, secrets):
    assert libvirt_conn.uri_secrets(uri) == secrets


@pytest.mark.parametrize('uri,problem', [
    ('qemu+ssh://admin:Sekr1t@[::1/system', 'the IPv6 address has no closing "]"'),
    ('qemu+ssh://admin:Sekr1t@[]/system', 'the brackets hold no IPv6 address'),
    ('qemu+ssh://admin:Sekr1t@hv1:abc/system', "the port 'abc' is not a number"),
    ('qemu+ssh://admin:Sekr1t@hv1:99999/system', 'the port 99999 is above 65535'),
    ('', 'the URI is empty'),
    ('qemu+ssh://root@hv1:22/system', None),
    ('qemu:///system', None),
    ('hv1', None),
])
def test_uri_problem_names_the_part_that_is_wrong(uri, problem):
    assert libvirt_conn.uri_problem(uri) == problem


@pytest.mark.parametrize('uri', [
    'qemu+ssh://admin:Sekr1t@[::1/system',
    'qemu+ssh://admin:Sekr1t@hv1:abc/system',
    'qemu+unix://admin:Sekr1t@localhost:99999/system?socket=/nonexistent/sock',
])
def test_a_malformed_uri_fails_with_libvirts_reason_the_uri_without_password_and_the_fix(uri):
    with pytest.raises(libvirt_conn.ConnectError) as caught:
        libvirt_conn.connect_auto(uri)
    message = str(caught.value)
    assert 'Sekr1t' not in message
    assert message.startswith('cannot connect to libvirt at %s: ' % libvirt_conn.safe_uri(uri))
    assert 'The URI is malformed: %s. Write it as driver[+transport]://' % libvirt_conn.uri_problem(uri) in message
    # libvirt's own reason, between the URI and the fix
    reason = message[len('cannot connect to libvirt at %s: ' % libvirt_conn.safe_uri(uri)):message.index('. The URI is malformed')]
    assert reason


def test_libvirts_reason_is_kept_with_the_password_masked():
    with pytest.raises(libvirt_conn.ConnectError) as caught:
        libvirt_conn.connect('qemu+ssh://admin:Sekr1t@hv1:abc/system')
    assert 'Unable to parse URI qemu+ssh://admin:********@hv1:abc/system' in str(caught.value)


def test_an_empty_uri_is_refused_instead_of_libvirts_guess():
    with pytest.raises(libvirt_conn.ConnectError, match='the libvirt URI is empty: give one such as qemu:///system'):
        libvirt_conn.connect('')
    with pytest.raises(libvirt_conn.ConnectError, match='the libvirt URI is empty'):
        libvirt_conn.connect_auto('  ')
