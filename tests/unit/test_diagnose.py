"""The mismatch diagnostic on synthetic embeddings where the answer is known by construction, including labels
collected the way active strategies collect them (hard negatives only, or almost no negatives)."""

from __future__ import annotations

import numpy as np
import pytest

from textsel.diagnose import above_chance, diagnose, is_mismatch, knn_positive_share, random_reference
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


def _hard_negatives(vectors, is_positive_all, n):
    """The negatives nearest the positives' centre: what maximum-entropy rounds label."""
    centre = vectors[is_positive_all].mean(axis=0)
    negatives = np.flatnonzero(~is_positive_all)
    return negatives[np.argsort(-(vectors[negatives] @ centre))[:n]]


def test_concept_that_is_a_topic_is_captured_on_random_labels():
    vectors, topics = _topic_clusters()
    is_positive_all = topics == 3  # 5% of rows, one tight cluster
    labeled = np.random.default_rng(1).choice(len(vectors), 1200, replace=False)
    result = diagnose(_index(vectors), labeled + 1000, is_positive_all[labeled])
    assert not result.mismatch
    # unlabeled members of the cluster sit in the reference as negatives, so the share stays well below 1
    assert result.knn_share_above_chance > 0.3 and result.probe_auc_above_chance > 0.9
    assert "captures" in result.report()


@pytest.mark.parametrize("negatives", ["hard", "none"])
def test_actively_collected_labels_do_not_fake_a_mismatch(negatives):
    """MaxEnt-style labels (positives + the negatives nearest them) or MLP-style ones (almost only positives):
    the verdict rests on a random reference, so a captured concept still passes."""
    vectors, topics = _topic_clusters()
    is_positive_all = topics == 3
    positives = np.flatnonzero(is_positive_all)[:60]
    chosen = _hard_negatives(vectors, is_positive_all, 300) if negatives == "hard" else np.zeros(0, dtype=int)
    labeled = np.concatenate([positives, chosen])
    result = diagnose(_index(vectors), labeled + 1000, is_positive_all[labeled])
    assert not result.mismatch, result.report()


@pytest.mark.parametrize("negatives", ["random", "hard", "none"])
def test_concept_that_cuts_across_topics_is_flagged_whatever_chose_the_labels(negatives):
    vectors, _ = _topic_clusters()
    rng = np.random.default_rng(2)
    is_positive_all = rng.random(len(vectors)) < 0.05  # scattered over every topic, like spoilers
    positives = rng.choice(np.flatnonzero(is_positive_all), 60, replace=False)  # found all over the pool
    chosen = {"random": rng.choice(np.flatnonzero(~is_positive_all), 900, replace=False),
              "hard": _hard_negatives(vectors, is_positive_all, 300), "none": np.zeros(0, dtype=int)}[negatives]
    labeled = np.concatenate([positives, chosen])
    result = diagnose(_index(vectors), labeled + 1000, is_positive_all[labeled])
    assert result.mismatch and result.knn_share_above_chance < 0.1
    report = result.report()
    assert "EMBEDDING-TASK MISMATCH" in report and "k ten times larger" in report and "fastText" not in report
    assert all(line.strip() for line in report.splitlines())


def test_random_reference_leaves_out_the_known_positives_and_is_uniform():
    pool = np.arange(100, 1100)
    reference = random_reference(pool, np.arange(100, 150), 400, seed=0)
    assert len(set(reference.tolist())) == 400 and reference.min() >= 150
    assert abs(np.mean(reference) - 625) < 30  # the middle of 150..1099


def test_rules_combine_the_two_signals():
    assert is_mismatch(0.05, 0.9, "knn", 0.1, 0.5) and not is_mismatch(0.05, 0.9, "probe", 0.1, 0.5)
    assert not is_mismatch(0.05, 0.9, "both", 0.1, 0.5) and is_mismatch(0.05, 0.9, "either", 0.1, 0.5)


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


def test_too_few_positives_is_a_clear_error():
    vectors, _ = _topic_clusters(n_topics=2, per_topic=20)
    with pytest.raises(DataError, match="at least 10 positive"):
        diagnose(_index(vectors), np.arange(40) + 1000, np.arange(40) < 3)


def test_audit_positives_reveal_what_actively_found_positives_hide():
    """A concept with one tight sub-cluster (the part active rounds find) and many scattered members: on the found
    positives it looks captured; measured on an audit sample's positives it does not."""
    vectors, topics = _topic_clusters()
    rng = np.random.default_rng(4)
    is_positive_all = (topics == 3) | (rng.random(len(vectors)) < 0.1)
    found = rng.choice(np.flatnonzero(topics == 3), 60, replace=False)
    audit = rng.choice(np.setdiff1d(np.arange(len(vectors)), found), 400, replace=False)
    labeled = np.concatenate([found, audit])
    index = _index(vectors)
    without = diagnose(index, found + 1000, np.ones(len(found), dtype=bool))
    with_audit = diagnose(index, labeled + 1000, is_positive_all[labeled], random_ids=audit + 1000)
    assert without.measured_on == "all labeled positives" and not without.mismatch
    assert with_audit.measured_on == "audit positives" and with_audit.n_random_positive >= 5
    assert with_audit.mismatch and with_audit.knn_share_above_chance < without.knn_share_above_chance - 0.3
    assert "audit positives" in with_audit.report()
