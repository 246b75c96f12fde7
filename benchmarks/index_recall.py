"""HNSW recall@k against exact search on the shared amazon_multidomain MiniLM embeddings (88,300 x 384).

Builds HNSWIndex with textsel's defaults (or the M / ef_construction given), answers ~1,000 random stored rows as
queries in one batch, and compares with ExactIndex. The headline is the configuration SEALS runs: its candidate
pool queries at ef = k (``SEALSCandidates(ef=None)``), so ``recall_at_k`` and ``query_ms`` are measured at ef=k;
the index's default search width (ef=200) is reported beside it for reference (``reference_ef200``). Also measures
the filtered path (queries with ``exclude`` = the labeled ids), whose recall must hold too. Timers hold only the
one batched ``search`` call (build and the exact search timed apart).

    .venv/bin/python benchmarks/index_recall.py [--queries 1000] [--k 100] [--M 16] [--out results.json]

The last line printed is one JSON object with the figures and their provenance (also written to --out).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _results import add_run_options, start_run

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "amazon_multidomain"


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of the true k neighbours (ignoring -1 padding) that were found."""
    hits = [len(np.intersect1d(row, true_row[true_row >= 0])) / max((true_row >= 0).sum(), 1)
            for row, true_row in zip(found, truth, strict=True)]
    return float(np.mean(hits))


def timed_search(index, queries: np.ndarray, k: int, exclude: np.ndarray | None = None,  # noqa: ANN001
                 ef: int | None = None) -> tuple[np.ndarray, float]:
    """Found ids and milliseconds per query of one batched search."""
    start = time.perf_counter()
    found, _ = index.search(queries, k, exclude=exclude, ef=ef)
    return found, (time.perf_counter() - start) * 1000 / len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--excluded", type=int, default=1000, help="labeled ids excluded in the filtered run")
    parser.add_argument("--M", type=int, default=None, help="override HNSWIndex's default M")
    parser.add_argument("--ef-construction", type=int, default=None)
    parser.add_argument("--reference-ef", type=int, default=200, help="wider search reported for reference")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    parser.add_argument("--data", type=Path, default=DATA)
    args = add_run_options(parser).parse_args()
    run = start_run(args)

    import pyarrow.parquet as pq

    from textsel.embed import load_embeddings
    from textsel.index import ExactIndex, HNSWIndex

    ids = pq.read_table(args.data / "data.parquet", columns=["id"]).column("id").to_numpy().astype(np.int64)
    vectors = load_embeddings(args.data / "minilm.f16.npy", n_rows=len(ids))
    settings = {name: value for name, value in (("M", args.M), ("ef_construction", args.ef_construction))
                if value is not None}
    hnsw = HNSWIndex(**settings)
    start = time.perf_counter()
    hnsw.add(vectors, ids)
    build_s = time.perf_counter() - start
    exact = ExactIndex()
    exact.add(vectors, ids)

    rng = np.random.default_rng(0)
    queries = vectors[rng.choice(len(ids), size=args.queries, replace=False)]
    exclude = rng.choice(ids, size=args.excluded, replace=False)
    truth, exact_ms = timed_search(exact, queries, args.k)
    truth_filtered, _ = timed_search(exact, queries, args.k, exclude)
    figures = {}
    for name, ef in (("seals", args.k), ("reference", args.reference_ef)):  # SEALS's width first, then wider
        found, query_ms = timed_search(hnsw, queries, args.k, ef=ef)
        found_filtered, filtered_ms = timed_search(hnsw, queries, args.k, exclude, ef=ef)
        assert not np.isin(found_filtered, exclude).any()
        figures[name] = {"ef": ef, "recall_at_k": round(recall(found, truth), 4), "query_ms": round(query_ms, 3),
                         "recall_with_exclude": round(recall(found_filtered, truth_filtered), 4),
                         "query_ms_with_exclude": round(filtered_ms, 3)}
    run.finish({
        "benchmark": "index_recall", "configuration": "SEALS: ef = k",
        **figures["seals"], f"reference_ef{args.reference_ef}": figures["reference"],
        "build_s": round(build_s, 2), "exact_query_ms": round(exact_ms, 3),
        "n_vectors": len(ids), "dim": int(vectors.shape[1]), "n_queries": args.queries, "k": args.k,
        "n_excluded": args.excluded, "M": hnsw.M, "ef_construction": hnsw.ef_construction,
    }, seeds=[0], out=args.out)


if __name__ == "__main__":
    main()
