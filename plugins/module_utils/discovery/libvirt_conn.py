# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Opening libvirt connections, and what a URI may reveal or imply."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported
    from urlparse import urlsplit

try:
    import libvirt
    HAS_LIBVIRT = True
    LIBVIRT_IMPORT_ERROR = None
except ImportError as exc:
    HAS_LIBVIRT = False
    LIBVIRT_IMPORT_ERROR = exc


class ConnectError(Exception):
    pass


def safe_uri(uri):
    """The URI without user, password or query parameters (which may name key files)."""
    parts = urlsplit(uri)
    netloc = parts.hostname or ''
    if parts.port:
        netloc = '%s:%s' % (netloc, parts.port)
    return '%s://%s%s' % (parts.scheme, netloc, parts.path)


def reads_local_sysfs(uri):
    """sysfs describes this machine: only for a local URI of a real hypervisor driver."""
    parts = urlsplit(uri)
    driver = parts.scheme.split('+')[0]
    return parts.hostname in (None, '', 'localhost') and driver != 'test'


def _silence(dummy_ctx, dummy_err):
    """libvirt prints every error to stderr by default; errors are reported as facts."""


def _require_libvirt():
    if not HAS_LIBVIRT:
        raise ConnectError('the Python library libvirt-python is required on the host: %s'
                           % LIBVIRT_IMPORT_ERROR)
    libvirt.registerErrorHandler(_silence, None)


def _open(uri, read_only):
    return libvirt.openReadOnly(uri) if read_only else libvirt.open(uri)


def refused_for_permission(exc):
    """Whether libvirt refused a connection because of who asks: polkit or SASL said no,
    an access control driver denied, or the socket's owner and mode keep this user out
    (a read-write socket limited to root or the libvirt group)."""
    code = error_code(exc)
    denials = [getattr(libvirt, name, None) for name in (
        'VIR_ERR_AUTH_FAILED', 'VIR_ERR_AUTH_CANCELLED', 'VIR_ERR_AUTH_UNAVAILABLE',
        'VIR_ERR_ACCESS_DENIED', 'VIR_ERR_OPERATION_DENIED')]
    if code is not None and code in denials:
        return True
    return code == getattr(libvirt, 'VIR_ERR_SYSTEM_ERROR', None) and 'permission denied' in libvirt_message(exc).lower()


def _failure(uri, exc, read_only):
    reason = libvirt_message(exc).rstrip('.')
    hint = 'Check that the libvirt daemon runs there and that this user may connect.'
    if not read_only and refused_for_permission(exc):
        hint = ('A read-write connection needs root or membership in the libvirt group; '
                'grant that, or use read_only: auto (read-only when read-write is refused) or true.')
    return ConnectError('cannot connect to libvirt at %s: %s. %s' % (safe_uri(uri), reason, hint))


def connect(uri, read_only=True):
    _require_libvirt()
    try:
        return _open(uri, read_only)
    except libvirt.libvirtError as exc:
        raise _failure(uri, exc, read_only)


def connect_auto(uri):
    """``(conn, refusal)``: read-write when this user may, else read-only, with
    ``refusal`` libvirt's reason for refusing read-write (None when it was granted).

    Facts need only read APIs, but libvirt serves domain capabilities on read-write
    connections only, so read-write is tried first. Any failure other than a refusal of
    permission (no daemon, a bad URI) is not retried, as read-only would fail alike.
    """
    _require_libvirt()
    try:
        return _open(uri, False), None
    except libvirt.libvirtError as exc:
        if not refused_for_permission(exc):
            raise _failure(uri, exc, False)
        refusal = libvirt_message(exc).rstrip('.')
    try:
        return _open(uri, True), refusal
    except libvirt.libvirtError as exc:
        raise ConnectError('cannot connect to libvirt at %s: read-write was refused (%s), and read-only failed too: %s. '
                           'Check that the libvirt daemon runs there and that this user may connect at all.'
                           % (safe_uri(uri), refusal, libvirt_message(exc).rstrip('.')))


def error_code(exc):
    return getattr(exc, 'get_error_code', lambda: None)()


def libvirt_message(exc):
    """libvirt's own message for a libvirtError, else the exception's text or type."""
    message = getattr(exc, 'get_error_message', lambda: None)() or str(exc) or type(exc).__name__
    return message.strip()
