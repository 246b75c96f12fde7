"""Is the mismatch diagnostic right on concepts its thresholds were not fitted on, whatever policy collected the
labels? And what recovers positives when the embedding does not cluster the concept?

Truth per concept: the chance-corrected kNN share computed from ALL oracle labels of the pool (for every positive,
the share of positives among its 10 nearest texts, corrected by the prevalence) is below ``TRUTH_THRESHOLD``.

Validation. For each concept, seed and label-collection policy (``random``: a uniform random sample; ``maxent-seals``
and ``mlp-seals``: textsel's simulated rounds over the SEALS pool, k=100), labels are collected up to ``--budget``
(seed 5 positives + 95 negatives, rounds of 100), then an audit of ``--audit`` texts drawn at random from the
unlabeled ones is labeled, as a project would with ``textsel audit``, and ``textsel.diagnose.diagnose`` measures its
two raw signals (on the audit's positives when it holds at least 5, else on every labeled positive).
Thresholds and the rule are fitted (``diagnose_thresholds.fit_thresholds``) on one fold of concepts, with every
policy's labels, and the verdict's agreement with the truth is reported on the OTHER fold, per policy; then the folds
swap. Rows whose policy found fewer than the diagnostic's minimum of positives are counted as ``too_few``.

Recovery (``--recovery``). On the concepts whose truth is "mismatch", positives found within ``--recovery-budget``
labels by MLP and MaxEnt over: SEALS k=10, SEALS k=100 (ten times larger neighbourhoods), SEALS k=10 with 20% of
each round drawn at random from all unlabeled texts (random exploration), and all texts (a full scan). The pools
hold 6-11k texts, where k=100 neighbourhoods of the seed alone cover most of the pool; k=10 here stands for k=100 in
a pool ten times larger.

Timers: ``collect_seconds`` covers the simulated rounds, ``diagnose_seconds`` the diagnostic calls; loading a
concept and building its exact index are one-time costs in ``setup_seconds``.

    python benchmarks/diagnose_validation.py [--seeds 3] [--budget 1000] [--recovery]

Writes benchmarks/results/diagnose_validation.json (with provenance); last line: that JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from _results import add_run_options, start_run
from concepts import available, load_concept
from diagnose_thresholds import FOLDS, RULES, fit_thresholds, verdict

from textsel.candidates import make_candidate_pool
from textsel.diagnose import above_chance, diagnose, knn_positive_share
from textsel.errors import DataError
from textsel.index import ExactIndex
from textsel.learner import make_learner
from textsel.rounds import RoundEngine
from textsel.simulate import draw_seed, run_simulation

TRUTH_THRESHOLD = 0.10
POLICIES = {"random": ("random", "all"), "maxent-seals": ("maxent", "seals"), "mlp-seals": ("mlp", "seals")}
# The pools here hold 6-11k texts, so SEALS at k=100 already scores most of them after the seed; k=10 plays the
# part k=100 plays in a pool ten times larger (the share of the pool a neighbourhood covers is what matters).
RECOVERY_VARIANTS = {"seals k=10": ("seals", 10, 0.0), "seals k=100 (10x k)": ("seals", 100, 0.0),
                     "seals k=10 + 20% random": ("seals", 10, 0.2), "all": ("all", 10, 0.0)}
RESULTS = Path(__file__).resolve().parent / "results" / "diagnose_validation.json"


def truth_share(data) -> float:
    """Chance-corrected share of positives among each positive's 10 nearest texts, from every oracle label."""
    return above_chance(knn_positive_share(data.embeddings, data.is_positive, 10), data.prevalence)


def collect(data, index, policy: str, seed: int, budget: int, audit: int) -> tuple[np.ndarray, np.ndarray]:
    """(every labeled id, the ids drawn at random): ``policy``'s ``budget`` labels (the seed first), then an audit of
    ``audit`` texts drawn uniformly from the unlabeled ones, as `textsel audit` would."""
    strategy, pool = POLICIES[policy]
    records = run_simulation(data.ids, data.is_positive.astype(np.int64), features=data.embeddings,
                             strategy=strategy, candidate_pool=make_candidate_pool(pool, index=index, k=100,
                                                                                   seed=seed),
                             learner=make_learner("logistic"), batch_size=100, budget=budget, positive_label=1,
                             seed=seed, index=index, keep_labeled_ids=True)
    labeled = np.asarray(records[-1]["labeled_ids"], dtype=np.int64)
    rng = np.random.default_rng([seed, 1])
    drawn = rng.choice(np.setdiff1d(data.ids, labeled), audit, replace=False)
    random_ids = np.concatenate([labeled[100:], drawn]) if policy == "random" else drawn  # the seed is not random
    return np.concatenate([labeled, drawn]), random_ids


def measure(data, index, seeds: int, budget: int, audit: int, timers: dict) -> list[dict]:
    rows = []
    positive_of = dict(zip(data.ids.tolist(), data.is_positive.tolist(), strict=True))
    for policy in POLICIES:
        for seed in range(seeds):
            start = time.perf_counter()
            labeled, random_ids = collect(data, index, policy, seed, budget, audit)
            timers["collect_seconds"] += time.perf_counter() - start
            is_positive = np.asarray([positive_of[doc_id] for doc_id in labeled.tolist()])
            row = {"concept": data.concept.name, "policy": policy, "seed": seed, "labels": len(labeled),
                   "positives": int(is_positive.sum()),
                   "random_positives": int(sum(positive_of[doc_id] for doc_id in random_ids.tolist()))}
            start = time.perf_counter()
            try:
                result = diagnose(index, labeled, is_positive, random_ids=random_ids, seed=seed)
                row.update(knn=result.knn_share_above_chance, probe=result.probe_auc_above_chance,
                           measured_on=result.measured_on)
            except DataError:
                row.update(knn=None, probe=None)
            timers["diagnose_seconds"] += time.perf_counter() - start
            rows.append(row)
    return rows


def recovery(data, index, seeds: int, budget: int) -> list[dict]:
    """Positives found within ``budget`` labels by each variant (see the module docstring)."""
    out = []
    oracle = data.is_positive.astype(np.int64)
    positive_of = dict(zip(data.ids.tolist(), data.is_positive.tolist(), strict=True))
    for strategy in ("mlp", "maxent"):
        for name, (pool, k, explore) in RECOVERY_VARIANTS.items():
            found = []
            for seed in range(seeds):
                rng = np.random.default_rng(seed)
                labeled = {doc_id: int(positive_of[doc_id])
                           for doc_id in draw_seed(oracle, data.ids, 1, 5, 95, rng).tolist()}
                engine = RoundEngine(data.ids, make_candidate_pool(pool, index=index, k=k, seed=seed),
                                     features=data.embeddings, strategy=strategy, learner=make_learner("logistic"),
                                     batch_size=100 - int(100 * explore), positive_label=1, classes=[0, 1],
                                     index=index, seed=seed)
                while len(labeled) < budget:
                    chosen = engine.select_batch(labeled).ids.tolist()
                    if explore:
                        unlabeled = np.setdiff1d(data.ids, np.fromiter([*labeled, *chosen], dtype=np.int64))
                        chosen += rng.choice(unlabeled, int(100 * explore), replace=False).tolist()
                    labeled.update((doc_id, int(positive_of[doc_id])) for doc_id in chosen)
                found.append(sum(labeled.values()))
            out.append({"concept": data.concept.name, "strategy": strategy, "variant": name,
                        "positives_found_mean": float(np.mean(found)),
                        "recall_mean": float(np.mean(found) / data.is_positive.sum()), "budget": budget})
            print(json.dumps(out[-1]), file=sys.stderr, flush=True)
    return out


def agreement(rows: list[dict], fitted: dict) -> dict:
    """Per policy: share of rows (concept x seed) whose verdict matches the truth, how many rows were judged, and
    the agreement of the constant rule "always no mismatch" on the same rows (the bar the fitted rule must clear:
    most concepts cluster, so saying "no mismatch" every time already agrees often)."""
    result = {}
    for policy in POLICIES:
        judged = [row for row in rows if row["policy"] == policy and row["knn"] is not None]
        right = [verdict(row, fitted) == row["truth_mismatch"] for row in judged]
        constant = [not row["truth_mismatch"] for row in judged]
        result[policy] = {"agreement": float(np.mean(right)) if right else None,
                          "constant_no_mismatch_agreement": float(np.mean(constant)) if constant else None,
                          "rows": len(judged),
                          "too_few": sum(row["policy"] == policy and row["knn"] is None for row in rows)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=int, default=1000)
    parser.add_argument("--audit", type=int, default=300, help="random texts labeled after each policy's budget")
    parser.add_argument("--recovery", action="store_true")
    parser.add_argument("--recovery-budget", type=int, default=1500)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = add_run_options(parser).parse_args()
    if not available():
        sys.exit("the shared data sets are not present (../shared/data)")
    run = start_run(args)
    timers = {"setup_seconds": 0.0, "collect_seconds": 0.0, "diagnose_seconds": 0.0}
    rows, truths, recovered = [], {}, []
    for concept in [name for fold in FOLDS.values() for name in fold]:
        start = time.perf_counter()
        data = load_concept(concept)
        index = ExactIndex("cosine")
        index.add(data.embeddings, data.ids)
        share = truth_share(data)
        truths[concept] = {"knn_share_above_chance_all_labels": share, "mismatch": share < TRUTH_THRESHOLD,
                           "prevalence": data.prevalence, "pool_size": len(data.ids)}
        timers["setup_seconds"] += time.perf_counter() - start
        for row in measure(data, index, args.seeds, args.budget, args.audit, timers):
            rows.append({**row, "truth_mismatch": truths[concept]["mismatch"]})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        if args.recovery and truths[concept]["mismatch"]:
            recovered += recovery(data, index, args.seeds, args.recovery_budget)
    folds = {}
    for fit_name, fit_concepts in FOLDS.items():
        fitted = fit_thresholds([row for row in rows if row["concept"] in fit_concepts])
        held_out = [row for row in rows if row["concept"] not in fit_concepts]
        folds[fit_name] = {"fit_concepts": fit_concepts, "thresholds": fitted,
                           "held_out_concepts": sorted({row["concept"] for row in held_out}),
                           "held_out": agreement(held_out, fitted), "fit": agreement(
                               [row for row in rows if row["concept"] in fit_concepts], fitted)}
    payload = {"benchmark": "diagnose_validation", "truth_threshold": TRUTH_THRESHOLD, "budget": args.budget,
               "audit": args.audit,
               "rules": list(RULES), "truth": truths, "folds": folds,
               "agreement": {policy: {fold: folds[fold]["held_out"][policy]["agreement"] for fold in folds}
                             for policy in POLICIES},
               "constant_no_mismatch_agreement": {
                   policy: {fold: folds[fold]["held_out"][policy]["constant_no_mismatch_agreement"] for fold in folds}
                   for policy in POLICIES},
               "recovery": recovered, "timers": {name: round(value, 2) for name, value in timers.items()},
               "rows": rows}
    run.finish(payload, seeds=list(range(args.seeds)), out=args.out)


if __name__ == "__main__":
    main()
