"""Choose textsel's find-all configuration on some screening reviews and judge it on the others (issue 21).

The 14 reviews of ``benchmarks/screening.py`` are split once, by a seeded permutation (``--split-seed``), into a
tuning set (``--tune`` reviews) and a held-out set. Every candidate configuration (features, learner, batch) runs
on the tuning set; the one with the lowest median ratio of labels to 95% recall against ASReview LAB's default
model (paired by seed, same priors) wins; medians within 0.02 of the best count as ties, which go to the larger
batch (fewer rounds for the user), then to the default C. Only the winner (beside the current
default and the lexical variant for reference) then runs on the held-out reviews, and those numbers are the ones
to quote: nothing was chosen on them.

Runs stop at 95% recall (labels to 100% are not measured here). ASReview's runs come from the cache of
``screening.run_asreview`` (``benchmarks/out/screening_cache``), so a second call reuses them.

    nice -n 10 python benchmarks/screening_tune.py --seeds 3 --out benchmarks/results/screening_tune.json

The 5-seed run of the configurations that survived the first pass (about 20-30 minutes of CPU; ASReview's seeds 0-2
come from the cache where ``benchmarks/out/screening_cache`` holds them):

    nice -n 10 python benchmarks/screening_tune.py --seeds 5 \
        --candidates dense-b20,lexical-b20,lexical-b5,hybrid-C10-w0.5-b5,switch-b20 \
        --out benchmarks/results/screening_tune_5seeds.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from _results import add_run_options, start_run
from screening import ASREVIEW_PYTHON, draw_priors, load_reviews, paired_ratio, run_asreview, run_metrics, summarise

from textsel.candidates import make_candidate_pool
from textsel.features import LexicalFeatures, classifier_matrix
from textsel.learner import FusionLearner, LogisticLearner, RelevanceFeedbackLearner, SwitchLearner
from textsel.rounds import RoundEngine

STOP_RECALL = 0.95


@dataclass(frozen=True)
class Candidate:
    """One textsel configuration: feature kind, learner ("logistic", "fusion": :class:`FusionLearner`, "switch":
    :class:`SwitchLearner`, or "relevance": :class:`RelevanceFeedbackLearner`), its C, batch size, and the
    embeddings' weight in hybrid rows."""

    name: str
    features: str
    batch: int
    learner: str = "logistic"
    C: float = 1.0
    dense_weight: float = 1.0

    def make_learner(self, dense_dims: int):  # noqa: ANN201 - a textsel learner
        if self.learner == "fusion":
            return FusionLearner(dense_dims=dense_dims, C=self.C)
        if self.learner == "switch":
            return SwitchLearner(dense_dims=dense_dims, C=self.C)
        if self.learner == "relevance":
            return RelevanceFeedbackLearner(dense_dims=dense_dims, C=self.C)
        return LogisticLearner(C=self.C)


CANDIDATES = (
    Candidate("dense-b20", "dense", 20),
    Candidate("dense-b5", "dense", 5),
    Candidate("lexical-b20", "lexical", 20),
    Candidate("lexical-b5", "lexical", 5),
    Candidate("lexical-b1", "lexical", 1),
    Candidate("lexical-C10-b5", "lexical", 5, C=10.0),
    Candidate("hybrid-b20", "hybrid", 20),
    Candidate("hybrid-b5", "hybrid", 5),
    Candidate("hybrid-C10-b20", "hybrid", 20, C=10.0),
    Candidate("hybrid-C10-b5", "hybrid", 5, C=10.0),
    Candidate("hybrid-C10-b1", "hybrid", 1, C=10.0),
    Candidate("hybrid-C10-w0.5-b5", "hybrid", 5, C=10.0, dense_weight=0.5),
    Candidate("hybrid-C30-b5", "hybrid", 5, C=30.0),
    Candidate("fusion-b5", "hybrid", 5, learner="fusion"),
    Candidate("fusion-C10-b5", "hybrid", 5, learner="fusion", C=10.0),
    Candidate("switch-b20", "hybrid", 20, learner="switch"),
    Candidate("relevance-b5", "hybrid", 5, learner="relevance"),
    Candidate("relevance-b10", "hybrid", 10, learner="relevance"),
    Candidate("relevance-b20", "hybrid", 20, learner="relevance"),
)


def split_reviews(names: list[str], n_tune: int, seed: int) -> tuple[list[str], list[str]]:
    """A seeded permutation of the sorted review names: the first ``n_tune`` tune, the rest are held out."""
    order = np.random.default_rng(seed).permutation(len(names))
    names = sorted(names)
    return sorted(names[i] for i in order[:n_tune]), sorted(names[i] for i in order[n_tune:])


def simulate(review: dict, candidate: Candidate, priors: list[int], seed: int, lexical) -> dict:  # noqa: ANN001
    """One run of ``candidate`` from ``priors`` until 95% of the included records are found."""
    labels, n = review["labels"], len(review["labels"])
    matrix = classifier_matrix(candidate.features, dense=review["dense"], lexical=lambda: lexical,
                               dense_weight=candidate.dense_weight)
    engine = RoundEngine(np.arange(n, dtype=np.int64), make_candidate_pool("all"), features=review["dense"],
                         learner_features=matrix, strategy="most-likely-positive",
                         learner=candidate.make_learner(review["dense"].shape[1]), batch_size=candidate.batch,
                         positive_label=1, seed=seed)
    known = {i: int(labels[i]) for i in priors}
    order, need, rounds = list(priors), int(np.ceil(STOP_RECALL * labels.sum() - 1e-9)), 0
    cpu = time.process_time()
    while sum(known.values()) < need and len(order) < n:
        for doc in engine.select_batch(known).ids.tolist():
            known[doc] = int(labels[doc])
            order.append(doc)
        rounds += 1
    return {"order": order, "cpu_seconds": time.process_time() - cpu, "queries": rounds}


def run_set(reviews: dict, candidates: list[Candidate], seeds: list[int], asreview_python) -> dict:  # noqa: ANN001
    results = {}
    for name, review in reviews.items():
        labels = review["labels"]
        priors = {seed: draw_priors(labels, seed) for seed in seeds}
        lexical = LexicalFeatures().fit_transform(review["texts"])
        entry = {"records": len(labels), "included": int(labels.sum()), "methods": {}}
        out = run_asreview(review, priors, python=asreview_python, max_labels=None, stop_recall=STOP_RECALL)
        runs = {"asreview": [out["runs"][str(seed)] for seed in seeds]}
        for candidate in candidates:
            runs[candidate.name] = [simulate(review, candidate, priors[seed], seed, lexical) for seed in seeds]
        for method, method_runs in runs.items():
            method_runs = [{**run_metrics(run["order"], labels), "cpu_seconds": run["cpu_seconds"],
                            "queries": run["queries"], "order": run["order"]} for run in method_runs]
            entry["methods"][method] = {**summarise(method_runs), "runs": method_runs}
        for method in entry["methods"].values():  # the label orders stay out of the results; counts say enough
            for run in method["runs"]:
                run["labels_spent"] = len(run.pop("order"))
        print(name, {m: v["labels_to_95_mean"] for m, v in entry["methods"].items()}, file=sys.stderr, flush=True)
        results[name] = entry
    return results


TOLERANCE = 0.02  # median ratios this close count as equal: the simpler configuration wins


def choose(candidates: list[Candidate], tune_ratios: dict) -> Candidate:
    """The candidate with the lowest median ratio on the tuning set; among those within :data:`TOLERANCE` of it,
    the one with the largest batch (fewer rounds for the user), then the default C, then the lowest median."""
    best = min(tune_ratios[c.name]["median_ratio"] for c in candidates)
    close = [c for c in candidates if tune_ratios[c.name]["median_ratio"] <= best + TOLERANCE]
    return min(close, key=lambda c: (-c.batch, c.C != 1.0, tune_ratios[c.name]["median_ratio"]))


def ratios(results: dict, candidates: list[Candidate]) -> dict:
    return {c.name: paired_ratio(results, c.name) for c in candidates}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--tune", type=int, default=6, help="reviews in the tuning set")
    parser.add_argument("--split-seed", type=int, default=21)
    parser.add_argument("--candidates", default=None, help="comma-separated candidate names (default: all)")
    parser.add_argument("--skip-held-out", action="store_true")
    parser.add_argument("--tuning-results", type=Path, default=None,
                        help="reuse the tuning runs of an earlier results file of this script (same split, seeds "
                             "and candidates) instead of running them again")
    parser.add_argument("--asreview-python", default=ASREVIEW_PYTHON)
    parser.add_argument("--first-pass-log", type=Path, default=None,
                        help="stderr of an earlier, stopped pass over the tuning set (per review: mean labels to "
                             "95%% per candidate) that pruned the candidate list; kept in the results as it is")
    parser.add_argument("--out", default=None)
    args = add_run_options(parser).parse_args(argv)
    run = start_run(args)
    seeds = list(range(args.seeds))
    reviews = load_reviews(None)
    tune_names, held_names = split_reviews(list(reviews), args.tune, args.split_seed)
    wanted = set(args.candidates.split(",")) if args.candidates else None
    candidates = [c for c in CANDIDATES if wanted is None or c.name in wanted]
    if args.tuning_results is not None:
        earlier = json.loads(args.tuning_results.read_text())
        if earlier["split"]["tuning"] != tune_names or earlier["seeds_per_review"] != len(seeds) \
                or earlier["candidates"] != [asdict(c) for c in candidates]:
            parser.error(f"{args.tuning_results} ran another split, seed count or candidate list")
        tuning = earlier["tuning"]["reviews"]
    else:
        tuning = run_set({n: reviews[n] for n in tune_names}, candidates, seeds, args.asreview_python)
    tune_ratios = ratios(tuning, candidates)
    winner = choose(candidates, tune_ratios)
    payload = {"benchmark": "screening_tune", "stop_recall": STOP_RECALL, "seeds_per_review": len(seeds),
               "split": {"seed": args.split_seed, "tuning": tune_names, "held_out": held_names},
               "tuning_runs_from": str(args.tuning_results) if args.tuning_results else None,
               "first_pass": args.first_pass_log.read_text().splitlines() if args.first_pass_log else None,
               "candidates": [asdict(c) for c in candidates], "chosen_on_tuning": winner.name,
               "tuning": {"over_asreview_labels_to_95": tune_ratios, "reviews": tuning}}
    if not args.skip_held_out:
        judged = [winner, *[c for c in candidates if c.name in ("dense-b20", "lexical-b20") and c != winner]]
        held = run_set({n: reviews[n] for n in held_names}, judged, seeds, args.asreview_python)
        payload["held_out"] = {"over_asreview_labels_to_95": ratios(held, judged), "reviews": held}
    return run.finish(payload, seeds=seeds, out=args.out)


if __name__ == "__main__":
    main()
