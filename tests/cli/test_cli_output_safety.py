"""Every output of every command goes through one checked writer (textsel.outputs): `predict -o`, `next --out`,
`export`, `init`, `simulate --out` and `svp ... --out` refuse the project, folders, device nodes and (without
--force) existing files, and a full or read-only disk is one error line with nothing half-written (issue 19,
cases 1 and 9; the disk faults are injected OSErrors)."""

from __future__ import annotations

import errno
import os
import sqlite3
import tempfile

import pytest
from test_cli_export import labeled, refused, snapshot  # noqa: F401 - labeled is a fixture
from test_cli_project import invoke, make_pool
from test_cli_simulate import tiny  # noqa: F401 - a fixture


@pytest.fixture
def trained(labeled):  # noqa: F811 - the fixture imported above
    assert invoke("train", "-p", labeled).exit_code == 0
    return labeled


def rounds(project):
    with sqlite3.connect(project / "textsel.db") as connection:
        return connection.execute("SELECT COUNT(*) FROM rounds").fetchone()[0]


def fail_in(folder, error_number, monkeypatch):
    """Make creating a temporary file in ``folder`` fail with ``error_number`` (a read-only or full disk)."""
    real = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):  # noqa: A002 - tempfile's own name
        if dir is not None and os.path.realpath(dir) == os.path.realpath(folder):
            raise OSError(error_number, os.strerror(error_number))
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


@pytest.mark.parametrize("name", ["textsel.db", "textsel.toml", "cache", ".", "new.parquet"])
def test_predict_never_writes_in_or_over_the_project(trained, name):
    before = snapshot(trained)
    assert refused(invoke("predict", "-o", trained / name, "--force", "-p", trained), "project folder")
    assert snapshot(trained) == before


def test_predict_replaces_an_existing_file_only_with_force_and_never_a_folder_or_a_fifo(trained, tmp_path,
                                                                                        monkeypatch):
    existing = tmp_path / "preds.parquet"
    existing.write_text("last week's predictions")
    assert refused(invoke("predict", "-o", existing, "-p", trained), "already exists", "--force")
    assert existing.read_text() == "last week's predictions"
    (tmp_path / "folder").mkdir()
    assert refused(invoke("predict", "-o", tmp_path / "folder", "--force", "-p", trained), "is a folder")
    os.mkfifo(tmp_path / "fifo")
    assert refused(invoke("predict", "-o", tmp_path / "fifo", "--force", "-p", trained), "not a regular file")
    monkeypatch.chdir(tmp_path / "folder")
    assert refused(invoke("predict", "-o", ".", "--force", "-p", trained), "current folder")
    assert invoke("predict", "-o", existing, "--force", "-p", trained).exit_code == 0
    assert existing.read_bytes()[:4] == b"PAR1"


def test_predict_into_a_read_only_folder_is_one_line(trained, tmp_path, monkeypatch):
    out = tmp_path / "ro"
    out.mkdir()
    fail_in(out, errno.EROFS, monkeypatch)
    assert refused(invoke("predict", "-o", out / "preds.parquet", "-p", trained), "read-only")
    assert list(out.iterdir()) == []


def test_next_out_into_a_read_only_folder_records_no_round(trained, tmp_path, monkeypatch):
    out = tmp_path / "ro"
    out.mkdir()
    before = rounds(trained)
    fail_in(out, errno.EACCES, monkeypatch)
    assert refused(invoke("next", "-n", "3", "--out", out / "batch.csv", "-p", trained), "permission denied")
    assert rounds(trained) == before and list(out.iterdir()) == []


def test_export_on_a_full_disk_is_one_line_and_leaves_nothing(labeled, tmp_path, monkeypatch):  # noqa: F811
    import csv

    class FullDisk(csv.DictWriter):
        def writerows(self, rows):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(csv, "DictWriter", FullDisk)
    out = tmp_path / "out"
    out.mkdir()
    assert refused(invoke("export", out / "labels.csv", "-p", labeled), "no space left")
    assert list(out.iterdir()) == []


def test_init_refuses_a_file_an_empty_name_a_nested_project_and_a_read_only_folder(tmp_path, monkeypatch):
    data, vectors = make_pool(tmp_path)
    options = ("--data", data, "--text-col", "body", "--embeddings", vectors, "--backend", "exact")
    (tmp_path / "notes.txt").write_text("mine")
    assert refused(invoke("init", tmp_path / "notes.txt", *options), "not a folder")
    assert (tmp_path / "notes.txt").read_text() == "mine"
    monkeypatch.chdir(tmp_path)
    assert refused(invoke("init", "", *options), "empty")
    assert not (tmp_path / "textsel.toml").exists()
    assert invoke("init", tmp_path / "proj", *options).exit_code == 0
    assert refused(invoke("init", tmp_path / "proj" / "cache", *options), "inside the textsel project")
    assert refused(invoke("init", tmp_path / "proj" / "cache" / "sub", *options), "inside the textsel project")
    readonly = tmp_path / "ro"
    readonly.mkdir()
    fail_in(readonly, errno.EROFS, monkeypatch)
    assert refused(invoke("init", readonly, *options), "read-only")
    assert list(readonly.iterdir()) == []


def test_init_on_a_full_disk_removes_what_it_wrote(tmp_path, monkeypatch):
    from textsel.project import create as project_module

    data, vectors = make_pool(tmp_path)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(project_module, "write_text_atomic", full)  # the config, written last
    assert refused(invoke("init", tmp_path / "proj", "--data", data, "--text-col", "body", "--embeddings",
                          vectors, "--backend", "exact"), "no space left")
    assert not (tmp_path / "proj").exists()


def test_simulate_out_onto_a_file_or_into_a_project_is_one_line(tiny, tmp_path):  # noqa: F811
    (tiny / "taken").write_text("mine")
    args = ["simulate", tiny / "data.parquet", "--embeddings", tiny / "vectors.npy", "--label-col", "topic",
            "--positive", "rare", "--seed-positives", "2", "--seed-negatives", "8", "--batch", "10", "--budget",
            "20", "--index-backend", "exact"]
    assert refused(invoke(*args, "--out", tiny / "taken"), "not a folder")
    assert (tiny / "taken").read_text() == "mine"
    (tiny / "proj").mkdir()
    (tiny / "proj" / "textsel.toml").write_text("")
    assert refused(invoke(*args, "--out", tiny / "proj" / "runs"), "inside the textsel project")
    assert not (tiny / "proj" / "runs").exists()


def test_svp_out_onto_a_file_is_refused_before_any_training(tmp_path, monkeypatch):
    from textsel import svp_experiments

    monkeypatch.setattr(svp_experiments, "run_active_experiment", lambda *a, **k: pytest.fail("ran"))
    (tmp_path / "taken").write_text("mine")
    assert refused(invoke("svp", "active", tmp_path / "missing.csv", "--out", tmp_path / "taken"), "not a folder")
    assert (tmp_path / "taken").read_text() == "mine"
