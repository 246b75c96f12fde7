"""Selection via Proxy on real Amazon reviews: fastText proxy vs the MiniLM target as selector, on a task where the
target learns.

Measures, in one process and per seed: the selection runtime of SVP active learning (least confidence) with the
fastText proxy and with the target (the MiniLM transformer, fine-tuned, CPU) as its own selector; the target's
test error after training on the proxy-selected, target-selected and random subsets of equal size and on the whole
pool; the majority-class error and a linear probe on the frozen shared MiniLM embeddings (the bars a fine-tuned
target must clear for its errors to say anything about the selection); and proxy-target agreement on the first
round (same labeled set): Spearman correlation of least-confidence scores and top-b overlap.

Timers: a selection timer holds selector training + inference on the unlabeled pool + ranking, summed over rounds
(``textsel.svp.select_active``). Each selector is first warmed up once (fit + predict on 64 texts): that one-time
cost (CUDA context, kernels, lazy imports) is reported apart as ``*_warmup_seconds``, and the headline
``selection_speedup`` (target / proxy seconds) is steady state; ``selection_speedup_with_warmup`` adds the warm-ups.
Target training for the error figures is timed apart (``train_seconds``).

Task: ``amazon_multidomain`` label_t2 (-1 = rating <= 2 vs +1; ~12.6% negative in the train split, source
train/test splits) or ``amazon_blitzer`` (rating >= 4 vs <= 2, random 80/20 split). Configurations (CONFIGS):
``learns`` (default; pool 10,000, test 1,000, 500 random + 500 selected labels, 32 tokens, 2 epochs at learning
rate 1e-4 in batches of 16, the target also trained on the whole pool), ``quick`` (600-text pool, a smoke run) and
``full`` (2,000-text pool, VDCNN9 and core-set stages). The whole-pool training, the costliest stage, runs after
every seed's selection comparison, so a run cut short keeps those for all its seeds. ``learns`` is sized for the
shared 2-core development box, where MiniLM is slow: measured there with 2 torch threads at load 7-12, fine-tuning
ran at 3-7 texts/s and inference at 9-34 texts/s (64 tokens, batch 32; 1 thread 5-7 and 28-34), and inside a full
SVP loop at load 12 at about 1 text/s fine-tuning and 5 texts/s inference. Hence 32 tokens, 1,000 labels and a
1,000-text test set. In the committed run (32 tokens, batch 16): 3-5 texts/s fine-tuning and about 33 texts/s
inference at load 7-12 (35 min a seed), about 40 and 170 texts/s once the machine was quiet (5 min a seed, plus
9-20 min for each whole-pool training). With a GPU, raise ``--pool``, ``--rounds`` and ``--epochs``.
Run from the repository root:

    .venv/bin/python benchmarks/svp_amazon.py --seeds 0,1,2            # "learns", 3 seeds
    .venv/bin/python benchmarks/svp_amazon.py --config quick

The last line printed is one JSON object with the headline figures (means over seeds; ``spread`` holds mean, sd
and 95% interval; ``per_seed`` each seed's values). The results so far, with provenance, are rewritten after every
stage to recipes/results/svp_amazon.json and .png (``--output``), so a run cut short keeps its measured stages.
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

from _results import mean_ci95  # noqa: E402

from textsel.metrics import write_json  # noqa: E402
from textsel.models.transformer import TransformerClassifier  # noqa: E402
from textsel.models.vdcnn import VDCNNClassifier  # noqa: E402
from textsel.provenance import git_state, results_with_provenance  # noqa: E402
from textsel.proxy import FastTextProxy  # noqa: E402
from textsel.svp import majority_error, rank_agreement, select_active, select_coreset, target_error  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
CONFIGS = {  # pool/test sizes, active-learning rounds, target settings, which extra stages run
    "quick": {"pool": 600, "test": 300, "initial": 100, "rounds": [100, 100], "max_length": 64,
              "transformer_epochs": 2, "learning_rate": 5e-5, "batch_size": 32, "vdcnn": False, "vdcnn_epochs": 5,
              "minilm_all": False, "coreset": False, "coreset_minilm": False},
    "learns": {"pool": 10000, "test": 1000, "initial": 500, "rounds": [500], "max_length": 32,
               "transformer_epochs": 2, "learning_rate": 1e-4, "batch_size": 16, "vdcnn": False, "vdcnn_epochs": 5,
               "minilm_all": True, "coreset": False, "coreset_minilm": False},
    "full": {"pool": 2000, "test": 1000, "initial": 200, "rounds": [200, 200, 200], "max_length": 128,
             "transformer_epochs": 3, "learning_rate": 5e-5, "batch_size": 32, "vdcnn": True, "vdcnn_epochs": 15,
             "minilm_all": False, "coreset": True, "coreset_minilm": True},
}
TIMING = ("selection seconds = selector training + inference on the unlabeled pool + ranking, summed over rounds "
          "(textsel.svp.select_active); each selector is first warmed up once (fit + predict on 64 texts, "
          "*_warmup_seconds) so the rounds are steady state; selection_speedup = target / proxy selection seconds "
          "(steady state), selection_speedup_with_warmup adds the warm-ups to both sides")
logger = logging.getLogger("svp_amazon")


def load_task(dataset: str, pool_size: int, test_size: int, seed: int, data_dir: Path = DATA) -> dict:
    """Random train pool and test set of one binary Amazon task, read straight from parquet, with the shared
    frozen MiniLM embeddings of the same rows (for the linear-probe baseline) when the data set has them."""
    table = pq.read_table(data_dir / dataset / "data.parquet").to_pandas()  # index = file row = embedding row
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
    task = {"train_texts": [texts[i] for i in train], "train_labels": labels[train],
            "test_texts": [texts[i] for i in test], "test_labels": labels[test]}
    embeddings = data_dir / dataset / "minilm.f16.npy"
    if embeddings.exists():
        vectors, rows = np.load(embeddings, mmap_mode="r"), table.index.to_numpy()
        task["train_vectors"] = np.asarray(vectors[rows[train]], dtype=np.float32)
        task["test_vectors"] = np.asarray(vectors[rows[test]], dtype=np.float32)
    return task


def errors_on(model, task: dict, subsets: dict[str, np.ndarray]) -> dict[str, dict]:  # noqa: ANN001
    """Train ``model`` from scratch on each subset of the pool; test error and training time of each."""
    results = {}
    for name, positions in subsets.items():
        logger.info("training %s on %s (%d texts)", type(model).__name__, name, len(positions))
        results[name] = target_error(model, [task["train_texts"][i] for i in positions],
                                     task["train_labels"][positions], task["test_texts"], task["test_labels"])
        logger.info("  -> error %.4f", results[name]["error"])
    return results


def warm_up(selector, texts: list[str], labels: np.ndarray, seed: int) -> float:  # noqa: ANN001
    """Seconds of one fit + predict on 32 texts of each class: process-level one-time costs (CUDA context,
    kernels, lazy imports, file caches), reported apart so the selection timers hold steady-state rounds only."""
    rng = np.random.default_rng(seed)
    few = np.concatenate([rng.permutation(np.flatnonzero(labels == value))[:32] for value in np.unique(labels)])
    start = time.perf_counter()
    selector.fit([texts[i] for i in few], labels[few])
    selector.predict_proba([texts[i] for i in few])
    return time.perf_counter() - start


def linear_probe_errors(task: dict, subsets: dict[str, np.ndarray]) -> dict[str, float] | None:
    """Test error of logistic regression on the frozen shared MiniLM embeddings (the bar a fine-tuned target
    should clear), trained on each subset; None when the data set has no shared embeddings."""
    if task.get("train_vectors") is None:
        return None
    from sklearn.linear_model import LogisticRegression

    errors = {}
    for name, positions in subsets.items():
        probe = LogisticRegression(max_iter=2000).fit(task["train_vectors"][positions], task["train_labels"][positions])
        errors[name] = float(np.mean(probe.predict(task["test_vectors"]) != task["test_labels"]))
    return errors


def target_model(config: dict, seed: int, device: str, model: str | None) -> TransformerClassifier:
    """The MiniLM target with the configuration's settings (tokens kept, epochs, learning rate, batch size)."""
    return TransformerClassifier(model, max_length=config["max_length"], epochs=config["transformer_epochs"],
                                 learning_rate=config["learning_rate"], batch_size=config["batch_size"], seed=seed,
                                 device=device)


def run(config: dict, dataset: str, seed: int, results: dict, save, *, data_dir: Path = DATA,  # noqa: ANN001
        device: str = "cpu", model: str | None = None) -> dict:
    """All stages of one seed, cheapest and most important first, filling ``results``; ``save(stage)`` is called
    after each so a cut-short run keeps what it measured."""
    task = load_task(dataset, config["pool"], config["test"], seed, data_dir)
    texts, labels = task["train_texts"], task["train_labels"]
    minilm = target_model(config, seed, device, model)
    vdcnn = VDCNNClassifier(depth=9, epochs=config["vdcnn_epochs"], seed=seed, device=device)
    proxy = FastTextProxy(seed=seed, **config["proxy"])
    loop = {"initial_size": config["initial"], "round_sizes": config["rounds"], "strategy": "least-confidence",
            "seed": seed}
    results |= {"seed": seed, "pool_size": len(texts), "test_size": len(task["test_texts"]),
                "pool_negative_rate": float(np.mean(labels == -1)),
                "test_negative_rate": float(np.mean(task["test_labels"] == -1)),
                "majority_error": majority_error(labels, task["test_labels"]), "stages_done": []}

    logger.info("warm-up of both selectors (timed apart)")
    warmup = {"proxy": warm_up(proxy, texts, labels, seed), "target": warm_up(minilm, texts, labels, seed)}
    logger.info("SVP active learning with the fastText proxy")
    by_proxy = select_active(proxy, texts, labels, **loop)
    logger.info("  %.2f s; same loop with the MiniLM target as selector", by_proxy.selection_seconds)
    by_target = select_active(minilm, texts, labels, **loop)
    logger.info("  %.2f s", by_target.selection_seconds)
    size = by_proxy.round_ends[-1]
    subsets = {"proxy_selected": by_proxy.labeled(), "target_selected": by_target.labeled(),
               "random": np.random.default_rng(seed + 1).permutation(len(texts))[:size]}
    results["active"] = {
        "strategy": "least-confidence", "final_size": size, "round_ends": by_proxy.round_ends,
        "proxy_warmup_seconds": warmup["proxy"], "target_warmup_seconds": warmup["target"],
        "proxy_round_seconds": by_proxy.round_seconds, "target_round_seconds": by_target.round_seconds,
        "proxy_selection_seconds": by_proxy.selection_seconds, "target_selection_seconds": by_target.selection_seconds,
        "agreement_round1": rank_agreement(by_proxy.round_scores[0], by_target.round_scores[0],
                                           k=config["rounds"][0]),
        "negative_rate_selected": {name: float(np.mean(labels[positions] == -1))
                                   for name, positions in subsets.items()},
    }
    probe = linear_probe_errors(task, subsets | {"all": np.arange(len(texts))})
    if probe is not None:
        results["linear_probe_frozen_minilm"] = probe
    save("selection")

    if config["vdcnn"]:
        results["active"]["vdcnn9"] = errors_on(vdcnn, task, {name: subsets[name] for name in ("proxy_selected",
                                                                                               "random")})
        save("active_vdcnn9")

    results["active"]["minilm"] = {}
    for name, positions in subsets.items():  # the slowest stage: keep each result as soon as it exists
        results["active"]["minilm"] |= errors_on(minilm, task, {name: positions})
        save(f"active_minilm_{name}")

    if config["coreset"]:
        logger.info("SVP core-set selection: fastText entropy, keep 50%%")
        coreset = select_coreset(FastTextProxy(seed=seed, **config["proxy"]), texts, labels, keep=0.5,
                                 strategy="entropy", seed=seed)
        results["coreset"] = {"strategy": "entropy", "kept": len(coreset.kept),
                              "selection_seconds": coreset.selection_seconds,
                              "negative_rate_kept": float(np.mean(labels[coreset.kept] == -1))}
        target = minilm if config["coreset_minilm"] else vdcnn
        results["coreset"]["minilm" if config["coreset_minilm"] else "vdcnn9"] = errors_on(
            target, task, {"coreset": coreset.kept, "all": np.arange(len(texts))})
        save("coreset")
    return results


def run_all_pool(config: dict, dataset: str, results: dict, save, *, data_dir: Path = DATA,  # noqa: ANN001
                 device: str = "cpu", model: str | None = None) -> None:
    """The target trained on the whole pool of the seed in ``results`` (the costliest stage, so it runs after every
    seed's selection comparison: a run cut short keeps those for all seeds)."""
    seed = results["seed"]
    task = load_task(dataset, config["pool"], config["test"], seed, data_dir)
    minilm = target_model(config, seed, device, model)
    results["minilm_all"] = errors_on(minilm, task, {"all": np.arange(len(task["train_texts"]))})["all"]
    save("minilm_all")


def _error(results: dict, *path: str) -> float | None:
    for key in path:
        results = results.get(key, {}) if isinstance(results, dict) else {}
    return results.get("error") if isinstance(results, dict) else None


def seed_summary(results: dict) -> dict:
    """The headline figures of one seed. ``selection_speedup`` is steady state: both selectors were warmed up
    first (warm-up seconds apart), so the summed round timers hold selector training + inference + ranking only."""
    active = results["active"]
    proxy_seconds, target_seconds = active["proxy_selection_seconds"], active["target_selection_seconds"]
    error_all = results.get("minilm_all", {}).get("error")
    if error_all is None:
        error_all = _error(results, "coreset", "minilm", "all")
    probe = results.get("linear_probe_frozen_minilm", {})
    figures = {
        "seed": results["seed"], "selection_speedup": target_seconds / proxy_seconds,
        "selection_speedup_with_warmup": (target_seconds + active["target_warmup_seconds"])
        / (proxy_seconds + active["proxy_warmup_seconds"]),
        "proxy_selection_seconds": proxy_seconds, "target_selection_seconds": target_seconds,
        "proxy_warmup_seconds": active["proxy_warmup_seconds"],
        "target_warmup_seconds": active["target_warmup_seconds"],
        "error_proxy_selected": _error(active, "minilm", "proxy_selected"),
        "error_target_selected": _error(active, "minilm", "target_selected"),
        "error_random": _error(active, "minilm", "random"), "error_all": error_all,
        "majority_error": results["majority_error"],
        "linear_probe_error_proxy_selected": probe.get("proxy_selected"),
        "linear_probe_error_target_selected": probe.get("target_selected"),
        "linear_probe_error_random": probe.get("random"), "linear_probe_error_all": probe.get("all"),
        "vdcnn9_error_proxy_selected": _error(active, "vdcnn9", "proxy_selected"),
        "vdcnn9_error_random": _error(active, "vdcnn9", "random"),
        "coreset_error": _error(results, "coreset", "minilm", "coreset") or _error(results, "coreset", "vdcnn9",
                                                                                  "coreset"),
        "spearman": active["agreement_round1"]["spearman"],
        "top_b_overlap": active["agreement_round1"]["top_k_overlap"],
        "final_size": active["final_size"], "pool_size": results["pool_size"],
    }
    return figures | paired_gaps(figures)


def _gap(figures: dict, minuend: str, subtrahend: str) -> float | None:
    if figures[minuend] is None or figures[subtrahend] is None:
        return None
    return figures[minuend] - figures[subtrahend]


def paired_gaps(figures: dict) -> dict:
    """Error differences within one seed (same pool, test set and label count), so their spread over seeds is
    the spread of the comparison itself: proxy- minus target-selected (the paper's "within ~0.1%"), proxy-selected
    minus random, and the fine-tuned target minus the frozen-embedding probe on the same labels (< 0: the target
    beats the probe)."""
    return {"gap_proxy_minus_target_selected": _gap(figures, "error_proxy_selected", "error_target_selected"),
            "gap_proxy_selected_minus_random": _gap(figures, "error_proxy_selected", "error_random"),
            "gap_target_minus_probe_random": _gap(figures, "error_random", "linear_probe_error_random"),
            "gap_target_minus_probe_proxy_selected": _gap(figures, "error_proxy_selected",
                                                          "linear_probe_error_proxy_selected"),
            "gap_target_minus_probe_all": _gap(figures, "error_all", "linear_probe_error_all")}


HEADLINE = ("selection_speedup", "selection_speedup_with_warmup", "error_proxy_selected", "error_target_selected",
            "error_random", "error_all", "majority_error", "linear_probe_error_proxy_selected",
            "linear_probe_error_target_selected", "linear_probe_error_random", "linear_probe_error_all",
            "gap_proxy_minus_target_selected", "gap_proxy_selected_minus_random", "gap_target_minus_probe_random",
            "gap_target_minus_probe_proxy_selected", "gap_target_minus_probe_all", "spearman", "top_b_overlap")
TARGET_ERRORS = ("error_proxy_selected", "error_target_selected", "error_random", "error_all")


def summary(per_seed: list[dict], dataset: str) -> dict:
    """Headline figures over seeds (mean, sd, 95% t-interval) and per seed; whether the target learned: it beat the
    majority class in every measured error and the frozen-embedding probe in every paired comparison."""
    seeds = [seed_summary(results) for results in per_seed if "active" in results]
    aggregate = {key: mean_ci95([s[key] for s in seeds]) for key in HEADLINE}
    measured = [(s, key) for s in seeds for key in TARGET_ERRORS if s[key] is not None]
    probe_gaps = [s[key] for s in seeds for key in ("gap_target_minus_probe_random",
                                                    "gap_target_minus_probe_proxy_selected",
                                                    "gap_target_minus_probe_all") if s[key] is not None]
    return {"benchmark": "svp_amazon", "dataset": dataset, "seeds": [s["seed"] for s in seeds],
            **{key: value["mean"] for key, value in aggregate.items()}, "spread": aggregate,
            "target_beats_majority": bool(measured) and all(s[key] < s["majority_error"] for s, key in measured),
            "target_beats_probe": bool(probe_gaps) and all(gap < 0 for gap in probe_gaps),
            "per_seed": seeds}


def plot(summary_: dict, path: Path) -> None:
    """Mean selection seconds (steady state) and mean target errors over seeds, with the majority-class error."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seeds = summary_["per_seed"]
    figure, (timing, errors) = plt.subplots(1, 2, figsize=(11, 4))
    timing.bar(["fastText proxy", "MiniLM target"], [np.mean([s["proxy_selection_seconds"] for s in seeds]),
                                                     np.mean([s["target_selection_seconds"] for s in seeds])])
    timing.set(yscale="log", ylabel="selection seconds (rounds summed, after warm-up)",
               title=f"SVP selection: {summary_['selection_speedup']:.1f}x faster with the proxy")
    names = [key for key in ("error_proxy_selected", "error_target_selected", "error_random", "error_all",
                             "linear_probe_error_random") if summary_.get(key) is not None]
    errors.barh([name.removeprefix("error_") for name in names], [100 * summary_[name] for name in names])
    errors.axvline(100 * summary_["majority_error"], color="grey", linestyle="--", label="majority-class error")
    errors.legend()
    errors.set(xlabel="test error (%), mean over seeds",
               title=f"{summary_['dataset']}: seeds {summary_['seeds']}, {seeds[0]['final_size']} of "
                     f"{seeds[0]['pool_size']} labeled")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="learns", choices=sorted(CONFIGS), help="sizes (see CONFIGS)")
    parser.add_argument("--dataset", default="amazon_multidomain", choices=["amazon_multidomain", "amazon_blitzer"])
    parser.add_argument("--seeds", default="0", help="comma-separated seeds, run one after the other")
    parser.add_argument("--pool", type=int, help="override the configuration's pool size")
    parser.add_argument("--test", type=int, help="override the configuration's test size")
    parser.add_argument("--initial", type=int, help="override the random initial labels")
    parser.add_argument("--rounds", help="override the round sizes, comma-separated")
    parser.add_argument("--epochs", type=int, dest="transformer_epochs", help="override the target's epochs")
    parser.add_argument("--proxy-epoch", type=int, default=5, help="fastText epochs (paper: 5)")
    parser.add_argument("--proxy-lr", type=float, default=0.05, help="fastText learning rate (paper: 0.05)")
    parser.add_argument("--data-dir", type=Path, default=DATA, help="folder holding <dataset>/data.parquet")
    parser.add_argument("--device", default="cpu", help="device of the targets (cpu, cuda); the proxy uses CPUs")
    parser.add_argument("--model", default=None, help="transformer name or path (default: the packaged MiniLM)")
    parser.add_argument("--output", default=str(REPO / "recipes" / "results" / "svp_amazon"),
                        help="output path without suffix (.json and .png are written)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    logging.getLogger("textsel").setLevel(logging.INFO)
    started = time.perf_counter()
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    seeds = [int(seed) for seed in args.seeds.split(",")]
    config = CONFIGS[args.config] | {"name": args.config, "proxy": {"epoch": args.proxy_epoch, "lr": args.proxy_lr}}
    config |= {key: getattr(args, key) for key in ("pool", "test", "initial", "transformer_epochs")
               if getattr(args, key) is not None}
    if args.rounds is not None:
        config["rounds"] = [int(size) for size in args.rounds.split(",")]
    results = {"benchmark": "svp_amazon", "dataset": args.dataset,
               "task": "label_t2" if args.dataset == "amazon_multidomain" else "rating>=4 vs <=2", "config": config,
               "device": args.device, "timing": TIMING, "per_seed": []}

    # The code that runs is the code at the start: after the first save this results file itself is a modified
    # tracked file, which must not mark the run as coming from a dirty tree.
    commit, dirty = git_state()

    def saver(entry: dict):  # noqa: ANN202 - save(stage) for one seed's entry of results["per_seed"]
        def save(stage: str) -> None:
            entry["stages_done"].append(stage)
            results["summary"] = summary(results["per_seed"], args.dataset)
            document = results_with_provenance(results, seeds=seeds, started=started)
            document["provenance"] |= {"git_commit": commit, "git_dirty": dirty}
            write_json(output.with_suffix(".json"), document)
            plot(results["summary"], output.with_suffix(".png"))
            logger.info("saved after seed %s stage %s", entry["seed"], stage)
        return save

    for seed in seeds:
        results["per_seed"].append({})
        run(config, args.dataset, seed, results["per_seed"][-1], saver(results["per_seed"][-1]),
            data_dir=args.data_dir, device=args.device, model=args.model)
    if config["minilm_all"]:
        for entry in results["per_seed"]:
            run_all_pool(config, args.dataset, entry, saver(entry), data_dir=args.data_dir, device=args.device,
                         model=args.model)
    print(json.dumps({key: value for key, value in results["summary"].items() if key != "per_seed"}))


if __name__ == "__main__":
    main()
