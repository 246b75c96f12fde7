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

from typing import Protocol

import numpy as np

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
        pool_ids = np.unique(pool_ids)
    labeled_ids = _as_ids(labeled_ids)
    if not len(labeled_ids):
        return pool_ids
    found = np.searchsorted(pool_ids, labeled_ids)
    inside = found < len(pool_ids)
    found = found[inside][pool_ids[found[inside]] == labeled_ids[inside]]
    keep = np.ones(len(pool_ids), dtype=bool)
    keep[found] = False
    return pool_ids[keep]


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

    The pool grows incrementally: ``update`` searches the index only for documents it has not seen yet, so a
    round costs O(new labels x k) index work however large the unlabeled pool is.

    Parameters
    ----------
    index : ExactIndex or HNSWIndex
        Built over the pool's embeddings, keyed by document id.
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
        self.seen_: set[int] = set()

    def update(self, labeled_ids: np.ndarray) -> None:
        check_param("SEALSCandidates", "k", self.k, isinstance(self.k, int | np.integer) and self.k >= 1,
                    "an int >= 1")
        new = [i for i in dict.fromkeys(_as_ids(labeled_ids).tolist()) if i not in self.seen_]
        if not new:
            return
        new_ids = np.asarray(new, dtype=np.int64)
        found, _ = self.index.search(self.index.get_vectors(new_ids), int(self.k),
                                     ef=int(self.ef) if self.ef is not None else int(self.k))
        found = found[found >= 0]
        self.neighbours_ = np.union1d(self.neighbours_, found)
        self.seen_.update(new)

    def candidates(self, pool_ids: np.ndarray, labeled_ids: np.ndarray) -> np.ndarray:
        """Neighbours of labeled documents that are not labeled themselves (``pool_ids`` is not scanned)."""
        self.update(labeled_ids)
        labeled = _as_ids(labeled_ids)
        result = self.neighbours_[~np.isin(self.neighbours_, labeled)] if len(labeled) else self.neighbours_
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


def make_candidate_pool(name: str, *, index=None, k: int = 100, m: int = 10_000, seed: int = 0) -> CandidatePool:
    """Build a candidate pool by name: "all", "seals" (needs ``index``) or "random"."""
    check_param("make_candidate_pool", "name", name, name in POOLS, f"one of {POOLS}")
    if name == "all":
        return AllCandidates()
    if name == "random":
        return RandomCandidates(m, seed)
    check_param("make_candidate_pool", "index", index, index is not None, "an index for the 'seals' pool")
    return SEALSCandidates(index, k)
