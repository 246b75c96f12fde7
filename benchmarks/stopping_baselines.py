"""Stopping heuristics read off a finished label sequence, for `benchmarks/stopping.py`'s baselines.

Each takes the sequence of oracle outcomes (True = positive) in the order a run labeled them and returns the number
of labels at which the heuristic would have stopped, or None if it never fires within the sequence.

- ``knee_stop``: Cormack & Grossman (2016), "Engineering quality and reliability in technology-assisted review":
  at rank ``i`` (checked every ``step`` labels), the knee ``s`` is the point of the gain curve farthest from the
  line through the origin and ``(i, found_i)``; stop when ``i >= 150`` and the slope ratio
  ``(found_s / s) / ((found_i - found_s + 1) / (i - s))`` reaches ``156 - min(found_i, 150)``.
- ``negatives_in_a_row_stop``: stop after ``n`` negatives in a row (ASReview's "N irrelevant in a row").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def knee_stop(outcomes: Sequence[bool], step: int = 20, min_rank: int = 150) -> int | None:
    gains = np.cumsum(np.asarray(outcomes, dtype=np.int64))
    for rank in range(min_rank, len(gains) + 1, step):
        found = int(gains[rank - 1])
        if found == 0:
            continue
        curve = gains[:rank]
        positions = np.arange(1, rank + 1)
        # distance from the line (0, 0)-(rank, found), up to a constant factor
        knee = int(np.argmax(curve * rank - positions * found)) + 1
        if knee >= rank:
            continue
        slope_before = gains[knee - 1] / knee
        slope_after = (found - gains[knee - 1] + 1) / (rank - knee)
        if slope_before / slope_after >= 156 - min(found, 150):
            return rank
    return None


def negatives_in_a_row_stop(outcomes: Sequence[bool], n: int) -> int | None:
    run = 0
    for position, positive in enumerate(outcomes, start=1):
        run = 0 if positive else run + 1
        if run >= n:
            return position
    return None
