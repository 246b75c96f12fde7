"""The Pool: stable integer ids, texts, and any extra columns (labels, splits, metadata).

Ids a user types or imports may be integers or strings (``tw13983``, UUIDs). Every stage after loading works on
int64 ids, so a pool whose id column holds strings keeps those strings as ``keys`` and uses a stable 63-bit hash
of each key as its internal id (:func:`key_to_id`): the same key maps to the same id whatever the row order, so
labels survive a reordered or extended file. :meth:`Pool.resolve` and :meth:`Pool.external` convert at the
boundaries (typed ids, label files, exports, printed output).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from textsel.errors import DataError
from textsel.ids import parse_doc_id

ExternalId = int | str


def key_to_id(key: str) -> int:
    """The internal id of a string id: the first 63 bits of its BLAKE2b digest (non-negative, stable)."""
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


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
    keys : ndarray of str, optional
        The string ids as given, aligned with ``texts``; ``ids`` must then be ``key_to_id`` of each key
        (see :meth:`from_keys`). None: the ids are the integers users type.
    """

    ids: np.ndarray
    texts: list[str]
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    source: str = ""
    keys: np.ndarray | None = None
    dedupe_report: object = field(default=None, repr=False)  # textsel.data._dedupe.DedupeReport: rows dropped

    @classmethod
    def from_keys(cls, keys: Sequence[str], texts: list[str], columns: dict[str, np.ndarray] | None = None,
                  source: str = "") -> Pool:
        """A pool whose ids are strings: internal ids are ``key_to_id`` of each key."""
        key_array = np.empty(len(keys), dtype=object)
        key_array[:] = [str(key) for key in keys]
        return cls(ids=np.fromiter((key_to_id(key) for key in key_array), dtype=np.int64, count=len(key_array)),
                   texts=texts, columns=columns or {}, source=source, keys=key_array)

    def __post_init__(self) -> None:
        ids = np.asarray(self.ids, dtype=np.int64)
        object.__setattr__(self, "ids", ids)
        if self.keys is not None and len(self.keys) != len(ids):
            raise DataError(f"{len(self.keys)} string ids but {len(ids)} ids", file=self.source or None)
        if len(ids) != len(self.texts):
            raise DataError(f"{len(ids)} ids but {len(self.texts)} texts", file=self.source or None)
        for name, values in self.columns.items():
            if len(values) != len(ids):
                raise DataError(f"has {len(values)} values for {len(ids)} texts",
                                file=self.source or None, column=name)
        unique, counts = np.unique(ids, return_counts=True)
        if len(unique) != len(ids):
            duplicate = int(unique[counts > 1][0])
            first, row = (int(position) for position in np.flatnonzero(ids == duplicate)[:2])
            shown = duplicate if self.keys is None else repr(self.keys[row])
            if self.keys is not None and self.keys[row] != self.keys[first]:  # astronomically rare
                shown = f"{self.keys[first]!r} and {self.keys[row]!r} (same hash)"
            raise DataError(f"duplicate id {shown}; ids must be unique", file=self.source or None,
                            row=row + 1, column="id")

    @property
    def has_string_ids(self) -> bool:
        return self.keys is not None

    @cached_property
    def _key_ids(self) -> dict[str, int]:
        return dict(zip(self.keys.tolist(), self.ids.tolist(), strict=True)) if self.keys is not None else {}

    @cached_property
    def _id_positions(self) -> dict[int, int]:
        return {doc_id: position for position, doc_id in enumerate(self.ids.tolist())}

    def text_of(self, doc_id: int) -> str:
        """The text of one internal id (a dict lookup, for row-by-row checks of large files)."""
        if doc_id not in self._id_positions:
            raise DataError(f"id {doc_id} is not in the pool", file=self.source or None, column="id")
        return self.texts[self._id_positions[doc_id]]

    def resolve_one(self, value: object, *, file: str | None = None, row: int | None = None,
                    column: str | None = "id") -> int:
        """The internal id of an id as typed or imported (``"17"``, ``17``, ``"tw13983"``).

        Raises DataError naming ``file``, ``row`` and ``column`` when it is malformed or not in the pool.
        """
        if isinstance(value, (bool, np.bool_)) or value is None:
            raise DataError(f"id {value!r} is not an id", file=file, row=row, column=column)
        if self.keys is not None:  # the id exactly as given; one typed with spaces around it, if only that matches
            key = str(value) if isinstance(value, (str, int, np.integer)) else None
            if key is not None and key not in self._key_ids and key.strip() != key:
                key = key.strip()
            if key is None or key not in self._key_ids:
                raise DataError(f"id {value!r} is not in the pool", file=file, row=row, column=column)
            return self._key_ids[key]
        if isinstance(value, (int, np.integer)):
            doc_id = int(value)
        elif isinstance(value, str):
            doc_id = parse_doc_id(value, file=file, row=row, column=column)
        else:
            raise DataError(f"id {value!r} is not an integer", file=file, row=row, column=column)
        if doc_id not in self._id_positions:
            raise DataError(f"id {doc_id} is not in the pool", file=file, row=row, column=column)
        return doc_id

    def resolve(self, values: Sequence[object]) -> np.ndarray:
        """Internal ids of many typed or imported ids; the first bad one raises DataError naming it."""
        return np.fromiter((self.resolve_one(value, column=None) for value in values), dtype=np.int64,
                           count=len(values))

    def external(self, ids: np.ndarray | Sequence[int]) -> list[ExternalId]:
        """The ids as users know them (the string ids as given, else the integers) of internal ``ids``."""
        ids = np.asarray(ids, dtype=np.int64)
        if self.keys is None:
            return [int(doc_id) for doc_id in ids]
        return self.keys[self.positions(ids)].tolist()

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
        """One Pool of ``pools`` in order (ids must stay unique); extra columns are kept when every pool has them.

        String ids stay as given: when the first pool has string ids, the integer ids of a later one become its
        decimal strings; string ids after a first pool of integer ids raise DataError (they would be hashed into
        ids nobody could type)."""
        names = set.intersection(*(set(pool.columns) for pool in pools))
        columns = {name: np.concatenate([pool.columns[name] for pool in pools]) for name in sorted(names)}
        texts = [text for pool in pools for text in pool.texts]
        if pools[0].keys is None:
            for pool in pools[1:]:
                if pool.keys is not None:
                    raise DataError(f"ids such as {pool.keys[0]!r} are strings, but this pool's ids are integers; "
                                    f"use integer ids (canonical decimal) or a new project for string ids",
                                    file=pool.source or None, column="id")
            return Pool(ids=np.concatenate([pool.ids for pool in pools]), texts=texts, columns=columns,
                        source=pools[0].source)
        keys = [key for pool in pools for key in (pool.keys.tolist() if pool.keys is not None
                                                  else [str(doc_id) for doc_id in pool.ids.tolist()])]
        return Pool.from_keys(keys, texts, columns, pools[0].source)

    def subset(self, positions: np.ndarray | list[int]) -> Pool:
        """A new Pool with the rows at ``positions`` (ids are kept)."""
        positions = np.asarray(positions, dtype=np.int64)
        return Pool(
            ids=self.ids[positions],
            texts=[self.texts[i] for i in positions],
            columns={name: values[positions] for name, values in self.columns.items()},
            source=self.source,
            keys=None if self.keys is None else self.keys[positions],
        )

    def fingerprint(self) -> str:
        """A sha256 over ids and texts: the cache key for embeddings of this pool."""
        digest = hashlib.sha256()
        digest.update(self.ids.tobytes())
        for text in self.texts:
            digest.update(text.encode("utf-8", "surrogatepass"))
            digest.update(b"\0")
        return digest.hexdigest()
