"""Candidate pools: which unlabeled documents a strategy scores each round.

Every pool has the same tiny interface, in document ids:

- ``update(labeled_ids)``: tell the pool which documents are labeled now (all of them, or only the new ones;
  ids it has already seen are skipped, so a fresh process can replay every label once);
- ``candidates(pool_ids, labeled_ids) -> ids``: sorted unique unlabeled ids to score this round;
- ``size``: how many candidates the last call returned.

``AllCandidates`` is the full-scan baseline ("-All"), ``SEALSCandidates`` the kNN pool of Coleman et al.
(AAAI 2022) and ``RandomCandidates`` a fresh random subset per round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from textsel._setops import setdiff, unique
from textsel.errors import check_param


class CandidatePool(Protocol):
    """What the round engine needs from a candidate pool."""

    size: int

    def update(self, labeled_ids: np.ndarray) -> None: ...

    def candidates(self, pool_ids: np.ndarray, labeled_ids: np.ndarray) -> np.ndarray: ...


def _as_ids(ids) -> np.ndarray:
    return np.asarray(list(ids) if isinstance(ids, set | dict) else ids, dtype=np.int64).ravel()


def _unlabeled(pool_ids: np.ndarray, labeled_ids: np.ndarray) -> np.ndarray:
    """Sorted pool ids minus labeled ids, in O(n) when the pool ids are already sorted."""
    pool_ids = _as_ids(pool_ids)
    if len(pool_ids) > 1 and not (pool_ids[1:] > pool_ids[:-1]).all():
        pool_ids = unique(pool_ids)
    labeled_ids = _as_ids(labeled_ids)
    if not len(labeled_ids):
        return pool_ids
    found = np.searchsorted(pool_ids, labeled_ids)
    inside = found < len(pool_ids)
    found = found[inside][pool_ids[found[inside]] == labeled_ids[inside]]
    keep = np.ones(len(pool_ids), dtype=bool)
    keep[found] = False
    return pool_ids[keep]


def sorted_union(sorted_ids: np.ndarray, more: np.ndarray) -> np.ndarray:
    """``sorted_ids`` (sorted, unique) with the ids of ``more`` it lacks inserted in order: O(n + m log m).

    ``np.union1d`` sorts (or hashes) all n + m ids again: a tenth of a second per round once the SEALS pool holds
    300k candidates, for the few thousand neighbours a round adds.
    """
    more = unique(_as_ids(more))
    if not len(sorted_ids):
        return more
    places = np.searchsorted(sorted_ids, more)
    absent = more[sorted_ids[np.minimum(places, len(sorted_ids) - 1)] != more]
    return np.insert(sorted_ids, np.searchsorted(sorted_ids, absent), absent)


class AllCandidates:
    """Every unlabeled document: the full-scan baseline of each strategy."""

    def __init__(self) -> None:
        self.size = 0

    def update(self, labeled_ids: np.ndarray) -> None:
        """Nothing to remember: the pool is always everything unlabeled."""

    def candidates(self, pool_ids: np.ndarray, labeled_ids: np.ndarray) -> np.ndarray:
        unlabeled = _unlabeled(pool_ids, labeled_ids)
        self.size = len(unlabeled)
        return unlabeled


class SEALSCandidates:
    """Union of the k nearest neighbours of every labeled document, minus the labeled ones.

    The pool grows incrementally: ``update`` searches the index only for documents it has not seen yet, all of
    them in one batched query on every core, so a round costs O(new labels x k) index work however large the
    unlabeled pool is. Its state (``neighbours_``, ``seen_``: sorted id arrays) can be saved and restored with
    :mod:`textsel.candidate_state`, so a new process does not replay the label history.

    Parameters
    ----------
    index : ExactIndex, HNSWIndex or NeighbourTable
        Built over the pool's embeddings, keyed by document id (a NeighbourTable answers from precomputed rows).
    k : int, default=100
        Neighbours per labeled document (the paper's default).
    ef : int, optional
        HNSW search width for these queries; None means k. SEALS needs each labeled document's neighbourhood,
        not its exact k nearest: on amazon_multidomain ef=100 gives recall@100 0.966 at 0.20 ms per query, the
        index default ef=200 0.990 at 0.35 ms (``benchmarks/index_recall.py`` measures recall).
    """

    def __init__(self, index, k: int = 100, ef: int | None = None) -> None:
        self.index = index
        self.k = k
        self.ef = ef
        self.size = 0
        self.neighbours_ = np.zeros(0, dtype=np.int64)
        self.seen_ = np.zeros(0, dtype=np.int64)
        self.queried_ = 0  # documents whose neighbours the last update searched for

    def update(self, labeled_ids: np.ndarray) -> None:
        """Add the neighbours of labeled documents not seen before (one batched index query)."""
        check_param("SEALSCandidates", "k", self.k, isinstance(self.k, int | np.integer) and self.k >= 1,
                    "an int >= 1")
        new = setdiff(_as_ids(labeled_ids), self.seen_)  # sorted, unique
        self.queried_ = len(new)
        if not len(new):
            return
        ef = int(self.ef) if self.ef is not None else int(self.k)
        if hasattr(self.index, "neighbours"):  # textsel indexes and NeighbourTable: one batched lookup
            found = self.index.neighbours(new, int(self.k), ef=ef)
        else:
            found, _ = self.index.search(self.index.get_vectors(new), int(self.k), ef=ef)
        found = found[found >= 0]
        self.neighbours_ = sorted_union(self.neighbours_, found)
        self.seen_ = sorted_union(self.seen_, new)

    def candidates(self, pool_ids: np.ndarray, labeled_ids: np.ndarray) -> np.ndarray:
        """Neighbours of labeled documents that are not labeled themselves (``pool_ids`` is not scanned)."""
        self.update(labeled_ids)
        result = _unlabeled(self.neighbours_, labeled_ids)
        self.size = len(result)
        return result


class RandomCandidates:
    """A fresh random subset of ``m`` unlabeled documents each round (deterministic per seed and round).

    Parameters
    ----------
    m : int
        Subset size.
    seed : int, default=0
    """

    def __init__(self, m: int, seed: int = 0) -> None:
        self.m = m
        self.seed = seed
        self.size = 0

    def update(self, labeled_ids: np.ndarray) -> None:
        """Nothing to remember: each round draws afresh."""

    def candidates(self, pool_ids: np.ndarray, labeled_ids: np.ndarray) -> np.ndarray:
        check_param("RandomCandidates", "m", self.m, isinstance(self.m, int | np.integer) and self.m >= 1,
                    "an int >= 1")
        unlabeled = _unlabeled(pool_ids, labeled_ids)
        rng = np.random.default_rng([int(self.seed), len(_as_ids(labeled_ids))])
        if len(unlabeled) > self.m:
            unlabeled = np.sort(rng.choice(unlabeled, size=int(self.m), replace=False))
        self.size = len(unlabeled)
        return unlabeled


POOLS = ("all", "seals", "random")
POOL_CHOICES = ("auto", *POOLS)

# The cost model behind "auto", in seconds. Measured on a 100k-text project of Amazon MiniLM vectors (float16 memory
# map, HNSW M=16, benchmarks/next_latency.py): per document, a full scan (read + score) and scoring one SEALS
# candidate cost about the same; loading the HNSW graph costs ~1.5x a scan per indexed document, one neighbour query
# (k=100) ~230x, and a row of the neighbour table nothing that matters. The absolute scale (SCAN_S_PER_DOC) only
# sets the figures quoted in the reason; the choice depends on the ratios.
SCAN_S_PER_DOC = 5e-7
SEALS_S_PER_CANDIDATE = 1.1 * SCAN_S_PER_DOC
SEALS_INDEX_LOAD_S_PER_DOC = 1.5 * SCAN_S_PER_DOC
SEALS_S_PER_QUERY = {"table": 0.0, "loaded": 230 * SCAN_S_PER_DOC, "index": 230 * SCAN_S_PER_DOC}
# SEALS can miss positives a scan finds (it scores only neighbours of labeled texts), so "auto" takes it only where
# the time it saves is one a person notices: a predicted saving of at least NOTICEABLE_SAVING_S. The model's seconds
# ran ~3x below wall time on the retired 1M pool of copied Amazon reviews (next_latency_1m.json, in git up to a40be5e:
# predicted saving 0.44 s, measured `next` 2.35 s scanning vs 0.91 s with SEALS; not yet measured again on the real
# review_sentences pool), so 0.3 s predicted is about 1 s of waiting; SEALS starts paying from ~700k texts. On
# 11.6k-14.6k tweets the old rule chose SEALS at k=16 to save ~50 ms a round and lost 8-28% of the positives a scan
# found by 1,000 labels (issue 21).
NOTICEABLE_SAVING_S = 0.3
# A scan of float32 static vectors (256 dimensions, ``[features] kind = "static"``) costs about a quarter of the
# float16 MiniLM scan above per document: `textsel next --pool all` spent 0.14 s selecting among the 1.1M review
# sentences (its whole command, process start included, is timed in docs/scale.md).
STATIC_SCAN_S_PER_DOC = 1.3e-7
AUTO_K_FLOOR = 100  # k=16 lost those positives; k=100 lost none on the same concepts (0.96-1.05 of a scan)


@dataclass(frozen=True)
class PoolChoice:
    """Which candidate pool a round uses, with which k, and why (recorded with the round)."""

    name: str
    k: int
    reason: str


def auto_k(n_docs: int) -> int:
    """Neighbours per label for a pool of ``n_docs``: sqrt(N)/10, but never below :data:`AUTO_K_FLOOR` (100).

    k=16 and k=10 lose positives of concepts the embedding does not cluster tightly (8-28% fewer found by 1,000
    labels on tweets); k=100 (the SEALS paper's default) lost none. Where "auto" picks SEALS at all (pools of
    hundreds of thousands of texts and more) the SEALS pool stays a small fraction of the pool at k=100.
    """
    return max(AUTO_K_FLOOR, scaled_k(n_docs))


def scaled_k(n_docs: int) -> int:
    """sqrt(N)/10 within [16, 100]: the static first pass widens it threefold (:func:`static_k`)."""
    return int(min(100, max(16, round(n_docs ** 0.5 / 10))))


STATIC_K_FACTOR = 3


def static_k(n_docs: int) -> int:
    """Neighbours per label in static space: 3 x :func:`textsel.candidates.scaled_k` (48 to 300; 300 from 1M texts).

    Static vectors place fewer positives among a positive's nearest neighbours than MiniLM does (issue 11: about
    half the kNN lift), so their neighbourhoods must be wider to hold as many. Measured by
    ``benchmarks/static_first_pass.py`` (68,650 Amazon reviews, 1,000 labels, 5 seeds, against all-MiniLM SEALS
    at k=100): static k=300 found 0.99-1.16x the positives at 0.99-1.07x the AP on three rare domains, static
    k=100 0.82-1.16x (it lost positives on one). Three times the transformer's k keeps the transformer cost at
    most 3 x auto_k new texts per label.
    """
    return STATIC_K_FACTOR * scaled_k(n_docs)


def choose_pool(requested: str, *, n_docs: int, n_labeled: int, n_new_labels: int, n_known_candidates: int,
                k: int, neighbours: str = "index", seals_k: int | None = None,
                scan_s_per_doc: float = SCAN_S_PER_DOC) -> PoolChoice:
    """Resolve ``requested`` ("auto" or a name in :data:`POOLS`) to the pool a round uses.

    For "auto" the predicted seconds of a full scan (every unlabeled document, ``scan_s_per_doc`` each) are
    compared with SEALS: a lookup per new label, scoring its candidates (the known ones plus k per new label,
    capped at the pool; k = ``seals_k``, by default :func:`auto_k`) and, when ``neighbours`` is "index" (the graph
    is not loaded yet and there is no neighbour table), loading the index. SEALS wins only where it saves at least
    :data:`NOTICEABLE_SAVING_S` (it may miss positives a scan finds). Nothing labeled yet means a scan: SEALS has
    no neighbourhood to start from.
    """
    check_param("choose_pool", "requested", requested, requested in POOL_CHOICES, f"one of {POOL_CHOICES}")
    check_param("choose_pool", "neighbours", neighbours, neighbours in SEALS_S_PER_QUERY,
                f"one of {tuple(SEALS_S_PER_QUERY)}")
    if requested != "auto":
        return PoolChoice(requested, k, "requested")
    k = auto_k(n_docs) if seals_k is None else seals_k
    unlabeled = max(n_docs - n_labeled, 0)
    if not n_labeled:
        return PoolChoice("all", k, "nothing is labeled yet, so SEALS has no neighbourhood to search")
    scan = scan_s_per_doc * unlabeled
    candidates = min(unlabeled, n_known_candidates + k * n_new_labels)
    seals = (SEALS_S_PER_QUERY[neighbours] * n_new_labels
             + SEALS_S_PER_CANDIDATE * scan_s_per_doc / SCAN_S_PER_DOC * candidates
             + (SEALS_INDEX_LOAD_S_PER_DOC * n_docs if neighbours == "index" else 0.0))
    name = "seals" if scan - seals >= NOTICEABLE_SAVING_S else "all"
    source = {"table": "the neighbour table", "loaded": "the loaded index", "index": "loading the index"}[neighbours]
    verdict = "" if name == "seals" else (f"; a scan finds more positives and SEALS would save under "
                                          f"{NOTICEABLE_SAVING_S} s, so scan")
    return PoolChoice(name, k, f"predicted {seals:.2f} s for SEALS (k={k}, ~{candidates:,} candidates, "
                               f"{n_new_labels:,} new labels, {source}) vs {scan:.2f} s for scanning "
                               f"{unlabeled:,} texts{verdict}")


def make_candidate_pool(name: str, *, index=None, k: int = 100, m: int = 10_000, seed: int = 0) -> CandidatePool:
    """Build a candidate pool by name: "all", "seals" (needs ``index``) or "random"."""
    check_param("make_candidate_pool", "name", name, name in POOLS, f"one of {POOLS}")
    if name == "all":
        return AllCandidates()
    if name == "random":
        return RandomCandidates(m, seed)
    check_param("make_candidate_pool", "index", index, index is not None, "an index for the 'seals' pool")
    return SEALSCandidates(index, k)
