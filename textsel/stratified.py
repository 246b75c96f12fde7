"""Positives remaining from a score-stratified audit: unequal, known inclusion probabilities.

The unlabeled texts are split by the model's score into a top stratum (the highest-scored share) and the rest, and a
simple random sample is drawn in each (``textsel.audit_sampling``): a text of stratum ``h`` is audited with
probability ``pi_h = n_h / N_h``, never zero. With ``x_h`` positives among the ``n_h`` audited texts of stratum
``h``, the Horvitz-Thompson estimate of the positives unlabeled at the draw is ``sum_h x_h / pi_h`` (unbiased); the
positives still unlabeled now are that less the ``F`` positives labeled since the draw.

The upper bound is exact and needs no normal approximation: for a total ``K``, the statistic ``T = sum x_h / pi_h``
has, under each split ``(K_1, K_2)`` of ``K`` over the strata, the distribution of a weighted sum of independent
hypergeometric counts. The bound is the largest ``K`` for which the largest ``P(T <= t_observed)`` over the splits
consistent with the audit (``x_h <= K_h <= N_h - (n_h - x_h)``) is at least ``1 - confidence``; the true split is
always among them, so the bound holds at ``confidence`` whatever the scores are, and the stopping test (stop when
the bound is below ``K_r``) errs no more often than ``1 - confidence``.

What it buys, measured in ``benchmarks/stopping.py`` and ``tests/unit/test_stratified.py``: while positives are
still unlabeled and the score ranks them high, the top stratum finds them (they become found, and the estimate's
spread shrinks). It cannot lower the floor: when the audit finds nothing, the worst split puts every remaining
positive in the stratum audited least, so a certificate needs about ``N_h ln(1/alpha) / R`` texts of *that* stratum
(see ``textsel.estimate.AuditFloor``); a uniform audit is the cheapest certificate of an empty remainder.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import hypergeom

from textsel.errors import check_param
from textsel.estimate import (
    DEFAULT_CONFIDENCE,
    DEFAULT_TARGET_RECALL,
    StoppingDecision,
    log_choose,
    remaining_at_target,
)

_CHUNK = 2_000_000  # cells of the (split x top-stratum count) table evaluated at once


@dataclass(frozen=True)
class StratumSample:
    """One stratum of an audit: ``unlabeled`` texts at the draw (``N_h``), ``labeled`` audited texts labeled now
    (``n_h``), ``positives`` among them (``x_h``)."""

    unlabeled: int
    labeled: int
    positives: int

    @property
    def inclusion_probability(self) -> float:
        return self.labeled / self.unlabeled if self.unlabeled else 0.0


@dataclass(frozen=True)
class StratifiedAudit:
    """A score-stratified audit (one or two strata) and ``found_since``: positives labeled since its draw among
    texts unlabeled then, its own included."""

    strata: tuple[StratumSample, ...]
    found_since: int

    @property
    def unlabeled(self) -> int:
        return sum(stratum.unlabeled for stratum in self.strata)

    @property
    def labeled(self) -> int:
        return sum(stratum.labeled for stratum in self.strata)

    @property
    def positives(self) -> int:
        return sum(stratum.positives for stratum in self.strata)


def _check(audit: StratifiedAudit) -> None:
    check_param("stratified estimate", "audit", audit, 1 <= len(audit.strata) <= 2, "one or two strata")
    for stratum in audit.strata:
        check_param("stratified estimate", "audit", audit,
                    0 <= stratum.positives <= stratum.labeled <= stratum.unlabeled,
                    "strata with 0 <= positives <= labeled <= unlabeled")
    check_param("stratified estimate", "audit", audit, audit.found_since >= audit.positives,
                "found_since >= the audit's positives")


def horvitz_thompson(audit: StratifiedAudit) -> float:
    """Unbiased estimate of the positives unlabeled at the draw: ``sum_h x_h / pi_h`` (NaN if a stratum with texts
    has none audited: nothing is known about it)."""
    _check(audit)
    if any(stratum.unlabeled and not stratum.labeled for stratum in audit.strata):
        return math.nan
    return sum(stratum.positives / stratum.inclusion_probability for stratum in audit.strata if stratum.labeled)


def remaining_estimate(audit: StratifiedAudit) -> float:
    """Point estimate of the positives still unlabeled now (never below 0)."""
    return max(horvitz_thompson(audit) - audit.found_since, 0.0)


def _weights(audit: StratifiedAudit) -> list[float]:
    return [stratum.unlabeled / stratum.labeled if stratum.labeled else 0.0 for stratum in audit.strata]


def _hypergeometric_table(population: int, successes: np.ndarray, draws: int) -> np.ndarray:
    """P(x successes in ``draws``) for x = 0..draws (columns), one row per count of ``successes`` (log-gamma, as
    ``textsel.estimate.hypergeometric_pmf``: scipy's per-call overhead dominates in the bisections)."""
    x = np.arange(draws + 1)[None, :]
    k = np.asarray(successes, dtype=np.float64)[:, None]
    possible = (x <= k) & (draws - x <= population - k)
    with np.errstate(invalid="ignore"):
        logs = (log_choose(k, np.minimum(x, k)) + log_choose(population - k, np.minimum(draws - x, population - k))
                - log_choose(population, np.asarray(draws)))
    return np.where(possible, np.exp(np.where(possible, logs, -np.inf)), 0.0)


def _largest_tail(audit: StratifiedAudit, total: int) -> float:
    """max over the splits of ``total`` positives at the draw consistent with the audit of ``P(T <= t_observed)``."""
    strata = audit.strata
    weights = _weights(audit)
    observed = sum(w * s.positives for w, s in zip(weights, strata, strict=True)) + 1e-9
    most = [s.unlabeled - (s.labeled - s.positives) for s in strata]  # positives a stratum can hold
    if len(strata) == 1:
        (only,) = strata
        if not only.positives <= total <= most[0]:
            return 0.0
        return float(hypergeom.cdf(only.positives, only.unlabeled, total, only.labeled))
    first, second = strata
    low, high = max(first.positives, total - most[1]), min(most[0], total - second.positives)
    if low > high:
        return 0.0
    counts = np.arange(first.labeled + 1)
    best = 0.0
    step = max(1, _CHUNK // (first.labeled + second.labeled + 2))
    for start in range(low, high + 1, step):
        splits = np.arange(start, min(start + step, high + 1))
        pmf = _hypergeometric_table(first.unlabeled, splits, first.labeled)
        if weights[1]:
            room = np.floor((observed - weights[0] * counts) / weights[1]).astype(np.int64)  # x_2 allowed per x_1
            cdf = np.cumsum(_hypergeometric_table(second.unlabeled, total - splits, second.labeled), axis=1)
            tail = np.where(room >= 0, cdf[:, np.clip(room, 0, second.labeled)], 0.0)
        else:  # nothing audited in the second stratum: it adds nothing to T
            tail = np.ones_like(pmf)
        inside = weights[0] * counts <= observed
        best = max(best, float(np.max(np.sum(pmf * tail * inside, axis=1))))
    return min(best, 1.0)


def stratified_upper_bound(audit: StratifiedAudit, unlabeled_now: int,
                           confidence: float = DEFAULT_CONFIDENCE) -> int:
    """At most this many positives are still unlabeled now, at one-sided ``confidence``."""
    _check(audit)
    check_param("stratified_upper_bound", "confidence", confidence, 0.0 < confidence < 1.0, "a number in (0, 1)")
    top = min(unlabeled_now, sum(s.unlabeled - (s.labeled - s.positives) for s in audit.strata) - audit.found_since)
    top = max(top, 0)
    low, high = 0, top  # the tail falls as the total grows: every split of K + 1 has a split of K above it
    alpha = 1.0 - confidence
    if _largest_tail(audit, high + audit.found_since) >= alpha:
        return high
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if _largest_tail(audit, middle + audit.found_since) >= alpha else (low, middle)
    return low


def stratified_stopping_test(audit: StratifiedAudit, *, found: int, unlabeled_now: int,
                             target_recall: float = DEFAULT_TARGET_RECALL,
                             confidence: float = DEFAULT_CONFIDENCE) -> StoppingDecision:
    """Stop when ``K_r`` positives still unlabeled are ruled out: ``P(T <= t_observed) < 1 - confidence`` under every
    consistent split of ``K_r + F`` positives at the draw (the tail only falls for larger totals)."""
    _check(audit)
    threshold = remaining_at_target(found, target_recall)
    if unlabeled_now == 0:
        return StoppingDecision(True, 0.0, target_recall, confidence, threshold)
    p_value = _largest_tail(audit, threshold + audit.found_since)
    return StoppingDecision(p_value < 1.0 - confidence, p_value, target_recall, confidence, threshold)
