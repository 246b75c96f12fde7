"""Candidate rows gathered once: a contiguous float32 copy of the feature rows of a growing candidate pool.

A SEALS pool only grows, so re-reading its candidates from the pool's feature matrix every round (scattered rows
of a float16 memory map, each converted to float32) repeats work that the last round already did: after a few
thousand labels at a million texts that gather dominates the round. :class:`CandidateRows` keeps the rows of every
id it was asked for in one contiguous float32 array, appending only ids it has not seen, and scores the array in
contiguous chunks; a round then reads only its new rows from the feature matrix.
"""

from __future__ import annotations

import numpy as np

_CHUNK = 65_536


class CandidateRows:
    """Float32 feature rows of candidate ids, appended in the order the ids first appear.

    Attributes
    ----------
    ids_ : ndarray of int64
        The ids held, in row order.
    rows_ : ndarray of float32, shape (len(ids_), dim)
        Their feature rows (a view of a buffer that grows geometrically, so appends are amortised).
    gathered_ : int
        Rows read from the feature matrix by the last :meth:`extend` (the new ids only).
    """

    def __init__(self) -> None:
        self.ids_ = np.zeros(0, dtype=np.int64)
        self._buffer: np.ndarray | None = None
        self._sorted_ids = np.zeros(0, dtype=np.int64)
        self._sorted_rows = np.zeros(0, dtype=np.int64)
        self.gathered_ = 0

    def __len__(self) -> int:
        return len(self.ids_)

    @property
    def rows_(self) -> np.ndarray:
        return self._buffer[:len(self.ids_)] if self._buffer is not None else np.zeros((0, 0), dtype=np.float32)

    def extend(self, ids: np.ndarray, positions: np.ndarray, features) -> None:  # noqa: ANN001 - rows by position
        """Hold the rows of ``ids`` (at ``positions`` of ``features``); only ids not held yet are read."""
        ids = np.asarray(ids, dtype=np.int64)
        new = ~self._holds(ids)
        self.gathered_ = int(new.sum())
        if not self.gathered_:
            return
        new_ids, new_positions = ids[new], np.asarray(positions)[new]
        new_ids, first = np.unique(new_ids, return_index=True)
        new_positions = new_positions[first]
        rows = np.asarray(features[new_positions], dtype=np.float32)
        held = len(self.ids_)
        if self._buffer is None or self._buffer.shape[1] != rows.shape[1]:
            self._buffer = np.empty((max(2 * len(rows), 1024), rows.shape[1]), dtype=np.float32)
        elif held + len(rows) > len(self._buffer):
            grown = np.empty((max(2 * len(self._buffer), held + len(rows)), rows.shape[1]), dtype=np.float32)
            grown[:held] = self._buffer[:held]
            self._buffer = grown
        self._buffer[held:held + len(rows)] = rows
        self.ids_ = np.concatenate([self.ids_, new_ids])
        at = np.searchsorted(self._sorted_ids, new_ids)
        self._sorted_ids = np.insert(self._sorted_ids, at, new_ids)
        self._sorted_rows = np.insert(self._sorted_rows, at, np.arange(held, held + len(new_ids)))

    def _holds(self, ids: np.ndarray) -> np.ndarray:
        if not len(self._sorted_ids):
            return np.zeros(len(ids), dtype=bool)
        at = np.minimum(np.searchsorted(self._sorted_ids, ids), len(self._sorted_ids) - 1)
        return self._sorted_ids[at] == ids

    def row_numbers(self, ids: np.ndarray) -> np.ndarray:
        """Rows of ``rows_`` holding ``ids`` (every id must be held)."""
        ids = np.asarray(ids, dtype=np.int64)
        at = np.searchsorted(self._sorted_ids, ids)
        if len(ids) and (at.max() >= len(self._sorted_ids) or (self._sorted_ids[at] != ids).any()):
            raise KeyError("an id is not among the candidate rows held")
        return self._sorted_rows[at]

    def predict_proba(self, learner, ids: np.ndarray) -> np.ndarray:  # noqa: ANN001 - a fitted learner
        """``learner``'s probabilities of ``ids`` (all held): contiguous chunks of the held rows are scored and the
        asked rows picked afterwards, so nothing is gathered again."""
        rows = self.row_numbers(ids)
        held = self.rows_
        if not len(rows):
            return np.zeros((0, len(learner.classes_)))
        if len(rows) < len(held) // 2:  # most held rows are no candidates any more: gather the few that are
            return np.vstack([learner.predict_proba(held[rows[start:start + _CHUNK]])
                              for start in range(0, len(rows), _CHUNK)])
        scored = np.vstack([learner.predict_proba(held[start:start + _CHUNK])
                            for start in range(0, len(held), _CHUNK)])
        return scored[rows]


def grows(candidate_pool) -> bool:  # noqa: ANN001 - a candidate pool, perhaps wrapped (``inner``)
    """True for a candidate pool that only grows (SEALS: it keeps ``neighbours_``), whose rows are worth holding."""
    return hasattr(candidate_pool, "neighbours_") or hasattr(getattr(candidate_pool, "inner", None), "neighbours_")
