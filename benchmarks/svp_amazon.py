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

Configurations (CONFIGS) name their data. ``learns`` (default): ``amazon_blitzer`` raw reviews, 1-2 stars
(negative) vs 4-5, with negatives drawn to 25% of a 3,600-text pool and a 1,000-text test set (majority error
25%); 500 random + 500 selected labels; MiniLM fine-tuned at 64 tokens for 3 epochs at learning rate 1e-4 in
batches of 16, also on the whole pool. Chosen by pilots on this 2-core machine (1,000 random labels, 3 epochs,
64 tokens): at a 12% negative share the target stayed at or near the majority class on both amazon_blitzer
(11.5% vs 12.7%) and imdb (12.0% vs 12.0%), and amazon_multidomain ``label_t2`` (stop-word-thinned text that
loses negations) did not clear the majority class in the earlier 3-seed run (commit ea16c3c's
svp_amazon.json); at 25% negatives the target reached 14.8% against 21.0% for the probe. amazon_blitzer holds
3,971 positive reviews, which caps the pool near 4,000 at this share, below the 10-20k the issue suggests.
``quick`` (600-text amazon_multidomain pool, a smoke run) and ``full`` (2,000-text pool, VDCNN9 and core-set
stages). The whole-pool training, the costliest stage, runs after every seed's selection comparison, so a run
cut short keeps those for all its seeds. The 1-minute load average at the start and end of each seed's timed
selection is recorded: on this shared 2-core box other jobs slow the transformer far more than fastText, which
inflates the speed-up (the earlier run gave 66x quiet, 217x mean with two seeds under load). With a GPU, raise
``--pool``, ``--rounds`` and ``--epochs``.
Run from the repository root:

    .venv/bin/python benchmarks/svp_amazon.py --seeds 0,1,2,3,4        # "learns", 5 seeds
    .venv/bin/python benchmarks/svp_amazon.py --config quick
    .venv/bin/python benchmarks/svp_amazon.py --selection-only --seeds 0,1,2,3,4   # the timers only, quiet machine

The last line printed is one JSON object with the headline figures (means over seeds; ``spread`` holds mean, sd
and 95% interval; ``per_seed`` each seed's values). The results so far, with provenance, are rewritten after every
stage to recipes/results/svp_<dataset>[_neg<percent>].json and .png (``--output``), so a run cut short keeps
its measured stages.
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

from _results import add_run_options, mean_ci95, start_run  # noqa: E402

from textsel.models.transformer import TransformerClassifier  # noqa: E402
from textsel.models.vdcnn import VDCNNClassifier  # noqa: E402
from textsel.proxy import FastTextProxy  # noqa: E402
from textsel.svp import majority_error, rank_agreement, select_active, select_coreset, target_error  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
CONFIGS = {  # data, pool/test sizes, active-learning rounds, target settings, which extra stages run
    "quick": {"dataset": "amazon_multidomain", "negative_rate": None, "pool": 600, "test": 300, "initial": 100,
              "rounds": [100, 100], "max_length": 64, "transformer_epochs": 2, "learning_rate": 5e-5,
              "batch_size": 32, "vdcnn": False, "vdcnn_epochs": 5, "minilm_all": False, "coreset": False,
              "coreset_minilm": False},
    "learns": {"dataset": "amazon_blitzer", "negative_rate": 0.25, "pool": 3600, "test": 1000, "initial": 500,
               "rounds": [500], "max_length": 64, "transformer_epochs": 3, "learning_rate": 1e-4, "batch_size": 16,
               "vdcnn": False, "vdcnn_epochs": 5, "minilm_all": True, "coreset": False, "coreset_minilm": False},
    "full": {"dataset": "amazon_multidomain", "negative_rate": None, "pool": 2000, "test": 1000, "initial": 200,
             "rounds": [200, 200, 200], "max_length": 128, "transformer_epochs": 3, "learning_rate": 5e-5,
             "batch_size": 32, "vdcnn": True, "vdcnn_epochs": 15, "minilm_all": False, "coreset": True,
             "coreset_minilm": True},
}
TIMING = ("selection seconds = selector training + inference on the unlabeled pool + ranking, summed over rounds "
          "(textsel.svp.select_active); each selector is first warmed up once (fit + predict on 64 texts, "
          "*_warmup_seconds) so the rounds are steady state; selection_speedup = target / proxy selection seconds "
          "(steady state), selection_speedup_with_warmup adds the warm-ups to both sides")
logger = logging.getLogger("svp_amazon")


def load_task(dataset: str, pool_size: int, test_size: int, seed: int, data_dir: Path = DATA,
              negative_rate: float | None = None) -> dict:
    """Random train pool and test set of one binary Amazon task, read straight from parquet, with the shared
    frozen MiniLM embeddings of the same rows (for the linear-probe baseline).

    amazon_multidomain (``label_t2``) keeps the source's train/test splits: pool rows come from its train split,
    test rows from its test split, at the source's natural negative share (11.5%) unless ``negative_rate`` is given.
    amazon_blitzer has no split and is about half negative (``negative_rate`` None: 0.5); its rows form one split
    that test rows are cut from first. With a rate, each class is shuffled and ``negative_rate`` of each set drawn
    from the negatives (1-2 stars), so pool and test never overlap and the share is exact."""
    table = pq.read_table(data_dir / dataset / "data.parquet").to_pandas()  # index = file row = embedding row
    rng = np.random.default_rng(seed)
    if dataset == "amazon_multidomain":
        table = table[table["label_t2"].notna()]
        labels = table["label_t2"].astype(int).to_numpy()
        in_train, in_test = np.asarray(table["split"] == "train"), np.asarray(table["split"] == "test")
    else:
        table = table[table["rating"] != 3]
        labels = np.where(table["rating"] >= 4, 1, -1)
        negative_rate = 0.5 if negative_rate is None else negative_rate
        in_train = in_test = None  # one split: test rows are cut first, pool rows after them
    if negative_rate is None:
        train = rng.permutation(np.flatnonzero(in_train))[:pool_size]
        test = rng.permutation(np.flatnonzero(in_test))[:test_size]
    else:
        train, test = [], []
        for value, share in ((-1, negative_rate), (1, 1 - negative_rate)):
            n_test, n_pool = round(share * test_size), round(share * pool_size)
            if in_train is None:
                rows = rng.permutation(np.flatnonzero(labels == value))
                test_rows, pool_rows = rows[:n_test], rows[n_test:]
            else:
                pool_rows = rng.permutation(np.flatnonzero(in_train & (labels == value)))
                test_rows = rng.permutation(np.flatnonzero(in_test & (labels == value)))
            if n_test > len(test_rows) or n_pool > len(pool_rows):
                raise SystemExit(f"{dataset} has too few rows of class {value}: {n_test} test and {n_pool} pool "
                                 f"rows needed")
            test.append(test_rows[:n_test])
            train.append(pool_rows[:n_pool])
        train, test = rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))
    texts = table["text"].tolist()
    task = {"train_texts": [texts[i] for i in train], "train_labels": labels[train],
            "test_texts": [texts[i] for i in test], "test_labels": labels[test]}
    vectors, rows = np.load(data_dir / dataset / "minilm.f16.npy", mmap_mode="r"), table.index.to_numpy()
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


def linear_probe_errors(task: dict, subsets: dict[str, np.ndarray]) -> dict[str, float]:
    """Test error of logistic regression on the frozen shared MiniLM embeddings (full 256-token texts), trained on
    each subset with its inverse regularisation C chosen by 5-fold cross-validation over 10 values: the bar a
    fine-tuned target must clear. (With scikit-learn's default C=1 on unit-length vectors the probe sits at the
    majority class on imbalanced tasks, a bar too low to mean anything.)"""
    from sklearn.linear_model import LogisticRegressionCV

    errors = {}
    for name, positions in subsets.items():
        probe = LogisticRegressionCV(Cs=10, cv=5, max_iter=3000).fit(task["train_vectors"][positions],
                                                                     task["train_labels"][positions])
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
    task = load_task(dataset, config["pool"], config["test"], seed, data_dir, config.get("negative_rate"))
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

    results["load_average_1min"] = {"selection_start": os.getloadavg()[0]}
    logger.info("warm-up of both selectors (timed apart)")
    warmup = {"proxy": warm_up(proxy, texts, labels, seed), "target": warm_up(minilm, texts, labels, seed)}
    logger.info("SVP active learning with the fastText proxy")
    by_proxy = select_active(proxy, texts, labels, **loop)
    logger.info("  %.2f s; same loop with the MiniLM target as selector", by_proxy.selection_seconds)
    by_target = select_active(minilm, texts, labels, **loop)
    logger.info("  %.2f s", by_target.selection_seconds)
    results["load_average_1min"]["selection_end"] = os.getloadavg()[0]
    size = by_proxy.round_ends[-1]
    subsets = {"proxy_selected": by_proxy.labeled(), "target_selected": by_target.labeled(),
               "random": np.random.default_rng(seed + 1).permutation(len(texts))[:size]}
    results["active"] = {
        "strategy": "least-confidence", "final_size": size, "round_ends": by_proxy.round_ends,
        "proxy_warmup_seconds": warmup["proxy"], "target_warmup_seconds": warmup["target"],
        "proxy_round_seconds": by_proxy.round_seconds, "target_round_seconds": by_target.round_seconds,
        "proxy_selection_seconds": by_proxy.selection_seconds, "target_selection_seconds": by_target.selection_seconds,
        "proxy_score_spreads": by_proxy.score_spreads(), "target_score_spreads": by_target.score_spreads(),
        "agreement_round1": rank_agreement(by_proxy.round_scores[0], by_target.round_scores[0],
                                           k=config["rounds"][0]),
        "negative_rate_selected": {name: float(np.mean(labels[positions] == -1))
                                   for name, positions in subsets.items()},
    }
    results["linear_probe_frozen_minilm"] = linear_probe_errors(task, subsets | {"all": np.arange(len(texts))})
    save("selection")
    if config.get("selection_only"):
        return results

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
    task = load_task(dataset, config["pool"], config["test"], seed, data_dir, config.get("negative_rate"))
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


def default_output_name(config: dict) -> str:
    """Results are named by the data they came from: ``svp_<dataset>``, plus ``_neg<percent>`` when the negative
    share was set (e.g. svp_amazon_blitzer_neg25)."""
    rate = config.get("negative_rate")
    return (f"svp_{config['dataset']}" + ("" if rate is None else f"_neg{round(100 * rate)}")
            + ("_selection" if config.get("selection_only") else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="learns", choices=sorted(CONFIGS), help="sizes (see CONFIGS)")
    parser.add_argument("--dataset", choices=["amazon_multidomain", "amazon_blitzer"],
                        help="override the configuration's data set")
    parser.add_argument("--negative-rate", type=float,
                        help="share of negatives in pool and test (default: the data set's own)")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds, run one after the other")
    parser.add_argument("--pool", type=int, help="override the configuration's pool size")
    parser.add_argument("--test", type=int, help="override the configuration's test size")
    parser.add_argument("--initial", type=int, help="override the random initial labels")
    parser.add_argument("--rounds", help="override the round sizes, comma-separated")
    parser.add_argument("--epochs", type=int, dest="transformer_epochs", help="override the target's epochs")
    parser.add_argument("--selection-only", action="store_true",
                        help="time the two selectors and stop: no target training for the errors (minutes a seed)")
    parser.add_argument("--proxy-epoch", type=int, default=5, help="fastText epochs (paper: 5)")
    parser.add_argument("--proxy-lr", type=float, default=0.05, help="fastText learning rate (paper: 0.05)")
    parser.add_argument("--data-dir", type=Path, default=DATA, help="folder holding <dataset>/data.parquet")
    parser.add_argument("--device", default="cpu", help="device of the targets (cpu, cuda); the proxy uses CPUs")
    parser.add_argument("--model", default=None, help="transformer name or path (default: the packaged MiniLM)")
    parser.add_argument("--output", help="output path without suffix (.json and .png are written; default "
                        "recipes/results/svp_<dataset>[_neg<percent>], named by the data)")
    args = add_run_options(parser).parse_args()
    record = start_run(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    logging.getLogger("textsel").setLevel(logging.INFO)
    seeds = [int(seed) for seed in args.seeds.split(",")]
    config = CONFIGS[args.config] | {"name": args.config, "proxy": {"epoch": args.proxy_epoch, "lr": args.proxy_lr}}
    config |= {key: getattr(args, key) for key in ("dataset", "negative_rate", "pool", "test", "initial",
                                                   "transformer_epochs") if getattr(args, key) is not None}
    dataset = config["dataset"]
    if args.rounds is not None:
        config["rounds"] = [int(size) for size in args.rounds.split(",")]
    if args.selection_only:
        config |= {"selection_only": True, "minilm_all": False, "vdcnn": False, "coreset": False}
    output = Path(args.output) if args.output else REPO / "recipes" / "results" / default_output_name(config)
    output.parent.mkdir(parents=True, exist_ok=True)
    task = "label_t2" if dataset == "amazon_multidomain" else "rating <= 2 (negative) vs >= 4"
    results = {"benchmark": "svp_amazon", "dataset": dataset, "task": task, "config": config,
               "device": args.device, "timing": TIMING, "per_seed": []}

    def saver(entry: dict):  # noqa: ANN202 - save(stage) for one seed's entry of results["per_seed"]
        def save(stage: str) -> None:
            entry["stages_done"].append(stage)
            results["summary"] = summary(results["per_seed"], dataset)
            record.write(results, seeds, output.with_suffix(".json"))
            plot(results["summary"], output.with_suffix(".png"))
            logger.info("saved after seed %s stage %s", entry["seed"], stage)
        return save

    for seed in seeds:
        results["per_seed"].append({})
        run(config, dataset, seed, results["per_seed"][-1], saver(results["per_seed"][-1]),
            data_dir=args.data_dir, device=args.device, model=args.model)
    if config["minilm_all"]:
        for entry in results["per_seed"]:
            run_all_pool(config, dataset, entry, saver(entry), data_dir=args.data_dir, device=args.device,
                         model=args.model)
    print(json.dumps({key: value for key, value in results["summary"].items() if key != "per_seed"}))


if __name__ == "__main__":
    main()
