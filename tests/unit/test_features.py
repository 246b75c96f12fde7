"""The features stage: TF-IDF built once and cached as plain files, hybrid rows, sparse learners, projects that
record their features, and the goal that picks the default strategy."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from conftest import fake_embeddings
from textsel.cli.app import app
from typer.testing import CliRunner

from textsel.errors import ConfigError
from textsel.features import HybridRows, LexicalFeatures, classifier_matrix, lexical_matrix, take_rows
from textsel.learner import LogisticLearner
from textsel.project import Project, init_project
from textsel.project_config import ProjectConfig
from textsel.rounds import RoundEngine, strategy_for_goal

N = 200


def review_texts(n: int = N) -> tuple[list[str], np.ndarray]:
    """Texts where the positives are a kind of document ("systematic review") that random dense vectors miss."""
    topics = ["heart failure", "asthma in children", "hip fracture", "migraine", "sleep apnea"]
    texts, labels = [], []
    for i in range(n):
        positive = i % 10 == 3
        kind = "a systematic review of trials on" if positive else "a cohort study of patients with"
        texts.append(f"record {i}: {kind} {topics[i % len(topics)]} number {i % 7}")
        labels.append(1 if positive else 0)
    return texts, np.asarray(labels)


def test_lexical_matrix_is_built_once_saved_as_plain_files_and_verified(tmp_path):
    texts, _ = review_texts()
    calls = []

    def source_texts():
        calls.append(1)
        return texts

    source = {"rows": len(texts), "fingerprint": "abc"}
    first = lexical_matrix(tmp_path, source_texts, source=source)
    assert first.shape[0] == N and first.format == "csr" and first.dtype == np.float32
    assert np.allclose(np.sqrt(first.multiply(first).sum(axis=1)), 1.0)  # unit rows
    folder = tmp_path / "lexical"
    assert sorted(path.name for path in folder.iterdir()) == ["idf.npy", "matrix.npz", "record.json",
                                                               "vocabulary.json"]
    with np.load(folder / "matrix.npz", allow_pickle=False) as arrays:  # no object arrays: loads without pickle
        assert {"data", "indices", "indptr", "shape"} <= set(arrays.files)
    again = lexical_matrix(tmp_path, source_texts, source=source)
    assert len(calls) == 1 and (again != first).nnz == 0  # loaded, not refitted
    lexical_matrix(tmp_path, source_texts, source={**source, "fingerprint": "changed"})  # another pool: rebuilt
    assert len(calls) == 2
    with open(folder / "matrix.npz", "r+b") as handle:  # a damaged file does not match its checksum: rebuilt
        handle.seek(100)
        handle.write(b"\0" * 8)
    lexical_matrix(tmp_path, source_texts, source={**source, "fingerprint": "changed"})
    assert len(calls) == 3


def test_saved_vocabulary_and_idf_transform_new_texts_like_the_fitted_ones(tmp_path):
    texts, _ = review_texts()
    features = LexicalFeatures()
    matrix = features.fit_transform(texts)
    features.save(tmp_path)
    loaded = LexicalFeatures.load(tmp_path)
    assert "systematic review" in loaded.vocabulary_  # word pairs are terms
    assert np.allclose(loaded.transform(texts[:5]).toarray(), matrix[:5].toarray(), atol=1e-6)


def test_hybrid_rows_stack_both_blocks_only_for_the_rows_asked_for():
    texts, _ = review_texts()
    dense = fake_embeddings(texts, 8)
    lexical = LexicalFeatures().fit_transform(texts)
    hybrid = classifier_matrix("hybrid", dense=dense, lexical=lambda: lexical, dense_weight=0.5)
    assert isinstance(hybrid, HybridRows) and hybrid.shape == (N, 8 + lexical.shape[1])
    rows = take_rows(hybrid, np.array([5, 2]))
    assert rows.shape == (2, hybrid.shape[1])
    assert np.allclose(rows[:, :8].toarray(), 0.5 * dense[[5, 2]])
    assert np.allclose(rows[:, 8:].toarray(), lexical[[5, 2]].toarray())
    assert classifier_matrix("dense", dense=dense) is dense
    with pytest.raises(ConfigError, match="features"):
        classifier_matrix("bag-of-words", dense=dense)


def test_logistic_learner_fits_sparse_rows_and_saves_them_without_pickle(tmp_path):
    texts, labels = review_texts()
    matrix = LexicalFeatures().fit_transform(texts)
    learner = LogisticLearner(C=10.0).fit(matrix[:100], labels[:100])
    probabilities = learner.predict_proba(matrix[100:])[:, 1]
    assert probabilities[labels[100:] == 1].min() > probabilities[labels[100:] == 0].max()
    learner.save(tmp_path / "model.npz")
    loaded = LogisticLearner.load(tmp_path / "model.npz")
    assert np.allclose(loaded.predict_proba(matrix[100:]), learner.predict_proba(matrix[100:]))


def test_lexical_features_find_a_document_kind_the_embeddings_miss():
    texts, labels = review_texts()
    ids = np.arange(N, dtype=np.int64)
    dense = fake_embeddings(texts, 8)  # random directions: no concept in them
    seed = {3: 1, 0: 0, 1: 0}
    found = {}
    for kind in ("dense", "lexical"):
        matrix = classifier_matrix(kind, dense=dense, lexical=lambda: LexicalFeatures().fit_transform(texts))
        from textsel.candidates import AllCandidates

        engine = RoundEngine(ids, AllCandidates(), features=dense, learner_features=matrix,
                             strategy="most-likely-positive", batch_size=10, positive_label=1)
        labels_so_far = dict(seed)
        for _ in range(3):
            picked = engine.select_batch(labels_so_far).ids
            labels_so_far.update({int(i): int(labels[i]) for i in picked})
        found[kind] = sum(labels_so_far.values())
    assert found["lexical"] >= 18 > found["dense"] + 5  # 20 positives exist; 30 labels after the seed


def test_the_goal_picks_the_default_strategy_and_says_why():
    assert strategy_for_goal("find-all")[0] == "most-likely-positive"
    assert strategy_for_goal("train-classifier")[0] == "entropy"
    name, why = strategy_for_goal("find-all", "maxent")
    assert name == "entropy" and "requested" in why and "most-likely-positive" in why
    with pytest.raises(ConfigError):
        strategy_for_goal("find-some")


def make_pool(tmp_path) -> tuple:
    texts, labels = review_texts()
    data = tmp_path / "pool.csv"
    with open(data, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["doc_id", "body"])
        writer.writerows(enumerate(texts))
    np.save(tmp_path / "emb.npy", fake_embeddings(texts, 8))
    return data, labels


@pytest.mark.parametrize("kind", ["lexical", "hybrid"])
def test_a_project_records_its_features_and_its_rounds_and_model_read_them(tmp_path, kind):
    data, labels = make_pool(tmp_path)
    init_project(tmp_path / "proj", data=str(data), text_col="body", id_col="doc_id", labels=["review", "other"],
                 embeddings=str(tmp_path / "emb.npy"), backend="exact", features=kind).close()
    assert f'[features]\nkind = "{kind}"' in (tmp_path / "proj" / "textsel.toml").read_text()
    with Project(tmp_path / "proj") as project:
        project.add_labels([3, 0, 1], ["review", "other", "other"], source="seed")
        _, result = project.next_batch(10, candidate_pool="all")
        record = project.store.rounds()[-1]
        assert record.strategy == "most-likely-positive" and record.params["features"] == kind
        assert "find (nearly) every positive" in record.params["strategy_reason"]
        assert labels[result.ids].sum() >= 8  # the word pair "systematic review" finds them
        model = project.train()
        assert model.embeddings["features"] == kind
        assert (tmp_path / "proj" / "cache" / "lexical" / "matrix.npz").exists()
        probabilities = project.positive_probabilities([13, 14])
        assert probabilities[0] > probabilities[1]
        project.add_labels(result.ids.tolist(), ["review" if labels[i] else "other" for i in result.ids],
                           source="test")
        _, seals = project.next_batch(5, candidate_pool="seals")  # candidates from the dense index, scored lexically
        assert project.store.rounds()[-1].params["candidate_pool"] == "seals"
        assert 0 < seals.candidate_pool_size <= N - 13 and len(seals.ids) == 5


def test_projects_without_a_features_section_read_the_embeddings(tmp_path):
    config = ProjectConfig(source="pool.csv")
    text = config.to_toml()
    assert '[features]\nkind = "dense"' in text and '[rounds]\ngoal = "find-all"' in text
    old = "\n".join(line for line in text.splitlines() if line not in ("[features]", 'kind = "dense"'))
    (tmp_path / "textsel.toml").write_text(old)
    assert ProjectConfig.from_toml(tmp_path / "textsel.toml").features == "dense"
    with pytest.raises(ConfigError, match="features"):
        ProjectConfig(source="pool.csv", features="words")
    with pytest.raises(ConfigError, match="static"):
        ProjectConfig(source="pool.csv", features="lexical", first_pass="static")
    with pytest.raises(ConfigError, match=r"first_pass = \"static\""):  # the static vectors need the first pass
        ProjectConfig(source="pool.csv", features="static")
    assert ProjectConfig(source="pool.csv", features="static", first_pass="static").features == "static"


def test_cli_init_takes_features_and_goal_and_next_says_which_strategy_and_why(tmp_path):
    data, _ = make_pool(tmp_path)
    folder = tmp_path / "proj"
    result = CliRunner().invoke(app, ["init", str(folder), "--data", str(data), "--text-col", "body", "--id-col",
                                      "doc_id", "--labels", "review,other", "--embeddings", str(tmp_path / "emb.npy"),
                                      "--backend", "exact", "--features", "hybrid", "--goal", "train-classifier"])
    assert result.exit_code == 0, result.output
    assert ProjectConfig.from_toml(folder / "textsel.toml").goal == "train-classifier"
    with Project(folder) as project:
        project.add_labels([3, 0, 1], ["review", "other", "other"], source="seed")
    result = CliRunner().invoke(app, ["next", "-n", "3", "-p", str(folder)])
    assert result.exit_code == 0, result.output
    shown = " ".join(result.output.split())
    assert "Strategy entropy: the goal is a classifier" in shown
    with Project(folder) as project:
        assert json.loads(json.dumps(project.store.rounds()[-1].params))["features"] == "hybrid"
    bad = CliRunner().invoke(app, ["init", str(tmp_path / "p2"), "--data", str(data), "--features", "words"])
    assert bad.exit_code != 0 and not (tmp_path / "p2").exists()


def test_compare_features_recommends_lexical_for_a_concept_of_words_the_embedding_misses():
    from textsel.diagnose import compare_features

    texts, labels = review_texts(400)
    dense = fake_embeddings(texts, 8)
    lexical = LexicalFeatures().fit_transform(texts)
    matrices = {kind: classifier_matrix(kind, dense=dense, lexical=lambda: lexical) for kind in
                ("dense", "lexical", "hybrid")}
    labeled = np.flatnonzero(labels == 1)[:15]  # only the positives found so far: no labeled negatives needed
    comparison = compare_features(matrices, labeled, np.ones(len(labeled), dtype=bool), pool_size=len(texts))
    assert comparison.auc["lexical"] > 0.9 > comparison.auc["dense"] + 0.2
    assert comparison.recommended in ("lexical", "hybrid") and comparison.mismatch
    assert "Use the" in comparison.report()
    # where the embedding carries the concept, the dense features stay
    clustered = dense.copy()
    clustered[labels == 1] = clustered[labels == 1] * 0.1 + np.eye(8, dtype=np.float32)[0]
    kept = compare_features({"dense": clustered, "lexical": lexical}, labeled, np.ones(len(labeled), dtype=bool),
                            pool_size=len(texts))
    assert kept.auc["dense"] > 0.95 and kept.recommended == "dense" and not kept.mismatch


def test_diagnose_features_compares_the_kinds_on_a_projects_labels(tmp_path):
    data, labels = make_pool(tmp_path)
    folder = tmp_path / "proj"
    init_project(folder, data=str(data), text_col="body", id_col="doc_id", labels=["review", "other"],
                 embeddings=str(tmp_path / "emb.npy"), backend="exact", features="dense").close()
    with Project(folder) as project:
        found = np.flatnonzero(labels == 1)[:12].tolist()
        project.add_labels(found + [0, 1, 2], ["review"] * 12 + ["other"] * 3, source="seed")
    result = CliRunner().invoke(app, ["diagnose", "--features", "--json", "-p", str(folder)])
    assert result.exit_code == 0, result.output
    comparison = json.loads(result.output)["features"]
    assert comparison["current"] == "dense" and comparison["recommended"] in ("lexical", "hybrid")
    assert comparison["auc"]["lexical"] > comparison["auc"]["dense"] and comparison["mismatch"]
    shown = CliRunner().invoke(app, ["diagnose", "--features", "-p", str(folder)])
    assert shown.exit_code == 0 and "Use the" in shown.output


def test_fusion_learner_ranks_with_both_blocks_and_reads_only_hybrid_rows():
    from textsel.errors import DataError, NotFittedError
    from textsel.learner import FusionLearner

    texts, labels = review_texts(400)
    dense = fake_embeddings(texts, 8)
    hybrid = classifier_matrix("hybrid", dense=dense, lexical=lambda: LexicalFeatures().fit_transform(texts))
    train = np.r_[np.flatnonzero(labels == 1)[:5], np.flatnonzero(labels == 0)[:20]]
    learner = FusionLearner(dense_dims=8)
    with pytest.raises(NotFittedError):
        learner.predict_proba(take_rows(hybrid, train))
    assert learner.fit(take_rows(hybrid, train), labels[train]) is learner
    proba = learner.predict_proba(take_rows(hybrid, slice(0, 400)))
    assert proba.shape == (400, 2) and np.allclose(proba.sum(axis=1), 1.0)
    from sklearn.metrics import roc_auc_score

    dense_alone = LogisticLearner().fit(dense[train], labels[train]).predict_proba(dense)[:, 1]
    # the lexical block finds the kind of document that the random vectors miss, even with their vote averaged in
    assert roc_auc_score(labels, proba[:, 1]) > 0.8 > roc_auc_score(labels, dense_alone) + 0.2
    # each model's log-odds are divided by their spread, so the flat TF-IDF model is not drowned by a sharp one
    assert len(learner.scales_) == 2 and all(scale > 0 for scale in learner.scales_)
    with pytest.raises(DataError, match="hybrid rows"):
        FusionLearner(dense_dims=8).fit(dense[train], labels[train])


def test_compare_features_labeled_rule_decides_on_the_labeled_negatives():
    from textsel.diagnose import compare_features

    texts, labels = review_texts(400)
    dense = fake_embeddings(texts, 8)
    lexical = LexicalFeatures().fit_transform(texts)
    matrices = {kind: classifier_matrix(kind, dense=dense, lexical=lambda: lexical) for kind in ("dense", "lexical")}
    labeled = np.r_[np.flatnonzero(labels == 1)[:15], np.flatnonzero(labels == 0)[:30]]
    positive = labels[labeled] == 1
    by_labels = compare_features(matrices, labeled, positive, pool_size=len(texts), rule="labeled")
    assert by_labels.rule == "labeled" and by_labels.labeled_auc["lexical"] > by_labels.labeled_auc["dense"] + 0.2
    assert by_labels.recommended == "lexical" and by_labels.mismatch
    # too few labeled negatives: the random reference decides, and says so
    few = np.r_[np.flatnonzero(labels == 1)[:15], np.flatnonzero(labels == 0)[:3]]
    fallback = compare_features(matrices, few, labels[few] == 1, pool_size=len(texts), rule="labeled")
    assert fallback.labeled_auc is None and fallback.rule == "random"
    with pytest.raises(ConfigError):
        compare_features(matrices, labeled, positive, pool_size=len(texts), rule="vibes")


def test_switch_learner_picks_the_block_that_ranks_the_labels_better():
    from textsel.learner import SwitchLearner

    texts, labels = review_texts(400)
    dense = fake_embeddings(texts, 8)
    lexical = LexicalFeatures().fit_transform(texts)
    train = np.r_[np.flatnonzero(labels == 1)[:12], np.flatnonzero(labels == 0)[:60]]
    words = SwitchLearner(dense_dims=8).fit(take_rows(HybridRows(dense, lexical), train), labels[train])
    assert words.block_ == "lexical" and words.auc_["lexical"] > words.auc_["dense"] + 0.2
    # a concept the embedding carries and the words do not: the dense block wins
    topical = dense.copy()
    topical[labels == 1] = topical[labels == 1] * 0.1 + np.eye(8, dtype=np.float32)[0]
    shuffled = lexical[np.random.default_rng(0).permutation(len(texts))]  # words unrelated to the labels
    semantic = SwitchLearner(dense_dims=8).fit(take_rows(HybridRows(topical, shuffled), train), labels[train])
    assert semantic.block_ == "dense"
    proba = semantic.predict_proba(take_rows(HybridRows(topical, shuffled), slice(0, 400)))
    assert proba.shape == (400, 2) and proba[labels == 1, 1].min() > proba[labels == 0, 1].max()
    # too few labels of a class to cross-validate: the default block
    few = np.r_[np.flatnonzero(labels == 1)[:2], np.flatnonzero(labels == 0)[:10]]
    assert SwitchLearner(dense_dims=8).fit(take_rows(HybridRows(dense, lexical), few), labels[few]).block_ == "lexical"
