"""How SEALS selection cost scales with pool size, against scoring the whole pool ("-All").

Two sources of pools. Synthetic (--sizes): clustered unit vectors (384-d, like all-MiniLM-L6-v2): background
documents fall in 1,000 loose clusters, the rare concept (0.5% by default) in 5 tight ones. For each size the
vectors and the HNSW index are built once and cached under --cache-dir, with the seconds the build took kept
beside them (``<index>.build.json``), so ``index_build_s`` is always the real build time of the run that built it.
Real (--sentences N1,N2,...): the first N of ``../shared/data/review_sentences`` (1,100,664 distinct real sentences;
benchmarks/review_sentences.py), embedded with the static model distilled from MiniLM (the first pass a user takes
at this size; vectors and HNSW index cached under --cache-dir with their build seconds), and rare sentence-level
concepts from its columns (--concepts, each reported with its prevalence). See "Every per-round cost" below.
Each size then runs the same labeling session (seed 5 positives + 95 negatives, --rounds rounds of 100) for each
seed in --seeds with MaxEnt and ID, on the SEALS pool (k=100) and on All.

Every per-round cost (--sentences): a session is driven round by round as ``textsel next`` runs it, one process
per round. Each round's cost is ``train_s`` (fitting the learner) + ``select_s`` (candidate pool, scoring,
ranking) + ``state_io_s`` (SEALS only: saving the candidate state and the candidates' float32 rows and restoring
them as the next process does, through textsel.candidate_state and textsel.candidate_rows) + ``process_start_s``
(both sides: the median wall time of a fresh interpreter importing what ``textsel next`` imports, measured in this
run). ``all_over_seals_all_costs_at_<labels>`` is All / SEALS of those totals over the rounds that start with at
least <labels> labels (--at-labels), per seed, with the mean and 95% interval; ``seals_over_all_positives_at_<n>``
is SEALS's positives / All's after --positives-at labels, per concept and seed. Both sides read the same static
vectors (the learner too) as ``textsel next`` reads them with ``[features] kind = "static"``: their float32 copy,
memory-mapped; All scans it, SEALS reads each new candidate's row from it once and keeps the rows in a side file, as
``textsel next`` does. The ratio measures the candidate pool, not the features.

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
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/seals_scale.py --sentences 1100664 --cache-dir /data/seals_scale \
        --strategies maxent --rounds 21 --out benchmarks/results/seals_scale_review_sentences.json
    .venv/bin/python benchmarks/seals_scale.py --sizes 100000,1000000,5000000 --cache-dir /data/seals_scale \
        --out seals_scale.json                                  # 16 cores, ~64 GB of memory for 5M
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from _results import BuildRecord, add_run_options, break_even_rounds, mean_ci95, start_run
from review_sentences import DEFAULT_CONCEPTS, POOL_NAME, Concept, concept_record, pool_file, timed

from textsel._atomic import atomic_path
from textsel.candidate_rows import load_candidate_rows, save_candidate_rows
from textsel.candidate_state import load_candidate_state, save_candidate_state
from textsel.candidates import AllCandidates, SEALSCandidates
from textsel.index import HNSWIndex, build_index
from textsel.learner import LogisticLearner
from textsel.project.vectors import write_float32
from textsel.rounds import NeighbourDensity, RoundEngine
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
    parser.add_argument("--sentences", default=None,
                        help="Comma-separated prefix sizes of review_sentences (real sentences, static vectors), used "
                             "instead of synthetic pools; every per-round cost is counted.")
    parser.add_argument("--concepts", default=",".join(DEFAULT_CONCEPTS),
                        help="With --sentences: rare concepts, column=value, comma-separated.")
    parser.add_argument("--at-labels", type=int, default=2_000,
                        help="With --sentences: All/SEALS of the rounds starting with at least this many labels.")
    parser.add_argument("--positives-at", type=int, default=1_000,
                        help="With --sentences: SEALS/All positives found after this many labels.")
    parser.add_argument("--from-build", type=Path, default=None,
                        help="With --sentences N: read the static vectors and HNSW index of the project that "
                             "benchmarks/next_latency.py built for N (its --workdir/nN folder) instead of building "
                             "them again; their one-time costs are that build's timed commands.")
    args = add_run_options(parser).parse_args(argv)
    if args.cache_dir is None:
        parser.error("--cache-dir is needed (vectors and indexes are cached there)")
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


def session(ids, vectors, labels, index, strategy: str, pool: str, args,  # noqa: ANN001
            density: NeighbourDensity | None, seed: int) -> dict:
    """One labeling session; ``density`` None means the session computes density itself, incrementally."""
    candidate_pool = SEALSCandidates(index, k=args.k) if pool == "seals" else AllCandidates()
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


def measure(n: int, args: argparse.Namespace) -> dict:
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
                result = session(ids, vectors, labels, index, strategy, pool, args, density, seed)
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
        all_one_time = 0.0 if strategy != "id" else (
            None if costs["index_build_s"] is None else costs["index_build_s"] + row["all_id_density_one_time_s"])
        row[f"break_even_rounds_{strategy}"] = break_even_rounds(seals_one_time, all_one_time, seals_round,
                                                                 all_round)
    return row


# --- review_sentences: every per-round cost -------------------------------------------------------------------

# What `textsel next` imports before it selects (a fresh process per round).
NEXT_IMPORTS = ("import textsel.cli.app, textsel.cli.round, textsel.project, textsel.rounds, textsel.learner, "
                "textsel.candidates, textsel.candidate_state, textsel.index")


def built_project_pool(n: int, folder: Path) -> tuple[Path, np.ndarray, HNSWIndex, dict]:
    """The pool file, static vectors and static HNSW index of the project benchmarks/next_latency.py built in
    ``folder`` (read only, verified as textsel verifies them), with that build's timed commands as one-time costs:
    ``textsel embed`` (static vectors and the HNSW index, M 16, ef_construction 200) and ``textsel index`` (its
    neighbour table, which this benchmark does not use)."""
    import json

    from textsel.project import Project

    built = json.loads((folder / "build.json").read_text())
    if built["n_docs"] != n:
        raise SystemExit(f"{folder} holds a build of {built['n_docs']:,} texts, not {n:,}")
    with Project(folder / "project") as project:
        vectors, index = project.vectors.static_vectors_float32(), project.vectors.index()
    if not np.array_equal(np.asarray(index.ids), np.arange(n)):
        raise SystemExit(f"{folder}: the index's ids are not the rows 0..{n - 1}")
    steps = built["steps"]
    costs = {"one_time_costs_from": f"benchmarks/next_latency.py build in {folder} (whole commands)",
             "embed_command_s": steps["embed"]["wall_s"], "neighbour_table_command_s": steps["index"]["wall_s"]}
    return Path(built["pool_file"]), vectors, index, costs


def float32_rows(source: Path, path: Path, sample: int = 1024) -> np.ndarray:
    """The float16 cache ``source`` as float32 rows, read from the copy at ``path``: the copy is checked against its
    source on every use (shape, and ``sample`` rows spread over it) and written again when it is missing, unreadable
    or made from other vectors, so a stale or damaged copy never feeds a measurement."""
    vectors = np.load(source, mmap_mode="r")
    rows = np.linspace(0, len(vectors) - 1, num=min(sample, len(vectors)), dtype=np.int64)
    try:
        copy = np.load(path, mmap_mode="r")
        if (copy.dtype == np.float32 and copy.shape == vectors.shape
                and np.array_equal(copy[rows], vectors[rows].astype(np.float32))):
            return copy
    except (OSError, ValueError):  # missing, or not a readable .npy file
        pass
    write_float32(vectors, path)
    return np.load(path, mmap_mode="r")


def sentence_pool(n: int, args: argparse.Namespace) -> tuple[Path, np.ndarray, HNSWIndex, dict]:
    """The first ``n`` review sentences: their pool file, static vectors (float32 rows) and HNSW index, built once and
    cached under --cache-dir with the seconds each build took (or read from --from-build)."""
    if args.from_build is not None:
        return built_project_pool(n, args.from_build)
    folder = args.cache_dir / f"sentences_{n}"
    pool, n = pool_file(n, folder)
    vectors_path, index_path = folder / "static.f16.npy", folder / "static.hnsw"
    embed_record, index_record = BuildRecord(vectors_path), BuildRecord(index_path)
    if not vectors_path.exists():
        import pyarrow.parquet as pq

        from textsel.static import StaticEmbedder

        texts = pq.read_table(pool, columns=["text"]).column("text").to_pylist()
        start = time.perf_counter()
        vectors = StaticEmbedder().encode(texts).astype(np.float16)
        embed_record.save(time.perf_counter() - start)
        with atomic_path(vectors_path) as tmp:
            np.save(tmp, vectors)
    vectors = float32_rows(vectors_path, folder / "static.f32.npy")  # the rows textsel reads with static features
    if index_path.exists():
        index = HNSWIndex.load(index_path)
    else:
        start = time.perf_counter()
        index = build_index(np.asarray(vectors, dtype=np.float32), np.arange(n, dtype=np.int64), backend="hnsw")
        index_record.save(time.perf_counter() - start)
        index.save(index_path)
    costs = {"static_embed_s": embed_record.seconds(), "index_build_s": index_record.seconds()}
    if costs["static_embed_s"]:
        costs["static_texts_per_s"] = round(n / costs["static_embed_s"], 1)
    return pool, vectors, index, costs


def process_start_s(repeats: int = 5) -> float:
    """Median wall seconds of a fresh interpreter importing what ``textsel next`` imports."""
    return float(np.median([timed([sys.executable, "-c", NEXT_IMPORTS])[0] for _ in range(repeats)]))


def sentence_session(ids: np.ndarray, vectors: np.ndarray, is_positive: np.ndarray, index, pool: str,  # noqa: ANN001
                     args: argparse.Namespace, seed: int, start_s: float, state_dir: Path) -> dict:
    """One session round by round, each round's every cost counted (see the module docstring)."""
    rng = np.random.default_rng(seed)
    chosen = np.r_[rng.choice(np.flatnonzero(is_positive), 5, replace=False),
                   rng.choice(np.flatnonzero(~is_positive), 95, replace=False)]
    labels = {int(i): int(is_positive[i]) for i in chosen}
    seals = pool == "seals"
    candidates = SEALSCandidates(index, k=args.k) if seals else AllCandidates()
    engine = RoundEngine(ids, candidates, features=vectors, strategy="entropy", learner=LogisticLearner(),
                         batch_size=args.batch, positive_label=1, seed=seed)
    source = {"benchmark": "seals_scale", "n": len(ids), "k": args.k}
    state_record = rows_record = None
    rounds, positives_at = [], None
    while len(labels) < 100 + args.rounds * args.batch:
        n_labels = len(labels)
        result = engine.select_batch(labels)
        io_start = time.perf_counter()
        if seals:  # what the next process restores, as textsel next saves and loads it
            state_path = state_dir / "candidates.npz"
            state_record = save_candidate_state(state_path, candidates, source)
            candidates, _ = load_candidate_state(state_path, state_record, index, k=args.k, ef=None, source=source,
                                                 labeled_ids=np.fromiter(labels, dtype=np.int64))
            engine.candidate_pool = candidates
            if engine.candidate_rows is not None and len(engine.candidate_rows):  # the candidates' float32 rows
                rows_path = state_dir / "candidate_rows.f32"
                rows_record = save_candidate_rows(rows_path, engine.candidate_rows, rows_record, source)
                engine.candidate_rows, _ = load_candidate_rows(rows_path, rows_record, source)
        io_s = time.perf_counter() - io_start
        rounds.append({"labels": n_labels, "train_s": result.train_seconds, "select_s": result.select_seconds,
                       "state_io_s": io_s, "process_start_s": start_s,
                       "total_s": result.train_seconds + result.select_seconds + io_s + start_s,
                       "candidates": result.candidate_pool_size})
        labels.update((int(i), int(is_positive[i])) for i in result.ids)
        if positives_at is None and len(labels) >= args.positives_at:
            positives_at = int(sum(labels.values()))
    return {"rounds": rounds, "positives_at": positives_at}


def measure_sentences(args: argparse.Namespace) -> dict:
    """All against SEALS on real sentences, per size, concept and seed, with every per-round cost counted."""
    start_s = process_start_s()
    seeds = [int(s) for s in args.seeds.split(",")]
    sizes = []
    for n in (int(s) for s in args.sentences.split(",")):
        pool, vectors, index, costs = sentence_pool(n, args)
        ids = np.arange(len(vectors), dtype=np.int64)
        row = {"n_docs": len(ids), "pool": POOL_NAME, **costs, "concepts": []}
        for spec in args.concepts.split(","):
            concept = Concept.parse(spec)
            is_positive = concept.oracle(pool)
            entry = {**concept_record(concept, is_positive), "seals": [], "all": []}
            for seed in seeds:  # SEALS and All back to back, seed by seed
                for side in ("seals", "all"):
                    state_dir = args.cache_dir / "state" / f"{n}_{concept.label}_{seed}"
                    state_dir.mkdir(parents=True, exist_ok=True)
                    entry[side].append(sentence_session(ids, vectors, is_positive, index, side, args, seed, start_s,
                                                        state_dir))
                    print(f"n={len(ids):,} {concept.name} seed {seed} {side}: "
                          f"{np.mean([r['total_s'] for r in entry[side][-1]['rounds']]):.3f} s/round, "
                          f"positives at {args.positives_at}: {entry[side][-1]['positives_at']}",
                          file=sys.stderr, flush=True)
            late = [(float(np.mean([r["total_s"] for r in a["rounds"] if r["labels"] >= args.at_labels] or [np.nan])),
                     float(np.mean([r["total_s"] for r in s["rounds"] if r["labels"] >= args.at_labels] or [np.nan])))
                    for s, a in zip(entry["seals"], entry["all"], strict=True)]
            entry[f"all_over_seals_all_costs_at_{args.at_labels}"] = mean_ci95([a / s for a, s in late])
            entry[f"seals_over_all_positives_at_{args.positives_at}"] = mean_ci95(
                [s["positives_at"] / a["positives_at"] for s, a in zip(entry["seals"], entry["all"], strict=True)
                 if s["positives_at"] is not None and a["positives_at"]])
            row["concepts"].append(entry)
        sizes.append(row)
    return {"benchmark": "seals_scale", "pool": POOL_NAME, "n_docs": sizes[-1]["n_docs"],
            "timing_policy": ALL_COSTS_POLICY,
            "features": "static vectors distilled from all-MiniLM-L6-v2, float32 rows (both sides)",
            "strategy": "entropy", "batch": args.batch, "k": args.k, "seed_labels": [5, 95],
            "process_start_s": start_s, "session_seeds": seeds, "sizes": sizes}


ALL_COSTS_POLICY = ("per-round seconds = training + candidate pool, scoring and ranking + (SEALS) saving and restoring "
                    "the candidate state and rows + process start (both sides, measured in this run); "
                    "one-time costs (static embedding, index build) reported apart")


TIMING_POLICY = ("per-round seconds = candidate pool + density of newly seen documents + scoring + ranking; SEALS "
                 "pays its own density incrementally inside its rounds; All-ID's whole-pool density is a one-time "
                 "cost (all_id_density_one_time_s) kept out of All's rounds; index build is a one-time cost of SEALS "
                 "(and of All-ID) reported apart; break_even_rounds_<strategy> = rounds until SEALS's one-time + "
                 "per-round total is no more than All's")


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    record = start_run(args)
    if args.sentences:
        return record.finish(measure_sentences(args), seeds=[int(s) for s in args.seeds.split(",")], out=args.out)
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = [measure(n, args) for n in sizes]
    strategies = args.strategies.split(",")
    result = {"benchmark": "seals_scale", "timing_policy": TIMING_POLICY, "sizes": sizes, "rounds": args.rounds,
              "batch": args.batch, "k": args.k, "seed_labels": [5, 95],
              "data": f"synthetic clustered vectors, rare fraction {args.rare_fraction:g}",
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
