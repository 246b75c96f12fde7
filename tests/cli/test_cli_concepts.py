"""Multi-label: a project holds several yes/no concepts, each with its own store, rounds and model, selected
independently, labeled in one pass (one answer per text for every concept), exported one column per concept."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from conftest import fake_embeddings, flat
from textsel.cli.app import app
from typer.testing import CliRunner

from textsel.concepts import ConceptSession, concept_labels, concept_project
from textsel.errors import DataError, StoreError
from textsel.project import Project

runner = CliRunner()
TEXTS = [f"review {i}: {'spoiler' if i % 3 == 0 else 'plain'} {'gore' if i % 4 == 0 else 'calm'}" for i in range(48)]


def invoke(*args, stdin=None):
    return runner.invoke(app, [str(arg) for arg in args], input=stdin)



@pytest.fixture
def project(tmp_path):
    with open(tmp_path / "pool.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([("id", "text"), *((f"r{i}", text) for i, text in enumerate(TEXTS))])
    np.save(tmp_path / "emb.npy", fake_embeddings(TEXTS, 8))
    folder = tmp_path / "proj"
    assert invoke("init", folder, "--data", tmp_path / "pool.csv", "--id-col", "id", "--embeddings",
                  tmp_path / "emb.npy", "--backend", "exact").exit_code == 0
    added = invoke("concept", "add", "spoiler", "violence", "-p", folder)
    assert added.exit_code == 0, added.output
    for name, yes, no in (("spoiler", "r0,r3", "r1,r2"), ("violence", "r0,r2", "r1,r3")):  # the same 4 texts
        assert invoke("concept", "seed", name, "--ids", yes, "--label", "yes", "-p", folder).exit_code == 0
        assert invoke("concept", "seed", name, "--ids", no, "--label", "no", "-p", folder).exit_code == 0
    return folder


def test_concepts_select_independently_label_in_one_pass_and_export_one_column_each(project, tmp_path):
    selected = invoke("concept", "next", "-n", 3, "--pool", "all", "-p", project)
    assert selected.exit_code == 0, selected.output
    with Project(project) as opened:
        views = {name: concept_project(opened, name) for name in ("spoiler", "violence")}
        batches = {name: view.store.pending()[1] for name, view in views.items()}
        assert all(len(batch) == 3 for batch in batches.values())
        assert all(view.store.rounds()[0].params["labels_used"] == 4 for view in views.values())
        assert opened.store.rounds() == [] and opened.store.current_labels() == {}  # the main task is untouched
        for view in views.values():
            view.store.close()
    union = list(dict.fromkeys(batches["spoiler"] + batches["violence"]))
    keys = "1\na\n" + "2\n1\n1\na\n" + "s\n" + "u\n" + "a\n" * len(union)  # an Enter-free, scripted pass
    result = invoke("concept", "label", "-p", project, stdin=keys)
    assert result.exit_code == 0, result.output
    assert "Every selected text is labeled" in flat(result.output)
    with Project(project) as opened:
        labels = concept_labels(opened)
        names = opened.external_ids(union)
    assert set(labels["spoiler"]) >= set(union) and set(labels["violence"]) >= set(union)
    assert labels["spoiler"][union[0]] == "yes" and labels["violence"][union[0]] == "no"
    assert labels["spoiler"][union[1]] == "no" and labels["violence"][union[1]] == "yes"
    assert labels["spoiler"][union[2]] == "no" and labels["violence"][union[2]] == "no"  # skipped, undone, accepted

    assert invoke("concept", "export", tmp_path / "concepts.csv", "-p", project).exit_code == 0
    with open(tmp_path / "concepts.csv") as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
    assert list(next(iter(rows.values()))) == ["id", "text", "spoiler", "violence"]
    assert rows[names[0]]["spoiler"] == "yes" and rows[names[1]]["violence"] == "yes"
    assert rows["r3"]["spoiler"] == "yes" and rows["r3"]["violence"] == "no" and "r47" not in rows
    again = invoke("concept", "export", tmp_path / "concepts.csv", "-p", project)
    assert again.exit_code == 1 and "--force" in again.output


def test_each_concept_trains_its_own_model_and_bad_names_are_refused(project):
    with Project(project) as opened:
        spoiler, violence = concept_project(opened, "spoiler"), concept_project(opened, "violence")
        models = spoiler.train(), violence.train()
        assert [model.classes for model in models] == [["no", "yes"], ["no", "yes"]]
        assert spoiler.model_path != violence.model_path and spoiler.model_path.exists()
        assert not opened.model_path.exists()
        with pytest.raises(DataError, match="no concept 'gore'"):
            concept_project(opened, "gore")
        for view in (spoiler, violence):
            view.store.close()
        with pytest.raises(StoreError, match="no concepts yet"):
            ConceptSession(_without_concepts(opened))
    bad = invoke("concept", "add", "../x", "-p", project)
    assert bad.exit_code == 1 and "concept name '../x'" in bad.output
    again = invoke("concept", "add", "spoiler", "-p", project)
    assert again.exit_code == 1 and "already has a concept 'spoiler'" in again.output
    unknown = invoke("concept", "seed", "spoiler", "--ids", "r1", "--label", "maybe", "-p", project)
    assert unknown.exit_code == 1 and "unknown label 'maybe'" in unknown.output and "yes, no" in unknown.output


def _without_concepts(opened):
    """The project as seen from a folder with no concepts (a copy pointing elsewhere)."""
    import copy

    other = copy.copy(opened)
    other.directory = opened.directory / "cache"
    return other


def test_a_text_already_labeled_for_a_concept_starts_toggled_and_undo_restores_the_label_before(project):
    with Project(project) as opened:
        spoiler = concept_project(opened, "spoiler")
        (r0,) = opened.resolve_ids(["r0"])  # labeled yes for both concepts by the seed
        (r9,) = opened.resolve_ids(["r9"])
        spoiler.store.add_round(strategy="manual", params={}, seed=None, doc_ids=[r9, r0], scores=None,
                                pool_size=48, candidate_pool_size=2, select_seconds=0.0, train_seconds=0.0)
        spoiler.store.add_label(r0, None, source="test")  # r0: unlabeled for spoiler, still yes for violence
        session = ConceptSession(opened)
        assert session.current == r9 and session.toggled == set()
        session.press("a", r9)
        assert session.current == r0 and session.toggled == {"violence"}
        session.press("2", r0)  # violence off: the answer changes violence's label to no
        answer = session.press("a", r0)
        assert answer.written == {"spoiler": None, "violence": "yes"}
        assert [view.store.latest_label(r0) for view in session.views.values()] == ["no", "no"]
        session.press("u", None)
        assert [view.store.latest_label(r0) for view in session.views.values()] == [None, "yes"]
        assert session.current == r0 and session.toggled == {"violence"}
        session.close()
        spoiler.store.close()


def test_concept_undo_keeps_a_label_another_process_wrote_meanwhile(project):
    with Project(project) as opened, Project(project) as other:
        spoiler = concept_project(opened, "spoiler")
        (r9,) = opened.resolve_ids(["r9"])
        spoiler.store.add_round(strategy="manual", params={}, seed=None, doc_ids=[r9], scores=None,
                                pool_size=48, candidate_pool_size=1, select_seconds=0.0, train_seconds=0.0)
        session = ConceptSession(opened)
        session.press("1", r9)
        session.press("a", r9)  # spoiler yes, violence no
        concept_project(other, "violence").store.add_label(r9, "yes", source="cli")  # another process
        with pytest.raises(StoreError, match="violence"):
            session.press("u", None)
        assert [view.store.latest_label(r9) for view in session.views.values()] == [None, "yes"]
        session.close()
        spoiler.store.close()


def test_a_deleted_concept_database_is_warned_about_not_dropped_silently(project, caplog):
    (project / "concepts" / "violence.db").unlink()
    with Project(project) as opened:
        from textsel.concepts import concept_names

        assert concept_names(opened) == ["spoiler"]
    assert "concept 'violence' is recorded in this project but its database" in caplog.text
    caplog.clear()
    assert invoke("concept", "export", project.parent / "c.csv", "-p", project).exit_code == 0
    assert "violence.db is missing" in caplog.text
