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
