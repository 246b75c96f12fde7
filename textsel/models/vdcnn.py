"""VDCNN (Conneau et al., EACL 2017), the character-level SVP target, in PyTorch.

Depth 9, 17 or 29: an embedding of 16, one convolution of 64 filters, then four stages of convolutional blocks
(64, 128, 256, 512 filters; [1,1,1,1], [2,2,2,2] or [5,5,2,2] blocks of two conv-BN-ReLU layers) with max pooling
halving the length between stages, k-max pooling (k=8), and fully connected layers 2048-2048-classes.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence

import numpy as np
import torch
from torch import nn

from textsel.errors import check_param
from textsel.models._torch import (
    batched_outputs,
    check_fitted,
    check_training_params,
    shuffled_batches,
    softmax_columns,
    start_fit,
)

logger = logging.getLogger(__name__)

# The paper's 66 characters; with padding (0), unknown (1) and space (2) the vocabulary has 69 symbols.
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-,;.!?:'\"/|_#$%^&*~`+=<>()[]{}"
PADDING, UNKNOWN, SPACE = 0, 1, 2
VOCABULARY_SIZE = len(ALPHABET) + 3
BLOCKS_PER_STAGE = {9: (1, 1, 1, 1), 17: (2, 2, 2, 2), 29: (5, 5, 2, 2)}
STAGE_FILTERS = (64, 128, 256, 512)
K_MAX = 8
_CODES = {character: index + 3 for index, character in enumerate(ALPHABET)} | {" ": SPACE}


def encode_characters(texts: Sequence[str], max_length: int = 1014) -> np.ndarray:
    """Lower-cased character codes, shape (n, max_length): truncated or padded with 0, unknown characters 1."""
    codes = np.full((len(texts), max_length), PADDING, dtype=np.int64)
    for row, text in enumerate(texts):
        kept = text.lower()[:max_length]
        codes[row, :len(kept)] = [_CODES.get(character, UNKNOWN) for character in kept]
    return codes


def _conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """Two temporal convolutions of size 3, each followed by batch norm and ReLU."""
    return nn.Sequential(
        nn.Conv1d(in_channels, out_channels, 3, padding=1), nn.BatchNorm1d(out_channels), nn.ReLU(),
        nn.Conv1d(out_channels, out_channels, 3, padding=1), nn.BatchNorm1d(out_channels), nn.ReLU(),
    )


class KMaxPool(nn.Module):
    """Keep the k largest activations of each channel, in their original temporal order."""

    def __init__(self, k: int) -> None:
        super().__init__()
        self.k = k

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        positions = inputs.topk(self.k, dim=2).indices.sort(dim=2).values
        return inputs.gather(2, positions)


class VDCNN(nn.Module):
    """The VDCNN network: character codes (batch, length) to class logits (batch, n_classes)."""

    def __init__(self, n_classes: int, depth: int = 9) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv1d(16, STAGE_FILTERS[0], 3, padding=1)]
        in_channels = STAGE_FILTERS[0]
        for stage, (filters, blocks) in enumerate(zip(STAGE_FILTERS, BLOCKS_PER_STAGE[depth], strict=True)):
            if stage:
                layers.append(nn.MaxPool1d(3, stride=2, padding=1))
            for _ in range(blocks):
                layers.append(_conv_block(in_channels, filters))
                in_channels = filters
        self.embedding = nn.Embedding(VOCABULARY_SIZE, 16, padding_idx=PADDING)
        self.convolutions = nn.Sequential(*layers, KMaxPool(K_MAX))
        self.hidden = nn.Sequential(nn.Linear(in_channels * K_MAX, 2048), nn.ReLU(), nn.Linear(2048, 2048), nn.ReLU())
        self.output = nn.Linear(2048, n_classes)

    def features(self, codes: torch.Tensor) -> torch.Tensor:
        """The last hidden layer (batch, 2048)."""
        embedded = self.embedding(codes).transpose(1, 2)
        return self.hidden(self.convolutions(embedded).flatten(1))

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        return self.output(self.features(codes))


class VDCNNClassifier:
    """Train VDCNN the way SVP does: SGD with momentum 0.9, weight decay 1e-4, learning rate halved every 3 epochs.

    Parameters
    ----------
    depth : {9, 17, 29}, default=9
    max_length : int, default=1014
        Characters kept per text (at least 64, so k-max pooling sees 8 positions).
    epochs : int, default=15
    batch_size : int, default=128
    learning_rate : float, default=0.01
        Initial SGD learning rate.
    seed : int, default=0
    device : str or None, default=None
        "cpu", "cuda", ...; None picks CUDA when available.

    Attributes
    ----------
    classes_ : ndarray
        Sorted class labels; the columns of :meth:`predict_proba`.
    model_ : VDCNN
    learning_rates_ : list of float
        The SGD learning rate used in each epoch.
    training_losses_ : list of float
        Mean training cross-entropy of each epoch (falls when the network learns).

    Notes
    -----
    VDCNN was designed for millions of texts. With the default batch of 128, a few hundred texts make 2-5 SGD steps
    an epoch: too few for the 12M-parameter network (most of them in the 2048-wide fully connected layers) to move
    off the majority class, which is what the small CPU recipes measured. It does learn when it gets enough steps
    (tests/unit/test_vdcnn.py trains it to well above chance on a small separable set with batches of 8).
    """

    input = "texts"

    def __init__(self, depth: int = 9, max_length: int = 1014, epochs: int = 15, batch_size: int = 128,
                 learning_rate: float = 0.01, seed: int = 0, device: str | None = None) -> None:
        self.depth, self.max_length, self.epochs, self.batch_size = depth, max_length, epochs, batch_size
        self.learning_rate, self.seed, self.device = learning_rate, seed, device

    def fit(self, texts: Sequence[str], labels: Sequence[Hashable]) -> VDCNNClassifier:
        """Train a freshly initialised network on ``texts`` and ``labels``."""
        owner = type(self).__name__
        check_param(owner, "depth", self.depth, self.depth in BLOCKS_PER_STAGE, "one of 9, 17, 29")
        check_param(owner, "max_length", self.max_length, isinstance(self.max_length, int) and self.max_length >= 64,
                    "an int >= 64")
        check_training_params(self, ("epochs", "batch_size"))
        targets = start_fit(self, texts, labels)
        self.model_ = VDCNN(max(2, len(self.classes_)), self.depth).to(self.device_)
        optimizer = torch.optim.SGD(self.model_.parameters(), lr=self.learning_rate, momentum=0.9, weight_decay=1e-4)
        schedule = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
        codes = encode_characters(texts, self.max_length)
        generator = torch.Generator().manual_seed(self.seed)
        loss_function = nn.CrossEntropyLoss()
        self.model_.train()
        self.learning_rates_, self.training_losses_ = [], []
        for epoch in range(self.epochs):
            total = 0.0
            self.learning_rates_.append(optimizer.param_groups[0]["lr"])
            for batch in shuffled_batches(len(texts), self.batch_size, generator):
                inputs = torch.as_tensor(codes[batch], device=self.device_)
                loss = loss_function(self.model_(inputs), torch.as_tensor(targets[batch], device=self.device_))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item() * len(batch)
            schedule.step()
            self.training_losses_.append(total / len(texts))
            logger.info("epoch %d/%d: training loss %.4f", epoch + 1, self.epochs, total / len(texts))
        self.model_.eval()
        return self

    def _outputs(self, texts: Sequence[str], head: str) -> np.ndarray:
        check_fitted(self)
        network = self.model_.features if head == "features" else self.model_

        def forward(batch: list[str]) -> torch.Tensor:
            return network(torch.as_tensor(encode_characters(batch, self.max_length), device=self.device_))

        return batched_outputs(forward, texts, self.batch_size)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, shape (n, n_classes), columns ordered as ``classes_``."""
        if len(texts) == 0:
            check_fitted(self)
            return np.zeros((0, len(self.classes_)))
        return softmax_columns(self._outputs(texts, "logits"), len(self.classes_))

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """The most probable class of each text."""
        return self.classes_[np.argmax(self.predict_proba(texts), axis=1)]

    def features(self, texts: Sequence[str]) -> np.ndarray:
        """The last hidden layer (n, 2048): the representation for k-center greedy selection."""
        return self._outputs(texts, "features")
