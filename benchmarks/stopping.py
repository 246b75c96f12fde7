"""Does textsel's stopping rule reach its target recall as often as its confidence promises, and what does it cost?

Each run is one simulated labeling project (a concept x a strategy x a seed) on the shared MiniLM embeddings:

1. Seed: 5 positives + 95 negatives drawn from the oracle labels (as ``textsel simulate`` does).
2. Active rounds of ``--batch`` texts with textsel's RoundEngine (logistic learner; maxent or mlp over the SEALS pool,
   k=100, or over all texts) until the yield hint of ``textsel status`` fires (each of the last 3 rounds found under
   2% positives), the candidate pool runs dry, or the active labels reach ``--active-cap`` of the pool.
3. Audit phase: audits of ``--audit`` texts drawn uniformly from the unlabeled texts; after each,
   ``textsel.estimate.stopping_test`` runs on every audit so far, and the run stops when it says stop (or nothing is
   unlabeled). ``--protocol audit-only`` draws the audits one after another (Callaghan & Mueller-Hansen 2020's
   random sample of the remainder); ``interleaved`` (default) runs one more active round between audits, which keeps
   finding the positives the rule is waiting for.

Per concept and strategy the last line reports: ``runs``; ``coverage``, the share of runs whose recall at the stop
is at or above ``target_recall`` (the rule promises at least ``confidence``); ``labels_spent_mean`` (seed + active +
audit labels at the stop); ``oracle_labels_mean``, the labels the same run had spent when its recall first reached
the target (an oracle that stops at the exact moment; over the runs that reached it); and the mean recall at stop.
``seconds`` is each (concept, strategy)'s wall time: loading and the index build are one-time costs reported
per concept as ``setup_seconds``.

    python benchmarks/stopping.py [--seeds 5] [--target-recall 0.95] [--confidence 0.95] [--out FILE]

Writes the results, with provenance, to benchmarks/results/stopping.json (or --out); last line: that JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
from _results import add_run_options, start_run
from concepts import available, load_concept

from textsel.candidates import make_candidate_pool
from textsel.errors import PoolExhaustedError
from textsel.estimate import AuditDraw, stopping_test
from textsel.index import ExactIndex
from textsel.learner import make_learner
from textsel.rounds import RoundEngine
from textsel.simulate import draw_seed

STOPPING_CONCEPTS = ["amazon automotive", "hotel_tips", "sms_spam", "tv_spoilers@3%"]
STRATEGIES = [("maxent", "seals"), ("maxent", "all"), ("mlp", "seals"), ("mlp", "all")]
RESULTS = Path(__file__).resolve().parent / "results" / "stopping.json"


def yield_dropped(yields: list[float], window: int = 3, threshold: float = 0.02) -> bool:
    """The hint `textsel status` prints: each of the last ``window`` rounds found under ``threshold`` positives."""
    return len(yields) >= window and max(yields[-window:]) < threshold


def run_project(data, index, strategy: str, pool: str, seed: int, *, target: float, confidence: float, batch: int,
                audit: int, active_cap: float, protocol: str = "interleaved") -> dict:
    """One simulated project with the protocol in the module docstring; returns what it spent and reached."""
    rng = np.random.default_rng(seed)
    ids, oracle = data.ids, data.is_positive.astype(np.int64)
    is_positive = dict(zip(ids.tolist(), data.is_positive.tolist(), strict=True))
    order = draw_seed(oracle, ids, 1, 5, 95, rng).tolist()
    labels = {doc_id: int(is_positive[doc_id]) for doc_id in order}
    engine = RoundEngine(ids, make_candidate_pool(pool, index=index, k=100, seed=seed), features=data.embeddings,
                         strategy=strategy, learner=make_learner("logistic"), batch_size=batch, positive_label=1,
                         classes=[0, 1], index=index, seed=seed)
    yields: list[float] = []
    while not yield_dropped(yields) and len(labels) - 100 < active_cap * len(ids):
        try:
            chosen = engine.select_batch(labels).ids.tolist()
        except PoolExhaustedError:
            break
        order += chosen
        labels.update((doc_id, int(is_positive[doc_id])) for doc_id in chosen)
        yields.append(sum(is_positive[doc_id] for doc_id in chosen) / len(chosen))
    active_labels = len(order) - 100
    unlabeled = np.setdiff1d(ids, np.fromiter(labels, dtype=np.int64))
    audits: list[tuple[int, int, int, int]] = []  # (unlabeled at the draw, drawn, positives, found before the draw)
    found = sum(labels.values())
    while True:
        draws = [AuditDraw(n_unlabeled, drawn, positives, found - found_before)
                 for n_unlabeled, drawn, positives, found_before in audits]
        if stopping_test(draws, found=found, unlabeled_now=len(unlabeled), target_recall=target,
                         confidence=confidence).stop:
            break
        if protocol == "interleaved" and audits:  # an active round between audits keeps finding positives
            try:
                chosen = engine.select_batch(labels).ids.tolist()
            except PoolExhaustedError:
                chosen = []
            order += chosen
            labels.update((doc_id, int(is_positive[doc_id])) for doc_id in chosen)
            found += sum(is_positive[doc_id] for doc_id in chosen)
            active_labels += len(chosen)
            unlabeled = np.setdiff1d(unlabeled, chosen)
            if not len(unlabeled):
                continue
        picked = rng.choice(len(unlabeled), min(audit, len(unlabeled)), replace=False)
        drawn = unlabeled[picked]
        positives = int(sum(is_positive[doc_id] for doc_id in drawn.tolist()))
        audits.append((len(unlabeled), len(drawn), positives, found))
        found += positives
        order += drawn.tolist()
        labels.update((doc_id, int(is_positive[doc_id])) for doc_id in drawn.tolist())
        unlabeled = np.delete(unlabeled, picked)
    total = int(data.is_positive.sum())
    cumulative = np.cumsum([is_positive[doc_id] for doc_id in order])
    reached = np.flatnonzero(cumulative >= math.ceil(target * total - 1e-9))
    return {"recall": found / total, "labels": len(order), "active_labels": active_labels,
            "audit_labels": len(order) - 100 - active_labels,
            "oracle_labels": int(reached[0]) + 1 if len(reached) else None}


def summarise(concept: str, strategy: str, runs: list[dict], target: float, seconds: float) -> dict:
    reached = [run["oracle_labels"] for run in runs if run["oracle_labels"] is not None]
    return {"concept": concept, "strategy": strategy, "runs": len(runs),
            "coverage": float(np.mean([run["recall"] >= target - 1e-12 for run in runs])),
            "labels_spent_mean": float(np.mean([run["labels"] for run in runs])),
            "oracle_labels_mean": float(np.mean(reached)) if reached else None,
            "recall_at_stop_mean": float(np.mean([run["recall"] for run in runs])),
            "recall_at_stop_min": float(np.min([run["recall"] for run in runs])),
            "active_labels_mean": float(np.mean([run["active_labels"] for run in runs])),
            "audit_labels_mean": float(np.mean([run["audit_labels"] for run in runs])),
            "seconds": round(seconds, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--target-recall", type=float, default=0.95)
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--audit", type=int, default=200, help="texts per audit in the audit phase")
    parser.add_argument("--active-cap", type=float, default=0.3, help="largest share of the pool labeled actively")
    parser.add_argument("--protocol", choices=["interleaved", "audit-only"], default="interleaved",
                        help="after the yield drops: an active round between audits, or audits only (C&MH)")
    parser.add_argument("--concepts", default=",".join(STOPPING_CONCEPTS))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = add_run_options(parser).parse_args()
    if not available():
        sys.exit("the shared data sets are not present (../shared/data)")
    run = start_run(args)
    rows, setup = [], {}
    for concept in args.concepts.split(","):
        setup_start = time.perf_counter()
        data = load_concept(concept)
        index = ExactIndex("cosine")
        index.add(data.embeddings, data.ids)
        setup[concept] = round(time.perf_counter() - setup_start, 2)
        for strategy, pool in STRATEGIES:
            start = time.perf_counter()
            runs = [run_project(data, index, strategy, pool, seed, target=args.target_recall,
                                confidence=args.confidence, batch=args.batch, audit=args.audit,
                                active_cap=args.active_cap, protocol=args.protocol) for seed in range(args.seeds)]
            row = {**summarise(concept, f"{strategy}-{pool}", runs, args.target_recall,
                               time.perf_counter() - start),
                   "pool_size": len(data.ids), "positives": int(data.is_positive.sum())}
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    coverage = float(np.mean([row["coverage"] for row in rows]))
    payload = {"benchmark": "stopping", "target_recall": args.target_recall, "confidence": args.confidence,
               "protocol": {"name": args.protocol, "batch": args.batch, "audit": args.audit,
                            "active_cap": args.active_cap,
                            "seed_labels": "5 positives + 95 negatives", "learner": "logistic", "k": 100},
               "coverage_overall": coverage, "runs_overall": sum(row["runs"] for row in rows),
               "setup_seconds": setup, "per_concept_strategy": rows}
    run.finish(payload, seeds=list(range(args.seeds)), out=args.out)


if __name__ == "__main__":
    main()
