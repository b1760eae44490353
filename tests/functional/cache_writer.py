# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A controller writing the factdb cache, as ansible-playbook does, in a process of its own.

    python cache_writer.py PREFIX COUNT [GO_FILE]

Loads ``virtumancer.hostcaps.factdb`` through ansible-core's ``cache_loader`` (configured
by the ANSIBLE_CACHE_PLUGIN_* environment) and sets the hosts ``PREFIX-00000`` ... with
``facts_for(host)``. It prints ``ready`` once the plugin is loaded, waits for GO_FILE to
exist when one is given (so that two writers start at the same moment), then prints every
host once ``set()`` has returned, i.e. once it is committed. COUNT 0 writes until killed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys
import time

PLUGIN = 'virtumancer.hostcaps.factdb'


def facts_for(host):
    """The facts a writer stores for ``host``: a function of the name only, so a reader
    can check every value it finds; a few KB, nested like libvirt_host_caps."""
    number = int(host.rsplit('-', 1)[1])
    return {
        'fact_marker': host,
        'libvirt_host_caps': {
            'schema_version': 1,
            'host_info': {'hostname': host, 'uuid': '%032x' % number},
            'memory_info': {'total_mb': 1024 * (number % 512 + 1)},
            'traits': sorted(['HW_CPU_X86_AVX2', 'CUSTOM_WRITER_%s' % host.rsplit('-', 1)[0].upper()]),
            'cpu_info': {'features': ['feature%03d' % index for index in range(number % 7, 200)]},
        },
    }


def load_plugin():
    from ansible.plugins.loader import cache_loader, init_plugin_loader
    init_plugin_loader([os.environ['ANSIBLE_COLLECTIONS_PATH']])
    plugin = cache_loader.get(PLUGIN)
    if plugin is None:
        raise SystemExit('cache_writer: cache_loader found no %s in %s' % (PLUGIN, os.environ['ANSIBLE_COLLECTIONS_PATH']))
    return plugin


def main(argv):
    prefix, count = argv[0], int(argv[1])
    go_file = argv[2] if len(argv) > 2 else None
    plugin = load_plugin()
    # The first use opens (and creates) the store: do it before the start line.
    plugin.contains('%s-ready' % prefix)
    print('ready', flush=True)
    while go_file and not os.path.exists(go_file):
        time.sleep(0.005)
    number = 0
    while count == 0 or number < count:
        host = '%s-%05d' % (prefix, number)
        plugin.set(host, facts_for(host))
        print(host, flush=True)
        number += 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
