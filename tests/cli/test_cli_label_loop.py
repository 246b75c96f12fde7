"""`textsel label --continuous` (select, label, retrain, select again until q or a stopping rule), the card's
P(positive), `textsel label --skipped` (revisit skipped texts), and Enter alone doing nothing."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from conftest import fake_embeddings, flat
from textsel.cli.app import app
from typer.testing import CliRunner

from textsel.errors import DataError
from textsel.labeling import ContinuousSession, LabelSession
from textsel.project import Project

runner = CliRunner()


def invoke(*args, stdin=None):
    return runner.invoke(app, [str(arg) for arg in args], input=stdin)


def make_project(tmp_path, n=40):
    """n texts with ids t0..; torn texts (every 4th) lie near one direction of the fake embedding space; two
    torn and two ok seed labels, no round yet."""
    texts = [f"{'torn seam' if i % 4 == 0 else 'nice fit'} {i}" for i in range(n)]
    vectors = fake_embeddings(texts, 8)
    vectors[::4] += 2.0  # a direction the logistic model can learn from the seeds
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with open(tmp_path / "pool.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([("id", "text"), *((f"t{i}", text) for i, text in enumerate(texts))])
    np.save(tmp_path / "emb.npy", vectors)
    folder = tmp_path / "proj"
    assert invoke("init", folder, "--data", tmp_path / "pool.csv", "--id-col", "id", "--labels", "torn,ok",
                  "--embeddings", tmp_path / "emb.npy", "--backend", "exact").exit_code == 0
    assert invoke("label", "--ids", "t0,t4", "--label", "torn", "-p", folder).exit_code == 0
    assert invoke("label", "--ids", "t1,t2", "--label", "ok", "-p", folder).exit_code == 0
    return folder



def rounds(folder):
    with Project(folder) as opened:
        return opened.store.rounds()


def test_continuous_session_selects_again_after_each_batch_and_shows_p_positive(tmp_path):
    folder = make_project(tmp_path)
    keys = "1\n2\n\n2\n" + "s\n2\n1\n" + "2\nq\n"  # batch 1 (an Enter in between), batch 2 (a skip), then quit
    result = invoke("label", "--continuous", "--retrain-every", 3, "--pool", "all", "-p", folder, stdin=keys)
    assert result.exit_code == 0, result.output
    assert "unknown key" not in result.output and "every label so far is saved" in result.output
    assert result.output.count("P(torn) 0.") >= 7  # every card, once two classes are labeled
    made = rounds(folder)
    assert [len(record.doc_ids) for record in made] == [3, 3, 3]
    assert made[1].params["labels_used"] == 7  # the second batch was selected after the first was labeled
    with Project(folder) as opened:
        assert len(opened.store.current_labels()) == 4 + 6
        ((round_id, skipped),) = opened.store.skipped()
        assert round_id == made[1].round_id and opened.store.pending()[1] == []  # the rest of batch 3 set aside
        name = opened.external_ids([skipped])[0]
    assert f"Skipped and still unlabeled: 1 texts (id {name}). Revisit them with `textsel label --skipped`" in flat(
        result.output)

    revisit = invoke("label", "--skipped", "-p", folder, stdin="\n1\n")
    assert revisit.exit_code == 0 and f"Saved: id {name} = torn" in flat(revisit.output)
    assert "Every skipped text was shown" in flat(revisit.output) and "Skipped and still" not in revisit.output
    with Project(folder) as opened:
        assert opened.store.skipped() == [] and opened.store.current_labels()[skipped] == "torn"
    assert "No skipped texts to revisit" in invoke("label", "--skipped", "-p", folder, stdin="").output


def test_continuous_session_stops_at_max_labels_and_when_the_pool_is_exhausted(tmp_path):
    folder = make_project(tmp_path, n=12)
    stopped = invoke("label", "-c", "--retrain-every", 2, "--max-labels", 3, "--pool", "all", "-p", folder,
                     stdin="2\n2\n1\n1\n1\n")
    assert stopped.exit_code == 0
    assert "Stopped: 3 labels made in this session, the most asked for" in flat(stopped.output)
    assert "Set aside the 1 unlabeled texts of round 2" in flat(stopped.output)  # the session's half-done batch
    with Project(folder) as opened:
        assert len(opened.store.current_labels()) == 4 + 3
    done = invoke("label", "-c", "--retrain-every", 5, "--pool", "all", "-p", folder, stdin="2\n" * 20)
    assert done.exit_code == 0, done.output
    assert "Stopped: no unlabeled candidates are left" in flat(done.output)
    with Project(folder) as opened:
        assert len(opened.store.current_labels()) == 11  # every text but the one set aside (never reselected)


def test_undo_of_a_label_from_an_earlier_batch_leaves_it_for_the_skipped_revisit(tmp_path):
    folder = make_project(tmp_path)
    with Project(folder) as project:
        session = ContinuousSession(project, batch_size=2, candidate_pool="all")
        first = session.current
        session.press("2", first)
        session.press("2", session.current)
        assert session.probability(session.current) is not None  # the new batch: model retrained, P shown
        assert len(project.store.rounds()) == 2
        session.press("u", session.current)
        session.press("u", session.current)  # back to the first batch's first text
        assert session.current == first and first not in project.store.current_labels()
        assert (project.store.rounds()[0].round_id, first) in project.store.skipped()
        with pytest.raises(DataError, match="unknown key 'x'"):
            session.press("x", first)
        assert first in LabelSession(project, revisit_skipped=True).queue


def test_audit_cards_never_show_the_models_score(tmp_path):
    """The estimates rest on the audit labels: a P(positive) on their cards could sway them. Active cards show it."""
    folder = make_project(tmp_path)
    assert invoke("audit", "--n", "3", "--seed", "0", "-p", folder).exit_code == 0
    result = invoke("label", "-p", folder, stdin="2\n2\n2\n")
    assert result.exit_code == 0, result.output
    assert "P(torn)" not in result.output and result.output.count("round 1 ·") == 3
    assert invoke("next", "-n", "3", "-s", "random", "--pool", "all", "-p", folder).exit_code == 0
    active = invoke("label", "-p", folder, stdin="2\n2\n2\n")
    assert active.output.count("P(torn) 0.") == 3
