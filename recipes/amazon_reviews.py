"""Recipe: Selection via Proxy and SEALS on Amazon reviews, printed beside the papers' claims.

(a) SVP (Coleman et al., ICLR 2020) on Amazon review sentiment: active learning (least confidence) with the
    fastText proxy as selector against the target model as its own selector, from the same random initial subset
    and with the same round sizes; the target then trains on the proxy's selection, on its own selection and on a
    random subset of the same size. Core-set selection (entropy, keep 50%): fastText against the target as
    selector; the target trains on the proxy's core-set and on everything. Selection runtime = selector training +
    inference + ranking, summed over rounds, measured in this process.
(b) SEALS (Coleman et al., AAAI 2022) rare-concept search on Amazon product categories: SEALS (kNN candidate pool,
    k=100) against the full-scan twin ("All") for each rare category, strategy and seed; 5 positives + 95
    negatives to start, logistic regression on the precomputed all-MiniLM-L6-v2 embeddings, test = split "test".

Data for (a): the real Amazon Review Polarity / Full when given (``--zhang-dir`` holding the Zhang et al. CSVs
train.csv and test.csv, or ``--hf amazon_polarity`` / a saved dataset directory), sampled to ``--svp-pool`` /
``--svp-test`` texts; otherwise, at reduced scale, the Amazon sets in ../shared/data: the real polarity test-file
head in fastText format, amazon_multidomain ``label_t2`` (rating <= 2 vs > 2) and amazon_blitzer (rating >= 4 vs
<= 2). (b) uses ../shared/data/amazon_multidomain ``domain``.

    .venv/bin/python recipes/amazon_reviews.py --quick       # smoke run, about a minute
    .venv/bin/python recipes/amazon_reviews.py               # full run, writes recipes/results/amazon_reviews.*
    .venv/bin/python recipes/amazon_reviews.py --zhang-dir ~/data/amazon_review_polarity_csv --svp-pool 20000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from _common import (  # noqa: E402
    RESULTS,
    SHARED_DATA,
    add_run_options,
    commit_note,
    fmt,
    load_parquet_corpus,
    markdown_table,
    mean,
    new_figure,
    run_figures,
    run_info,
    seals_and_all,
    start_run,
    timed_index,
    write_results,
)

FULL = {
    "svp_tasks": ["polarity_sample", "multidomain_t2", "blitzer"], "svp_pool": 600, "svp_test": 400,
    "svp_initial": 60, "svp_rounds": [60, 60, 60], "target": "vdcnn9", "target_epochs": 3,
    "target_max_length": 128,
    "seals_concepts": ["tools_hardware", "musical_instruments", "office_products", "automotive",
                       "cell_phones_service"],
    "seals_strategies": ["maxent", "mlp"], "seals_repeats": 2, "seals_budget": 2000, "seals_batch": 100,
    "index": "hnsw",
}
QUICK = {
    "svp_tasks": ["polarity_sample"], "svp_pool": 200, "svp_test": 100, "svp_initial": 40, "svp_rounds": [40, 40],
    "target": "vdcnn9", "target_epochs": 1, "target_max_length": 128,
    "seals_concepts": ["office_products", "automotive"], "seals_strategies": ["mlp"], "seals_repeats": 1,
    "seals_budget": 500, "seals_batch": 100, "index": "exact",
}
CLAIMS = {"svp_speedup": 41.9, "svp_error_gap_points": 0.1, "seals_pool_fraction": 0.10}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one small SVP task and two SEALS concepts")
    parser.add_argument("--zhang-dir", type=Path, help="folder with the Zhang et al. train.csv and test.csv")
    parser.add_argument("--scheme", default="polarity", choices=["polarity", "full"],
                        help="Amazon Review Polarity (labels 1/2) or Full (1-5 stars) for --zhang-dir")
    parser.add_argument("--hf", help="Hugging Face amazon_polarity: hub name or save_to_disk folder")
    parser.add_argument("--svp-pool", type=int, help="texts sampled as the SVP pool")
    parser.add_argument("--svp-test", type=int, help="texts sampled as the SVP test set")
    parser.add_argument("--target", choices=["vdcnn9", "vdcnn17", "vdcnn29", "transformer"],
                        help="the expensive model (default vdcnn9 on CPU)")
    parser.add_argument("--target-epochs", type=int)
    parser.add_argument("--target-max-length", type=int, help="characters (VDCNN) or tokens (transformer)")
    parser.add_argument("--svp-tasks", help="comma-separated: polarity_sample, multidomain_t2, blitzer")
    parser.add_argument("--svp-initial", type=int, help="random initial labels of SVP active learning")
    parser.add_argument("--svp-rounds", help="comma-separated labels per SVP round, e.g. 60,60,60")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--name", help="stem of the result files (default amazon_reviews[_quick][_k<k>])")
    parser.add_argument("--skip-svp", action="store_true")
    parser.add_argument("--skip-seals", action="store_true")
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--seed", type=int, default=0, help="first seed; SEALS repeat r uses seed + r")
    parser.add_argument("--k", type=int, default=100)
    args = add_run_options(parser).parse_args(argv)
    config = dict(QUICK if args.quick else FULL)
    for option in ("svp_pool", "svp_test", "target", "target_epochs", "target_max_length", "svp_initial"):
        if getattr(args, option) is not None:
            config[option] = getattr(args, option)
    if args.svp_tasks is not None:
        config["svp_tasks"] = args.svp_tasks.split(",")
    if args.svp_rounds is not None:
        config["svp_rounds"] = [int(size) for size in args.svp_rounds.split(",")]
    if args.zhang_dir is not None or args.hf is not None:
        config["svp_tasks"] = ["zhang" if args.zhang_dir is not None else "hf"]
    args.config = config
    return args


# --- (a) SVP ------------------------------------------------------------------------------------------------

def sample_split(texts: list[str], labels: np.ndarray, test: np.ndarray, pool_size: int, test_size: int,
                 seed: int) -> dict:
    """Seeded random pool from the non-test rows and test set from the test rows."""
    rng = np.random.default_rng(seed)
    pool_at = rng.permutation(np.flatnonzero(~test))[:pool_size]
    test_at = rng.permutation(np.flatnonzero(test))[:test_size]
    return {"texts": [texts[i] for i in pool_at], "labels": labels[pool_at],
            "test_texts": [texts[i] for i in test_at], "test_labels": labels[test_at]}


def load_svp_task(task: str, args: argparse.Namespace, seed: int) -> dict:
    """Texts and labels of one binary/multi-class Amazon task, pool and test sampled to the configured sizes."""
    from textsel.data import load_amazon_fasttext, load_amazon_polarity_hf, load_amazon_zhang_csv, load_pool

    size = (args.config["svp_pool"], args.config["svp_test"])
    if task in ("zhang", "hf"):
        load = (lambda split: load_amazon_zhang_csv(args.zhang_dir / f"{split}.csv", scheme=args.scheme)) \
            if task == "zhang" else (lambda split: load_amazon_polarity_hf(args.hf, split=split))
        train, test = load("train"), load("test")
        texts = train.texts + test.texts
        labels = np.concatenate([train.column("label"), test.column("label")])
        in_test = np.arange(len(texts)) >= len(train)
    elif task == "polarity_sample":
        pool = load_amazon_fasttext(args.data_dir / "amazon_polarity_sample" / "amazon_polarity_test_head.ft.txt")
        texts, labels = pool.texts, pool.column("label")
        in_test = np.random.default_rng(seed).random(len(texts)) < 0.3
    elif task == "multidomain_t2":
        pool = load_pool(args.data_dir / "amazon_multidomain" / "data.parquet", label_col="label_t2")
        rated = ~np.isnan(pool.column("label_t2"))
        split = pool.column("split").astype(str)
        keep = np.flatnonzero(rated & np.isin(split, ["train", "test"]))
        texts, labels = [pool.texts[i] for i in keep], pool.column("label_t2")[keep].astype(int)
        in_test = split[keep] == "test"
    elif task == "blitzer":
        pool = load_pool(args.data_dir / "amazon_blitzer" / "data.parquet", label_col="rating")
        rating = pool.column("rating").astype(int)
        keep = np.flatnonzero(rating != 3)
        texts, labels = [pool.texts[i] for i in keep], np.where(rating[keep] >= 4, 1, 0)
        in_test = np.random.default_rng(seed).random(len(keep)) < 0.3
    else:
        raise ValueError(task)
    return {"task": task, **sample_split(texts, np.asarray(labels), in_test, *size, seed)}


def error_rate(model, texts: list[str], labels: np.ndarray) -> float:
    return float(np.mean(model.predict(texts) != labels))


def run_svp_task(task: str, args: argparse.Namespace, seed: int) -> dict:
    """SVP active learning and core-set selection on one task; proxy vs target as selector."""
    from textsel.svp import rank_agreement, select_active, select_coreset, target_error, train_on_selection
    from textsel.svp_experiments import make_model

    config, started = args.config, time.perf_counter()
    data = load_svp_task(task, args, seed)
    texts, labels, test_texts, test_labels = data["texts"], data["labels"], data["test_texts"], data["test_labels"]

    def target():
        return make_model(config["target"], seed=seed, epochs=config["target_epochs"],
                          max_length=config["target_max_length"], device=args.device)

    loop = {"initial_size": config["svp_initial"], "round_sizes": config["svp_rounds"],
            "strategy": "least-confidence", "seed": seed}
    by_proxy = select_active(make_model("fasttext", seed=seed), texts, labels, **loop)
    by_target = select_active(target(), texts, labels, **loop)
    final = by_proxy.round_ends[-1]
    random_order = np.random.default_rng(seed + 1).permutation(len(texts))
    active = {name: train_on_selection(target(), texts, labels, order, [final], test_texts, test_labels)[final]
              for name, order in (("proxy_selected", by_proxy.order), ("target_selected", by_target.order),
                                  ("random", random_order))}
    proxy_core = select_coreset(make_model("fasttext", seed=seed), texts, labels, keep=0.5, strategy="entropy",
                                seed=seed)
    target_selector = target()
    target_core = select_coreset(target_selector, texts, labels, keep=0.5, strategy="entropy", seed=seed)
    # select_coreset trained the target selector on the whole pool: that model is the "all data" baseline
    error_all = error_rate(target_selector, test_texts, test_labels)
    kept = proxy_core.kept
    core_error = target_error(target(), [texts[i] for i in kept], labels[kept], test_texts, test_labels)
    result = {
        "task": task, "pool_size": len(texts), "test_size": len(test_texts), "seed": seed,
        "class_counts": {str(c): int(n) for c, n in zip(*np.unique(labels, return_counts=True), strict=True)},
        "active": {
            "final_size": final, "round_ends": by_proxy.round_ends,
            "proxy_selection_seconds": by_proxy.selection_seconds,
            "target_selection_seconds": by_target.selection_seconds,
            "speedup": by_target.selection_seconds / by_proxy.selection_seconds,
            "agreement_round1": rank_agreement(by_proxy.round_scores[0], by_target.round_scores[0],
                                               k=config["svp_rounds"][0]),
            "errors": {name: values["error"] for name, values in active.items()},
        },
        "coreset": {
            "kept": len(kept), "proxy_selection_seconds": proxy_core.selection_seconds,
            "target_selection_seconds": target_core.selection_seconds,
            "speedup": target_core.selection_seconds / proxy_core.selection_seconds,
            "errors": {"proxy_coreset": core_error["error"], "all": error_all},
        },
        "seconds": time.perf_counter() - started,
    }
    print(f"  SVP {task}: active speedup {result['active']['speedup']:.1f}x, errors "
          f"{result['active']['errors']}; core-set speedup {result['coreset']['speedup']:.1f}x, errors "
          f"{result['coreset']['errors']} [{result['seconds']:.0f} s]", file=sys.stderr, flush=True)
    return result


# --- (b) SEALS ----------------------------------------------------------------------------------------------

def run_seals(args: argparse.Namespace) -> tuple[list[dict], dict]:
    """SEALS vs All per rare category x strategy, means over seeds."""
    config = args.config
    corpus = load_parquet_corpus(args.data_dir / "amazon_multidomain", "domain",
                                 test=lambda c: np.asarray(c["split"]).astype(str) == "test")
    index, index_seconds = timed_index(corpus.pool_features, corpus.pool_ids, config["index"])
    rows = []
    for concept in config["seals_concepts"]:
        labels, test_labels = corpus.concept(lambda values, c=concept: values.astype(str) == c)
        for strategy in config["seals_strategies"]:
            started = time.perf_counter()
            figures = {"seals": [], "all": []}
            for repeat in range(config["seals_repeats"]):
                runs = seals_and_all(corpus, labels, test_labels, index, strategy=strategy,
                                     budget=config["seals_budget"], batch_size=config["seals_batch"], k=args.k,
                                     seed=args.seed + repeat)
                for name, records in runs.items():
                    figures[name].append(run_figures(records))
            row = {"concept": concept, "strategy": strategy, "pool_positives": int(labels.sum()),
                   "positive_rate": float(labels.mean())}
            for name, runs in figures.items():
                for key in runs[0]:
                    row[f"{name}_{key}"] = mean([run[key] for run in runs])
            row["ap_ratio"] = row["seals_average_precision"] / max(row["all_average_precision"], 1e-12)
            row["positives_ratio"] = row["seals_positives_found"] / max(row["all_positives_found"], 1e-12)
            rows.append(row)
            print(f"  SEALS {concept} {strategy}: AP {row['seals_average_precision']:.3f} vs "
                  f"{row['all_average_precision']:.3f}, pool {row['seals_pool_fraction']:.1%} "
                  f"[{time.perf_counter() - started:.0f} s]", file=sys.stderr, flush=True)
    return rows, {"pool_size": int(len(corpus.pool_ids)), "test_size": int(len(corpus.test_values)),
                  "index": config["index"], "index_seconds": index_seconds}


# --- report -------------------------------------------------------------------------------------------------

def claims_table(svp: list[dict], seals: list[dict]) -> str:
    """The papers' headline claims beside what this run measured."""
    rows = []
    for result in svp:
        active, core = result["active"], result["coreset"]
        gap_active = 100 * (active["errors"]["proxy_selected"] - active["errors"]["target_selected"])
        gap_core = 100 * (core["errors"]["proxy_coreset"] - core["errors"]["all"])
        rows += [
            [f"SVP active, {result['task']}", f"selection up to {CLAIMS['svp_speedup']}x faster",
             f"{active['speedup']:.1f}x ({active['proxy_selection_seconds']:.1f} s vs "
             f"{active['target_selection_seconds']:.1f} s)"],
            [f"SVP active, {result['task']}", "final error within ~0.1% of the target as selector",
             f"{gap_active:+.1f} points (proxy-selected {100 * active['errors']['proxy_selected']:.1f}%, "
             f"target-selected {100 * active['errors']['target_selected']:.1f}%, "
             f"random {100 * active['errors']['random']:.1f}%)"],
            [f"SVP core-set, {result['task']}", "selection faster, error close to training on all data",
             f"{core['speedup']:.1f}x; {gap_core:+.1f} points (core-set {100 * core['errors']['proxy_coreset']:.1f}%"
             f", all {100 * core['errors']['all']:.1f}%)"],
        ]
    if seals:
        fractions = [r["seals_pool_fraction"] for r in seals]
        rows += [
            ["SEALS, rare Amazon categories", "scans under 10% of the pool",
             f"mean {np.mean(fractions):.1%} per round (max over rows {np.max(fractions):.1%})"],
            ["SEALS, rare Amazon categories", "similar AP to the full scan",
             f"SEALS/All AP {np.mean([r['ap_ratio'] for r in seals]):.2f} mean, "
             f"{np.min([r['ap_ratio'] for r in seals]):.2f} min"],
            ["SEALS, rare Amazon categories", "similar positives found",
             f"SEALS/All {np.mean([r['positives_ratio'] for r in seals]):.2f} mean, "
             f"{np.min([r['positives_ratio'] for r in seals]):.2f} min"],
        ]
    return markdown_table(["setting", "paper's claim", "measured here"], rows)


def seals_table(rows: list[dict]) -> str:
    return markdown_table(
        ["category", "strategy", "pool positives", "SEALS AP", "All AP", "SEALS found", "All found",
         "pool scanned", "select ms/round SEALS", "All"],
        [[r["concept"], r["strategy"], f"{r['pool_positives']} ({r['positive_rate']:.2%})",
          fmt(r["seals_average_precision"]), fmt(r["all_average_precision"]), fmt(r["seals_positives_found"], ".0f"),
          fmt(r["all_positives_found"], ".0f"), fmt(r["seals_pool_fraction"], ".1%"),
          fmt(1e3 * r["seals_select_seconds_per_round"], ".0f"), fmt(1e3 * r["all_select_seconds_per_round"], ".0f")]
         for r in rows])


def svp_table(results: list[dict]) -> str:
    return markdown_table(
        ["task", "pool / test", "labels", "proxy s", "target s", "speedup", "err proxy-sel", "err target-sel",
         "err random", "core-set speedup", "err core-set 50%", "err all", "Spearman r1"],
        [[r["task"], f"{r['pool_size']} / {r['test_size']}", r["active"]["final_size"],
          fmt(r["active"]["proxy_selection_seconds"], ".1f"), fmt(r["active"]["target_selection_seconds"], ".1f"),
          fmt(r["active"]["speedup"], ".1f"), fmt(r["active"]["errors"]["proxy_selected"]),
          fmt(r["active"]["errors"]["target_selected"]), fmt(r["active"]["errors"]["random"]),
          fmt(r["coreset"]["speedup"], ".1f"), fmt(r["coreset"]["errors"]["proxy_coreset"]),
          fmt(r["coreset"]["errors"]["all"]), fmt(r["active"]["agreement_round1"]["spearman"], ".2f")]
         for r in results])


def draw(svp: list[dict], seals: list[dict]):
    """Selection speedups, final errors, and SEALS vs All AP, side by side."""
    figure, axes = new_figure(3, (16, 4.2))
    if svp:
        names = [r["task"] for r in svp]
        x = np.arange(len(svp))
        axes[0].bar(x - 0.2, [r["active"]["speedup"] for r in svp], 0.4, label="active learning")
        axes[0].bar(x + 0.2, [r["coreset"]["speedup"] for r in svp], 0.4, label="core-set")
        axes[0].axhline(CLAIMS["svp_speedup"], color="k", linestyle="--", linewidth=1, label="paper: up to 41.9x")
        axes[0].set(xticks=x, xticklabels=names, yscale="log", ylabel="selection speedup (target / proxy)",
                    title="SVP selection runtime")
        axes[0].legend(fontsize=8)
        for offset, key in ((-0.3, "proxy_selected"), (-0.1, "target_selected"), (0.1, "random")):
            axes[1].bar(x + offset, [100 * r["active"]["errors"][key] for r in svp], 0.2, label=key)
        axes[1].bar(x + 0.3, [100 * r["coreset"]["errors"]["all"] for r in svp], 0.2, label="all data")
        axes[1].set(xticks=x, xticklabels=names, ylabel="target test error (%)", title="SVP final error")
        axes[1].legend(fontsize=8)
    for axis in (list(axes[:2]) if not svp else []) + ([axes[2]] if not seals else []):
        axis.set_axis_off()
    if seals:
        labels = [f"{r['concept']}\n{r['strategy']}" for r in seals]
        y = np.arange(len(seals))
        axes[2].barh(y - 0.2, [r["seals_average_precision"] for r in seals], 0.4, label="SEALS AP")
        axes[2].barh(y + 0.2, [r["all_average_precision"] for r in seals], 0.4, label="All AP")
        axes[2].set(yticks=y, yticklabels=labels, xlabel="test average precision",
                    title=f"SEALS vs All (SEALS scans {np.mean([r['seals_pool_fraction'] for r in seals]):.1%}"
                          " of the pool)")
        axes[2].tick_params(axis="y", labelsize=7)
        axes[2].legend(fontsize=8)
    return figure


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    config, record = args.config, start_run(args)
    seals, seals_setup = run_seals(args) if not args.skip_seals else ([], {})
    svp = [run_svp_task(task, args, args.seed) for task in config["svp_tasks"]] if not args.skip_svp else []
    seeds = range(args.seed, args.seed + (1 if args.skip_seals else config["seals_repeats"]))  # SVP uses seed
    info = run_info(seeds, record, None if argv is None else [sys.argv[0], *argv])
    claims = claims_table(svp, seals)
    sections = [claims]
    if svp:
        sections.append(svp_table(svp))
    if seals:
        sections.append(seals_table(seals))
    print("\n\n".join(sections))
    markdown = "\n\n".join([
        f"# Amazon reviews: SVP and SEALS beside the papers' claims{' (quick)' if args.quick else ''}",
        f"Command: `{info['command']}`  \n{commit_note(record)}  \nSeeds: {info['seeds']}  \n"
        f"Runtime: {info['runtime_seconds']} s on {info['cpu_count']} CPU cores ({info['finished_utc']})",
        "## Claims", claims,
        *(["## SVP (least confidence; fastText proxy vs the target as selector)",
           f"Target {config['target']} ({config['target_epochs']} epochs, max length {config['target_max_length']} "
           f"characters/tokens, CPU); initial {config['svp_initial']} + rounds {config['svp_rounds']}; errors are "
           "fractions of the test set; core-set keeps 50% by fastText entropy.", svp_table(svp)] if svp else []),
        *(["## SEALS vs All on rare Amazon categories",
           f"Pool {seals_setup['pool_size']}, test {seals_setup['test_size']} (split=test); seed 5 + 95 labels, "
           f"batches of {config['seals_batch']} to {config['seals_budget']} labels, k={args.k}, "
           f"{seals_setup['index']} index ({seals_setup['index_seconds']:.0f} s to build); means over "
           f"{config['seals_repeats']} seeds.", seals_table(seals)] if seals else []),
    ])
    stem = args.name or "amazon_reviews" + ("_quick" if args.quick else "") + (f"_k{args.k}" if args.k != 100 else "")
    payload = {"recipe": "amazon_reviews", **info, "config": config, "claims": CLAIMS, "svp": svp,
               "seals": seals, "seals_setup": seals_setup}
    write_results(args.out, stem, markdown + "\n", payload, draw(svp, seals), record)
    return payload


if __name__ == "__main__":
    main()
