"""HNSW recall@k against exact search on the shared amazon_multidomain MiniLM embeddings (88,300 x 384).

Builds HNSWIndex with textsel's defaults (or the M / ef values given), answers ~1,000 random stored rows as
queries in one batch, and compares with ExactIndex. Also measures the filtered path SEALS uses every round
(queries with ``exclude`` = the labeled ids), whose recall must hold too.

    .venv/bin/python benchmarks/index_recall.py [--queries 1000] [--k 100] [--M 16] [--ef 200]

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "amazon_multidomain"


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of the true k neighbours (ignoring -1 padding) that were found."""
    hits = [len(np.intersect1d(row, true_row[true_row >= 0])) / max((true_row >= 0).sum(), 1)
            for row, true_row in zip(found, truth, strict=True)]
    return float(np.mean(hits))


def timed_search(index, queries: np.ndarray, k: int, exclude: np.ndarray | None = None
                 ) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    found, _ = index.search(queries, k, exclude=exclude)
    return found, (time.perf_counter() - start) * 1000 / len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--excluded", type=int, default=1000, help="labeled ids excluded in the filtered run")
    parser.add_argument("--M", type=int, default=None, help="override HNSWIndex's default M")
    parser.add_argument("--ef-construction", type=int, default=None)
    parser.add_argument("--ef", type=int, default=None)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()

    import pyarrow.parquet as pq

    from textsel.embed import load_embeddings
    from textsel.index import ExactIndex, HNSWIndex

    ids = pq.read_table(args.data / "data.parquet", columns=["id"]).column("id").to_numpy().astype(np.int64)
    vectors = load_embeddings(args.data / "minilm.f16.npy", n_rows=len(ids))
    settings = {name: value for name, value in (("M", args.M), ("ef_construction", args.ef_construction),
                                                ("ef", args.ef)) if value is not None}
    hnsw = HNSWIndex(**settings)
    start = time.perf_counter()
    hnsw.add(vectors, ids)
    build_s = time.perf_counter() - start
    exact = ExactIndex()
    exact.add(vectors, ids)

    rng = np.random.default_rng(0)
    queries = vectors[rng.choice(len(ids), size=args.queries, replace=False)]
    exclude = rng.choice(ids, size=args.excluded, replace=False)
    found, query_ms = timed_search(hnsw, queries, args.k)
    truth, exact_ms = timed_search(exact, queries, args.k)
    found_filtered, filtered_ms = timed_search(hnsw, queries, args.k, exclude)
    truth_filtered, _ = timed_search(exact, queries, args.k, exclude)
    assert not np.isin(found_filtered, exclude).any()

    print(json.dumps({
        "recall_at_100" if args.k == 100 else f"recall_at_{args.k}": round(recall(found, truth), 4),
        "build_s": round(build_s, 2),
        "query_ms": round(query_ms, 3),
        "exact_query_ms": round(exact_ms, 3),
        "recall_with_exclude": round(recall(found_filtered, truth_filtered), 4),
        "query_ms_with_exclude": round(filtered_ms, 3),
        "n_vectors": len(ids), "dim": int(vectors.shape[1]), "n_queries": args.queries, "k": args.k,
        "n_excluded": args.excluded, "M": hnsw.M, "ef_construction": hnsw.ef_construction, "ef": hnsw.ef,
    }))


if __name__ == "__main__":
    main()
