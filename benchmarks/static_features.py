"""What static features cost in positives: a logistic model on static vectors against one on MiniLM.

``[features] kind = "static"`` lets a static first-pass project select without running the transformer in a round
(docs/scale.md times ``next`` at 1.1M texts both ways). The price is the features: the
static vectors (model2vec, distilled from all-MiniLM-L6-v2, 256 dimensions) are a weaker representation than the
transformer's. This benchmark measures that price on its own, with everything else held equal: the same concepts
of the shared data sets (their precomputed MiniLM vectors against static vectors of the same texts), the same
library loop (``textsel.simulate.run_simulation``: seed of 5 positives + 95 negatives, the logistic learner, every
unlabeled text scored, most-likely-positive, the CLI's find-all batch of 10), the same seeds; per concept and seed
the positives found after --budget labels, and static / MiniLM of those counts per seed (mean and 95% interval).
Nothing is tuned on these concepts. No timer: the figure is positives, not seconds.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/static_features.py --out benchmarks/results/static_features.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from _results import add_run_options, mean_ci95, start_run
from concepts import available, load_concept

from textsel.learner import make_learner
from textsel.rounds import batch_for_goal
from textsel.simulate import run_simulation

BATCH = batch_for_goal("find-all")  # the CLI's find-all batch
CONCEPTS = ("amazon automotive", "amazon baby", "amazon magazines", "amazon office_products", "hotel_tips@3%",
            "blitzer 1-star@3%", "amazon negative reviews@3%")


def positives_found(features: np.ndarray, ids: np.ndarray, labels: np.ndarray, seed: int, budget: int) -> int:
    records = run_simulation(ids, labels, features=features, strategy="most-likely-positive",
                             learner=make_learner("logistic"), batch_size=BATCH,
                             budget=budget, seed=seed)
    return int(records[-1]["positives_found"])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concepts", default=",".join(CONCEPTS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=1_000, help="Labels (seed included) before counting.")
    parser.add_argument("--out", type=Path, default=None)
    args = add_run_options(parser).parse_args(argv)
    if not available():
        sys.exit("the shared data sets are not present (../shared/data)")
    from textsel.static import StaticEmbedder

    run = start_run(args)
    embedder, seeds, rows = StaticEmbedder(), list(range(args.seeds)), []
    for name in args.concepts.split(","):
        data = load_concept(name)
        labels = data.is_positive.astype(int)
        static = np.asarray(embedder.encode(data.texts), dtype=np.float32)
        found = {kind: [positives_found(features, data.ids, labels, seed, args.budget) for seed in seeds]
                 for kind, features in (("minilm", data.embeddings), ("static", static))}
        rows.append({"concept": name, "texts": len(labels), "positives": int(labels.sum()),
                     "prevalence": float(labels.mean()), **{f"found_{kind}": counts for kind, counts in found.items()},
                     "static_over_minilm": mean_ci95([s / m for s, m in zip(found["static"], found["minilm"],
                                                                             strict=True) if m])})
        print(rows[-1], file=sys.stderr, flush=True)
    ratios = [row["static_over_minilm"]["mean"] for row in rows]
    payload = {"benchmark": "static_features", "budget": args.budget, "strategy": "most-likely-positive",
               "batch": BATCH, "learner": "logistic", "candidates": "every unlabeled text",
               "static_model": embedder.name, "concepts": rows,
               "summary": {"static_over_minilm_median": float(np.median(ratios)),
                           "static_over_minilm_min": float(min(ratios)), "static_over_minilm_max": float(max(ratios))}}
    return run.finish(payload, seeds=seeds, out=args.out)


if __name__ == "__main__":
    main()
