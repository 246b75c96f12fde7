"""SEALS vs scoring the whole pool ("-All") on rare Amazon product domains (Coleman et al., AAAI 2022, Table 2).

Pool: the non-test rows of ../shared/data/amazon_multidomain; test: split == "test". For each rare domain,
strategy (MaxEnt, MLP, ID) and candidate pool (SEALS k=100, All), seed 5 positives + 95 negatives, batches of
100 up to 2,000 labels, logistic regression on the precomputed all-MiniLM-L6-v2 embeddings, --repeats seeds
(SEALS and All interleaved seed by seed). The HNSW index is built once (cached with --cache-dir, with the seconds
the build took kept beside it, so ``index_build_seconds`` is the real build time even on a cache hit).

Timing policy (the same as benchmarks/seals_scale.py, also stated in the JSON as ``timing_policy``): inside each
per-round timer are the candidate pool, information density of documents seen for the first time, scoring and
ranking (training apart). Each side pays its own density: SEALS-ID incrementally inside its rounds, for each
newly seen candidate; ID-All needs every pool document's density before its first round, a one-time cost measured
once (``id_all_density_one_time_seconds``) and kept out of All's rounds. One-time costs (index build; All-ID's
density) are reported apart, with ``break_even_rounds`` per row: rounds after which SEALS's one-time + per-round
total is no more than All's (None: never).

The last line printed is one JSON object with its provenance: ap_ratio, positives_ratio (SEALS/All),
select_time_ratio (All/SEALS per round), each as mean, sd and 95% t-interval over every concept x strategy x seed
run (ratios paired by seed), pool_fraction_mean (SEALS), per_concept, and the exact configuration that ran.

    .venv/bin/python benchmarks/seals_vs_all.py                 # the full 7 x 3 x 2 x 3 = 126 runs
    .venv/bin/python benchmarks/seals_vs_all.py --quick         # 2 domains, 1 repeat, budget 600
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from _results import BuildRecord, add_run_options, break_even_rounds, mean_ci95, start_run

from textsel.candidates import AllCandidates, SEALSCandidates
from textsel.index import HNSWIndex, build_index
from textsel.learner import LogisticLearner
from textsel.rounds import NeighbourDensity
from textsel.simulate import HeldOut, run_simulation

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "amazon_multidomain"
CONCEPTS = ["tools_hardware", "musical_instruments", "office_products", "automotive", "cell_phones_service",
            "magazines", "baby"]
STRATEGIES = ["maxent", "mlp", "id"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--concepts", default=",".join(CONCEPTS))
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--repeats", type=int, default=5, help="Seeds 0..repeats-1.")
    parser.add_argument("--budget", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--cache-dir", type=Path, default=None, help="Keep the HNSW index here between runs.")
    parser.add_argument("--quick", action="store_true", help="2 concepts, 1 repeat, budget 600.")
    parser.add_argument("--out", type=Path, default=None, help="Also write the final JSON here.")
    args = add_run_options(parser).parse_args(argv)
    if args.quick:
        args.concepts, args.repeats, args.budget = "office_products,automotive", 1, 600
    return args


def load(folder: Path):
    table = pq.read_table(folder / "data.parquet", columns=["id", "domain", "split"])
    ids = table.column("id").to_numpy()
    domain = table.column("domain").to_numpy(zero_copy_only=False).astype(str)
    test = table.column("split").to_numpy(zero_copy_only=False).astype(str) == "test"
    vectors = np.load(folder / "minilm.f16.npy", mmap_mode="r")
    pool, heldout = np.flatnonzero(~test), np.flatnonzero(test)
    return (ids[pool], domain[pool], np.asarray(vectors[pool], dtype=np.float32), domain[heldout],
            np.asarray(vectors[heldout], dtype=np.float32))


def pool_index(features: np.ndarray, ids: np.ndarray, cache_dir: Path | None) -> tuple[HNSWIndex, float | None]:
    """The pool's HNSW index and the seconds its build took (read from its build record on a cache hit; None
    when a cached index has no record)."""
    path = cache_dir / f"amazon_pool_{len(ids)}.hnsw" if cache_dir else None
    if path is not None and path.exists():
        return HNSWIndex.load(path), BuildRecord(path).seconds()
    start = time.perf_counter()
    index = build_index(features, ids, backend="hnsw")
    seconds = time.perf_counter() - start
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        index.save(path)
        BuildRecord(path).save(seconds)
    return index, seconds


def mean_sd(values) -> dict:
    values = np.asarray([v for v in values if v is not None], dtype=np.float64)
    if not len(values):
        return {"mean": None, "sd": None}
    return {"mean": float(values.mean()), "sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0}


def run_summary(records_per_repeat: list[list[dict]]) -> dict:
    finals = [records[-1] for records in records_per_repeat]
    rounds = [[r for r in records if r["select_seconds"] is not None] for records in records_per_repeat]
    return {
        "per_seed": {"final_ap": [f["average_precision"] for f in finals],
                     "positives_found": [f["positives_found"] for f in finals],
                     "select_seconds_per_round": [float(np.mean([r["select_seconds"] for r in rs])) for rs in rounds]},
        "final_ap": mean_sd([f["average_precision"] for f in finals]),
        "positives_found": mean_sd([f["positives_found"] for f in finals]),
        "recall": mean_sd([f["recall"] for f in finals]),
        "pool_fraction": mean_sd([np.mean([r["pool_fraction"] for r in rs]) for rs in rounds]),
        "select_seconds_per_round": mean_sd([np.mean([r["select_seconds"] for r in rs]) for rs in rounds]),
        "train_seconds_per_round": mean_sd([np.mean([r["train_seconds"] for r in rs]) for rs in rounds]),
        "labels_to_10_positives": mean_sd([f["labels_to_10_positives"] for f in finals]),
    }


TIMING_POLICY = ("per-round seconds = candidate pool + density of newly seen documents + scoring + ranking; SEALS "
                 "pays its own density incrementally inside its rounds; All-ID's whole-pool density is a one-time "
                 "cost (id_all_density_one_time_seconds) kept out of All's rounds; index build is a one-time cost of "
                 "SEALS (and of All-ID) reported apart; break_even_rounds = rounds until SEALS's one-time + "
                 "per-round total is no more than All's")


def paired_ratios(seals: dict, everything: dict, key: str, all_over_seals: bool = False) -> list[float]:
    """Per-seed ratio SEALS/All (or All/SEALS) of one per-seed figure."""
    pairs = zip(seals["per_seed"][key], everything["per_seed"][key], strict=True)
    return [(a / s if all_over_seals else s / max(a, 1e-12)) for s, a in pairs if s is not None and a is not None]


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    run = start_run(args)
    started = run.started
    concepts, strategies = args.concepts.split(","), args.strategies.split(",")
    pool_ids, domain, features, test_domain, test_features = load(args.data)
    index, build_seconds = pool_index(features, pool_ids, args.cache_dir)
    print(f"pool {len(pool_ids)}, test {len(test_domain)}, index build {build_seconds} s", file=sys.stderr)
    density_all = NeighbourDensity(index)
    density_start = time.perf_counter()
    if "id" in strategies:
        density_all.lookup(np.arange(len(pool_ids)), pool_ids, features)
    density_all_seconds = time.perf_counter() - density_start if "id" in strategies else None
    per_concept = []
    for concept in concepts:
        labels = (domain == concept).astype(int)
        heldout = HeldOut((test_domain == concept).astype(int), test_features)
        for strategy in strategies:
            row = {"concept": concept, "strategy": strategy, "pool_positives": int(labels.sum())}
            runs = {"seals": [], "all": []}
            for repeat in range(args.repeats):
                for pool_name in ("seals", "all"):  # interleaved, seed by seed
                    candidate_pool = SEALSCandidates(index, k=args.k) if pool_name == "seals" else AllCandidates()
                    density = density_all if pool_name == "all" else NeighbourDensity(index)
                    runs[pool_name].append(run_simulation(
                        pool_ids, labels, features=features, heldout=heldout, strategy=strategy,
                        candidate_pool=candidate_pool, learner=LogisticLearner(), batch_size=args.batch,
                        budget=args.budget, seed=repeat, index=index, density=density))
            row["seals"], row["all"] = seals, everything = run_summary(runs["seals"]), run_summary(runs["all"])
            row["ap_ratio"] = mean_ci95(paired_ratios(seals, everything, "final_ap"))
            row["positives_ratio"] = mean_ci95(paired_ratios(seals, everything, "positives_found"))
            row["select_time_ratio"] = mean_ci95(paired_ratios(seals, everything, "select_seconds_per_round", True))
            all_one_time = 0.0 if strategy != "id" else (None if build_seconds is None
                                                         else build_seconds + density_all_seconds)
            row["break_even_rounds"] = break_even_rounds(build_seconds, all_one_time,
                                                         seals["select_seconds_per_round"]["mean"],
                                                         everything["select_seconds_per_round"]["mean"])
            per_concept.append(row)
            print(f"{concept:>20} {strategy:>6}: AP {seals['final_ap']['mean']:.3f} vs "
                  f"{everything['final_ap']['mean']:.3f}, positives {seals['positives_found']['mean']:.0f} vs "
                  f"{everything['positives_found']['mean']:.0f}, pool {seals['pool_fraction']['mean']:.1%}, "
                  f"select {seals['select_seconds_per_round']['mean'] * 1e3:.1f} vs "
                  f"{everything['select_seconds_per_round']['mean'] * 1e3:.1f} ms/round "
                  f"[{time.perf_counter() - started:.0f} s]", file=sys.stderr, flush=True)
    everything_runs = {key: [value for row in per_concept
                             for value in paired_ratios(row["seals"], row["all"], figure, key == "select_time_ratio")]
                       for key, figure in (("ap_ratio", "final_ap"), ("positives_ratio", "positives_found"),
                                           ("select_time_ratio", "select_seconds_per_round"))}
    result = {
        "benchmark": "seals_vs_all", "timing_policy": TIMING_POLICY, "data": str(args.data),
        "pool_size": int(len(pool_ids)), "concepts": concepts, "strategies": strategies, "repeats": args.repeats,
        "budget": args.budget, "batch": args.batch, "k": args.k, "seed_labels": [5, 95],
        "index_build_seconds": build_seconds, "id_all_density_one_time_seconds": density_all_seconds,
        **{key: mean_ci95(values) for key, values in everything_runs.items()},
        "ap_ratio_min": float(np.min([r["ap_ratio"]["mean"] for r in per_concept])),
        "positives_ratio_min": float(np.min([r["positives_ratio"]["mean"] for r in per_concept])),
        "pool_fraction_mean": float(np.mean([r["seals"]["pool_fraction"]["mean"] for r in per_concept])),
        "per_concept": per_concept,
    }
    return run.finish(result, seeds=list(range(args.repeats)), out=args.out)


if __name__ == "__main__":
    main()
