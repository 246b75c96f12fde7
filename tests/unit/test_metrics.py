"""Metrics: held-out AP/ROC-AUC, labels to reach N positives, summaries, JSON lines and the plot."""

import json

import numpy as np
import pytest

from textsel.errors import DataError
from textsel.metrics import heldout_scores, labels_to_reach, plot_runs, read_jsonl, summarize, write_json, write_jsonl


def test_heldout_scores_binary_by_hand():
    probabilities = np.array([[0.1, 0.9], [0.6, 0.4], [0.3, 0.7], [0.8, 0.2]])
    labels = np.array([1, 0, 0, 1])
    # Ranking by p(1): ids 0 (pos), 2 (neg), 1 (neg), 3 (pos) -> AP = (1/1 + 2/4) / 2; AUC = 2 of 4 pairs.
    scores = heldout_scores(probabilities, labels, np.array([0, 1]), positive_label=1)
    assert scores["average_precision"] == pytest.approx(0.75)
    assert scores["roc_auc"] == pytest.approx(0.5)
    assert heldout_scores(probabilities, np.ones(4), np.array([0, 1]), 1)["average_precision"] is None


def test_heldout_scores_multiclass_macro():
    probabilities = np.eye(3)[[0, 1, 2, 0]]
    scores = heldout_scores(probabilities, np.array(["a", "b", "c", "a"]), np.array(["a", "b", "c"]))
    assert scores == {"average_precision": 1.0, "roc_auc": 1.0}


def test_labels_to_reach():
    assert labels_to_reach([False, True, True, False, True], targets=(1, 3, 4)) == {
        "labels_to_1_positives": 2, "labels_to_3_positives": 5, "labels_to_4_positives": None}


def records():
    rows = []
    for repeat, final_ap in ((0, 0.5), (1, 0.7)):
        rows.append({"concept": "c", "strategy": "maxent", "pool": "seals", "repeat": repeat, "round": 0,
                     "labels": 10, "average_precision": 0.1, "positives_found": 2, "pool_fraction": 0.2,
                     "select_seconds": 1.0, "train_seconds": 0.1, "density_seconds": 0.0,
                     "candidate_pool_size": 5, "round_dummy": 0})
        rows.append({"concept": "c", "strategy": "maxent", "pool": "seals", "repeat": repeat, "round": 1,
                     "labels": 20, "average_precision": final_ap, "positives_found": 4 + repeat,
                     "candidate_pool_size": None, "pool_fraction": None})
    return rows


def test_summarize_means_and_sds_over_repeats():
    (row,) = summarize(records())
    assert row["repeats"] == 2
    assert row["final_average_precision"]["mean"] == pytest.approx(0.6)
    assert row["final_average_precision"]["sd"] == pytest.approx(np.std([0.5, 0.7], ddof=1))
    assert row["final_positives_found"]["mean"] == pytest.approx(4.5)
    assert row["mean_pool_fraction"]["mean"] == pytest.approx(0.2)


def test_json_lines_round_trip_and_errors(tmp_path):
    path = tmp_path / "out" / "results.jsonl"
    write_jsonl(path, [{"a": np.int64(3), "b": np.array([1.5])}, {"a": None}])
    assert read_jsonl(path) == [{"a": 3, "b": [1.5]}, {"a": None}]
    write_json(tmp_path / "summary.json", {"x": np.float32(0.5)})
    assert json.loads((tmp_path / "summary.json").read_text()) == {"x": 0.5}
    path.write_text('{"a": 1}\nnot json\n')
    with pytest.raises(DataError, match="row 2"):
        read_jsonl(path)
    assert not list(tmp_path.glob("**/*.tmp"))


def test_plot_writes_a_png(tmp_path):
    plot_runs(records(), tmp_path / "plot.png")
    assert (tmp_path / "plot.png").read_bytes()[:4] == b"\x89PNG"
