"""Rare concepts from the shared data sets (../shared/data), as the stopping and diagnostic benchmarks use them.

A concept is a data set, a column and the value that makes a text positive; optionally the rows are first cut to
a random subset (``max_rows``, keeping the natural positive rate: CPU-cheap pools) and the positives subsampled to
a target rate (``rate``: tv_spoilers is 52% spoilers, a rare-class search needs ~3%). Rows are drawn with
``subsample_seed`` so every strategy and seed of a benchmark sees the same pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass(frozen=True)
class Concept:
    name: str
    folder: str
    column: str
    positive: object
    rate: float | None = None  # subsample positives to this share
    max_rows: int | None = None  # first cut the data set to this many random rows
    valued_rows_only: bool = False  # drop rows whose column is empty (label_t2 covers 31k of 88k reviews)


@dataclass
class ConceptData:
    concept: Concept
    ids: np.ndarray
    embeddings: np.ndarray
    is_positive: np.ndarray
    texts: list[str]

    @property
    def prevalence(self) -> float:
        return float(self.is_positive.mean())


CONCEPTS = {concept.name: concept for concept in [
    Concept("tv_spoilers@3%", "tv_spoilers", "label", 1, rate=0.03),
    Concept("hotel_tips", "hotel_tips", "label", 1),
    Concept("sms_spam", "sms_spam", "label", "spam"),
    Concept("amazon automotive", "amazon_multidomain", "domain", "automotive", max_rows=10_000),
    Concept("amazon cell_phones_service", "amazon_multidomain", "domain", "cell_phones_service", max_rows=10_000),
    Concept("amazon baby", "amazon_multidomain", "domain", "baby", max_rows=10_000),
    Concept("amazon magazines", "amazon_multidomain", "domain", "magazines", max_rows=10_000),
    Concept("amazon office_products", "amazon_multidomain", "domain", "office_products", max_rows=20_000),
    Concept("amazon negative reviews@3%", "amazon_multidomain", "label_t2", -1, rate=0.03, max_rows=12_000,
            valued_rows_only=True),
    Concept("blitzer 1-star@3%", "amazon_blitzer", "rating", 1.0, rate=0.03),
    Concept("blitzer books@3%", "amazon_blitzer", "domain", "books", rate=0.03),
    Concept("amazon automotive@0.5%", "amazon_multidomain", "domain", "automotive", rate=0.005, max_rows=10_000),
    Concept("amazon cell_phones_service@1%", "amazon_multidomain", "domain", "cell_phones_service", rate=0.01,
            max_rows=10_000),
    Concept("hotel_tips@3%", "hotel_tips", "label", 1, rate=0.03),
    Concept("hotel_tips@5%", "hotel_tips", "label", 1, rate=0.05),
]}


def available() -> bool:
    return DATA.exists()


def load_concept(name: str, subsample_seed: int = 0) -> ConceptData:
    """The concept's pool: ids (row numbers of the data file), float32 embeddings, oracle labels, texts."""
    import pyarrow.parquet as pq

    concept = CONCEPTS[name]
    folder = DATA / concept.folder
    table = pq.read_table(folder / "data.parquet", columns=["text", concept.column]).to_pydict()
    values = np.asarray(table[concept.column], dtype=object)
    rng = np.random.default_rng(subsample_seed)
    rows = np.arange(len(values))
    if concept.valued_rows_only:
        rows = rows[np.asarray([value is not None for value in values])]
    if concept.max_rows is not None and len(rows) > concept.max_rows:
        rows = np.sort(rng.choice(rows, concept.max_rows, replace=False))
    is_positive = values[rows] == concept.positive
    if concept.rate is not None:  # keep every negative and enough positives for the target rate
        negatives, positives = rows[~is_positive], rows[is_positive]
        keep = rng.choice(positives, min(len(positives), int(concept.rate * len(negatives) / (1 - concept.rate))),
                          replace=False)
        rows = np.sort(np.concatenate([negatives, keep]))
    embeddings = np.load(folder / "minilm.f16.npy", mmap_mode="r")[rows].astype(np.float32)
    return ConceptData(concept, rows.astype(np.int64), embeddings, values[rows] == concept.positive,
                       [table["text"][row] for row in rows])
