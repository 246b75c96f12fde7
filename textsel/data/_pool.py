"""The Pool: stable integer ids, texts, and any extra columns (labels, splits, metadata)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from textsel.errors import DataError


@dataclass(frozen=True, eq=False)
class Pool:
    """A collection of texts with stable integer ids.

    Every later stage (embeddings, index, candidate pool, strategies, store) refers to documents by
    ``ids``, never by position, so a pool can be subset or reordered without breaking labels.

    Parameters
    ----------
    ids : ndarray of int64, shape (n,)
        Unique document ids.
    texts : list of str, length n
    columns : dict of str to ndarray, default={}
        Extra columns aligned with ``texts`` (labels, ``split``, ``book_id`` ...).
    source : str, default=""
        Where the pool was loaded from, used in error messages.
    """

    ids: np.ndarray
    texts: list[str]
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        ids = np.asarray(self.ids, dtype=np.int64)
        object.__setattr__(self, "ids", ids)
        if len(ids) != len(self.texts):
            raise DataError(f"{len(ids)} ids but {len(self.texts)} texts", file=self.source or None)
        for name, values in self.columns.items():
            if len(values) != len(ids):
                raise DataError(f"has {len(values)} values for {len(ids)} texts",
                                file=self.source or None, column=name)
        unique, counts = np.unique(ids, return_counts=True)
        if len(unique) != len(ids):
            duplicate = int(unique[counts > 1][0])
            row = int(np.flatnonzero(ids == duplicate)[1]) + 1
            raise DataError(f"duplicate id {duplicate}; ids must be unique", file=self.source or None,
                            row=row, column="id")

    def __len__(self) -> int:
        return len(self.ids)

    def column(self, name: str) -> np.ndarray:
        """Return an extra column, or raise naming the columns that exist."""
        if name not in self.columns:
            available = ", ".join(sorted(self.columns)) or "none"
            raise DataError(f"no column {name!r}; available columns: {available}",
                            file=self.source or None, column=name)
        return self.columns[name]

    def positions(self, ids: np.ndarray | list[int]) -> np.ndarray:
        """Map document ids to row positions; unknown ids raise DataError."""
        return self.positions_in(self.ids, ids, source=self.source)

    @staticmethod
    def positions_in(pool_ids: np.ndarray, ids: np.ndarray | list[int], *, source: str = "") -> np.ndarray:
        """Row positions of ``ids`` in ``pool_ids`` (a pool's ids, loaded or cached); unknown ids raise DataError.

        Sorted ids (the usual case) are searched directly, others through an argsort.
        """
        ids = np.asarray(ids, dtype=np.int64)
        pool_ids = np.asarray(pool_ids, dtype=np.int64)
        ascending = len(pool_ids) < 2 or bool((pool_ids[1:] > pool_ids[:-1]).all())
        order = None if ascending else np.argsort(pool_ids, kind="stable")
        found = np.searchsorted(pool_ids, ids, sorter=order)
        found = np.minimum(found, len(pool_ids) - 1) if len(pool_ids) else found
        positions = (found if order is None else order[found]) if len(pool_ids) else np.zeros(0, dtype=np.int64)
        missing = ids[pool_ids[positions] != ids] if len(ids) and len(pool_ids) else ids
        if len(missing):
            raise DataError(f"id {int(missing[0])} is not in the pool ({len(missing)} unknown ids)",
                            file=source or None, column="id")
        return positions

    @staticmethod
    def concat(pools: list[Pool]) -> Pool:
        """One Pool of ``pools`` in order (ids must stay unique); extra columns are kept when every pool has them."""
        names = set.intersection(*(set(pool.columns) for pool in pools))
        return Pool(ids=np.concatenate([pool.ids for pool in pools]),
                    texts=[text for pool in pools for text in pool.texts],
                    columns={name: np.concatenate([pool.columns[name] for pool in pools]) for name in sorted(names)},
                    source=pools[0].source)

    def subset(self, positions: np.ndarray | list[int]) -> Pool:
        """A new Pool with the rows at ``positions`` (ids are kept)."""
        positions = np.asarray(positions, dtype=np.int64)
        return Pool(
            ids=self.ids[positions],
            texts=[self.texts[i] for i in positions],
            columns={name: values[positions] for name, values in self.columns.items()},
            source=self.source,
        )

    def fingerprint(self) -> str:
        """A sha256 over ids and texts: the cache key for embeddings of this pool."""
        digest = hashlib.sha256()
        digest.update(self.ids.tobytes())
        for text in self.texts:
            digest.update(text.encode("utf-8", "surrogatepass"))
            digest.update(b"\0")
        return digest.hexdigest()
