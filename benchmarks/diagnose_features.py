"""Does the features check (``textsel diagnose --features``, :func:`textsel.diagnose.compare_features`) say
"the embedding misses this concept" where it does, on concepts it was never tuned on?

Concepts: the systematic reviews of ``../shared/data/screening_reviews`` (each review is one concept: its included
records). Truth per review comes from a ``benchmarks/screening.py`` results file that ran ``textsel-dense``,
``textsel-lexical`` and ``textsel-hybrid`` (or a ``benchmarks/screening_tune.py`` one with ``dense-b20`` and
``lexical-b20`` on all 14 reviews): a review is a mismatch for the embedding when the best non-dense kind needed at
most ``--truth-ratio`` (0.9) of the dense labels to 95% recall (means over seeds).

The check sees what a user has when it matters: the labels of a default textsel project (dense features, the
find-all goal's most-likely-positive rounds of 20, from 1 included + 1 excluded record) at the moment it has found
``MIN_POSITIVES`` (10) included records, no audit sample. Its margin (``FEATURE_MARGIN``) was set before this ran,
not fitted here. Reviews with fewer than 10 included records are skipped.

Reported per fold (reviews alternately in fold A and B by name) and in all: the check's agreement with the truth
and the constant baseline's ("always no mismatch").

    python benchmarks/diagnose_features.py --screening benchmarks/results/screening.json [--seeds 3] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from _results import add_run_options, start_run
from screening import NEXT_DEFAULT_BATCH, draw_priors, load_reviews

from textsel.candidates import make_candidate_pool
from textsel.diagnose import FEATURE_MARGIN, MIN_POSITIVES, compare_features
from textsel.features import FEATURES, LexicalFeatures, classifier_matrix
from textsel.rounds import RoundEngine, strategy_for_goal

DENSE_METHODS, OTHER_METHODS = ("textsel-dense", "dense-b20"), ("textsel-lexical", "textsel-hybrid", "lexical-b20")


def truth_from_screening(results: dict, ratio: float) -> dict[str, bool]:
    """Per review: does a non-dense kind need at most ``ratio`` of the dense labels to 95% recall? Reads a
    ``screening.py`` results file (textsel-dense vs textsel-lexical/-hybrid) or a ``screening_tune.py`` one (dense-b20
    vs lexical-b20, over its tuning and held-out reviews)."""
    reviews = dict(results.get("reviews", {}))
    for part in ("tuning", "held_out"):
        reviews.update(results.get(part, {}).get("reviews", {}))
    truth = {}
    for name, review in reviews.items():
        methods = review["methods"]
        dense = next((methods[m]["labels_to_95_mean"] for m in DENSE_METHODS if m in methods), None)
        others = [methods[m]["labels_to_95_mean"] for m in OTHER_METHODS if m in methods]
        others = [value for value in others if value is not None]  # None: stopped at the cap before 95%
        if dense is not None and others:
            truth[name] = min(others) <= ratio * dense
    return truth


MARGINS = tuple(round(m, 3) for m in np.arange(-0.05, 0.105, 0.005))


def said(row: dict, rule: str, margin: float) -> bool | None:
    """Whether ``rule`` ("random" or "labeled" AUC) with ``margin`` says mismatch on a run (None: no such AUC)."""
    auc = row["auc"] if rule == "random" else row["labeled_auc"]
    if auc is None:
        return None
    return max(auc[kind] for kind in auc if kind != "dense") >= auc["dense"] + margin


def agreement(rows: list[dict], rule: str, margin: float) -> float:
    return float(np.mean([said(row, rule, margin) == row["truth_mismatch"] for row in rows]))


def cross_fit(rows: list[dict]) -> dict:
    """Per rule: the margin that agrees best with the truth on one fold (ties: the largest margin, the most
    cautious), and its agreement on the other fold beside the constant baseline's; both directions."""
    out = {}
    for rule in ("random", "labeled"):
        usable = [row for row in rows if said(row, rule, 0.0) is not None]
        out[rule] = {}
        for fit_fold, judge_fold in (("A", "B"), ("B", "A")):
            fit = [row for row in usable if row["fold"] == fit_fold]
            judge = [row for row in usable if row["fold"] == judge_fold]
            if not fit or not judge:
                continue
            margin = max(MARGINS, key=lambda m: (agreement(fit, rule, m), m))
            out[rule][f"fit_{fit_fold}_judge_{judge_fold}"] = {
                "margin": margin, "fit_agreement": agreement(fit, rule, margin),
                "held_out_agreement": agreement(judge, rule, margin),
                "held_out_always_no_mismatch": float(np.mean([not row["truth_mismatch"] for row in judge])),
                "held_out_runs": len(judge)}
    return out


def labels_when_found(review: dict, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions and labels of a default (dense) project's labels once it has found MIN_POSITIVES included ones."""
    labels, n = review["labels"], len(review["labels"])
    strategy, _ = strategy_for_goal("find-all")
    engine = RoundEngine(np.arange(n, dtype=np.int64), make_candidate_pool("all"), features=review["dense"],
                         strategy=strategy, batch_size=NEXT_DEFAULT_BATCH, positive_label=1, seed=seed)
    known = {i: int(labels[i]) for i in draw_priors(labels, seed)}
    while sum(known.values()) < MIN_POSITIVES and len(known) < n:
        for doc in engine.select_batch(known).ids.tolist():
            known[doc] = int(labels[doc])
    positions = np.fromiter(known, dtype=np.int64)
    return positions, labels[positions] == 1


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--screening", type=Path, required=True, help="a benchmarks/screening.py results file")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--truth-ratio", type=float, default=0.9)
    parser.add_argument("--out", type=Path, default=None)
    args = add_run_options(parser).parse_args(argv)
    run = start_run(args)
    truth = truth_from_screening(json.loads(args.screening.read_text()), args.truth_ratio)
    reviews = load_reviews(sorted(truth))
    seeds = list(range(args.seeds))
    rows = []
    for position, (name, review) in enumerate(sorted(reviews.items())):
        if review["labels"].sum() < MIN_POSITIVES + 1:
            continue
        lexical = LexicalFeatures().fit_transform(review["texts"])
        matrices = {kind: classifier_matrix(kind, dense=review["dense"], lexical=lambda matrix=lexical: matrix)
                    for kind in FEATURES}
        for seed in seeds:
            positions, positive = labels_when_found(review, seed)
            comparison = compare_features(matrices, positions, positive, pool_size=len(review["labels"]), seed=seed)
            rows.append({"review": name, "fold": "AB"[position % 2], "seed": seed, "labels": len(positions),
                         "auc": comparison.auc, "labeled_auc": comparison.labeled_auc,
                         "recommended": comparison.recommended, "said_mismatch": comparison.mismatch,
                         "truth_mismatch": truth[name]})
    cross_fitted = cross_fit(rows)
    folds = {}
    for fold in ("A", "B", "all"):
        part = [row for row in rows if fold == "all" or row["fold"] == fold]
        if part:
            folds[fold] = {"runs": len(part),
                           "check_agreement": float(np.mean([r["said_mismatch"] == r["truth_mismatch"] for r in part])),
                           "always_no_mismatch_agreement": float(np.mean([not r["truth_mismatch"] for r in part])),
                           "mismatch_concepts": sorted({r["review"] for r in part if r["truth_mismatch"]})}
    payload = {"benchmark": "diagnose_features", "screening_results": str(args.screening),
               "truth_ratio": args.truth_ratio, "margin": FEATURE_MARGIN, "min_positives": MIN_POSITIVES,
               "truth": truth, "folds": folds, "cross_fitted_rules": cross_fitted, "runs": rows}
    return run.finish(payload, seeds=seeds, out=args.out)


if __name__ == "__main__":
    main()
