"""Strategies on tiny hand-computed cases: scores, top-k tie-breaks, k-center greedy, information density."""

import math

import numpy as np
import pytest

from textsel.errors import ConfigError, DataError
from textsel.index import ExactIndex
from textsel.strategies import (
    STRATEGIES,
    canonical_strategy,
    entropy_scores,
    get_strategy,
    information_density_scores,
    k_center_greedy,
    least_confidence_scores,
    margin_scores,
    most_likely_positive_scores,
    neighbour_density,
    random_selection,
    register_strategy,
    top_k,
)

PROBS = np.array([[0.9, 0.1], [0.6, 0.4], [0.5, 0.5], [0.2, 0.8]])


def test_least_confidence_is_one_minus_max():
    np.testing.assert_allclose(least_confidence_scores(PROBS), [0.1, 0.4, 0.5, 0.2])


def test_entropy_by_hand():
    expected = [-(0.9 * math.log(0.9) + 0.1 * math.log(0.1)), -(0.6 * math.log(0.6) + 0.4 * math.log(0.4)),
                math.log(2), -(0.2 * math.log(0.2) + 0.8 * math.log(0.8))]
    np.testing.assert_allclose(entropy_scores(PROBS), expected)
    assert entropy_scores(np.array([[1.0, 0.0]]))[0] == pytest.approx(0.0)


def test_margin_uses_two_most_likely_classes():
    scores = margin_scores(np.array([[0.7, 0.2, 0.1], [0.4, 0.25, 0.35]]))
    np.testing.assert_allclose(scores, [-0.5, -0.05])


def test_most_likely_positive_reads_the_positive_column():
    np.testing.assert_allclose(most_likely_positive_scores(PROBS), [0.1, 0.4, 0.5, 0.8])
    np.testing.assert_allclose(most_likely_positive_scores(PROBS, positive_column=0), [0.9, 0.6, 0.5, 0.2])
    with pytest.raises(ConfigError, match="positive_column"):
        most_likely_positive_scores(PROBS, positive_column=2)


def test_bad_probability_shapes_raise():
    with pytest.raises(DataError, match="shape"):
        entropy_scores(np.array([0.5, 0.5]))
    with pytest.raises(DataError, match="n_classes >= 2"):
        margin_scores(np.array([[1.0], [1.0]]))


def test_top_k_orders_best_first_and_breaks_ties_by_smaller_id():
    scores = np.array([1.0, 2.0, 2.0, 0.0, 2.0])
    candidates = np.array([10, 7, 3, 5, 12])
    assert top_k(scores, candidates, 2).tolist() == [3, 7]
    assert top_k(scores, candidates, 4).tolist() == [3, 7, 12, 10]
    assert top_k(scores, candidates, 99).tolist() == [3, 7, 12, 10, 5]


def test_top_k_rejects_nan_and_bad_k():
    with pytest.raises(DataError, match="candidate 7"):
        top_k(np.array([1.0, np.nan]), np.array([3, 7]), 1)
    with pytest.raises(ConfigError, match="'k' parameter of top_k"):
        top_k(np.array([1.0]), np.array([3]), 0)
    with pytest.raises(DataError, match="2 scores for 1 candidates"):
        top_k(np.array([1.0, 2.0]), np.array([3]), 1)


def test_random_selection_is_a_deterministic_subset():
    candidates = np.array([40, 10, 30, 20, 50])
    first = random_selection(candidates, 3, np.random.default_rng(1))
    again = random_selection(candidates[::-1], 3, np.random.default_rng(1))
    assert first.tolist() == again.tolist()
    assert len(set(first.tolist())) == 3 and set(first.tolist()) <= set(candidates.tolist())
    assert sorted(random_selection(candidates, 10, np.random.default_rng(0)).tolist()) == [10, 20, 30, 40, 50]


def test_k_center_greedy_by_hand():
    points = np.array([[0.0], [1.0], [2.0], [10.0]])
    # Farthest from {0} is 10 (position 3); then 2 is 4 from 0 and 64 from 10, 1 is only 1 from 0.
    assert k_center_greedy(points, 2, initial=np.array([0])).tolist() == [3, 2]
    # Without initial centers the first pick is the lowest position, then the farthest from it.
    assert k_center_greedy(points, 2).tolist() == [0, 3]
    assert k_center_greedy(points, 10, initial=np.array([0, 1])).tolist() == [3, 2]
    assert k_center_greedy(points, 1, initial=np.arange(4)).tolist() == []


def test_neighbour_density_matches_brute_force():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(30, 4)).astype(np.float32)
    ids = np.arange(30) * 3 + 1
    index = ExactIndex()
    index.add(vectors, ids)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    expected = np.sort(sims, axis=1)[:, -3:].mean(axis=1)
    np.testing.assert_allclose(neighbour_density(index, vectors, ids, n_neighbors=3), expected, rtol=1e-5)


def test_information_density_is_entropy_times_density():
    density = np.array([0.5, 1.0, 0.2, 0.0])
    np.testing.assert_allclose(information_density_scores(PROBS, density=density), entropy_scores(PROBS) * density)
    with pytest.raises(ConfigError, match="density"):
        information_density_scores(PROBS)


def test_information_density_through_the_index():
    vectors = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]], dtype=np.float32)
    index = ExactIndex()
    index.add(vectors, np.array([1, 2, 3, 4]))
    scores = information_density_scores(PROBS, np.array([1, 2, 3, 4]), index=index, vectors=vectors, n_neighbors=1)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    nearest = [unit[0] @ unit[1], unit[0] @ unit[1], unit[2] @ unit[3], unit[2] @ unit[3]]
    np.testing.assert_allclose(scores, entropy_scores(PROBS) * np.array(nearest), rtol=1e-5)


def test_registry_names_and_selection_outputs():
    assert set(STRATEGIES) == {"random", "least-confidence", "margin", "entropy", "most-likely-positive",
                               "information-density", "k-center"}
    candidates = np.array([11, 12, 13, 14])
    ids, scores = STRATEGIES["maxent"](candidates, 2, probabilities=PROBS)
    assert ids.tolist() == [13, 12] and scores[0] == pytest.approx(math.log(2))
    ids, _ = STRATEGIES["mlp"](candidates, 1, probabilities=PROBS, positive_column=1)
    assert ids.tolist() == [14]
    ids, _ = STRATEGIES["least-confidence"](candidates, 1, probabilities=PROBS)
    assert ids.tolist() == [13]
    ids, _ = STRATEGIES["margin"](candidates, 2, probabilities=PROBS)
    assert ids.tolist() == [13, 12]
    ids, _ = STRATEGIES["id"](candidates, 1, probabilities=PROBS, density=np.array([1.0, 1.0, 0.1, 1.0]))
    assert ids.tolist() == [12]
    features = np.array([[0.0], [1.0], [5.0], [2.0]])
    ids, _ = STRATEGIES["kcenter"](candidates, 2, features=features, labeled_features=np.array([[0.0]]))
    assert ids.tolist() == [13, 14]
    with pytest.raises(ConfigError, match="'strategy' parameter"):
        get_strategy("nope")


def test_old_names_resolve_through_aliases():
    assert STRATEGIES.aliases == {"maxent": "entropy", "mlp": "most-likely-positive", "id": "information-density",
                                  "kcenter": "k-center"}
    for old, new in STRATEGIES.aliases.items():
        assert old in STRATEGIES and get_strategy(old) is get_strategy(new) and canonical_strategy(old) == new
    assert "nope" not in STRATEGIES and 3 not in STRATEGIES
    with pytest.raises(ConfigError, match="old name: id, kcenter, maxent, mlp"):
        get_strategy("mlp2")


def test_strategies_declare_what_they_need():
    needs = {name: strategy.needs for name, strategy in STRATEGIES.items()}
    assert needs["random"] == frozenset()
    assert needs["most-likely-positive"] == {"probabilities", "positive_column"}
    assert needs["information-density"] == {"probabilities", "density"}
    assert needs["k-center"] == {"features", "labeled_features"}
    assert [name for name, strategy in STRATEGIES.items() if strategy.needs_model] == [
        "least-confidence", "margin", "entropy", "most-likely-positive", "information-density"]


def test_registering_a_strategy_needs_known_inputs_and_free_aliases():
    with pytest.raises(ConfigError, match="needs unknown inputs \\['texts'\\]"):
        register_strategy("by-text", lambda candidates, k, **_: (candidates[:k], None), needs={"texts"})
    with pytest.raises(ConfigError, match="alias 'entropy'"):
        register_strategy("entropy-2", lambda candidates, k, **_: (candidates[:k], None), aliases=("entropy",))
    assert "by-text" not in STRATEGIES and "entropy-2" not in STRATEGIES
