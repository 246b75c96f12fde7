"""Embedding cache integrity (issue 9, items 5 and 6): one writer at a time, a checksum verified before use, every
row finite and non-zero, and clear one-line errors for damaged or foreign files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import REPO, fake_embeddings, overwrite_npy_rows

from textsel import _integrity
from textsel.data import Pool
from textsel.embed import clear_embedding_cache, embed_pool, embed_pool_with_record, load_embeddings
from textsel.errors import DataError

DIM = 8


class CountingEmbedder:
    name = "fake-embedder"

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts):
        self.calls += 1
        return fake_embeddings(list(texts), DIM)


def make_pool(n: int = 23) -> Pool:
    return Pool(ids=np.arange(100, 100 + n), texts=[f"review number {i}" for i in range(n)], source="tiny.csv")


def cache_file(cache_dir):
    (path,) = cache_dir.glob("embeddings-*/embeddings.npy")
    return path


# -- two writers ---------------------------------------------------------------------------------------------------

WRITER = """
import os, sys, time
import numpy as np
sys.path.insert(0, {tests!r})
from conftest import fake_embeddings
from textsel.data import Pool
from textsel.embed import embed_pool

class SlowEmbedder:
    name = "fake-embedder"
    calls = 0

    def encode(self, texts):
        self.calls += 1
        if self.calls == 2:  # hold the cache until the test says the other process is waiting
            deadline = time.monotonic() + 60
            while not os.path.exists({go!r}) and time.monotonic() < deadline:
                time.sleep(0.05)
        return fake_embeddings(list(texts), {dim})

embedder = SlowEmbedder()
pool = Pool(ids=np.arange(100, 123), texts=[f"review number {{i}}" for i in range(23)], source="tiny.csv")
vectors = embed_pool(pool, embedder, cache_dir={cache!r}, chunk_size=5)
print(embedder.calls, float(np.abs(vectors - fake_embeddings(pool.texts, {dim})).max()), flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="the test process waits on POSIX file locks")
def test_two_processes_filling_one_cache_leave_one_complete_correct_file(tmp_path):
    script = textwrap.dedent(WRITER.format(tests=str(REPO / "tests"), go=str(tmp_path / "go"), dim=DIM,
                                           cache=str(tmp_path / "cache")))
    first = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second = None
    try:
        progress = tmp_path / "cache"
        for _ in range(1200):  # the first process has written its first chunk and holds the lock
            if list(progress.glob("embeddings-*/progress.json")):
                break
            assert first.poll() is None, first.stderr.read()
            subprocess.run(["sleep", "0.05"])
        second = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        waiting = second.stderr.readline()
        assert "Waiting for another textsel process that is writing the embedding cache" in waiting
        (tmp_path / "go").touch()
        first_out, first_err = first.communicate(timeout=120)
        second_out, second_err = second.communicate(timeout=120)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
    assert first.returncode == 0 and second.returncode == 0, first_err + second_err
    calls_first, error_first = first_out.split()
    calls_second, error_second = second_out.split()
    assert (int(calls_first), int(calls_second)) == (5, 0)  # the second reused the finished cache
    assert float(error_first) < 1e-3 and float(error_second) < 1e-3
    record = json.loads(cache_file(tmp_path / "cache").with_name("progress.json").read_text())
    assert record["complete"] and record["completed_rows"] == 23
    np.testing.assert_allclose(load_embeddings(cache_file(tmp_path / "cache")), fake_embeddings(make_pool().texts,
                                                                                                DIM), atol=1e-3)


# -- the record and its checksum -----------------------------------------------------------------------------------

def test_finished_cache_records_what_it_was_built_from_and_its_checksum(tmp_path):
    pool = make_pool()
    _, record = embed_pool_with_record(pool, CountingEmbedder(), cache_dir=tmp_path, chunk_size=5)
    path = cache_file(tmp_path)
    assert (record["fingerprint"], record["model_name"], record["rows"], record["dim"], record["dtype"]) == (
        pool.fingerprint(), "fake-embedder", 23, DIM, "float16")
    assert record["file"] == _integrity.file_record(path)
    assert json.loads(path.with_name("progress.json").read_text()) == record


@pytest.mark.parametrize("damage", ["zeroed", "permuted", "one value"])
def test_changed_cache_file_is_a_data_error_naming_the_fix(tmp_path, damage):
    pool = make_pool()
    embed_pool(pool, CountingEmbedder(), cache_dir=tmp_path, chunk_size=5)
    changes = {"zeroed": lambda v: v.fill(0), "permuted": lambda v: v.__setitem__(slice(None), v[::-1].copy()),
               "one value": lambda v: v.__setitem__((4, 2), v[4, 2] + 0.25)}
    overwrite_npy_rows(cache_file(tmp_path), changes[damage])
    embedder = CountingEmbedder()
    with pytest.raises(DataError, match="does not match the checksum recorded .* re-embed the pool") as error:
        embed_pool(pool, embedder, cache_dir=tmp_path, chunk_size=5)
    assert error.value.file == str(cache_file(tmp_path)) and embedder.calls == 0


def test_truncated_cache_file_is_a_data_error(tmp_path):
    pool = make_pool()
    embed_pool(pool, CountingEmbedder(), cache_dir=tmp_path, chunk_size=5)
    path = cache_file(tmp_path)
    os.truncate(path, path.stat().st_size - 16)
    with pytest.raises(DataError, match="does not match the checksum"):
        embed_pool(pool, CountingEmbedder(), cache_dir=tmp_path, chunk_size=5)


def test_touched_but_unchanged_cache_is_rehashed_once_and_its_record_refreshed(tmp_path, monkeypatch):
    pool = make_pool()
    expected = embed_pool(pool, CountingEmbedder(), cache_dir=tmp_path, chunk_size=5)
    path = cache_file(tmp_path)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))  # a copy without -p
    hashed = []
    real_hash = _integrity.file_sha256
    monkeypatch.setattr(_integrity, "file_sha256", lambda p: hashed.append(p) or real_hash(p))
    embedder = CountingEmbedder()
    np.testing.assert_array_equal(embed_pool(pool, embedder, cache_dir=tmp_path, chunk_size=5), expected)
    assert embedder.calls == 0 and len(hashed) == 1
    record = json.loads(path.with_name("progress.json").read_text())
    assert record["file"]["mtime_ns"] == path.stat().st_mtime_ns
    embed_pool(pool, embedder, cache_dir=tmp_path, chunk_size=5)
    assert len(hashed) == 1  # the stat fast path: no second hash


def test_missing_or_foreign_record_is_a_data_error(tmp_path):
    pool = make_pool()
    embed_pool(pool, CountingEmbedder(), cache_dir=tmp_path, chunk_size=5)
    progress = cache_file(tmp_path).with_name("progress.json")
    record = json.loads(progress.read_text())
    progress.write_text(json.dumps({**record, "rows": 99}))
    with pytest.raises(DataError, match="built from other data or another model"):
        embed_pool(pool, CountingEmbedder(), cache_dir=tmp_path, chunk_size=5)
    progress.write_text("{garbled")
    with pytest.raises(DataError, match="no readable record"):
        embed_pool(pool, CountingEmbedder(), cache_dir=tmp_path, chunk_size=5)


def test_cache_finished_by_an_older_textsel_is_adopted_with_a_checksum(tmp_path):
    pool = make_pool()
    expected = embed_pool(pool, CountingEmbedder(), cache_dir=tmp_path, chunk_size=5)
    progress = cache_file(tmp_path).with_name("progress.json")
    legacy = {key: value for key, value in json.loads(progress.read_text()).items() if key != "file"}
    progress.write_text(json.dumps({**legacy, "complete": False}))  # killed between its rename and last record
    embedder = CountingEmbedder()
    np.testing.assert_array_equal(embed_pool(pool, embedder, cache_dir=tmp_path, chunk_size=5), expected)
    assert embedder.calls == 0
    assert json.loads(progress.read_text())["file"] == _integrity.file_record(cache_file(tmp_path))


def test_clear_embedding_cache_makes_the_next_run_embed_again(tmp_path):
    pool = make_pool()
    embed_pool(pool, CountingEmbedder(), cache_dir=tmp_path, chunk_size=5)
    overwrite_npy_rows(cache_file(tmp_path), lambda v: v.fill(0))
    clear_embedding_cache(tmp_path)
    embedder = CountingEmbedder()
    vectors = embed_pool(pool, embedder, cache_dir=tmp_path, chunk_size=5)
    assert embedder.calls == 5
    np.testing.assert_allclose(vectors, fake_embeddings(pool.texts, DIM), atol=1e-3)


# -- every row finite and non-zero ---------------------------------------------------------------------------------

class ZeroRowEmbedder(CountingEmbedder):
    def encode(self, texts):
        vectors = super().encode(texts)
        if self.calls == 2:
            vectors[3] = 0
        return vectors


def test_all_zero_vector_from_the_embedder_names_the_row(tmp_path):
    with pytest.raises(DataError, match="row 9: .*all-zero row"):
        embed_pool(make_pool(), ZeroRowEmbedder(), cache_dir=tmp_path, chunk_size=5)


class OverwrittenWhileWriting(CountingEmbedder):
    """Zeroes a row of the partial file on disk before the last chunk, as a second unlocked writer once did."""

    def __init__(self, cache_dir) -> None:
        super().__init__()
        self.cache_dir = cache_dir

    def encode(self, texts):
        if self.calls == 4:
            (partial,) = self.cache_dir.glob("embeddings-*/embeddings.partial.npy")
            overwrite_npy_rows(partial, lambda v: v.__setitem__(2, 0))
        return super().encode(texts)


def test_finished_file_is_checked_row_by_row_before_it_becomes_the_cache(tmp_path):
    pool = make_pool()
    with pytest.raises(DataError, match="row 3: the finished embedding cache has an all-zero row"):
        embed_pool(pool, OverwrittenWhileWriting(tmp_path), cache_dir=tmp_path, chunk_size=5)
    assert not list(tmp_path.glob("embeddings-*/embeddings*.npy"))  # nothing half-right is kept
    embedder = CountingEmbedder()
    vectors = embed_pool(pool, embedder, cache_dir=tmp_path, chunk_size=5)
    assert embedder.calls == 5
    np.testing.assert_allclose(vectors, fake_embeddings(pool.texts, DIM), atol=1e-3)


# -- precomputed files (issue 9, item 9: a 0-byte .npy printed only "Aborted.") --------------------------------------

@pytest.mark.parametrize(("content", "message"), [
    (b"", "the file is empty or cut short"),
    (b"\x93NUMPY\x01", "the file is empty or cut short"),
    (os.urandom(64), "not a readable .npy array"),
    ("npz", "not a single .npy array"),
])
def test_empty_garbled_or_archive_npy_is_one_data_error(tmp_path, content, message):
    path = tmp_path / "e.npy"
    if content == "npz":
        np.savez(tmp_path / "e.npz", vectors=np.ones((3, 2)))
        (tmp_path / "e.npz").rename(path)
    else:
        path.write_bytes(content)
    with pytest.raises(DataError, match=message) as error:
        load_embeddings(path, n_rows=3)
    assert error.value.file == str(path)


def test_precomputed_all_zero_row_names_file_and_row(tmp_path):
    vectors = fake_embeddings([f"t{i}" for i in range(6)], DIM)
    vectors[4] = 0
    np.save(tmp_path / "e.npy", vectors)
    with pytest.raises(DataError, match=r"e\.npy, row 5: embedding has an all-zero row"):
        load_embeddings(tmp_path / "e.npy", n_rows=6)


# -- the record helper ---------------------------------------------------------------------------------------------

def test_verified_record_uses_stat_first_and_rejects_other_bytes(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc" * 100)
    record = _integrity.file_record(path)
    assert _integrity.verified_record(path, record) == record
    path.write_bytes(b"abd" * 100)  # same size, other bytes
    assert _integrity.verified_record(path, record) is None
    path.write_bytes(b"abc" * 99)
    assert _integrity.verified_record(path, record) is None
    assert _integrity.verified_record(path, None) is None
