"""How SEALS selection cost scales with pool size, against scoring the whole pool ("-All").

Synthetic pools of clustered unit vectors (384-d, like all-MiniLM-L6-v2): background documents fall in 1,000
loose clusters, the rare concept (0.5% by default) in 5 tight ones. For each size the vectors and the HNSW
index are built once and cached under --cache-dir. Each size then runs the same labeling session (seed
5 positives + 95 negatives, --rounds rounds of 100) with MaxEnt and ID, on the SEALS pool (k=100) and on
All, and reports the mean per-round selection seconds (candidate pool + scoring + ranking; training is
reported apart). ID needs each document's density (mean similarity to its 10 nearest neighbours through the
index): it is computed once for the whole pool, like the index itself, reported as
``id_all_density_one_time_s`` and kept out of the per-round times of both ID-All and SEALS-ID.
``seals_round_s_id_incremental`` is SEALS-ID without that precomputation, paying density inside its rounds
for each candidate it sees for the first time (O(candidate pool) index queries over a session, never O(N)).

Needs only numpy, hnswlib, scikit-learn and textsel. The last line printed is one JSON object (also written
to --out): sizes, seals_round_s, all_round_s_maxent, all_round_s_id, ... aligned with sizes.

    .venv/bin/python benchmarks/seals_scale.py --sizes 100000 --cache-dir /tmp/seals_scale
    .venv/bin/python benchmarks/seals_scale.py --sizes 100000,1000000,5000000 --cache-dir /data/seals_scale \
        --out seals_scale.json                                  # 16 cores, ~64 GB of memory for 5M
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from textsel._atomic import atomic_path
from textsel.candidates import AllCandidates, SEALSCandidates
from textsel.index import HNSWIndex, build_index
from textsel.learner import LogisticLearner
from textsel.rounds import NeighbourDensity
from textsel.simulate import run_simulation

DIM = 384
BACKGROUND_CLUSTERS = 1000
RARE_CLUSTERS = 5
_GENERATE_CHUNK = 100_000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000", help="Comma-separated pool sizes, e.g. 100000,1000000,5000000")
    parser.add_argument("--cache-dir", type=Path, required=True, help="Vectors and HNSW indexes are kept here.")
    parser.add_argument("--rare-fraction", type=float, default=0.005)
    parser.add_argument("--rounds", type=int, default=5, help="Selection rounds per run (100 labels each).")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--strategies", default="maxent,id")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="Also write the final JSON here.")
    return parser.parse_args(argv)


def centers(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([seed, 0])
    both = rng.normal(size=(BACKGROUND_CLUSTERS + RARE_CLUSTERS, DIM)).astype(np.float32)
    both /= np.linalg.norm(both, axis=1, keepdims=True)
    return both[:BACKGROUND_CLUSTERS], both[BACKGROUND_CLUSTERS:]


def generate(n: int, rare_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n unit vectors and 0/1 labels; chunk i always gets the same rows, so any size is reproducible."""
    background, rare = centers(seed)
    vectors = np.empty((n, DIM), dtype=np.float32)
    labels = np.empty(n, dtype=np.int64)
    for chunk, start in enumerate(range(0, n, _GENERATE_CHUNK)):
        rng = np.random.default_rng([seed, 1, chunk])
        size = min(_GENERATE_CHUNK, n - start)
        is_rare = rng.random(size) < rare_fraction
        # Rare points sit close to their center (cos ~0.8), background ones loosely (cos ~0.45).
        spread = np.where(is_rare, 0.75, 2.0).astype(np.float32)[:, None]
        base = np.where(is_rare[:, None], rare[rng.integers(0, RARE_CLUSTERS, size)],
                        background[rng.integers(0, BACKGROUND_CLUSTERS, size)])
        noise = rng.normal(size=(size, DIM)).astype(np.float32) * (spread / np.sqrt(DIM))
        block = base + noise
        vectors[start:start + size] = block / np.linalg.norm(block, axis=1, keepdims=True)
        labels[start:start + size] = is_rare
    return vectors, labels


def cached_pool(n: int, args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, HNSWIndex, dict]:
    """Vectors, labels and HNSW index for size n: loaded from the cache, or built once and saved there."""
    stem = args.cache_dir / f"clustered_{n}_rare{args.rare_fraction:g}_seed{args.seed}"
    vectors_path, labels_path, index_path = (stem.with_name(stem.name + ".vectors.npy"),
                                             stem.with_name(stem.name + ".labels.npy"),
                                             stem.with_name(stem.name + ".hnsw"))
    costs = {"generate_s": 0.0, "index_build_s": 0.0}
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    if vectors_path.exists() and labels_path.exists():
        vectors, labels = np.load(vectors_path, mmap_mode="r"), np.load(labels_path)
    else:
        start = time.perf_counter()
        vectors, labels = generate(n, args.rare_fraction, args.seed)
        costs["generate_s"] = time.perf_counter() - start
        for path, array in ((labels_path, labels), (vectors_path, vectors)):  # complete or absent, never half
            with atomic_path(path) as tmp:
                np.save(tmp, array)
    if index_path.exists():
        index = HNSWIndex.load(index_path)
    else:
        start = time.perf_counter()
        index = build_index(vectors, np.arange(n, dtype=np.int64), backend="hnsw", show_progress=True)
        costs["index_build_s"] = time.perf_counter() - start
        index.save(index_path)
    return vectors, labels, index, costs


def session(ids, vectors, labels, index, strategy: str, pool: str, args, density: NeighbourDensity | None):
    candidate_pool = SEALSCandidates(index, k=args.k) if pool == "seals" else AllCandidates()
    records = run_simulation(ids, labels, features=vectors, strategy=strategy, candidate_pool=candidate_pool,
                             learner=LogisticLearner(), batch_size=args.batch,
                             budget=100 + args.rounds * args.batch, seed=args.seed, index=index,
                             density=density if density is not None else NeighbourDensity(index))
    rounds = [r for r in records if r["select_seconds"] is not None]
    return {"round_s": float(np.mean([r["select_seconds"] for r in rounds])),
            "round_s_median": float(np.median([r["select_seconds"] for r in rounds])),
            "round_s_each": [r["select_seconds"] for r in rounds],
            "density_s_each": [r["density_seconds"] for r in rounds],
            "train_s": float(np.mean([r["train_seconds"] for r in rounds])),
            "pool_fraction": float(np.mean([r["pool_fraction"] for r in rounds])),
            "pool_fraction_last": rounds[-1]["pool_fraction"],
            "candidate_pool_size_last": rounds[-1]["candidate_pool_size"],
            "positives_found": records[-1]["positives_found"]}


def measure(n: int, args: argparse.Namespace) -> dict:
    vectors, labels, index, costs = cached_pool(n, args)
    ids = np.arange(n, dtype=np.int64)
    row = {"size": n, "positives": int(labels.sum()), **costs}
    strategies = args.strategies.split(",")
    shared_density = None
    if "id" in strategies:
        shared_density = NeighbourDensity(index)
        start = time.perf_counter()
        shared_density.lookup(ids, ids, vectors)
        row["id_all_density_one_time_s"] = time.perf_counter() - start
    for strategy in strategies:
        variants = [("seals", "seals", shared_density), ("all", "all", shared_density)]
        if strategy == "id":  # SEALS computing density itself, only for candidates it has not seen before
            variants.insert(1, ("seals_incremental", "seals", None))
        for name, pool, density in variants:
            result = session(ids, vectors, labels, index, strategy, pool, args, density)
            row[f"{name}_{strategy}"] = result
            print(f"n={n:>9,} {strategy:>6} {name:>17}: {result['round_s'] * 1e3:8.1f} ms/round, pool fraction "
                  f"{result['pool_fraction']:.2%}, positives {result['positives_found']}", file=sys.stderr,
                  flush=True)
    return row


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = [measure(n, args) for n in sizes]
    strategies = args.strategies.split(",")
    first = strategies[0]
    result = {"benchmark": "seals_scale", "sizes": sizes, "rounds": args.rounds, "batch": args.batch, "k": args.k,
              "rare_fraction": args.rare_fraction, "seed_labels": [5, 95],
              "seals_round_s": [r[f"seals_{first}"]["round_s"] for r in rows]}
    for strategy in strategies:
        result[f"seals_round_s_{strategy}"] = [r[f"seals_{strategy}"]["round_s"] for r in rows]
        result[f"all_round_s_{strategy}"] = [r[f"all_{strategy}"]["round_s"] for r in rows]
        result[f"all_over_seals_{strategy}"] = [r[f"all_{strategy}"]["round_s"] / r[f"seals_{strategy}"]["round_s"]
                                                for r in rows]
        # Medians: the first SEALS round after loading a large index pays cold caches.
        result[f"all_over_seals_{strategy}_median"] = [
            r[f"all_{strategy}"]["round_s_median"] / r[f"seals_{strategy}"]["round_s_median"] for r in rows]
    result["pool_fraction"] = [r[f"seals_{first}"]["pool_fraction"] for r in rows]
    result["pool_fraction_last_round"] = [r[f"seals_{first}"]["pool_fraction_last"] for r in rows]
    result["seals_round_growth"] = result["seals_round_s"][-1] / result["seals_round_s"][0]
    if "id" in strategies:
        result["id_all_density_one_time_s"] = [r["id_all_density_one_time_s"] for r in rows]
        result["seals_round_s_id_incremental"] = [r["seals_incremental_id"]["round_s"] for r in rows]
    result["index_build_s"] = [r["index_build_s"] for r in rows]
    result["per_size"] = rows
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
