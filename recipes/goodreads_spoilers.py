"""Recipe: SEALS plus the embedding-task mismatch diagnostic on spoiler detection (Goodreads; here TV Tropes).

Spoilers are a concept Sentence-BERT does not capture: it groups sentences by topic (which show, which book), and
a spoiler can be about anything, so the k-nearest-neighbour candidate pool of SEALS misses positives. This recipe
measures that, next to an Amazon product category the embedding does capture:

1. For each concept, a SEALS session (kNN candidate pool, k=100) and its full-scan twin ("All") with the same
   strategy (most-likely positive), the same seed labels (5 positives + 95 negatives) and the same budget:
   recall (share of the pool's positives found) and test AP at equal labels.
2. ``textsel.diagnose.diagnose`` on the labels the SEALS session collected plus an audit sample (a seeded uniform
   sample of --audit texts, as ``textsel audit`` draws; the diagnostic measures its positives, a fair sample of
   the concept, rather than the ones SEALS found near other positives), the same for the All session, and on a
   seeded random sample of labels alone (the calibration setting).
3. A plain table and one verdict line per concept.

Data: with ``--goodreads goodreads_reviews_spoiler.json.gz`` (Wan et al., ACL 2019) the spoiler concept is the
Goodreads sentence-level label (about 3% spoilers); a seeded random sample of ``--goodreads-sample`` sentences is
embedded with all-MiniLM-L6-v2 (cached under ``--cache-dir``), 20% held out, and the results are written as
``goodreads_spoilers*``. Without it, the real TV Tropes
spoiler sentences in ../shared/data/tv_spoilers stand in, positives subsampled (seeded) to 3%, train split as
pool and dev split as test, and the results are named ``tv_spoilers*``; the Amazon concepts use
../shared/data/amazon_multidomain (test = split "test").

    .venv/bin/python recipes/goodreads_spoilers.py --quick          # smoke run, about a minute
    .venv/bin/python recipes/goodreads_spoilers.py                  # full run, writes recipes/results/tv_spoilers.*
    .venv/bin/python recipes/goodreads_spoilers.py --goodreads ~/data/goodreads_reviews_spoiler.json.gz
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

from _common import (  # noqa: E402
    RESULTS,
    SHARED_DATA,
    Corpus,
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
    subsample_positives,
    timed_index,
    write_results,
)

from textsel.diagnose import KNN_SHARE_ABOVE_CHANCE_THRESHOLD as KNN_THRESHOLD  # noqa: E402
from textsel.diagnose import PROBE_AUC_ABOVE_CHANCE_THRESHOLD as PROBE_THRESHOLD  # noqa: E402
from textsel.diagnose import diagnose  # noqa: E402
from textsel.errors import DataError  # noqa: E402

FULL = {"amazon": ["baby", "magazines"], "repeats": 3, "budget": 1000, "batch": 50, "random_labels": 1500,
        "index": "hnsw"}
QUICK = {"amazon": ["baby"], "repeats": 1, "budget": 400, "batch": 50, "random_labels": 1000, "index": "exact"}
SPOILER_RATE = 0.03


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 repeat, 400 labels, exact index, one Amazon concept")
    parser.add_argument("--goodreads", type=Path, help="goodreads_reviews_spoiler.json(.gz); default: TV Tropes")
    parser.add_argument("--goodreads-sample", type=int, default=200_000,
                        help="sentences sampled from the Goodreads corpus (all are embedded: ~17M is too many)")
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "textsel",
                        help="embedding cache for the Goodreads sentences")
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--seed", type=int, default=0, help="first seed; repeat r uses seed + r")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--budget", type=int)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--audit", type=int, default=300,
                        help="uniform audit sample added to each session's labels before the diagnostic (as "
                             "`textsel audit` draws; about 9 spoilers at 3%%)")
    parser.add_argument("--strategy", default="mlp")
    parser.add_argument("--amazon", help="comma-separated amazon_multidomain categories to compare with ('' for none)")
    args = add_run_options(parser).parse_args(argv)
    config = dict(QUICK if args.quick else FULL)
    if args.amazon is not None:
        config["amazon"] = [name for name in args.amazon.split(",") if name]
    for name in ("repeats", "budget"):
        if getattr(args, name) is not None:
            config[name] = getattr(args, name)
    args.config = config
    return args


# --- the corpora --------------------------------------------------------------------------------------------

def tv_spoilers(folder: Path, seed: int) -> Corpus:
    """TV Tropes spoiler sentences with positives subsampled to 3% (train -> pool, dev -> test)."""
    def keep(columns: dict) -> np.ndarray:
        spoiler, split = np.asarray(columns["label"]) == 1, np.asarray(columns["split"]).astype(str)
        mask = np.zeros(len(spoiler), dtype=bool)
        for part in ("train", "dev"):  # subsample each split on its own so both hold 3%
            rows = np.flatnonzero(split == part)
            mask[rows] = subsample_positives(spoiler[rows], SPOILER_RATE, seed)
        return mask

    return load_parquet_corpus(folder, "label", rows=keep, test=lambda c: np.asarray(c["split"]).astype(str) == "dev",
                               name="TV Tropes spoilers@3%")


def goodreads(path: Path, sample: int, cache_dir: Path, seed: int) -> Corpus:
    """A seeded sample of Goodreads spoiler sentences, embedded once (cached), 20% held out."""
    from textsel.data import load_goodreads_spoilers, split_test
    from textsel.embed import embed_pool

    pool = load_goodreads_spoilers(path, level="sentence")
    rng = np.random.default_rng(seed)
    if len(pool) > sample:
        pool = pool.subset(np.sort(rng.choice(len(pool), sample, replace=False)))
    vectors = embed_pool(pool, cache_dir=cache_dir, show_progress=True)
    test, _ = split_test(pool.columns, len(pool), 0.2, seed)
    labels = np.asarray(pool.column("label"))
    return Corpus("goodreads", pool.ids[~test], [t for t, held in zip(pool.texts, test, strict=True) if not held],
                  vectors[~test], labels[~test], vectors[test], labels[test])


def amazon(folder: Path) -> Corpus:
    return load_parquet_corpus(folder, "domain", test=lambda c: np.asarray(c["split"]).astype(str) == "test",
                               name="amazon_multidomain")


# --- one concept --------------------------------------------------------------------------------------------

def safe_diagnosis(index, ids: np.ndarray, is_positive: np.ndarray, seed: int,  # noqa: ANN001 - a VectorIndex
                   random_ids: np.ndarray | None = None) -> dict:
    """The diagnostic's figures, or the reason it could not run (too few positives among the labels)."""
    try:
        result = diagnose(index, ids, is_positive, random_ids=random_ids, seed=seed)
    except DataError as error:
        return {"error": str(error), "n_labeled": int(len(ids)), "n_positive": int(np.sum(is_positive))}
    return result.to_dict()


def run_concept(name: str, corpus: Corpus, labels: np.ndarray, test_labels: np.ndarray, index, config: dict,
                args: argparse.Namespace) -> dict:
    """SEALS vs All and three diagnostics (SEALS labels, All labels, a random sample) for each repeat."""
    position = {int(i): p for p, i in enumerate(corpus.pool_ids)}
    repeats = []
    for repeat in range(config["repeats"]):
        seed = args.seed + repeat
        started = time.perf_counter()
        runs = seals_and_all(corpus, labels, test_labels, index, strategy=args.strategy, budget=config["budget"],
                             batch_size=config["batch"], k=args.k, seed=seed)
        row = {"seed": seed}
        audit = np.random.default_rng([seed, 1]).choice(len(labels), min(args.audit, len(labels)), replace=False)
        for pool_name, records in runs.items():
            session = np.asarray(records[-1]["labeled_ids"], dtype=np.int64)
            ids = np.union1d(session, corpus.pool_ids[audit])  # the session's labels and an audit sample
            at = np.asarray([position[i] for i in ids.tolist()])
            row[pool_name] = run_figures(records)
            row[pool_name]["diagnosis"] = safe_diagnosis(index, ids, labels[at] == 1, seed,
                                                         random_ids=corpus.pool_ids[audit])
        sample = np.random.default_rng(seed).choice(len(labels), min(config["random_labels"], len(labels)),
                                                    replace=False)
        row["random_sample"] = safe_diagnosis(index, corpus.pool_ids[sample], labels[sample] == 1, seed)
        repeats.append(row)
        print(f"  {name} seed {seed}: SEALS recall {row['seals']['recall']:.3f} vs All {row['all']['recall']:.3f} "
              f"[{time.perf_counter() - started:.0f} s]", file=sys.stderr, flush=True)
    return {"concept": name, "pool_size": int(len(labels)), "pool_positives": int(labels.sum()),
            "positive_rate": float(labels.mean()), "test_size": int(len(test_labels)),
            "test_positives": int(test_labels.sum()), "repeats": repeats, **summarize(repeats)}


def summarize(repeats: list[dict]) -> dict:
    """Means over repeats, and whether the diagnostic fired on each kind of labeled set (counts of repeats)."""
    out = {}
    for pool_name in ("seals", "all"):
        for figure in ("recall", "average_precision", "pool_fraction", "positives_found"):
            out[f"{pool_name}_{figure}"] = mean([r[pool_name][figure] for r in repeats])
    for source, get in (("seals_labels", lambda r: r["seals"]["diagnosis"]),
                        ("all_labels", lambda r: r["all"]["diagnosis"]),
                        ("random_labels", lambda r: r["random_sample"])):
        diagnoses = [get(r) for r in repeats]
        ran = [d for d in diagnoses if "error" not in d]
        out[f"{source}_fired"] = sum(bool(d["mismatch"]) for d in ran)
        out[f"{source}_ran"] = len(ran)
        for figure in ("knn_share", "knn_chance", "knn_share_above_chance", "probe_auc", "probe_auc_above_chance",
                       "n_positive"):
            out[f"{source}_{figure}"] = mean([d[figure] for d in ran])
        out[f"{source}_positive_rate"] = mean([d["n_positive"] / d["n_labeled"] for d in ran])
    out["recall_ratio"] = out["seals_recall"] / max(out["all_recall"], 1e-12)
    return out


def verdict(row: dict, spoiler: bool) -> str:
    """One line: did the diagnostic fire on the SEALS labels, and did SEALS lose recall against All?"""
    fired, ran = row["seals_labels_fired"], row["seals_labels_ran"]
    if ran == 0:
        said = "diagnostic could not run on the SEALS labels (fewer than 10 positives found)"
    else:
        said = (f"diagnostic {'FIRES' if fired else 'silent'} on SEALS labels in {fired}/{ran} runs (labeled "
                f"positive rate {fmt(row['seals_labels_positive_rate'], '.2f')}, kNN share above chance "
                f"{fmt(row['seals_labels_knn_share_above_chance'], '.2f')})")
    recall = (f"SEALS recall {fmt(row['seals_recall'])} vs All {fmt(row['all_recall'])} "
              f"(ratio {fmt(row['recall_ratio'], '.2f')})")
    expected = fired > ran / 2 if spoiler else fired == 0
    outcome = ("as expected" if expected else "NOT as expected") + (
        f" (on {row['random_labels_ran']} random label sets it fired {row['random_labels_fired']} times)")
    return f"{row['concept']}: {said}; {recall}; {outcome}"


# --- report -------------------------------------------------------------------------------------------------

def tables(rows: list[dict]) -> tuple[str, str]:
    seals_all = markdown_table(
        ["concept", "pool", "positives (rate)", "SEALS recall", "All recall", "SEALS/All", "SEALS AP", "All AP",
         "SEALS pool scanned"],
        [[r["concept"], r["pool_size"], f"{r['pool_positives']} ({r['positive_rate']:.1%})", fmt(r["seals_recall"]),
          fmt(r["all_recall"]), fmt(r["recall_ratio"], ".2f"), fmt(r["seals_average_precision"]),
          fmt(r["all_average_precision"]), fmt(r["seals_pool_fraction"], ".1%")] for r in rows])
    diagnostics = []
    for r in rows:
        for source in ("seals_labels", "all_labels", "random_labels"):
            diagnostics.append([r["concept"], source.replace("_", " "), fmt(r[f"{source}_n_positive"], ".0f"),
                                fmt(r[f"{source}_positive_rate"]), fmt(r[f"{source}_knn_share"], ".2f"),
                                fmt(r[f"{source}_knn_share_above_chance"], ".2f"),
                                fmt(r[f"{source}_probe_auc"], ".2f"),
                                fmt(r[f"{source}_probe_auc_above_chance"], ".2f"),
                                f"{r[f'{source}_fired']}/{r[f'{source}_ran']}"])
    diagnostic_table = markdown_table(
        ["concept", "labels from", "positives", "labeled positive rate", "kNN share",
         f"kNN share above chance (<{KNN_THRESHOLD})", "probe AUC",
         f"probe AUC above chance (<{PROBE_THRESHOLD})", "fired"], diagnostics)
    return seals_all, diagnostic_table


def draw(rows: list[dict]):
    """Recall of SEALS vs All, and the kNN share above chance on each kind of labeled set."""
    figure, (recall, lift) = new_figure(2, (11, 4))
    names, x = [r["concept"] for r in rows], np.arange(len(rows))
    recall.bar(x - 0.2, [r["seals_recall"] for r in rows], 0.4, label="SEALS (kNN pool)")
    recall.bar(x + 0.2, [r["all_recall"] for r in rows], 0.4, label="All (full scan)")
    recall.set(xticks=x, xticklabels=names, ylabel="recall of pool positives at equal labels",
               title="SEALS vs full scan")
    recall.legend()
    for offset, source in ((-0.27, "seals_labels"), (0.0, "all_labels"), (0.27, "random_labels")):
        lift.bar(x + offset, [r[f"{source}_knn_share_above_chance"] or 0 for r in rows], 0.27,
                 label=source.replace("_", " "))
    lift.axhline(KNN_THRESHOLD, color="k", linestyle="--", linewidth=1, label=f"mismatch below {KNN_THRESHOLD}")
    lift.set(xticks=x, xticklabels=names, ylabel="kNN share above chance", title="diagnostic: kNN share above chance")
    lift.legend(fontsize=8)
    return figure


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    config, record = args.config, start_run(args)
    if args.goodreads is not None:
        spoiler_corpus = goodreads(args.goodreads, args.goodreads_sample, args.cache_dir, args.seed)
    else:
        spoiler_corpus = tv_spoilers(args.data_dir / "tv_spoilers", args.seed)
    concepts = [(spoiler_corpus.name, spoiler_corpus, lambda v: v == 1, True)]
    amazon_corpus = amazon(args.data_dir / "amazon_multidomain") if config["amazon"] else None
    concepts += [(f"amazon {name}", amazon_corpus, lambda v, n=name: v.astype(str) == n, False)
                 for name in config["amazon"]]
    rows, indexes, index_seconds = [], {}, {}
    for name, corpus, positive, _ in concepts:
        if corpus.name not in indexes:
            indexes[corpus.name], index_seconds[corpus.name] = timed_index(corpus.pool_features, corpus.pool_ids,
                                                                           config["index"])
        labels, test_labels = corpus.concept(positive)
        rows.append(run_concept(name, corpus, labels, test_labels, indexes[corpus.name], config, args))
    verdicts = [verdict(row, spoiler) for row, (*_, spoiler) in zip(rows, concepts, strict=True)]
    info = run_info(range(args.seed, args.seed + config["repeats"]), record, None if argv is None else
                    [sys.argv[0], *argv])
    seals_all, diagnostic_table = tables(rows)
    text = "\n\n".join([seals_all, diagnostic_table, "\n".join(verdicts)])
    print(text)
    # Results are named by the data they came from: TV Tropes unless a Goodreads file was given.
    source = "goodreads_spoilers" if args.goodreads is not None else "tv_spoilers"
    stem = source + ("_quick" if args.quick else "") + (f"_k{args.k}" if args.k != 100 else "")
    data_title = "Goodreads spoilers" if args.goodreads is not None else \
        "TV Tropes spoilers (standing in for Goodreads, which is not available here)"
    markdown = "\n\n".join([
        f"# {data_title} vs Amazon categories: SEALS, All and the mismatch diagnostic"
        f"{' (quick)' if args.quick else ''}",
        f"Command: `{info['command']}`  \n{commit_note(record)}  \n"
        f"Seeds: {info['seeds']} (seed labels 5 positives + 95 negatives, "
        f"strategy {args.strategy}, k={args.k}, batch {config['batch']}, budget {config['budget']} labels, "
        f"{config['index']} index; each session's labels diagnosed with a uniform audit sample of {args.audit}; "
        f"random label sets of {config['random_labels']})  \n"
        f"Runtime: {info['runtime_seconds']} s on {info['cpu_count']} CPU cores ({info['finished_utc']})",
        "## SEALS vs All at equal budget", seals_all,
        "## The diagnostic on three kinds of labeled sets (means over seeds)", diagnostic_table,
        "## Verdicts", "\n".join(f"- {line}" for line in verdicts)])
    payload = {"recipe": "goodreads_spoilers", "data": source, **info, "config": config, "strategy": args.strategy,
               "k": args.k, "index_seconds": index_seconds, "per_concept": rows, "verdicts": verdicts}
    write_results(args.out, stem, markdown + "\n", payload, draw(rows), record)
    return payload


if __name__ == "__main__":
    main()
