"""Document ids typed by people: parse them strictly, so a typo is one clear error and never a traceback.

Pools key documents by 64-bit integers (``textsel.data``); ids arrive as text from ``--ids`` lists and label files.
"""

from __future__ import annotations

from textsel.errors import DataError

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


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
