"""`textsel audit` and the audit-based figures of `textsel status`: random draws recorded as audit rounds, text
escaped on the terminal, plain-language estimates with intervals, the stopping rule, distinct-id counts."""

from __future__ import annotations

import csv
import sqlite3

import numpy as np
import pytest
from conftest import fake_embeddings
from textsel.cli.app import app
from typer.testing import CliRunner

from textsel.project import Project

runner = CliRunner()


def invoke(*args):
    """Run a command; its output with the terminal's line wrapping undone, for matching sentences."""
    result = runner.invoke(app, [str(arg) for arg in args])
    result.text = " ".join(result.output.split())
    return result


@pytest.fixture
def project(tmp_path):
    """200 texts, ids 0..199; every 10th is "hit" (20 positives); text 3 carries an escape sequence and markup."""
    texts = [f"{'hit' if i % 10 == 0 else 'miss'} text {i}" for i in range(200)]
    texts[3] = "evil \x1b[2J text [red]markup[/red]"
    with open(tmp_path / "pool.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text"])
        writer.writerows([text] for text in texts)
    np.save(tmp_path / "emb.npy", fake_embeddings(texts, 8))
    result = invoke("init", tmp_path / "p", "--data", tmp_path / "pool.csv", "--labels", "hit,miss",
                    "--embeddings", tmp_path / "emb.npy", "--backend", "exact")
    assert result.exit_code == 0, result.output
    return tmp_path / "p"


def label_truthfully(directory, ids):
    with Project(directory) as project:
        project.add_labels(list(ids), ["hit" if i % 10 == 0 else "miss" for i in ids], source="test")


def test_audit_draws_uniformly_from_unlabeled_texts_and_records_the_round(project):
    label_truthfully(project, range(0, 100))
    result = invoke("audit", "--n", "30", "--seed", "4", "-p", project)
    assert result.exit_code == 0, result.output
    assert "30 texts drawn uniformly at random from the 100 unlabeled" in result.text
    with Project(project) as opened:
        record = opened.store.rounds()[-1]
        round_id, pending = opened.store.pending()
    assert record.strategy == "audit" and record.seed == 4 and record.params["unlabeled"] == 100
    assert len(set(record.doc_ids)) == 30 and min(record.doc_ids) >= 100 and pending == record.doc_ids
    again = invoke("audit", "--n", "30", "--discard-pending", "-p", project)
    with Project(project) as opened:
        fresh = opened.store.rounds()[-1]
    assert again.exit_code == 0 and fresh.seed is not None and fresh.doc_ids != record.doc_ids


def test_audit_escapes_text_from_the_data(project):
    label_truthfully(project, [i for i in range(200) if i != 3])
    result = invoke("audit", "--n", "5", "-p", project)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\\x1b[2J" in result.output and "[red]markup[/red]" in result.output


def test_audit_refuses_bad_arguments_and_a_fully_labeled_pool_without_writing(project):
    assert invoke("audit", "--n", "0", "-p", project).exit_code != 0
    label_truthfully(project, range(200))
    result = invoke("audit", "-p", project)
    assert result.exit_code == 1 and "nothing left to audit" in result.text
    with sqlite3.connect(project / "textsel.db") as connection:
        assert connection.execute("SELECT COUNT(*) FROM rounds").fetchone()[0] == 0


def test_status_without_an_audit_says_the_figures_are_unknown_and_how_to_get_them(project):
    label_truthfully(project, range(0, 50))
    result = invoke("status", "-p", project)
    assert result.exit_code == 0, result.output
    assert "No labeled audit sample yet" in result.text and "textsel audit --n 50" in result.text
    assert "Stopping rule: cannot say yet" in result.text


def test_status_reports_remaining_recall_and_prevalence_with_intervals_from_audits(project):
    label_truthfully(project, range(0, 60))  # 6 of the 20 positives found
    assert invoke("audit", "--n", "70", "--seed", "1", "-p", project).exit_code == 0
    with Project(project) as opened:
        audited = opened.store.pending()[1]
    label_truthfully(project, audited)
    with Project(project) as opened:
        report = opened.status()
    truth_remaining = sum(1 for i in range(60, 200) if i % 10 == 0 and i not in audited)
    remaining = report.estimate.remaining
    assert remaining.low <= truth_remaining <= remaining.high
    assert report.positives_found == 6 + sum(1 for i in audited if i % 10 == 0)
    output = invoke("status", "-p", project).text
    certificate = report.certificate
    headline = (f"At least {report.positives_found} hit found; at most {certificate.remaining_at_most} remain among "
                f"the {certificate.unlabeled} unlabeled texts (95%); recall at least")
    assert headline in output and certificate.remaining_at_most >= truth_remaining
    # the conservative figure comes first, the point estimate after it and labeled as such
    assert output.index(headline) < output.index("Point estimate (not a guarantee): about")
    assert "recall about" in output and "Prevalence of hit in the pool: about" in output
    assert "more audit labels, none of them hit, would certify recall >= 95%" in output
    assert "Stopping rule: keep going" in output


def test_status_says_stop_once_audits_show_nothing_is_left(project):
    label_truthfully(project, range(0, 200, 10))  # every positive found by "active" labeling
    for _ in range(3):
        assert invoke("audit", "--n", "60", "-p", project).exit_code == 0
        with Project(project) as opened:
            label_truthfully(project, opened.store.pending()[1])
    output = invoke("status", "--target-recall", "0.9", "-p", project).text
    assert "Stopping rule: STOP" in output and "at least 90%" in output
    assert "With the audits so far, recall >= 90% is certified (95%)." in output
    assert invoke("status", "--confidence", "1.5", "-p", project).exit_code != 0


def test_status_counts_a_reselected_text_once(project):
    label_truthfully(project, range(0, 40))
    with Project(project) as opened:
        opened.store.add_round(strategy="maxent", params={}, seed=0, doc_ids=[100, 101, 110], scores=None,
                               pool_size=200, candidate_pool_size=50, select_seconds=0.0, train_seconds=0.0)
        opened.store.add_round(strategy="maxent", params={}, seed=0, doc_ids=[110, 110, 120], scores=None,
                               pool_size=200, candidate_pool_size=50, select_seconds=0.0, train_seconds=0.0)
        opened.add_labels([100, 101, 110, 120], ["miss", "miss", "hit", "hit"], source="test")
        report = opened.status()
    assert [(row.selected, row.labeled, row.positives) for row in report.rounds] == [(3, 3, 1), (1, 1, 1)]
    assert report.selected == 4


def test_status_survives_a_label_retracted_after_an_audit(project):
    label_truthfully(project, range(0, 100))
    assert invoke("audit", "--n", "20", "--seed", "2", "-p", project).exit_code == 0
    with Project(project) as opened:
        label_truthfully(project, opened.store.pending()[1])
        opened.store.add_labels(list(range(30)), [None] * 30, source="test")  # 110 unlabeled now, 100 at the audit
        report = opened.status()
    assert report.estimate is not None and report.estimate.unlabeled == 100


def test_audit_never_orphans_a_pending_batch_unless_told_to_discard_it(project):
    label_truthfully(project, range(0, 100))
    assert invoke("audit", "--n", "10", "--seed", "1", "-p", project).exit_code == 0
    with Project(project) as opened:
        rounds_before, (_, pending) = len(opened.store.rounds()), opened.store.pending()
    refused = invoke("audit", "--n", "10", "-p", project)
    assert refused.exit_code == 1 and "still has 10 texts to label" in refused.text
    with Project(project) as opened:
        assert len(opened.store.rounds()) == rounds_before and opened.store.pending()[1] == pending
    assert invoke("audit", "--n", "10", "--discard-pending", "-p", project).exit_code == 0
    with Project(project) as opened:
        round_id, now_pending = opened.store.pending()
        assert len(opened.store.rounds()) == rounds_before + 1 and round_id == opened.store.rounds()[-1].round_id
        assert now_pending == opened.store.rounds()[-1].doc_ids  # uniform over all unlabeled: overlap is allowed


def test_status_leads_with_the_conservative_figure_not_a_rosy_point_estimate(project):
    """One small audit that finds nothing while most positives are unlabeled: the point estimate says about 0
    remain, but the headline must be the bound, which is far from it."""
    label_truthfully(project, [0, 10, 1, 2])  # 2 of the 20 positives found
    with Project(project) as opened:
        opened.store.add_round(strategy="audit", params={"unlabeled": 196}, seed=0, doc_ids=[3, 4, 5, 6, 7],
                               scores=None, pool_size=200, candidate_pool_size=196, select_seconds=0.0,
                               train_seconds=0.0)
    label_truthfully(project, [3, 4, 5, 6, 7])
    with Project(project) as opened:
        report = opened.status()
    lines = invoke("status", "-p", project).text
    assert report.certificate.remaining_at_most >= 18 and report.certificate.recall_at_least < 0.15
    assert lines.index("At least 2 hit found; at most") < lines.index("Point estimate (not a guarantee)")
    assert "about 0 hit remain" in lines  # the point estimate is shown, after the bound


def test_stratified_audit_records_inclusion_probabilities_and_feeds_status(project):
    label_truthfully(project, range(0, 60))
    with Project(project) as opened:
        round_id, ids = opened.audit_batch(40, seed=3, design="stratified")
        record = opened.store.rounds()[-1]
    params = record.params
    assert params["design"] == "stratified" and len(params["inclusion_probability"]) == len(ids) == 40
    top, rest = params["strata"]
    assert top["unlabeled"] + rest["unlabeled"] == 140 and top["drawn"] + rest["drawn"] == 40
    expected = [params["strata"][h]["drawn"] / params["strata"][h]["unlabeled"] for h in params["stratum"]]
    assert params["inclusion_probability"] == pytest.approx(expected)
    assert min(params["inclusion_probability"]) > 0
    assert top["drawn"] / top["unlabeled"] > rest["drawn"] / rest["unlabeled"]
    label_truthfully(project, ids.tolist())
    with Project(project) as opened:
        report = opened.status()
    truth_remaining = sum(1 for i in range(60, 200) if i % 10 == 0 and i not in set(ids.tolist()))
    assert report.certificate.design == "stratified" and report.certificate.remaining_at_most >= truth_remaining
    output = invoke("status", "-p", project).text
    assert "(stratified design)" in output and "score-stratified audit" in output


def test_audit_design_option_draws_a_stratified_sample_and_refuses_unknown_designs(project):
    label_truthfully(project, range(0, 60))
    result = invoke("audit", "--n", "20", "--design", "stratified", "--seed", "1", "-p", project)
    assert result.exit_code == 0, result.output
    assert "more often where the model scores high" in result.text
    with Project(project) as opened:
        assert opened.store.rounds()[-1].params["design"] == "stratified"
    bad = invoke("audit", "--n", "20", "--design", "importance", "--discard-pending", "-p", project)
    assert bad.exit_code != 0
    with Project(project) as opened:
        assert len(opened.store.rounds()) == 1  # nothing written
