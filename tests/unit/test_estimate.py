"""textsel.estimate on populations whose truth is known: exact answers in the simple cases, interval coverage near
the promised 95% when audits are drawn between biased (active) rounds, and the stopping test's error rate."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import hypergeom

from textsel.errors import ConfigError
from textsel.estimate import (
    AuditDraw,
    estimate_remaining,
    hypergeometric_pmf,
    merge_consecutive,
    remaining_at_target,
    remaining_interval,
    stopping_test,
)


def simulate_project(rng, *, size=3000, positives=90, rounds=3, active=150, audit=60, enrichment=15.0):
    """Active rounds that prefer positives, each followed by an audit; returns (draws, unlabeled, remaining, found)."""
    is_positive = np.zeros(size, dtype=bool)
    is_positive[rng.choice(size, positives, replace=False)] = True
    unlabeled = np.ones(size, dtype=bool)
    found_at: list[int] = []  # step at which each positive was labeled
    audits = []
    for step in range(rounds):
        candidates = np.flatnonzero(unlabeled)
        weights = np.where(is_positive[candidates], enrichment, 1.0)
        picked = rng.choice(candidates, active, replace=False, p=weights / weights.sum())
        unlabeled[picked] = False
        found_at += [2 * step] * int(is_positive[picked].sum())
        candidates = np.flatnonzero(unlabeled)
        drawn = rng.choice(candidates, audit, replace=False)
        audits.append((len(candidates), drawn, 2 * step + 1))
        unlabeled[drawn] = False
        found_at += [2 * step + 1] * int(is_positive[drawn].sum())
    draws = [AuditDraw(n, len(ids), int(is_positive[ids].sum()), sum(t >= at for t in found_at))
             for n, ids, at in audits]
    return draws, int(unlabeled.sum()), int((is_positive & unlabeled).sum()), len(found_at)


def test_one_audit_gives_the_exact_hypergeometric_interval():
    draw = AuditDraw(unlabeled=1000, labeled=100, positives=5, found_since=5)
    interval = remaining_interval([draw], unlabeled_now=900)
    # the positives in the 1,000 at the draw, K0 = remaining + 5; check the bounds against scipy directly
    low, high = interval.low + 5, interval.high + 5
    assert hypergeom.sf(4, 1000, low, 100) > 0.025 >= hypergeom.sf(4, 1000, low - 1, 100)
    assert hypergeom.cdf(5, 1000, high, 100) > 0.025 >= hypergeom.cdf(5, 1000, high + 1, 100)
    assert interval.estimate == pytest.approx(1000 * 5 / 100 - 5)


def test_auditing_everything_leaves_no_doubt():
    interval = remaining_interval([AuditDraw(50, 50, 3, 3)], unlabeled_now=0)
    assert (interval.low, interval.estimate, interval.high) == (0.0, 0.0, 0.0)


def test_consecutive_audits_merge_into_one_sample_but_not_across_other_labels():
    first, second = AuditDraw(1000, 40, 2, 3), AuditDraw(960, 30, 1, 1)
    assert merge_consecutive([first, second]) == [AuditDraw(1000, 70, 3, 3)]
    after_active_round = AuditDraw(900, 30, 1, 1)
    assert merge_consecutive([first, after_active_round]) == [first, after_active_round]


def test_interval_covers_the_truth_in_about_95_percent_of_projects():
    rng = np.random.default_rng(7)
    covered = []
    for _ in range(150):
        draws, unlabeled, remaining, _found = simulate_project(rng)
        interval = remaining_interval(draws, unlabeled)
        covered.append(interval.low <= remaining <= interval.high)
    assert 0.92 <= np.mean(covered) <= 1.0


def test_prevalence_and_recall_follow_the_remaining_interval():
    estimate = estimate_remaining([AuditDraw(1000, 100, 5, 5)], found=60, unlabeled_now=800, pool_size=1200)
    remaining = estimate.remaining
    assert estimate.recall.estimate == pytest.approx(60 / (60 + remaining.estimate))
    assert estimate.recall.low == pytest.approx(60 / (60 + remaining.high))
    assert estimate.prevalence.high == pytest.approx((60 + remaining.high) / 1200)
    assert (estimate.audits, estimate.audit_labeled, estimate.audit_positives) == (1, 100, 5)


def test_stopping_target_is_the_first_count_that_breaks_the_recall():
    assert remaining_at_target(95, 0.95) == 6  # 95 / (95 + 5) = 0.95 still meets the target, 95 / 101 does not
    assert remaining_at_target(90, 0.9) == 11


def test_stopping_test_stops_only_on_enough_evidence():
    # 100 found; an audit of 400 of 2,000 unlabeled texts with no positive: 6 remaining would show ~1.2 on average
    assert not stopping_test([AuditDraw(2000, 400, 0, 0)], found=100, unlabeled_now=1600).stop
    assert stopping_test([AuditDraw(2000, 1000, 0, 0)], found=100, unlabeled_now=1000).stop
    assert not stopping_test([], found=100, unlabeled_now=1000).stop
    assert stopping_test([], found=100, unlabeled_now=0).stop


def test_stopping_test_errs_no_more_often_than_its_confidence_allows():
    """95 positives found, 6 unlabeled (recall 94%): after an audit of 700 of the 1,500 unlabeled texts, the test
    may wrongly say stop (recall still below 95%) in at most ~5% of projects."""
    rng = np.random.default_rng(3)
    unlabeled, audit = 1500, 700
    population = np.zeros(unlabeled, dtype=bool)
    population[:remaining_at_target(95, 0.95)] = True
    wrong = []
    for _ in range(400):
        seen = int(population[rng.choice(unlabeled, audit, replace=False)].sum())
        found = 95 + seen
        decision = stopping_test([AuditDraw(unlabeled, audit, seen, seen)], found=found,
                                 unlabeled_now=unlabeled - audit)
        wrong.append(decision.stop and found / (95 + population.sum()) < 0.95)
    assert 0 < np.mean(wrong) <= 0.05 + 0.02


def test_inconsistent_audits_are_refused():
    with pytest.raises(ConfigError, match="draws"):
        remaining_interval([AuditDraw(100, 10, 11, 11)], unlabeled_now=90)
    with pytest.raises(ConfigError, match="confidence"):
        remaining_interval([AuditDraw(100, 10, 1, 1)], unlabeled_now=90, confidence=1.5)


@pytest.mark.parametrize(("population", "successes", "draws"), [(1000, 5, 100), (50, 50, 10), (30, 0, 30), (7, 3, 5)])
def test_hypergeometric_pmf_matches_scipy(population, successes, draws):
    expected = hypergeom.pmf(np.arange(draws + 1), population, successes, draws)
    assert np.allclose(hypergeometric_pmf(population, successes, draws), expected, atol=1e-12)
