"""Selection via Proxy (Coleman et al., ICLR 2020): a cheap model picks the data an expensive target trains on.

Active learning: from a random initial subset, each round retrains the selector from scratch on the labeled texts,
scores the unlabeled pool and labels the top of the ranking. Core-set selection: the selector trains once on all
labeled data and keeps the hardest (or most representative) subset. Selection runtime is what the paper counts:
selector training + inference + ranking per round, summed over rounds. Any learner with ``fit(texts, labels)``,
``predict_proba(texts)`` and ``classes_`` can select (the fastText proxy or the target itself, the baseline);
k-center greedy also needs ``features(texts)`` and forgetting events ``correctness_by_epoch(texts, labels)``.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import spearmanr

from textsel._progress import progress_bar
from textsel.candidates import AllCandidates
from textsel.errors import ConfigError, check_param
from textsel.rounds import RoundEngine
from textsel.strategies import (
    STRATEGIES,
    entropy_scores,
    k_center_greedy,
    least_confidence_scores,
    random_selection,
    top_k,
)

UNCERTAINTY = {"least-confidence": least_confidence_scores, "entropy": entropy_scores}
ACTIVE_STRATEGIES = ("least-confidence", "entropy", "random", "k-center")  # names in textsel.strategies.STRATEGIES
CORESET_STRATEGIES = ("least-confidence", "entropy", "forgetting", "k-center", "random")  # forgetting: core-sets only


def _strategy_name(strategy: str) -> str:
    """The registry's name of ``strategy``: an alias (``kcenter``, ``maxent``) resolves through the one alias table,
    ``STRATEGIES.aliases``; a name the registry does not hold (``forgetting``) stays as given."""
    return STRATEGIES.canonical(strategy) or strategy


def resolve_size(value: int | float, pool_size: int, name: str = "size") -> int:
    """An absolute count (int >= 1) or a fraction of the pool (0 < float < 1) as a count of at least 1."""
    is_count = isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1
    is_fraction = isinstance(value, (float, np.floating)) and 0 < value < 1
    check_param("SVP", name, value, is_count or is_fraction, "an int >= 1 or a fraction 0 < f < 1 of the pool")
    return int(value) if is_count else max(1, round(float(value) * pool_size))


FLAT_SCORE_SPREAD = 0.01  # below this spread of a round's uncertainty scores the selector ranks nearly at random


@dataclass
class ActiveLearningResult:
    """What an SVP active-learning run selected, and how long selection took.

    ``order`` lists pool positions in the order they were labeled (the random initial subset first);
    ``round_ends[r]`` is how many were labeled after round r (round 0 is the initial subset), so
    ``order[:round_ends[r]]`` is the labeled set the selector saw in round r + 1. ``round_scores[r]`` holds
    the uncertainty of every pool text in round r + 1 (NaN where labeled or not scored).
    """

    order: np.ndarray
    round_ends: list[int]
    round_seconds: list[float] = field(default_factory=list)
    round_scores: list[np.ndarray] = field(default_factory=list)

    @property
    def selection_seconds(self) -> float:
        """Selector training + inference + ranking, summed over rounds."""
        return float(sum(self.round_seconds))

    def labeled(self, size: int | None = None) -> np.ndarray:
        """Positions of the first ``size`` labeled texts (all when None)."""
        return self.order[: len(self.order) if size is None else size]

    def score_spreads(self) -> list[float]:
        """Standard deviation of the uncertainty scores over the pool texts scored in each round (NaN for a round
        that scored none, e.g. random selection)."""
        spreads = []
        for scores in self.round_scores:
            scored = scores[~np.isnan(scores)]
            spreads.append(float(np.std(scored)) if len(scored) else float("nan"))
        return spreads

    def flat_rounds(self, tolerance: float = FLAT_SCORE_SPREAD) -> list[int]:
        """Rounds (1-based) whose scores hardly vary (spread below ``tolerance``): the selector gave every text
        nearly the same confidence, as an untrained model does, so its ranking is close to random.

        Measured by ``benchmarks/svp_proxy_settings.py`` (amazon_blitzer, 25% negatives, 500 random labels, 5
        seeds): fastText at the paper's 5 epochs and learning rate 0.05 gave round-1 spreads of 0.0002-0.0007, sat
        at the majority-class test error (25.5% vs 25%) and chose 24% negatives, as random choice does; at 25
        epochs and learning rate 0.5 (fastText's tutorial settings for small data) spreads of 0.118-0.142, 22.2%
        error and 50% negatives chosen.
        """
        return [round_ + 1 for round_, spread in enumerate(self.score_spreads()) if spread < tolerance]


def select_active(selector, texts: Sequence[str], labels: Sequence[Hashable], *, initial_size: int | float,
                  round_sizes: Sequence[int | float], strategy: str = "least-confidence", seed: int = 0,
                  show_progress: bool = False) -> ActiveLearningResult:
    """Run SVP active learning on a fully labeled pool, revealing labels only for selected texts.

    Parameters
    ----------
    selector : learner
        Retrained from scratch each round: the fastText proxy, or the target for the baseline.
    texts, labels : the pool and its (oracle) labels.
    initial_size : int or float
        Size of the random initial subset (count, or fraction of the pool).
    round_sizes : sequence of int or float
        Texts labeled in each later round (counts or fractions of the pool).
    strategy : {"least-confidence", "entropy", "random", "k-center"}
        Or an alias in ``textsel.strategies.STRATEGIES.aliases`` ("kcenter", "maxent").
    seed : int
        Seeds the initial subset and random selection.
    """
    strategy = _strategy_name(strategy)
    check_param("select_active", "strategy", strategy, strategy in ACTIVE_STRATEGIES, f"one of {ACTIVE_STRATEGIES}")
    labels, n = np.asarray(labels), len(texts)
    if len(labels) != n:
        raise ConfigError(f"select_active got {n} texts but {len(labels)} labels.")
    rng = np.random.default_rng(seed)
    initial = random_selection(np.arange(n), resolve_size(initial_size, n, "initial_size"), rng)
    sizes = [resolve_size(size, n, "round_sizes") for size in round_sizes]
    if len(initial) + sum(sizes) > n:
        raise ConfigError(f"The rounds ask for {len(initial) + sum(sizes)} labels but the pool has {n} texts.")
    result = ActiveLearningResult(order=np.asarray(initial, dtype=np.int64), round_ends=[len(initial)])
    with progress_bar(f"SVP active learning ({strategy})", len(sizes), show=show_progress) as advance:
        for size in sizes:
            start = time.perf_counter()
            chosen, scores = _select_round(selector, texts, labels, result.order, size, strategy, rng)
            result.round_seconds.append(time.perf_counter() - start)
            result.round_scores.append(scores)
            result.order = np.concatenate([result.order, chosen])
            result.round_ends.append(len(result.order))
            advance(1)
    return result


def _select_round(selector, texts: Sequence[str], labels: np.ndarray, labeled: np.ndarray, size: int,
                  strategy: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One round through the round engine: retrain on the labeled texts, score the rest, pick ``size``.

    Pool positions serve as document ids and every unlabeled text is a candidate. Returns (positions, pool scores).
    """
    engine = RoundEngine(np.arange(len(texts)), AllCandidates(), texts=texts, strategy=strategy, learner=selector,
                         batch_size=size, rng=rng, fit_every_round=False)
    result = engine.select_batch(dict(zip(labeled.tolist(), labels[labeled].tolist(), strict=True)))
    scores = np.full(len(texts), np.nan)
    if result.probabilities is not None:
        scores[result.candidates] = UNCERTAINTY[strategy](result.probabilities)
    return result.ids, scores


def count_forgetting_events(correct_by_epoch: np.ndarray) -> np.ndarray:
    """Forgetting events per example (Toneva et al., 2019): correct at epoch t-1, incorrect at t.

    ``correct_by_epoch`` is a boolean array (epochs, n). Examples never classified correctly count as
    forgotten infinitely often, so they rank as the hardest.
    """
    correct = np.asarray(correct_by_epoch, dtype=bool)
    if correct.ndim != 2:
        raise ConfigError(f"correct_by_epoch must be a 2-d (epochs, n) array. Got shape {correct.shape}.")
    events = (correct[:-1] & ~correct[1:]).sum(axis=0).astype(np.float64)
    events[~correct.any(axis=0)] = np.inf
    return events


@dataclass
class CoresetResult:
    """Kept pool positions (best first), the score each pool text was ranked by (None for random or
    k-center), and the selection runtime (selector training + inference + ranking)."""

    kept: np.ndarray
    scores: np.ndarray | None
    selection_seconds: float


def select_coreset(selector, texts: Sequence[str], labels: Sequence[Hashable], *, keep: int | float,
                   strategy: str = "entropy", seed: int = 0) -> CoresetResult:
    """SVP core-set selection: train the selector once on all labeled data and keep a subset.

    Uncertainty and forgetting strategies keep the highest scores (hardest examples; forgetting ties are broken
    at random), k-center greedy keeps points that cover the selector's feature space, random is the baseline.
    """
    strategy = _strategy_name(strategy)
    check_param("select_coreset", "strategy", strategy, strategy in CORESET_STRATEGIES,
                f"one of {CORESET_STRATEGIES}")
    labels, n = np.asarray(labels), len(texts)
    if len(labels) != n:
        raise ConfigError(f"select_coreset got {n} texts but {len(labels)} labels.")
    size, rng = resolve_size(keep, n, "keep"), np.random.default_rng(seed)
    start, scores = time.perf_counter(), None
    if strategy == "random":
        kept = random_selection(np.arange(n), size, rng)
    elif strategy == "forgetting":
        scores = count_forgetting_events(selector.correctness_by_epoch(texts, labels))
        kept = np.lexsort((rng.random(n), -scores))[:size]
    elif strategy == "k-center":
        kept = k_center_greedy(selector.fit(texts, labels).features(texts), size)
    else:
        scores = UNCERTAINTY[strategy](selector.fit(texts, labels).predict_proba(texts))
        kept = top_k(scores, np.arange(n), size)
    return CoresetResult(np.asarray(kept, dtype=np.int64), scores, time.perf_counter() - start)


def rank_agreement(proxy_scores: np.ndarray, target_scores: np.ndarray, k: int) -> dict[str, float]:
    """Proxy-target agreement on one pool: Spearman correlation of the scores and overlap of the top-k sets.

    Entries that are NaN in either array (labeled texts) are left out.
    """
    proxy_scores, target_scores = np.asarray(proxy_scores, float), np.asarray(target_scores, float)
    if proxy_scores.shape != target_scores.shape:
        raise ConfigError(f"rank_agreement needs scores of one shape. Got {proxy_scores.shape} and "
                          f"{target_scores.shape}.")
    both = np.flatnonzero(np.isfinite(proxy_scores) & np.isfinite(target_scores))
    if len(both) < 2:
        raise ConfigError(f"rank_agreement needs at least 2 texts scored by both models. Got {len(both)}.")
    k = min(k, len(both))
    proxy_top = top_k(proxy_scores[both], both, k)
    target_top = top_k(target_scores[both], both, k)
    rho = spearmanr(proxy_scores[both], target_scores[both]).statistic
    return {"spearman": float(rho), "top_k_overlap": len(np.intersect1d(proxy_top, target_top)) / k, "k": int(k)}


def majority_error(train_labels: Sequence[Hashable], test_labels: Sequence[Hashable]) -> float:
    """Test error of always predicting the most frequent training class: the bar a trained target must beat."""
    train_labels, test_labels = np.asarray(train_labels), np.asarray(test_labels)
    if not len(train_labels) or not len(test_labels):
        raise ConfigError("majority_error needs at least one training and one test label.")
    values, counts = np.unique(train_labels, return_counts=True)
    return float(np.mean(test_labels != values[np.argmax(counts)]))


def target_error(model, train_texts: Sequence[str], train_labels: Sequence[Hashable], test_texts: Sequence[str],
               test_labels: Sequence[Hashable]) -> dict[str, float]:
    """Train ``model`` from scratch and return its test error (fraction) and training seconds."""
    start = time.perf_counter()
    model.fit(train_texts, train_labels)
    seconds = time.perf_counter() - start
    error = float(np.mean(model.predict(test_texts) != np.asarray(test_labels)))
    return {"error": error, "train_seconds": seconds, "train_size": len(train_texts)}


def train_on_selection(target, texts: Sequence[str], labels: Sequence[Hashable], order: np.ndarray,
                       sizes: Sequence[int], test_texts: Sequence[str], test_labels: Sequence[Hashable]
                       ) -> dict[int, dict[str, float]]:
    """Train the target on the first ``size`` selected texts for each size (e.g. from a saved SVP run)."""
    labels, results = np.asarray(labels), {}
    for size in sizes:
        check_param("train_on_selection", "sizes", size, 1 <= size <= len(order), f"between 1 and {len(order)}")
        chosen = np.asarray(order[:size], dtype=np.int64)
        results[int(size)] = target_error(target, [texts[i] for i in chosen], labels[chosen], test_texts, test_labels)
    return results
