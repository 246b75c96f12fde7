"""RelevanceFeedbackLearner: the lexical model ranks while it finds positives, pseudo-negatives from the pool teach
it what an ordinary text is, and after `patience` negatives in a row a semantic model joins the ranking."""

from __future__ import annotations

import numpy as np
import pytest

from textsel.candidates import AllCandidates
from textsel.errors import DataError
from textsel.features import LexicalFeatures, classifier_matrix, take_rows
from textsel.learner import RelevanceFeedbackLearner
from textsel.rounds import RoundEngine

N = 300
DIMS = 8


def two_kinds_of_positive() -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Texts, dense rows, labels and which positives only the dense rows reveal.

    Positives of the first kind share a word pair ("randomised trial") that the negatives never use; positives of
    the second kind read like negatives word for word, but their dense rows point one way (a topic the embedding
    captures and the words do not)."""
    rng = np.random.default_rng(0)
    topics = ["asthma", "migraine", "hip fracture", "sleep apnea", "gout", "eczema", "anaemia", "glaucoma"]
    places = ["Oslo", "Lima", "Pune", "Leeds", "Kyoto", "Accra", "Perth"]
    texts, labels, hidden = [], [], []
    dense = rng.normal(size=(N, DIMS)).astype(np.float32)
    for i in range(N):
        ordinary = f"a cohort study of {topics[rng.integers(8)]} in {places[rng.integers(7)]}"
        if i % 15 == 0:
            texts.append(f"a randomised trial of drug {i % 7} in adults")
            labels.append(1), hidden.append(False)
        elif i % 15 == 7:
            texts.append(ordinary)
            labels.append(1), hidden.append(True)
            dense[i] = np.eye(DIMS, dtype=np.float32)[0] * 4 + rng.normal(scale=0.1, size=DIMS)
        else:
            texts.append(ordinary)
            labels.append(0), hidden.append(False)
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    return texts, dense, np.asarray(labels), np.asarray(hidden)


def hybrid_rows(texts: list[str], dense: np.ndarray):  # noqa: ANN201 - HybridRows
    return classifier_matrix("hybrid", dense=dense, lexical=lambda: LexicalFeatures().fit_transform(texts))


def test_the_lexical_model_ranks_alone_until_patience_negatives_in_a_row():
    texts, dense, labels, hidden = two_kinds_of_positive()
    rows = hybrid_rows(texts, dense)
    positives = np.flatnonzero((labels == 1) & ~hidden)[:4]
    negatives = np.flatnonzero(labels == 0)[:60]
    background = take_rows(rows, np.flatnonzero(labels == 0)[100:140])
    learner = RelevanceFeedbackLearner(dense_dims=DIMS, patience=50)
    # labeled in this order: the positives first, then 60 negatives in a row
    order = np.r_[positives, negatives]
    learner.fit(take_rows(rows, order), labels[order], background=background, positive=1)
    assert learner.negatives_in_a_row_ == 60 and learner.fused_
    # the same labels with a positive among the last 50: the lexical model alone
    order = np.r_[positives[:3], negatives, positives[3:]]
    learner.fit(take_rows(rows, order), labels[order], background=background, positive=1)
    assert learner.negatives_in_a_row_ == 0 and not learner.fused_
    alone = learner.predict_proba(take_rows(rows, slice(0, N)))
    assert alone.shape == (N, 2) and np.allclose(alone.sum(axis=1), 1.0)
    # alone, the word model cannot tell the hidden positives from the negatives they copy word for word
    unlabeled = np.setdiff1d(np.arange(N), order)
    top = unlabeled[np.argsort(-alone[unlabeled, 1])[:10]]
    assert not hidden[top].any()


def test_after_patience_negatives_the_semantic_model_surfaces_what_words_miss():
    from sklearn.metrics import roc_auc_score

    texts, dense, labels, hidden = two_kinds_of_positive()
    rows = hybrid_rows(texts, dense)
    order = np.r_[np.flatnonzero(hidden)[:5], np.flatnonzero((labels == 1) & ~hidden)[:5],
                  np.flatnonzero(labels == 0)[:60]]
    background = take_rows(rows, np.flatnonzero(labels == 0)[150:250])
    unlabeled = np.setdiff1d(np.arange(N), order)
    judged = unlabeled[(labels[unlabeled] == 0) | hidden[unlabeled]]  # the hidden positives among the negatives

    def ranks_hidden(patience: int) -> tuple[float, RelevanceFeedbackLearner, np.ndarray]:
        learner = RelevanceFeedbackLearner(dense_dims=DIMS, patience=patience).fit(
            take_rows(rows, order), labels[order], background=background, positive=1)
        proba = learner.predict_proba(take_rows(rows, slice(0, N)))
        return roc_auc_score(hidden[judged], proba[judged, 1]), learner, proba

    words_alone, learner, _ = ranks_hidden(patience=100)
    fused, learner, proba = ranks_hidden(patience=50)
    assert not ranks_hidden(patience=100)[1].fused_ and learner.fused_
    assert words_alone < 0.7 and fused > 0.85  # the semantic model finds what the words cannot
    # scoring in chunks gives the same numbers: each model is standardised on the background, not on the batch
    assert np.allclose(np.vstack([learner.predict_proba(take_rows(rows, slice(start, start + 37)))
                                  for start in range(0, N, 37)]), proba)


def test_the_round_engine_passes_random_unlabeled_rows_as_background():
    texts, dense, labels, _ = two_kinds_of_positive()
    rows = hybrid_rows(texts, dense)
    seen = []

    class Recording(RelevanceFeedbackLearner):
        def fit(self, features, labels, *, background=None, positive=None):  # noqa: ANN001, ANN202
            seen.append((background.shape[0], positive))
            return super().fit(features, labels, background=background, positive=positive)

    ids = np.arange(N, dtype=np.int64) * 10  # ids are not positions
    known = {0: 1, 10: 0, 20: 0}
    engine = RoundEngine(ids, AllCandidates(), features=dense, learner_features=rows,
                         learner=Recording(dense_dims=DIMS, background_rows=40), strategy="most-likely-positive",
                         batch_size=5, positive_label=1, seed=3)
    first = engine.select_batch(known).ids
    assert seen == [(40, 1)]
    drawn = engine._background_positions(engine.positions(np.fromiter(known, dtype=np.int64)), 40, len(known))
    assert len(drawn) == 40 and not np.isin(drawn, [0, 1, 2]).any()  # never a labeled row
    again = RoundEngine(ids, AllCandidates(), features=dense, learner_features=rows,
                        learner=RelevanceFeedbackLearner(dense_dims=DIMS, background_rows=40),
                        strategy="most-likely-positive", batch_size=5, positive_label=1, seed=3)
    assert np.array_equal(again.select_batch(known).ids, first)  # seeded: the same round twice


def test_two_classes_and_a_known_positive_are_required():
    texts, dense, labels, _ = two_kinds_of_positive()
    rows = take_rows(hybrid_rows(texts, dense), slice(0, 30))
    with pytest.raises(DataError, match="two classes"):
        RelevanceFeedbackLearner(dense_dims=DIMS).fit(rows, np.r_[labels[:28], 2, 2])
    with pytest.raises(DataError, match="positive label 'yes'"):
        RelevanceFeedbackLearner(dense_dims=DIMS).fit(rows, labels[:30], positive="yes")
    with pytest.raises(DataError, match="hybrid rows"):
        RelevanceFeedbackLearner(dense_dims=DIMS).fit(dense[:30], labels[:30])


def test_the_goal_and_features_pick_the_default_learner():
    from textsel.errors import ConfigError
    from textsel.rounds import learner_for_goal

    assert learner_for_goal("find-all", "hybrid") == "relevance-feedback"
    assert learner_for_goal("find-all", "dense") == learner_for_goal("find-all", "lexical") == "logistic"
    assert learner_for_goal("train-classifier", "hybrid") == "logistic"
    assert learner_for_goal("find-all", "hybrid", "fasttext") == "fasttext"
    with pytest.raises(ConfigError):
        learner_for_goal("find-some", "hybrid")


def make_project(tmp_path, features: str):  # noqa: ANN201 - the project folder and the labels
    import csv

    from textsel.project import init_project

    texts, dense, labels, _ = two_kinds_of_positive()
    data = tmp_path / "pool.csv"
    with open(data, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["doc_id", "body"])
        writer.writerows(enumerate(texts))
    np.save(tmp_path / "emb.npy", dense)
    folder = tmp_path / f"proj-{features}"
    init_project(folder, data=str(data), text_col="body", id_col="doc_id", labels=["trial", "other"],
                 embeddings=str(tmp_path / "emb.npy"), backend="exact", features=features).close()
    return folder, labels


def test_a_find_all_project_on_hybrid_features_selects_with_relevance_feedback(tmp_path):
    from textsel.cli.app import app
    from typer.testing import CliRunner

    from textsel.errors import ConfigError
    from textsel.project import Project

    folder, labels = make_project(tmp_path, "hybrid")
    with Project(folder) as project:
        project.add_labels([0, 1, 2], ["trial", "other", "other"], source="seed")
    result = CliRunner().invoke(app, ["next", "-n", "10", "--pool", "all", "-p", str(folder)])
    assert result.exit_code == 0, result.output
    assert "with the relevance-feedback learner" in " ".join(result.output.split())
    with Project(folder) as project:
        record = project.store.rounds()[-1]
        assert record.params["learner"] == "relevance-feedback"
        assert labels[record.doc_ids].sum() >= 8  # the word pair finds the trials
    dense_folder, _ = make_project(tmp_path, "dense")
    with Project(dense_folder) as project:
        project.add_labels([0, 1, 2], ["trial", "other", "other"], source="seed")
        project.next_batch(5, candidate_pool="all")
        assert project.store.rounds()[-1].params["learner"] == "logistic"
        with pytest.raises(ConfigError, match="hybrid features"):
            project.next_batch(5, candidate_pool="all", learner="relevance-feedback", discard_pending=True)
        assert len(project.store.rounds()) == 1  # nothing recorded


def test_a_new_project_gets_the_features_and_batch_of_its_goal(tmp_path):
    import csv

    from textsel.cli.app import app
    from typer.testing import CliRunner

    from textsel.project import Project
    from textsel.project_config import ProjectConfig, default_features
    from textsel.rounds import batch_for_goal

    assert default_features("find-all") == "hybrid"
    assert default_features("train-classifier") == default_features("find-all", "static") == "dense"
    assert batch_for_goal("find-all") == 10 and batch_for_goal("train-classifier") == 20
    assert batch_for_goal("find-all", 3) == 3
    texts, dense, labels, _ = two_kinds_of_positive()
    with open(tmp_path / "pool.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([("doc_id", "body"), *enumerate(texts)])
    np.save(tmp_path / "emb.npy", dense)
    for goal, features, batch in (("find-all", "hybrid", 10), ("train-classifier", "dense", 20)):
        folder = tmp_path / goal
        made = CliRunner().invoke(app, ["init", str(folder), "--data", str(tmp_path / "pool.csv"), "--text-col",
                                        "body", "--id-col", "doc_id", "--labels", "trial,other", "--embeddings",
                                        str(tmp_path / "emb.npy"), "--backend", "exact", "--goal", goal])
        assert made.exit_code == 0, made.output
        assert ProjectConfig.from_toml(folder / "textsel.toml").features == features
        with Project(folder) as project:
            project.add_labels([0, 1, 2], ["trial", "other", "other"], source="seed")
        shown = CliRunner().invoke(app, ["next", "--pool", "all", "-p", str(folder)])
        assert shown.exit_code == 0, shown.output
        with Project(folder) as project:
            assert len(project.store.rounds()[-1].doc_ids) == batch
