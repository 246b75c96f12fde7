"""What every benchmark shares when it reports: provenance, the output file, spreads and one-time costs.

``finish`` adds the provenance block (textsel.provenance), writes the results file atomically when one is asked
for and prints the one JSON line every benchmark ends with. ``mean_ci95`` gives a headline its spread over seeds;
``break_even_rounds`` turns one-time costs and per-round savings into the round count after which SEALS has paid
for itself; ``BuildRecord`` keeps the seconds a cached artefact took to build beside it, so a cache hit reports the
real build time of the run that built it instead of 0.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import stats

from textsel.metrics import write_json
from textsel.provenance import results_with_provenance


def finish(payload: dict, *, seeds: Sequence[int] | None, started: float, out: Path | None = None) -> dict:
    """``payload`` with provenance; written to ``out`` (when given) and printed as the last line."""
    result = results_with_provenance(payload, seeds=list(seeds) if seeds is not None else None, started=started)
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        write_json(out, result)
    print(json.dumps(result))
    return result


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
