"""benchmarks/screening.py's measures: labels to a recall, WSS@95, recall at 10%, and the paired ratio vs ASReview."""

from __future__ import annotations

import sys
from pathlib import Path

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


def test_asreview_runs_are_cached_per_seed_and_only_missing_seeds_run(tmp_path, monkeypatch):
    import json

    import screening

    calls = tmp_path / "calls.txt"
    worker = tmp_path / "fake_worker.py"  # stands in for ASReview: labels the priors, then every record in order
    worker.write_text(
        "import json, sys\n"
        f"open({str(calls)!r}, 'a').write('x')\n"
        "job = json.load(open(sys.argv[1]))\n"
        "n = len(job['labels'])\n"
        "runs = {s: {'order': p + [i for i in range(n) if i not in p], 'cpu_seconds': 0.0, 'queries': n - len(p)}\n"
        "        for s, p in job['priors'].items()}\n"
        "json.dump({'asreview': 'fake', 'model': 'fake', 'runs': runs}, open(sys.argv[2], 'w'))\n")
    monkeypatch.setattr(screening, "WORKER", worker)
    review = {"title": ["a", "b", "c", "d"], "abstract": ["", "", "", ""], "labels": np.array([1, 0, 1, 0])}
    first = screening.run_asreview(review, {0: [0, 1]}, python=Path(sys.executable), max_labels=None,
                                   stop_recall=0.95, cache=tmp_path / "cache")
    both = screening.run_asreview(review, {0: [0, 1], 1: [2, 3]}, python=Path(sys.executable), max_labels=None,
                                  stop_recall=0.95, cache=tmp_path / "cache")
    again = screening.run_asreview(review, {1: [2, 3], 0: [0, 1]}, python=Path(sys.executable), max_labels=None,
                                   stop_recall=0.95, cache=tmp_path / "cache")
    assert calls.read_text() == "xx"  # seed 0 once, seed 1 once; the third call came from the cache
    assert first["runs"]["0"] == both["runs"]["0"] == again["runs"]["0"]
    assert both["runs"]["1"]["order"][:2] == [2, 3] and set(again["runs"]) == {"0", "1"}
    other = screening.run_asreview(review, {0: [0, 1]}, python=Path(sys.executable), max_labels=None,
                                   stop_recall=1.0, cache=tmp_path / "cache")  # another stop: another cache entry
    assert calls.read_text() == "xxx" and other["runs"]["0"] == first["runs"]["0"]
    assert len(list((tmp_path / "cache").glob("asreview-*.json"))) == 2
    assert json.loads(next((tmp_path / "cache").glob("asreview-*.json")).read_text())["asreview"] == "fake"


def test_the_tuning_split_is_seeded_disjoint_and_covers_every_review():
    from screening_tune import split_reviews

    names = [f"review{i}" for i in range(14)]
    tune, held = split_reviews(names, 6, seed=21)
    assert len(tune) == 6 and len(held) == 8 and not set(tune) & set(held) and set(tune) | set(held) == set(names)
    assert split_reviews(list(reversed(names)), 6, seed=21) == (tune, held)  # the input order does not matter
    assert split_reviews(names, 6, seed=22) != (tune, held)


def test_the_tuning_choice_prefers_the_larger_batch_among_near_ties():
    from screening_tune import Candidate, choose

    candidates = [Candidate("a-b1", "lexical", 1), Candidate("a-b20", "lexical", 20),
                  Candidate("b-b20", "hybrid", 20, C=10.0), Candidate("c-b5", "dense", 5)]
    ratios = {"a-b1": {"median_ratio": 0.80}, "a-b20": {"median_ratio": 0.815}, "b-b20": {"median_ratio": 0.81},
              "c-b5": {"median_ratio": 0.95}}
    assert choose(candidates, ratios).name == "a-b20"  # within 0.02 of the best, batch 20, default C
    ratios["a-b20"]["median_ratio"] = 0.9
    assert choose(candidates, ratios).name == "b-b20"
    ratios["b-b20"]["median_ratio"] = 0.9
    assert choose(candidates, ratios).name == "a-b1"


def test_the_asreview_cache_key_follows_the_workers_code_not_its_wording(tmp_path, monkeypatch):
    import screening

    worker = tmp_path / "worker.py"
    worker.write_text('"""One wording."""\nimport sys\nprint(sys.argv)  # a comment\n')
    monkeypatch.setattr(screening, "WORKER", worker)
    before = screening.worker_code()
    worker.write_text('"""Another wording,\nover two lines."""\nimport sys\n\nprint(sys.argv)\n')
    assert screening.worker_code() == before
    worker.write_text('"""One wording."""\nimport sys\nprint(sys.argv[1:])\n')
    assert screening.worker_code() != before


def test_feature_check_truth_reads_both_results_formats_and_margins_are_fitted_on_the_other_fold():
    from diagnose_features import cross_fit, truth_from_screening

    def method(labels):
        return {"labels_to_95_mean": labels}

    screening = {"reviews": {"a": {"methods": {"textsel-dense": method(100), "textsel-lexical": method(80),
                                                "textsel-hybrid": method(None)}}}}
    tune = {"tuning": {"reviews": {"b": {"methods": {"dense-b20": method(100), "lexical-b20": method(95)}}}},
            "held_out": {"reviews": {"c": {"methods": {"dense-b20": method(100), "lexical-b20": method(90)}}}}}
    assert truth_from_screening(screening, 0.9) == {"a": True}
    assert truth_from_screening(tune, 0.9) == {"b": False, "c": True}

    def row(fold, gain, truth):  # the lexical AUC over the dense one, and the truth
        return {"fold": fold, "auc": {"dense": 0.8, "lexical": 0.8 + gain}, "labeled_auc": None,
                "truth_mismatch": truth}

    rows = [row("A", 0.06, True), row("A", 0.0, False), row("B", 0.08, True), row("B", 0.03, False)]
    fitted = cross_fit(rows)["random"]
    assert 0.0 < fitted["fit_A_judge_B"]["margin"] <= 0.06  # fitted on A: separates 0.06 from 0.0
    assert fitted["fit_A_judge_B"]["held_out_agreement"] == (1.0 if fitted["fit_A_judge_B"]["margin"] > 0.03
                                                             else 0.5)
    assert fitted["fit_B_judge_A"]["held_out_always_no_mismatch"] == 0.5
    assert cross_fit(rows)["labeled"] == {}  # no labeled AUCs: nothing to fit
