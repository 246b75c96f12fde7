"""VDCNN: the paper's character vocabulary, depths 9/17/29, k-max pooling, and a tiny training run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from textsel.errors import ConfigError, NotFittedError
from textsel.models.vdcnn import (
    ALPHABET,
    PADDING,
    SPACE,
    UNKNOWN,
    VDCNN,
    VOCABULARY_SIZE,
    KMaxPool,
    VDCNNClassifier,
    encode_characters,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_vocabulary_has_the_papers_69_symbols() -> None:
    assert len(ALPHABET) == len(set(ALPHABET)) == 66
    assert VOCABULARY_SIZE == 69


def test_encode_characters_lowercases_pads_truncates_and_marks_unknowns() -> None:
    codes = encode_characters(["Ab c", "é" + "x" * 10], max_length=6)
    assert codes.shape == (2, 6)
    a, b, c = (3 + ALPHABET.index(character) for character in "abc")
    assert list(codes[0]) == [a, b, SPACE, c, PADDING, PADDING]
    assert codes[1, 0] == UNKNOWN and (codes[1, 1:] == 3 + ALPHABET.index("x")).all()


@pytest.mark.parametrize(("depth", "blocks"), [(9, 4), (17, 8), (29, 14)])
def test_depth_counts_convolutions(depth: int, blocks: int) -> None:
    network = VDCNN(n_classes=3, depth=depth)
    assert sum(isinstance(layer, torch.nn.Conv1d) for layer in network.modules()) == 1 + 2 * blocks == depth
    widths = [layer.out_channels for layer in network.modules() if isinstance(layer, torch.nn.Conv1d)]
    assert sorted(set(widths)) == [64, 128, 256, 512]
    assert network.hidden[0].in_features == 512 * 8 and network.hidden[2].out_features == 2048
    assert network(torch.zeros(2, 64, dtype=torch.long)).shape == (2, 3)


def test_k_max_pooling_keeps_the_largest_values_in_order() -> None:
    values = torch.tensor([[[5.0, 1.0, 7.0, 3.0, 6.0]]])
    assert KMaxPool(3)(values).tolist() == [[[5.0, 7.0, 6.0]]]


def test_tiny_classifier_trains_and_predicts() -> None:
    texts = ["great product, love it", "terrible, broke at once", "love love love", "broke and awful"] * 2
    labels = ["pos", "neg", "pos", "neg"] * 2
    model = VDCNNClassifier(depth=9, max_length=64, epochs=4, batch_size=4, device="cpu").fit(texts, labels)
    probabilities = model.predict_proba(texts[:3])
    assert list(model.classes_) == ["neg", "pos"] and probabilities.shape == (3, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-6)
    assert model.features(texts[:2]).shape == (2, 2048)
    assert set(model.predict(texts)) <= {"neg", "pos"}
    assert model.learning_rates_ == [0.01, 0.01, 0.01, 0.005]  # halved every 3 epochs


def test_same_seed_same_model() -> None:
    texts, labels = ["good one", "bad one", "fine", "awful"], [1, 0, 1, 0]
    first = VDCNNClassifier(max_length=64, epochs=1, device="cpu", seed=3).fit(texts, labels).predict_proba(texts)
    second = VDCNNClassifier(max_length=64, epochs=1, device="cpu", seed=3).fit(texts, labels).predict_proba(texts)
    np.testing.assert_allclose(first, second, atol=1e-6)


def test_errors_are_clear() -> None:
    with pytest.raises(ConfigError, match="'depth' parameter of VDCNNClassifier must be one of 9, 17, 29. Got 10"):
        VDCNNClassifier(depth=10).fit(["a"], [1])
    with pytest.raises(ConfigError, match="'max_length' parameter"):
        VDCNNClassifier(max_length=32).fit(["a"], [1])
    with pytest.raises(NotFittedError):
        VDCNNClassifier().predict_proba(["a"])


def separable_reviews(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Short texts whose class is set by one sentiment word among random filler words."""
    rng = np.random.default_rng(seed)
    words = {1: ["great", "love", "excellent", "perfect", "happy"], 0: ["broken", "awful", "refund", "terrible"]}
    filler = ["the", "item", "it", "was", "and", "box", "came", "today", "with", "a", "cable"]
    texts, labels = [], np.arange(n) % 2
    for label in labels:
        chosen = [*rng.choice(filler, 8), rng.choice(words[label])]
        rng.shuffle(chosen)
        texts.append(" ".join(chosen))
    return texts, labels


def test_vdcnn9_learns_a_small_separable_task() -> None:
    """With enough SGD steps (small batches) the loss falls and held-out accuracy is far above chance (0.5)."""
    texts, labels = separable_reviews(64, seed=0)
    test_texts, test_labels = separable_reviews(100, seed=1)
    model = VDCNNClassifier(depth=9, max_length=64, epochs=4, batch_size=8, device="cpu", seed=0).fit(texts, labels)
    assert model.training_losses_[-1] < model.training_losses_[0] / 2
    assert np.mean(model.predict(test_texts) == test_labels) >= 0.65  # 100 texts: chance would be 0.50 +- 0.05
