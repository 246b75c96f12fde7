"""The embedding cache with a fake embedder: keys, reuse, resumption after a crash or a real kill, validation."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, fake_embeddings

from textsel.data import Pool
from textsel.embed import DEFAULT_MODEL, Embedder, embed_pool, embedding_cache_key, load_embeddings
from textsel.errors import ConfigError, DataError

DIM = 8


class CountingEmbedder:
    """Fake embedder that records every text it encodes and can fail after a number of calls."""

    name = "fake-embedder"
    dimension = DIM

    def __init__(self, fail_after_calls: int | None = None) -> None:
        self.fail_after_calls = fail_after_calls
        self.calls: list[list[str]] = []

    def encode(self, texts):
        if self.fail_after_calls is not None and len(self.calls) == self.fail_after_calls:
            raise RuntimeError("simulated crash")
        self.calls.append(list(texts))
        return fake_embeddings(list(texts), DIM)

    @property
    def encoded(self) -> list[str]:
        return [text for call in self.calls for text in call]


def make_pool(n: int = 23, prefix: str = "review") -> Pool:
    return Pool(ids=np.arange(100, 100 + n), texts=[f"{prefix} number {i}" for i in range(n)], source="tiny.csv")


def cache_folder(cache_dir: Path) -> Path:
    (folder,) = [path for path in cache_dir.iterdir() if path.is_dir()]
    return folder


def test_embed_pool_returns_float32_rows_aligned_with_the_pool(tmp_path):
    pool = make_pool()
    vectors = embed_pool(pool, CountingEmbedder(), cache_dir=tmp_path, dtype="float32", chunk_size=5)
    assert vectors.shape == (len(pool), DIM) and vectors.dtype == np.float32
    np.testing.assert_array_equal(vectors, fake_embeddings(pool.texts, DIM))


def test_rows_can_stay_a_memory_map_in_their_stored_type(tmp_path):
    """as_float32=False: the checked cache file itself, read-only, with no float32 copy in memory (the static
    vectors of 1.1M texts would take 1.1 GB)."""
    from textsel.embed import embed_pool_with_record

    pool = make_pool()
    vectors, record = embed_pool_with_record(pool, CountingEmbedder(), cache_dir=tmp_path, as_float32=False)
    assert isinstance(vectors, np.memmap) and vectors.dtype == np.float16 and not vectors.flags.writeable
    assert record["rows"] == len(pool)
    np.testing.assert_array_equal(vectors, fake_embeddings(pool.texts, DIM).astype(np.float16))
    np.testing.assert_array_equal(load_embeddings(cache_folder(tmp_path) / "embeddings.npy", len(pool)),
                                  np.asarray(vectors, dtype=np.float32))


def test_float16_cache_is_half_the_size_and_close_to_float32(tmp_path):
    pool = make_pool()
    half = embed_pool(pool, CountingEmbedder(), cache_dir=tmp_path / "f16", chunk_size=5)
    full = embed_pool(pool, CountingEmbedder(), cache_dir=tmp_path / "f32", dtype="float32", chunk_size=5)
    assert half.dtype == np.float32
    np.testing.assert_allclose(half, full, atol=1e-3)
    stored = np.load(cache_folder(tmp_path / "f16") / "embeddings.npy", mmap_mode="r")
    assert stored.dtype == np.float16 and stored.shape == (len(pool), DIM)


def test_finished_cache_is_reused_without_calling_the_model(tmp_path):
    pool = make_pool()
    first = embed_pool(pool, CountingEmbedder(), cache_dir=tmp_path, chunk_size=5)
    again = CountingEmbedder()
    second = embed_pool(pool, again, cache_dir=tmp_path, chunk_size=5)
    assert again.calls == []
    np.testing.assert_array_equal(first, second)
    progress = json.loads((cache_folder(tmp_path) / "progress.json").read_text())
    assert progress["complete"] is True and progress["completed_rows"] == len(pool)


def test_embedder_sees_chunks_in_pool_order(tmp_path):
    pool = make_pool(n=12)
    embedder = CountingEmbedder()
    embed_pool(pool, embedder, cache_dir=tmp_path, chunk_size=5)
    assert [len(call) for call in embedder.calls] == [5, 5, 2]
    assert embedder.encoded == pool.texts


def test_other_data_gets_its_own_cache(tmp_path):
    embed_pool(make_pool(prefix="review"), CountingEmbedder(), cache_dir=tmp_path)
    other = CountingEmbedder()
    vectors = embed_pool(make_pool(prefix="tweet"), other, cache_dir=tmp_path)
    assert other.encoded == make_pool(prefix="tweet").texts
    np.testing.assert_allclose(vectors, fake_embeddings(make_pool(prefix="tweet").texts, DIM), atol=1e-3)
    assert len([path for path in tmp_path.iterdir() if path.is_dir()]) == 2


@pytest.mark.parametrize("changed", [{"fingerprint": "other"}, {"model_name": "other-model"},
                                     {"max_seq_length": 128}, {"normalize": False}, {"dtype": "float32"}])
def test_cache_key_changes_with_everything_that_changes_the_vectors(changed):
    base = {"fingerprint": "abc", "model_name": DEFAULT_MODEL, "max_seq_length": 256, "normalize": True,
            "dtype": "float16"}
    assert embedding_cache_key(**base) == embedding_cache_key(**dict(base))
    assert embedding_cache_key(**base) != embedding_cache_key(**{**base, **changed})


def test_crash_resumes_from_the_last_complete_chunk(tmp_path):
    pool = make_pool(n=23)
    with pytest.raises(RuntimeError, match="simulated crash"):
        embed_pool(pool, CountingEmbedder(fail_after_calls=3), cache_dir=tmp_path, chunk_size=5)
    folder = cache_folder(tmp_path)
    progress = json.loads((folder / "progress.json").read_text())
    assert progress["completed_rows"] == 15 and progress["complete"] is False
    assert not (folder / "embeddings.npy").exists()

    resumed = CountingEmbedder()
    vectors = embed_pool(pool, resumed, cache_dir=tmp_path, chunk_size=5)
    assert resumed.encoded == pool.texts[15:]
    one_shot = embed_pool(pool, CountingEmbedder(), cache_dir=tmp_path / "one-shot", chunk_size=5)
    np.testing.assert_array_equal(vectors, one_shot)


KILLED_RUN = """
import os, signal, sys
import numpy as np
sys.path.insert(0, {tests!r})
from conftest import fake_embeddings
from textsel.data import Pool
from textsel.embed import embed_pool

class KillingEmbedder:
    name = "fake-embedder"
    calls = 0

    def encode(self, texts):
        if self.calls == {kill_after}:
            os.kill(os.getpid(), signal.SIGKILL)
        self.calls += 1
        return fake_embeddings(list(texts), {dim})

pool = Pool(ids=np.arange(100, 123), texts=[f"review number {{i}}" for i in range(23)], source="tiny.csv")
embed_pool(pool, KillingEmbedder(), cache_dir={cache!r}, chunk_size=5)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX only")
def test_run_killed_with_sigkill_resumes_and_matches_a_one_shot_run(tmp_path):
    script = KILLED_RUN.format(tests=str(REPO / "tests"), kill_after=2, dim=DIM, cache=str(tmp_path / "cache"))
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, timeout=120)
    assert result.returncode == -9, result.stderr.decode()
    folder = cache_folder(tmp_path / "cache")
    assert json.loads((folder / "progress.json").read_text())["completed_rows"] == 10

    pool = make_pool(n=23)
    resumed = CountingEmbedder()
    vectors = embed_pool(pool, resumed, cache_dir=tmp_path / "cache", chunk_size=5)
    assert [len(call) for call in resumed.calls] == [5, 5, 3]
    assert resumed.encoded == pool.texts[10:]
    one_shot = embed_pool(pool, CountingEmbedder(), cache_dir=tmp_path / "one-shot", chunk_size=5)
    np.testing.assert_array_equal(vectors, one_shot)


def test_partial_file_that_disagrees_with_its_progress_file_is_recomputed(tmp_path):
    pool = make_pool(n=12)
    with pytest.raises(RuntimeError):
        embed_pool(pool, CountingEmbedder(fail_after_calls=1), cache_dir=tmp_path, chunk_size=5)
    folder = cache_folder(tmp_path)
    np.save(folder / "embeddings.partial.npy", np.zeros((3, 2), dtype=np.float16))
    embedder = CountingEmbedder()
    vectors = embed_pool(pool, embedder, cache_dir=tmp_path, chunk_size=5)
    assert embedder.encoded == pool.texts
    np.testing.assert_allclose(vectors, fake_embeddings(pool.texts, DIM), atol=1e-3)


class BrokenEmbedder(CountingEmbedder):
    def __init__(self, bad: str) -> None:
        super().__init__()
        self.bad = bad

    def encode(self, texts):
        vectors = super().encode(texts)
        if self.bad == "nan" and len(self.calls) == 2:
            vectors[1, 3] = np.nan
        if self.bad == "shape":
            vectors = vectors[:-1]
        return vectors


def test_nan_from_the_embedder_names_the_row(tmp_path):
    with pytest.raises(DataError, match="row 7: .*NaN"):
        embed_pool(make_pool(), BrokenEmbedder("nan"), cache_dir=tmp_path, chunk_size=5)


def test_text_that_is_not_a_string_names_file_row_and_column(tmp_path):
    pool = Pool(ids=np.arange(4), texts=["a", "b", None, "d"], source="reviews.csv")
    with pytest.raises(DataError, match="file reviews.csv, row 3, column 'text': text must be a string; got NoneType"):
        embed_pool(pool, CountingEmbedder(), cache_dir=tmp_path, chunk_size=2)


def test_wrong_number_of_vectors_from_the_embedder_is_an_error(tmp_path):
    with pytest.raises(DataError, match=r"shape \(4, 8\) for 5 texts"):
        embed_pool(make_pool(), BrokenEmbedder("shape"), cache_dir=tmp_path, chunk_size=5)


@pytest.mark.parametrize(("option", "value", "message"), [("dtype", "int8", "'dtype' parameter of embed_pool"),
                                                          ("chunk_size", 0, "'chunk_size' parameter of embed_pool")])
def test_bad_options_raise_config_error(tmp_path, option, value, message):
    with pytest.raises(ConfigError, match=message):
        embed_pool(make_pool(), CountingEmbedder(), cache_dir=tmp_path, **{option: value})


def test_empty_pool_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="empty"):
        embed_pool(Pool(ids=np.zeros(0), texts=[]), CountingEmbedder(), cache_dir=tmp_path)


def test_show_progress_draws_a_bar_and_gives_the_same_vectors(tmp_path, capsys):
    vectors = embed_pool(make_pool(), CountingEmbedder(), cache_dir=tmp_path, chunk_size=5, show_progress=True)
    assert "Embedding" in capsys.readouterr().out
    np.testing.assert_allclose(vectors, fake_embeddings(make_pool().texts, DIM), atol=1e-3)


def test_embedder_constructor_only_stores_arguments():
    embedder = Embedder(max_seq_length=128, normalize=False, batch_size=8, device="cpu")
    assert (embedder.model_name_or_path, embedder.max_seq_length, embedder.normalize, embedder.batch_size,
            embedder.device) == (None, 128, False, 8, "cpu")
    assert not hasattr(embedder, "model_")
    assert embedder.name == DEFAULT_MODEL == Embedder("all-MiniLM-L6-v2").name


def test_embedder_name_of_a_local_folder_is_its_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my-model").mkdir()
    assert Embedder("my-model").name == str(tmp_path.resolve() / "my-model")
    assert Embedder("org/hub-model").name == "org/hub-model"


def test_bad_batch_size_is_reported_before_loading_a_model():
    with pytest.raises(ConfigError, match="'batch_size' parameter of Embedder must be an int >= 1. Got 0."):
        Embedder(batch_size=0).encode(["text"])


# load_embeddings: precomputed vectors are checked before anything uses them.

@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_load_embeddings_accepts_float_files_and_returns_float32(tmp_path, dtype):
    expected = fake_embeddings([f"t{i}" for i in range(6)], DIM)
    np.save(tmp_path / "e.npy", expected.astype(dtype))
    loaded = load_embeddings(tmp_path / "e.npy", n_rows=6)
    assert loaded.dtype == np.float32 and loaded.shape == (6, DIM)
    np.testing.assert_allclose(loaded, expected, atol=1e-3)


@pytest.mark.parametrize(("array", "n_rows", "message"), [
    (np.zeros(6, dtype=np.float32), None, r"must be 2-D .* shape \(6,\)"),
    (np.zeros((6, 4), dtype=np.int32), None, "must be one of .* got int32"),
    (np.zeros((5, 4), dtype=np.float32), 6, "has 5 embedding rows but the pool has 6 texts"),
])
def test_load_embeddings_rejects_bad_shape_dtype_and_row_count(tmp_path, array, n_rows, message):
    np.save(tmp_path / "e.npy", array)
    with pytest.raises(DataError, match=message) as error:
        load_embeddings(tmp_path / "e.npy", n_rows=n_rows)
    assert error.value.file == str(tmp_path / "e.npy")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_load_embeddings_names_file_and_row_of_a_non_finite_value(tmp_path, bad):
    array = np.ones((9, 4), dtype=np.float16)
    array[6, 2] = bad
    np.save(tmp_path / "e.npy", array)
    with pytest.raises(DataError, match=r"e\.npy, row 7: .*NaN or inf") as error:
        load_embeddings(tmp_path / "e.npy")
    assert error.value.row == 7


def test_load_embeddings_reports_missing_and_unreadable_files(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_embeddings(tmp_path / "absent.npy")
    (tmp_path / "junk.npy").write_text("not numpy")
    with pytest.raises(DataError, match="not a readable .npy"):
        load_embeddings(tmp_path / "junk.npy")
    np.save(tmp_path / "objects.npy", np.array([[{"a": 1}]], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="not a readable .npy"):
        load_embeddings(tmp_path / "objects.npy")
