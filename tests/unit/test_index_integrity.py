"""Saved indexes carry checksums of their own files and of the vectors they were built over, verified before any
backend reads a byte (issue 9, item 6): damage is a DataError naming the fix, never a crash or a wrong answer."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from conftest import fake_embeddings

from textsel import _integrity
from textsel.errors import DataError
from textsel.index import build_index, load_index

BACKENDS = {"hnsw": ["index.hnsw", "index.hnsw.ids.npy", "index.hnsw.deleted.npy"], "exact": ["index.npz"]}


@pytest.fixture
def vectors() -> np.ndarray:
    return fake_embeddings([f"text {i}" for i in range(300)], 16)


def saved(tmp_path, vectors, backend, sha="a" * 64):
    path = tmp_path / f"index.{backend}"
    build_index(vectors, np.arange(1000, 1000 + len(vectors)), backend=backend).save(path, vectors_sha256=sha)
    return path


def later_mtime(path):
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


@pytest.mark.parametrize("backend", BACKENDS)
def test_saved_index_round_trips_and_records_its_files_and_vectors(tmp_path, vectors, backend):
    path = saved(tmp_path, vectors, backend)
    meta = json.loads(path.with_name(path.name + ".json").read_text())
    assert meta["vectors_sha256"] == "a" * 64 and sorted(meta["files"]) == sorted(BACKENDS[backend])
    for name, record in meta["files"].items():
        assert record == _integrity.file_record(tmp_path / name)
    loaded = load_index(path, vectors_sha256="a" * 64)
    assert loaded.search(vectors[:3], 1)[0][:, 0].tolist() == [1000, 1001, 1002]


@pytest.mark.parametrize("backend", BACKENDS)
def test_index_built_over_other_vectors_is_refused(tmp_path, vectors, backend):
    path = saved(tmp_path, vectors, backend, sha="b" * 64)
    with pytest.raises(DataError, match="built over other vectors .*; rebuild the index"):
        load_index(path, vectors_sha256="a" * 64)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("damage", ["garbled", "truncated"])
def test_damaged_index_file_is_a_data_error_before_the_backend_reads_it(tmp_path, vectors, backend, damage):
    path = saved(tmp_path, vectors, backend)
    data = tmp_path / BACKENDS[backend][0]
    if damage == "garbled":
        with open(data, "r+b") as handle:
            handle.seek(data.stat().st_size // 2)
            handle.write(os.urandom(64))
        later_mtime(data)
    else:
        os.truncate(data, data.stat().st_size // 3)
    with pytest.raises(DataError, match="does not match the checksum recorded .*; rebuild the index") as error:
        load_index(path)
    assert error.value.file == str(data)


def test_missing_ids_file_and_edited_settings_are_refused(tmp_path, vectors):
    path = saved(tmp_path, vectors, "hnsw")
    sidecar = path.with_name(path.name + ".json")
    meta = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**meta, "dim": 99}))
    with pytest.raises(DataError, match="settings file was changed"):
        load_index(path)
    sidecar.write_text(json.dumps(meta))
    (tmp_path / "index.hnsw.ids.npy").unlink()
    with pytest.raises(DataError, match="an index file is missing; rebuild the index"):
        load_index(path)


@pytest.mark.parametrize(("content", "message"), [("{not json", "settings file is unreadable"),
                                                  ('{"backend": "hnsw", "metric": "cosine"}', "no checksums"),
                                                  ('["hnsw"]', "not one textsel wrote")])
def test_garbled_or_old_settings_file_names_the_fix(tmp_path, vectors, content, message):
    path = saved(tmp_path, vectors, "hnsw")
    path.with_name(path.name + ".json").write_text(content)
    with pytest.raises(DataError, match=f"{message}.*rebuild the index"):
        load_index(path)


def test_copied_index_is_rehashed_once_then_trusted_by_its_new_stat(tmp_path, vectors, monkeypatch):
    path = saved(tmp_path, vectors, "hnsw")
    later_mtime(path)
    hashed = []
    real_hash = _integrity.file_sha256
    monkeypatch.setattr(_integrity, "file_sha256", lambda p: hashed.append(p) or real_hash(p))
    load_index(path)
    load_index(path)
    assert len(hashed) == 1
    meta = json.loads(path.with_name(path.name + ".json").read_text())
    assert meta["files"]["index.hnsw"]["mtime_ns"] == path.stat().st_mtime_ns
