"""Measure the embedding-task mismatch signals on real data, to choose and check textsel.diagnose's thresholds.

For each concept, a random labeled sample (as a project might hold after some rounds) is drawn, and the diagnostic
runs on the shared MiniLM embeddings. The spoiler concept (TV Tropes, positives subsampled to 3%) should fire;
Amazon product categories should not.

    python benchmarks/diagnose_thresholds.py [--labeled 1500] [--seed 0] [--proxy] [--out results.json]

Last line: one JSON object with a ``per_concept`` list and its provenance (also written to --out).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from _results import finish

from textsel.diagnose import diagnose
from textsel.index import ExactIndex

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CONCEPTS = [  # (name, data set, column, positive value, positive rate to subsample to or None, labeled x)
    ("tv_spoilers@3%", "tv_spoilers", "label", 1, 0.03, 1),
    ("hotel_tips", "hotel_tips", "label", 1, None, 1),
    ("sms_spam", "sms_spam", "label", "spam", None, 1),
    ("amazon baby", "amazon_multidomain", "domain", "baby", None, 1),
    ("amazon magazines", "amazon_multidomain", "domain", "magazines", None, 1),
    # at 0.8% a random sample of 1,500 holds ~12 positives: label more, as a project that found them would
    ("amazon automotive", "amazon_multidomain", "domain", "automotive", None, 4),
]


def run_concept(name: str, folder: str, column: str, positive: object, rate: float | None, labeled_factor: int,
                n_labeled: int, seed: int, use_proxy: bool) -> dict:
    rng = np.random.default_rng(seed)
    table = pq.read_table(DATA / folder / "data.parquet", columns=["id", "text", column]).to_pydict()
    embeddings = np.load(DATA / folder / "minilm.f16.npy").astype(np.float32)
    is_positive = np.asarray(table[column], dtype=object) == positive
    rows = np.arange(len(is_positive))
    if rate is not None:  # keep every negative and enough positives for the target rate
        negatives, positives = rows[~is_positive], rows[is_positive]
        keep = rng.choice(positives, int(rate * len(negatives) / (1 - rate)), replace=False)
        rows = np.sort(np.concatenate([negatives, keep]))
    ids = np.asarray(table["id"], dtype=np.int64)[rows]
    index = ExactIndex("cosine")
    index.add(embeddings[rows], ids)
    sample = rng.choice(len(rows), min(n_labeled * labeled_factor, len(rows)), replace=False)
    texts = [table["text"][rows[i]] for i in sample] if use_proxy else None
    result = diagnose(index, ids[sample], is_positive[rows][sample], texts=texts, seed=seed)
    print(f"== {name} (pool {len(rows)}, positive rate {is_positive[rows].mean():.3f})\n{result.report()}\n")
    return {"concept": name, "pool_size": int(len(rows)), **result.to_dict()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labeled", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--proxy", action="store_true", help="also cross-validate the fastText proxy")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args()
    started = time.perf_counter()
    per_concept = [run_concept(*concept, args.labeled, args.seed, args.proxy) for concept in CONCEPTS]
    fired = {row["concept"]: row["mismatch"] for row in per_concept}
    finish({"benchmark": "diagnose_thresholds", "labeled": args.labeled, "seed": args.seed, "mismatch": fired,
            "per_concept": per_concept}, seeds=[args.seed], started=started, out=args.out)


if __name__ == "__main__":
    main()
