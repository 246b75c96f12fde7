"""`textsel export` and `textsel import` through Typer's CliRunner: an export never destroys a folder, the
project or an existing file (only with --force), takes its format from the suffix, and every refusal is one line
with exit 1 and nothing written; label-file ids are parsed strictly."""

from __future__ import annotations

import csv
import json

import pytest
from test_cli_project import invoke, make_pool, seed_labels, write_labels

from textsel.project import Project


@pytest.fixture
def labeled(tmp_path):
    """A project with 12 labels (4 'broken'), and the bytes of its database to check it stays untouched."""
    data, vectors = make_pool(tmp_path)
    project = tmp_path / "proj"
    result = invoke("init", project, "--data", data, "--text-col", "body", "--id-col", "doc_id", "--labels",
                    "broken,fine", "--embeddings", vectors, "--backend", "exact")
    assert result.exit_code == 0, result.output
    seed_labels(project, tmp_path)
    return project


def snapshot(folder):
    return {str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes() for p in sorted(folder.rglob("*"))}


def refused(result, *phrases):
    """Exit 1 with one error line containing ``phrases``, no traceback."""
    lines = [line for line in result.output.splitlines() if line.strip()]
    return (result.exit_code == 1 and isinstance(result.exception, SystemExit)
            and len(lines) == 1 and lines[0].startswith("Error:") and all(p in lines[0] for p in phrases))


def test_exporting_onto_the_project_or_inside_it_is_refused_and_the_project_survives(labeled, monkeypatch):
    before = snapshot(labeled)
    for out in (labeled, labeled / "labels.csv", labeled / "textsel.db", labeled / "cache"):
        assert refused(invoke("export", out, "--format", "csv", "--force", "-p", labeled), "project folder")
    monkeypatch.chdir(labeled)
    assert refused(invoke("export", "."), "project folder")
    assert snapshot(labeled) == before
    with Project(labeled) as project:
        assert project.store.label_count() == 12


def test_export_dot_outside_a_project_folder_is_one_clear_line(labeled, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert refused(invoke("export", ".", "--format", "csv", "-p", labeled), "current folder")
    assert refused(invoke("export", ".", "-p", labeled), "current folder")
    assert list(work.iterdir()) == []


def test_an_existing_folder_is_never_deleted_and_a_saved_dataset_is_replaced_only_with_force(labeled, tmp_path):
    out = tmp_path / "results"
    (out / "run1").mkdir(parents=True)
    (out / "run1" / "notes.md").write_text("keep me")
    assert refused(invoke("export", out, "--format", "csv", "--force", "-p", labeled), "is a folder")
    for force in ([], ["--force"]):
        assert refused(invoke("export", out, "--format", "hf", *force, "-p", labeled), "not a saved hf dataset")
    assert invoke("export", tmp_path / "hf", "--format", "hf", "-p", labeled).exit_code == 0
    assert refused(invoke("export", tmp_path / "hf", "--format", "hf", "-p", labeled), "already exists", "--force")
    assert invoke("export", tmp_path / "hf", "--format", "hf", "--force", "-p", labeled).exit_code == 0
    assert snapshot(out) == {"run1": None, "run1/notes.md": b"keep me"}


def test_an_existing_file_is_overwritten_only_with_force(labeled, tmp_path):
    out = tmp_path / "labels.csv"
    out.write_text("yesterday's export")
    assert refused(invoke("export", out, "-p", labeled), "already exists", "--force")
    assert out.read_text() == "yesterday's export"
    result = invoke("export", out, "--force", "-p", labeled)
    assert result.exit_code == 0 and "Wrote 12 labeled texts" in result.output
    assert sorted(row["label"] for row in csv.DictReader(out.open())).count("broken") == 4


def test_the_format_comes_from_the_suffix(labeled, tmp_path):
    result = invoke("export", tmp_path / "[red]labels.jsonl", "-p", labeled)
    assert result.exit_code == 0 and "[red]labels.jsonl" in result.output  # a name is not taken as markup
    (tmp_path / "[red]labels.jsonl").rename(tmp_path / "labels.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "labels.jsonl").read_text().splitlines()]
    assert len(rows) == 12 and {"id", "text", "label"} == set(rows[0])
    assert invoke("export", tmp_path / "tasks.json", "-p", labeled).exit_code == 0
    assert "annotations" in json.loads((tmp_path / "tasks.json").read_text())[0]
    assert refused(invoke("export", tmp_path / "hf_out", "-p", labeled), "suffix ''", "--format")
    assert sorted(p.name for p in tmp_path.glob("*.json*")) == ["labels.jsonl", "tasks.json"]


@pytest.mark.parametrize("bad_id, expected", [
    ("--5", "id '--5' is not an integer"),
    ("²", "id '²' is not an integer"),
    ("99999999999999999999999", "out of range"),
])
def test_import_names_file_row_and_column_of_a_bad_id(labeled, tmp_path, bad_id, expected):
    path = write_labels(tmp_path / "more.csv", [(501, "fine"), (bad_id, "broken")])
    result = invoke("import", path, "-p", labeled)
    assert refused(result, f"file {path}", "row 2", "column 'id'", expected)
    with Project(labeled) as project:
        assert project.store.label_count() == 12
