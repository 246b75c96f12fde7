"""The per-text embedding cache (issue 10): a second project over the same texts embeds nothing, a grown pool
embeds only its new texts, and a cache file of other settings is refused."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CountingEmbedder, fake_embeddings

from textsel.errors import DataError
from textsel.project import Project, init_project
from textsel.text_cache import CachedEncoder, TextEmbeddingCache, encoder_settings


def write_pool(path, texts):
    path.write_text("text\n" + "".join(f'"{text}"\n' for text in texts))
    return path


def test_a_second_project_on_the_same_texts_embeds_nothing(tmp_path, monkeypatch):
    model = CountingEmbedder()
    monkeypatch.setattr(Project, "embedder", lambda self: model)
    texts = [f"a review of product {i}" for i in range(60)]
    first = init_project(tmp_path / "one", data=str(write_pool(tmp_path / "one.csv", texts)))
    with first:
        vectors = np.asarray(first.embeddings(), dtype=np.float32)
        assert model.calls == 60 and first.encoded_texts == 60
    second = init_project(tmp_path / "two", data=str(write_pool(tmp_path / "two.csv", texts[::-1])))
    with second:
        again = np.asarray(second.embeddings(), dtype=np.float32)
        assert model.calls == 60 and second.encoded_texts == 0  # every text came from the machine's cache
    assert np.allclose(again, vectors[::-1], atol=1e-3)  # float16 project files, same vectors
    grown = init_project(tmp_path / "three", data=str(write_pool(tmp_path / "three.csv", texts + ["a new one"])))
    with grown:
        grown.embeddings()
        assert grown.encoded_texts == 1 and model.calls == 61


def test_cached_rows_equal_fresh_ones_and_other_settings_are_refused(tmp_path):
    model = CountingEmbedder()
    encoder = CachedEncoder(model, TextEmbeddingCache(encoder_settings(model), tmp_path))
    fresh = encoder.encode(["x", "y", "x"])
    assert model.calls == 2 and np.array_equal(fresh, fake_embeddings(["x", "y", "x"], 12))
    assert np.array_equal(encoder.encode(["y", "x"]), fresh[[1, 0]]) and model.calls == 2
    assert encoder.name == "counting-test-model"  # other attributes are the model's
    encoder.cache.close()
    other = TextEmbeddingCache({**encoder_settings(model), "max_seq_length": 128}, tmp_path)
    assert other.path != encoder.cache.path and not other.lookup(["x"])
    other.close()
    encoder.cache.path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(DataError, match="delete it to start a new one"):
        TextEmbeddingCache(encoder_settings(model), tmp_path)


def _rows(cache):
    import sqlite3

    with sqlite3.connect(cache.path) as connection:
        return connection.execute("SELECT text_sha256, vector FROM vectors ORDER BY text_sha256").fetchall()


def _set_vector(cache, key, blob):
    import sqlite3

    with sqlite3.connect(cache.path) as connection:
        connection.execute("UPDATE vectors SET vector = ? WHERE text_sha256 = ?", (blob, key))


def test_swapped_or_truncated_cached_vectors_are_misses_and_embedded_again(tmp_path, caplog):
    """Issue 19, case 4: each cached vector is bound to its text; a swapped or cut row is never returned."""
    model = CountingEmbedder()
    texts = ["first text", "second text", "third text"]
    encoder = CachedEncoder(model, TextEmbeddingCache(encoder_settings(model), tmp_path))
    fresh = encoder.encode(texts)
    (key_a, blob_a), (key_b, blob_b), (key_c, blob_c) = _rows(encoder.cache)
    _set_vector(encoder.cache, key_a, blob_b)  # two rows swapped
    _set_vector(encoder.cache, key_b, blob_a)
    _set_vector(encoder.cache, key_c, blob_c[:-6])  # a vector cut short (not even whole floats)
    again = CachedEncoder(model, TextEmbeddingCache(encoder_settings(model), tmp_path))
    assert np.array_equal(again.encode(texts), fresh)
    assert again.encoded_texts == 3 and "do not match their texts" in caplog.text
    third = CachedEncoder(model, TextEmbeddingCache(encoder_settings(model), tmp_path))
    assert np.array_equal(third.encode(texts), fresh) and third.encoded_texts == 0  # the rows were rewritten


def test_rows_from_a_cache_without_bindings_are_embedded_again(tmp_path):
    import sqlite3

    model = CountingEmbedder()
    cache = TextEmbeddingCache(encoder_settings(model), tmp_path)
    cache.close()
    with sqlite3.connect(cache.path) as connection:  # a file as the previous textsel wrote it
        connection.execute("DROP TABLE vectors")
        connection.execute("CREATE TABLE vectors (text_sha256 BLOB PRIMARY KEY, vector BLOB NOT NULL)")
        connection.execute("INSERT INTO vectors VALUES (?, ?)", (TextEmbeddingCache.key("old"),
                                                                 np.ones(12, np.float32).tobytes()))
    encoder = CachedEncoder(model, TextEmbeddingCache(encoder_settings(model), tmp_path))
    assert np.array_equal(encoder.encode(["old"]), fake_embeddings(["old"], 12)) and encoder.encoded_texts == 1
