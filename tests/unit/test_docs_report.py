"""The benchmark figures in README.md, docs/ and recipes/ are written from the results files by benchmarks/report.py:
a stale region fails here, and busy, dirty, stale or untimed files are refused rather than quoted."""

from __future__ import annotations

import json
import sys

import pytest
from conftest import REPO

sys.path.insert(0, str(REPO))
from benchmarks import report  # noqa: E402


def test_every_generated_region_in_the_docs_is_up_to_date() -> None:
    assert report.documents(), "no documents found: the report reads the wrong place"
    assert report.main(["--check"]) == 0, "run `python -m benchmarks.report` and commit the docs it rewrites"


def provenance(**fields) -> dict:
    return {"git_dirty": False, "date": "2026-12-07T00:00:00+00:00", "machine": {"cores": 2}} | fields


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "results").mkdir()
    regions = {"speed": report.Region(("results/run.json",), lambda doc: f"{doc['speedup']}x", timing=True),
               "errors": report.Region(("results/run.json",), lambda doc: f"error {doc['error']}"),
               "later": report.Region(("results/later.json",), str, command="python bench.py")}
    return tmp_path, regions


def write(folder, **fields) -> None:
    (folder / "results" / "run.json").write_text(json.dumps({"speedup": 40.0, "error": 0.1, **fields}))


def test_a_quiet_clean_run_is_quoted_in_block_and_inline_regions(repo) -> None:
    folder, regions = repo
    write(folder, provenance=provenance(load_average_1min={"start": 0.5, "end": 1.5}, cores=2, busy=False))
    text = ("a <!-- results:speed -->old<!-- /results:speed --> b\n"
            "<!-- results:errors -->\nold\n<!-- /results:errors -->")
    assert report.rewrite(text, folder, regions) == ("a <!-- results:speed -->40.0x<!-- /results:speed --> b\n"
                                                     "<!-- results:errors -->\nerror 0.1\n<!-- /results:errors -->")


@pytest.mark.parametrize(("block", "why"), [
    (provenance(load_average_1min={"start": 0.5, "end": 3.5}), "under load"),  # an older file's own load fields
    (provenance(busy=True, load_average_1min={"start": 0.5, "end": 1.0}), "under load"),  # the writer's mark
    (provenance(git_dirty=True, dirty=True), "uncommitted changes"),
    (provenance(date="2026-12-01T23:00:00+00:00", load_average_1min={"start": 0.1, "end": 0.1}), "Newton"),
])
def test_busy_dirty_and_stale_files_are_refused_not_quoted(repo, block, why) -> None:
    folder, regions = repo
    write(folder, provenance=block)
    for name in ("speed", "errors"):
        body = report.render(name, folder, regions)
        assert why in body and "Not quoted" in body and "40.0" not in body and "0.1" not in body.split("Newton")[0]


def test_timings_need_a_recorded_load_but_other_figures_do_not(repo) -> None:
    folder, regions = repo
    write(folder, provenance=provenance())
    assert "no load average" in report.render("speed", folder, regions)
    assert report.render("errors", folder, regions) == "error 0.1"


def test_a_missing_file_names_the_command_that_writes_it(repo) -> None:
    folder, regions = repo
    assert "Not run yet" in report.render("later", folder, regions) and "python bench.py" in \
        report.render("later", folder, regions)


def test_unknown_or_unclosed_regions_are_errors(repo) -> None:
    folder, regions = repo
    with pytest.raises(ValueError, match="unknown"):
        report.rewrite("<!-- results:nope --><!-- /results:nope -->", folder, regions)
    with pytest.raises(ValueError, match="unclosed"):
        report.rewrite("<!-- results:speed --> no end", folder, regions)


def test_check_fails_on_a_stale_region(tmp_path, monkeypatch) -> None:
    doc = tmp_path / "README.md"
    doc.write_text("<!-- results:stopping -->78 of 80 runs<!-- /results:stopping -->")
    monkeypatch.setattr(report, "documents", lambda repo=None: [doc])
    monkeypatch.setattr(report, "REPO", tmp_path)
    monkeypatch.setattr(report, "rewrite", lambda text: text.replace("78 of 80 runs", "regenerated"))
    assert report.main(["--check"]) == 1 and "78 of 80" in doc.read_text()
    assert report.main([]) == 0 and doc.read_text() == "<!-- results:stopping -->regenerated<!-- /results:stopping -->"


@pytest.mark.parametrize(("name", "expected"), [
    ("diagnose_validation", "vs 0.60"),  # the constant "always no mismatch" beside the rule, from the file's rows
    ("stopping.designs", "coverage (Wilson low)"), ("index_recall", "recall@100"),
    ("svp_amazon", "not a headline: the proxy ranks near random")])
def test_renderers_waiting_for_a_quiet_rerun_already_read_their_files(name, expected) -> None:
    """Refused today (stale), these regions render as soon as their files are rerun; they must not rot meanwhile."""
    region = report.REGIONS[name]
    documents = [json.loads((REPO / source).read_text(encoding="utf-8")) for source in region.sources]
    assert expected in region.render(*documents)


def test_the_screening_row_bounds_what_choosing_among_the_measured_configurations_could_reach() -> None:
    def ratios(per_review: dict) -> dict:
        return {"median_ratio": 1.0, "share_of_reviews_fewer": 0.5, "reviews": 2, "per_review": per_review}

    def review(records: int, asreview_labels: float) -> dict:
        return {"records": records, "methods": {"textsel": {"wss_95_mean": 0.5},
                                                "asreview": {"wss_95_mean": 0.4, "labels_to_95_mean": asreview_labels}}}

    result = {"seeds_per_review": 5, "textsel_default": {"features": "hybrid", "learner": "rf", "batch": 10},
              "reviews": {"a": review(100, 60.0), "b": review(100, 40.0)},
              "textsel_over_asreview_labels_to_95": ratios({"a": 0.9, "b": 1.2}),
              "variants_over_asreview_labels_to_95": {"textsel-dense": ratios({"a": 0.5, "b": 1.1})}}
    line = report.screening(result)
    assert "the best of these 2 per review: median 0.80" in line  # per review min(0.9, 0.5) and min(1.2, 1.1)
    assert "more than half of the records to reach 95% on 1 of 2 reviews" in line


def test_the_stopping_line_adds_the_large_pool_medians_only_when_the_file_has_large_cells() -> None:
    summary = {"worst_coverage_wilson_low": 0.5, "median_audit_over_floor": 1.1, "median_active_over_oracle": 1.3,
               "median_labels_over_oracle": 1.4, "exhausted_runs": 0, "large_pools_per_prevalence": {}}
    result = {"summary": summary, "provenance": {"seeds": [0, 1, 2]},
              "protocol": {"batch": 20, "hint": "textsel.status.negatives_needed (5% of the yield, 95%)"},
              "target_recall": 0.95, "confidence": 0.95}
    assert "100k" not in report.stopping_line(result)
    assert "audit hint textsel.status.negatives_needed (5% of the yield, 95%)." in report.stopping_line(result)
    summary["large_pools_per_prevalence"] = {"1.0%": {"labels_over_oracle": 1.44, "active_over_oracle": 1.39,
                                                      "audit_over_floor": 1.01}}
    assert report.stopping_line(result).endswith(
        " Pools of 100k+ texts, medians per prevalence: 1.0%: labels / oracle 1.44, active / oracle 1.39, audit / "
        "floor 1.01.")


def stopping_row(method: str, **fields) -> dict:
    return {"cell": "c@1%", "pool_size": 1000, "positives": 10, "strategy": "most-likely-positive", "method": method,
            "rule_stops": 5, "runs": 5, "coverage": 1.0, "coverage_wilson_low": 0.57, "labels_over_oracle": 1.5,
            "active_over_oracle": 1.2, "audit_over_floor": 1.1, "exhausted_runs": 0} | fields


def test_the_stopping_table_adds_the_clean_audit_column_only_for_files_that_record_it() -> None:
    summary = {"worst_coverage_wilson_low": 0.57, "median_audit_over_floor": 1.1, "median_active_over_oracle": 1.2,
               "median_labels_over_oracle": 1.5, "exhausted_runs": 0, "large_pools_per_prevalence": {}}
    result = {"summary": summary, "provenance": {"seeds": [0]}, "protocol": {"batch": 20, "hint": "h"},
              "target_recall": 0.95, "confidence": 0.95,
              "cells": [stopping_row("certified-uniform"), stopping_row("knee")]}
    assert "clean audit" not in report.stopping_cells(result)
    result["cells"] = [stopping_row("certified-uniform", clean_audit_over_oracle=1.75),
                       stopping_row("knee", clean_audit_over_oracle=None)]
    table = report.stopping_cells(result)
    assert "| audit / floor | clean audit / oracle | pool exhausted |" in table
    assert "| 1.50 | 1.20 | 1.10 | 1.75 | 0 |" in table
    assert "| knee | 5 / 5 | 1.00 (0.57) | 1.50 | 1.20 | 1.10 | - | 0 |" in table


def test_the_hint_fit_table_marks_the_chosen_fraction() -> None:
    def fraction(value: float, coverage: float) -> dict:
        return {"fraction": value, "rule_stops": 4, "runs": 4, "coverage": coverage, "labels_over_oracle": 1.5,
                "labels_over_oracle_every_run": 2.0, "active_over_oracle": 1.2, "audit_over_floor": 1.1,
                "clean_audit_over_oracle": 1.3, "exhausted_runs": 0}
    result = {"pools": [{"concept": "amazon baby", "pool_size": 10000, "positives": 468}], "strategy": "mlp",
              "batch": 20, "chosen_fraction": 0.05, "provenance": {"seeds": [0, 1]},
              "fractions": [fraction(0.05, 1.0), fraction(0.1, 0.75)]}
    table = report.stopping_hint_fit(result)
    assert "| 0.05 (chosen) | 4 / 4 | 1.00 | 2.00 | 1.50 |" in table and "| 0.1 | 4 / 4 | 0.75 |" in table
    assert "amazon baby (10,000 texts, 468 positive); 2 seeds each" in table and table.endswith(": 0.05.")
    assert report.stopping_hint_fit_line(result) == ("chose 0.05 of the active yield: coverage 1.00, labels / oracle "
                                                     "over every run 2.00 on 1 concepts x 2 seeds; coverage below 1 "
                                                     "at 0.1 (0.75)")


def test_the_next_commands_table_states_the_baseline_ratio_only_when_a_baseline_ran() -> None:
    def timing(median: float) -> dict:
        return {"wall_s_median": median, "wall_s_p95": median, "peak_rss_mb_max": 100.0, "calls": 3}

    result = {"n_docs": 1000, "concept": "domain=x", "prevalence": 0.01, "rounds": 3, "batch": 20,
              "after_100_labels": {"labels_at_start": 120, "seals": timing(0.3)}}
    assert "seals_baseline" not in report.next_commands(result)
    result["after_100_labels"]["seals_baseline"] = timing(0.4)
    result["baseline"] = {"executable": "/x/textsel", "label": "main at abc123"}
    assert report.next_commands(result).endswith(
        "`seals_baseline` is the same `next --pool seals` run by main at abc123 on its own copy, interleaved in the "
        "same rounds: seals / seals_baseline medians 0.75 after 120 labels.")
