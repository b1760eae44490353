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


def connect(uri, read_only=True):
    if not HAS_LIBVIRT:
        raise ConnectError('the Python library libvirt-python is required on the host: %s'
                           % LIBVIRT_IMPORT_ERROR)
    libvirt.registerErrorHandler(_silence, None)
    try:
        return libvirt.openReadOnly(uri) if read_only else libvirt.open(uri)
    except libvirt.libvirtError as exc:
        reason = libvirt_message(exc)
        hint = 'Check that the libvirt daemon runs there and that this user may connect.'
        if not read_only and ('denied' in reason.lower() or 'authentication' in reason.lower()):
            hint = ('A read-write connection needs root or membership in the libvirt group; '
                    'grant that, or use read_only: true.')
        raise ConnectError('cannot connect to libvirt at %s: %s. %s' % (safe_uri(uri), reason.rstrip('.'), hint))


def error_code(exc):
    return getattr(exc, 'get_error_code', lambda: None)()


def libvirt_message(exc):
    """libvirt's own message for a libvirtError, else the exception's text or type."""
    message = getattr(exc, 'get_error_message', lambda: None)() or str(exc) or type(exc).__name__
    return message.strip()
