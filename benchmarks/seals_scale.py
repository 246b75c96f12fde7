"""How SEALS selection cost scales with pool size, against scoring the whole pool ("-All").

Two sources of pools. Synthetic (--sizes): clustered unit vectors (384-d, like all-MiniLM-L6-v2): background
documents fall in 1,000 loose clusters, the rare concept (0.5% by default) in 5 tight ones. For each size the
vectors and the HNSW index are built once and cached under --cache-dir, with the seconds the build took kept
beside them (``<index>.build.json``), so ``index_build_s`` is always the real build time of the run that built it.
Real (--projects): the folders benchmarks/next_latency.py builds (the shared Amazon reviews' MiniLM vectors
repeated to N with small noise, the project's HNSW index and neighbour table); the rare concept is a product
category (--category); the index and table build seconds are the ones next_latency recorded in ``build.json``.
With a neighbour table SEALS reads its rows, as ``textsel next`` does (--neighbours index queries the graph).
Each size then runs the same labeling session (seed 5 positives + 95 negatives, --rounds rounds of 100) for each
seed in --seeds with MaxEnt and ID, on the SEALS pool (k=100) and on All.

Timing policy (the same as benchmarks/seals_vs_all.py, also stated in the JSON as ``timing_policy``):

- Inside each per-round timer (``select_seconds`` of textsel.rounds): building the candidate pool, information
  density of documents seen for the first time, scoring and ranking. Training is timed apart (``train_s``).
- Each side pays its own density. SEALS-ID computes density incrementally, inside its rounds, for each candidate
  it sees for the first time (O(candidate pool) index queries over a session, never O(N)). ID-All needs the
  density of every pool document before its first round: that is a one-time cost of All, measured once per size
  (``all_id_density_one_time_s``) and kept out of All's per-round times.
- One-time costs are reported apart from the rounds: the index build (SEALS for both strategies; All-ID too, since
  its density is computed through the index) and All-ID's density. ``break_even_rounds_<strategy>`` is the number
  of rounds after which SEALS's one-time + per-round total is no more than All's (None: SEALS never catches up).
- Headline ratios (``all_over_seals_<strategy>``) are All / SEALS mean per-round seconds of the same seed, with the
  mean, sd and 95% t-interval over the seeds; ``..._median`` uses per-round medians (the first SEALS round after
  loading a large index pays cold caches).

Needs only numpy, scipy, hnswlib, scikit-learn and textsel. The last line printed is one JSON object with its
provenance (also written to --out).

    .venv/bin/python benchmarks/seals_scale.py --sizes 100000 --cache-dir /tmp/seals_scale
    .venv/bin/python benchmarks/seals_scale.py --projects /tmp/next_latency/n100000,/tmp/next_latency/n1000000 \
        --strategies maxent --out benchmarks/results/seals_scale_amazon.json
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
import pyarrow.parquet as pq
from _results import BuildRecord, add_run_options, break_even_rounds, mean_ci95, start_run

from textsel._atomic import atomic_path
from textsel.candidates import AllCandidates, SEALSCandidates
from textsel.index import HNSWIndex, NeighbourTable, build_index
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
    parser.add_argument("--cache-dir", type=Path, help="Synthetic pools: vectors and HNSW indexes are kept here.")
    parser.add_argument("--rare-fraction", type=float, default=0.005)
    parser.add_argument("--rounds", type=int, default=5, help="Selection rounds per run (100 labels each).")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--strategies", default="maxent,id")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the synthetic pool.")
    parser.add_argument("--seeds", default="0,1,2,3,4", help="Comma-separated session seeds (seed labels, ties).")
    parser.add_argument("--out", type=Path, default=None, help="Also write the final JSON here.")
    parser.add_argument("--projects", default=None,
                        help="Comma-separated folders built by benchmarks/next_latency.py (phase build), one per size, "
                             "used instead of synthetic pools: their perturbed Amazon vectors, index and neighbour "
                             "table; the rare concept is --category.")
    parser.add_argument("--category", default="tools_hardware", help="With --projects: the rare 'domain' value.")
    parser.add_argument("--neighbours", choices=("table", "index"), default="table",
                        help="With --projects: SEALS reads the project's neighbour table (as textsel next does when "
                             "one exists) or queries the HNSW index.")
    args = add_run_options(parser).parse_args(argv)
    if not args.projects and args.cache_dir is None:
        parser.error("synthetic pools need --cache-dir (or give --projects)")
    return args


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
    """Vectors, labels and HNSW index for size n: loaded from the cache, or built once and saved there. The costs
    are those of the run that built them (read back from their build records on a cache hit)."""
    stem = args.cache_dir / f"clustered_{n}_rare{args.rare_fraction:g}_seed{args.seed}"
    vectors_path, labels_path, index_path = (stem.with_name(stem.name + ".vectors.npy"),
                                             stem.with_name(stem.name + ".labels.npy"),
                                             stem.with_name(stem.name + ".hnsw"))
    generate_record, index_record = BuildRecord(vectors_path), BuildRecord(index_path)
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    cache_hit = vectors_path.exists() and labels_path.exists() and index_path.exists()
    if vectors_path.exists() and labels_path.exists():
        vectors, labels = np.load(vectors_path, mmap_mode="r"), np.load(labels_path)
    else:
        start = time.perf_counter()
        vectors, labels = generate(n, args.rare_fraction, args.seed)
        generate_record.save(time.perf_counter() - start)
        for path, array in ((labels_path, labels), (vectors_path, vectors)):  # complete or absent, never half
            with atomic_path(path) as tmp:
                np.save(tmp, array)
    if index_path.exists():
        index = HNSWIndex.load(index_path)
    else:
        start = time.perf_counter()
        index = build_index(vectors, np.arange(n, dtype=np.int64), backend="hnsw", show_progress=True)
        index_record.save(time.perf_counter() - start)
        index.save(index_path)
    costs = {"generate_s": generate_record.seconds(), "index_build_s": index_record.seconds(),
             "index_from_cache": cache_hit}
    return vectors, labels, index, costs


def project_pool(folder: Path, args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, HNSWIndex, dict]:
    """Vectors, labels, index and (when saved) neighbour table of a project built by benchmarks/next_latency.py.

    Its vectors are the shared Amazon reviews' MiniLM embeddings, repeated with small noise; the one-time costs
    are those next_latency recorded when it built the project (``build.json``)."""
    vectors = np.load(folder / "embeddings.npy", mmap_mode="r")
    domains = pq.read_table(folder / "data.parquet", columns=["domain"]).column("domain").to_numpy(
        zero_copy_only=False)
    labels = (domains == args.category).astype(np.int64)
    cache = folder / "project" / "cache"
    index = HNSWIndex.load(cache / "index.hnsw")
    table = None
    if args.neighbours == "table" and (cache / "neighbours.npy").exists():
        table = NeighbourTable(np.load(cache / "neighbours.ids.npy", allow_pickle=False),
                               np.load(cache / "neighbours.npy", mmap_mode="r", allow_pickle=False))
    build = json.loads((folder / "build.json").read_text())
    costs = {"source": str(folder), "index_build_s": build.get("index_build_s"),
             "neighbour_table_s": build.get("neighbour_table_s"), "index_from_cache": True,
             "neighbours_from": "table" if table is not None else "index"}
    return vectors, labels, (index, table), costs


def session(ids, vectors, labels, index, strategy: str, pool: str, args, density: NeighbourDensity | None,  # noqa: ANN001
            seed: int, neighbours=None) -> dict:  # noqa: ANN001 - a NeighbourTable or None
    """One labeling session; ``density`` None means the session computes density itself, incrementally. SEALS
    reads ``neighbours`` (a neighbour table) when given, else queries ``index``."""
    candidate_pool = SEALSCandidates(neighbours if neighbours is not None else index, k=args.k) if pool == "seals" \
        else AllCandidates()
    records = run_simulation(ids, labels, features=vectors, strategy=strategy, candidate_pool=candidate_pool,
                             learner=LogisticLearner(), batch_size=args.batch,
                             budget=100 + args.rounds * args.batch, seed=seed, index=index,
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


def measure(n: int, args: argparse.Namespace, folder: Path | None = None) -> dict:
    table = None
    if folder is not None:
        vectors, labels, (index, table), costs = project_pool(folder, args)
        n = len(labels)
    else:
        vectors, labels, index, costs = cached_pool(n, args)
    ids = np.arange(n, dtype=np.int64)
    row = {"size": n, "positives": int(labels.sum()), **costs}
    strategies, seeds = args.strategies.split(","), [int(s) for s in args.seeds.split(",")]
    all_density = None
    if "id" in strategies:  # All-ID's one-time cost: the density of every pool document, through the index
        all_density = NeighbourDensity(index)
        start = time.perf_counter()
        all_density.lookup(ids, ids, vectors)
        row["all_id_density_one_time_s"] = time.perf_counter() - start
    for strategy in strategies:
        for seed in seeds:  # SEALS and All interleaved, seed by seed
            for pool in ("seals", "all"):
                density = all_density if pool == "all" else None  # SEALS pays its own, incrementally
                result = session(ids, vectors, labels, index, strategy, pool, args, density, seed, table)
                row.setdefault(f"{pool}_{strategy}", []).append(result)
                print(f"n={n:>9,} {strategy:>6} {pool:>5} seed {seed}: {result['round_s'] * 1e3:8.1f} ms/round, "
                      f"pool fraction {result['pool_fraction']:.2%}, positives {result['positives_found']}",
                      file=sys.stderr, flush=True)
        seals, everything = row[f"seals_{strategy}"], row[f"all_{strategy}"]
        row[f"all_over_seals_{strategy}"] = mean_ci95([a["round_s"] / s["round_s"]
                                                        for s, a in zip(seals, everything, strict=True)])
        row[f"all_over_seals_{strategy}_median"] = mean_ci95([a["round_s_median"] / s["round_s_median"]
                                                               for s, a in zip(seals, everything, strict=True)])
        seals_round, all_round = (float(np.mean([r["round_s"] for r in runs])) for runs in (seals, everything))
        seals_one_time = costs["index_build_s"]
        if table is not None and seals_one_time is not None:
            seals_one_time += costs["neighbour_table_s"] or 0.0
        all_one_time = 0.0 if strategy != "id" else (
            None if costs["index_build_s"] is None else costs["index_build_s"] + row["all_id_density_one_time_s"])
        row[f"break_even_rounds_{strategy}"] = break_even_rounds(seals_one_time, all_one_time, seals_round,
                                                                 all_round)
    return row


TIMING_POLICY = ("per-round seconds = candidate pool + density of newly seen documents + scoring + ranking; SEALS "
                 "pays its own density incrementally inside its rounds; All-ID's whole-pool density is a one-time "
                 "cost (all_id_density_one_time_s) kept out of All's rounds; index build is a one-time cost of SEALS "
                 "(and of All-ID) reported apart; break_even_rounds_<strategy> = rounds until SEALS's one-time + "
                 "per-round total is no more than All's")


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    record = start_run(args)
    if args.projects:
        rows = [measure(0, args, Path(folder)) for folder in args.projects.split(",")]
        sizes = [row["size"] for row in rows]
    else:
        sizes = [int(s) for s in args.sizes.split(",")]
        rows = [measure(n, args) for n in sizes]
    strategies = args.strategies.split(",")
    result = {"benchmark": "seals_scale", "timing_policy": TIMING_POLICY, "sizes": sizes, "rounds": args.rounds,
              "batch": args.batch, "k": args.k, "seed_labels": [5, 95],
              "data": (f"next_latency projects (shared Amazon MiniLM vectors repeated with noise), rare concept "
                       f"domain == {args.category!r}, SEALS neighbours from the {args.neighbours}") if args.projects
              else f"synthetic clustered vectors, rare fraction {args.rare_fraction:g}",
              "pool_seed": args.seed, "session_seeds": [int(s) for s in args.seeds.split(",")]}
    for strategy in strategies:
        for pool in ("seals", "all"):
            result[f"{pool}_round_s_{strategy}"] = [float(np.mean([r["round_s"] for r in row[f"{pool}_{strategy}"]]))
                                                    for row in rows]
        for key in (f"all_over_seals_{strategy}", f"all_over_seals_{strategy}_median", f"break_even_rounds_{strategy}"):
            result[key] = [row[key] for row in rows]
    first = strategies[0]
    result["pool_fraction"] = [float(np.mean([r["pool_fraction"] for r in row[f"seals_{first}"]])) for row in rows]
    result["seals_round_growth"] = result[f"seals_round_s_{first}"][-1] / result[f"seals_round_s_{first}"][0]
    if "id" in strategies:
        result["all_id_density_one_time_s"] = [row["all_id_density_one_time_s"] for row in rows]
    result["index_build_s"] = [row["index_build_s"] for row in rows]
    result["per_size"] = rows
    return record.finish(result, seeds=result["session_seeds"], out=args.out)


if __name__ == "__main__":
    main()
