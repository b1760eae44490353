# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private helpers of the benchmarks under tests/bench; not a contract, may change."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import statistics
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(BENCH_DIR))
TMP_DIR = os.path.join(REPO_ROOT, '.tmp')
# Same defaults as the Makefile; `make bench` passes them explicitly.
COLLECTIONS_PATH = os.environ.get('COLLECTIONS_PATH') or os.path.join(TMP_DIR, 'collections')
BENCH_VENV = os.environ.get('BENCH_VENV') or os.path.join(TMP_DIR, 'bench-venv')
LIBVIRT_URI = os.environ.get('LIBVIRT_URI') or 'qemu:///system'

PASS, MISS, INFO = 'PASS', 'MISS', 'info'


class BenchInvalid(Exception):
    """The measurement cannot be trusted (a command failed, a result is incomplete)."""


class Benchmark:
    """One runnable benchmark: ``run(ctx)`` returns a ``Result``."""

    def __init__(self, name, summary, run, min_rounds, default_rounds):
        self.name = name
        self.summary = summary
        self.run = run
        self.min_rounds = min_rounds
        self.default_rounds = default_rounds


class Result:
    """What a benchmark measured: report lines and rows for the final summary."""

    def __init__(self, name):
        self.name = name
        self.rows = []  # (metric, value text, target text, verdict)
        self.invalid = None  # a message when the measurement is not valid

    def add(self, metric, value, target='', verdict=INFO):
        self.rows.append((metric, value, target, verdict))

    @property
    def missed(self):
        return any(row[3] == MISS for row in self.rows)


class Context:
    """Options of one run.py invocation, handed to every benchmark."""

    def __init__(self, rounds=None, out=None):
        self.rounds = rounds
        self.out = out or sys.stdout

    def rounds_for(self, bench):
        if self.rounds is None:
            return bench.default_rounds
        if self.rounds < bench.min_rounds:
            self.say('note: %s needs at least %d rounds for a median; using %d instead of %d'
                     % (bench.name, bench.min_rounds, bench.min_rounds, self.rounds))
            return bench.min_rounds
        return self.rounds

    def say(self, text=''):
        self.out.write(text + '\n')
        self.out.flush()


class Stats:
    """Median, min and max of a list of samples (seconds)."""

    def __init__(self, samples):
        self.samples = list(samples)
        self.median = statistics.median(self.samples)
        self.min = min(self.samples)
        self.max = max(self.samples)


def interleave(timed, rounds, warmup=1, on_round=None):
    """Run every ``(name, callable)`` of ``timed`` once per round, in order
    (A, B, C, A, B, C, ...), so drift of the machine hits every candidate alike.
    The first ``warmup`` rounds fill caches and are not kept; ``on_round(number, last)``
    sees each kept round (number 0 for warm-up). Returns {name: Stats}."""
    samples = dict((name, []) for name, dummy in timed)
    for index in range(warmup + rounds):
        last = {}
        for name, func in timed:
            start = time.perf_counter()
            func()
            last[name] = time.perf_counter() - start
            if index >= warmup:
                samples[name].append(last[name])
        if on_round is not None:
            on_round(index - warmup + 1 if index >= warmup else 0, last)
    return dict((name, Stats(values)) for name, values in samples.items())


def ratio_verdict(value, target):
    return PASS if value <= target else MISS


def table(headers, rows, align=None):
    """Plain-text table; ``align`` is a string of 'l'/'r' per column."""
    rows = [[str(cell) for cell in row] for row in rows]
    align = align or 'l' * len(headers)
    widths = [max([len(headers[i])] + [len(row[i]) for row in rows]) for i in range(len(headers))]

    def line(cells):
        parts = [cell.rjust(widths[i]) if align[i] == 'r' else cell.ljust(widths[i]) for i, cell in enumerate(cells)]
        return '  '.join(parts).rstrip()

    rule = '  '.join('-' * width for width in widths)
    return '\n'.join([line(headers), rule] + [line(row) for row in rows])


def seconds(value):
    return '%.3f s' % value


def millis(value):
    return '%.2f ms' % (value * 1000.0)
