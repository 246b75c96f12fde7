"""Issue 23, finding 1: the longest wait shows progress. Embedding through the per-text cache advances the bar per
model batch (not once per 4,096-text chunk), and a chunk's cached texts count at once."""

from __future__ import annotations

import numpy as np
from conftest import fake_embeddings

from textsel.embed import encode_reporting
from textsel.text_cache import CachedEncoder, TextEmbeddingCache


class BatchedFake:
    """An encoder that embeds in batches of 3 and reports each, like textsel.embed.Embedder."""

    reports_batches = True
    name, max_seq_length, normalize, dtype = "batched-fake", 16, True, "float32"

    def __init__(self) -> None:
        self.batches: list[int] = []

    def encode(self, texts, *, on_batch=None):
        texts = list(texts)
        for start in range(0, len(texts), 3):
            self.batches.append(len(texts[start:start + 3]))
            if on_batch is not None:
                on_batch(len(texts[start:start + 3]))
        return fake_embeddings(texts, 8)


def test_the_cached_encoder_advances_per_model_batch_and_counts_cached_texts_at_once(tmp_path):
    texts = [f"text {i}" for i in range(10)]
    fake = BatchedFake()
    encoder = CachedEncoder(fake, TextEmbeddingCache({"model": "fake"}, folder=tmp_path))
    steps: list[int] = []
    vectors = encode_reporting(encoder, texts, steps.append)
    assert steps == [0, 3, 3, 3, 1] and sum(steps) == len(texts)
    np.testing.assert_allclose(vectors, fake_embeddings(texts, 8), atol=1e-6)
    steps.clear()
    encode_reporting(encoder, [*texts[:4], "new one", "new one"], steps.append)  # 4 cached, 1 new (twice)
    assert steps == [5, 1] and fake.batches[-1] == 1


def test_a_static_embedder_reports_its_batches():
    from textsel.static import StaticEmbedder

    assert StaticEmbedder.reports_batches is True
