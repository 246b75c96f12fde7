"""Document ids typed by people: parse them strictly, so a typo is one clear error and never a traceback.

Pools key documents by 64-bit integers (``textsel.data``); ids arrive as text from ``--ids`` lists and label files.
"""

from __future__ import annotations

import re
from pathlib import Path

from textsel.errors import DataError

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_CANONICAL = re.compile(r"-?(?:0|[1-9][0-9]*)")  # ASCII digits, no sign but '-', no leading zero, nothing around


def canonical_integer(text: str) -> int | None:
    """The integer ``text`` spells in canonical decimal (``"7"``, ``"-12"``, ``"0"``), within int64; None for
    anything else (``"007"``, ``"+5"``, ``"1_000"``, ``" 5"``, ``"٣"``, ``"-0"``). A data column is read as
    integer ids only when every value is canonical, so that ids written back are exactly the ids read."""
    if not _CANONICAL.fullmatch(text) or text == "-0":
        return None
    number = int(text)
    return number if _INT64_MIN <= number <= _INT64_MAX else None


def parse_doc_id(value: str, *, file: str | None = None, row: int | None = None, column: str | None = "id") -> int:
    """The integer id written in ``value`` (ASCII digits with an optional leading minus, within int64).

    Raises DataError naming ``file``, ``row`` and ``column`` for anything else: ``--5``, ``²``, ``1e3``, ``""``
    or a number too large to be a document id.
    """
    text = value.strip()
    digits = text[1:] if text.startswith("-") else text
    if not digits or not (digits.isascii() and digits.isdigit()):
        raise DataError(f"id {value!r} is not an integer", file=file, row=row, column=column)
    number = int(text)
    if not _INT64_MIN <= number <= _INT64_MAX:
        raise DataError(f"id {value!r} is out of range (ids are 64-bit integers)", file=file, row=row,
                        column=column)
    return number


def parse_doc_ids(values: str) -> list[int]:
    """Comma-separated ids (``"17, 204,311"``) as integers; the first bad one is named in the error."""
    items = [item.strip() for item in values.split(",")]
    if not any(items):
        raise DataError("no ids given; write them comma-separated, e.g. 17,204,311")
    return [parse_doc_id(item, column=None) for item in items if item]


def read_id_column(path: str | Path) -> tuple[list[tuple[int, str]], str]:
    """(row, id as written) of every id in a CSV file with a header row, and the column they came from: the column
    named ``id`` (a textsel export, an ``id,label`` file) or a file's only column. Blank lines are passed over;
    ``DataError`` names the file (and row) when it cannot be read, has no id column, or a row has no id."""
    import csv

    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DataError(f"cannot read the ids file ({error})", file=str(path)) from error
    if not rows:
        raise DataError("the ids file is empty; write a header row (id) and one id per row", file=str(path))
    header = [cell.strip() for cell in rows[0]]
    if "id" not in header and len(header) != 1:
        raise DataError(f"the ids file has no 'id' column (its columns: {', '.join(header)})", file=str(path))
    column = header.index("id") if "id" in header else 0
    values = []
    for row, cells in enumerate(rows[1:], start=1):
        if not any(cell.strip() for cell in cells):
            continue
        if column >= len(cells) or not cells[column].strip():
            raise DataError("no id in this row", file=str(path), row=row, column=header[column])
        values.append((row, cells[column].strip()))
    if not values:
        raise DataError("the ids file has a header but no ids", file=str(path))
    return values, header[column]
