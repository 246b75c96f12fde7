"""The round engine: train on the labels so far, score a candidate pool, pick the next batch.

The same engine serves real labeling (one ``select_batch`` per labeling session, labels from people) and
simulation (labels from an oracle column, see :mod:`textsel.simulate`). Everything is keyed by document id;
positions into the feature matrix stay inside this module. A selection is a deterministic function of the
labels, the candidate pool state and ``seed``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from textsel._prefetch import read_rows
from textsel._setops import isin, unique
from textsel.candidate_rows import CandidateRows, grows, holds_rows_of
from textsel.errors import ConfigError, DataError, PoolExhaustedError, check_param
from textsel.features import in_memory, take_rows
from textsel.learner import LogisticLearner
from textsel.strategies import get_strategy, neighbour_density

_CHUNK = 65_536


@dataclass(frozen=True)
class SelectionResult:
    """One round's selection and its costs.

    Attributes
    ----------
    ids : ndarray of int64
        Selected document ids, best first.
    scores : ndarray or None
        Their strategy scores (None for random and k-center).
    candidate_pool_size : int
        How many unlabeled documents were scored.
    unlabeled_size : int
        How many unlabeled documents the pool holds in all.
    select_seconds : float
        Candidate pool + scoring + ranking (includes ``density_seconds``).
    train_seconds : float
        Fitting the learner on the labels.
    density_seconds : float
        Part of ``select_seconds`` spent on information density of documents seen for the first time.
    candidates : ndarray of int64 or None
        Every scored candidate id (None when not kept).
    probabilities : ndarray or None
        The learner's class probabilities of ``candidates`` (rows in their order), when the strategy read them:
        e.g. to compare rankings of a proxy and a target on the same round.
    classes : ndarray or None
        The learner's classes: the columns of ``probabilities`` (None when there are no probabilities).
    """

    ids: np.ndarray
    scores: np.ndarray | None
    candidate_pool_size: int
    unlabeled_size: int
    select_seconds: float
    train_seconds: float
    density_seconds: float = 0.0
    candidates: np.ndarray | None = None
    probabilities: np.ndarray | None = None
    classes: np.ndarray | None = None

    def positive_probabilities(self, positive, ids=None) -> dict[int, float]:  # noqa: ANN001 - a label; id array
        """``{id: P(positive)}`` from the selecting model for ``ids`` (default: the selected ids) among the
        candidates; empty when the strategy read no probabilities (random, k-center) or ``positive`` is not among
        the learner's classes.

        Only the asked rows are read: the ids are found by binary search in the candidates (sorted, as every
        candidate pool returns them), so showing 20 rows of a million candidates costs 20 lookups."""
        if self.probabilities is None or self.classes is None or self.candidates is None:
            return {}
        classes = np.asarray(self.classes).tolist()
        if positive not in classes:
            return {}
        wanted = np.asarray(self.ids if ids is None else ids, dtype=np.int64).ravel()
        rows = np.minimum(np.searchsorted(self.candidates, wanted), max(len(self.candidates) - 1, 0))
        found = self.candidates[rows] == wanted if len(self.candidates) else np.zeros(len(wanted), dtype=bool)
        for at in np.flatnonzero(~found):  # candidates not in sorted order: a linear search for these few
            match = np.flatnonzero(self.candidates == wanted[at])
            if len(match):
                rows[at], found[at] = match[0], True
        column = self.probabilities[rows[found], classes.index(positive)]
        return dict(zip(wanted[found].tolist(), np.asarray(column, dtype=float).tolist(), strict=True))

    @property
    def pool_fraction(self) -> float:
        """Fraction of the unlabeled pool that was scored."""
        return self.candidate_pool_size / max(self.unlabeled_size, 1)


class NeighbourDensity:
    """Per-document information density, computed through the index once and cached by pool position.

    Density is a property of the data, not of the round, so SEALS pays only for newly seen candidates and
    the -All baseline pays once for the whole pool. One object can be shared by several engines on one pool.

    Parameters
    ----------
    index : ExactIndex or HNSWIndex
    n_neighbors : int, default=10
    """

    def __init__(self, index, n_neighbors: int = 10) -> None:
        self.index = index
        self.n_neighbors = n_neighbors
        self.values_ = np.zeros(0)

    def lookup(self, positions: np.ndarray, ids: np.ndarray, features: np.ndarray) -> np.ndarray:
        """Densities of the documents at ``positions`` (ids and features are the whole pool's)."""
        if len(self.values_) != len(ids):
            self.values_ = np.full(len(ids), np.nan)
        missing = positions[np.isnan(self.values_[positions])]
        for start in range(0, len(missing), _CHUNK):
            part = missing[start:start + _CHUNK]
            self.values_[part] = neighbour_density(self.index, features[part], ids[part], self.n_neighbors)
        return self.values_[positions]


class RoundEngine:
    """Selects batches for labeling from a pool of documents.

    Parameters
    ----------
    pool_ids : array of int64, shape (n,)
        Document ids of the unlabeled pool (test documents excluded).
    candidate_pool : AllCandidates, SEALSCandidates or RandomCandidates
    features : array, shape (n, dim), optional
        Embeddings row-aligned with ``pool_ids`` (needed by embedding learners, k-center and information-density).
    texts : list of str, optional
        Texts row-aligned with ``pool_ids`` (needed by text learners such as the fastText proxy).
    learner_features : array, CSR matrix or HybridRows, optional
        What a learner on feature rows reads instead of ``features`` (:mod:`textsel.features`: TF-IDF or hybrid
        rows); ``features`` stays the embeddings that k-center and information density read. Rows are sliced per
        round (labeled and candidates only), never the whole matrix. Defaults to ``features``.
    strategy : str, default="entropy"
        A name (or old alias) in :data:`textsel.strategies.STRATEGIES`. The engine hands the strategy exactly the
        inputs it declares (probabilities, the positive column, density, features), so it knows no names.
    learner : Learner, optional
        Defaults to ``LogisticLearner()``.
    batch_size : int, default=100
    positive_label : optional
        The rare class (for "most-likely-positive" and for binary metrics); defaults to 1/True when the labels
        are binary 0/1.
    classes : sequence, optional
        The allowed labels; any other label raises DataError.
    index : optional
        Needed by "information-density" (density through the index) unless ``density`` is given.
    density : NeighbourDensity, optional
        Shared density cache for "information-density".
    seed : int, default=0
        Seeds each round's random choices (from the seed and the number of labels, so one round is repeatable).
    rng : numpy Generator, optional
        One random stream for every round instead (e.g. SVP draws its initial subset and all rounds from one).
    fit_every_round : bool, default=True
        Fit the learner each round even when the strategy reads no model (random, k-center on embeddings), so
        it can be evaluated after the round; False fits only when the strategy needs it.
    scorer : callable, optional
        ``scorer(learner)`` returns the fitted learner's probabilities of every pool row, in pool order; used
        instead of local chunks when most of the pool is scored (the full scan), e.g. on Ray
        (:func:`textsel.score_ray.score_pool_ray`). A small candidate pool is always scored here.
    candidate_rows : CandidateRows, optional
        The float32 rows of a growing (SEALS) candidate pool held so far; by default the engine starts its own for
        such a pool, so each round reads only the rows of new candidates from ``features``.
    """

    def __init__(self, pool_ids, candidate_pool, *, features=None, texts: Sequence[str] | None = None,
                 strategy: str = "entropy", learner=None, batch_size: int = 100, positive_label=None,
                 classes: Sequence | None = None, index=None, density: NeighbourDensity | None = None,
                 seed: int = 0, rng: np.random.Generator | None = None, fit_every_round: bool = True,
                 scorer: Callable | None = None, candidate_rows: CandidateRows | None = None,
                 learner_features=None) -> None:
        self.pool_ids = pool_ids
        self.candidate_pool = candidate_pool
        self.features = features
        self.texts = texts
        self.strategy = strategy
        self.learner = learner
        self.batch_size = batch_size
        self.positive_label = positive_label
        self.classes = classes
        self.index = index
        self.density = density
        self.seed = seed
        self.rng = rng
        self.fit_every_round = fit_every_round
        self.scorer = scorer
        self.candidate_rows = candidate_rows
        self.learner_features = learner_features

    # --- setup ------------------------------------------------------------------------------------------

    def _prepare(self) -> None:
        if hasattr(self, "ids_"):
            return
        self.strategy_ = get_strategy(self.strategy)
        check_param("RoundEngine", "batch_size", self.batch_size,
                    isinstance(self.batch_size, int | np.integer) and self.batch_size >= 1, "an int >= 1")
        ids = np.asarray(self.pool_ids, dtype=np.int64)
        self._sorted = bool(len(ids) < 2 or (ids[1:] > ids[:-1]).all())  # strictly increasing, hence unique
        self._contiguous = self._sorted and len(ids) > 0 and int(ids[-1]) - int(ids[0]) == len(ids) - 1
        if not self._sorted and len(unique(ids)) != len(ids):
            raise DataError("pool ids must be unique", column="id")
        self.learner_ = self.learner if self.learner is not None else LogisticLearner()
        reads_texts = getattr(self.learner_, "input", "embeddings") == "texts"
        needs = self.strategy_.needs
        # Feature vectors for k-center come from the embeddings, or from a text learner's own representation.
        learner_features = reads_texts and self.features is None and hasattr(self.learner_, "features")
        self.rows_ = self.learner_features if self.learner_features is not None else self.features
        if not reads_texts:
            self._check_aligned(self.rows_, "learner_features" if self.learner_features is not None else "features",
                                len(ids))
        if "density" in needs or ("features" in needs and not learner_features):
            self._check_aligned(self.features, "features", len(ids))
        if reads_texts:
            self._check_aligned(self.texts, "texts", len(ids))
        if "density" in needs and self.density is None:
            if self.index is None:
                raise ConfigError(f"The {self.strategy_.name!r} strategy needs an index (or a NeighbourDensity) to "
                                  f"compute density.")
            self.density = NeighbourDensity(self.index)
        self._learner_features = learner_features and bool({"features", "labeled_features"} & needs)
        self._order = None if self._sorted else np.argsort(ids, kind="stable")
        if (self.candidate_rows is None and not reads_texts and self.learner_features is None  # dense rows only
                and grows(self.candidate_pool)):
            self.candidate_rows = CandidateRows()
        self.ids_ = ids

    @staticmethod
    def _check_aligned(values, name: str, n: int) -> None:
        if values is None:
            raise ConfigError(f"RoundEngine needs '{name}' row-aligned with pool_ids for this learner/strategy.")
        rows = values.shape[0] if hasattr(values, "shape") else len(values)  # sparse matrices have no len()
        if rows != n:
            raise DataError(f"'{name}' has {rows} rows but the pool has {n} ids")

    def positions(self, ids: np.ndarray) -> np.ndarray:
        """Row positions of document ids in the pool; unknown ids raise DataError."""
        self._prepare()
        ids = np.asarray(ids, dtype=np.int64)
        if self._contiguous:  # ids first..first+n-1, as a project numbers its texts: arithmetic, no search
            found = ids - self.ids_[0]
            bad = (found < 0) | (found >= len(self.ids_))
        elif not len(self.ids_):
            found, bad = np.zeros(len(ids), dtype=np.int64), np.ones(len(ids), dtype=bool)
        else:
            if self._sorted:
                found = np.minimum(np.searchsorted(self.ids_, ids), len(self.ids_) - 1)
            else:
                sorted_at = np.minimum(np.searchsorted(self.ids_, ids, sorter=self._order), len(self.ids_) - 1)
                found = self._order[sorted_at]
            bad = self.ids_[found] != ids
        if bad.any():
            raise DataError(f"id {int(ids[bad][0])} is not in the pool ({int(bad.sum())} unknown ids)", column="id")
        return found

    # --- one round --------------------------------------------------------------------------------------

    def _inputs(self, positions: np.ndarray):
        if getattr(self.learner_, "input", "embeddings") == "texts":
            return [self.texts[i] for i in positions]
        return take_rows(self.rows_, positions)

    def predict_proba(self, positions: np.ndarray) -> np.ndarray:
        """The fitted learner's probabilities for pool rows, in chunks (features may be a float16 memmap).

        When most of the pool is asked for (the -All baselines), contiguous slices of an array are scored and the
        rows picked afterwards: no gathered copy of the feature matrix. Features embedded on demand (not an array,
        see :class:`textsel.static.EmbeddedOnDemand`) are read only at ``positions``, never whole.
        """
        if self.scorer is not None and len(positions) > len(self.ids_) // 2:
            return np.asarray(self.scorer(self.learner_))[positions]
        texts = getattr(self.learner_, "input", "embeddings") == "texts"
        if (not texts and self.candidate_rows is not None and len(positions) <= len(self.ids_) // 2
                and holds_rows_of(self.learner_features)):
            ids = self.ids_[positions]  # a growing pool: read only the rows of new candidates, once
            self.candidate_rows.extend(ids, positions, self.rows_)
            return self.candidate_rows.predict_proba(self.learner_, ids)
        if not texts and in_memory(self.rows_) and len(positions) > len(self.ids_) // 2:
            parts = [self.learner_.predict_proba(take_rows(self.rows_, slice(start, start + _CHUNK)))
                     for start in range(0, len(self.ids_), _CHUNK)]
            return np.vstack(parts)[positions]
        parts = [self.learner_.predict_proba(self._inputs(positions[start:start + _CHUNK]))
                 for start in range(0, len(positions), _CHUNK)]
        return np.vstack(parts) if parts else np.zeros((0, len(self.learner_.classes_)))

    def _positive_column(self) -> int | None:
        classes = list(np.asarray(self.learner_.classes_).tolist())
        positive = self.positive_label
        if positive is None and len(classes) == 2 and set(classes) <= {0, 1}:
            positive = 1
        if positive is None:
            if "positive_column" in self.strategy_.needs:
                raise ConfigError(f"The {self.strategy_.name!r} strategy needs 'positive_label' (which class to "
                                  f"search for).")
            return None
        if positive not in classes:
            raise DataError(f"positive label {positive!r} is not among the labeled classes {classes}")
        return classes.index(positive)

    def _feature_rows(self, positions: np.ndarray) -> np.ndarray:
        """Feature vectors of pool rows: the embeddings, or the fitted text learner's representation."""
        if self._learner_features:
            return np.asarray(self.learner_.features([self.texts[i] for i in positions]), dtype=np.float32)
        return np.asarray(read_rows(self.features, positions), dtype=np.float32)

    def _strategy_inputs(self, positions: np.ndarray, labeled_positions: np.ndarray,
                         n_labels: int) -> tuple[dict, float]:
        """Exactly the inputs the strategy declares it needs (plus a seeded ``rng``), and the density seconds."""
        rng = self.rng if self.rng is not None else np.random.default_rng([int(self.seed), n_labels])
        needs, inputs = self.strategy_.needs, {"rng": rng}
        if "probabilities" in needs:
            inputs["probabilities"] = self.predict_proba(positions)
        if "positive_column" in needs:
            inputs["positive_column"] = self._positive_column()
        if "features" in needs:
            inputs["features"] = self._feature_rows(positions)
        if "labeled_features" in needs:
            inputs["labeled_features"] = self._feature_rows(labeled_positions)
        density_seconds = 0.0
        if "density" in needs:
            density_start = time.perf_counter()
            inputs["density"] = self.density.lookup(positions, self.ids_, self.features)
            density_seconds = time.perf_counter() - density_start
        return inputs, density_seconds

    def _check_labels(self, labels: Mapping) -> tuple[np.ndarray, np.ndarray]:
        labeled_ids = np.fromiter(labels.keys(), dtype=np.int64, count=len(labels))
        values = np.asarray(list(labels.values()))
        if self.classes is not None and len(values):
            allowed = np.asarray(list(self.classes))
            bad = ~isin(values, allowed)
            if bad.any():
                raise DataError(f"label {values[bad][0].item()!r} of id {int(labeled_ids[bad][0])} is not one of the "
                                f"allowed labels {allowed.tolist()}", column="label")
        return labeled_ids, values

    def fit(self, labels: Mapping) -> float:
        """Train the learner on ``{id: label}``; return the seconds it took."""
        self._prepare()
        labeled_ids, values = self._check_labels(labels)
        start = time.perf_counter()
        labeled_positions = self.positions(labeled_ids)
        background = int(getattr(self.learner_, "background_rows", 0) or 0)
        if background:  # e.g. RelevanceFeedbackLearner: random unlabeled rows, its pseudo-negatives
            rows = self._background_positions(labeled_positions, background, len(labels))
            self.learner_.fit(self._inputs(labeled_positions), values, background=self._inputs(rows),
                              positive=self.positive_label)
            return time.perf_counter() - start
        # Each learner checks its labels: logistic regression needs two classes, SVP's text learners train on one.
        self.learner_.fit(self._inputs(labeled_positions), values)
        return time.perf_counter() - start

    def _background_positions(self, labeled_positions: np.ndarray, count: int, n_labels: int) -> np.ndarray:
        """``count`` random unlabeled pool rows (fewer when fewer are left), sorted, seeded like the round."""
        rng = self.rng if self.rng is not None else np.random.default_rng([int(self.seed), n_labels, 1])
        draw = rng.choice(len(self.ids_), min(len(self.ids_), count + len(labeled_positions)), replace=False)
        return np.sort(draw[~isin(draw, labeled_positions)][:count])

    def select_batch(self, labels: Mapping) -> SelectionResult:
        """Train on ``labels`` ({id: label}), score the candidate pool, return the next batch."""
        self._prepare()
        labeled_ids, values = self._check_labels(labels)
        labeled_positions = self.positions(labeled_ids)
        train_seconds = 0.0
        trained = self.strategy_.needs_model or self._learner_features or (
            self.fit_every_round and len(unique(values)) >= 2)
        if trained:
            train_seconds = self.fit(labels)
        start = time.perf_counter()
        candidates = np.asarray(self.candidate_pool.candidates(self.ids_, labeled_ids), dtype=np.int64)
        unlabeled = len(self.ids_) - len(unique(labeled_positions))
        if not len(candidates) and not len(labeled_ids):
            raise PoolExhaustedError("the candidate pool is empty because nothing is labeled yet; label a seed "
                                     "(e.g. 5 positives + 95 negatives) or use the 'all' or 'random' pool.")
        if not len(candidates):
            raise PoolExhaustedError(
                f"no unlabeled candidates are left ({unlabeled} unlabeled documents in the pool, "
                f"{len(labeled_ids)} labeled); use a larger k or the 'all' candidate pool.")
        positions = self.positions(candidates)
        inputs, density_seconds = self._strategy_inputs(positions, labeled_positions, len(labels))
        selected, scores = self.strategy_(candidates, int(self.batch_size), **inputs)
        return SelectionResult(ids=np.asarray(selected, dtype=np.int64), scores=scores,
                               candidate_pool_size=len(candidates), unlabeled_size=unlabeled,
                               select_seconds=time.perf_counter() - start, train_seconds=train_seconds,
                               density_seconds=density_seconds, candidates=candidates,
                               probabilities=inputs.get("probabilities"),
                               classes=np.asarray(self.learner_.classes_) if "probabilities" in inputs else None)


def select_batch(pool_ids, features, labels: Mapping, candidate_pool, strategy: str = "entropy", learner=None,
                 batch_size: int = 100, seed: int = 0, *, texts: Sequence[str] | None = None,
                 positive_label=None, classes: Sequence | None = None, index=None,
                 scorer: Callable | None = None, candidate_rows: CandidateRows | None = None,
                 learner_features=None) -> SelectionResult:
    """One round, as a function: train on ``labels`` and return the next batch of ``batch_size`` ids.

    For a labeling session that runs one round per process: replaying every label into a fresh
    ``SEALSCandidates`` rebuilds the same pool, so results match a long-running engine; ``candidate_rows``
    restored from the last round (see :mod:`textsel.candidate_rows`) spare it reading their rows again.
    """
    engine = RoundEngine(pool_ids, candidate_pool, features=features, texts=texts, strategy=strategy,
                         learner=learner, batch_size=batch_size, positive_label=positive_label, classes=classes,
                         index=index, seed=seed, scorer=scorer, candidate_rows=candidate_rows,
                         learner_features=learner_features)
    return engine.select_batch(labels)


GOAL_STRATEGIES = {
    "find-all": ("most-likely-positive",
                 "the goal is to find (nearly) every positive, so each round shows the texts most likely positive "
                 "(relevance feedback, as screening tools do): on the screening benchmark and on rare tweets it found "
                 "far more positives per label than uncertainty sampling"),
    "train-classifier": ("entropy",
                         "the goal is a classifier, so each round shows the texts the model is least sure of "
                         "(uncertainty sampling): labels near the decision boundary teach it most"),
}
"""Goal -> (default strategy, why). The goal is recorded in the project (``[rounds] goal``)."""


GOAL_BATCH = {"find-all": 10, "train-classifier": 20}
"""Goal -> the default batch of a round: find-all retrains more often (batch 10 beat 20 on the screening reviews,
``benchmarks/screening_tune.py``); a classifier's labels come in batches of 20."""


def batch_for_goal(goal: str, requested: int | None = None) -> int:
    """The batch size of a round: ``requested`` when given, else the goal's (:data:`GOAL_BATCH`)."""
    check_param("batch_for_goal", "goal", goal, goal in GOAL_BATCH, f"one of {sorted(GOAL_BATCH)}")
    return GOAL_BATCH[goal] if requested is None else requested


def learner_for_goal(goal: str, features: str, requested: str | None = None) -> str:
    """The learner a round uses: ``requested`` when given; for the find-all goal on hybrid features the
    relevance-feedback learner (:class:`textsel.learner.RelevanceFeedbackLearner`, measured against ASReview by
    ``benchmarks/screening_tune.py``); otherwise logistic regression on the project's features."""
    check_param("learner_for_goal", "goal", goal, goal in GOAL_STRATEGIES, f"one of {sorted(GOAL_STRATEGIES)}")
    if requested is not None:
        return requested
    return "relevance-feedback" if goal == "find-all" and features == "hybrid" else "logistic"


def strategy_for_goal(goal: str, requested: str | None = None) -> tuple[str, str]:
    """The strategy a round uses and why: ``requested`` when given, else the goal's default (:data:`GOAL_STRATEGIES`).

    Returns the canonical strategy name and a sentence for the user.
    """
    check_param("strategy_for_goal", "goal", goal, goal in GOAL_STRATEGIES, f"one of {sorted(GOAL_STRATEGIES)}")
    if requested is not None:
        name = get_strategy(requested).name
        default = GOAL_STRATEGIES[goal][0]
        note = "" if name == default else f" (the goal {goal!r} would use {default})"
        return name, f"requested{note}"
    return GOAL_STRATEGIES[goal]
