"""Label files in and out: read an ``id,label`` CSV, write labels or a batch as CSV, JSONL, a Hugging Face
dataset or Label Studio tasks.

Every writer goes through a temporary path and an atomic rename, so a crash never leaves half a file.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from textsel.errors import DataError, check_param

FORMATS = ("csv", "jsonl", "hf", "label-studio")
BATCH_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".json": "label-studio"}


def read_label_file(path: Path, allowed: Sequence[str]) -> tuple[list[int], list[str]]:
    """Parse and validate a whole ``id,label`` CSV before anything is written; errors name file, row, column."""
    if not path.is_file():
        raise DataError("no such file", file=str(path))
    doc_ids: list[int] = []
    labels: list[str] = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:  # a BOM (Excel) is not part of "id"
            reader = csv.DictReader(handle)
            missing = [name for name in ("id", "label") if name not in (reader.fieldnames or [])]
            if missing:
                raise DataError(f"the header must name the columns 'id' and 'label'; found "
                                f"{reader.fieldnames}", file=str(path), column=missing[0])
            for row, record in enumerate(reader, start=1):
                if None in record or None in record.values():
                    more = "more" if None in record else "fewer"
                    raise DataError(f"has {more} fields than the header {reader.fieldnames}", file=str(path),
                                    row=row)
                value = record["id"].strip()
                if not value.lstrip("-").isdigit():
                    raise DataError(f"id {value!r} is not an integer", file=str(path), row=row, column="id")
                label = record["label"].strip()
                if label not in allowed:
                    raise DataError(f"unknown label {label!r}; this project's labels are {', '.join(allowed)}",
                                    file=str(path), row=row, column="label")
                doc_ids.append(int(value))
                labels.append(label)
    except (UnicodeDecodeError, csv.Error) as error:
        raise DataError(f"malformed CSV: {error}", file=str(path)) from error
    return doc_ids, labels


def export_labels(project, out: str | Path, *, format: str = "csv") -> int:  # noqa: ANN001 - Project
    """Write every labeled text (latest label per text) as ``format``; return how many were written."""
    check_param("export_labels", "format", format, format in FORMATS, f"one of {FORMATS}")
    doc_ids, labels = project.labeled()
    records = [{"id": int(doc_id), "text": text, "label": str(label)}
               for doc_id, text, label in zip(doc_ids, project.texts(doc_ids), labels, strict=True)]
    write_records(records, Path(out), format=format)
    return len(records)


def write_batch(records: Sequence[dict], out: str | Path) -> None:
    """Write a selected batch (id, text, score, round) for an external labeling tool; format by suffix."""
    out = Path(out)
    format = BATCH_SUFFIXES.get(out.suffix.lower())
    if format is None:
        raise DataError(f"cannot tell the format from the suffix {out.suffix!r}; use one of "
                        f"{', '.join(BATCH_SUFFIXES)} (.json is Label Studio tasks)", file=str(out))
    write_records(records, out, format=format)


def write_records(records: Sequence[dict], out: Path, *, format: str) -> None:
    """Write flat records (same keys in each) atomically in one of :data:`FORMATS`."""
    tmp = out.with_name(out.name + ".tmp")
    if format == "hf":
        _write_hf(records, tmp)
    else:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            if format == "csv":
                writer = csv.DictWriter(handle, fieldnames=list(records[0]) if records else ["id", "text", "label"])
                writer.writeheader()
                writer.writerows(records)
            elif format == "jsonl":
                handle.writelines(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
            else:
                json.dump([label_studio_task(record) for record in records], handle, ensure_ascii=False, indent=1)
    if out.is_dir():
        shutil.rmtree(out)
    os.replace(tmp, out)


def label_studio_task(record: dict) -> dict:
    """A Label Studio import task: the text under ``data``, a label (if any) as a choices annotation."""
    task = {"data": {key: value for key, value in record.items() if key != "label"}}
    if record.get("label") is not None:
        task["annotations"] = [{"result": [{"from_name": "label", "to_name": "text", "type": "choices",
                                            "value": {"choices": [record["label"]]}}]}]
    return task


def _write_hf(records: Sequence[dict], tmp: Path) -> None:
    import datasets

    columns = {key: [record[key] for record in records] for key in (records[0] if records else ("id", "text"))}
    if tmp.exists():
        shutil.rmtree(tmp)
    quiet = datasets.utils.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        datasets.Dataset.from_dict(columns).save_to_disk(str(tmp))
    finally:
        if not quiet:
            datasets.enable_progress_bars()
