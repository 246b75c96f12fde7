"""Fit the mismatch diagnostic's thresholds and rule on one fold of concepts (what textsel.diagnose ships).

The raw signals come from ``benchmarks/diagnose_validation.py`` (its ``rows``: one per concept x policy x seed).
For each rule (``knn``: the kNN signal alone, ``probe``: the probe alone, ``both``: both low, ``either``: one low is
enough) a grid of thresholds is searched for the highest agreement with the truth over every row of the fit concepts
(labels from all three policies together); among thresholds that tie, the median of each is kept (the middle of the
gap between the classes), and among rules that tie, the simpler one (order of ``RULES``).

    python benchmarks/diagnose_thresholds.py [--validation benchmarks/results/diagnose_validation.json]

Fits on fold "A" (the concepts textsel.diagnose's constants are fitted on); writes
benchmarks/results/diagnose_thresholds.json with provenance; last line: that JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from _results import add_run_options, start_run

FOLDS = {
    "A": ["tv_spoilers@3%", "hotel_tips", "amazon automotive", "amazon magazines", "blitzer books@3%",
          "amazon office_products"],
    "B": ["amazon negative reviews@3%", "blitzer 1-star@3%", "sms_spam", "amazon baby",
          "amazon cell_phones_service"],
}
RULES = ("knn", "probe", "both", "either")
KNN_GRID = np.round(np.arange(0.0, 0.61, 0.01), 2)
PROBE_GRID = np.round(np.arange(0.0, 1.0, 0.02), 2)
RESULTS = Path(__file__).resolve().parent / "results"


def verdict(row: dict, fitted: dict) -> bool:
    """Whether the fitted rule flags a mismatch for a row's signals."""
    knn_low = row["knn"] < fitted["knn_threshold"]
    probe_low = row["probe"] < fitted["probe_threshold"]
    return {"knn": knn_low, "probe": probe_low, "both": knn_low and probe_low,
            "either": knn_low or probe_low}[fitted["rule"]]


def fit_thresholds(rows: list[dict]) -> dict:
    """The rule and thresholds with the highest agreement on ``rows`` (see the module docstring)."""
    judged = [row for row in rows if row["knn"] is not None]
    knn = np.asarray([row["knn"] for row in judged])[:, None, None]
    probe = np.asarray([row["probe"] for row in judged])[:, None, None]
    truth = np.asarray([row["truth_mismatch"] for row in judged])[:, None, None]
    knn_low, probe_low = knn < KNN_GRID[None, :, None], probe < PROBE_GRID[None, None, :]
    flagged = {"knn": knn_low & np.ones_like(probe_low), "probe": probe_low & np.ones_like(knn_low),
               "both": knn_low & probe_low, "either": knn_low | probe_low}
    best = None
    for rule in RULES:
        agreement = (flagged[rule] == truth).mean(axis=0)
        ties = np.argwhere(agreement == agreement.max())
        middle = np.median(ties, axis=0)
        knn_at, probe_at = ties[np.argmin(((ties - middle) ** 2).sum(axis=1))]  # the tie nearest the middle
        candidate = {"rule": rule, "agreement": float(agreement.max()),
                     "knn_threshold": float(KNN_GRID[knn_at]) if rule != "probe" else 0.0,
                     "probe_threshold": float(PROBE_GRID[probe_at]) if rule != "knn" else 0.0,
                     "rows": len(judged)}
        if best is None or candidate["agreement"] > best["agreement"]:
            best = candidate
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validation", type=Path, default=RESULTS / "diagnose_validation.json")
    parser.add_argument("--fold", default="A", choices=sorted(FOLDS))
    args = add_run_options(parser).parse_args()
    run = start_run(args)
    rows = json.loads(args.validation.read_text())["rows"]
    fitted = fit_thresholds([row for row in rows if row["concept"] in FOLDS[args.fold]])
    payload = {"benchmark": "diagnose_thresholds", "fold": args.fold, "fit_concepts": FOLDS[args.fold],
               "source": str(args.validation.name), **fitted}
    run.finish(payload, seeds=None, out=RESULTS / "diagnose_thresholds.json")


if __name__ == "__main__":
    main()
