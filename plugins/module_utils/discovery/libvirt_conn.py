# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Opening libvirt connections, and what a URI may reveal or imply."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    from urllib.parse import unquote
except ImportError:  # pragma: no cover - Python 2 is not supported
    from urllib import unquote

from ansible.module_utils.basic import AnsibleModule

try:
    import libvirt
    HAS_LIBVIRT = True
    LIBVIRT_IMPORT_ERROR = None
except ImportError as exc:
    HAS_LIBVIRT = False
    LIBVIRT_IMPORT_ERROR = exc


class ConnectError(Exception):
    pass


class URIModule(AnsibleModule):
    """An AnsibleModule that masks the secrets of its ``uri`` option everywhere Ansible
    shows or logs its arguments (``invocation.module_args`` at -vvv, syslog, messages).

    They are added as soon as the arguments are read, because AnsibleModule validates
    them, fails, and logs the invocation before the module's own code runs."""

    def _load_params(self):
        super(URIModule, self)._load_params()
        self.no_log_values.update(uri_secrets((self.params or {}).get('uri')))


# Query parameters whose value is a secret, by the words their names contain.
_SECRET_PARAM_WORDS = ('pass', 'pwd', 'secret', 'token', 'credential')
MASK = '********'


def split_uri(uri):
    """``{scheme, userinfo, host, port, path, query}`` of a URI, by plain scanning.

    Never raises, whatever the text: urlsplit raises on ``[::1`` or a port of ``abc``,
    and a URI that does not parse is exactly the one whose password must still be found.
    The userinfo runs to the last ``@`` before the query, so a password with a raw ``/``
    or ``@`` in it is still taken as userinfo; a URI without ``://`` (a libvirt alias
    such as ``hv1``) has only a path. Missing parts are None.
    """
    parts = dict.fromkeys(('scheme', 'userinfo', 'host', 'port', 'path', 'query'))
    if not isinstance(uri, str):
        return parts
    head, dummy, dummy_fragment = uri.partition('#')
    head, mark, query = head.partition('?')
    parts['query'] = query if mark else None
    scheme, sep, rest = head.partition('://')
    if not sep:
        userinfo, at, rest = head.rpartition('@')
        parts['userinfo'] = userinfo if at else None
        parts['path'] = rest
        return parts
    parts['scheme'] = scheme
    if not rest.startswith('/') and '@' in rest:
        parts['userinfo'], dummy, rest = rest.rpartition('@')
    hostport, slash, path = rest.partition('/')
    parts['path'] = slash + path
    if hostport.startswith('['):
        host, bracket, after = hostport.partition(']')
        parts['host'] = host + bracket
        port = after[1:] if after.startswith(':') else (after or None)
    else:
        host, colon, port = hostport.partition(':')
        parts['host'] = host
        port = port if colon else None
    parts['port'] = port
    return parts


def uri_secrets(uri):
    """The secrets a URI holds: the password of its userinfo and the value of every query
    parameter named like a password or token, each as written and percent-decoded.
    For ``AnsibleModule.no_log_values``, which masks them in everything it returns."""
    parts = split_uri(uri)
    found = set()
    userinfo = parts['userinfo']
    if userinfo and ':' in userinfo:
        found.add(userinfo.partition(':')[2])
    for param in (parts['query'] or '').replace(';', '&').split('&'):
        name, equals, value = param.partition('=')
        if equals and any(word in _decode(name).lower() for word in _SECRET_PARAM_WORDS):
            found.add(value)
    found.update([_decode(value) for value in found])
    return set(value for value in found if value)


def _decode(text):
    try:
        return unquote(text)
    except Exception:  # a scanner for secrets must not fail on what it scans
        return text


def scrub(text, uri):
    """``text`` (libvirt's message, which may quote the URI) with the URI's secrets masked."""
    for secret in sorted(uri_secrets(uri), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def safe_uri(uri):
    """The URI without user, password, query parameters (which may name key files) or
    fragment; any other text is kept as given, so a malformed URI is still recognisable."""
    parts = split_uri(uri)
    if parts['scheme'] is None:
        return parts['path'] or ''
    netloc = parts['host'] or ''
    if parts['port'] is not None:
        netloc = '%s:%s' % (netloc, parts['port'])
    return '%s://%s%s' % (parts['scheme'], netloc, parts['path'])


# A URI without "://" is a libvirt alias (uri_aliases in libvirt.conf), made of these.
_ALIAS = re.compile(r'^[A-Za-z0-9_.-]+$')
_SCHEME = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*$')
_DIGITS = re.compile(r'^[0-9]+\Z')
URI_FORM = ('driver[+transport]://[user@][host][:port]/path[?parameters], such as qemu:///system or '
            'qemu+ssh://root@hv1.example.com/system')


def uri_problem(uri):
    """What is wrong with the form of a libvirt URI, or None when nothing is found; the
    text names the part, not the URI, which may hold a password."""
    if not isinstance(uri, str) or not uri.strip():
        return 'the URI is empty'
    if uri != uri.strip() or any(ord(char) < 32 or char == ' ' for char in uri):
        return 'the URI contains spaces or control characters'
    parts = split_uri(uri)
    if parts['scheme'] is None:
        return None if _ALIAS.match(uri) else 'there is no "://" after the driver name'
    if not _SCHEME.match(parts['scheme']):
        return 'the driver name %r is not a URI scheme' % _short(parts['scheme'])
    host, port = parts['host'] or '', parts['port']
    if host.startswith('[') and not host.endswith(']'):
        return 'the IPv6 address has no closing "]"'
    if host == '[]':
        return 'the brackets hold no IPv6 address'
    if not host.startswith('[') and (':' in host or ']' in host or '[' in host):
        return 'the host %r is not a name or an address (an IPv6 address goes in brackets: [::1])' % _short(host)
    if port:
        if not _DIGITS.match(port):
            return 'the port %r is not a number' % _short(port)
        if len(port.lstrip('0')) > 5 or int(port) > 65535:
            return 'the port %s is above 65535' % _short(port)
    return None


def _short(text, limit=40):
    return text if len(text) <= limit else text[:limit - 3] + '...'


def _driver(parts):
    return (parts['scheme'] or '').partition('+')[0]


def is_test_driver(uri):
    """Whether ``uri`` opens libvirt's test driver (``test:///default``, ``test:///path.xml``),
    whose host is simulated: nothing of the machine running it describes that host."""
    return _driver(split_uri(uri)) == 'test'


def reads_local_sysfs(uri):
    """sysfs describes this machine: only for a local URI of a real hypervisor driver."""
    parts = split_uri(uri)
    return (parts['host'] or '').lower() in ('', 'localhost') and _driver(parts) != 'test'


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
    reason = scrub(libvirt_message(exc).rstrip('.'), uri)
    problem = uri_problem(uri)
    hint = 'Check that the libvirt daemon runs there and that this user may connect.'
    if problem:
        hint = 'The URI is malformed: %s. Write it as %s.' % (problem, URI_FORM)
    elif not read_only and refused_for_permission(exc):
        hint = ('A read-write connection needs root or membership in the libvirt group; '
                'grant that, or use read_only: auto (read-only when read-write is refused) or true.')
    return ConnectError('cannot connect to libvirt at %s: %s. %s' % (safe_uri(uri), reason, hint))


def check_uri(uri):
    """Raise ConnectError for a URI that libvirt would not take as meant: an empty one,
    which libvirt replaces with its own default (LIBVIRT_DEFAULT_URI or a guess)."""
    if not isinstance(uri, str) or not uri.strip():
        raise ConnectError('the libvirt URI is empty: give one such as qemu:///system or '
                           'qemu+ssh://root@hv1.example.com/system, or leave the option out for its default')


def connect(uri, read_only=True):
    check_uri(uri)
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
    check_uri(uri)
    _require_libvirt()
    try:
        return _open(uri, False), None
    except libvirt.libvirtError as exc:
        if not refused_for_permission(exc):
            raise _failure(uri, exc, False)
        refusal = scrub(libvirt_message(exc).rstrip('.'), uri)
    try:
        return _open(uri, True), refusal
    except libvirt.libvirtError as exc:
        raise ConnectError('cannot connect to libvirt at %s: read-write was refused (%s), and read-only failed too: %s. '
                           'Check that the libvirt daemon runs there and that this user may connect at all.'
                           % (safe_uri(uri), refusal, scrub(libvirt_message(exc).rstrip('.'), uri)))


def error_code(exc):
    return getattr(exc, 'get_error_code', lambda: None)()


def libvirt_message(exc):
    """libvirt's own message for a libvirtError, else the exception's text or type."""
    message = getattr(exc, 'get_error_message', lambda: None)() or str(exc) or type(exc).__name__
    return message.strip()
