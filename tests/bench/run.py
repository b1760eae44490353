# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the benchmarks of tests/bench (`make bench`).

Every ``tests/bench/bench_*.py`` lists its benchmarks in ``BENCHMARKS``. Without a name
all run; a name selects one benchmark, a module name (``host_caps``) all of that module.
Exit status: 0 when every measurement is valid, 1 when one is not (a command failed or
returned an incomplete result), 2 on a usage error; ``--strict`` also fails on a MISS.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import glob
import importlib
import os
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)

from _common import COLLECTIONS_PATH, Context, table  # noqa: E402 pylint: disable=wrong-import-position

if COLLECTIONS_PATH not in sys.path:
    # The benchmarks import the collection's module_utils from the symlink tree.
    sys.path.insert(1, COLLECTIONS_PATH)


def discover():
    """[(module short name, Benchmark)] from every bench_*.py, in file name order."""
    modules = []
    for path in sorted(glob.glob(os.path.join(BENCH_DIR, 'bench_*.py'))):
        module_name = os.path.splitext(os.path.basename(path))[0]
        modules.append((module_name, importlib.import_module(module_name)))
    # A module may ask to run later (RUN_LAST) when it leaves the machine busy afterwards.
    modules.sort(key=lambda item: getattr(item[1], 'RUN_LAST', False))
    return [(name[len('bench_'):], bench) for name, module in modules for bench in module.BENCHMARKS]


def select(found, names):
    if not names:
        return [bench for dummy, bench in found]
    chosen, unknown = [], []
    for name in names:
        matches = [bench for module, bench in found if name in (bench.name, module, 'bench_' + module)]
        if not matches:
            unknown.append(name)
        chosen.extend(bench for bench in matches if bench not in chosen)
    if unknown:
        raise SystemExit('run.py: no benchmark named %s; `run.py --list` shows them' % ', '.join(unknown))
    return chosen


def main(argv=None):
    parser = argparse.ArgumentParser(description='Run the virtumancer.hostcaps benchmarks.')
    parser.add_argument('names', nargs='*', help='benchmarks or bench modules to run (default: all)')
    parser.add_argument('--list', action='store_true', help='list the benchmarks and exit')
    parser.add_argument('--rounds', type=int, help='measured rounds of every selected benchmark (default: its own)')
    parser.add_argument('--strict', action='store_true', help='exit 1 when a target is missed, too')
    args = parser.parse_args(argv)

    found = discover()
    if args.list:
        print(table(['name', 'rounds', 'what it measures'],
                    [(b.name, b.default_rounds, b.summary) for dummy, b in found]))
        return 0
    ctx = Context(rounds=args.rounds)
    results = []
    for bench in select(found, args.names):
        ctx.say('=' * 100)
        ctx.say('%s: %s' % (bench.name, bench.summary))
        ctx.say('=' * 100)
        start = time.perf_counter()
        result = bench.run(ctx, bench)
        if result.invalid:
            ctx.say('INVALID MEASUREMENT: %s' % result.invalid)
        ctx.say('(%s took %.0f s)' % (bench.name, time.perf_counter() - start))
        ctx.say()
        results.append(result)

    rows = []
    for result in results:
        if result.invalid:
            rows.append((result.name, 'measurement', 'invalid', '', 'INVALID'))
        rows.extend((result.name,) + row for row in result.rows)
    ctx.say('=' * 100)
    ctx.say('SUMMARY')
    ctx.say('=' * 100)
    ctx.say(table(['benchmark', 'metric', 'value', 'target', 'verdict'], rows, 'llrrl'))
    invalid = [r.name for r in results if r.invalid]
    missed = [r.name for r in results if r.missed]
    ctx.say()
    ctx.say('invalid: %s; missed a target: %s' % (', '.join(invalid) or 'none', ', '.join(missed) or 'none'))
    if invalid or (args.strict and missed):
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
