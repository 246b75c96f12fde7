"""How many positives are left? Prevalence, positives remaining, recall and a stopping rule from audit samples.

Actively selected labels say nothing unbiased about the texts nobody selected, so every figure here comes from
**audit samples**: batches drawn uniformly at random from the texts still unlabeled at the moment of the draw.

The estimator. Audit ``i`` was drawn from ``N_i`` unlabeled texts, of which ``K_i`` were positive (unknown). Of
its texts, ``n_i`` are labeled now, ``x_i`` of them positive. Since the draw, ``F_i`` positives that were
unlabeled then have been labeled (the audit's own positives, those found by later rounds and later audits). Labels
only ever leave the unlabeled set, so the positives still unlabeled now are exactly ``K = K_i - F_i`` for every
``i``: each audit, however old, speaks about the same unknown ``K``. Given the past at its draw, ``x_i`` follows a
hypergeometric distribution with population ``N_i``, ``K + F_i`` successes and ``n_i`` draws. Audits drawn
one after another with nothing else labeled in between are merged first: together they are one simple random
sample of the earlier unlabeled set (this is Callaghan & Mueller-Hansen's sample of the unscreened remainder).

- Point estimate: the method-of-moments solution of ``sum x_i = sum n_i (K + F_i) / N_i``.
- 95% interval: the exact (Clopper-Pearson style) inversion of the distribution of ``X = sum x_i``, the
  convolution of the audits' hypergeometric distributions; ``X`` grows stochastically with ``K``, so each bound
  is found by bisection.
- Prevalence ``(found + K) / pool`` and recall ``found / (found + K)`` take the interval of ``K`` through these
  monotone maps, where ``found`` counts every labeled positive.
- Stopping rule (Callaghan & Mueller-Hansen 2020, "Statistical stopping criteria for automated screening in
  systematic reviews"): recall is below the target ``r`` exactly when ``K >= K_r``, the smallest ``K`` with
  ``found / (found + K) < r``. The rule says stop when ``P(X <= x_observed | K = K_r) < 1 - confidence``; the
  hypergeometric tail is monotone in ``K``, so this rejects every ``K >= K_r`` at once.

- The conservative figures ``textsel status`` leads with (``textsel.certificate``): ``upper_bound`` (one-sided, the
  same inversion; the stopping test stops exactly when ``K_r`` exceeds it), ``certified_recall``, the floor of any
  sample-based certificate (``audit_floor``: about ``N ln(1/alpha) / K_r`` all-negative uniform audit labels) and
  ``more_audit_labels``, the all-negative uniform audit labels that would make the test stop.

Assumptions: labels are correct; the labeled part of an audit is a random part of it (texts skipped for reasons
unrelated to their class); treating audits separated by active rounds as independent given ``F_i`` is an
approximation that ``benchmarks/stopping.py`` and the unit tests check by simulation. An old audit, drawn when
many positives were still unlabeled, stays valid but adds noise; audits drawn close together near the end are
what make the rule stop.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from textsel.errors import check_param

DEFAULT_CONFIDENCE = 0.95
DEFAULT_TARGET_RECALL = 0.95


@dataclass(frozen=True)
class AuditDraw:
    """One audit sample, as the estimator needs it.

    Attributes
    ----------
    unlabeled : int
        ``N_i``: how many texts were unlabeled when the audit was drawn (the population it was drawn from).
    labeled : int
        ``n_i``: how many of the audit's texts are labeled now.
    positives : int
        ``x_i``: how many of those are positive.
    found_since : int
        ``F_i``: positives labeled since the draw among texts that were unlabeled then (the audit's own included).
    """

    unlabeled: int
    labeled: int
    positives: int
    found_since: int


@dataclass(frozen=True)
class Interval:
    """A point estimate with its two-sided interval."""

    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class RemainingEstimate:
    """What the audit samples say about the positives still unlabeled, the prevalence and the recall so far."""

    remaining: Interval
    prevalence: Interval
    recall: Interval
    found: int
    unlabeled: int
    pool_size: int
    audits: int
    audit_labeled: int
    audit_positives: int
    confidence: float


@dataclass(frozen=True)
class StoppingDecision:
    """The hypergeometric stopping test for a target recall."""

    stop: bool
    p_value: float
    target_recall: float
    confidence: float
    remaining_if_below: int  # K_r: the fewest positives still unlabeled that would put recall below the target


def merge_consecutive(draws: Sequence[AuditDraw]) -> list[AuditDraw]:
    """Merge audits drawn one after another with nothing else labeled in between into one random sample.

    Audit ``j + 1`` directly follows audit ``j`` when the unlabeled set shrank by exactly audit ``j``'s labeled
    texts and the only positives found in between are audit ``j``'s; their union is then one simple random sample
    (without replacement) of the unlabeled set audit ``j`` was drawn from.
    """
    merged: list[AuditDraw] = []
    for draw in draws:
        if merged:
            last = merged[-1]
            direct = (last.unlabeled - draw.unlabeled == last.labeled
                      and last.found_since - draw.found_since == last.positives)
            if direct:
                merged[-1] = AuditDraw(last.unlabeled, last.labeled + draw.labeled,
                                       last.positives + draw.positives, last.found_since)
                continue
        merged.append(draw)
    return merged


def log_choose(n: np.ndarray | int, k: np.ndarray) -> np.ndarray:
    """log(n choose k) through log-gamma, elementwise."""
    from scipy.special import gammaln

    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def hypergeometric_pmf(population: int, successes: int, draws: int) -> np.ndarray:
    """P(x successes in ``draws`` without replacement) for x = 0..draws (scipy.stats.hypergeom.pmf, vectorised
    through log-gamma: the bisections below call it thousands of times)."""
    x = np.arange(draws + 1)
    possible = (x <= successes) & (draws - x <= population - successes)
    pmf = np.zeros(draws + 1)
    x = x[possible]
    pmf[possible] = np.exp(log_choose(successes, x) + log_choose(population - successes, draws - x)
                           - log_choose(population, np.asarray(draws)))
    return pmf


def _sum_pmf(draws: Sequence[AuditDraw], remaining: int) -> np.ndarray:
    """Distribution of ``X = sum x_i`` when ``remaining`` positives are unlabeled now (index = value of X)."""
    pmf = np.ones(1)
    for draw in draws:
        successes = min(remaining + draw.found_since, draw.unlabeled)
        pmf = np.convolve(pmf, hypergeometric_pmf(draw.unlabeled, successes, draw.labeled))
    return pmf


def _cdf_at_most(draws: Sequence[AuditDraw], remaining: int, observed: int) -> float:
    return float(min(1.0, _sum_pmf(draws, remaining)[: observed + 1].sum()))


def _cdf_at_least(draws: Sequence[AuditDraw], remaining: int, observed: int) -> float:
    return float(min(1.0, _sum_pmf(draws, remaining)[observed:].sum()))


def _largest(predicate, low: int, high: int) -> int:
    """Largest integer in [low, high] where a predicate that is true then false holds (low if none)."""
    while low < high:
        middle = (low + high + 1) // 2
        if predicate(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _check_draws(draws: Sequence[AuditDraw], unlabeled_now: int) -> list[AuditDraw]:
    check_param("estimate_remaining", "draws", draws, len(draws) >= 1, "at least one audit sample")
    for draw in draws:
        consistent = (0 <= draw.positives <= draw.labeled <= draw.unlabeled and draw.found_since >= draw.positives
                      and draw.unlabeled >= unlabeled_now)
        check_param("estimate_remaining", "draws", draw, consistent,
                    "audits with 0 <= positives <= labeled <= unlabeled, found_since >= positives, and no fewer "
                    "unlabeled texts at the draw than now")
    return merge_consecutive([draw for draw in draws if draw.labeled > 0])


def _max_remaining(draws: Sequence[AuditDraw], unlabeled_now: int) -> int:
    """The most positives that can be unlabeled now, given what each audit saw."""
    bound = unlabeled_now
    for draw in draws:
        negatives_seen = draw.labeled - draw.positives
        bound = min(bound, draw.unlabeled - negatives_seen - draw.found_since)
    return max(bound, 0)


def remaining_interval(draws: Sequence[AuditDraw], unlabeled_now: int,
                       confidence: float = DEFAULT_CONFIDENCE) -> Interval:
    """Positives still unlabeled now: moment estimate and exact two-sided interval from the audit samples."""
    check_param("remaining_interval", "confidence", confidence, 0.0 < confidence < 1.0, "a number in (0, 1)")
    draws = _check_draws(draws, unlabeled_now)
    top = _max_remaining(draws, unlabeled_now)
    if not draws:  # audits drawn but none of their texts labeled yet
        return Interval(math.nan, 0.0, float(top))
    observed = sum(draw.positives for draw in draws)
    weight = sum(draw.labeled / draw.unlabeled for draw in draws)
    offset = sum(draw.labeled * draw.found_since / draw.unlabeled for draw in draws)
    estimate = min(max((observed - offset) / weight, 0.0), float(top))
    tail = (1.0 - confidence) / 2
    # low: the smallest K under which X >= observed is not too unlikely; high: the largest K under which X <= observed
    # is not too unlikely.
    low = 0 if observed == 0 else _largest(lambda k: _cdf_at_least(draws, k, observed) <= tail, -1, top) + 1
    high = _largest(lambda k: _cdf_at_most(draws, k, observed) > tail, 0, top)
    return Interval(estimate, float(min(low, high)), float(high))


def estimate_remaining(draws: Sequence[AuditDraw], *, found: int, unlabeled_now: int, pool_size: int,
                       confidence: float = DEFAULT_CONFIDENCE) -> RemainingEstimate:
    """Positives remaining, prevalence and recall of the ``found`` labeled positives, each with an interval."""
    remaining = remaining_interval(draws, unlabeled_now, confidence)

    def recall(k: float) -> float:
        return found / (found + k) if found + k > 0 else 1.0

    prevalence = Interval(*((found + k) / max(pool_size, 1) for k in (remaining.estimate, remaining.low,
                                                                       remaining.high)))
    labeled = [draw for draw in draws if draw.labeled > 0]
    return RemainingEstimate(
        remaining=remaining, prevalence=prevalence,
        recall=Interval(recall(remaining.estimate), recall(remaining.high), recall(remaining.low)),
        found=found, unlabeled=unlabeled_now, pool_size=pool_size, audits=len(labeled),
        audit_labeled=sum(d.labeled for d in labeled), audit_positives=sum(d.positives for d in labeled),
        confidence=confidence)


def remaining_at_target(found: int, target_recall: float) -> int:
    """K_r: the fewest unlabeled positives that would put the recall of ``found`` below ``target_recall``."""
    return math.floor(found * (1.0 - target_recall) / target_recall + 1e-9) + 1


def stopping_test(draws: Sequence[AuditDraw], *, found: int, unlabeled_now: int,
                  target_recall: float = DEFAULT_TARGET_RECALL,
                  confidence: float = DEFAULT_CONFIDENCE) -> StoppingDecision:
    """Callaghan & Mueller-Hansen's hypergeometric test: may labeling stop with recall >= ``target_recall``?"""
    check_param("stopping_test", "target_recall", target_recall, 0.0 < target_recall < 1.0, "a number in (0, 1)")
    check_param("stopping_test", "confidence", confidence, 0.0 < confidence < 1.0, "a number in (0, 1)")
    threshold = remaining_at_target(found, target_recall)
    if unlabeled_now == 0:
        return StoppingDecision(True, 0.0, target_recall, confidence, threshold)
    draws = _check_draws(draws, unlabeled_now) if draws else []
    if threshold > _max_remaining(draws, unlabeled_now):  # too few unlabeled texts left to fall short
        return StoppingDecision(True, 0.0, target_recall, confidence, threshold)
    if not draws:
        return StoppingDecision(False, 1.0, target_recall, confidence, threshold)
    p_value = _cdf_at_most(draws, threshold, sum(draw.positives for draw in draws))
    return StoppingDecision(p_value < 1.0 - confidence, p_value, target_recall, confidence, threshold)


# -- the conservative figures: a one-sided bound, the certified recall, the floor and the audits still needed -----


def upper_bound(draws: Sequence[AuditDraw], unlabeled_now: int, confidence: float = DEFAULT_CONFIDENCE) -> int:
    """At most this many positives are still unlabeled, at one-sided ``confidence``: the largest ``K`` under which
    the audits' ``X <= observed`` is not too unlikely. The stopping test stops exactly when ``K_r`` exceeds it."""
    check_param("upper_bound", "confidence", confidence, 0.0 < confidence < 1.0, "a number in (0, 1)")
    if unlabeled_now == 0:
        return 0
    draws = _check_draws(draws, unlabeled_now) if draws else []
    top = _max_remaining(draws, unlabeled_now)
    if not draws:
        return top
    observed = sum(draw.positives for draw in draws)
    return _largest(lambda k: _cdf_at_most(draws, k, observed) >= 1.0 - confidence, 0, top)


def certified_recall(found: int, remaining_at_most: float) -> float:
    """The recall of ``found`` positives when at most ``remaining_at_most`` are still unlabeled."""
    return found / (found + remaining_at_most) if found + remaining_at_most > 0 else 1.0


@dataclass(frozen=True)
class AuditFloor:
    """The fewest audit labels any sample-based certificate needs, when every audited text is negative.

    To show that fewer than ``remaining_if_below`` (``R = K_r``) positives are left among ``unlabeled`` (``N``)
    texts, a uniform sample of ``n`` texts must miss all of ``R`` with probability below ``alpha``:
    ``P(0 | N, R, n) < alpha``, about ``N ln(1/alpha) / R`` texts (``approximate``; ``exact`` solves the
    hypergeometric inequality). No design with known inclusion probabilities does better in the worst case: the
    ``R`` positives may sit where the inclusion probabilities are smallest, and ``sum(pi)`` over them must reach
    about ``ln(1/alpha)``. At 95% recall and 95% confidence this is about ``60 / prevalence``, whatever ``N``.
    """

    unlabeled: int
    remaining_if_below: int
    alpha: float
    approximate: float
    exact: int


def audit_floor(unlabeled: int, found: int, *, target_recall: float = DEFAULT_TARGET_RECALL,
                confidence: float = DEFAULT_CONFIDENCE) -> AuditFloor:
    """The floor of a certificate that ``found`` positives are ``target_recall`` of them, over ``unlabeled``."""
    check_param("audit_floor", "unlabeled", unlabeled, unlabeled >= 0, "an int >= 0")
    check_param("audit_floor", "found", found, found >= 0, "an int >= 0")
    alpha = 1.0 - confidence
    threshold = remaining_at_target(found, target_recall)
    if threshold > unlabeled:
        return AuditFloor(unlabeled, threshold, alpha, 0.0, 0)
    approximate = unlabeled * math.log(1.0 / alpha) / threshold
    # log P(0 | N, R, n) = sum_{i < n} log(1 - R / (N - i)), decreasing in n
    with np.errstate(divide="ignore"):  # the last step is log(0): the sample then holds every text but R - 1
        steps = np.log1p(-threshold / (unlabeled - np.arange(unlabeled - threshold + 1, dtype=np.float64)))
    below = np.flatnonzero(np.cumsum(steps) < math.log(alpha) - 1e-12)  # a tie is not below
    return AuditFloor(unlabeled, threshold, alpha, approximate, int(below[0]) + 1 if len(below) else unlabeled)


def more_audit_labels(draws: Sequence[AuditDraw], *, found: int, unlabeled_now: int,
                      target_recall: float = DEFAULT_TARGET_RECALL,
                      confidence: float = DEFAULT_CONFIDENCE) -> int:
    """About how many more uniform audit labels, all negative, would make the stopping test stop (0: it stops)."""
    def stops(extra: int) -> bool:
        added = [*draws, AuditDraw(unlabeled_now, extra, 0, 0)] if extra else list(draws)
        return stopping_test(added, found=found, unlabeled_now=unlabeled_now - extra, target_recall=target_recall,
                             confidence=confidence).stop

    if stops(0):
        return 0
    low, high = 0, unlabeled_now  # stops(high): every text labeled
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if stops(middle) else (middle, high)
    return high
