"""The mismatch diagnostic on synthetic embeddings where the answer is known by construction."""

from __future__ import annotations

import numpy as np
import pytest

from textsel.diagnose import above_chance, diagnose, knn_positive_share, neighbourhood_recall
from textsel.errors import DataError
from textsel.index import ExactIndex


def _topic_clusters(n_topics: int = 20, per_topic: int = 150, dim: int = 32, seed: int = 0):
    """Unit vectors in tight topic clusters; returns (vectors, topic of each row)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_topics, dim))
    topics = np.repeat(np.arange(n_topics), per_topic)
    vectors = centres[topics] + 0.3 * rng.normal(size=(len(topics), dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32), topics


def _index(vectors: np.ndarray) -> ExactIndex:
    index = ExactIndex()
    index.add(vectors, np.arange(len(vectors)) + 1000)  # ids are not positions
    return index


def test_concept_that_is_a_topic_is_captured():
    vectors, topics = _topic_clusters()
    is_positive_all = topics == 3  # 5% of rows, one tight cluster
    labeled = np.random.default_rng(1).choice(len(vectors), 1200, replace=False)
    result = diagnose(_index(vectors), labeled + 1000, is_positive_all[labeled])
    assert not result.mismatch
    assert result.knn_lift > 10
    assert result.knn_share_above_chance > 0.9
    assert result.probe_ap_above_chance > 0.9
    assert result.neighbourhood_recall_lift > 5
    assert "captures" in result.report()


def test_concept_that_cuts_across_topics_is_flagged():
    vectors, _ = _topic_clusters()
    rng = np.random.default_rng(2)
    is_positive_all = rng.random(len(vectors)) < 0.05  # scattered over every topic, like spoilers
    labeled = rng.choice(len(vectors), 1200, replace=False)
    result = diagnose(_index(vectors), labeled + 1000, is_positive_all[labeled])
    assert result.mismatch
    assert result.knn_share_above_chance < 0.1
    assert len(result.reasons) >= 2
    assert "--pool all" in result.report()


def test_knn_share_counts_positive_neighbours():
    # Two far-apart groups: 3 positives together, 9 negatives together; each positive's 2 neighbours are positive,
    # its 3rd a negative.
    vectors = np.array([[1, 0]] * 3 + [[0, 1]] * 9, dtype=np.float32)
    vectors += np.random.default_rng(0).normal(scale=1e-3, size=vectors.shape).astype(np.float32)
    is_positive = np.array([True] * 3 + [False] * 9)
    assert knn_positive_share(vectors, is_positive, k=2) == pytest.approx(1.0)
    assert knn_positive_share(vectors, is_positive, k=4) == pytest.approx(0.5)


def test_above_chance_is_zero_at_the_rate_and_one_at_perfect():
    assert above_chance(0.25, 0.25) == pytest.approx(0.0)
    assert above_chance(1.0, 0.25) == pytest.approx(1.0)
    assert above_chance(0.625, 0.25) == pytest.approx(0.5)


def test_search_collected_labels_do_not_fake_a_mismatch():
    """Labels from active search are mostly positive; a captured concept must still pass (share/rate would not)."""
    vectors, topics = _topic_clusters()
    positives = np.flatnonzero(topics == 3)
    negatives = np.flatnonzero(topics != 3)[:40]
    labeled = np.concatenate([positives, negatives])  # 150 positives, 40 negatives: rate 0.79
    result = diagnose(_index(vectors), labeled + 1000, np.isin(labeled, positives))
    assert result.knn_lift < 1.3  # the raw lift is capped near 1 / rate
    assert not result.mismatch


def test_neighbourhood_recall_counts_held_out_positives_in_the_pool():
    vectors, topics = _topic_clusters(n_topics=4, per_topic=50)
    index = _index(vectors)
    positive_ids = np.flatnonzero(topics == 0) + 1000
    recall, fraction = neighbourhood_recall(index, positive_ids, k=60)
    assert recall == 1.0  # 25 seeds x 60 neighbours cover their whole 50-row cluster
    assert 0.2 < fraction < 1.0


def test_too_few_labels_is_a_clear_error():
    vectors, _ = _topic_clusters(n_topics=2, per_topic=20)
    with pytest.raises(DataError, match="at least 10 positive"):
        diagnose(_index(vectors), np.arange(40) + 1000, np.arange(40) < 3)
