"""Duplicate rows in a data file: named in full when they are an error, or dropped on request with a report.

Public data sets repeat rows (the same tweet twice, under the same id). Without ``dedupe`` a repeated id stops
loading with :class:`DuplicateIdsError`, which counts every repeating row and names the first ids. With ``dedupe``
``"id"`` the first row of each id is kept; with ``"text"`` the first row of each text (compared by sha256, so a
row repeating an earlier text under another id is dropped too). :class:`DedupeReport` says what was dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from textsel.errors import DataError, DuplicateIdsError

DEDUPE_CHOICES = ("id", "text")
SHOWN = 10  # duplicates named in a message or report


@dataclass(frozen=True)
class DedupeReport:
    """Rows dropped as duplicates: how many, by what, and the first few as (id, row, row kept instead)."""

    by: str
    dropped: int
    examples: list[tuple[object, int, int]] = field(default_factory=list)

    def describe(self) -> str:
        """One line: how many rows were dropped and which (rows count from 1)."""
        if not self.dropped:
            return f"no duplicate {self.by}s: nothing dropped"
        shown = ", ".join(f"id {doc_id} (row {row}, same {self.by} as row {first})"
                          for doc_id, row, first in self.examples)
        more = f" and {self.dropped - len(self.examples)} more" if self.dropped > len(self.examples) else ""
        return f"dropped {self.dropped} row(s) repeating the {self.by} of an earlier row: {shown}{more}"


def _shown(doc_id: object) -> object:
    return int(doc_id) if isinstance(doc_id, np.integer | int) else repr(doc_id)


def drop_duplicates(rows: Sequence[int], ids: np.ndarray, texts: Sequence, by: str) -> tuple[list[int], DedupeReport]:
    """Of ``rows`` (positions, in order), keep the first of each id (``by="id"``) or text (``by="text"``)."""
    if by not in DEDUPE_CHOICES:
        raise DataError(f"cannot drop duplicates by {by!r}; use one of {', '.join(DEDUPE_CHOICES)}")
    first_of: dict[object, int] = {}
    kept, examples, dropped = [], [], 0
    for row in rows:
        key = ids[row].item() if isinstance(ids[row], np.generic) else ids[row]
        if by == "text":
            key = hashlib.sha256(str(texts[row]).encode("utf-8", "surrogatepass")).digest()
        first = first_of.setdefault(key, row)
        if first == row:
            kept.append(row)
            continue
        dropped += 1
        if len(examples) < SHOWN:
            examples.append((_shown(ids[row]), row + 1, first + 1))
    return kept, DedupeReport(by, dropped, examples)


def check_unique(ids: np.ndarray, file: str | None, column: str, rows: np.ndarray | None = None) -> None:
    """Raise DuplicateIdsError when an id repeats: the count of repeating rows and the first ids (with their rows)
    in the message; ``row`` is the first repeating row. ``rows``: the file rows (0-based) of ``ids``, if a subset."""
    rows = np.arange(len(ids)) if rows is None else np.asarray(rows)
    order = np.argsort(ids, kind="stable")
    repeats = order[1:][ids[order][1:] == ids[order][:-1]]
    if not len(repeats):
        return
    repeating = np.sort(repeats)
    first_rows = {}
    for position in range(len(ids)):
        first_rows.setdefault(ids[position], position)
    named = [f"{_shown(ids[p])} (row {rows[p] + 1}, first used on row {rows[first_rows[ids[p]]] + 1})"
             for p in repeating[:SHOWN]]
    head = int(repeating[0])
    more = f" and {len(repeating) - SHOWN} more" if len(repeating) > SHOWN else ""
    raise DuplicateIdsError(
        f"duplicate id {_shown(ids[head])} (first used on row {rows[first_rows[ids[head]]] + 1}); {len(repeating)} "
        f"row(s) repeat an id of an earlier row: {', '.join(named)}{more}; ids must be unique, or keep the first "
        "row of each id", file=file, row=int(rows[head]) + 1, column=column)
