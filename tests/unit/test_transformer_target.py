"""The transformer target on a tiny BERT built offline (2 layers, hidden 32): trains a step, predicts, features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import save_tiny_bert

from textsel.errors import ConfigError, DataError, NotFittedError
from textsel.models.transformer import TransformerClassifier, default_model_path, mixed_precision

WORDS = ["good", "great", "love", "bad", "awful", "hate", "it", "the", "product", "is"]
TEXTS = ["good great product", "awful bad product", "love it", "hate it", "the product is great", "it is awful"]
LABELS = [1, 0, 1, 0, 1, 0]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> Path:
    """A randomly initialised 2-layer BERT and its word-piece tokenizer, saved like a hub checkpoint."""
    from transformers import BertTokenizerFast

    path = save_tiny_bert(tmp_path_factory.mktemp("tiny_bert"), WORDS)
    assert BertTokenizerFast.from_pretrained(path)("good bad")["input_ids"] == [2, 5, 8, 3]
    return path


def tiny_classifier(path: Path, **overrides) -> TransformerClassifier:
    params = {"max_length": 16, "epochs": 1, "batch_size": 4, "device": "cpu", "learning_rate": 1e-3} | overrides
    return TransformerClassifier(str(path), **params)


def test_defaults_and_packaged_model() -> None:
    model = TransformerClassifier()
    assert (model.model_name_or_path, model.max_length, model.epochs, model.learning_rate, model.batch_size) == (
        None, 128, 3, 5e-5, 32)
    assert (Path(default_model_path()) / "config.json").exists()


def test_trains_and_predicts_probabilities(tiny_bert: Path) -> None:
    model = tiny_classifier(tiny_bert).fit(TEXTS, ["pos" if label else "neg" for label in LABELS])
    probabilities = model.predict_proba(TEXTS[:3] + ["unseen words here"])
    assert list(model.classes_) == ["neg", "pos"] and probabilities.shape == (4, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-6)
    assert set(model.predict(TEXTS)) <= {"neg", "pos"}
    assert model.features(TEXTS).shape == (len(TEXTS), 32)
    assert model.predict_proba([]).shape == (0, 2)


def test_rows_come_back_in_input_order_despite_length_batching(tiny_bert: Path) -> None:
    model = tiny_classifier(tiny_bert, batch_size=2).fit(TEXTS, LABELS)  # predicts 4 texts a batch
    together = model.predict_proba(TEXTS)
    one_by_one = np.vstack([model.predict_proba([text]) for text in TEXTS])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)


def test_fine_tuning_fits_a_separable_toy_set(tiny_bert: Path) -> None:
    model = tiny_classifier(tiny_bert, epochs=15, learning_rate=1e-2, batch_size=6, seed=1).fit(TEXTS, LABELS)
    assert list(model.predict(TEXTS)) == LABELS


def test_same_seed_same_model(tiny_bert: Path) -> None:
    first = tiny_classifier(tiny_bert, seed=5).fit(TEXTS, LABELS).predict_proba(TEXTS)
    second = tiny_classifier(tiny_bert, seed=5).fit(TEXTS, LABELS).predict_proba(TEXTS)
    np.testing.assert_allclose(first, second, atol=1e-6)


def test_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(NotFittedError):
        TransformerClassifier().predict_proba(["a"])
    with pytest.raises(ConfigError, match="'epochs' parameter of TransformerClassifier must be an int >= 1"):
        TransformerClassifier(epochs=0).fit(["a"], [1])
    with pytest.raises(ConfigError, match="must name a loadable model"):
        TransformerClassifier(str(tmp_path / "missing"), device="cpu").fit(["a", "b"], [1, 0])


def test_a_float16_checkpoint_fine_tunes_in_float32(tiny_bert: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    half = tmp_path / "half"
    AutoModelForSequenceClassification.from_pretrained(tiny_bert).half().save_pretrained(half)
    AutoTokenizer.from_pretrained(tiny_bert).save_pretrained(half)
    model = tiny_classifier(half).fit(TEXTS, LABELS)
    assert str(next(model.model_.parameters()).dtype) == "torch.float32"
    assert np.isfinite(model.predict_proba(TEXTS)).all()


def test_later_fits_restart_from_the_checkpoint_kept_in_memory(tiny_bert: Path, monkeypatch) -> None:
    fresh = tiny_classifier(tiny_bert, seed=3).fit(TEXTS, LABELS).predict_proba(TEXTS)
    model = tiny_classifier(tiny_bert, seed=3)
    loads = []
    original = TransformerClassifier._load
    monkeypatch.setattr(TransformerClassifier, "_load", lambda self, n: loads.append(n) or original(self, n))
    model.fit(TEXTS[:4], LABELS[:4])  # a first round on fewer labels
    again = model.fit(TEXTS, LABELS).predict_proba(TEXTS)  # a second round starts from the checkpoint again
    assert loads == [2]  # read from disk once
    np.testing.assert_allclose(again, fresh, atol=1e-5)


def test_training_uses_warmup_clipping_and_fp32_on_cpu(tiny_bert: Path) -> None:
    model = tiny_classifier(tiny_bert, epochs=2, batch_size=4, warmup_ratio=0.25, max_grad_norm=0.5)
    model.device_ = torch.device("cpu")
    args = model._training_arguments(10, "unused")
    assert (args.warmup_steps, args.max_grad_norm, args.lr_scheduler_type.value) == (1, 0.5, "linear")  # 6 steps
    assert not args.bf16 and not args.fp16 and args.use_cpu
    model.precision = "bf16"
    with pytest.raises(ConfigError, match="'bf16' only on a GPU"):
        model._training_arguments(10, "unused")
    for name, value in (("warmup_ratio", 1.0), ("max_grad_norm", 0), ("precision", "fp8")):
        with pytest.raises(ConfigError, match=f"'{name}' parameter of TransformerClassifier"):
            tiny_classifier(tiny_bert, **{name: value}).fit(TEXTS, LABELS)


def test_saved_model_is_safetensors_and_predicts_the_same(tiny_bert: Path, tmp_path: Path) -> None:
    model = tiny_classifier(tiny_bert).fit(TEXTS, ["pos" if label else "neg" for label in LABELS])
    model.save(tmp_path / "target")
    files = {path.name for path in (tmp_path / "target").iterdir()}
    assert "model.safetensors" in files and not {name for name in files if name.endswith((".bin", ".pkl", ".pt"))}
    loaded = TransformerClassifier.load(tmp_path / "target", device="cpu")
    assert loaded.classes_.tolist() == ["neg", "pos"]
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), model.predict_proba(TEXTS), atol=1e-5)
    model.save(tmp_path / "target")  # saving again replaces the folder once the new one is complete
    (tmp_path / "target" / "model.safetensors").unlink()
    torch.save(model.model_.state_dict(), tmp_path / "target" / "pytorch_model.bin")
    with pytest.raises(DataError, match="cannot read the saved transformer model"):
        TransformerClassifier.load(tmp_path / "target", device="cpu")  # pickled weights are never read


def test_mixed_precision_is_bf16_on_gpus_that_support_it_else_fp16_and_fp32_on_cpu(monkeypatch) -> None:
    gpu, cpu = torch.device("cuda"), torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    assert (mixed_precision("auto", gpu), mixed_precision("auto", cpu), mixed_precision("fp16", gpu)) == (
        "bf16", "fp32", "fp16")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: False)
    assert mixed_precision("auto", gpu) == "fp16" and mixed_precision("fp32", gpu) == "fp32"
    with pytest.raises(ConfigError, match="'fp16' only on a GPU"):
        mixed_precision("fp16", cpu)
