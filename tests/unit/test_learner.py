"""LogisticLearner: binary and multi-class probabilities match scikit-learn; bad input raises clearly."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from textsel.errors import ConfigError, DataError, NotFittedError
from textsel.learner import LEARNERS, LogisticLearner, learner_spec, make_learner, register_learner


def blobs(n_classes, n=60, dim=5, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % n_classes
    features = rng.normal(size=(n, dim)) + 3 * np.eye(n_classes, dim)[labels]
    return features.astype(np.float32), labels


@pytest.mark.parametrize("n_classes", [2, 3])
def test_probabilities_match_sklearn(n_classes):
    features, labels = blobs(n_classes)
    learner = LogisticLearner(C=0.5).fit(features, labels)
    exact = {"tol": 1e-10} if n_classes == 2 else {}  # two classes: Newton finds the optimum lbfgs approaches
    reference = LogisticRegression(C=0.5, class_weight="balanced", max_iter=10_000, **exact).fit(features, labels)
    np.testing.assert_allclose(learner.predict_proba(features), reference.predict_proba(features), atol=1e-5)
    assert learner.classes_.tolist() == list(range(n_classes))
    assert learner.input == "embeddings"


@pytest.mark.parametrize(("n", "positives", "C", "class_weight"),
                         [(100, 5, 1.0, "balanced"), (400, 40, 0.1, None), (1000, 3, 10.0, "balanced")])
def test_binary_newton_fit_finds_sklearns_model_on_rare_concepts(n, positives, C, class_weight):
    rng = np.random.default_rng(n)
    features = rng.normal(size=(n, 32)).astype(np.float32)
    labels = np.where(np.arange(n) < positives, "rare", "other")
    features[:positives] += 0.3
    learner = LogisticLearner(C=C, class_weight=class_weight).fit(features, labels)
    reference = LogisticRegression(C=C, class_weight=class_weight, max_iter=10_000, tol=1e-10).fit(features, labels)
    np.testing.assert_allclose(learner.predict_proba(features), reference.predict_proba(features), atol=1e-4)
    assert learner.classes_.tolist() == reference.classes_.tolist() == ["other", "rare"]
    targets = (labels == "rare").astype(float)
    weights = np.where(targets == 1, n / (2 * positives), n / (2 * (n - positives))) if class_weight else np.ones(n)

    def objective(coef, intercept):  # scikit-learn's: weighted log-loss + ||w||^2 / 2C, in float64
        logits = features.astype(np.float64) @ coef.ravel() + intercept[0]
        return weights @ (np.logaddexp(0, logits) - targets * logits) + coef.ravel() @ coef.ravel() / (2 * C)

    # Newton (float64 loss) ends at least as low as lbfgs (which works in the data's float32).
    assert objective(learner.coef_, learner.intercept_) <= objective(reference.coef_.astype(np.float64),
                                                                     reference.intercept_) + 1e-9


def test_a_binary_fit_does_not_import_scikit_learn():
    """The import of scikit-learn took 1.4-1.7 s of a 1M-document round; two classes must not pay it."""
    import subprocess
    import sys

    code = ("import sys, numpy as np; from textsel.learner import LogisticLearner; "
            "x = np.random.default_rng(0).normal(size=(50, 8)); "
            "LogisticLearner().fit(x, np.arange(50) % 2).predict_proba(x); print('sklearn' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


def test_string_labels_and_balanced_weights_help_the_rare_class():
    features, labels = blobs(2, n=200)
    rare = np.where((labels == 1) & (np.arange(200) % 10 == 1), "rare", "common")
    probabilities = LogisticLearner().fit(features, rare).predict_proba(features)
    assert probabilities.shape == (200, 2)
    rare_column = list(LogisticLearner().fit(features, rare).classes_).index("rare")
    assert probabilities[rare == "rare", rare_column].mean() > 0.5


def test_errors():
    features, labels = blobs(2)
    with pytest.raises(NotFittedError, match="fit"):
        LogisticLearner().predict_proba(features)
    with pytest.raises(DataError, match="at least two classes"):
        LogisticLearner().fit(features, np.zeros(len(features)))
    with pytest.raises(DataError, match="shape"):
        LogisticLearner().fit(features[:5], labels)
    with pytest.raises(ConfigError, match="'C' parameter of LogisticLearner"):
        LogisticLearner(C=0).fit(features, labels)
    fitted = LogisticLearner().fit(features, labels)
    with pytest.raises(DataError, match="shape"):
        fitted.predict_proba(features[:, :3])
    with pytest.raises(ConfigError, match="'learner' parameter must be one of \\['fasttext', 'logistic', "
                                          "'relevance-feedback', 'transformer', 'vdcnn'\\]"):
        make_learner("svm")


def test_registry_builds_each_learner_with_its_parameters_and_input():
    expected = {"logistic": "embeddings", "relevance-feedback": "embeddings", "fasttext": "texts",
                "transformer": "texts", "vdcnn": "texts"}
    assert {name: spec.input for name, spec in LEARNERS.items()} == expected
    for name, reads in expected.items():
        learner = make_learner(name)
        assert learner.input == reads == learner_spec(name).input
    assert make_learner("logistic", C=0.5).C == 0.5 and make_learner("fasttext", dim=4, C=1.0).dim == 4
    assert make_learner("transformer", epochs=1).epochs == 1 and make_learner("vdcnn", depth=9).depth == 9
    with pytest.raises(ConfigError, match="'C' parameter applies only to the logistic learner"):
        make_learner("fasttext", C=2.0)
    with pytest.raises(ConfigError, match="learner 'fasttext' does not take these parameters"):
        make_learner("fasttext", epochs=3)


def test_a_registered_learner_is_built_by_name():
    try:
        register_learner("tiny-logistic", lambda **params: LogisticLearner(C=0.01, **params), input="embeddings")
        assert make_learner("tiny-logistic", max_iter=5).max_iter == 5
        with pytest.raises(ConfigError, match="'input' parameter of register_learner"):
            register_learner("bad", LogisticLearner, input="images")
    finally:
        LEARNERS.pop("tiny-logistic", None)
    assert "bad" not in LEARNERS


@pytest.mark.parametrize("n_classes", [2, 3])
def test_saved_model_round_trips_without_pickle(tmp_path, n_classes):
    features, labels = blobs(n_classes)
    names = np.asarray(["cat", "dog", "eel"])[labels]
    learner = LogisticLearner(C=0.5).fit(features, names)
    learner.save(tmp_path / "model.npz")
    with np.load(tmp_path / "model.npz", allow_pickle=False) as arrays:  # plain arrays only
        assert all(arrays[name].dtype != object for name in arrays.files)
    loaded = LogisticLearner.load(tmp_path / "model.npz")
    np.testing.assert_array_equal(loaded.predict_proba(features), learner.predict_proba(features))
    np.testing.assert_array_equal(loaded.predict(features), learner.predict(features))
    assert loaded.classes_.tolist() == learner.classes_.tolist() and loaded.C == 0.5


def test_a_garbled_or_pickled_model_file_is_a_clear_error(tmp_path):
    garbled = tmp_path / "garbled.npz"
    garbled.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError, match="cannot read the saved model"):
        LogisticLearner.load(garbled)
    objects = tmp_path / "objects.npz"
    np.savez(objects, coef=np.zeros((1, 3)), intercept=np.zeros(1), classes=np.array([{"a": 1}, 2], dtype=object),
             params=np.asarray("{}"))
    with pytest.raises(DataError, match="cannot read the saved model"):
        LogisticLearner.load(objects)
    mismatched = tmp_path / "mismatched.npz"
    np.savez(mismatched, coef=np.zeros((2, 3)), intercept=np.zeros(1), classes=np.array(["a", "b"]),
             params=np.asarray('{"C": 1.0, "class_weight": null, "max_iter": 10}'))
    with pytest.raises(DataError, match="do not fit together"):
        LogisticLearner.load(mismatched)
