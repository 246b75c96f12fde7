"""LogisticLearner: binary and multi-class probabilities match scikit-learn; bad input raises clearly."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from textsel.errors import ConfigError, DataError, NotFittedError
from textsel.learner import LogisticLearner, make_learner


def blobs(n_classes, n=60, dim=5, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % n_classes
    features = rng.normal(size=(n, dim)) + 3 * np.eye(n_classes, dim)[labels]
    return features.astype(np.float32), labels


@pytest.mark.parametrize("n_classes", [2, 3])
def test_probabilities_match_sklearn(n_classes):
    features, labels = blobs(n_classes)
    learner = LogisticLearner(C=0.5).fit(features, labels)
    reference = LogisticRegression(C=0.5, class_weight="balanced", max_iter=1000).fit(features, labels)
    np.testing.assert_allclose(learner.predict_proba(features), reference.predict_proba(features), atol=1e-5)
    assert learner.classes_.tolist() == list(range(n_classes))
    assert learner.input == "embeddings"


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
    with pytest.raises(ConfigError, match="'name' parameter of make_learner"):
        make_learner("svm")


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
    np.testing.assert_array_equal(loaded.model_.predict(features), learner.model_.predict(features))
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
