"""`textsel svp active` / `textsel svp coreset` end to end on a tiny CSV, fastText as selector and target."""

from __future__ import annotations

import csv
import json

import pytest
from textsel.cli.app import app
from typer.testing import CliRunner

POSITIVE = ["great battery, love it", "works fine and looks good", "excellent value (really)", "good sound"]
NEGATIVE = ["broke after a day", "awful: stopped working", "poor quality, returned it", "bad fit and noisy"]


@pytest.fixture
def reviews(tmp_path):
    path = tmp_path / "reviews.csv"
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["id", "text", "label"])
        for row in range(40):
            source = POSITIVE if row % 2 == 0 else NEGATIVE
            writer.writerow([1000 + row, f"{source[row // 2 % 4]} #{row}", "pos" if row % 2 == 0 else "neg"])
    return path


def invoke(*args: str):
    return CliRunner().invoke(app, ["svp", *args])


def test_active_writes_selection_json_and_png(reviews, tmp_path) -> None:
    out = tmp_path / "out"
    result = invoke("active", str(reviews), "--out", str(out), "--id-col", "id", "--test-split", "0.25",
                    "--initial", "6", "--round-size", "4", "--round-size", "0.1", "--target", "fasttext",
                    "--epochs", "20")
    assert result.exit_code == 0, result.output
    report = json.loads((out / "active.json").read_text())
    assert report["round_ends"] == [6, 10, 13] and len(report["selected_ids"]) == 13
    assert set(report["selected_ids"]) <= set(range(1000, 1040))
    assert set(report["target_selected"]) == {"13"} and 0 <= report["target_random"]["13"]["error"] <= 1
    assert (out / "active.png").read_bytes()[:4] == b"\x89PNG"
    assert "test error" in result.output and "FastTextProxy selected 13 of 30" in result.output


def test_coreset_with_forgetting_events(reviews, tmp_path) -> None:
    out = tmp_path / "out"
    result = invoke("coreset", str(reviews), "--out", str(out), "--keep", "0.5", "--strategy", "forgetting",
                    "--target", "none")
    assert result.exit_code == 0, result.output
    report = json.loads((out / "coreset.json").read_text())
    assert report["kept_size"] == 16 and report["strategy"] == "forgetting" and "target_kept" not in report
    assert (out / "coreset.png").exists()


def test_bad_options_fail_cleanly_and_write_nothing(reviews, tmp_path) -> None:
    out = tmp_path / "out"
    result = invoke("active", str(reviews), "--out", str(out), "--strategy", "margin", "--target", "none")
    assert result.exit_code == 1 and "Error" in result.output and "least-confidence" in result.output
    result = invoke("coreset", str(reviews), "--out", str(out), "--label-col", "stars")
    assert result.exit_code == 1 and "stars" in result.output
    assert not out.exists()


def test_errors_are_printed_beside_the_majority_class_with_a_warning_when_not_beaten(tmp_path) -> None:
    path = tmp_path / "skewed.csv"
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["text", "label"])
        for row in range(40):  # 90% "neg" and no signal: a one-epoch fastText predicts the majority class
            writer.writerow([f"review number {row}", "pos" if row % 10 == 0 else "neg"])
    out = tmp_path / "out"
    result = invoke("coreset", str(path), "--out", str(out), "--keep", "0.5", "--target", "fasttext",
                    "--epochs", "1", "--test-split", "0.5", "--seed", "1")
    assert result.exit_code == 0, result.output
    report = json.loads((out / "coreset.json").read_text())
    assert 0 < report["majority_error"] < 0.5
    assert f"(majority class: {report['majority_error']:.2%})" in result.output
    assert report["target_all"]["error"] >= report["majority_error"]
    assert "warning: FastTextProxy trained on all is at or below the majority class" in result.output
    assert report["provenance"]["seeds"] == [1] and report["provenance"]["git_commit"]


def test_a_selector_that_learned_nothing_is_flagged_and_selector_options_reach_it(tmp_path) -> None:
    path = tmp_path / "same.csv"
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["text", "label"])
        for row in range(40):  # every text the same: any model gives them all one confidence
            writer.writerow(["the same review", "pos" if row % 4 == 0 else "neg"])
    out = tmp_path / "out"
    result = invoke("active", str(path), "--out", str(out), "--initial", "8", "--round-size", "4", "--target",
                    "none", "--selector-epochs", "2", "--selector-lr", "0.2")
    assert result.exit_code == 0, result.output
    report = json.loads((out / "active.json").read_text())
    assert report["flat_rounds"] == [1] and report["score_spreads"][0] < 0.01
    assert "warning: in round(s) 1 the selector gave every text nearly the same confidence" in result.output
    bad = invoke("active", str(path), "--out", str(tmp_path / "bad"), "--selector-lr", "0")
    assert bad.exit_code != 0 and "--selector-lr" in bad.output and not (tmp_path / "bad").exists()
