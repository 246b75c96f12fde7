"""Selection via Proxy on real Amazon reviews: fastText proxy vs the MiniLM target as selector, and VDCNN9.

Measures, in one process: the selection runtime of SVP active learning with the fastText proxy and with the target
(MiniLM transformer, CPU, max length 128) as its own selector; the target's test error after training on the
proxy-selected, target-selected and random subsets of equal size; core-set selection keeping 50% (entropy of the
proxy trained once on all labels) against training on everything; and proxy-target agreement on the first round
(same labeled set): Spearman correlation of least-confidence scores and top-b overlap.

Tasks: ``amazon_multidomain`` label_t2 (-1 = rating <= 2 vs +1, ~11.5% negative, source train/test splits) or
``amazon_blitzer`` (rating >= 4 vs <= 2, random 80/20 split). Run from the repository root:

    .venv/bin/python benchmarks/svp_amazon.py --quick     # ~15 min on 2 idle cores (MiniLM only in active learning)
    .venv/bin/python benchmarks/svp_amazon.py             # full configuration, about an hour on 2 idle cores

The last line printed is one JSON object with the headline figures; the results so far are rewritten after every
stage to recipes/results/svp_amazon.json (with the command and seeds) and recipes/results/svp_amazon.png, so a run
cut short still leaves its measured stages.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from textsel.metrics import write_json  # noqa: E402
from textsel.models.transformer import TransformerClassifier  # noqa: E402
from textsel.models.vdcnn import VDCNNClassifier  # noqa: E402
from textsel.proxy import FastTextProxy  # noqa: E402
from textsel.svp import rank_agreement, select_active, select_coreset, target_error  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
CONFIGS = {
    "quick": {"pool": 600, "test": 300, "initial": 100, "rounds": [100, 100], "transformer_epochs": 2,
              "vdcnn_epochs": 5, "coreset_minilm": False},
    "full": {"pool": 2000, "test": 1000, "initial": 200, "rounds": [200, 200, 200], "transformer_epochs": 3,
             "vdcnn_epochs": 15, "coreset_minilm": True},
}
logger = logging.getLogger("svp_amazon")


def load_task(dataset: str, pool_size: int, test_size: int, seed: int, data_dir: Path = DATA) -> dict:
    """Random train pool and test set of one binary Amazon task, read straight from parquet."""
    table = pq.read_table(data_dir / dataset / "data.parquet").to_pandas()
    if dataset == "amazon_multidomain":
        table = table[table["label_t2"].notna()]
        labels, train_rows, test_rows = table["label_t2"].astype(int).to_numpy(), table["split"] == "train", \
            table["split"] == "test"
    else:
        table = table[table["rating"] != 3]
        labels = np.where(table["rating"] >= 4, 1, -1)
        in_test = np.random.default_rng(seed).random(len(table)) < 0.2
        train_rows, test_rows = ~in_test, in_test
    rng = np.random.default_rng(seed)
    train = rng.permutation(np.flatnonzero(np.asarray(train_rows)))[:pool_size]
    test = rng.permutation(np.flatnonzero(np.asarray(test_rows)))[:test_size]
    texts = table["text"].tolist()
    return {"train_texts": [texts[i] for i in train], "train_labels": labels[train],
            "test_texts": [texts[i] for i in test], "test_labels": labels[test]}


def errors_on(model, task: dict, subsets: dict[str, np.ndarray]) -> dict[str, dict]:
    """Train ``model`` from scratch on each subset of the pool; test error and training time of each."""
    results = {}
    for name, positions in subsets.items():
        logger.info("training %s on %s (%d texts)", type(model).__name__, name, len(positions))
        results[name] = target_error(model, [task["train_texts"][i] for i in positions],
                                     task["train_labels"][positions], task["test_texts"], task["test_labels"])
        logger.info("  -> error %.4f", results[name]["error"])
    return results


def run(config: dict, dataset: str, seed: int, save, *, data_dir: Path = DATA, device: str = "cpu",  # noqa: ANN001
        model: str | None = None) -> dict:
    """All stages, cheapest and most important first; ``save`` is called after each so a cut-short run keeps data."""
    task = load_task(dataset, config["pool"], config["test"], seed, data_dir)
    texts, labels = task["train_texts"], task["train_labels"]
    minilm = TransformerClassifier(model, max_length=128, epochs=config["transformer_epochs"], seed=seed, device=device)
    vdcnn = VDCNNClassifier(depth=9, epochs=config["vdcnn_epochs"], seed=seed, device=device)
    loop = {"initial_size": config["initial"], "round_sizes": config["rounds"], "strategy": "least-confidence",
            "seed": seed}
    results = {"dataset": dataset, "task": "label_t2" if dataset == "amazon_multidomain" else "rating>=4 vs <=2",
               "config": config, "device": device, "seed": seed, "pool_size": len(texts),
               "test_size": len(task["test_texts"]),
               "pool_negative_rate": float(np.mean(labels == -1)),
               "test_negative_rate": float(np.mean(task["test_labels"] == -1)), "stages_done": []}

    logger.info("SVP active learning with the fastText proxy")
    by_proxy = select_active(FastTextProxy(seed=seed, **config["proxy"]), texts, labels, **loop)
    logger.info("  %.2f s; same loop with the MiniLM target as selector", by_proxy.selection_seconds)
    by_target = select_active(minilm, texts, labels, **loop)
    logger.info("  %.2f s", by_target.selection_seconds)
    size = by_proxy.round_ends[-1]
    subsets = {"proxy_selected": by_proxy.labeled(), "target_selected": by_target.labeled(),
               "random": np.random.default_rng(seed + 1).permutation(len(texts))[:size]}
    results["active"] = {
        "strategy": "least-confidence", "final_size": size, "round_ends": by_proxy.round_ends,
        "proxy_round_seconds": by_proxy.round_seconds, "target_round_seconds": by_target.round_seconds,
        "proxy_selection_seconds": by_proxy.selection_seconds, "target_selection_seconds": by_target.selection_seconds,
        "agreement_round1": rank_agreement(by_proxy.round_scores[0], by_target.round_scores[0],
                                           k=config["rounds"][0]),
        "negative_rate_selected": {name: float(np.mean(labels[positions] == -1))
                                   for name, positions in subsets.items()},
    }
    save(results, "selection")

    if config["vdcnn"]:
        results["active"]["vdcnn9"] = errors_on(vdcnn, task, {name: subsets[name] for name in ("proxy_selected",
                                                                                               "random")})
        save(results, "active_vdcnn9")

    logger.info("SVP core-set selection: fastText entropy, keep 50%%")
    coreset = select_coreset(FastTextProxy(seed=seed, **config["proxy"]), texts, labels, keep=0.5,
                             strategy="entropy", seed=seed)
    halves = {"coreset": coreset.kept, "all": np.arange(len(texts))}
    results["coreset"] = {"strategy": "entropy", "kept": len(coreset.kept),
                          "selection_seconds": coreset.selection_seconds,
                          "negative_rate_kept": float(np.mean(labels[coreset.kept] == -1))}
    if config["vdcnn"]:
        results["coreset"]["vdcnn9"] = errors_on(vdcnn, task, halves)
    save(results, "coreset_vdcnn9" if config["vdcnn"] else "coreset_selection")

    results["active"]["minilm"] = {}
    for name, positions in subsets.items():  # the slowest stage: keep each result as soon as it exists
        results["active"]["minilm"] |= errors_on(minilm, task, {name: positions})
        save(results, f"active_minilm_{name}")
    if config["coreset_minilm"]:
        results["coreset"]["minilm"] = errors_on(minilm, task, halves)
        save(results, "coreset_minilm")
    return results


def _error(results: dict, *path: str) -> float | None:
    for key in path:
        results = results.get(key, {}) if isinstance(results, dict) else {}
    return results.get("error") if isinstance(results, dict) else None


def summary(results: dict) -> dict:
    active = results["active"]
    coreset_model = "minilm" if "minilm" in results.get("coreset", {}) else "vdcnn9"
    return {
        "benchmark": "svp_amazon", "dataset": results["dataset"], "stages_done": results["stages_done"],
        "selection_speedup": active["target_selection_seconds"] / active["proxy_selection_seconds"],
        "proxy_selection_seconds": active["proxy_selection_seconds"],
        "target_selection_seconds": active["target_selection_seconds"],
        "error_proxy_selected": _error(active, "minilm", "proxy_selected"),
        "error_target_selected": _error(active, "minilm", "target_selected"),
        "error_random": _error(active, "minilm", "random"),
        "vdcnn9_error_proxy_selected": _error(active, "vdcnn9", "proxy_selected"),
        "vdcnn9_error_random": _error(active, "vdcnn9", "random"),
        "coreset_target": coreset_model,
        "coreset_error": _error(results, "coreset", coreset_model, "coreset"),
        "error_all": _error(results, "coreset", coreset_model, "all"),
        "spearman": active["agreement_round1"]["spearman"],
        "top_b_overlap": active["agreement_round1"]["top_k_overlap"],
        "final_size": active["final_size"], "pool_size": results["pool_size"],
        "test_negative_rate": results["test_negative_rate"], "seed": results["seed"],
    }


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    active = results["active"]
    figure, (timing, errors) = plt.subplots(1, 2, figsize=(11, 4))
    timing.bar(["fastText proxy", "MiniLM target"], [active["proxy_selection_seconds"],
                                                     active["target_selection_seconds"]])
    timing.set(yscale="log", ylabel="selection runtime (s, summed over rounds)", title="SVP selection runtime")
    bars = {}
    for stage in ("active", "coreset"):
        for model in ("minilm", "vdcnn9"):
            for name, values in results.get(stage, {}).get(model, {}).items():
                bars[f"{model} {stage} {name}"] = values["error"] * 100
    errors.barh(list(bars), list(bars.values()))
    errors.axvline(results["test_negative_rate"] * 100, color="grey", linestyle="--", label="majority-class error")
    errors.legend()
    errors.set(xlabel="test error (%)", title=f"{results['dataset']}: active n={active['final_size']}, core-set 50%")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced sizes (~15-20 min on 2 cores)")
    parser.add_argument("--dataset", default="amazon_multidomain", choices=["amazon_multidomain", "amazon_blitzer"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--proxy-epoch", type=int, default=5, help="fastText epochs (paper: 5)")
    parser.add_argument("--proxy-lr", type=float, default=0.05, help="fastText learning rate (paper: 0.05)")
    parser.add_argument("--no-vdcnn", action="store_true", help="skip the VDCNN9 target")
    parser.add_argument("--data-dir", type=Path, default=DATA, help="folder holding <dataset>/data.parquet")
    parser.add_argument("--device", default="cpu", help="device of the targets (cpu, cuda); the proxy uses CPUs")
    parser.add_argument("--model", default=None, help="transformer name or path (default: the packaged MiniLM)")
    parser.add_argument("--output", default=str(REPO / "recipes" / "results" / "svp_amazon"),
                        help="output path without suffix (.json and .png are written)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    started = time.perf_counter()
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    command = " ".join([".venv/bin/python", "benchmarks/svp_amazon.py", *sys.argv[1:]])

    def save(results: dict, stage: str) -> None:
        results["stages_done"].append(stage)
        results["command"], results["wall_seconds"] = command, time.perf_counter() - started
        results["summary"] = summary(results)
        write_json(output.with_suffix(".json"), results)
        plot(results, output.with_suffix(".png"))
        logger.info("saved after stage %s: %s", stage, json.dumps(results["summary"]))

    config = CONFIGS["quick" if args.quick else "full"] | {"proxy": {"epoch": args.proxy_epoch, "lr": args.proxy_lr},
                                                           "vdcnn": not args.no_vdcnn}
    results = run(config, args.dataset, args.seed, save, data_dir=args.data_dir, device=args.device,
                  model=args.model)
    print(json.dumps(results["summary"]))


if __name__ == "__main__":
    main()
