"""The fastText proxy of Selection via Proxy (Coleman et al., ICLR 2020).

A tiny supervised fastText model (dim 10, 5 epochs) trains in seconds, so it can be retrained from scratch every
active-learning round and rank the whole pool for a fraction of what the target model would cost.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Hashable, Sequence

import numpy as np

from textsel.errors import ConfigError, MissingDependencyError, NotFittedError, check_param

_SPLIT_OFF = re.compile(r"([.,()!?'])")
_DROP = re.compile(r'"')
_TO_SPACE = re.compile(r"<br />|[;:\s]")
_SPACES = re.compile(r" +")


def normalize_text(text: str) -> str:
    """Normalise a text the way the SVP / fastText classification scripts do.

    Lower-case; split ``' . , ( ) ! ?`` into their own tokens; drop ``"``; replace ``<br />``, ``;`` and ``:``
    with spaces; squeeze spaces. Newlines and tabs also become spaces, because fastText reads one text per line.
    """
    text = text.lower()
    text = _DROP.sub("", text)
    text = _TO_SPACE.sub(" ", text)
    text = _SPLIT_OFF.sub(r" \1 ", text)
    return _SPACES.sub(" ", text).strip()


def _import_fasttext():  # noqa: ANN202 - the module object
    try:
        import fasttext
    except ImportError as error:  # pragma: no cover - fasttext-wheel is a dependency
        raise MissingDependencyError("FastTextProxy needs fasttext-wheel: pip install fasttext-wheel==0.9.2") from error
    return fasttext


class FastTextProxy:
    """Supervised fastText classifier with the SVP paper's defaults, usable as proxy or learner.

    Parameters
    ----------
    dim : int, default=10
        Size of the word vectors.
    lr : float, default=0.05
        Learning rate.
    word_ngrams : int, default=2
        Longest word n-gram used as a feature.
    min_count : int, default=1
        Minimal number of occurrences of a word.
    bucket : int, default=10_000_000
        Number of hash buckets for n-grams.
    epoch : int, default=5
        Passes over the training texts.
    threads : int or None, default=None
        Training threads; None uses every core.
    seed : int, default=0
        fastText's random seed (results are exactly repeatable only with ``threads=1``).

    Attributes
    ----------
    classes_ : ndarray
        Sorted class labels; the columns of :meth:`predict_proba`.
    model_ : fasttext model
        The model from the last :meth:`fit`.
    """

    input = "texts"

    def __init__(self, dim: int = 10, lr: float = 0.05, word_ngrams: int = 2, min_count: int = 1,
                 bucket: int = 10_000_000, epoch: int = 5, threads: int | None = None, seed: int = 0) -> None:
        self.dim, self.lr, self.word_ngrams, self.min_count = dim, lr, word_ngrams, min_count
        self.bucket, self.epoch, self.threads, self.seed = bucket, epoch, threads, seed

    def _check_params(self) -> None:
        owner = type(self).__name__
        for name in ("dim", "word_ngrams", "min_count", "epoch"):
            value = getattr(self, name)
            check_param(owner, name, value, isinstance(value, int) and value >= 1, "an int >= 1")
        check_param(owner, "bucket", self.bucket, isinstance(self.bucket, int) and self.bucket >= 0, "an int >= 0")
        check_param(owner, "lr", self.lr, isinstance(self.lr, (int, float)) and self.lr > 0, "a number > 0")
        check_param(owner, "threads", self.threads, self.threads is None or (isinstance(self.threads, int)
                                                                              and self.threads >= 1),
                    "None or an int >= 1")

    def fit(self, texts: Sequence[str], labels: Sequence[Hashable]) -> FastTextProxy:
        """Train from scratch on ``texts`` and ``labels`` (any hashable values)."""
        self.model_ = self._train(texts, labels, self.epoch)
        return self

    def _train(self, texts: Sequence[str], labels: Sequence[Hashable], epoch: int):  # noqa: ANN202
        self._check_params()
        labels = np.asarray(labels)
        if len(texts) != len(labels):
            raise ConfigError(f"FastTextProxy.fit got {len(texts)} texts but {len(labels)} labels.")
        if len(texts) == 0:
            raise ConfigError("FastTextProxy.fit needs at least one labeled text. Got 0.")
        self.classes_, label_index = np.unique(labels, return_inverse=True)
        fasttext = _import_fasttext()
        handle, path = tempfile.mkstemp(prefix="textsel-fasttext-", suffix=".txt")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                for text, index in zip(texts, label_index, strict=True):
                    file.write(f"__label__{index} {normalize_text(text)}\n")
            return fasttext.train_supervised(
                input=path, dim=self.dim, lr=self.lr, wordNgrams=self.word_ngrams, minCount=self.min_count,
                bucket=self.bucket, epoch=epoch, thread=self.threads or os.cpu_count() or 1, seed=self.seed,
                verbose=0)
        finally:
            os.remove(path)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, shape (n, n_classes), rows summing to 1, columns ordered as ``classes_``."""
        return self._predict_with(self._fitted_model(), texts)

    def _predict_with(self, model, texts: Sequence[str]) -> np.ndarray:  # noqa: ANN001
        n_classes = len(self.classes_)
        probabilities = np.zeros((len(texts), n_classes), dtype=np.float64)
        if len(texts) == 0:
            return probabilities
        # model.predict breaks on numpy 2 (np.array(copy=False)), and the pinned binding's multilinePredict returns
        # the top probability in every column when k > 1; the per-line f.predict returns correct (prob, label) pairs.
        for row, text in enumerate(texts):
            for probability, label in model.f.predict(normalize_text(text) + "\n", n_classes, 0.0, "strict"):
                probabilities[row, int(label[len("__label__"):])] = probability
        totals = probabilities.sum(axis=1, keepdims=True)
        empty = totals[:, 0] <= 0
        probabilities[empty] = 1.0 / n_classes
        totals[empty] = 1.0
        return probabilities / totals

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """The most probable class of each text."""
        return self.classes_[np.argmax(self.predict_proba(texts), axis=1)]

    def features(self, texts: Sequence[str]) -> np.ndarray:
        """Sentence vectors (n, dim): the proxy's representation for k-center greedy selection."""
        model = self._fitted_model()
        return np.asarray([model.get_sentence_vector(normalize_text(text)) for text in texts], dtype=np.float32)

    def correctness_by_epoch(self, texts: Sequence[str], labels: Sequence[Hashable]) -> np.ndarray:
        """Whether each training text is classified correctly after each epoch, shape (epoch, n).

        fastText has no per-epoch callback, so epoch ``e`` is simulated by training from scratch with
        ``epoch=e`` (same seed) for e = 1..``epoch``; the learning rate decays over each run's own epochs.
        Feeds forgetting-event counting (Toneva et al., 2019). The last run is kept as ``model_``.
        """
        history = []
        labels = np.asarray(labels)
        for epoch in range(1, self.epoch + 1):
            model = self._train(texts, labels, epoch)
            predicted = self.classes_[np.argmax(self._predict_with(model, texts), axis=1)]
            history.append(predicted == labels)
        self.model_ = model
        return np.asarray(history, dtype=bool)

    def _fitted_model(self):  # noqa: ANN202
        if not hasattr(self, "model_"):
            raise NotFittedError("This FastTextProxy is not fitted yet. Call fit(texts, labels) first.")
        return self.model_
