"""Turn loaded columns into a Pool with one set of rules shared by every format and corpus loader."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np

from textsel.data._dedupe import check_unique, drop_duplicates
from textsel.data._pool import Pool
from textsel.errors import DataError
from textsel.ids import canonical_integer

logger = logging.getLogger("textsel.data")


def build_pool(columns: dict[str, Sequence], *, text_col: str = "text", id_col: str | None = None,
               label_col: str | None = None, source: str = "", strict: bool = False,
               parse_strings: bool = False, dedupe: str | None = None) -> Pool:
    """Validate columns and build a Pool; rows count from 1 in every error.

    Parameters
    ----------
    columns : dict of str to sequence
        Aligned columns as read from the source (lists or numpy arrays).
    text_col, id_col, label_col : str
        Column names; ``id_col=None`` makes ids the 0-based row numbers. An id column whose values are not all
        integers holds string ids (``tw13983``, UUIDs): they are kept as given in ``Pool.keys``.
    source : str
        The file or dataset name used in messages and stored as ``Pool.source``.
    strict : bool
        Raise on the first empty or missing text instead of skipping and counting.
    parse_strings : bool
        Columns hold strings (CSV, fastText): store all-integer or all-number columns as numbers.
    dedupe : {"id", "text"}, optional
        Keep the first row of each id, or of each text, and drop the rest (``Pool.dedupe_report`` says which);
        without it a repeated id raises :class:`~textsel.data._dedupe.DuplicateIdsError` naming them.
    """
    file = source or None
    if not columns or len(next(iter(columns.values()))) == 0:
        raise DataError("empty file: no data rows", file=file, row=1, column=text_col)
    require_columns(columns, [name for name in (text_col, id_col, label_col) if name is not None], file)
    texts = columns[text_col]
    kept = _rows_with_text(texts, file, text_col, strict)
    keys, report = None, None
    if id_col is None:
        ids = np.arange(len(texts), dtype=np.int64)
    else:
        try:
            ids = _integer_ids(columns[id_col], file, id_col)
        except DataError:
            keys = _string_ids(columns[id_col], file, id_col)
            ids = keys  # filtered with the texts below; hashed into internal ids by Pool.from_keys
    if dedupe is not None:
        kept, report = drop_duplicates(kept, ids, texts, dedupe)
    if id_col is not None:
        rows = np.asarray(kept if dedupe is not None else range(len(ids)), dtype=np.int64)
        check_unique(ids[rows], file, id_col, rows)
    if len(kept) < len(texts):
        positions = np.asarray(kept, dtype=np.int64)
        ids, texts = ids[positions], [texts[i] for i in kept]
        columns = {name: values[positions] if isinstance(values, np.ndarray) else [values[i] for i in kept]
                   for name, values in columns.items() if name != text_col}
    convert = _array_from_strings if parse_strings else to_array
    extras = {name: convert(values) for name, values in columns.items() if name not in (text_col, id_col)}
    pool = (Pool.from_keys(ids, list(texts), extras, source) if keys is not None
            else Pool(ids=ids, texts=list(texts), columns=extras, source=source))
    object.__setattr__(pool, "dedupe_report", report)
    return pool


def _string_ids(values: Sequence, file: str | None, column: str) -> np.ndarray:
    """String ids as given (an object array; integers among them become their decimal strings); a missing, blank
    or other id (e.g. 1.5) raises naming its row."""
    keys = np.empty(len(values), dtype=object)
    for position, value in enumerate(values):
        if isinstance(value, str) and value.strip():
            keys[position] = value
        elif isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            keys[position] = str(value)
        elif value is None or isinstance(value, str) or (isinstance(value, float) and math.isnan(value)):
            raise DataError("missing id; every row needs one", file=file, row=position + 1, column=column)
        else:
            raise DataError(f"id must be an integer or a string, got {value!r}", file=file, row=position + 1,
                            column=column)
    return keys


def require_columns(columns: dict[str, Sequence], names: Sequence[str], file: str | None) -> None:
    """Raise naming the first missing column and listing the available ones."""
    for name in names:
        if name not in columns:
            raise DataError(f"no column {name!r}; available columns: {', '.join(columns) or 'none'}",
                            file=file, column=name)


def _rows_with_text(texts: Sequence, file: str | None, column: str, strict: bool) -> list[int]:
    """Positions of rows with non-blank text; the others are skipped and counted, or raise when strict."""
    kept, skipped, first = [], 0, None
    for position, text in enumerate(texts):
        if isinstance(text, str) and text.strip():
            kept.append(position)
            continue
        if not (text is None or isinstance(text, str) or (isinstance(text, float) and math.isnan(text))):
            raise DataError(f"text must be a string, got {type(text).__name__} {text!r}", file=file,
                            row=position + 1, column=column)
        if strict:
            raise DataError("empty or missing text (pass strict=False to skip such rows)", file=file,
                            row=position + 1, column=column)
        skipped += 1
        first = position + 1 if first is None else first
    if not kept:
        raise DataError(f"no row has text ({skipped} rows empty or missing)", file=file, column=column)
    if skipped:
        logger.warning("%s: skipped %d of %d rows with empty or missing text in column %r (first at row %d); "
                       "pass strict=True to raise instead", file or "pool", skipped, len(texts), column, first)
    return kept


def _integer_ids(values: Sequence, file: str | None, column: str) -> np.ndarray:
    """Ids as int64; a missing or non-integer id raises naming its row."""
    if isinstance(values, np.ndarray) and np.issubdtype(values.dtype, np.integer):
        return values.astype(np.int64)
    ids = np.empty(len(values), dtype=np.int64)
    for position, value in enumerate(values):
        try:
            ids[position] = _as_integer(value)
        except (ValueError, TypeError, OverflowError):
            raise DataError(f"id must be an integer, got {value!r}", file=file, row=position + 1,
                            column=column) from None
    return ids


def _as_integer(value: object) -> int:
    if isinstance(value, (bool, np.bool_)):
        raise TypeError("a bool is not an id")
    if isinstance(value, (float, np.floating)):
        if not float(value).is_integer():
            raise ValueError("not integral")
        return int(value)
    if isinstance(value, str):  # "007", "+5", "1_000", " 5", "٣" are string ids, kept as given
        number = canonical_integer(value)
        if number is None:
            raise ValueError("not a canonical decimal integer")
        return number
    if isinstance(value, (int, np.integer)):
        return int(value)
    raise TypeError(type(value).__name__)


def to_array(values: Sequence) -> np.ndarray:
    """A numpy array for a column: bool, int64, float64 (NaN for missing numbers) or object."""
    if isinstance(values, np.ndarray):
        return values
    kinds = {type(value) for value in values if value is not None}
    missing = any(value is None for value in values)
    if kinds == {bool} and not missing:
        return np.asarray(values, dtype=bool)
    if kinds and kinds <= {int, float}:
        if kinds == {int} and not missing:
            return np.asarray(values, dtype=np.int64)
        return np.asarray([math.nan if value is None else value for value in values], dtype=np.float64)
    array = np.empty(len(values), dtype=object)
    array[:] = list(values)
    return array


def _array_from_strings(values: Sequence) -> np.ndarray:
    """Parse a column of strings as int64 or float64 when every non-blank value parses, else keep strings."""
    for cast in (int, float):
        try:
            return to_array([None if value is None or not value.strip() else cast(value) for value in values])
        except ValueError:
            continue
    return to_array(values)
