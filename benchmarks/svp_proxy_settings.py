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
were fixed before this run and not tuned on it. Without ``--train-target`` no transformer is trained: a few
seconds per seed. ``--train-target small_data`` also fine-tunes the MiniLM target of ``svp_amazon.py --config
learns`` (same settings, seed and test set) on the 1,000 texts that setting's proxy labeled (500 initial + 500
chosen) and records its test error (``target_error``; training timed apart as ``target_train_seconds``), to set
beside that run's target-selected and random errors on the same seeds.

    .venv/bin/python benchmarks/svp_proxy_settings.py --seeds 0,1,2,3,4
    .venv/bin/python benchmarks/svp_proxy_settings.py --seeds 0,1,2,3,4 --train-target small_data

The last line printed is one JSON object; the same, with provenance, goes to
benchmarks/results/svp_proxy_settings_amazon_blitzer_neg25.json (``--out``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from _results import add_run_options, mean_ci95, start_run  # noqa: E402
from svp_amazon import CONFIGS, DATA, load_task, target_model  # noqa: E402

from textsel.proxy import FastTextProxy  # noqa: E402
from textsel.svp import FLAT_SCORE_SPREAD, majority_error, select_active, target_error  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SETTINGS = {"paper": {"epoch": 5, "lr": 0.05}, "small_data": {"epoch": 25, "lr": 0.5}}
FIGURES = ("proxy_test_error", "score_spread_round1", "negative_share_chosen", "round_seconds", "target_error")


def measure(setting: dict, task: dict, config: dict, seed: int, train_target: bool = False) -> dict:
    """One setting on one seed's task: the round-1 selection and the proxy's test error on the initial labels; with
    ``train_target`` the target's test error after training on the proxy's labeled texts."""
    texts, labels = task["train_texts"], task["train_labels"]
    result = select_active(FastTextProxy(seed=seed, threads=1, **setting), texts, labels,
                           initial_size=config["initial"], round_sizes=config["rounds"][:1],
                           strategy="least-confidence", seed=seed)
    initial, chosen = result.order[:result.round_ends[0]], result.order[result.round_ends[0]:]
    proxy = FastTextProxy(seed=seed, threads=1, **setting).fit([texts[i] for i in initial], labels[initial])
    predicted = proxy.classes_[proxy.predict_proba(task["test_texts"]).argmax(axis=1)]
    figures = {"proxy_test_error": float(np.mean(predicted != task["test_labels"])),
               "score_spread_round1": result.score_spreads()[0], "flat": result.flat_rounds() == [1],
               "negative_share_chosen": float(np.mean(labels[chosen] == -1)),
               "round_seconds": result.round_seconds[0]}
    if train_target:
        labeled = result.labeled()
        trained = target_error(target_model(config, seed, "cpu", None), [texts[i] for i in labeled], labels[labeled],
                               task["test_texts"], task["test_labels"])
        figures |= {"target_error": trained["error"], "target_train_seconds": trained["train_seconds"]}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated seeds")
    parser.add_argument("--data-dir", type=Path, default=DATA, help="folder holding amazon_blitzer/")
    parser.add_argument("--train-target", choices=sorted(SETTINGS), action="append", default=[],
                        help="also fine-tune the target on this setting's selection (repeatable; minutes per seed)")
    parser.add_argument("--out", type=Path, help="results file (default: benchmarks/results/svp_proxy_settings_"
                        "amazon_blitzer_neg25[_target].json)")
    args = add_run_options(parser).parse_args()
    run = start_run(args)
    seeds = [int(seed) for seed in args.seeds.split(",")]
    out = args.out or REPO / "benchmarks" / "results" / ("svp_proxy_settings_amazon_blitzer_neg25"
                                                         f"{'_target' if args.train_target else ''}.json")
    config = CONFIGS["learns"]
    per_seed = []
    for seed in seeds:
        task = load_task(config["dataset"], config["pool"], config["test"], seed, args.data_dir,
                         config["negative_rate"])
        per_seed.append({"seed": seed, "majority_error": majority_error(task["train_labels"], task["test_labels"]),
                         **{name: measure(setting, task, config, seed, name in args.train_target)
                            for name, setting in SETTINGS.items()}})
        print(f"seed {seed}: " + "; ".join(f"{name} error {per_seed[-1][name]['proxy_test_error']:.3f} spread "
                                           f"{per_seed[-1][name]['score_spread_round1']:.4f}" for name in SETTINGS),
              file=sys.stderr)
    summary = {name: {figure: mean_ci95([seed[name].get(figure) for seed in per_seed]) for figure in FIGURES}
               | {"flat_seeds": sum(seed[name]["flat"] for seed in per_seed)} for name in SETTINGS}
    run.finish({"benchmark": "svp_proxy_settings", "dataset": config["dataset"], "task": "rating <= 2 vs >= 4",
            "negative_rate": config["negative_rate"], "pool": config["pool"], "test": config["test"],
            "initial": config["initial"], "round": config["rounds"][0], "settings": SETTINGS,
            "flat_score_spread": FLAT_SCORE_SPREAD, "timing": "round_seconds = fastText training on the initial "
            "labels + scoring the rest of the pool + ranking (one thread); target_train_seconds apart",
            "majority_error": mean_ci95([seed["majority_error"] for seed in per_seed]), "summary": summary,
            "target_trained_for": args.train_target,
            "target": {key: config[key] for key in ("max_length", "transformer_epochs", "learning_rate", "batch_size")},
            "per_seed": per_seed}, seeds=seeds, out=out)


if __name__ == "__main__":
    main()
