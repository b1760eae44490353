# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scanner that masks the passwords of a store's connection string: it never raises,
and no password it can find is left in what it returns."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from urllib.parse import quote

import pytest

from hypothesis import given, settings, strategies as st

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.store.factsecret import mask, secrets

# Everything around the password is drawn from lowercase letters and digits; the password
# always holds a character of its own alphabet, so finding it in the output is a leak.
PLAIN = st.text(alphabet='abcdefghijklmnopqrstuvwxyz0123456789', min_size=1, max_size=12)
MARK = st.sampled_from('XYZQ')
# A password in a URI's userinfo ends at the first "/" for every parser.
USERINFO_PASSWORD = st.builds(lambda mark, rest: mark + rest, MARK,
                              st.text(alphabet=st.characters(blacklist_characters='/', blacklist_categories=('Cs',)), max_size=20))
QUERY_PASSWORD = st.builds(lambda mark, rest: mark + rest, MARK,
                           st.text(alphabet=st.characters(blacklist_characters='&', blacklist_categories=('Cs',)), max_size=20))
HOSTS = st.sampled_from(['db', 'db.example.com:5432', '[::1]', '[::1', '[]', 'db:abc', 'db:99999999', '', 'a,b:1'])


@pytest.mark.parametrize('uri, masked', [
    ('postgresql://u:p%40ss@db:5432/facts', 'postgresql://u:***@db:5432/facts'),
    ('postgresql://u@db/facts', 'postgresql://u@db/facts'),
    ('postgresql://db/facts?user=u&password=pw&sslmode=require', 'postgresql://db/facts?user=u&password=***&sslmode=require'),
    # urlsplit raises on these two; libpq echoes them whole.
    ('postgresql://user:pw@[::1/db', 'postgresql://user:***@[::1/db'),
    ('postgresql://user:pw@[]/db', 'postgresql://user:***@[]/db'),
    # libpq takes the userinfo up to the first "@", urlsplit up to the last one: both are masked.
    ('postgresql://u:a@b@db/x', 'postgresql://u:***@db/x'),
    ('postgresql://u:p?w#x@db/x', 'postgresql://u:***@db/x'),
    ('postgresql://db/x?sslpassword=k&PassWord=p&pass%77ord=q', 'postgresql://db/x?sslpassword=***&PassWord=***&pass%77ord=***'),
    ('host=db password=pw dbname=x', 'host=db password=*** dbname=x'),
    ("host=db password = 'p w\\' x' dbname=x", 'host=db password = *** dbname=x'),
    ("password='unterminated", 'password=***'),
    ('', ''),
    ('/var/lib/facts.db', '/var/lib/facts.db'),
])
def test_mask_hides_every_password_and_nothing_else(uri, masked):
    assert mask(uri) == masked


def test_secrets_lists_every_spelling():
    assert secrets("postgresql://u:p%40ss@db/x?password=q%20r") == ['p%40ss', 'q%20r', 'p@ss', 'q r']
    assert secrets("host=db password='a\\'b'") == ["a\\'b", "a'b"]
    assert secrets('postgresql://u:@db/x') == []


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_no_text_makes_the_scanner_raise(text):
    assert isinstance(mask(text), str)
    assert isinstance(secrets(text), list)


@settings(max_examples=300, deadline=None)
@given(st.binary())
def test_no_undecodable_byte_makes_the_scanner_raise(data):
    # An inventory or environment with a byte that is not UTF-8 reaches Python as a lone surrogate.
    text = data.decode('utf-8', 'surrogateescape').replace('/', '')
    assert mask('postgresql://u:%s@db/x?password=%s' % (text, text)).startswith('postgresql://u:***@')


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(['postgresql', 'postgres']), PLAIN, USERINFO_PASSWORD, HOSTS, PLAIN, st.booleans())
def test_a_userinfo_password_never_shows(scheme, user, password, host, database, encode):
    written = quote(password, safe='') if encode else password
    uri = '%s://%s:%s@%s/%s' % (scheme, user, written, host, database)

    masked = mask(uri)

    assert written not in masked
    assert password not in masked
    assert masked.startswith('%s://%s:***@' % (scheme, user))
    assert password in secrets(uri) or quote(password, safe='') in secrets(uri)


@settings(max_examples=500, deadline=None)
@given(PLAIN, QUERY_PASSWORD, HOSTS, st.sampled_from(['password', 'sslpassword', 'PASSWORD', 'pass%77ord']),
       st.lists(st.tuples(PLAIN, PLAIN), max_size=3))
def test_every_password_parameter_of_a_uri_never_shows(user, password, host, key, others):
    before = '&'.join('%s=%s' % pair for pair in others)
    uri = 'postgresql://%s@%s/db?%s%s%s=%s&sslmode=require' % (user, host, before, '&' if before else '', key, password)

    masked = mask(uri)

    assert password not in masked
    assert masked.endswith('%s=***&sslmode=require' % key)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=('Cs',)), max_size=20).map(lambda rest: 'X' + rest),
       st.sampled_from([' ', '  ', '\t']))
def test_a_quoted_password_of_a_key_value_string_never_shows(password, space):
    quoted = "'%s'" % password.replace('\\', '\\\\').replace("'", "\\'")
    dsn = 'host=db%spassword=%s%suser=u' % (space, quoted, space)

    masked = mask(dsn)

    assert password not in masked
    assert masked == 'host=db%spassword=***%suser=u' % (space, space)
    assert password in secrets(dsn)
