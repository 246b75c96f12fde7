"""The static first pass (issue 11): static-embedding speed, and what two-stage selection finds vs full SEALS.

The second JSON of the embedding benchmarks (``benchmarks/embed_throughput.py`` writes the first). Data: the
shared amazon_multidomain reviews (pool: the train and dev rows; held-out: the test rows), the packaged
all-MiniLM-L6-v2 (the transformer) and a static model distilled from it with model2vec (``--dims``, 256).

1. Distillation (one-time, apart): ``distill_static_model`` into ``--cache-dir``; ``distill_s`` is the seconds of
   the run that distilled it (kept beside the model, so a cache hit reports the real cost; null if unknown).
2. Speed, interleaved on the same texts (the first ``--n`` of the data, in slices of ``--slice``, the order
   rotating every slice; model loads outside the timers): ``raw MiniLM float32``'s timer holds one
   ``SentenceTransformer.encode(slice, batch_size=64, normalize_embeddings=True)`` call; ``static``'s timer holds
   ``StaticEmbedder.encode(slice)`` repeated ``--static-repeats`` times (one call takes milliseconds). Rates are
   total texts over total seconds; ``static_ratio_vs_minilm`` is their ratio. ``static_pool_texts_per_s``: the
   whole pool through ``embed_pool`` (cache writes included; skipped, null, when the cache already held it).
3. Equal labels: per concept (a rare product domain) and seed, all-transformer SEALS (HNSW over the precomputed
   MiniLM vectors of the shared data, k=``--k``) and the first pass (HNSW over the static vectors, k per
   ``--static-k``; the learner on MiniLM vectors of the labeled texts and candidates only, read from the
   precomputed file through ``EmbeddedOnDemand``, which counts them) run back to back: entropy, logistic
   regression, seed 5 positives + 95 negatives, batches of ``--batch`` up to ``--budget`` labels.
   ``positives_ratio_vs_full`` and ``ap_ratio_vs_full`` (held-out AP) are per-seed ratios first pass / full, with
   mean, sd and 95% t-interval over seeds; ``transformer_share`` is the share of the pool the first pass embedded
   with the transformer. Index builds are one-time costs (seconds reported; the MiniLM index cached like
   seals_vs_all's).
4. ``first_selection``: time to the first selection on this pool, measured: static embedding of the pool
   (``embed_pool``, cache writes included), the static HNSW build, SEALS in static space (k = ``static_k`` of a 1M
   pool, 300) around the seed of the first concept (5 + 95 labels, seed 0), transformer embedding of those
   candidates and the labeled texts (seconds = texts / the interleaved raw MiniLM rate of step 2: the pool's
   texts are not re-embedded here), training and scoring. Beside it the all-transformer pipeline's embedding
   (pool / MiniLM rate) and MiniLM index build. ``extrapolated_1m`` scales each part to 1M texts as its note says
   (an extrapolation, not a measurement).
5. ``diagnose_static``: the mismatch diagnostic run in static space on the labels of each concept's first seed of
   the first pass (``textsel.diagnose.diagnose_static_space``), beside the same diagnostic in MiniLM space.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/static_first_pass.py --cache-dir /tmp/sfp \
        [--concepts office_products,automotive,cell_phones_service] [--repeats 5] [--budget 1000] \
        [--out benchmarks/results/static_first_pass.json]
    # a concept that cuts across topics: negative reviews (label_t2 = -1; only the 31k rows with a label_t2)
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/static_first_pass.py --cache-dir /tmp/sfp --n 0 \
        --column label_t2 --concepts=-1 --out benchmarks/results/static_first_pass_negative.json

The last line printed is one JSON object with its provenance.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
from _results import BuildRecord, add_run_options, mean_ci95, start_run  # noqa: E402
from seals_vs_all import pool_index  # noqa: E402

from textsel.candidates import SEALSCandidates  # noqa: E402
from textsel.data import Pool  # noqa: E402
from textsel.diagnose import diagnose, diagnose_static_space  # noqa: E402
from textsel.embed import embed_pool, embedding_cache_folder  # noqa: E402
from textsel.first_pass import build_first_pass, simulate_first_pass  # noqa: E402
from textsel.index import build_index  # noqa: E402
from textsel.learner import LogisticLearner  # noqa: E402
from textsel.simulate import HeldOut, run_simulation  # noqa: E402
from textsel.static import StaticEmbedder, distill_static_model  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "amazon_multidomain"
CONCEPTS = ["office_products", "automotive", "cell_phones_service"]


class PrecomputedMiniLM:
    """The transformer of the first pass, answered from the shared precomputed MiniLM vectors (the same model and
    settings, cosine >= 0.999 to a fresh encode: tests/integration/test_embed_model.py); ``calls`` counts texts."""

    name = "precomputed all-MiniLM-L6-v2"

    def __init__(self, texts: list[str], vectors: np.ndarray) -> None:
        self.row_of = {text: row for row, text in enumerate(texts)}
        self.vectors = vectors
        self.calls = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += len(texts)
        return self.vectors[[self.row_of[text] for text in texts]]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--cache-dir", type=Path, required=True, help="static model, static vectors, MiniLM index")
    parser.add_argument("--dims", type=int, default=256)
    parser.add_argument("--n", type=int, default=512,
                        help="texts of the interleaved speed measurement (0: no speed and no first-selection parts)")
    parser.add_argument("--slice", type=int, default=64)
    parser.add_argument("--static-repeats", type=int, default=20)
    parser.add_argument("--column", default="domain", help="the concept column; rows without a value are left out")
    parser.add_argument("--concepts", default=",".join(CONCEPTS), help="values of --column that make a positive")
    parser.add_argument("--repeats", type=int, default=5, help="seeds 0..repeats-1")
    parser.add_argument("--budget", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--k", type=int, default=100, help="neighbours per label of all-transformer SEALS")
    parser.add_argument("--static-k", default="100,300", help="neighbours per label in static space (a list)")
    parser.add_argument("--out", type=Path, default=None)
    return add_run_options(parser).parse_args(argv)


def load(folder: Path, column: str):
    import pyarrow.parquet as pq

    table = pq.read_table(folder / "data.parquet", columns=["id", "text", column, "split"]).to_pydict()
    values = np.asarray([str(value) for value in table[column]])
    test = np.asarray(table["split"]) == "test"
    valued = np.asarray([value is not None for value in table[column]])  # label_t2 covers 31k of the 88k rows
    minilm = np.load(folder / "minilm.f16.npy", mmap_mode="r")
    pool, held = np.flatnonzero(~test & valued), np.flatnonzero(test & valued)
    ids = np.asarray(table["id"], dtype=np.int64)
    assert (ids[1:] > ids[:-1]).all(), "the data's ids are expected in ascending order"
    return {"ids": ids[pool], "texts": [table["text"][i] for i in pool],
            "value": values[pool], "minilm": np.asarray(minilm[pool], dtype=np.float32),
            "test_value": values[held],
            "test_minilm": np.asarray(minilm[held], dtype=np.float32)}


def distilled(cache_dir: Path, dims: int) -> tuple[StaticEmbedder, float | None]:
    folder_cache = cache_dir / "static-models"
    start = time.perf_counter()
    folder = distill_static_model(None, dims=dims, cache_dir=folder_cache)
    seconds = time.perf_counter() - start
    record = BuildRecord(folder)
    if record.seconds() is None and seconds > 5:  # this call distilled it (a cache hit takes well under a second)
        record.save(seconds)
    return StaticEmbedder(None, dims=dims, cache_dir=folder_cache), record.seconds()


def speed(texts: list[str], static: StaticEmbedder, args: argparse.Namespace) -> dict:
    """Interleaved texts/s of raw MiniLM float32 and the static model on the same slices."""
    import torch
    from sentence_transformers import SentenceTransformer

    from textsel.embed import Embedder

    minilm = SentenceTransformer(Embedder()._source(), device="cpu")
    minilm.max_seq_length = 256
    static.encode(texts[:8])
    minilm.encode(texts[:8], batch_size=64, normalize_embeddings=True)  # warm-up
    seconds = {"minilm": 0.0, "static": 0.0}
    slices = [texts[start:start + args.slice] for start in range(0, len(texts), args.slice)]
    for number, part in enumerate(slices):
        order = ["minilm", "static"] if number % 2 == 0 else ["static", "minilm"]
        for name in order:
            start = time.perf_counter()
            if name == "minilm":
                minilm.encode(part, batch_size=64, normalize_embeddings=True)
            else:
                for _ in range(args.static_repeats):
                    static.encode(part)
            seconds[name] += time.perf_counter() - start
    minilm_rate = len(texts) / seconds["minilm"]
    static_rate = len(texts) * args.static_repeats / seconds["static"]
    return {"minilm_fp32_texts_per_s": round(minilm_rate, 1), "static_texts_per_s": round(static_rate, 1),
            "static_ratio_vs_minilm": round(static_rate / minilm_rate, 1), "speed_texts": len(texts),
            "torch_threads": torch.get_num_threads()}


def static_pool(data: dict, static: StaticEmbedder, cache_dir: Path) -> tuple[np.ndarray, float | None]:
    """The pool's static vectors through embed_pool (cached) and texts/s of the run that embedded them (kept in a
    build record beside the cache; null when unknown)."""
    pool = Pool(ids=data["ids"], texts=data["texts"])
    record = BuildRecord(cache_dir / f"static-pool-vectors-{pool.fingerprint()}")
    cached = (embedding_cache_folder(pool, static, cache_dir / "embeddings", "float32") / "embeddings.npy").exists()
    start = time.perf_counter()
    vectors = embed_pool(pool, static, cache_dir=cache_dir / "embeddings", dtype="float32")
    if not cached:
        record.save(time.perf_counter() - start)
    seconds = record.seconds()
    return vectors, round(len(vectors) / seconds, 1) if seconds else None


def first_selection(data: dict, static_index, transformer: PrecomputedMiniLM, measured: dict,
                    args: argparse.Namespace) -> dict:
    """Seconds to the first selection with the first pass (measured parts; see the module docstring)."""
    from textsel.first_pass import static_k
    from textsel.rounds import RoundEngine
    from textsel.simulate import draw_seed

    n = len(data["ids"])
    labels = (data["value"] == args.concepts.split(",")[0]).astype(np.int64)
    seed_ids = draw_seed(labels, data["ids"], 1, 5, 95, np.random.default_rng(0))
    k = static_k(1_000_000)
    first_pass = build_first_pass(data["ids"], data["texts"], transformer=transformer, static_index=static_index,
                                  k=k, text_cache=False)
    engine = RoundEngine(data["ids"], first_pass.candidate_pool, features=first_pass.features,
                         learner=LogisticLearner(), batch_size=args.batch, positive_label=1)
    start = time.perf_counter()
    engine.select_batch(dict(zip(seed_ids.tolist(), labels[np.searchsorted(data["ids"], seed_ids)].tolist(),
                                 strict=True)))
    select_s = time.perf_counter() - start  # SEALS lookups, training, scoring (transformer rows: a lookup here)
    embedded = first_pass.transformer_rows
    minilm_rate, static_rate = measured["minilm_fp32_texts_per_s"], measured["static_pool_texts_per_s"]
    static_embed_s = n / static_rate if static_rate else None
    transformer_s = embedded / minilm_rate
    parts = {"static_embed_s": static_embed_s, "static_index_build_s": measured["static_index_build_s"],
             "transformer_embed_s": transformer_s, "select_s": select_s}
    one_m = 1_000_000 / n
    full_1m = 1_000_000 / minilm_rate
    static_1m = {"static_embed_s": static_embed_s * one_m if static_embed_s else None,
                 "static_index_build_s": measured["static_index_build_s"] * one_m * np.log(1e6) / np.log(n),
                 "transformer_embed_s": min(len(seed_ids) * (k + 1), 1_000_000) / minilm_rate,
                 "select_s": select_s * len(seed_ids) * (k + 1) / max(embedded, 1)}
    total = sum(value for value in parts.values() if value is not None)
    total_1m = sum(value for value in static_1m.values() if value is not None)
    return {"pool": n, "k": k, "seed_labels": len(seed_ids), "transformer_texts": embedded,
            "parts_s": {key: round(value, 1) if value is not None else None for key, value in parts.items()},
            "total_s": round(total, 1), "all_transformer_embed_s": round(n / minilm_rate, 1),
            "extrapolated_1m": {
                "note": ("an extrapolation from this pool, not a measurement: static embedding linear in the pool; "
                         "HNSW build as n log n; transformer texts at most seed labels x (k + 1) (candidate "
                         "neighbourhoods overlap less in a larger pool: the upper bound is used) at the measured "
                         "MiniLM rate; selection in proportion to the texts scored"),
                "parts_s": {key: round(value, 1) if value is not None else None for key, value in static_1m.items()},
                "total_s": round(total_1m, 1), "all_transformer_embed_s": round(full_1m, 1),
                "speedup_vs_all_transformer_embedding": round(full_1m / total_1m, 1)}}


def final(records: list[dict], key: str) -> float:
    return records[-1][key]


def ratios(first: list[float], full: list[float]) -> dict:
    return mean_ci95([a / max(b, 1e-12) for a, b in zip(first, full, strict=True)])


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    run = start_run(args)
    started = run.started
    static_ks = [int(k) for k in args.static_k.split(",")]
    data = load(args.data, args.column)
    static, distill_s = distilled(args.cache_dir, args.dims)
    result = {"benchmark": "static_first_pass", "data": str(args.data), "pool_size": len(data["ids"]),
              "test_size": len(data["test_value"]), "column": args.column, "dims": static.dimension,
              "distill_s": distill_s,
              "model2vec": version("model2vec"), "load_average_1min_start": round(os.getloadavg()[0], 1)}
    if args.n:
        result.update(speed(data["texts"][:args.n], static, args))
    print(f"speed: {result}", file=sys.stderr, flush=True)
    static_vectors, result["static_pool_texts_per_s"] = static_pool(data, static, args.cache_dir)
    start = time.perf_counter()
    static_index = build_index(static_vectors, data["ids"], backend="hnsw")
    result["static_index_build_s"] = round(time.perf_counter() - start, 1)
    minilm_index, result["minilm_index_build_s"] = pool_index(data["minilm"], data["ids"], args.cache_dir)
    transformer = PrecomputedMiniLM(data["texts"], data["minilm"])
    if args.n:
        result["first_selection"] = first_selection(data, static_index, transformer, result, args)
        print(f"first selection: {result['first_selection']}", file=sys.stderr, flush=True)
    per_concept = []
    for concept in args.concepts.split(","):
        labels = (data["value"] == concept).astype(np.int64)
        heldout = HeldOut((data["test_value"] == concept).astype(np.int64), data["test_minilm"])
        settings = dict(batch_size=args.batch, budget=args.budget, seed_positives=5, seed_negatives=95)
        runs = {"full": [], **{f"static_k{k}": [] for k in static_ks}}
        shares = {k: [] for k in static_ks}
        for seed in range(args.repeats):  # full and first pass back to back, seed by seed
            runs["full"].append(run_simulation(data["ids"], labels, features=data["minilm"], heldout=heldout,
                                               candidate_pool=SEALSCandidates(minilm_index, k=args.k),
                                               learner=LogisticLearner(), seed=seed, **settings))
            for k in static_ks:
                first_pass = build_first_pass(data["ids"], data["texts"], transformer=transformer,
                                              static_index=static_index, k=k, text_cache=False)
                records = simulate_first_pass(data["ids"], labels, first_pass, heldout=heldout,
                                              learner=LogisticLearner(), seed=seed, keep_labeled_ids=True,
                                              **settings)
                runs[f"static_k{k}"].append(records)
                shares[k].append(first_pass.transformer_rows / len(data["ids"]))
                if seed == 0 and k == static_ks[0]:
                    labeled = np.asarray(records[-1]["labeled_ids"], dtype=np.int64)
                    positive = labels[np.searchsorted(data["ids"], labeled)] == 1  # ids are sorted (load)
                    diagnosis_static = diagnose_static_space(static_index, labeled, positive)
                    diagnosis_minilm = diagnose(minilm_index, labeled, positive)
        row = {"concept": concept, "pool_positives": int(labels.sum()),
               "full": {"positives_found": [final(r, "positives_found") for r in runs["full"]],
                        "average_precision": [final(r, "average_precision") for r in runs["full"]]}}
        for k in static_ks:
            first = runs[f"static_k{k}"]
            row[f"static_k{k}"] = {
                "positives_found": [final(r, "positives_found") for r in first],
                "average_precision": [final(r, "average_precision") for r in first],
                "positives_ratio_vs_full": ratios([final(r, "positives_found") for r in first],
                                                  row["full"]["positives_found"]),
                "ap_ratio_vs_full": ratios([final(r, "average_precision") for r in first],
                                           row["full"]["average_precision"]),
                "transformer_share": mean_ci95(shares[k])}
        row["diagnose_static"] = {"mismatch": diagnosis_static.mismatch,
                                  "probe_auc_above_chance": round(diagnosis_static.probe_auc_above_chance, 3),
                                  "knn_share_above_chance": round(diagnosis_static.knn_share_above_chance, 3)}
        row["diagnose_minilm"] = {"mismatch": diagnosis_minilm.mismatch,
                                  "probe_auc_above_chance": round(diagnosis_minilm.probe_auc_above_chance, 3),
                                  "knn_share_above_chance": round(diagnosis_minilm.knn_share_above_chance, 3)}
        per_concept.append(row)
        print(f"{concept}: " + ", ".join(
            f"k={k} positives x{row[f'static_k{k}']['positives_ratio_vs_full']['mean']:.2f} AP "
            f"x{row[f'static_k{k}']['ap_ratio_vs_full']['mean']:.2f} share "
            f"{row[f'static_k{k}']['transformer_share']['mean']:.2f}" for k in static_ks)
            + f" [{time.perf_counter() - started:.0f} s]", file=sys.stderr, flush=True)
    result.update({"concepts": args.concepts.split(","), "repeats": args.repeats, "budget": args.budget,
                   "batch": args.batch, "k_full": args.k, "static_k": static_ks, "strategy": "entropy",
                   "learner": "logistic", "seed_labels": [5, 95], "per_concept": per_concept})
    result["load_average_1min_end"] = round(os.getloadavg()[0], 1)
    return run.finish(result, seeds=list(range(args.repeats)), out=args.out)


if __name__ == "__main__":
    main()
