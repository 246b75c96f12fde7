"""SVP loops on scripted learners: which texts get selected, forgetting events, agreement, timing, reports."""

from __future__ import annotations

import json

import numpy as np
import pytest

from textsel.data import Pool
from textsel.errors import ConfigError
from textsel.proxy import FastTextProxy
from textsel.svp import (
    count_forgetting_events,
    rank_agreement,
    resolve_size,
    select_active,
    select_coreset,
    target_error,
    train_on_selection,
)
from textsel.svp_experiments import (
    make_model,
    parse_sizes,
    run_active_experiment,
    run_coreset_experiment,
    write_results,
)

# Text i is "t<i>"; the scripted learner's P(class 1) for it is CONFIDENCE[i], its feature is POSITION[i].
CONFIDENCE = np.array([0.5, 0.9, 0.6, 0.99, 0.45, 0.8, 0.7, 0.95, 0.52, 0.3])
POSITION = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 20.0])
TEXTS = [f"t{i}" for i in range(len(CONFIDENCE))]
LABELS = np.array([0, 1, 1, 1, 0, 1, 1, 1, 0, 0])


class ScriptedLearner:
    """Fixed probabilities and features per text; records what it was trained on."""

    input = "texts"

    def __init__(self) -> None:
        self.fitted_on: list[list[str]] = []

    def fit(self, texts, labels):  # noqa: ANN001, ANN201
        self.fitted_on.append(list(texts))
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, texts):  # noqa: ANN001, ANN201
        positive = CONFIDENCE[[int(text[1:]) for text in texts]]
        return np.column_stack([1 - positive, positive])

    def predict(self, texts):  # noqa: ANN001, ANN201
        return (self.predict_proba(texts)[:, 1] >= 0.5).astype(int)

    def features(self, texts):  # noqa: ANN001, ANN201
        return POSITION[[int(text[1:]) for text in texts]][:, None]

    def correctness_by_epoch(self, texts, labels):  # noqa: ANN001, ANN201
        script = np.zeros((4, len(texts)), dtype=bool)
        script[:, 1] = [True, False, True, False]  # forgotten twice
        script[:, 2] = [True, True, True, False]  # forgotten once
        script[:, 3] = True  # never forgotten
        return script  # every other text is never learned


def test_resolve_size_takes_counts_and_fractions() -> None:
    assert resolve_size(30, 1000) == 30 and resolve_size(0.1, 1000) == 100 and resolve_size(0.0001, 10) == 1
    for bad in (0, 1.0, -3, True, "5"):
        with pytest.raises(ConfigError, match="an int >= 1 or a fraction"):
            resolve_size(bad, 100)


def test_least_confidence_selects_the_least_confident_unlabeled_texts() -> None:
    learner = ScriptedLearner()
    result = select_active(learner, TEXTS, LABELS, initial_size=2, round_sizes=[3, 2], seed=0)
    initial = set(result.order[:2].tolist())
    assert result.round_ends == [2, 5, 7] and len(set(result.order.tolist())) == 7
    least_confident = [i for i in np.argsort(np.abs(CONFIDENCE - 0.5), kind="stable") if i not in initial]
    assert result.order[2:5].tolist() == least_confident[:3]
    assert result.order[5:].tolist() == least_confident[3:5]
    assert learner.fitted_on[0] == [TEXTS[i] for i in result.order[:2]]  # retrained on the labeled set each round
    assert len(learner.fitted_on) == 2 and len(learner.fitted_on[1]) == 5
    assert np.isnan(result.round_scores[0][result.order[:2]]).all()
    np.testing.assert_allclose(result.round_scores[0][result.order[2]], 1 - max(CONFIDENCE[result.order[2]],
                                                                             1 - CONFIDENCE[result.order[2]]))
    assert len(result.round_seconds) == 2 and result.selection_seconds == pytest.approx(sum(result.round_seconds))
    assert result.labeled(5).tolist() == result.order[:5].tolist()


def test_entropy_random_and_kcenter_rounds() -> None:
    by_entropy = select_active(ScriptedLearner(), TEXTS, LABELS, initial_size=0.2, round_sizes=[0.1],
                               strategy="entropy")
    by_confidence = select_active(ScriptedLearner(), TEXTS, LABELS, initial_size=0.2, round_sizes=[0.1])
    assert by_entropy.order.tolist() == by_confidence.order.tolist()  # binary: same ranking
    learner = ScriptedLearner()
    by_random = select_active(learner, TEXTS, LABELS, initial_size=2, round_sizes=[3], strategy="random", seed=4)
    assert learner.fitted_on == [] and len(set(by_random.order.tolist())) == 5
    by_kcenter = select_active(ScriptedLearner(), TEXTS, LABELS, initial_size=2, round_sizes=[1], strategy="kcenter")
    labeled = by_kcenter.order[:2]
    distance = np.min(np.abs(POSITION[:, None] - POSITION[labeled][None, :]), axis=1)
    assert by_kcenter.order[2] == int(np.argmax(distance))
    by_new_name = select_active(ScriptedLearner(), TEXTS, LABELS, initial_size=2, round_sizes=[1], strategy="k-center")
    assert by_new_name.order.tolist() == by_kcenter.order.tolist()  # the SEALS registry's name works too


def test_same_seed_same_initial_subset_for_any_selector() -> None:
    first = select_active(ScriptedLearner(), TEXTS, LABELS, initial_size=3, round_sizes=[1], seed=7)
    second = select_active(ScriptedLearner(), TEXTS, LABELS, initial_size=3, round_sizes=[1], strategy="random",
                           seed=7)
    assert first.order[:3].tolist() == second.order[:3].tolist()


def test_active_learning_rejects_bad_requests() -> None:
    with pytest.raises(ConfigError, match="ask for 12 labels but the pool has 10"):
        select_active(ScriptedLearner(), TEXTS, LABELS, initial_size=2, round_sizes=[5, 5])
    with pytest.raises(ConfigError, match="'strategy' parameter of select_active"):
        select_active(ScriptedLearner(), TEXTS, LABELS, initial_size=2, round_sizes=[1], strategy="margin")


def test_forgetting_events_on_a_scripted_sequence() -> None:
    correct = np.array([[1, 1, 0, 1], [0, 1, 0, 1], [1, 1, 0, 0], [0, 0, 0, 1]], dtype=bool)
    np.testing.assert_array_equal(count_forgetting_events(correct), [2.0, 1.0, np.inf, 1.0])
    with pytest.raises(ConfigError, match="2-d"):
        count_forgetting_events(np.ones(3, dtype=bool))


def test_coreset_keeps_the_most_forgotten_then_never_learned_first() -> None:
    result = select_coreset(ScriptedLearner(), TEXTS, LABELS, keep=9, strategy="forgetting", seed=1)
    never_learned = {0, 4, 5, 6, 7, 8, 9}
    assert set(result.kept[:7].tolist()) == never_learned and result.kept[7:].tolist() == [1, 2]
    assert np.isinf(result.scores[0]) and result.scores[3] == 0


def test_coreset_by_uncertainty_kcenter_and_random() -> None:
    by_confidence = select_coreset(ScriptedLearner(), TEXTS, LABELS, keep=0.3, strategy="least-confidence")
    assert by_confidence.kept.tolist() == [0, 8, 4] and by_confidence.selection_seconds > 0
    by_kcenter = select_coreset(ScriptedLearner(), TEXTS, LABELS, keep=2, strategy="kcenter")
    assert 9 in by_kcenter.kept.tolist() and by_kcenter.scores is None
    by_random = select_coreset(ScriptedLearner(), TEXTS, LABELS, keep=5, strategy="random", seed=3)
    assert len(set(by_random.kept.tolist())) == 5


def test_rank_agreement() -> None:
    scores = np.array([np.nan, 0.1, 0.5, 0.3, 0.9, 0.7])
    same = rank_agreement(scores, scores * 2, k=2)
    assert same == {"spearman": pytest.approx(1.0), "top_k_overlap": 1.0, "k": 2}
    reversed_ = rank_agreement(scores, -scores, k=2)
    assert reversed_["spearman"] == pytest.approx(-1.0) and reversed_["top_k_overlap"] == 0.0
    with pytest.raises(ConfigError, match="one shape"):
        rank_agreement(scores, scores[:3], k=1)


def test_target_trains_on_saved_selections_and_reports_error() -> None:
    texts = ["good great", "bad awful", "great fine", "awful poor"] * 4
    labels = np.array([1, 0, 1, 0] * 4)
    proxy = FastTextProxy(bucket=1000, epoch=30, lr=0.5, threads=1)
    assert target_error(proxy, texts, labels, texts[:4], labels[:4])["error"] == 0.0
    results = train_on_selection(proxy, texts, labels, np.arange(16), [2, 16], texts[:4], labels[:4])
    assert sorted(results) == [2, 16] and results[16]["train_size"] == 16 and results[16]["error"] == 0.0
    with pytest.raises(ConfigError, match="between 1 and 16"):
        train_on_selection(proxy, texts, labels, np.arange(16), [17], texts, labels)


def test_experiments_write_json_and_png(tmp_path) -> None:
    pool = Pool(ids=np.arange(100, 110), texts=TEXTS, columns={"label": LABELS})
    report = run_active_experiment(pool, pool.subset([0, 1]), label_col="label", selector=ScriptedLearner(),
                                   target=ScriptedLearner(), initial_size=2, round_sizes=[2, 2])
    assert set(report["selected_ids"]) <= set(range(100, 110)) and len(set(report["selected_ids"])) == 6
    assert list(report["target_selected"]) == ["6"]
    assert set(report["target_random"]["6"]) == {"error", "train_seconds", "train_size"}
    json_path, png_path = write_results(report, tmp_path / "out")
    assert json.loads(json_path.read_text())["round_ends"] == [2, 4, 6]
    assert png_path.read_bytes()[:4] == b"\x89PNG"
    coreset = run_coreset_experiment(pool, pool, label_col="label", selector=ScriptedLearner(),
                                     target=ScriptedLearner(), keep=0.5)
    assert coreset["kept_size"] == 5 and "target_all" in coreset
    write_results(coreset, tmp_path / "out")
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["active.json", "active.png",
                                                                          "coreset.json", "coreset.png"]


def test_make_model_and_parse_sizes() -> None:
    assert make_model("fasttext", seed=3).seed == 3
    assert make_model("vdcnn17", epochs=2).depth == 17
    assert make_model("transformer", max_length=64).max_length == 64
    with pytest.raises(ConfigError, match="'name' parameter of make_model"):
        make_model("bert")
    assert parse_sizes(["200", "0.1"]) == [200, 0.1] and parse_sizes(["0.1"], pool_size=50) == [5]


def test_majority_error_is_the_test_share_of_the_other_classes() -> None:
    from textsel.svp import majority_error

    assert majority_error(["a", "a", "b"], ["a", "b", "b", "c"]) == 0.75
    with pytest.raises(ConfigError, match="at least one"):
        majority_error([], ["a"])


class UntrainedLearner(ScriptedLearner):
    """Gives every text the same confidence, as a model that learned nothing does."""

    def predict_proba(self, texts):  # noqa: ANN001, ANN201
        return np.tile([0.3, 0.7], (len(texts), 1))


def test_rounds_where_the_selector_ranks_nearly_at_random_are_flagged() -> None:
    flat = select_active(UntrainedLearner(), TEXTS, LABELS, initial_size=2, round_sizes=[2, 2])
    assert flat.score_spreads() == [0.0, 0.0] and flat.flat_rounds() == [1, 2]
    spread = select_active(ScriptedLearner(), TEXTS, LABELS, initial_size=2, round_sizes=[2])
    scored = CONFIDENCE[np.setdiff1d(np.arange(len(TEXTS)), spread.order[:2])]
    assert spread.score_spreads() == pytest.approx([np.std(1 - np.maximum(scored, 1 - scored))])
    assert spread.flat_rounds() == [] and spread.flat_rounds(tolerance=1.0) == [1]
    by_random = select_active(ScriptedLearner(), TEXTS, LABELS, initial_size=2, round_sizes=[2], strategy="random")
    assert np.isnan(by_random.score_spreads()[0]) and by_random.flat_rounds() == []  # nothing scored: no verdict


def test_make_model_takes_epochs_and_learning_rate_with_the_paper_defaults() -> None:
    assert (make_model("fasttext").epoch, make_model("fasttext").lr) == (5, 0.05)
    proxy = make_model("fasttext", epochs=25, learning_rate=0.5)
    assert (proxy.epoch, proxy.lr) == (25, 0.5)
    assert make_model("transformer", learning_rate=1e-4).learning_rate == 1e-4
    assert make_model("vdcnn9").learning_rate == 0.01
