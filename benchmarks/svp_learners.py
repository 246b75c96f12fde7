"""Selection via Proxy with proxies that learn: target-selected against fastText at small-data settings and a
logistic probe on the MiniLM embeddings textsel already has, timed and scored in one run per seed.

``svp_amazon.py`` timed the fastText proxy at the paper's settings (5 epochs, learning rate 0.05), which on 500
labels sits at the majority-class error and ranks at random (``svp_proxy_settings.py``): a speed-up measured with
a proxy at chance says nothing about selection. Here, per seed, on the task of ``svp_amazon.py --config learns``
(amazon_blitzer, 25% negatives, pool 3,600, test 1,000, 500 random + 500 selected labels, least confidence):

- selectors: the target as its own selector (MiniLM fine-tuned, ``svp_amazon.target_model``; ``--target vdcnn9``
  for VDCNN9), ``fasttext_small`` (25 epochs, learning rate 0.5: fastText's small-data settings, fixed before any
  run) and ``probe`` (logistic regression with C chosen by 5-fold cross-validation over 10 values, on the shared
  frozen MiniLM vectors of the texts);
- selection seconds with **every cost of each selector counted**: one warm-up fit + predict (process start-up
  costs), the rounds (training, scoring the unlabeled pool, ranking) and, for the probe, embedding the pool with the
  packaged MiniLM (timed here on ``--embed-sample`` texts of the pool and scaled to the pool; the shared vectors it
  then reads were made by the same model). ``speedup`` = target seconds / proxy seconds, both with all costs;
  ``speedup_vectors_at_hand`` leaves out the probe's embedding, as in a project that embedded its pool for SEALS
  (the issue's "one matrix product"); the bar is judged on ``speedup``;
- errors of the target trained from scratch on each selection (proxy-selected per proxy, target-selected, random,
  all the same size), the majority-class error, each proxy's own test error after training on the initial labels
  (``proxy_test_error``; a proxy no better than the majority class is **at chance** and its figures are no
  headline), and proxy-target rank agreement in round 1 (Spearman, top-b overlap).

The error stage is untimed and trains on --eval-threads torch threads (default 1): the results writer reads the
1-minute load average at the end of the run, and a last stage training on every core puts the run's own load at the
core count (2.08 on 2 cores in the run of d229457), which hides whether other work shared the machine. The timed
selection runs on torch's default threads.

Over seeds: mean, sd and 95% t-interval of every figure, and per proxy whether it meets the bar of issue 25:
proxy-selected error at most 0.5 points above target-selected and no worse than random, at a speed-up of at least
40x, and not at chance (means over seeds). The 1-minute load average is recorded by the results writer; a busy run
is written but not quoted by ``benchmarks.report``.

    nice -n 10 .venv/bin/python benchmarks/svp_learners.py --seeds 0,1,2,3,4             # MiniLM target
    nice -n 10 .venv/bin/python benchmarks/svp_learners.py --seeds 0 --target vdcnn9 --negative-rate 0.5 \
        --pool 6000 --initial 2000 --round 2000 --vdcnn-epochs 6 --vdcnn-batch 32

VDCNN9, a character CNN, needs thousands of texts: trained on the 1,000 labels of the MiniLM setting it stays at the
majority-class error, so its run selects 4,000 of a balanced 6,000-text pool.

Writes benchmarks/results/svp_learners_<dataset>[_neg<percent>][_<target>].json after every stage (``--out``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from _results import add_run_options, mean_ci95, start_run  # noqa: E402
from svp_amazon import CONFIGS, DATA, load_task, target_model, warm_up  # noqa: E402

from textsel.proxy import FastTextProxy  # noqa: E402
from textsel.svp import majority_error, rank_agreement, select_active, target_error  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SMALL_DATA = {"epoch": 25, "lr": 0.5}
BAR = {"gap_to_target_points": 0.5, "speedup": 40.0}
FIGURES = ("speedup", "speedup_vectors_at_hand", "selection_seconds", "error_proxy_selected", "error_target_selected",
           "error_random", "gap_proxy_minus_target_selected", "gap_proxy_minus_random", "proxy_test_error", "spearman",
           "top_b_overlap")
logger = logging.getLogger("svp_learners")


class EmbeddingProbe:
    """Logistic regression on precomputed sentence vectors, as a selector over texts: ``vectors[i]`` embeds
    ``texts[i]`` (identical texts share a row). C is chosen by 5-fold cross-validation over 10 values, as for the
    probe of ``svp_amazon.py`` (scikit-learn's default C=1 on unit vectors stays at the majority class)."""

    input = "texts"  # what the round engine hands it: the texts, looked up in ``vectors``

    def __init__(self, texts: list[str], vectors: np.ndarray) -> None:
        self.row = {text: i for i, text in enumerate(texts)}
        self.vectors = vectors

    def _features(self, texts: list[str]) -> np.ndarray:
        return self.vectors[[self.row[text] for text in texts]]

    def fit(self, texts: list[str], labels) -> EmbeddingProbe:  # noqa: ANN001
        from sklearn.linear_model import LogisticRegressionCV

        labels = np.asarray(labels)
        folds = int(min(5, np.unique(labels, return_counts=True)[1].min()))
        self.model_ = LogisticRegressionCV(Cs=10, cv=max(folds, 2), max_iter=3000).fit(self._features(texts), labels)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self.model_.predict_proba(self._features(texts))

    def predict(self, texts: list[str]) -> np.ndarray:
        return self.model_.predict(self._features(texts))


def embedding_seconds(texts: list[str], sample: int, seed: int) -> dict:
    """Seconds to embed ``sample`` texts of the pool with the packaged MiniLM (model load apart), scaled to the
    pool: the probe's share of the cost of the vectors it reads."""
    from textsel.embed import Embedder

    rng = np.random.default_rng(seed)
    chosen = [texts[i] for i in rng.permutation(len(texts))[:min(sample, len(texts))]]
    start = time.perf_counter()
    embedder = Embedder(dtype="float32", device="cpu")
    embedder.encode(chosen[:2])
    load = time.perf_counter() - start
    start = time.perf_counter()
    embedder.encode(chosen)
    seconds = time.perf_counter() - start
    return {"model_load_seconds": load, "sample": len(chosen), "sample_seconds": seconds,
            "pool_seconds": seconds * len(texts) / len(chosen)}


def proxy_test_error(selector, task: dict, initial: np.ndarray) -> float:  # noqa: ANN001
    """The selector's own test error after training on the initial random labels."""
    texts, labels = task["train_texts"], task["train_labels"]
    return target_error(selector, [texts[i] for i in initial], labels[initial], task["test_texts"],
                        task["test_labels"])["error"]


def run_seed(task: dict, make_target, selectors: dict, loop: dict, seed: int, save=lambda stage: None,  # noqa: ANN001
             embed_sample: int = 256, result: dict | None = None, eval_threads: int | None = None) -> dict:
    """Selection by the target and by each proxy (``selectors``: name -> factory of a fresh selector), then the
    target trained on every selection (on ``eval_threads`` torch threads; None: unchanged); ``result`` is filled
    stage by stage and ``save(stage)`` called after each."""
    texts, labels = task["train_texts"], task["train_labels"]
    result = {} if result is None else result
    result |= {"seed": seed, "pool_size": len(texts), "test_size": len(task["test_texts"]),
               "majority_error": majority_error(labels, task["test_labels"]), "stages_done": []}
    runs, costs = {}, {}
    for name, factory in {"target": make_target, **selectors}.items():
        logger.info("seed %s: selection by %s", seed, name)
        warm = warm_up(factory(), texts, labels, seed)
        runs[name] = select_active(factory(), texts, labels, **loop)
        costs[name] = {"warmup_seconds": warm, "round_seconds": runs[name].round_seconds,
                       "rounds_seconds": runs[name].selection_seconds}
    if "probe" in selectors:
        costs["probe"]["embedding"] = embedding_seconds(texts, embed_sample, seed)
    initial = runs["target"].order[:runs["target"].round_ends[0]]
    size = runs["target"].round_ends[-1]
    subsets = {"target_selected": runs["target"].labeled(), "random": np.random.default_rng(seed + 1).permutation(
        len(texts))[:size], **{f"{name}_selected": runs[name].labeled() for name in selectors}}
    for name in ("target", *selectors):
        cost = costs[name]
        cost["selection_seconds"] = (cost["warmup_seconds"] + cost["rounds_seconds"]
                                     + cost.get("embedding", {}).get("pool_seconds", 0.0))
    result["selection"] = {
        "final_size": size, "costs": costs,
        "negative_share_chosen": {name: float(np.mean(labels[positions] == -1)) for name, positions in subsets.items()},
        "agreement_round1": {name: rank_agreement(runs[name].round_scores[0], runs["target"].round_scores[0],
                                                  k=loop["round_sizes"][0]) for name in selectors},
        "proxy_test_error": {name: proxy_test_error(selectors[name](), task, initial) for name in selectors}}
    save("selection")
    result["errors"] = {}
    with torch_threads(eval_threads):
        for name, positions in subsets.items():  # the slowest stage: keep each error as soon as it exists
            logger.info("seed %s: target trained on %s (%d texts)", seed, name, len(positions))
            result["errors"][name] = target_error(make_target(), [texts[i] for i in positions], labels[positions],
                                                  task["test_texts"], task["test_labels"])
            save(f"error_{name}")
    return result


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block on ``threads`` torch threads (None: as they are), restoring the count afterwards."""
    import torch

    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def proxy_figures(result: dict, name: str) -> dict:
    """One proxy's headline figures in one seed (errors None until measured)."""
    selection, errors = result["selection"], result.get("errors", {})
    error = {key: errors.get(key, {}).get("error") for key in (f"{name}_selected", "target_selected", "random")}

    def gap(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else a - b

    costs = selection["costs"]
    at_hand = costs[name]["selection_seconds"] - costs[name].get("embedding", {}).get("pool_seconds", 0.0)
    return {"speedup": costs["target"]["selection_seconds"] / costs[name]["selection_seconds"],
            "speedup_vectors_at_hand": costs["target"]["selection_seconds"] / at_hand,
            "selection_seconds": costs[name]["selection_seconds"],
            "error_proxy_selected": error[f"{name}_selected"], "error_target_selected": error["target_selected"],
            "error_random": error["random"],
            "gap_proxy_minus_target_selected": gap(error[f"{name}_selected"], error["target_selected"]),
            "gap_proxy_minus_random": gap(error[f"{name}_selected"], error["random"]),
            "proxy_test_error": selection["proxy_test_error"][name],
            "spearman": selection["agreement_round1"][name]["spearman"],
            "top_b_overlap": selection["agreement_round1"][name]["top_k_overlap"]}


def summary(per_seed: list[dict], proxies: list[str]) -> dict:
    """Per proxy: every figure's mean, sd and 95% interval over seeds, whether it is at chance (mean test error
    no better than the mean majority error) and whether it meets the bar (means; see the module docstring)."""
    seeds = [result for result in per_seed if "selection" in result]
    majority = mean_ci95([result["majority_error"] for result in seeds])
    out = {"seeds": [result["seed"] for result in seeds], "majority_error": majority,
           "target_seconds": mean_ci95([r["selection"]["costs"]["target"]["selection_seconds"] for r in seeds]),
           "proxies": {}}
    for name in proxies:
        figures = [proxy_figures(result, name) for result in seeds]
        spread = {key: mean_ci95([figure[key] for figure in figures]) for key in FIGURES}
        at_chance = spread["proxy_test_error"]["mean"] >= majority["mean"]
        gap_target, gap_random = (spread[key]["mean"] for key in ("gap_proxy_minus_target_selected",
                                                                  "gap_proxy_minus_random"))
        measured = gap_target is not None and gap_random is not None
        out["proxies"][name] = {**spread, "at_chance": bool(at_chance), "meets_bar": bool(
            measured and not at_chance and gap_target <= BAR["gap_to_target_points"] / 100 and gap_random <= 0
            and spread["speedup"]["mean"] >= BAR["speedup"]) if measured else None}
    return out


def percent(spread: dict) -> str:
    """'mean% (low-high)' of a mean_ci95 block of fractions."""
    if spread["mean"] is None:
        return "not measured"
    low, high = spread["ci95"]
    return f"{100 * spread['mean']:.2f}%" + ("" if low is None else f" ({100 * low:.2f}-{100 * high:.2f})")


def headline(document: dict) -> str:
    """The sentence benchmarks.report writes for this file: per proxy its speed-up and errors, or why not."""
    figures = document["summary"]
    seeds = len(figures["seeds"])
    parts = [f"{seeds} seed{'' if seeds == 1 else 's'}, {document['target']} target, majority error "
             f"{100 * figures['majority_error']['mean']:.1f}%"]
    for name, proxy in figures["proxies"].items():
        if proxy["at_chance"]:
            parts.append(f"{name}: at chance (test error {percent(proxy['proxy_test_error'])}), no headline")
            continue
        verdict = {True: "met", False: "not met", None: "not measured"}[proxy["meets_bar"]]
        at_hand = proxy["speedup_vectors_at_hand"]["mean"]
        extra = "" if abs(at_hand - proxy["speedup"]["mean"]) < 0.05 else f", {at_hand:.1f}x with the vectors at hand"
        parts.append(f"{name}: selects {proxy['speedup']['mean']:.1f}x faster (all costs counted{extra}); target error "
                     f"{percent(proxy['error_proxy_selected'])} proxy-selected vs "
                     f"{percent(proxy['error_target_selected'])} target-selected and {percent(proxy['error_random'])} "
                     f"random; Spearman {proxy['spearman']['mean']:.2f}; bar {verdict}")
    return "; ".join(parts)


def make_selectors(task: dict, seed: int) -> dict:
    """The proxies that learn, each a factory of a fresh selector."""
    texts, vectors = task["train_texts"] + task["test_texts"], np.vstack([task["train_vectors"], task["test_vectors"]])
    return {"fasttext_small": lambda: FastTextProxy(seed=seed, threads=1, **SMALL_DATA),
            "probe": lambda: EmbeddingProbe(texts, vectors)}  # test rows too: its own test error is reported


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated seeds")
    parser.add_argument("--dataset", default="amazon_blitzer", choices=["amazon_blitzer", "amazon_multidomain"])
    parser.add_argument("--negative-rate", type=float, default=0.25, help="share of negatives in pool and test")
    parser.add_argument("--pool", type=int, default=CONFIGS["learns"]["pool"])
    parser.add_argument("--test", type=int, default=CONFIGS["learns"]["test"])
    parser.add_argument("--initial", type=int, default=CONFIGS["learns"]["initial"])
    parser.add_argument("--round", type=int, default=CONFIGS["learns"]["rounds"][0], help="texts selected")
    parser.add_argument("--target", default="minilm", choices=["minilm", "vdcnn9"])
    parser.add_argument("--vdcnn-epochs", type=int, default=30)
    parser.add_argument("--vdcnn-batch", type=int, default=16, help="small batches: enough SGD steps on 1,000 texts")
    parser.add_argument("--eval-threads", type=int, default=1,
                        help="torch threads of the untimed error stage (see the module docstring)")
    parser.add_argument("--embed-sample", type=int, default=256, help="pool texts the probe's embedding is timed on")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data-dir", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, help="results file (default benchmarks/results/svp_learners_<data>.json)")
    args = add_run_options(parser).parse_args()
    run = start_run(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    seeds = [int(seed) for seed in args.seeds.split(",")]
    rate = args.negative_rate
    name = (f"svp_learners_{args.dataset}" + ("" if rate is None else f"_neg{round(100 * rate)}")
            + ("" if args.target == "minilm" else f"_{args.target}"))
    out = args.out or REPO / "benchmarks" / "results" / f"{name}.json"
    config = CONFIGS["learns"] | {"pool": args.pool, "test": args.test, "initial": args.initial,
                                  "rounds": [args.round], "negative_rate": rate}
    loop = {"initial_size": args.initial, "round_sizes": [args.round], "strategy": "least-confidence"}
    document = {"benchmark": "svp_learners", "dataset": args.dataset, "negative_rate": rate, "target": args.target,
                "config": {key: config[key] for key in ("pool", "test", "initial", "rounds", "max_length",
                                                        "transformer_epochs", "learning_rate", "batch_size")},
                "fasttext_small": SMALL_DATA, "bar": BAR, "eval_threads": args.eval_threads, "per_seed": []}
    if args.target == "vdcnn9":  # the transformer settings above are the MiniLM target's; these are VDCNN9's
        document["vdcnn"] = {"depth": 9, "max_length": 256, "epochs": args.vdcnn_epochs, "batch_size": args.vdcnn_batch}

    def save(stage: str) -> None:
        document["per_seed"][-1]["stages_done"].append(stage)
        document["summary"] = summary(document["per_seed"], ["fasttext_small", "probe"])
        run.write(document, seeds, out)

    for seed in seeds:
        task = load_task(args.dataset, args.pool, args.test, seed, args.data_dir, rate)
        if args.target == "minilm":
            def make_target(seed=seed):  # noqa: ANN202
                return target_model(config, seed, args.device, None)
        else:
            from textsel.models.vdcnn import VDCNNClassifier

            def make_target(seed=seed):  # noqa: ANN202
                return VDCNNClassifier(**document["vdcnn"], seed=seed, device=args.device)
        document["per_seed"].append({})
        run_seed(task, make_target, make_selectors(task, seed), loop | {"seed": seed}, seed, save, args.embed_sample,
                 document["per_seed"][-1], args.eval_threads)
    run.finish(document, seeds=seeds, out=out)


if __name__ == "__main__":
    main()
