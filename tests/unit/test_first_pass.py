"""The two-stage selection: SEALS in static space, the transformer only on candidates and labeled texts."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CountingEmbedder

from textsel.errors import ConfigError, DataError
from textsel.first_pass import build_first_pass, simulate_first_pass, static_k

N, POSITIVES = 1000, 40


def pool() -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
    """(ids, texts, labels, static vectors): the positives cluster in static space, the negatives are spread."""
    rng = np.random.default_rng(0)
    labels = np.zeros(N, dtype=np.int64)
    labels[rng.choice(N, POSITIVES, replace=False)] = 1
    vectors = rng.normal(size=(N, 8))
    vectors[labels == 1] = rng.normal(size=8) * 3 + rng.normal(size=(POSITIVES, 8)) * 0.3
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.arange(N, dtype=np.int64) * 10, [f"review number {i}" for i in range(N)], labels, vectors


def run(transformer, seed: int = 0):  # noqa: ANN001, ANN201 - an encoder; (first pass, records)
    ids, texts, labels, vectors = pool()
    first_pass = build_first_pass(ids, texts, transformer=transformer, static_vectors=vectors, k=4,
                                  index_backend="exact")
    records = simulate_first_pass(ids, labels, first_pass, batch_size=10, budget=80, seed_positives=5,
                                  seed_negatives=15, seed=seed)
    return first_pass, records


def test_only_labeled_texts_and_static_candidates_get_the_transformer_embedding():
    transformer = CountingEmbedder()
    first_pass, records = run(transformer)
    embedded_ids = np.arange(N)[first_pass.features.slot_ >= 0] * 10
    pool_state = first_pass.candidate_pool
    np.testing.assert_array_equal(np.sort(embedded_ids), np.union1d(pool_state.neighbours_, pool_state.seen_))
    assert records[-1]["labels"] == 80 and records[-1]["transformer_rows"] == len(embedded_ids)
    assert transformer.calls == len(embedded_ids) < N // 2  # each text once, far from the whole pool
    assert records[-1]["positives_found"] > 5  # the static neighbourhoods of the seed positives hold positives


def test_a_second_run_reads_the_transformer_vectors_from_the_per_text_cache():
    first, _ = run(CountingEmbedder())
    again = CountingEmbedder()
    second, _ = run(again)
    assert second.transformer_rows == first.transformer_rows > 0 and again.calls == 0


def test_defaults_and_bad_arguments():
    assert static_k(1_000_000) == 300 and static_k(1_000) == 48 and static_k(N) == 48
    ids, texts, labels, vectors = pool()
    with pytest.raises(DataError, match="row-aligned"):
        build_first_pass(ids[:-1], texts, transformer=CountingEmbedder(), static_vectors=vectors)
    with pytest.raises(ConfigError, match="'k'"):
        build_first_pass(ids, texts, transformer=CountingEmbedder(), static_vectors=vectors, k=0)
    first_pass = build_first_pass(ids, texts, transformer=CountingEmbedder(), static_vectors=vectors,
                                  index_backend="exact")
    assert first_pass.candidate_pool.k == static_k(N)
    with pytest.raises(ConfigError, match="density"):
        simulate_first_pass(ids, labels, first_pass, strategy="information-density")
