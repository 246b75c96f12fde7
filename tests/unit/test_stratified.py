"""Score-stratified audits (textsel.audit_sampling, textsel.stratified) and the certificate figures of
textsel.estimate, on synthetic pools whose truth is known: inclusion probabilities, unbiasedness, and the coverage
of the one-sided bounds by simulation (200 draws each)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import hypergeom

from textsel.audit_sampling import draw_audit
from textsel.errors import ConfigError
from textsel.estimate import AuditDraw, audit_floor, more_audit_labels, remaining_at_target, stopping_test, upper_bound
from textsel.stratified import (
    StratifiedAudit,
    StratumSample,
    horvitz_thompson,
    stratified_stopping_test,
    stratified_upper_bound,
)


def synthetic_pool(rng, size=4000, positives=40, signal=2.0):
    """Unlabeled texts with a noisy score that ranks positives higher."""
    is_positive = np.zeros(size, dtype=bool)
    is_positive[rng.choice(size, positives, replace=False)] = True
    scores = rng.normal(size=size) + signal * is_positive
    return np.arange(size), is_positive, scores


def stratified_audit(rng, ids, is_positive, scores, n):
    sample = draw_audit(rng, ids, n, design="stratified", scores=scores)
    strata = tuple(StratumSample(info["unlabeled"], info["drawn"],
                                 int(is_positive[sample.ids[sample.stratum == h]].sum()))
                   for h, info in enumerate(sample.params["strata"]))
    found = sum(stratum.positives for stratum in strata)
    return sample, StratifiedAudit(strata, found_since=found)


def test_stratified_draw_samples_the_top_scores_more_and_never_zero():
    rng = np.random.default_rng(0)
    ids, _, scores = synthetic_pool(rng)
    sample = draw_audit(rng, ids, 200, design="stratified", scores=scores)
    top, rest = sample.params["strata"]
    assert (top["unlabeled"], top["drawn"], rest["unlabeled"], rest["drawn"]) == (400, 100, 3600, 100)
    assert len(set(sample.ids.tolist())) == 200
    top_ids = set(ids[np.argsort(-scores)[:400]].tolist())
    in_top = [doc_id in top_ids for doc_id in sample.ids.tolist()]
    assert in_top == (sample.stratum == 0).tolist()
    assert set(sample.inclusion_probability.tolist()) == {100 / 400, 100 / 3600}
    uniform = draw_audit(rng, ids, 50)
    assert uniform.params["design"] == "uniform" and set(uniform.inclusion_probability.tolist()) == {50 / 4000}
    with pytest.raises(ConfigError, match="scores"):
        draw_audit(rng, ids, 50, design="stratified")
    with pytest.raises(ConfigError, match="design"):
        draw_audit(rng, ids, 50, design="importance")


def test_horvitz_thompson_is_unbiased():
    rng = np.random.default_rng(1)
    ids, is_positive, scores = synthetic_pool(rng)
    estimates = [horvitz_thompson(stratified_audit(rng, ids, is_positive, scores, 200)[1]) for _ in range(400)]
    spread = np.std(estimates) / math.sqrt(len(estimates))
    assert abs(np.mean(estimates) - is_positive.sum()) < 3 * spread


def test_stratified_bound_matches_the_exact_hypergeometric_bound_with_one_stratum():
    audit = StratifiedAudit((StratumSample(1000, 100, 5),), found_since=5)
    bound = stratified_upper_bound(audit, unlabeled_now=900)
    assert bound == upper_bound([AuditDraw(1000, 100, 5, 5)], unlabeled_now=900)
    assert hypergeom.cdf(5, 1000, bound + 5, 100) >= 0.05 > hypergeom.cdf(5, 1000, bound + 6, 100)


def test_one_sided_bounds_cover_the_truth_in_at_least_95_percent_of_200_draws():
    rng = np.random.default_rng(2)
    covered_uniform, covered_stratified, found_stratified, found_uniform = [], [], [], []
    for _ in range(200):
        ids, is_positive, scores = synthetic_pool(rng, size=2000, positives=25)
        sample, audit = stratified_audit(rng, ids, is_positive, scores, 120)
        remaining = int(is_positive.sum()) - audit.positives
        bound = stratified_upper_bound(audit, unlabeled_now=2000 - 120)
        covered_stratified.append(bound >= remaining)
        drawn = rng.choice(ids, 120, replace=False)
        seen = int(is_positive[drawn].sum())
        uniform = upper_bound([AuditDraw(2000, 120, seen, seen)], unlabeled_now=1880)
        covered_uniform.append(uniform >= int(is_positive.sum()) - seen)
        found_stratified.append(audit.positives)
        found_uniform.append(seen)
    assert np.mean(covered_uniform) >= 0.95 - 0.02
    assert np.mean(covered_stratified) >= 0.95 - 0.02
    assert np.mean(found_stratified) > 2 * np.mean(found_uniform)  # what the design buys: it finds positives


def test_stratified_stopping_test_errs_no_more_often_than_its_confidence_allows():
    """Recall just below the target, positives scored low (the stratified design's worst case): the test may say
    stop wrongly in at most ~5% of 200 audits."""
    rng = np.random.default_rng(4)
    size, found = 1500, 95
    remaining = remaining_at_target(found, 0.95)
    wrong = []
    for _ in range(200):
        is_positive = np.zeros(size, dtype=bool)
        is_positive[:remaining] = True
        scores = rng.normal(size=size) - 1.0 * is_positive  # the score points away from the positives
        sample, audit = stratified_audit(rng, np.arange(size), is_positive, scores, 900)
        decision = stratified_stopping_test(audit, found=found + audit.positives, unlabeled_now=size - 900)
        wrong.append(decision.stop and (found + audit.positives) / (found + remaining) < 0.95)
    assert np.mean(wrong) <= 0.05 + 0.02


def test_floor_is_about_n_ln_twenty_over_r_and_is_what_an_empty_uniform_audit_needs():
    floor = audit_floor(100_000, 950)
    assert floor.remaining_if_below == 51
    assert floor.approximate == pytest.approx(100_000 * math.log(20) / 51)
    assert 0.9 * floor.approximate <= floor.exact <= floor.approximate
    assert hypergeom.pmf(0, 100_000, 51, floor.exact) < 0.05 <= hypergeom.pmf(0, 100_000, 51, floor.exact - 1)
    # with no audit yet, the labels still needed are the floor: the stopping test agrees at the floor, not before
    assert more_audit_labels([], found=950, unlabeled_now=100_000) == floor.exact
    assert stopping_test([AuditDraw(100_000, floor.exact, 0, 0)], found=950,
                         unlabeled_now=100_000 - floor.exact).stop
    assert audit_floor(10, 950).exact == 0  # fewer unlabeled texts than K_r: nothing to certify


def test_more_audit_labels_grows_when_an_audit_finds_a_positive():
    empty = [AuditDraw(50_000, 1000, 0, 0)]
    hit = [AuditDraw(50_000, 1000, 1, 1)]
    more_empty = more_audit_labels(empty, found=500, unlabeled_now=49_000)
    more_hit = more_audit_labels(hit, found=501, unlabeled_now=49_000)
    assert 0 < more_empty < more_hit
    assert stopping_test([*empty, AuditDraw(49_000, more_empty, 0, 0)], found=500,
                         unlabeled_now=49_000 - more_empty).stop
