"""Label files back in: textsel's own csv/jsonl/hf exports, ``id,label`` CSVs, and Label Studio JSON exports.

A file is read and checked whole before anything is written: every row is parsed, its id resolved against the
pool (integer or string ids, :meth:`textsel.data.Pool.resolve_one`), its label checked against the project's
classes, and, where the row carries the text, the text compared with the pool's. Every bad row is collected and
reported together in one error (up to ``max_errors`` of them), so a user fixes a file in one pass.

Rows without a label (a blank label cell, a Label Studio task nobody annotated) are passed over and counted.
Each label carries when it was made by the file's own account (a Label Studio annotation's ``updated_at``, else
the file's modification time), so the caller can warn before an import replaces a label made after it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from textsel.data._loaders import allow_long_csv_fields
from textsel.errors import DataError

IMPORT_FORMATS = ("csv", "jsonl", "hf", "label-studio")
_SUFFIX_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "label-studio"}
MAX_ERRORS = 20
CHOICES_CONTROL = "label"  # the Label Studio Choices control textsel reads (and writes in its tasks)
JS_SAFE_INTEGER = 2**53  # larger integers written as JSON numbers are rounded by JavaScript tools


@dataclass(frozen=True)
class ImportedLabels:
    """A label file read and validated whole: internal doc ids, labels and when each was made."""

    doc_ids: list[int]
    labels: list[str]
    labeled_at: list[float]  # seconds since the epoch, by the file's account
    unlabeled: int  # rows or tasks without a label, passed over
    format: str


@dataclass(frozen=True)
class _Row:
    """One record as read from a file, before validation; ``row`` counts data rows (or tasks) from 1."""

    row: int
    doc_id: object
    label: object
    text: object = None
    labeled_at: float | None = None
    problem: str | None = None  # a parse error for the whole row
    problem_column: str | None = None


def import_format(path: Path) -> str:
    """The format of a label file: a folder is a saved hf dataset, else from the suffix."""
    if path.is_dir():
        return "hf"
    format = _SUFFIX_FORMATS.get(path.suffix.lower())
    if format is None:
        raise DataError(f"cannot tell the format from the suffix {path.suffix!r}; use .csv, .jsonl, .json (Label "
                        f"Studio export) or a saved hf dataset folder", file=str(path))
    return format


def read_labels(path: str | Path, pool, allowed: Sequence[str], *, format: str | None = None,  # noqa: ANN001
                max_errors: int = MAX_ERRORS, id_col: str | None = None) -> ImportedLabels:
    """Read and validate a whole label file against ``pool`` (a textsel.data.Pool) and the ``allowed`` labels.

    The ids are read from a column (or field) named ``id``, or else ``id_col`` (the project's own id column name,
    so a filtered copy of the data file imports as it is).

    Raises DataError naming the file and every bad row (up to ``max_errors``, then how many more) when any row
    is bad; nothing is returned half-checked.
    """
    path = Path(path)
    if not path.exists():
        raise DataError("no such file", file=str(path))
    format = import_format(path) if format is None else format
    if format not in IMPORT_FORMATS:
        raise DataError(f"unknown format {format!r}; use one of {', '.join(IMPORT_FORMATS)}", file=str(path))
    mtime = path.stat().st_mtime
    id_names = ("id",) if id_col in (None, "id") else ("id", id_col)
    rows = list(_READERS[format](path, id_names))
    doc_ids: list[int] = []
    labels: list[str] = []
    times: list[float] = []
    first_label: dict[int, tuple[str, int]] = {}
    problems: list[DataError] = []
    unlabeled = 0
    for record in rows:
        problem = _check_row(record, pool, allowed, first_label)
        if isinstance(problem, DataError):
            problems.append(problem)
        elif problem is None:
            unlabeled += 1
        else:
            doc_ids.append(problem)
            labels.append(str(record.label).strip())
            times.append(record.labeled_at if record.labeled_at is not None else mtime)
    if problems:
        shown = "; ".join(str(problem) for problem in problems[:max_errors])
        more = f"; and {len(problems) - max_errors} more" if len(problems) > max_errors else ""
        raise DataError(f"{len(problems)} bad row{'s' if len(problems) > 1 else ''}, nothing imported: "
                        f"{shown}{more}", file=str(path))
    if not doc_ids:
        raise DataError(f"no labeled rows ({unlabeled} without a label)", file=str(path))
    return ImportedLabels(doc_ids, labels, times, unlabeled, format)


def _check_row(record: _Row, pool, allowed: Sequence[str],  # noqa: ANN001
               first_label: dict[int, tuple[str, int]]) -> int | DataError | None:
    """The row's internal doc id when it is good, a DataError when not, None when it holds no label."""
    where = {"row": record.row}
    if record.problem:
        return DataError(record.problem, column=record.problem_column, **where)
    if record.label is None or (isinstance(record.label, str) and not record.label.strip()):
        return None
    try:
        doc_id = pool.resolve_one(record.doc_id, column="id", **where)
    except DataError as error:
        if isinstance(record.doc_id, int) and abs(record.doc_id) > JS_SAFE_INTEGER:
            return DataError(f"{error.args[0].split(': ', 1)[-1]} (an id above 2**53 written as a JSON number may "
                             "have been rounded by a JavaScript tool such as Label Studio; write ids as strings)",
                             column="id", **where)
        return error
    label = str(record.label).strip()
    if label not in allowed:
        return DataError(f"unknown label {label!r}; this project's labels are {', '.join(allowed)}",
                         column="label", **where)
    if isinstance(record.text, str) and _normalised(record.text) != _normalised(pool.text_of(doc_id)):
        return DataError(f"the text differs from the pool's text for id {record.doc_id!r} (is this file from "
                         f"another pool?)", column="text", **where)
    earlier = first_label.setdefault(doc_id, (label, record.row))
    if earlier[0] != label:
        return DataError(f"id {record.doc_id!r} is labeled {label!r} here but {earlier[0]!r} on row {earlier[1]}",
                         column="label", **where)
    return doc_id


def _normalised(text: str) -> str:
    return " ".join(text.split())


def _id_name(names: Sequence[str], id_names: Sequence[str]) -> str | None:
    """The first of ``id_names`` among the columns ``names`` (None: none of them)."""
    return next((name for name in id_names if name in names), None)


def _read_csv(path: Path, id_names: Sequence[str]) -> Iterator[_Row]:
    allow_long_csv_fields()
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:  # a BOM (Excel) is not part of "id"
            reader = csv.DictReader(handle)
            id_name = _require_fields(reader.fieldnames or [], path, id_names)
            for row, record in enumerate(reader, start=1):
                if None in record or None in record.values():
                    more = "more" if None in record else "fewer"
                    yield _Row(row, None, None, problem=f"has {more} fields than the header {reader.fieldnames}")
                    continue
                yield _Row(row, record[id_name], record["label"], record.get("text"))
    except (UnicodeDecodeError, csv.Error) as error:
        raise DataError(f"malformed CSV: {error}", file=str(path)) from error


def _require_fields(names: Sequence[str], path: Path, id_names: Sequence[str]) -> str:
    """The id column's name; DataError unless an id column (any of ``id_names``) and ``label`` are there."""
    id_name = _id_name(names, id_names)
    if id_name is None or "label" not in names:
        shown = " or ".join(repr(name) for name in id_names)
        raise DataError(f"the header must name an id column ({shown}) and 'label'; found {list(names)}",
                        file=str(path), column=id_names[0] if id_name is None else "label")
    return id_name


def _read_jsonl(path: Path, id_names: Sequence[str]) -> Iterator[_Row]:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as error:
        raise DataError(f"not UTF-8: {error}", file=str(path)) from error
    row = 0
    for line in lines:
        if not line.strip():
            continue
        row += 1
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            yield _Row(row, None, None, problem=f"not JSON: {error.msg}")
            continue
        id_name = _id_name(record, id_names) if isinstance(record, dict) else None
        if id_name is None:
            yield _Row(row, None, None, problem=f"not a JSON object with an {' or '.join(map(repr, id_names))} field",
                       problem_column="id")
            continue
        yield _Row(row, record[id_name], record.get("label"), record.get("text"))


def _read_hf(path: Path, id_names: Sequence[str]) -> Iterator[_Row]:
    import datasets

    try:
        dataset = datasets.load_from_disk(str(path))
    except (FileNotFoundError, ValueError, OSError) as error:
        raise DataError(f"not a saved hf dataset: {error}", file=str(path)) from error
    if not isinstance(dataset, datasets.Dataset):
        raise DataError("holds several splits; import one split's folder", file=str(path))
    id_name = _require_fields(dataset.column_names, path, id_names)
    texts = dataset["text"] if "text" in dataset.column_names else [None] * len(dataset)
    for row, (doc_id, label, text) in enumerate(zip(dataset[id_name], dataset["label"], texts, strict=True), start=1):
        yield _Row(row, doc_id, label, text)


def _read_label_studio(path: Path, id_names: Sequence[str]) -> Iterator[_Row]:
    """Tasks of a Label Studio JSON export: the id from ``data``, the choice of the latest kept annotation."""
    try:
        tasks = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"not a JSON file: {error}", file=str(path)) from error
    if not isinstance(tasks, list):
        raise DataError("not a Label Studio export (a JSON list of tasks); export the project from Label Studio "
                        "as JSON", file=str(path))
    for row, task in enumerate(tasks, start=1):
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            yield _Row(row, None, None, problem="not a Label Studio task (no 'data' object); export the project "
                                                "from Label Studio as JSON, not JSON-MIN or CSV")
            continue
        data = task["data"]
        id_name = _id_name(data, id_names)
        if id_name is None:
            yield _Row(row, None, None, problem="the task's data has no 'id' (tasks must come from textsel's "
                                                "batch files)", problem_column="id")
            continue
        try:
            label, labeled_at = latest_choice(task.get("annotations") or [])
        except DataError as error:
            yield _Row(row, data[id_name], None, problem=str(error), problem_column="label")
            continue
        yield _Row(row, data[id_name], label, data.get("text"), labeled_at)


def latest_choice(annotations: list) -> tuple[str | None, float | None]:
    """(choice, time) of the latest annotation that was not cancelled; (None, None) when there is none. A shape
    Label Studio never writes (``choices: 5``, ``value: [..]``, a result that is not an object), or a Choices
    control not named ``label`` (:data:`CHOICES_CONTROL`), is a DataError."""
    if not isinstance(annotations, list):
        raise DataError(f"'annotations' must be a list of annotations, got {type(annotations).__name__}")
    kept = [note for note in annotations if isinstance(note, dict) and not note.get("was_cancelled")]
    if not kept:
        return None, None
    latest = max(enumerate(kept), key=lambda item: (_timestamp(item[1]) or 0.0, item[0]))[1]
    results = [result for result in _results(latest) if result.get("type") == "choices"]
    other = next((result.get("from_name") for result in results if result.get("from_name") != CHOICES_CONTROL), None)
    if results and other is not None:
        raise DataError(f"the annotation's Choices control is named {other!r}; textsel reads a Choices control "
                        f"named {CHOICES_CONTROL!r} over the text (rename it in the labeling config)")
    choices = [choice for result in results for choice in _choices(result)]
    if len(choices) > 1:
        raise DataError(f"the annotation holds {len(choices)} choices {choices}; one label per text")
    return (choices[0] if choices else None), _timestamp(latest)


def _results(annotation: dict) -> list[dict]:
    """An annotation's ``result`` list (each entry an object), or DataError."""
    results = annotation.get("result") or []
    if not isinstance(results, list) or not all(isinstance(result, dict) for result in results):
        raise DataError("the annotation's 'result' must be a list of objects")
    return results


def _choices(result: dict) -> list[str]:
    """The ``value.choices`` strings of a choices result, or DataError naming what is there instead."""
    value = result.get("value") or {}
    if not isinstance(value, dict):
        raise DataError(f"a choices result's 'value' must be an object, got {type(value).__name__} {value!r}"[:200])
    choices = value.get("choices") or []
    if not isinstance(choices, list) or not all(isinstance(choice, str) for choice in choices):
        raise DataError(f"a choices result's 'choices' must be a list of label names, got {choices!r}"[:200])
    return choices


def _timestamp(annotation: dict) -> float | None:
    value = annotation.get("updated_at") or annotation.get("created_at")
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


_READERS = {"csv": _read_csv, "jsonl": _read_jsonl, "hf": _read_hf, "label-studio": _read_label_studio}
