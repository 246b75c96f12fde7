"""A round reads only what it needs (issue 10): ids and the shown texts from the project's pool cache, the vectors
as a memory map; a damaged cache or a changed data file falls back to loading (and checking) the whole pool."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from conftest import fake_embeddings, precomputed_project
from textsel.cli.app import app
from typer.testing import CliRunner

from textsel.project import Project, init_project


def make_project(tmp_path, n=200):
    texts = [f"review {i}: {'squeaky hinge' if i % 9 == 0 else 'nice shirt'} ✓" for i in range(n)]
    folder, _ = precomputed_project(tmp_path, texts, [7 + 2 * i for i in range(n)], ["hinge", "other"],
                                    dtype=np.float16)
    return folder, texts


def test_ids_texts_and_labels_need_no_pool_load_and_match_the_pool(tmp_path):
    folder, texts = make_project(tmp_path)
    with Project(folder) as project:
        assert np.array_equal(project.ids, 7 + 2 * np.arange(200))
        assert project.texts([7, 405, 9]) == [texts[0], texts[199], texts[1]]
        project.add_labels([7, 9], ["hinge", "other"], source="test")
        assert "pool" not in project.__dict__  # nothing above loaded the data file
        first = project.embeddings()
    with Project(folder) as project:
        vectors = project.embeddings()  # verified once above: now a read-only memory map, float16 as stored
        assert isinstance(vectors, np.memmap) and vectors.dtype == np.float16
        assert np.allclose(np.asarray(vectors, np.float32), first)
        assert "pool" not in project.__dict__


def test_a_damaged_pool_cache_falls_back_to_the_pool_and_is_written_again(tmp_path):
    folder, texts = make_project(tmp_path)
    cache = folder / "cache" / "pool.texts.bin"
    data = bytearray(cache.read_bytes())
    data[3:9] = b"XXXXXX"
    cache.write_bytes(bytes(data))
    with Project(folder) as project:
        assert project.texts([7]) == [texts[0]]
        assert "pool" in project.__dict__  # the cache failed its checksum, so the pool was loaded ...
    with Project(folder) as project:
        assert project.texts([9]) == [texts[1]] and "pool" not in project.__dict__  # ... and the cache rewritten
    (folder / "cache" / "pool.ids.npy").unlink()
    with Project(folder) as project:
        assert np.array_equal(project.ids, 7 + 2 * np.arange(200)) and "pool" in project.__dict__


def test_a_cache_record_older_than_the_string_ids_flag_is_written_again(tmp_path):
    folder, _ = make_project(tmp_path)
    with Project(folder) as project:
        record = project.store.get_meta("pool_cache")
        project.store.set_meta("pool_cache", {key: value for key, value in record.items() if key != "string_ids"})
    with Project(folder) as project:
        project.external_ids([7])
        assert "pool" in project.__dict__  # without the flag, whether ids are strings is unknown: load the pool ...
    with Project(folder) as project:
        assert project.store.get_meta("pool_cache")["string_ids"] is False
        assert project.external_ids([7, 9]) == [7, 9] and "pool" not in project.__dict__  # ... once


def test_next_says_which_pool_auto_chose_and_why(tmp_path):
    folder, _ = make_project(tmp_path)
    with Project(folder) as project:
        project.add_labels([7 + 2 * i for i in range(0, 40, 4)], ["hinge", "other"] * 5, source="seed")
    result = CliRunner().invoke(app, ["next", "-n", "3", "-p", str(folder)])
    assert result.exit_code == 0, result.output
    shown = " ".join(result.output.split())  # rich wraps the title
    assert "over the all pool (k=100" in shown and "auto: predicted" in shown
    with Project(folder) as project:
        params = project.store.rounds()[-1].params
    assert params["pool_requested"] == "auto" and params["candidate_pool"] == "all"
    assert params["pool_reason"].startswith("predicted") and "scanning 190 texts" in params["pool_reason"]


def test_a_pool_cache_written_for_another_text_column_is_not_used(tmp_path):
    data = tmp_path / "pool.csv"
    with open(data, "w", newline="") as handle:
        rows = [[i, f"body {i}", f"title {i}"] for i in range(50)]
        csv.writer(handle).writerows([["doc_id", "body", "title"], *rows])
    np.save(tmp_path / "emb.npy", fake_embeddings([f"body {i}" for i in range(50)], 8))
    init_project(tmp_path / "proj", data=str(data), text_col="body", id_col="doc_id", labels=["a", "b"],
                 embeddings=str(tmp_path / "emb.npy"), backend="exact").close()
    config = tmp_path / "proj" / "textsel.toml"
    with Project(tmp_path / "proj") as project:
        assert project.texts([3]) == ["body 3"]
    config.write_text(config.read_text().replace('text_col = "body"', 'text_col = "title"'))
    with Project(tmp_path / "proj") as project:
        assert project.texts([3]) == ["title 3"]


def test_a_copied_project_is_hashed_once_then_checked_by_stat(tmp_path, monkeypatch):
    """``cp -r`` gives every cache file a new mtime: the first command verifies the checksums, later ones by stat."""
    import shutil

    import textsel._integrity as integrity

    folder, texts = make_project(tmp_path)
    with Project(folder) as project:
        project.embeddings()  # records the vectors file, read later as a memory map
        assert project.texts([7]) == [texts[0]]
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy, copy_function=shutil.copy)  # contents only: new mtimes
    hashed = []
    real_hash = integrity.file_sha256
    monkeypatch.setattr(integrity, "file_sha256", lambda path: hashed.append(path) or real_hash(path))
    for expect_hashing in (True, False):
        hashed.clear()
        with Project(copy) as project:
            assert project.texts([9]) == [texts[1]] and np.array_equal(project.ids, 7 + 2 * np.arange(200))
            assert isinstance(project.embeddings(), np.memmap) and "pool" not in project.__dict__
        names = {Path(path).name for path in hashed}
        assert bool({"pool.ids.npy", "pool.texts.bin"} & names) is expect_hashing, names


def test_next_with_a_pending_round_does_not_load_the_pool(tmp_path, monkeypatch):
    """Issue 22: a command with a pending batch costs what the batch costs, not the pool: the ids come from the
    pool cache, the shown texts and P(positive) from their rows only."""
    from textsel.project.corpus import Corpus

    folder, texts = make_project(tmp_path)
    with Project(folder) as project:
        project.add_labels([7 + 2 * i for i in range(0, 40, 4)], ["hinge", "other"] * 5, source="seed")
    assert CliRunner().invoke(app, ["next", "-n", "3", "-p", str(folder)]).exit_code == 0  # leaves a pending round

    def no_pool_load(self):  # noqa: ANN001, ANN202
        raise AssertionError("the pool parquet was loaded")

    monkeypatch.setattr(Corpus, "_load_pool", no_pool_load)
    result = CliRunner().invoke(app, ["next", "-n", "3", "-p", str(folder)])
    assert result.exit_code == 0, result.output
    assert "is not finished" in result.output
    with Project(folder) as project:
        pending = project.store.pending()[1]
        probabilities = project.positive_probabilities(pending)
    assert len(probabilities) == 3 and all(0.0 <= p <= 1.0 for p in probabilities)
