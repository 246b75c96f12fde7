"""What the PyTorch target models share: device choice, label encoding, seeded batches, batched prediction."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence

import numpy as np
import torch

from textsel.errors import ConfigError, NotFittedError, check_param


def resolve_device(device: str | None) -> torch.device:
    """The given device, else CUDA when available, else CPU."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except RuntimeError as error:
        raise ConfigError(f"The 'device' parameter must be a torch device such as 'cpu' or 'cuda'. Got {device!r}.") \
            from error


def encode_labels(owner: str, texts: Sequence[str], labels: Sequence[Hashable]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted classes and each label's class index; checks that texts and labels line up."""
    labels = np.asarray(labels)
    if len(texts) != len(labels):
        raise ConfigError(f"{owner}.fit got {len(texts)} texts but {len(labels)} labels.")
    if len(texts) == 0:
        raise ConfigError(f"{owner}.fit needs at least one labeled text. Got 0.")
    classes, index = np.unique(labels, return_inverse=True)
    return classes, index.astype(np.int64)


def check_training_params(model: object, int_names: Sequence[str]) -> None:
    """Raise ConfigError unless each named attribute is an int >= 1 and ``learning_rate`` is positive."""
    owner = type(model).__name__
    for name in int_names:
        value = getattr(model, name)
        check_param(owner, name, value, isinstance(value, int) and value >= 1, "an int >= 1")
    rate = model.learning_rate
    check_param(owner, "learning_rate", rate, isinstance(rate, (int, float)) and rate > 0, "a number > 0")


def start_fit(model, texts: Sequence[str], labels: Sequence[Hashable]) -> np.ndarray:  # noqa: ANN001
    """Set ``classes_`` and ``device_``, seed torch with ``model.seed``; return each label's class index."""
    model.classes_, targets = encode_labels(type(model).__name__, texts, labels)
    model.device_ = resolve_device(model.device)
    torch.manual_seed(model.seed)
    return targets


def shuffled_batches(n: int, batch_size: int, generator: torch.Generator) -> Iterator[np.ndarray]:
    """Row positions in a seeded random order, ``batch_size`` at a time (one epoch)."""
    order = torch.randperm(n, generator=generator).numpy()
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def batched_outputs(forward: Callable[[list[str]], torch.Tensor], texts: Sequence[str], batch_size: int,
                    lengths: Sequence[int] | None = None) -> np.ndarray:
    """Concatenate ``forward`` over batches of texts in evaluation mode, rows in the input order.

    With ``lengths``, batches group texts of similar length so dynamic padding wastes little work.
    """
    order = np.argsort(lengths, kind="stable") if lengths is not None else np.arange(len(texts))
    outputs = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            batch = [texts[i] for i in order[start:start + batch_size]]
            outputs.append(forward(batch).float().cpu().numpy())
    stacked = np.concatenate(outputs) if outputs else np.zeros((0, 0), dtype=np.float32)
    result = np.empty_like(stacked)
    result[order] = stacked
    return result


def softmax_columns(logits: np.ndarray, n_classes: int) -> np.ndarray:
    """Softmax over the first ``n_classes`` logits (a one-class fit keeps a spare output column)."""
    logits = logits[:, :n_classes].astype(np.float64)
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    return weights / weights.sum(axis=1, keepdims=True)


def check_fitted(model: object) -> None:
    """Raise NotFittedError unless ``fit`` has run."""
    if not hasattr(model, "model_"):
        raise NotFittedError(f"This {type(model).__name__} is not fitted yet. Call fit(texts, labels) first.")
