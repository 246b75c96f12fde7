"""Writing labels and batches (textsel.export) can never destroy anything: OUT is validated before anything is
written; a folder is never replaced (a saved hf dataset only with force); an existing file only with force; the
project folder is never written in, over or above; temporary names are unique; the format follows the suffix."""

from __future__ import annotations

import csv
import json

import pytest

from textsel.errors import DataError
from textsel.export import (
    OutputExistsError,
    UnknownSuffixError,
    batch_format,
    check_output,
    is_saved_dataset,
    write_batch,
    write_records,
)

RECORDS = [{"id": 7, "text": "the zipper broke", "label": "broken"}, {"id": 9, "text": "fits well", "label": "fine"}]


@pytest.fixture
def project_dir(tmp_path):
    """A folder standing in for a project: its database must survive every refused export."""
    folder = tmp_path / "proj"
    (folder / "cache").mkdir(parents=True)
    (folder / "textsel.db").write_bytes(b"467 labels")
    return folder


def tree(folder):
    """Every path under ``folder`` with its bytes (None for folders), to compare before and after."""
    return {str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes() for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("name", [".", "cache", "cache/labels.csv", "textsel.db", ".."])
def test_the_project_folder_is_never_written_in_over_or_above(tmp_path, project_dir, name, monkeypatch):
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    before = tree(tmp_path)
    with pytest.raises(DataError, match="project folder"):
        write_records(RECORDS, project_dir / name, format="csv", force=True, project_dir=project_dir)
    assert tree(tmp_path) == before


def test_a_symlink_into_the_project_is_refused(tmp_path, project_dir):
    (tmp_path / "link").symlink_to(project_dir)
    (tmp_path / "db.csv").symlink_to(project_dir / "textsel.db")
    before = tree(project_dir)
    for out in (tmp_path / "link" / "labels.csv", tmp_path / "db.csv"):
        with pytest.raises(DataError, match="project folder"):
            write_batch(RECORDS, out, force=True, project_dir=project_dir)
    assert tree(project_dir) == before


def test_the_current_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keep.txt").write_text("mine")
    for out in (".", tmp_path, tmp_path.parent):
        with pytest.raises(DataError, match="current folder"):
            write_records(RECORDS, out, format="csv", force=True)
    assert tree(tmp_path) == {"keep.txt": b"mine"}


@pytest.mark.parametrize("format", ["csv", "jsonl", "label-studio"])
def test_an_existing_folder_is_never_replaced_by_a_file(tmp_path, format):
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "sub" / "notes.txt").write_text("hours of work")
    for force in (False, True):
        with pytest.raises(DataError, match="is a folder"):
            write_records(RECORDS, out, format=format, force=force)
    assert tree(out) == {"sub": None, "sub/notes.txt": b"hours of work"}


def test_an_existing_file_is_replaced_only_with_force(tmp_path):
    out = tmp_path / "labels.csv"
    out.write_text("old")
    with pytest.raises(OutputExistsError, match="already exists"):
        write_batch(RECORDS, out)
    assert out.read_text() == "old"
    write_batch(RECORDS, out, force=True)
    assert [row["id"] for row in csv.DictReader(out.open())] == ["7", "9"]


def test_hf_never_replaces_a_folder_with_other_files_and_replaces_a_saved_dataset_only_with_force(tmp_path):
    from datasets import load_from_disk

    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("not a dataset")
    for force in (False, True):
        with pytest.raises(DataError):
            write_records(RECORDS, foreign, format="hf", force=force)
    assert tree(foreign) == {"notes.txt": b"not a dataset"}
    out = tmp_path / "hf"
    write_records(RECORDS, out, format="hf")
    assert is_saved_dataset(out) and load_from_disk(str(out))["id"] == [7, 9]
    with pytest.raises(OutputExistsError):
        write_records(RECORDS[:1], out, format="hf")
    (out / "extra.txt").write_text("added by hand")
    with pytest.raises(DataError, match="not a saved hf dataset"):
        write_records(RECORDS[:1], out, format="hf", force=True)
    (out / "extra.txt").unlink()
    write_records(RECORDS[:1], out, format="hf", force=True)
    assert load_from_disk(str(out))["id"] == [7]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hf", "mine"]  # no temporary or moved-aside folder left


def test_a_symlink_planted_at_the_old_fixed_temporary_name_is_untouched(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    out = tmp_path / "labels.csv"
    (tmp_path / "labels.csv.tmp").symlink_to(outside)
    (tmp_path / "hf.tmp").symlink_to(tmp_path)
    write_records(RECORDS, out, format="csv")
    write_records(RECORDS, tmp_path / "hf", format="hf")
    assert outside.read_text() == "precious" and (tmp_path / "labels.csv.tmp").is_symlink()
    assert (tmp_path / "hf.tmp").is_symlink() and out.read_text().startswith("id,text,label")


def test_the_format_comes_from_the_suffix_when_none_is_given(tmp_path):
    assert [batch_format(tmp_path / n) for n in ("a.csv", "a.JSONL", "a.json")] == ["csv", "jsonl", "label-studio"]
    write_records(RECORDS, tmp_path / "labels.jsonl")
    assert [json.loads(line)["id"] for line in (tmp_path / "labels.jsonl").read_text().splitlines()] == [7, 9]
    for name in ("labels", "labels.txt"):
        with pytest.raises(UnknownSuffixError, match=r"\.csv, \.jsonl, \.json"):
            check_output(tmp_path / name)
    with pytest.raises(DataError, match="unknown format 'xml'"):
        check_output(tmp_path / "labels.csv", format="xml")
    assert check_output(tmp_path / "new_folder", format="hf") == "hf"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.jsonl"]


def test_a_file_in_the_way_of_the_parent_folder_is_refused(tmp_path):
    (tmp_path / "notes").write_text("mine")
    with pytest.raises(DataError, match="is a file"):
        write_records(RECORDS, tmp_path / "notes" / "sub" / "labels.csv", format="csv")
    with pytest.raises(DataError, match="is a file"):
        write_records(RECORDS, tmp_path / "notes", format="hf", force=True)
    assert tree(tmp_path) == {"notes": b"mine"}
