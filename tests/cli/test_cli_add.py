"""`textsel add FILE` (issue 10): new texts join the pool, only texts never embedded reach the model, the saved
index grows instead of being rebuilt, and bad files are refused before anything is written."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CountingEmbedder, fake_embeddings, precomputed_project
from textsel.cli.app import app
from typer.testing import CliRunner

import textsel.index
from textsel.project import Project, init_project

runner = CliRunner()


@pytest.fixture
def model(monkeypatch):
    counting = CountingEmbedder()
    monkeypatch.setattr(Project, "embedder", lambda self: counting)
    return counting


def write_csv(path, texts, ids=None):
    rows = [f'{ids[i]},"{text}"' if ids else f'"{text}"' for i, text in enumerate(texts)]
    path.write_text(("id,text\n" if ids else "text\n") + "\n".join(rows) + "\n")
    return path


def invoke(*args):
    return runner.invoke(app, [str(arg) for arg in args])


def test_add_embeds_only_new_texts_and_grows_the_index_without_a_rebuild(tmp_path, model, monkeypatch):
    texts = [f"old review {i}" for i in range(60)]
    init_project(tmp_path / "proj", data=str(write_csv(tmp_path / "pool.csv", texts))).close()
    assert invoke("index", "-p", tmp_path / "proj", "-q").exit_code == 0
    assert invoke("label", "--ids", "3,4", "--label", "positive", "-p", tmp_path / "proj").exit_code == 0
    assert model.calls == 60
    monkeypatch.setattr(textsel.index, "build_index", lambda *a, **k: pytest.fail("the index was rebuilt"))
    new = [f"new review {i}" for i in range(15)] + texts[:5]  # five texts the project has embedded already
    result = invoke("add", write_csv(tmp_path / "more.csv", new), "-p", tmp_path / "proj", "-q")
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())  # rich wraps long lines
    assert "Added 20 texts" in output and "(15 embedded now" in output and "the pool holds 80" in output
    assert model.calls == 75
    with Project(tmp_path / "proj") as project:  # a fresh process: both files make the pool, labels are kept
        assert np.array_equal(project.ids, np.arange(80))
        assert project.texts([60, 79]) == ["new review 0", "old review 4"]
        assert project.store.current_labels() == {3: "positive", 4: "positive"}
        assert len(project.pool) == 80 and project.pool.texts[60] == "new review 0"  # both files, loaded
        index = project.index()
        assert len(index) == 80 and index.neighbours(np.array([70]), 1)[0, 0] == 70
        assert np.allclose(np.asarray(project.embeddings()[79], np.float32), fake_embeddings(["old review 4"], 12)[0],
                           atol=1e-3)


def test_a_file_already_added_or_with_clashing_ids_is_refused_and_nothing_is_written(tmp_path, model):
    init_project(tmp_path / "proj", data=str(write_csv(tmp_path / "pool.csv", ["a", "b", "c"], ids=[1, 2, 3])),
                 id_col="id").close()
    clash = invoke("add", write_csv(tmp_path / "clash.csv", ["d", "e"], ids=[4, 2]), "-p", tmp_path / "proj")
    assert clash.exit_code == 1 and "id 2 is already in the project" in clash.output
    assert invoke("add", write_csv(tmp_path / "ok.csv", ["d"], ids=[9]), "-p", tmp_path / "proj").exit_code == 0
    again = invoke("add", tmp_path / "ok.csv", "-p", tmp_path / "proj")
    assert again.exit_code == 1 and "already part of the project" in again.output
    with Project(tmp_path / "proj") as project:
        assert project.ids.tolist() == [1, 2, 3, 9] and len(project.store.get_meta("added_files")) == 1


def test_a_project_with_precomputed_embeddings_cannot_grow(tmp_path):
    folder, _ = precomputed_project(tmp_path, ["a", "b"], [1, 2], ["x", "y"])
    result = invoke("add", write_csv(tmp_path / "more.csv", ["c"], ids=[5]), "-p", folder)
    assert result.exit_code == 1 and "precomputed" in result.output


def test_string_ids_are_not_added_to_an_integer_id_project_and_a_string_id_project_keeps_its_ids(tmp_path, model):
    """Issue 19, case 5: `add` of s1..s5 into an integer-id project used to store them under hash ids."""
    init_project(tmp_path / "ints", data=str(write_csv(tmp_path / "ints.csv", ["a", "b", "c"], ids=[1, 2, 3])),
                 id_col="id").close()
    result = invoke("add", write_csv(tmp_path / "strings.csv", ["d", "e"], ids=["s1", "s2"]), "-p", tmp_path / "ints")
    assert result.exit_code == 1 and "'s1' are strings" in result.output
    with Project(tmp_path / "ints") as project:
        assert project.ids.tolist() == [1, 2, 3] and not project.store.get_meta("added_files")
    init_project(tmp_path / "strs", data=str(write_csv(tmp_path / "strs.csv", ["a", "b"], ids=["x1", "x2"])),
                 id_col="id").close()
    result = invoke("add", write_csv(tmp_path / "more.csv", ["c", "d"], ids=["s1", "7"]), "-p", tmp_path / "strs")
    assert result.exit_code == 0, result.output
    assert invoke("label", "--ids", "s1,x2", "--label", "positive", "-p", tmp_path / "strs").exit_code == 0
    with Project(tmp_path / "strs") as project:  # reopened: the added file's ids are still the ids as given
        assert project.external_ids(project.ids) == ["x1", "x2", "s1", "7"]
        assert sorted(project.external_ids(list(project.store.current_labels()))) == ["s1", "x2"]


def test_add_never_re_embeds_the_old_texts_when_the_machine_cache_lacks_them(tmp_path, model, monkeypatch):
    """Issue 19, smaller: with an empty per-text cache (another machine, a cleared ~/.cache), `add` embedded the
    whole pool again instead of only the new texts."""
    import shutil

    texts = [f"old review {i}" for i in range(40)]
    init_project(tmp_path / "proj", data=str(write_csv(tmp_path / "pool.csv", texts))).close()
    assert invoke("embed", "-p", tmp_path / "proj", "-q").exit_code == 0 and model.calls == 40
    monkeypatch.setenv("TEXTSEL_HOME", str(tmp_path / "empty-home"))  # a per-text cache without these texts
    shutil.rmtree(tmp_path / "empty-home", ignore_errors=True)
    result = invoke("add", write_csv(tmp_path / "more.csv", ["new one", "new two"]), "-p", tmp_path / "proj", "-q")
    assert result.exit_code == 0, result.output
    assert model.calls == 42
    with Project(tmp_path / "proj") as project:
        assert np.allclose(np.asarray(project.embeddings()[[3, 41]], np.float32),
                           fake_embeddings(["old review 3", "new two"], 12), atol=1e-3)
