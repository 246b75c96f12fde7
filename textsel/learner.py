"""Learners that score candidates: the protocol, logistic regression on embeddings, and the registry by name.

A learner says which input it reads through its ``input`` attribute: "embeddings" (rows of the embedding
matrix) or "texts" (raw strings: the fastText proxy in :mod:`textsel.proxy`, the targets in
:mod:`textsel.models`). The round engine passes whichever it asks for, so any learner can drive SEALS, and
Selection via Proxy is "select with the fastText learner, train the transformer learner" in the same loop.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from threadpoolctl import threadpool_limits

from textsel._atomic import atomic_path
from textsel.errors import ConfigError, DataError, NotFittedError, check_param

INPUTS = ("embeddings", "texts")
_SINGLE_THREAD_MAX_VALUES = 5_000_000  # training sets up to ~13k x 384 fit on one BLAS thread


class Learner(Protocol):
    """What every learner offers: ``fit(inputs, labels) -> self``, ``predict_proba(inputs)`` with columns in the
    order of ``classes_``, and ``input``, the kind of inputs it reads ("embeddings" rows or "texts")."""

    input: str

    def fit(self, inputs, labels) -> Learner: ...

    def predict_proba(self, inputs) -> np.ndarray: ...

    @property
    def classes_(self) -> np.ndarray: ...


def check_labels(labels) -> np.ndarray:
    """Labels as an array with at least two classes, or a DataError that says how to fix it."""
    labels = np.asarray(labels)
    classes = np.unique(labels)
    if len(classes) < 2:
        found = repr(classes[0].item()) if len(classes) else "none"
        raise DataError(f"training needs labels of at least two classes; got {len(labels)} labels, all of class "
                        f"{found}. Label at least one example of another class (e.g. a negative).")
    return labels


class LogisticLearner:
    """L2-regularised logistic regression (lbfgs) on embeddings: the SEALS paper's classifier.

    Parameters
    ----------
    C : float, default=1.0
        Inverse regularisation strength.
    class_weight : "balanced" or None, default="balanced"
        Reweights classes inversely to their frequency, so 5 positives are not drowned by 95 negatives.
    max_iter : int, default=1000
    """

    input = "embeddings"

    def __init__(self, C: float = 1.0, class_weight: str | None = "balanced", max_iter: int = 1000) -> None:
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter

    def fit(self, features: np.ndarray, labels) -> LogisticLearner:
        """Train on embedding rows and their labels (binary or multi-class)."""
        from sklearn.linear_model import LogisticRegression

        check_param("LogisticLearner", "C", self.C, isinstance(self.C, int | float) and self.C > 0, "a float > 0")
        check_param("LogisticLearner", "class_weight", self.class_weight,
                    self.class_weight in ("balanced", None), "'balanced' or None")
        features = np.asarray(features, dtype=np.float32)
        labels = check_labels(labels)
        if features.ndim != 2 or len(features) != len(labels):
            raise DataError(f"expected features of shape (n, dim) with n == {len(labels)} labels; "
                            f"got shape {features.shape}")
        self.model_ = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter)
        if features.size <= _SINGLE_THREAD_MAX_VALUES:
            # On a few thousand rows, BLAS threads cost more in synchronisation than they save: 2,000 x 384
            # trained in 2.7 s with 2 OpenBLAS threads on a loaded 2-core machine, 0.06 s with one.
            with threadpool_limits(limits=1, user_api="blas"):
                self.model_.fit(features, labels)
        else:
            self.model_.fit(features, labels)
        return self

    @property
    def classes_(self) -> np.ndarray:
        if not hasattr(self, "model_"):
            raise NotFittedError("This LogisticLearner is not fitted yet; call fit(features, labels) first.")
        return self.model_.classes_

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities of shape (n, n_classes), columns in the order of ``classes_``."""
        classes = self.classes_
        features = np.asarray(features, dtype=np.float32)
        if features.ndim != 2 or features.shape[1] != self.model_.coef_.shape[1]:
            raise DataError(f"expected features of shape (n, {self.model_.coef_.shape[1]}); got {features.shape}")
        logits = features @ self.model_.coef_.T.astype(np.float32) + self.model_.intercept_.astype(np.float32)
        if len(classes) == 2:
            positive = 1.0 / (1.0 + np.exp(-np.clip(logits[:, 0], -50, 50)))
            return np.column_stack([1.0 - positive, positive])
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    # -- persistence: plain arrays, never pickle ---------------------------------------------------------------

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The fitted model as plain numeric/string arrays (coef, intercept, classes, params as JSON text).

        Nothing in them can run code when loaded; :meth:`from_arrays` rebuilds the same predictor.
        """
        classes = np.asarray(self.classes_)
        if classes.dtype == object:
            if not all(isinstance(name, str) for name in classes):
                raise DataError(f"cannot save classes of mixed types {classes.tolist()}; use strings or integers")
            classes = classes.astype(str)
        params = {"C": self.C, "class_weight": self.class_weight, "max_iter": self.max_iter}
        return {"coef": np.asarray(self.model_.coef_, dtype=np.float64),
                "intercept": np.asarray(self.model_.intercept_, dtype=np.float64),
                "classes": classes, "params": np.asarray(json.dumps(params))}

    @classmethod
    def from_arrays(cls, arrays) -> LogisticLearner:  # noqa: ANN001 - a mapping of name -> array (or NpzFile)
        """Rebuild a fitted learner from :meth:`to_arrays`; inconsistent arrays raise DataError."""
        from sklearn.linear_model import LogisticRegression

        missing = [name for name in ("coef", "intercept", "classes", "params") if name not in arrays]
        if missing:
            raise DataError(f"the saved model lacks the array {missing[0]!r}")
        coef, intercept, classes = (np.asarray(arrays[name]) for name in ("coef", "intercept", "classes"))
        try:
            params = json.loads(str(arrays["params"]))
            learner = cls(C=float(params["C"]), class_weight=params["class_weight"], max_iter=int(params["max_iter"]))
        except (ValueError, TypeError, KeyError) as error:
            raise DataError(f"the saved model's parameters are unreadable: {error}") from error
        rows = 1 if len(classes) == 2 else len(classes)
        if (classes.ndim != 1 or len(classes) < 2 or coef.ndim != 2 or coef.shape[0] != rows
                or intercept.shape != (rows,) or not coef.dtype.kind == intercept.dtype.kind == "f"):
            raise DataError(f"the saved model's arrays do not fit together: coef {coef.shape}, intercept "
                            f"{intercept.shape}, {len(classes)} classes")
        if not (np.isfinite(coef).all() and np.isfinite(intercept).all()):
            raise DataError("the saved model holds non-finite weights")
        model = LogisticRegression(C=learner.C, class_weight=learner.class_weight, max_iter=learner.max_iter)
        model.coef_, model.intercept_, model.classes_ = coef, intercept, classes
        model.n_features_in_ = coef.shape[1]
        model.n_iter_ = np.zeros(1, dtype=np.int32)
        learner.model_ = model
        return learner

    def save(self, path: str | Path) -> None:
        """Write the fitted model to ``path`` (.npz of plain arrays, atomically)."""
        arrays = self.to_arrays()
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> LogisticLearner:
        """Read a model written by :meth:`save`; object arrays (pickle) are refused, a garbled file is a DataError."""
        try:
            with np.load(path, allow_pickle=False) as arrays:
                loaded = {name: arrays[name] for name in arrays.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
            raise DataError(f"cannot read the saved model: {error}", file=str(path)) from error
        try:
            return cls.from_arrays(loaded)
        except DataError as error:
            raise DataError(str(error), file=str(path)) from error


# --- registry: learners by name, each declaring whether it reads embeddings or texts --------------------------

@dataclass(frozen=True)
class LearnerSpec:
    """A registered learner: how to build one and which input it reads ("embeddings" or "texts")."""

    name: str
    input: str
    factory: Callable[..., Learner]
    description: str = ""


def _fasttext(**params) -> Learner:
    from textsel.proxy import FastTextProxy  # imported on use: fastText loads only when asked for

    return FastTextProxy(**params)


def _transformer(**params) -> Learner:
    from textsel.models.transformer import TransformerClassifier  # torch and transformers load only when asked for

    return TransformerClassifier(**params)


def _vdcnn(**params) -> Learner:
    from textsel.models.vdcnn import VDCNNClassifier

    return VDCNNClassifier(**params)


LEARNERS: dict[str, LearnerSpec] = {}
"""Name -> :class:`LearnerSpec`; add one with :func:`register_learner`."""


def register_learner(name: str, factory: Callable[..., Learner], *, input: str, description: str = "") -> LearnerSpec:
    """Add (or replace) a learner under ``name``; ``input`` says what it reads: "embeddings" or "texts"."""
    check_param("register_learner", "input", input, input in INPUTS, f"one of {INPUTS}")
    LEARNERS[name] = LearnerSpec(name, input, factory, description)
    return LEARNERS[name]


register_learner("logistic", LogisticLearner, input="embeddings",
                 description="logistic regression on the embeddings (SEALS; fast, the default)")
register_learner("fasttext", _fasttext, input="texts",
                 description="a small fastText classifier on the texts (the SVP proxy; trains in seconds)")
register_learner("transformer", _transformer, input="texts",
                 description="a fine-tuned Hugging Face transformer on the texts (the accurate, expensive target)")
register_learner("vdcnn", _vdcnn, input="texts", description="a character-level CNN on the texts (an SVP target)")


def learner_spec(name: str) -> LearnerSpec:
    """The registered learner ``name``, or ConfigError listing the names."""
    if name not in LEARNERS:
        raise ConfigError(f"The 'learner' parameter must be one of {sorted(LEARNERS)}. Got {name!r}.")
    return LEARNERS[name]


def make_learner(name: str = "logistic", *, C: float | None = None, **params) -> Learner:
    """Build a registered learner by name with its parameters (see :data:`LEARNERS`).

    ``C`` is the logistic learner's regularisation; other learners accept it only at its default (1.0), so a
    caller can pass one C whatever learner it builds. Unknown parameters raise ConfigError.
    """
    spec = learner_spec(name)
    if C is not None:
        if name == "logistic":
            params["C"] = C
        elif C != 1.0:
            raise ConfigError(f"The 'C' parameter applies only to the logistic learner, not {name!r}. Got {C!r}.")
    try:
        return spec.factory(**params)  # constructors only store their parameters: a TypeError is a bad name
    except TypeError as error:
        raise ConfigError(f"learner {name!r} does not take these parameters: {error}") from error
