"""benchmarks/stopping.py's reading of runs: the baselines read off a label sequence, and per-cell coverage that
never counts an exhausted run as a success."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
from stopping import hint_fires, summarise  # noqa: E402
from stopping_baselines import knee_stop, negatives_in_a_row_stop  # noqa: E402


def test_negatives_in_a_row_fires_at_the_nth_negative_after_the_last_positive():
    outcomes = [True, False, False, True] + [False] * 60
    assert negatives_in_a_row_stop(outcomes, 50) == 4 + 50
    assert negatives_in_a_row_stop(outcomes, 61) is None


def test_knee_fires_after_a_sharp_bend_and_not_on_a_straight_gain_curve():
    bend = [True] * 100 + [False] * 400
    assert knee_stop(bend, step=20) is not None and knee_stop(bend, step=20) > 150
    straight = [i % 5 == 0 for i in range(1000)]
    assert knee_stop(straight, step=20) is None


def test_exhausted_and_budget_runs_are_reported_apart_never_as_successes():
    records = [{"recall": 1.0, "labels": 100, "active_labels": 100, "audit_labels": 0, "oracle_labels": 50,
                "reason": "exhausted", "floor": 10},
               {"recall": 0.97, "labels": 80, "active_labels": 60, "audit_labels": 20, "oracle_labels": 40,
                "reason": "rule", "floor": 10},
               {"recall": 0.90, "labels": 70, "active_labels": 50, "audit_labels": 20, "oracle_labels": None,
                "reason": "rule", "floor": 20},
               {"recall": 0.5, "labels": 90, "active_labels": 90, "audit_labels": 0, "oracle_labels": None,
                "reason": "budget", "floor": 20}]
    cell = summarise(records, 0.95, 0.95)
    assert (cell["runs"], cell["rule_stops"], cell["exhausted_runs"], cell["budget_runs"]) == (4, 2, 1, 1)
    assert cell["coverage"] == 0.5 and 0 < cell["coverage_wilson_low"] < 0.5
    assert cell["labels_over_oracle"] == pytest.approx(2.0) and cell["audit_over_floor"] == pytest.approx(1.5)
    assert cell["labels_over_oracle_every_run"] == pytest.approx(2.0)  # 100 / 50 and 80 / 40; no oracle: left out
    assert cell["per_run"] == records  # every run's own record is kept, in order
    records[1]["floor"] = np.int64(10)
    json.dumps(summarise(records, 0.95, 0.95))  # numpy scalars become plain numbers in the results file


def test_benchmark_hint_restarts_its_count_after_a_return_from_the_audits():
    active = [True, False, False, False, False] * 20 + [False] * 400
    assert hint_fires(active, since=0)
    assert not hint_fires(active, since=len(active) - 10)


def test_hint_fraction_moves_the_hint_earlier_or_later():
    active = [True, False, False, False, False] * 20 + [False] * 60  # yield 20% up to the last positive
    assert hint_fires(active, since=0, fraction=0.4) and not hint_fires(active, since=0, fraction=0.1)


def test_clean_audit_point_is_the_first_active_label_count_where_a_floor_sized_audit_likely_finds_nothing():
    from stopping import clean_audit_labels

    found_first = [True] * 50 + [False] * 950
    # after 40 labels 10 of 50 positives remain among 960 texts: a floor-sized audit (the whole remainder) finds one
    assert clean_audit_labels(found_first, [False] * 1000, 1000, 50, target=0.95, confidence=0.95) == (60, True)
    audits_between = [False] * 40 + [True] * 20 + [False] * 940  # 20 audit labels hold no positive: not active
    order = [True] * 40 + [False] * 20 + [True] * 10 + [False] * 930
    assert clean_audit_labels(order, audits_between, 1000, 50, target=0.95, confidence=0.95) == (60, True)
    never = [True] * 10 + [False] * 90  # 40 of 50 positives still unlabeled at the run's end
    assert clean_audit_labels(never, [False] * 100, 10_000, 50, target=0.95, confidence=0.95) == (100, False)


def test_summary_reports_the_clean_audit_point_over_the_oracle_and_counts_runs_that_never_reached_it():
    records = [{"recall": 0.97, "labels": 80, "active_labels": 60, "audit_labels": 20, "oracle_labels": 40,
                "reason": "rule", "floor": 10, "clean_audit_labels": 60, "clean_audit_reached": True},
               {"recall": 0.96, "labels": 90, "active_labels": 70, "audit_labels": 20, "oracle_labels": 50,
                "reason": "rule", "floor": 10, "clean_audit_labels": 70, "clean_audit_reached": False}]
    cell = summarise(records, 0.95, 0.95)
    assert cell["clean_audit_over_oracle"] == pytest.approx((1.5 + 1.4) / 2)
    assert cell["clean_audit_unreached"] == 1


def test_hint_fit_chooses_the_cheapest_fraction_that_covered_every_fit_run():
    from stopping_hint_fit import choose, concept_key, judged_concepts

    key = "labels_over_oracle_every_run"
    rows = {0.05: {"coverage": 1.0, key: 1.6}, 0.1: {"coverage": 1.0, key: 1.4}, 0.2: {"coverage": 1.0, key: 1.4},
            0.4: {"coverage": 0.9, key: 1.1}}
    assert choose(rows) == 0.2  # 0.4 missed a run; 0.1 and 0.2 tie and the larger audits earlier
    assert choose({0.1: {"coverage": 0.8, key: 1.0}, 0.2: {"coverage": 0.9, key: 2.0}}) == 0.2
    assert concept_key("hotel_tips@5%") in judged_concepts()  # the fit refuses a judged concept at any rate
    assert concept_key("amazon baby") not in judged_concepts()
