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
from textsel._setops import unique
from textsel.errors import ConfigError, DataError, NotFittedError, TooFewClassesError, check_param
from textsel.features import is_sparse

INPUTS = ("embeddings", "texts")
_SINGLE_THREAD_MAX_VALUES = 5_000_000  # training sets up to ~13k x 384 fit on one BLAS thread
_NEWTON_MAX_ROWS = 50_000  # beyond this, each Newton step's n x d^2 Hessian costs more than lbfgs's iterations


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
    classes = unique(labels)
    if len(classes) < 2:
        found = repr(classes[0].item()) if len(classes) else "none"
        raise TooFewClassesError(f"training needs labels of at least two classes; got {len(labels)} labels, all of "
                                 f"class {found}. Label at least one example of another class (e.g. a negative).")
    return labels


class LogisticLearner:
    """L2-regularised logistic regression on embeddings: the SEALS paper's classifier.

    Two classes are fitted with Newton's method in numpy (:func:`_binary_newton`): on a few thousand labeled
    rows of dimension 384 it converges in under ten steps, each a (d+1)x(d+1) solve, and needs no import of
    scikit-learn (whose import alone took 1.4-1.7 s of a 1M-document ``textsel next``). It minimises the same
    objective as scikit-learn's ``LogisticRegression`` (sample-weighted log-loss + ||w||^2 / 2C, intercept not
    penalised), so it finds the same model. More than two classes, or more than 50,000 labeled rows, use
    scikit-learn's lbfgs (multinomial), imported only then.

    Parameters
    ----------
    C : float, default=1.0
        Inverse regularisation strength.
    class_weight : "balanced" or None, default="balanced"
        Reweights classes inversely to their frequency, so 5 positives are not drowned by 95 negatives.
    max_iter : int, default=1000
        Most solver iterations (Newton steps for two classes, lbfgs iterations otherwise).
    """

    input = "embeddings"

    def __init__(self, C: float = 1.0, class_weight: str | None = "balanced", max_iter: int = 1000) -> None:
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter

    def fit(self, features: np.ndarray, labels) -> LogisticLearner:
        """Train on feature rows (dense embeddings, or sparse lexical/hybrid rows) and their labels.

        Sparse rows (:mod:`textsel.features`: TF-IDF, hybrid) have far more columns than a Newton step can
        solve for, so they go to scikit-learn's liblinear, which works on sparse rows directly and minimises the
        same objective for two classes (its intercept is penalised too, weakly, as a feature of value 1).
        """
        check_param("LogisticLearner", "C", self.C, isinstance(self.C, int | float) and self.C > 0, "a float > 0")
        check_param("LogisticLearner", "class_weight", self.class_weight,
                    self.class_weight in ("balanced", None), "'balanced' or None")
        check_param("LogisticLearner", "max_iter", self.max_iter,
                    isinstance(self.max_iter, int) and self.max_iter >= 1, "an int >= 1")
        features = _as_rows(features)
        labels = check_labels(labels)
        if features.ndim != 2 or features.shape[0] != len(labels):
            raise DataError(f"expected features of shape (n, dim) with n == {len(labels)} labels; "
                            f"got shape {features.shape}")
        classes, encoded = np.unique(labels, return_inverse=True)
        counts = np.bincount(encoded)
        weights = (len(labels) / (len(classes) * counts))[encoded] if self.class_weight == "balanced" \
            else np.ones(len(labels))
        if is_sparse(features):
            coef, intercept = self._fit_sparse(features, labels)
        elif len(classes) == 2 and len(labels) <= _NEWTON_MAX_ROWS:
            coef, intercept = _binary_newton(features, encoded.astype(np.float64), weights, C=float(self.C),
                                             max_iter=self.max_iter)
        else:
            coef, intercept = self._fit_lbfgs(features, labels)
        self.coef_, self.intercept_, self._classes = coef, intercept, classes
        return self

    def _fit_lbfgs(self, features: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter)
        if features.size <= _SINGLE_THREAD_MAX_VALUES:
            # On a few thousand rows, BLAS threads cost more in synchronisation than they save: 2,000 x 384
            # trained in 2.7 s with 2 OpenBLAS threads on a loaded 2-core machine, 0.06 s with one.
            with threadpool_limits(limits=1, user_api="blas"):
                model.fit(features, labels)
        else:
            model.fit(features, labels)
        return model.coef_, model.intercept_

    def _fit_sparse(self, features, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.linear_model import LogisticRegression

        solver = "liblinear" if len(np.unique(labels)) == 2 else "lbfgs"
        model = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter, solver=solver,
                                   intercept_scaling=10.0 if solver == "liblinear" else 1.0)
        with threadpool_limits(limits=1, user_api="blas"):
            model.fit(features, labels)
        return model.coef_, model.intercept_

    @property
    def classes_(self) -> np.ndarray:
        if not hasattr(self, "_classes"):
            raise NotFittedError("This LogisticLearner is not fitted yet; call fit(features, labels) first.")
        return self._classes

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities of shape (n, n_classes), columns in the order of ``classes_``."""
        classes = self.classes_
        features = _as_rows(features)
        if features.ndim != 2 or features.shape[1] != self.coef_.shape[1]:
            raise DataError(f"expected features of shape (n, {self.coef_.shape[1]}); got {features.shape}")
        logits = np.asarray(features @ self.coef_.T.astype(np.float32)) + self.intercept_.astype(np.float32)
        if len(classes) == 2:
            positive = 1.0 / (1.0 + np.exp(-np.clip(logits[:, 0], -50, 50)))
            return np.column_stack([1.0 - positive, positive])
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(self, features: np.ndarray) -> np.ndarray:
        """The most probable class of each row."""
        return self.classes_[np.argmax(self.predict_proba(features), axis=1)]

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
        return {"coef": np.asarray(self.coef_, dtype=np.float64),
                "intercept": np.asarray(self.intercept_, dtype=np.float64),
                "classes": classes, "params": np.asarray(json.dumps(params))}

    @classmethod
    def from_arrays(cls, arrays) -> LogisticLearner:  # noqa: ANN001 - a mapping of name -> array (or NpzFile)
        """Rebuild a fitted learner from :meth:`to_arrays`; inconsistent arrays raise DataError."""
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
        learner.coef_, learner.intercept_, learner._classes = coef, intercept, classes
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


class FusionLearner:
    """Two logistic models on hybrid rows, one reading the embeddings block and one the TF-IDF block, whose
    log-odds are averaged, each divided by its spread on the training rows (a fusion of a semantic and a lexical
    ranking).

    Hybrid rows (:class:`textsel.features.HybridRows`) put the embeddings in the first ``dense_dims`` columns and
    the TF-IDF after them. One logistic model on both blocks lets the larger block dominate; two models give each
    kind of evidence its own say: a review whose criterion lives in word pairs is ranked well by the lexical model,
    one whose criterion is a topic by the semantic one, and the average keeps what either finds near the top.
    """

    input = "embeddings"

    def __init__(self, dense_dims: int = 384, C: float = 1.0, class_weight: str | None = "balanced",
                 max_iter: int = 1000) -> None:
        self.dense_dims = dense_dims
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter

    def _blocks(self, features):  # noqa: ANN001, ANN202 - hybrid rows -> (dense array, CSR)
        check_param("FusionLearner", "dense_dims", self.dense_dims,
                    isinstance(self.dense_dims, int) and self.dense_dims >= 1, "an int >= 1")
        features = _as_rows(features)
        if not is_sparse(features) or features.shape[1] <= self.dense_dims:
            raise DataError(f"FusionLearner reads hybrid rows (embeddings then TF-IDF, more than {self.dense_dims} "
                            f"columns); got {type(features).__name__} of shape {features.shape}")
        features = features.tocsc()
        return features[:, :self.dense_dims].toarray(), features[:, self.dense_dims:].tocsr()

    def fit(self, features, labels) -> FusionLearner:  # noqa: ANN001 - hybrid rows
        """Fit the semantic model on the embeddings block and the lexical one on the TF-IDF block, and measure the
        spread of each one's log-odds on the training rows (a TF-IDF model's log-odds are far flatter than an
        embedding model's; without this, the sharper model would decide alone)."""
        dense, lexical = self._blocks(features)
        params = {"C": self.C, "class_weight": self.class_weight, "max_iter": self.max_iter}
        self.dense_ = LogisticLearner(**params).fit(dense, labels)
        self.lexical_ = LogisticLearner(**params).fit(lexical, labels)
        if len(self.dense_.classes_) != 2:
            raise DataError(f"FusionLearner ranks two classes; got {len(self.dense_.classes_)}")
        self.scales_ = [max(float(np.std(_log_odds(model, rows))), 1e-6)
                        for model, rows in ((self.dense_, dense), (self.lexical_, lexical))]
        return self

    @property
    def classes_(self) -> np.ndarray:
        if not hasattr(self, "dense_"):
            raise NotFittedError("FusionLearner is not fitted yet; call fit() first")
        return self.dense_.classes_

    def predict_proba(self, features) -> np.ndarray:  # noqa: ANN001 - hybrid rows
        """Probabilities from the mean of the two models' log-odds, each divided by its spread on the training
        rows; columns in the order of ``classes_``."""
        self.classes_  # noqa: B018 - raises NotFittedError before any work
        dense, lexical = self._blocks(features)
        logits = (_log_odds(self.dense_, dense) / self.scales_[0]
                  + _log_odds(self.lexical_, lexical) / self.scales_[1]) / 2.0
        positive = 1.0 / (1.0 + np.exp(-np.clip(logits, -50, 50)))
        return np.column_stack([1.0 - positive, positive])

    def predict(self, features) -> np.ndarray:  # noqa: ANN001 - hybrid rows
        """The most probable class of each row."""
        return self.classes_[np.argmax(self.predict_proba(features), axis=1)]


class SwitchLearner(FusionLearner):
    """A logistic model on one block of hybrid rows, the embeddings or the TF-IDF, chosen at every fit by which
    ranks the labeled rows better under cross-validation (ROC AUC of out-of-fold scores, ``folds`` folds).

    The two kinds of features win on different concepts (a topic the embedding captures; a kind of document that
    lives in word pairs), and which one a concept needs shows in how well each ranks the labels so far. With fewer
    than ``folds`` rows of either class, or a tie, ``default`` ("lexical" or "dense") is used.
    """

    def __init__(self, dense_dims: int = 384, C: float = 1.0, class_weight: str | None = "balanced",
                 max_iter: int = 1000, folds: int = 3, default: str = "lexical") -> None:
        super().__init__(dense_dims=dense_dims, C=C, class_weight=class_weight, max_iter=max_iter)
        self.folds = folds
        self.default = default

    def fit(self, features, labels) -> SwitchLearner:  # noqa: ANN001 - hybrid rows
        """Cross-validate a logistic model on each block, then fit the better one on every row."""
        check_param("SwitchLearner", "default", self.default, self.default in ("dense", "lexical"),
                    "'dense' or 'lexical'")
        dense, lexical = self._blocks(features)
        labels = check_labels(labels)
        blocks = {"dense": dense, "lexical": lexical}
        self.auc_ = {name: cross_validated_auc(rows, labels, self._model, folds=self.folds) for name, rows in
                     blocks.items()}
        scores = {name: auc for name, auc in self.auc_.items() if auc is not None}
        self.block_ = self.default if len(scores) < 2 or scores["dense"] == scores["lexical"] \
            else max(scores, key=scores.get)
        self.dense_ = self._model().fit(blocks[self.block_], labels)  # classes_ reads dense_
        return self

    def _model(self) -> LogisticLearner:
        return LogisticLearner(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter)

    def predict_proba(self, features) -> np.ndarray:  # noqa: ANN001 - hybrid rows
        """The chosen block's model's class probabilities, columns in the order of ``classes_``."""
        self.classes_  # noqa: B018 - raises NotFittedError before any work
        dense, lexical = self._blocks(features)
        return self.dense_.predict_proba(dense if self.block_ == "dense" else lexical)


class RelevanceFeedbackLearner(FusionLearner):
    """Relevance feedback for finding every positive (the find-all goal) on hybrid rows: a lexical model ranks
    while it keeps finding positives, and a fusion with a semantic model takes over when it stops.

    Each fit trains a logistic model on the TF-IDF block of the labeled rows plus ``background`` rows: a random
    sample of the unlabeled pool, taken as negatives (the pseudo-negatives of Cormack & Grossman's baseline model
    implementation, BMI): early on, when a handful of texts are labeled, they tell the model what an ordinary text
    looks like. While the latest ``patience`` labels hold a positive, that model's ranking is used alone, as
    ASReview's default (TF-IDF of words and word pairs) would. After ``patience`` negatives in a row it has run out
    of what words find, and the ranking becomes the sum of its log-odds and those of a logistic model on the
    embeddings block, each standardised against the background rows (a sample of the pool, so each model's scale
    says where a text stands in the pool): the late positives whose criterion a sentence embedding captures, and
    word pairs do not, surface there.

    Rows must come in the order they were labeled (the project's labels do; :class:`textsel.rounds.RoundEngine`
    keeps the order of its labels), so the negatives in a row can be counted. Measured on the screening reviews
    by ``benchmarks/screening_tune.py``.

    Parameters
    ----------
    dense_dims : int, default=384
        Columns of the embeddings block in the hybrid rows.
    C : float, default=1.0
    patience : int, default=50
        Negatives in a row after which the semantic model joins the ranking.
    background_rows : int, default=100
        Random unlabeled rows the engine passes to each fit as pseudo-negatives (BMI uses 100).
    """

    def __init__(self, dense_dims: int = 384, C: float = 1.0, class_weight: str | None = "balanced",
                 max_iter: int = 1000, patience: int = 50, background_rows: int = 100) -> None:
        super().__init__(dense_dims=dense_dims, C=C, class_weight=class_weight, max_iter=max_iter)
        self.patience = patience
        self.background_rows = background_rows

    def fit(self, features, labels, *, background=None, positive=None) -> RelevanceFeedbackLearner:  # noqa: ANN001
        """Fit on labeled hybrid rows (in label order) and ``background`` hybrid rows taken as negatives.

        ``positive`` is the class searched for; without it, the second of two classes (1 for 0/1 labels).
        """
        check_param("RelevanceFeedbackLearner", "patience", self.patience,
                    isinstance(self.patience, int) and self.patience >= 1, "an int >= 1")
        labels = check_labels(labels)
        classes = np.unique(labels)
        if len(classes) != 2:
            raise DataError(f"RelevanceFeedbackLearner ranks two classes; got {len(classes)}")
        positive = classes[1] if positive is None else positive
        if positive not in classes:
            raise DataError(f"positive label {positive!r} is not among the labeled classes {classes.tolist()}")
        negative = classes[0] if classes[1] == positive else classes[1]
        dense, lexical = self._blocks(features)
        if background is not None and background.shape[0]:
            import scipy.sparse as sp

            extra_dense, extra_lexical = self._blocks(background)
            dense, lexical = np.vstack([dense, extra_dense]), sp.vstack([lexical, extra_lexical], format="csr")
            train_labels = np.concatenate([labels, np.full(extra_dense.shape[0], negative, dtype=labels.dtype)])
        else:
            extra_dense, extra_lexical, train_labels = dense, lexical, labels
        is_positive = labels == positive
        last_positive = np.flatnonzero(is_positive)[-1] if is_positive.any() else -1
        self.negatives_in_a_row_ = int(len(labels) - 1 - last_positive)
        self.fused_ = self.negatives_in_a_row_ >= self.patience
        params = {"C": self.C, "class_weight": self.class_weight, "max_iter": self.max_iter}
        self.lexical_ = LogisticLearner(**params).fit(lexical, train_labels)
        self.dense_ = LogisticLearner(**params).fit(dense, train_labels) if self.fused_ else self.lexical_
        self.references_ = [_standardiser(_log_odds(self.lexical_, extra_lexical))]
        if self.fused_:
            self.references_.append(_standardiser(_log_odds(self.dense_, extra_dense)))
        return self

    def predict_proba(self, features) -> np.ndarray:  # noqa: ANN001 - hybrid rows
        """The lexical model's probabilities, or after ``patience`` negatives in a row those of the standardised
        sum of both models' log-odds; columns in the order of ``classes_``."""
        self.classes_  # noqa: B018 - raises NotFittedError before any work
        dense, lexical = self._blocks(features)
        if not self.fused_:
            return self.lexical_.predict_proba(lexical)
        (lex_mean, lex_scale), (dense_mean, dense_scale) = self.references_
        logits = ((_log_odds(self.lexical_, lexical) - lex_mean) / lex_scale
                  + (_log_odds(self.dense_, dense) - dense_mean) / dense_scale)
        positive = 1.0 / (1.0 + np.exp(-np.clip(logits, -50, 50)))
        return np.column_stack([1.0 - positive, positive])


def _standardiser(log_odds: np.ndarray) -> tuple[float, float]:
    """Mean and spread (at least 1e-6) of reference log-odds."""
    return float(np.mean(log_odds)), max(float(np.std(log_odds)), 1e-6)


def cross_validated_auc(rows, labels: np.ndarray, model: Callable[[], Learner], *, folds: int = 3,  # noqa: ANN001
                        seed: int = 0, evaluate: np.ndarray | None = None) -> float | None:
    """ROC AUC of out-of-fold positive-class scores of ``model()`` (the second class of ``labels`` is positive),
    measured on the rows where ``evaluate`` is true (all by default); None with fewer than ``folds`` rows of a class.
    Rows are an array or CSR (anything a learner reads)."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    if len(classes) != 2 or counts.min() < folds or folds < 2:
        return None
    scores = np.zeros(len(labels))
    for train, test in StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(np.zeros(len(labels)),
                                                                                              labels):
        scores[test] = model().fit(rows[train], labels[train]).predict_proba(rows[test])[:, 1]
    keep = np.ones(len(labels), dtype=bool) if evaluate is None else np.asarray(evaluate, dtype=bool)
    return float(roc_auc_score(labels[keep] == classes[1], scores[keep]))


def _log_odds(model: LogisticLearner, features) -> np.ndarray:  # noqa: ANN001 - array or CSR
    """A two-class logistic model's log-odds of its second class for each row."""
    return np.asarray(features @ model.coef_[0].astype(np.float32)).ravel() + float(model.intercept_[0])


def _as_rows(features):  # noqa: ANN001, ANN202 - array-like or scipy sparse -> float32 array or CSR
    """Feature rows as float32: a dense array, or CSR for sparse input (never densified)."""
    if is_sparse(features):
        return features.tocsr().astype(np.float32, copy=False)
    return np.asarray(features, dtype=np.float32)


def _binary_newton(features: np.ndarray, targets: np.ndarray, weights: np.ndarray, *, C: float, max_iter: int,
                   tolerance: float = 1e-8) -> tuple[np.ndarray, np.ndarray]:
    """Weights (1, d) and intercept (1,) minimising sum(weights * log-loss) + ||w||^2 / 2C for targets in {0, 1}.

    Newton's method on [w, b] with a backtracking line search: each step solves the (d+1)x(d+1) system of the
    Hessian X'diag(weights p(1-p))X + I/C (the intercept is not penalised; the product is taken in float32, the
    loss and gradient in float64). Stops when the largest gradient entry
    is below ``tolerance`` times the summed weights, or after ``max_iter`` steps.
    """
    rows = np.hstack([np.asarray(features, dtype=np.float64), np.ones((len(features), 1))])
    rows32 = rows.astype(np.float32)  # the Hessian product in float32: twice as fast, and only steers the step
    penalty = np.full(rows.shape[1], 1.0 / C)
    penalty[-1] = 0.0

    def loss(theta: np.ndarray) -> float:
        logits = rows @ theta
        return float(weights @ (np.logaddexp(0.0, logits) - targets * logits) + 0.5 * theta @ (penalty * theta))

    theta = np.zeros(rows.shape[1])
    current = loss(theta)
    with threadpool_limits(limits=1 if rows.size <= _SINGLE_THREAD_MAX_VALUES else None, user_api="blas"):
        for _ in range(max_iter):
            probabilities = 0.5 * (1.0 + np.tanh(0.5 * (rows @ theta)))  # the logistic function, overflow-free
            gradient = rows.T @ (weights * (probabilities - targets)) + penalty * theta
            if np.abs(gradient).max() <= tolerance * weights.sum():
                break
            curvature = weights * probabilities * (1.0 - probabilities)
            hessian = ((rows32 * curvature[:, None].astype(np.float32)).T @ rows32).astype(np.float64)
            hessian[np.diag_indices_from(hessian)] += penalty + 1e-12
            step = np.linalg.solve(hessian, gradient)
            scale = 1.0
            while scale > 1e-10:  # backtrack until the loss falls (a full step almost always does)
                candidate = theta - scale * step
                value = loss(candidate)
                if value <= current:
                    break
                scale *= 0.5
            else:
                break
            theta, previous, current = candidate, current, value
            if previous - current <= 1e-12 * max(abs(current), 1.0):
                break
    return theta[None, :-1], theta[-1:]


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
register_learner("relevance-feedback", RelevanceFeedbackLearner, input="embeddings",
                 description="relevance feedback on hybrid features: TF-IDF with pseudo-negatives, joined by the "
                             "embeddings after a run of negatives (finding every positive)")
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
