"""Does the fastText proxy learn enough to select? The paper's settings against fastText's small-data settings, on
the task of ``svp_amazon.py --config learns``.

For each seed and each proxy setting, on the same pool, test set and random initial labels as ``svp_amazon.py``
(amazon_blitzer, negatives drawn to 25%, pool 3,600, test 1,000, 500 random initial labels): one SVP round of least
confidence (``textsel.svp.select_active``, 500 texts) and the proxy trained on the initial labels scored on the test
set. Recorded: the proxy's test error beside the majority-class error, the spread (sd) of its round-1 uncertainty
scores over the pool (``ActiveLearningResult.score_spreads``; below 0.01 ``flat_rounds`` says it chose close to at
random), the negative share of the 500 texts it chose (random choice gives about 25%), and the round's seconds
(fastText training + scoring + ranking, the selection timer of ``svp_amazon.py``).

Settings: ``paper`` (5 epochs, learning rate 0.05, the SVP paper's fastText and textsel's default) and ``small_data``
(25 epochs, learning rate 0.5, the settings fastText's supervised tutorial moves to on its small example). They
were fixed before this run and not tuned on it. No transformer is trained here: a few seconds per seed.

    .venv/bin/python benchmarks/svp_proxy_settings.py --seeds 0,1,2,3,4

The last line printed is one JSON object; the same, with provenance, goes to
benchmarks/results/svp_proxy_settings_amazon_blitzer_neg25.json (``--out``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from _results import finish, mean_ci95  # noqa: E402
from svp_amazon import CONFIGS, DATA, load_task  # noqa: E402

from textsel.proxy import FastTextProxy  # noqa: E402
from textsel.svp import FLAT_SCORE_SPREAD, majority_error, select_active  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SETTINGS = {"paper": {"epoch": 5, "lr": 0.05}, "small_data": {"epoch": 25, "lr": 0.5}}
FIGURES = ("proxy_test_error", "score_spread_round1", "negative_share_chosen", "round_seconds")


def measure(setting: dict, task: dict, config: dict, seed: int) -> dict:
    """One setting on one seed's task: the round-1 selection and the proxy's test error on the initial labels."""
    texts, labels = task["train_texts"], task["train_labels"]
    result = select_active(FastTextProxy(seed=seed, threads=1, **setting), texts, labels,
                           initial_size=config["initial"], round_sizes=config["rounds"][:1],
                           strategy="least-confidence", seed=seed)
    initial, chosen = result.order[:result.round_ends[0]], result.order[result.round_ends[0]:]
    proxy = FastTextProxy(seed=seed, threads=1, **setting).fit([texts[i] for i in initial], labels[initial])
    predicted = proxy.classes_[proxy.predict_proba(task["test_texts"]).argmax(axis=1)]
    return {"proxy_test_error": float(np.mean(predicted != task["test_labels"])),
            "score_spread_round1": result.score_spreads()[0], "flat": result.flat_rounds() == [1],
            "negative_share_chosen": float(np.mean(labels[chosen] == -1)), "round_seconds": result.round_seconds[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated seeds")
    parser.add_argument("--data-dir", type=Path, default=DATA, help="folder holding amazon_blitzer/")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" /
                        "svp_proxy_settings_amazon_blitzer_neg25.json")
    args = parser.parse_args()
    started = time.perf_counter()
    seeds = [int(seed) for seed in args.seeds.split(",")]
    config = CONFIGS["learns"]
    per_seed = []
    for seed in seeds:
        task = load_task(config["dataset"], config["pool"], config["test"], seed, args.data_dir,
                         config["negative_rate"])
        per_seed.append({"seed": seed, "majority_error": majority_error(task["train_labels"], task["test_labels"]),
                         **{name: measure(setting, task, config, seed) for name, setting in SETTINGS.items()}})
        print(f"seed {seed}: " + "; ".join(f"{name} error {per_seed[-1][name]['proxy_test_error']:.3f} spread "
                                           f"{per_seed[-1][name]['score_spread_round1']:.4f}" for name in SETTINGS),
              file=sys.stderr)
    summary = {name: {figure: mean_ci95([seed[name][figure] for seed in per_seed]) for figure in FIGURES}
               | {"flat_seeds": sum(seed[name]["flat"] for seed in per_seed)} for name in SETTINGS}
    finish({"benchmark": "svp_proxy_settings", "dataset": config["dataset"], "task": "rating <= 2 vs >= 4",
            "negative_rate": config["negative_rate"], "pool": config["pool"], "test": config["test"],
            "initial": config["initial"], "round": config["rounds"][0], "settings": SETTINGS,
            "flat_score_spread": FLAT_SCORE_SPREAD, "timing": "round_seconds = fastText training on the initial "
            "labels + scoring the rest of the pool + ranking (one thread)",
            "majority_error": mean_ci95([seed["majority_error"] for seed in per_seed]), "summary": summary,
            "per_seed": per_seed}, seeds=seeds, started=started, out=args.out)


if __name__ == "__main__":
    main()
