"""Label files out: write labels or a batch as CSV, JSONL, a Hugging Face dataset or Label Studio tasks (reading
them back is :mod:`textsel.importing`). Ids are written as users know them: integers, or string ids as given.

Writing is safe by construction: :func:`check_output` validates the destination before anything is read or
written. An output never replaces a folder, never lands in, over or above the project folder, and replaces an
existing file only with ``force``. Files are written through :mod:`textsel._atomic` (a unique temporary name,
then a rename), so a crash never leaves half a file and a symlink at a guessable name is never followed. An hf
dataset is written into a fresh temporary folder and renamed into place; with ``force`` it may replace a folder
that is itself a saved dataset (only its ``data-*.arrow``, ``dataset_info.json`` and ``state.json``), never any
other folder.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path

from textsel._atomic import atomic_dir
from textsel.errors import DataError, OutputExistsError
from textsel.outputs import check_place, check_writable_folder, output_file, writing

logger = logging.getLogger("textsel.export")

FORMATS = ("csv", "jsonl", "hf", "label-studio")
BATCH_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".json": "label-studio"}
_DATASET_FILE = re.compile(r"data-\d+-of-\d+\.arrow|dataset_info\.json|state\.json")


class UnknownSuffixError(DataError):
    """No format was given and the output's suffix names none (the CLI adds how to name one)."""


def batch_format(out: Path) -> str:
    """The format named by ``out``'s suffix: ``.csv``, ``.jsonl`` or ``.json`` (Label Studio tasks)."""
    format = BATCH_SUFFIXES.get(Path(out).suffix.lower())
    if format is None:
        raise UnknownSuffixError(f"cannot tell the format from the suffix {Path(out).suffix!r}; use one of "
                                 f"{', '.join(BATCH_SUFFIXES)} (.json is Label Studio tasks)", file=str(out))
    return format


def check_output(out: Path, *, force: bool = False, project_dir: Path | None = None,
                 format: str | None = None) -> str:
    """Validate an output path before anything is written; return the format (``None``: from the suffix).

    Refused, with a DataError: the project folder, a path inside it or above it (symlinks resolved); the
    current folder or one above it; an unknown format; an existing folder, except a saved hf dataset with
    ``force``; an existing file unless ``force`` (OutputExistsError); a file where a folder must be created.
    """
    out = Path(out)
    check_place(out, project_dir)
    format = batch_format(out) if format is None else format
    if format not in FORMATS:
        raise DataError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}", file=str(out))
    if out.exists() or out.is_symlink():
        _check_existing(out, format, force)
    check_writable_folder(out)
    return format


def _check_existing(out: Path, format: str, force: bool) -> None:
    """Whether the existing ``out`` may be replaced by a ``format`` export (see :func:`check_output`)."""
    if out.is_dir():
        if format != "hf":
            raise DataError(f"is a folder; name a file to write ({format} writes one file)", file=str(out))
        if out.is_symlink() or not is_saved_dataset(out):
            raise DataError("is a folder that is not a saved hf dataset (or holds other files too); it is never "
                            "replaced, choose a new name", file=str(out))
        if not force:
            raise OutputExistsError("already exists; choose a new name, or allow replacing this saved dataset",
                                    file=str(out))
    elif format == "hf":
        raise DataError("is a file; the hf format writes a folder, choose a new name", file=str(out))
    elif out.exists() and not out.is_file():
        raise DataError("is not a regular file; choose a new name", file=str(out))
    elif not force:
        raise OutputExistsError("already exists; choose a new name, or allow overwriting it", file=str(out))


def is_saved_dataset(folder: Path) -> bool:
    """True when ``folder`` holds exactly what ``datasets.Dataset.save_to_disk`` writes, and nothing else."""
    try:
        entries = list(Path(folder).iterdir())
    except OSError:  # unreadable: not known to be ours
        return False
    names = {entry.name for entry in entries}
    return ({"dataset_info.json", "state.json"} <= names
            and all(_DATASET_FILE.fullmatch(entry.name) and entry.is_file() and not entry.is_symlink()
                    for entry in entries))


def export_labels(project, out: str | Path, *, format: str | None = None,  # noqa: ANN001 - Project
                  force: bool = False) -> int:
    """Write every labeled text (latest label per text) as ``format`` (None: from ``out``'s suffix).

    ``out`` is checked by :func:`check_output` against ``project.directory`` before anything is read or written.
    Returns how many texts were written.
    """
    out = Path(out)
    format = check_output(out, force=force, project_dir=project.directory, format=format)
    doc_ids, labels = project.labeled()
    records = [{"id": doc_id, "text": text, "label": str(label)}
               for doc_id, text, label in zip(project.external_ids(doc_ids), project.texts(doc_ids), labels,
                                               strict=True)]
    _write(records, out, format, force)
    return len(records)


def write_batch(records: Sequence[dict], out: str | Path, *, force: bool = False,
                project_dir: Path | None = None) -> None:
    """Write a selected batch (id, text, score, round) for an external labeling tool; format by suffix."""
    write_records(records, Path(out), format=batch_format(Path(out)), force=force, project_dir=project_dir)


def write_records(records: Sequence[dict], out: Path, *, format: str | None = None, force: bool = False,
                  project_dir: Path | None = None) -> None:
    """Write flat records (same keys in each) atomically in one of :data:`FORMATS`, after :func:`check_output`."""
    out = Path(out)
    _write(records, out, check_output(out, force=force, project_dir=project_dir, format=format), force)


def _write(records: Sequence[dict], out: Path, format: str, force: bool) -> None:
    if format == "hf":
        _write_hf(records, out, replace=force)
        return
    with output_file(out) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
        if format == "csv":
            writer = csv.DictWriter(handle, fieldnames=list(records[0]) if records else ["id", "text", "label"])
            writer.writeheader()
            writer.writerows(records)
        elif format == "jsonl":
            handle.writelines(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
        else:
            json.dump([label_studio_task(record) for record in records], handle, ensure_ascii=False, indent=1)


def label_studio_task(record: dict) -> dict:
    """A Label Studio import task: the text under ``data``, a label (if any) as a choices annotation. The id is
    written as a string: JavaScript reads JSON numbers as doubles, so an id above 2**53 would come back rounded."""
    task = {"data": {key: str(value) if key == "id" else value for key, value in record.items() if key != "label"}}
    if record.get("label") is not None:
        task["annotations"] = [{"result": [{"from_name": "label", "to_name": "text", "type": "choices",
                                            "value": {"choices": [record["label"]]}}]}]
    return task


def _write_hf(records: Sequence[dict], out: Path, *, replace: bool) -> None:
    """Save a dataset into a fresh folder beside ``out``, then rename it into place (see :func:`atomic_dir`)."""
    import datasets

    columns = {key: [record[key] for record in records] for key in (records[0] if records else ("id", "text"))}
    quiet = datasets.utils.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        with writing(out), atomic_dir(out, discard_old=_discard_saved_dataset if replace else None) as folder:
            datasets.Dataset.from_dict(columns).save_to_disk(str(folder))
    finally:
        if not quiet:
            datasets.enable_progress_bars()


def _discard_saved_dataset(folder: Path) -> None:
    """Delete the files of a saved dataset that was moved aside; anything else stays, with a warning."""
    for entry in folder.iterdir():
        if _DATASET_FILE.fullmatch(entry.name) and entry.is_file() and not entry.is_symlink():
            entry.unlink()
    try:
        folder.rmdir()
    except OSError:
        logger.warning("kept %s: files appeared there that are not part of a saved dataset", folder)
