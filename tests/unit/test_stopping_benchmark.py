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
    assert cell["per_run"] == records  # every run's own record is kept, in order
    records[1]["floor"] = np.int64(10)
    json.dumps(summarise(records, 0.95, 0.95))  # numpy scalars become plain numbers in the results file


def test_benchmark_hint_restarts_its_count_after_a_return_from_the_audits():
    active = [True, False, False, False, False] * 20 + [False] * 200
    assert hint_fires(active, since=0)
    assert not hint_fires(active, since=len(active) - 10)
