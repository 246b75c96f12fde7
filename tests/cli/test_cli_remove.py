"""`textsel remove` (issue 10): ids from --ids or a CSV, every one checked before anything is written; removed texts
leave the pending batch, status's population and predict's output, keep their labels (and exports of them), and
cannot be added again until restored."""

from __future__ import annotations

import csv

import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import CountingEmbedder, flat, precomputed_project
from textsel.cli.app import app
from typer.testing import CliRunner

from textsel.project import Project, init_project

runner = CliRunner()
IDS = [100 + i for i in range(40)]


def invoke(*args):
    result = runner.invoke(app, [str(arg) for arg in args])
    result.text = flat(result.output)
    return result


@pytest.fixture
def folder(tmp_path):
    texts = [f"{'gear' if i % 4 == 0 else 'cloth'} text {i}" for i in range(40)]
    folder, _ = precomputed_project(tmp_path, texts, IDS, ["gear", "cloth"], backend="hnsw")
    assert invoke("index", "-p", folder, "-q").exit_code == 0
    assert invoke("label", "--ids", "100,104", "--label", "gear", "-p", folder).exit_code == 0
    assert invoke("label", "--ids", "101,102", "--label", "cloth", "-p", folder).exit_code == 0
    return folder


def test_remove_keeps_labels_and_exports_and_leaves_status_and_predict(folder, tmp_path):
    result = invoke("remove", "--ids", "104,110,111", "--reason", "duplicates", "-p", folder)
    assert result.exit_code == 0, result.output
    assert "Removed 3 texts" in result.text and "1 of them are labeled: their labels are kept" in result.text
    again = invoke("remove", "--ids", "110", "-p", folder)
    assert again.exit_code == 0 and "Removed 0 texts from the corpus (1 were removed already)" in again.text
    with Project(folder) as project:
        assert project.store.current_labels()[104] == "gear"
        assert [(doc_id, reason) for doc_id, reason, _ in project.store.removals()] == [
            (104, "duplicates"), (110, "duplicates"), (111, "duplicates")]
    assert invoke("export", tmp_path / "labels.csv", "-p", folder).exit_code == 0
    with open(tmp_path / "labels.csv", newline="") as handle:
        assert {row["id"]: row["label"] for row in csv.DictReader(handle)}["104"] == "gear"
    status = invoke("status", "-p", folder)
    assert status.exit_code == 0 and "Pool: 37 texts (3 removed, their labels kept)" in status.text
    assert "Positives (gear) found: 1" in status.text  # 104's label is kept but it is outside the population
    assert invoke("predict", "--out", tmp_path / "preds.parquet", "-p", folder).exit_code == 0
    predicted = pq.read_table(tmp_path / "preds.parquet").column("id").to_pylist()
    assert len(predicted) == 37 and not {104, 110, 111} & set(predicted)


def test_bad_ids_are_refused_before_anything_is_written(folder, tmp_path):
    graph = (folder / "cache" / "index.hnsw").read_bytes()
    unknown = invoke("remove", "--ids", "103,999", "-p", folder)
    assert unknown.exit_code == 1 and unknown.output.count("\n") == 1 and "id 999 is not in the pool" in unknown.text
    (tmp_path / "drop.csv").write_text("id,label\n103,gear\n\n7x,cloth\n")
    bad_row = invoke("remove", "--file", tmp_path / "drop.csv", "-p", folder)
    assert bad_row.exit_code == 1 and bad_row.output.count("\n") == 1
    assert f"file {tmp_path / 'drop.csv'}, row 3, column 'id': id '7x' is not an integer" in bad_row.text
    (tmp_path / "cols.csv").write_text("doc,label\n103,gear\n")
    no_column = invoke("remove", "--file", tmp_path / "cols.csv", "-p", folder)
    assert no_column.exit_code == 1 and "has no 'id' column" in no_column.text
    neither = invoke("remove", "-p", folder)
    assert neither.exit_code == 2 and "one of --ids and --file" in neither.text
    with Project(folder) as project:
        assert project.store.removed_ids() == set()
    assert (folder / "cache" / "index.hnsw").read_bytes() == graph


def test_a_file_of_ids_removes_them_and_the_index_reports_them_deleted(folder, tmp_path):
    (tmp_path / "drop.csv").write_text("id\n120\n121\n")
    result = invoke("remove", "--file", tmp_path / "drop.csv", "-p", folder)
    assert result.exit_code == 0 and "Removed 2 texts" in result.text
    with Project(folder) as project:  # a fresh process: the saved index holds the marks
        index = project.index()
        assert index.deleted_ids.tolist() == [120, 121]
        found = index.search(index.get_vectors(np.array([120])), 38)[0].ravel().tolist()
        assert not {120, 121} & set(found)


def test_a_pending_batch_shows_removed_texts_as_removed(folder):
    assert invoke("next", "-n", "5", "--pool", "all", "-p", folder).exit_code == 0
    with Project(folder) as project:
        round_id, pending = project.store.pending()
    result = invoke("remove", "--ids", ",".join(map(str, pending[:2])), "-p", folder)
    assert result.exit_code == 0
    assert f"2 of round {round_id}'s texts to label were among them and are no longer pending" in result.text
    shown = invoke("next", "-p", folder)
    assert f"Round {round_id} is not finished: 3 texts still to label" in shown.text
    assert "2 selected texts of it were removed" in shown.text
    with Project(folder) as project:
        assert project.store.pending() == (round_id, pending[2:])


def test_a_removed_id_cannot_be_added_again_until_restored(tmp_path, monkeypatch):
    monkeypatch.setattr(Project, "embedder", lambda self: CountingEmbedder())
    (tmp_path / "pool.csv").write_text("id,text\n1,a\n2,b\n3,c\n")
    init_project(tmp_path / "proj", data=str(tmp_path / "pool.csv"), id_col="id").close()
    assert invoke("index", "-p", tmp_path / "proj", "-q").exit_code == 0
    assert invoke("remove", "--ids", "2", "-p", tmp_path / "proj").exit_code == 0
    (tmp_path / "more.csv").write_text("id,text\n2,b again\n4,d\n")
    readd = invoke("add", tmp_path / "more.csv", "-p", tmp_path / "proj")
    assert readd.exit_code == 1 and "id 2 was removed from the project, not deleted from it; restore it" in readd.text
    with Project(tmp_path / "proj") as project:
        assert project.ids.tolist() == [1, 2, 3] and project.store.get_meta("added_files") is None
    restored = invoke("remove", "--ids", "2", "--restore", "-p", tmp_path / "proj")
    assert restored.exit_code == 0 and "Restored 1 texts" in restored.text
    not_removed = invoke("remove", "--ids", "2", "--restore", "-p", tmp_path / "proj")
    assert not_removed.exit_code == 1 and "id 2 is not removed" in not_removed.text
    with Project(tmp_path / "proj") as project:
        assert project.store.removed_ids() == set() and project.index().deleted_ids.tolist() == []
