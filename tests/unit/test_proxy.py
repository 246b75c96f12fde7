"""The fastText proxy: the paper's normalisation, probabilities through the pinned binding, retraining."""

from __future__ import annotations

import tempfile

import numpy as np
import pytest

from textsel.errors import ConfigError, NotFittedError
from textsel.proxy import FastTextProxy, normalize_text

POSITIVE = ["good great fine", "great lovely good", "fine good nice", "lovely nice great"]
NEGATIVE = ["bad awful poor", "poor terrible bad", "awful bad worse", "terrible worse poor"]


def small_proxy(**overrides) -> FastTextProxy:
    params = {"bucket": 1000, "epoch": 30, "lr": 0.5, "threads": 1, "seed": 0} | overrides
    return FastTextProxy(**params)


def toy_set(repeat: int = 5) -> tuple[list[str], np.ndarray]:
    texts = (POSITIVE + NEGATIVE) * repeat
    labels = np.array(([1] * len(POSITIVE) + [-1] * len(NEGATIVE)) * repeat)
    return texts, labels


@pytest.mark.parametrize(("raw", "expected"), [
    ("Hello, World!", "hello , world !"),
    ('It\'s "great" (really)?', "it ' s great ( really ) ?"),
    ("One.<br />Two;three:four", "one . two three four"),
    ("  many    spaces\tand\nlines  ", "many spaces and lines"),
    ("", ""),
])
def test_normalize_text_matches_the_paper_script(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_defaults_are_the_papers() -> None:
    proxy = FastTextProxy()
    assert (proxy.dim, proxy.lr, proxy.word_ngrams, proxy.min_count, proxy.bucket, proxy.epoch) == (
        10, 0.05, 2, 1, 10_000_000, 5)
    assert proxy.threads is None and proxy.input == "texts"


def test_probabilities_sum_to_one_and_rank_a_separable_set() -> None:
    texts, labels = toy_set()
    proxy = small_proxy().fit(texts, labels)
    assert list(proxy.classes_) == [-1, 1]
    probabilities = proxy.predict_proba(["great good nice", "awful poor bad", "good bad"])
    assert probabilities.shape == (3, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-6)
    assert probabilities[0, 1] > 0.8 and probabilities[1, 0] > 0.8
    assert probabilities[0, 1] > probabilities[2, 1] > probabilities[1, 1]
    assert list(proxy.predict(["nice lovely", "worse terrible"])) == [1, -1]


def test_probabilities_come_from_the_bindings_per_line_predict() -> None:
    texts, labels = toy_set()
    proxy = small_proxy().fit(texts, ["pos" if label == 1 else "neg" for label in labels])
    text = "Good, but POOR."
    pairs = proxy.model_.f.predict(normalize_text(text) + "\n", 2, 0.0, "strict")
    by_label = {label: probability for probability, label in pairs}
    expected = [by_label[f"__label__{index}"] for index in range(2)]
    np.testing.assert_allclose(proxy.predict_proba([text])[0], np.array(expected) / sum(expected), rtol=1e-6)
    assert pairs[0][0] > pairs[1][0]  # the binding really returns two different probabilities


def test_fit_retrains_from_scratch_and_removes_its_training_file(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    texts, labels = toy_set()
    proxy = small_proxy().fit(texts, labels)
    proxy.fit(["red apple", "green pear", "blue sky"], ["a", "b", "c"])
    assert list(proxy.classes_) == ["a", "b", "c"]
    assert "good" not in proxy.model_.get_words()
    assert list(tmp_path.iterdir()) == []


def test_texts_with_newlines_and_empty_texts_are_scored() -> None:
    texts, labels = toy_set(2)
    proxy = small_proxy().fit([text.replace(" ", "\n", 1) for text in texts], labels)
    probabilities = proxy.predict_proba(["good\ngreat", ""])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-6)
    assert proxy.predict_proba([]).shape == (0, 2)


def test_features_are_sentence_vectors_of_size_dim() -> None:
    texts, labels = toy_set(2)
    features = small_proxy(dim=7).fit(texts, labels).features(["good", "bad", "good"])
    assert features.shape == (3, 7)
    np.testing.assert_array_equal(features[0], features[2])


def test_correctness_by_epoch_has_one_row_per_epoch() -> None:
    texts, labels = toy_set(2)
    history = small_proxy(epoch=4).correctness_by_epoch(texts, labels)
    assert history.shape == (4, len(texts)) and history.dtype == bool
    assert history[-1].all()


def test_errors_are_clear() -> None:
    with pytest.raises(NotFittedError, match="fit"):
        FastTextProxy().predict_proba(["x"])
    with pytest.raises(ConfigError, match="'dim' parameter of FastTextProxy must be an int >= 1. Got 0"):
        FastTextProxy(dim=0).fit(["a"], [1])
    with pytest.raises(ConfigError, match="2 texts but 1 labels"):
        small_proxy().fit(["a", "b"], [1])
