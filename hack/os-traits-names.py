"""Write plugins/module_utils/facts/os_traits_names.py from the installed os-traits package.

The collection checks trait names at run time without depending on os-traits, so it
keeps the names as a literal. After os-traits changes in the venv, run from the
collection root:

    .venv/bin/python hack/os-traits-names.py

tests/unit/plugins/module_utils/facts/test_os_traits_names.py fails until the file matches.
"""

import importlib.metadata
import os

import os_traits

TARGET = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'plugins', 'module_utils', 'facts', 'os_traits_names.py')

HEADER = '''\
# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Generated from os-traits {version} by hack/os-traits-names.py; do not edit by hand.
# Regenerate after upgrading os-traits: .venv/bin/python hack/os-traits-names.py
"""Every standard trait name of os-traits, so trait names can be checked without the package.

``tests/unit/plugins/module_utils/facts/test_os_traits_names.py`` fails when this list and
the installed os-traits differ.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

OS_TRAITS = frozenset((
'''


def render():
    lines = [HEADER.format(version=importlib.metadata.version('os-traits'))]
    lines.extend("    '%s',\n" % name for name in sorted(os_traits.get_traits()))
    lines.append('))\n')
    return ''.join(lines)


def main():
    with open(TARGET, 'w', encoding='utf-8') as handle:
        handle.write(render())
    print('wrote %s' % os.path.normpath(TARGET))


if __name__ == '__main__':
    main()
