"""Column tables out (the predictions): the format is the output's suffix, ``.csv``, ``.jsonl`` or ``.parquet``,
so ``predict -o preds.csv`` writes CSV. Written through :func:`textsel.outputs.output_file` (a temporary file,
renamed into place), so a failed write leaves nothing half-written.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from textsel.errors import DataError
from textsel.outputs import output_file

TABLE_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".parquet": "parquet"}


def table_format(out: str | Path) -> str:
    """The format named by ``out``'s suffix (``csv``, ``jsonl`` or ``parquet``); a DataError for any other."""
    format = TABLE_SUFFIXES.get(Path(out).suffix.lower())
    if format is None:
        raise DataError(f"cannot tell the format from the suffix {Path(out).suffix!r}; use one of "
                        f"{', '.join(TABLE_SUFFIXES)}", file=str(out))
    return format


def _plain(value: object) -> object:
    """A JSON-ready scalar: numpy numbers become Python numbers."""
    return value.item() if isinstance(value, np.generic) else value


def write_table(columns: Mapping[str, Sequence], out: str | Path) -> None:
    """Write equal-length ``columns`` to ``out`` in the format of its suffix (check ``out`` first)."""
    format = table_format(out)
    names = list(columns)
    with output_file(out) as tmp:
        if format == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.table({name: columns[name] for name in names}), tmp)
            return
        rows = zip(*(list(columns[name]) for name in names), strict=True)
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            if format == "csv":
                writer = csv.writer(handle)
                writer.writerow(names)
                writer.writerows([_plain(value) for value in row] for row in rows)
            else:
                handle.writelines(json.dumps(dict(zip(names, map(_plain, row), strict=True)), ensure_ascii=False)
                                  + "\n" for row in rows)
