"""The one results writer of every benchmark (benchmarks/) and recipe (recipes/), and what they share when they report.

A figure is only worth what a reader can check about it. ``start_run`` is called when a run begins: it records the
git commit, the 1-minute load average and the clock, and refuses a tree with uncommitted changes (the code that ran
would be nowhere to find) unless the run was told ``allow_dirty``. ``Run.write`` / ``Run.finish`` add the provenance
block (textsel.provenance: commit, command, package versions, machine with CPU flags, seeds, wall time, date) plus:

- ``load_average_1min``: ``{"start", "end"}`` and ``cores``: the machine's core count;
- ``busy``: true when either load average exceeded the core count, i.e. other work shared the CPUs and the timings
  are not quotable (``quotable`` false);
- ``dirty``: true (only) when the tree had uncommitted changes and the run was allowed to go on.

``benchmarks.report`` refuses busy and dirty files when it writes the figures into the docs.
``mean_ci95`` gives a headline its spread over seeds; ``break_even_rounds`` turns one-time costs and per-round
savings into the round count after which SEALS has paid for itself; ``BuildRecord`` keeps the seconds a cached
artefact took to build beside it, so a cache hit reports the real build time of the run that built it instead of 0.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import stats

from textsel.embed import cpu_flags  # which SIMD kernels numpy, torch and fastText can use
from textsel.metrics import write_json
from textsel.provenance import git_state, results_with_provenance


class DirtyTree(SystemExit):
    """The checkout has uncommitted changes and the run was not told to go on regardless."""


def load_average() -> float | None:
    """The 1-minute load average, or None where the OS has none."""
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):
        return None


class Run:
    """One benchmark or recipe run, from its start to the results file it writes."""

    def __init__(self, *, allow_dirty: bool = False, command: list[str] | None = None) -> None:
        self.started = time.perf_counter()
        self.load_start = load_average()
        self.command = command
        # The code that runs is the code at the start: a results file saved in stages must not change the verdict.
        self.commit, self.dirty = git_state()
        if self.dirty and not allow_dirty:
            raise DirtyTree("the checkout has uncommitted changes, so the code that produced these results could not "
                            "be found again: commit first, or allow a dirty tree (the file is then marked dirty)")

    def document(self, payload: dict, seeds: Sequence[int] | None) -> dict:
        """``payload`` with the full provenance block (see the module docstring)."""
        result = results_with_provenance(payload, seeds=list(seeds) if seeds is not None else None,
                                         started=self.started, command=self.command)
        block = result["provenance"]
        cores = os.cpu_count() or 1
        loads = {"start": self.load_start, "end": load_average()}
        busy = any(load is not None and load > cores for load in loads.values())
        block |= {"git_commit": self.commit, "git_dirty": self.dirty, "load_average_1min": loads, "cores": cores,
                  "busy": busy, "quotable": not busy and not self.dirty}
        block["machine"] = {**block["machine"], "cpu_flags": sorted(cpu_flags())}
        if self.dirty:
            block["dirty"] = True
        return result

    def write(self, payload: dict, seeds: Sequence[int] | None, out: Path) -> dict:
        """Write ``payload`` with provenance to ``out`` atomically (a run saving in stages calls this after each)."""
        result = self.document(payload, seeds)
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        write_json(out, result)
        return result

    def finish(self, payload: dict, *, seeds: Sequence[int] | None, out: Path | None = None) -> dict:
        """``payload`` with provenance; written to ``out`` (when given) and printed as the last line."""
        result = self.write(payload, seeds, out) if out is not None else self.document(payload, seeds)
        print(json.dumps(result))
        return result


def add_run_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``--allow-dirty``: run from a tree with uncommitted changes (the results file is then marked dirty)."""
    parser.add_argument("--allow-dirty", action="store_true",
                        help="run from a checkout with uncommitted changes; the results are marked dirty, not quotable")
    return parser


def start_run(args: argparse.Namespace | None = None, *, allow_dirty: bool = False,
              command: list[str] | None = None) -> Run:
    """A :class:`Run` begun now; ``args`` from a parser given :func:`add_run_options`."""
    return Run(allow_dirty=allow_dirty or bool(getattr(args, "allow_dirty", False)), command=command)


def mean_ci95(values: Sequence[float]) -> dict:
    """Mean, sample sd and a two-sided 95% t-interval of the mean over independent runs (seeds)."""
    values = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=np.float64)
    n = len(values)
    if n == 0:
        return {"mean": None, "sd": None, "ci95": [None, None], "n": 0}
    mean = float(values.mean())
    if n == 1:
        return {"mean": mean, "sd": None, "ci95": [None, None], "n": 1}
    sd = float(values.std(ddof=1))
    half = float(stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n))
    return {"mean": mean, "sd": sd, "ci95": [mean - half, mean + half], "n": n}


def break_even_rounds(seals_one_time_s: float | None, all_one_time_s: float | None, seals_round_s: float,
                      all_round_s: float) -> int | None:
    """Rounds after which SEALS's total cost (one-time + rounds) is no more than All's: 0 when SEALS is ahead from
    the start; None when a one-time cost is unknown or SEALS's rounds are no faster (it never gains per round)."""
    if seals_one_time_s is None or all_one_time_s is None:
        return None
    extra_up_front, saved_per_round = seals_one_time_s - all_one_time_s, all_round_s - seals_round_s
    if saved_per_round <= 0:
        return None
    return max(0, math.ceil(extra_up_front / saved_per_round))


class BuildRecord:
    """The build cost of a cached artefact, kept in ``<artefact>.build.json`` beside it."""

    def __init__(self, artefact: Path) -> None:
        self.path = Path(artefact).with_name(Path(artefact).name + ".build.json")

    def save(self, seconds: float) -> None:
        from textsel.provenance import machine

        write_json(self.path, {"build_seconds": seconds, "machine": machine()})

    def seconds(self) -> float | None:
        """Seconds the cached artefact took to build, or None when no record was kept (an older cache)."""
        try:
            return float(json.loads(self.path.read_text())["build_seconds"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
