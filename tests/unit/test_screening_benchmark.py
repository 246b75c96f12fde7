"""benchmarks/screening.py's measures: labels to a recall, WSS@95, recall at 10%, and the paired ratio vs ASReview."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
from screening import oracle_labels, paired_ratio, project_default, run_metrics  # noqa: E402


def test_labels_to_recall_wss_and_recall_at_a_tenth_from_a_label_order():
    labels = np.zeros(100, dtype=int)
    labels[[3, 10, 50, 70]] = 1
    order = [3, 0, 10, 1, 2, 4, 5, 6, 7, 8, 50, 9, 11, 70]  # 4th positive at the 14th label
    metrics = run_metrics(order, labels)
    assert metrics["labels_to_80"] == 14 and metrics["labels_to_95"] == 14 and metrics["labels_to_100"] == 14
    assert metrics["wss_95"] == pytest.approx(1 - 14 / 100 - 0.05)
    assert metrics["recall_at_10pct"] == 0.5  # 2 of 4 in the first 10 labels
    assert run_metrics(order[:5], labels)["labels_to_95"] is None  # stopped before: censored
    assert oracle_labels(labels)["labels_to_95"] == 5  # 4 positives + the excluded prior


def test_paired_ratio_pairs_by_seed_and_bounds_censored_runs_below():
    def runs(*values):
        return [{"labels_to_95": v, "labels_spent": 50} for v in values]

    results = {"a": {"methods": {"textsel": {"runs": runs(10, 20)}, "asreview": {"runs": runs(20, 20)}}},
               "b": {"methods": {"textsel": {"runs": runs(None, 40)}, "asreview": {"runs": runs(30, 20)}}}}
    summary = paired_ratio(results, "textsel")
    assert summary["per_review"]["a"] == pytest.approx(0.75)  # (0.5 + 1.0) / 2
    assert summary["per_review"]["b"] == pytest.approx((51 / 30 + 2.0) / 2)  # a censored run counts as >= 51
    assert summary["share_of_reviews_fewer"] == 0.5 and summary["censored_pairs"] == 1


def test_the_benchmark_measures_a_new_projects_defaults():
    assert project_default("features") == "dense" and project_default("goal") == "find-all"
