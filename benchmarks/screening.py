"""Labels to find them all: textsel's default configuration against ASReview LAB's default model on ASReview's own
benchmark data (issue 21).

Data: ``../shared/data/screening_reviews`` (SYNERGY: 13 drug-class reviews of Cohen et al. 2006 and Bannach-Brown
2019, 14,717 records; ``text`` = title + ". " + abstract, ``label`` 1 = included; MiniLM vectors beside them). Each
review is its own pool. Per review and seed both tools start from the same prior knowledge, 1 included + 1 excluded
record drawn with the seed, and label with the oracle until every included record is found (or ``--max-labels``).

Methods:

- ``textsel``: the configuration a new project gets from ``textsel init`` and ``textsel next`` with no options: the
  default goal (``[rounds] goal``) and its features (:func:`textsel.project_config.default_features`), strategy
  (:func:`textsel.rounds.strategy_for_goal`), learner (:func:`textsel.rounds.learner_for_goal`) and batch
  (:func:`textsel.rounds.batch_for_goal`), and the pool ``--pool auto`` picks for the review's size (a full scan at
  these sizes). Simulated with textsel's RoundEngine on the same components the project uses (the per-label SQLite
  bookkeeping of a project is left out).
- ``textsel-dense``, ``textsel-lexical``, ``textsel-hybrid``: the same with each feature kind (and its default
  learner).
- ``asreview``: ASReview LAB's default model (ELAS u4: TF-IDF of words and word pairs, linear SVM, balanced sample
  weights, max query), one record per query, run through ASReview's own ``Simulate`` in its own venv by
  ``benchmarks/_asreview_worker.py`` (title and abstract as ASReview reads them).

Per review and method: labels to 80/95/100% recall (the priors count), WSS@95 (1 - labels_to_95 / N - 0.05),
recall after 10% of the records, CPU seconds per query (per round for textsel, per record for ASReview; the machine
is shared, so these are rough), and the labels an oracle order needs. The last line also gives
``textsel_over_asreview_labels_to_95``: per review the mean over seeds of textsel's labels to 95% divided by
ASReview's on the same seed (same priors), the median of those ratios over reviews, and the share of reviews where
textsel needs fewer labels (means over seeds). A run that stops at ``--max-labels`` before 95% recall counts as
``None`` in the per-method means, and in the paired ratios its labels spent + 1 stand in as a lower bound
(``censored_pairs`` counts the pairs with such a run).

ASReview is never a textsel dependency. Install it into a venv of its own, outside the repository:

    python3 -m venv /work/asreview-venv && /work/asreview-venv/bin/pip install asreview

and point ``--asreview-python`` at that interpreter (default: /work/asreview-venv/bin/python; without it only the
textsel methods run). ASReview's runs are cached per review and seed in ``benchmarks/out/screening_cache``
(git-ignored; keyed by the review's texts and labels, the priors, the cap, ``--stop-recall``, the worker's code and
the interpreter), so later runs, and ``benchmarks/screening_tune.py``, reuse them. ``--stop-recall 0.95`` ends each
run at 95% recall: enough for labels to 95% and WSS@95 at a fraction of the cost (labels to 100% are then None).

Full run (14 reviews, 5 seeds; about an hour of CPU, most of it ASReview's one-by-one queries):

    nice -n 10 python benchmarks/screening.py --seeds 5 --out benchmarks/results/screening.json

Reduced run for development: ``--reviews Antihistamines,UrinaryIncontinence --seeds 2``.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import math
import subprocess
import sys
import tempfile
import time
from dataclasses import fields
from pathlib import Path

import numpy as np
from _results import add_run_options, mean_ci95, start_run

from textsel.candidates import choose_pool, make_candidate_pool
from textsel.features import LexicalFeatures, classifier_matrix
from textsel.metrics import write_json
from textsel.project.model import round_learner
from textsel.project_config import ProjectConfig, default_features
from textsel.rounds import RoundEngine, batch_for_goal, learner_for_goal, strategy_for_goal

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "screening_reviews"
WORKER = Path(__file__).resolve().parent / "_asreview_worker.py"
ASREVIEW_PYTHON = Path("/work/asreview-venv/bin/python")
CACHE = Path(__file__).resolve().parent / "out" / "screening_cache"  # ASReview's runs per review and seed
RECALLS = (0.8, 0.95, 1.0)
TEXTSEL_METHODS = ("textsel", "textsel-dense", "textsel-lexical", "textsel-hybrid")


def project_default(name: str) -> str:
    """The default of a ``textsel.toml`` setting for a new project (``ProjectConfig``'s field default)."""
    return next(field.default for field in fields(ProjectConfig) if field.name == name)


GOAL = project_default("goal")  # what `textsel init` records without --goal
DEFAULT_FEATURES = default_features(GOAL)  # what `textsel init` records without --features
NEXT_DEFAULT_BATCH = batch_for_goal(GOAL)  # `textsel next` without -n


def load_reviews(names: list[str] | None) -> dict[str, dict]:
    """Per review: texts, title/abstract, labels (0/1) and MiniLM vectors, in the data's row order."""
    import pandas as pd

    frame = pd.read_parquet(DATA / "data.parquet")
    vectors = np.load(DATA / "minilm.f16.npy").astype(np.float32)
    reviews = {}
    for name in sorted(frame["review"].unique()):
        if names and name not in names:
            continue
        rows = np.flatnonzero(frame["review"].to_numpy() == name)
        part = frame.iloc[rows]
        reviews[name] = {"texts": part["text"].fillna("").tolist(), "title": part["title"].fillna("").tolist(),
                         "abstract": part["abstract"].fillna("").tolist(),
                         "labels": part["label"].to_numpy().astype(int), "dense": vectors[rows]}
    missing = sorted(set(names or ()) - set(reviews))
    if missing:
        raise SystemExit(f"unknown reviews {missing}; the data has {sorted(frame['review'].unique())}")
    return reviews


def draw_priors(labels: np.ndarray, seed: int) -> list[int]:
    """1 included + 1 excluded record, drawn with ``seed`` (the same for every method)."""
    rng = np.random.default_rng([seed, 21])
    return [int(rng.choice(np.flatnonzero(labels == 1))), int(rng.choice(np.flatnonzero(labels == 0)))]


def run_textsel(review: dict, kind: str, priors: list[int], seed: int, *, max_labels: int,
                stop_recall: float = 1.0) -> dict:
    """One simulated textsel project: rounds of the default goal's batch, strategy and learner for ``kind``."""
    labels, n = review["labels"], len(review["labels"])
    strategy, _ = strategy_for_goal(GOAL)
    choice = choose_pool("auto", n_docs=n, n_labeled=len(priors), n_new_labels=len(priors), n_known_candidates=0,
                         k=project_default("k"), neighbours="table")
    if choice.name != "all":
        raise SystemExit(f"auto picked {choice.name} for {n} texts; this benchmark simulates the full scan only")
    matrix = classifier_matrix(kind, dense=review["dense"],
                               lexical=lambda: LexicalFeatures().fit_transform(review["texts"]))
    engine = RoundEngine(np.arange(n, dtype=np.int64), make_candidate_pool("all"), features=review["dense"],
                         learner_features=matrix, strategy=strategy,
                         learner=round_learner(learner_for_goal(GOAL, kind), seed, features=matrix),
                         batch_size=NEXT_DEFAULT_BATCH, positive_label=1, seed=seed)
    known = {i: int(labels[i]) for i in priors}
    order, total, rounds = list(priors), math.ceil(stop_recall * labels.sum() - 1e-9), 0
    cpu = time.process_time()
    while sum(known.values()) < total and len(order) < min(max_labels, n):
        picked = engine.select_batch(known).ids.tolist()
        rounds += 1
        for doc in picked:
            known[doc] = int(labels[doc])
            order.append(doc)
    cpu = time.process_time() - cpu
    return {"order": order, "cpu_seconds": cpu, "queries": rounds, "strategy": strategy, "pool": choice.name}


def worker_code() -> str:
    """The ASReview worker's code as a syntax tree without its docstring (comments and layout are not in it), so
    a change of wording keeps the cache and a change of code empties it."""
    tree = ast.parse(WORKER.read_text(encoding="utf-8"))
    if tree.body and isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Constant):
        tree.body = tree.body[1:]
    return ast.dump(tree)


def run_asreview(review: dict, priors: dict[int, list[int]], *, python: Path, max_labels: int | None,
                 stop_recall: float = 1.0, cache: Path | None = CACHE) -> dict:
    """ASReview's default model on one review for every seed, in its own venv (see the module docstring).

    Runs are cached per seed in ``cache`` (git-ignored), keyed by what determines them: the review's texts and
    labels, the priors, the cap, the recall to stop at, the worker's source and the ASReview interpreter; only the
    seeds missing from the cache run.
    """
    texts = [f"{title} {abstract}".strip() for title, abstract in zip(review["title"], review["abstract"], strict=True)]
    key = hashlib.sha256(json.dumps({"texts": texts, "labels": review["labels"].tolist(), "max_labels": max_labels,
                                     "stop_recall": stop_recall, "worker": worker_code(),
                                     "python": str(python)}).encode()).hexdigest()[:20]
    path = cache / f"asreview-{key}.json" if cache is not None else None
    stored = json.loads(path.read_text()) if path is not None and path.exists() else {"runs": {}}
    wanted = {str(seed): ids for seed, ids in priors.items()}
    missing = {seed: ids for seed, ids in wanted.items()
               if seed not in stored["runs"] or stored["runs"][seed]["order"][:len(ids)] != ids}
    if missing:
        with tempfile.TemporaryDirectory(prefix="textsel-asreview-") as folder:
            job, out = Path(folder) / "in.json", Path(folder) / "out.json"
            job.write_text(json.dumps({"texts": texts, "labels": review["labels"].tolist(), "priors": missing,
                                       "max_labels": max_labels, "stop_recall": stop_recall}))
            # in the temporary folder: ASReview leaves a download cache (synergy_cache.sqlite) in its working folder
            subprocess.run([str(python), str(WORKER), str(job), str(out)], check=True, cwd=folder)
            fresh = json.loads(out.read_text())
        stored = {"asreview": fresh["asreview"], "model": fresh["model"], "runs": {**stored["runs"], **fresh["runs"]}}
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_json(path, stored)
    return {**stored, "runs": {seed: stored["runs"][seed] for seed in wanted}}


def run_metrics(order: list[int], labels: np.ndarray) -> dict:
    """Labels to each recall (None when not reached), WSS@95 and recall after 10% of the records."""
    found = np.cumsum(labels[np.asarray(order, dtype=np.int64)])
    total, n = int(labels.sum()), len(labels)
    metrics = {}
    for recall in RECALLS:
        need = math.ceil(recall * total - 1e-9)
        reached = np.flatnonzero(found >= need)
        metrics[f"labels_to_{round(recall * 100)}"] = int(reached[0] + 1) if len(reached) else None
    to_95 = metrics["labels_to_95"]
    metrics["wss_95"] = None if to_95 is None else 1.0 - to_95 / n - 0.05
    tenth = math.ceil(0.1 * n)
    metrics["recall_at_10pct"] = float(found[min(tenth, len(found)) - 1] / total) if len(found) >= tenth else None
    return metrics


def oracle_labels(labels: np.ndarray) -> dict:
    """Labels an oracle order needs (the excluded prior, then every included record first)."""
    total = int(labels.sum())
    return {f"labels_to_{round(r * 100)}": math.ceil(r * total - 1e-9) + 1 for r in RECALLS}


def summarise(runs: list[dict]) -> dict:
    summary = {}
    for key in ("labels_to_80", "labels_to_95", "labels_to_100", "wss_95", "recall_at_10pct"):
        summary[key] = mean_ci95([run[key] for run in runs])
        summary[f"{key}_mean"] = summary[key]["mean"]
    summary["cpu_s_per_query"] = mean_ci95([run["cpu_seconds"] / max(run["queries"], 1) for run in runs])["mean"]
    summary["labels_spent_mean"] = sum(len(run["order"]) for run in runs) / len(runs)
    summary["censored_95"] = sum(run["labels_to_95"] is None for run in runs)
    return summary


def at_least_95(run: dict) -> int:
    """Labels to 95% recall, or for a run stopped at the cap before it, a lower bound: the labels it spent + 1."""
    return run["labels_to_95"] if run["labels_to_95"] is not None else run["labels_spent"] + 1


def paired_ratio(results: dict, method: str, baseline: str = "asreview") -> dict:
    """Per review: mean over seeds of method / baseline labels to 95% (same seed); median and share fewer."""
    per_review, fewer, censored = {}, [], 0
    for name, review in results.items():
        if method not in review["methods"] or baseline not in review["methods"]:
            continue
        ours, theirs = review["methods"][method]["runs"], review["methods"][baseline]["runs"]
        pairs = [(at_least_95(a), at_least_95(b)) for a, b in zip(ours, theirs, strict=True)]
        censored += sum(a["labels_to_95"] is None or b["labels_to_95"] is None for a, b in zip(ours, theirs,
                                                                                                strict=True))
        per_review[name] = float(np.mean([a / b for a, b in pairs]))
        fewer.append(np.mean([a for a, _ in pairs]) < np.mean([b for _, b in pairs]))
    values = list(per_review.values())
    return {"median_ratio": float(np.median(values)) if values else None,
            "share_of_reviews_fewer": float(np.mean(fewer)) if fewer else None,
            "reviews": len(values), "censored_pairs": censored, "per_review": per_review}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviews", default=None, help="comma-separated review names (default: all 14)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--methods", default=",".join((*TEXTSEL_METHODS, "asreview")))
    parser.add_argument("--max-labels", type=float, default=1.0,
                        help="stop each run after this share of the review's records (1.0: until all are found)")
    parser.add_argument("--stop-recall", type=float, default=1.0,
                        help="stop each run once this share of the included records is found (1.0: all; 0.95 is "
                             "enough for labels to 95%% and WSS@95, and much cheaper)")
    parser.add_argument("--asreview-python", type=Path, default=ASREVIEW_PYTHON)
    parser.add_argument("--out", type=Path, default=None)
    args = add_run_options(parser).parse_args(argv)
    record = start_run(args)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(methods) - {*TEXTSEL_METHODS, "asreview"})
    if unknown:
        parser.error(f"unknown methods {unknown}")
    if "asreview" in methods and not args.asreview_python.exists():
        print(f"ASReview is not installed at {args.asreview_python}; running textsel alone", file=sys.stderr)
        methods.remove("asreview")
    seeds = list(range(args.seeds))
    reviews = load_reviews(args.reviews.split(",") if args.reviews else None)
    results, asreview_info = {}, None
    for name, review in reviews.items():
        labels, n = review["labels"], len(review["labels"])
        cap = max(2, math.ceil(args.max_labels * n))
        priors = {seed: draw_priors(labels, seed) for seed in seeds}
        entry = {"records": n, "included": int(labels.sum()), "oracle": oracle_labels(labels), "methods": {}}
        for method in methods:
            if method == "asreview":
                out = run_asreview(review, priors, python=args.asreview_python,
                                   max_labels=None if args.max_labels >= 1.0 else cap, stop_recall=args.stop_recall)
                asreview_info = {"version": out["asreview"], "model": out["model"], "batch": 1}
                runs = [out["runs"][str(seed)] for seed in seeds]
            else:
                kind = DEFAULT_FEATURES if method == "textsel" else method.split("-", 1)[1]
                runs = [run_textsel(review, kind, priors[seed], seed, max_labels=cap, stop_recall=args.stop_recall)
                        for seed in seeds]
            runs = [{**run_metrics(run["order"], labels), "cpu_seconds": run["cpu_seconds"],
                     "queries": run["queries"], "order": run["order"]} for run in runs]
            entry["methods"][method] = {**summarise(runs), "runs": runs}
            print(f"{name}: {method} labels to 95% {entry['methods'][method]['labels_to_95_mean']}", file=sys.stderr)
        results[name] = entry
    for entry in results.values():  # keep the label orders out of the printed line; the counts say enough
        for method in entry["methods"].values():
            for one in method["runs"]:
                one["labels_spent"] = len(one.pop("order"))
    payload = {"benchmark": "screening", "data": str(DATA.name), "seeds_per_review": len(seeds),
               "stop_recall": args.stop_recall,
               "priors": "1 included + 1 excluded, drawn per seed", "max_labels_share": args.max_labels,
               "textsel_default": {"features": DEFAULT_FEATURES, "goal": GOAL, "strategy": strategy_for_goal(GOAL)[0],
                                   "learner": learner_for_goal(GOAL, DEFAULT_FEATURES),
                                   "batch": NEXT_DEFAULT_BATCH, "pool": "auto"},
               "asreview": asreview_info, "reviews": results}
    if "asreview" in methods:
        payload["textsel_over_asreview_labels_to_95"] = paired_ratio(results, "textsel")
        payload["variants_over_asreview_labels_to_95"] = {
            method: paired_ratio(results, method) for method in methods if method.startswith("textsel-")}
    return record.finish(payload, seeds=seeds, out=args.out)


if __name__ == "__main__":
    main()
