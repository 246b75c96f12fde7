"""SEALS vs scoring the whole pool ("-All") on rare Amazon product domains (Coleman et al., AAAI 2022, Table 2).

Pool: the non-test rows of ../shared/data/amazon_multidomain; test: split == "test". For each rare domain,
strategy (MaxEnt, MLP, ID) and candidate pool (SEALS k=100, All), seed 5 positives + 95 negatives, batches of
100 up to 2,000 labels, logistic regression on the precomputed all-MiniLM-L6-v2 embeddings. The HNSW index
is built once (cached with --cache-dir). ID-All's density of every pool document is a one-time cost,
computed up front and reported separately; SEALS-ID pays density for each newly seen candidate inside its rounds.

The last line printed is one JSON object: ap_ratio_mean, positives_ratio_mean (SEALS/All), pool_fraction_mean
(SEALS), select_time_ratio_mean (All/SEALS per round), per_concept, and the exact configuration that ran.

    .venv/bin/python benchmarks/seals_vs_all.py                 # the full 7 x 3 x 2 x 3 = 126 runs
    .venv/bin/python benchmarks/seals_vs_all.py --quick         # 2 domains, 1 repeat, budget 600
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

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
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--cache-dir", type=Path, default=None, help="Keep the HNSW index here between runs.")
    parser.add_argument("--quick", action="store_true", help="2 concepts, 1 repeat, budget 600.")
    parser.add_argument("--out", type=Path, default=None, help="Also write the final JSON here.")
    args = parser.parse_args(argv)
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


def pool_index(features: np.ndarray, ids: np.ndarray, cache_dir: Path | None):
    path = cache_dir / f"amazon_pool_{len(ids)}.hnsw" if cache_dir else None
    if path is not None and path.exists():
        return HNSWIndex.load(path), 0.0
    start = time.perf_counter()
    index = build_index(features, ids, backend="hnsw")
    seconds = time.perf_counter() - start
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        index.save(path)
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
        "final_ap": mean_sd([f["average_precision"] for f in finals]),
        "positives_found": mean_sd([f["positives_found"] for f in finals]),
        "recall": mean_sd([f["recall"] for f in finals]),
        "pool_fraction": mean_sd([np.mean([r["pool_fraction"] for r in rs]) for rs in rounds]),
        "select_seconds_per_round": mean_sd([np.mean([r["select_seconds"] for r in rs]) for rs in rounds]),
        "train_seconds_per_round": mean_sd([np.mean([r["train_seconds"] for r in rs]) for rs in rounds]),
        "labels_to_10_positives": mean_sd([f["labels_to_10_positives"] for f in finals]),
    }


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    concepts, strategies = args.concepts.split(","), args.strategies.split(",")
    pool_ids, domain, features, test_domain, test_features = load(args.data)
    index, build_seconds = pool_index(features, pool_ids, args.cache_dir)
    print(f"pool {len(pool_ids)}, test {len(test_domain)}, index built in {build_seconds:.1f} s", file=sys.stderr)
    density_all = NeighbourDensity(index)
    density_start = time.perf_counter()
    if "id" in strategies:
        density_all.lookup(np.arange(len(pool_ids)), pool_ids, features)
    density_all_seconds = time.perf_counter() - density_start
    per_concept, started = [], time.perf_counter()
    for concept in concepts:
        labels = (domain == concept).astype(int)
        heldout = HeldOut((test_domain == concept).astype(int), test_features)
        for strategy in strategies:
            row = {"concept": concept, "strategy": strategy, "pool_positives": int(labels.sum())}
            for pool_name in ("seals", "all"):
                runs = []
                for repeat in range(args.repeats):
                    candidate_pool = SEALSCandidates(index, k=args.k) if pool_name == "seals" else AllCandidates()
                    density = density_all if pool_name == "all" else NeighbourDensity(index)
                    runs.append(run_simulation(
                        pool_ids, labels, features=features, heldout=heldout, strategy=strategy,
                        candidate_pool=candidate_pool, learner=LogisticLearner(), batch_size=args.batch,
                        budget=args.budget, seed=repeat, index=index, density=density))
                row[pool_name] = run_summary(runs)
            seals, everything = row["seals"], row["all"]
            row["ap_ratio"] = seals["final_ap"]["mean"] / max(everything["final_ap"]["mean"], 1e-12)
            row["positives_ratio"] = (seals["positives_found"]["mean"]
                                      / max(everything["positives_found"]["mean"], 1e-12))
            row["select_time_ratio"] = (everything["select_seconds_per_round"]["mean"]
                                        / seals["select_seconds_per_round"]["mean"])
            per_concept.append(row)
            print(f"{concept:>20} {strategy:>6}: AP {seals['final_ap']['mean']:.3f} vs "
                  f"{everything['final_ap']['mean']:.3f}, positives {seals['positives_found']['mean']:.0f} vs "
                  f"{everything['positives_found']['mean']:.0f}, pool {seals['pool_fraction']['mean']:.1%}, "
                  f"select {seals['select_seconds_per_round']['mean'] * 1e3:.1f} vs "
                  f"{everything['select_seconds_per_round']['mean'] * 1e3:.1f} ms/round "
                  f"[{time.perf_counter() - started:.0f} s]", file=sys.stderr, flush=True)
    result = {
        "benchmark": "seals_vs_all", "data": str(args.data), "pool_size": int(len(pool_ids)),
        "concepts": concepts, "strategies": strategies, "repeats": args.repeats, "budget": args.budget,
        "batch": args.batch, "k": args.k, "seed": [5, 95],
        "index_build_seconds": build_seconds, "id_all_density_one_time_seconds": density_all_seconds,
        "ap_ratio_mean": float(np.mean([r["ap_ratio"] for r in per_concept])),
        "ap_ratio_min": float(np.min([r["ap_ratio"] for r in per_concept])),
        "positives_ratio_mean": float(np.mean([r["positives_ratio"] for r in per_concept])),
        "positives_ratio_min": float(np.min([r["positives_ratio"] for r in per_concept])),
        "pool_fraction_mean": float(np.mean([r["seals"]["pool_fraction"]["mean"] for r in per_concept])),
        "select_time_ratio_mean": float(np.mean([r["select_time_ratio"] for r in per_concept])),
        "wall_seconds": time.perf_counter() - started,
        "per_concept": per_concept,
    }
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
