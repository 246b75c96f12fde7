"""Issue 23 (a labeling loop that fits real work, round two): each numbered finding, through the CLI."""

from __future__ import annotations

import csv
import json

import pyarrow.parquet as pq
import pytest
from test_cli_project import invoke, make_pool, project, seed_labels  # noqa: F401 - project is a fixture
from textsel.cli.app import app
from typer.testing import CliRunner

from textsel.errors import PendingBatchError
from textsel.project import Project

# (4) outputs honour their suffix; the default goes to the working folder, never inside the project

def test_predict_writes_the_format_its_suffix_names(project, tmp_path):  # noqa: F811
    seed_labels(project, tmp_path)
    for name in ("preds.csv", "preds.jsonl", "preds.parquet"):
        result = invoke("predict", "-o", tmp_path / name, "-p", project)
        assert result.exit_code == 0, result.output
    with open(tmp_path / "preds.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    lines = [json.loads(line) for line in (tmp_path / "preds.jsonl").read_text().splitlines()]
    table = pq.read_table(tmp_path / "preds.parquet").to_pydict()
    assert len(rows) == len(lines) == len(table["id"]) == 120
    assert [int(row["id"]) for row in rows] == [line["id"] for line in lines] == table["id"]
    assert set(rows[0]) == set(lines[0]) == set(table) == {"id", "text", "predicted", "p_broken", "p_fine"}
    assert abs(float(rows[3]["p_broken"]) - table["p_broken"][3]) < 1e-6
    bad = invoke("predict", "-o", tmp_path / "preds.xlsx", "-p", project)
    assert bad.exit_code != 0 and ".xlsx" in bad.output and not (tmp_path / "preds.xlsx").exists()


def test_predict_without_out_inside_the_project_writes_beside_it(project, tmp_path, monkeypatch):  # noqa: F811
    seed_labels(project, tmp_path)
    monkeypatch.chdir(project)
    result = invoke("predict")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "proj-preds.parquet").is_file()
    assert not list(project.glob("preds*"))
    monkeypatch.chdir(tmp_path)
    assert invoke("predict", "-p", project).exit_code == 0 and (tmp_path / "preds.parquet").is_file()


# (7) quitting `label --continuous` leaves no pending batch that blocks `audit`; the error names the fix

def test_quitting_a_continuous_session_leaves_nothing_pending_and_audit_proceeds(tmp_path):
    from test_cli_label_loop import invoke as invoke_with_keys
    from test_cli_label_loop import make_project, rounds

    folder = make_project(tmp_path)
    result = invoke_with_keys("label", "--continuous", "--retrain-every", 4, "--pool", "all", "-p", folder,
                              stdin="1\nq\n")
    assert result.exit_code == 0, result.output
    (made,) = rounds(folder)
    assert "Set aside the 3 unlabeled texts of round 1" in " ".join(result.output.split())
    audit = invoke("audit", "--n", 5, "-p", folder)
    assert audit.exit_code == 0, audit.output
    assert [record.strategy for record in rounds(folder)][-1] == "audit"


def test_a_pending_batch_error_names_discard_pending(tmp_path):
    from test_cli_label_loop import make_project

    folder = make_project(tmp_path)
    assert invoke("next", "-n", 3, "--pool", "all", "-p", folder).exit_code == 0
    result = invoke("audit", "--n", 2, "-p", folder)
    assert result.exit_code == 1 and "--discard-pending" in result.output, result.output
    with Project(folder) as opened, pytest.raises(PendingBatchError, match="still has 3 texts to label"):
        opened.next_batch(n=2, candidate_pool="all")


# (9) help and messages

def _help(*command):
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"}, terminal_width=200)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.replace("│", " ").split())


def test_help_shows_the_extras_in_brackets_and_string_ids():
    assert "pip install 'textsel[static]'" in _help("init")
    assert "pip install 'textsel[ray]'" in _help("predict")
    assert "pip install 'textsel[ray]'" in _help("next")
    init_help = _help("init")
    assert "integer ids" not in init_help and "integers or strings" in init_help


def test_a_bad_pool_names_no_internal_function(project, tmp_path):  # noqa: F811
    seed_labels(project, tmp_path)
    result = invoke("next", "--pool", "everything", "-p", project)
    assert result.exit_code != 0 and "Project." not in result.output
    assert "unknown candidate pool 'everything'; use one of auto, all, seals, random" in result.output


def test_train_says_why_its_prevalence_differs_from_the_audit_estimate(project, tmp_path):  # noqa: F811
    seed_labels(project, tmp_path)
    result = invoke("train", "-p", project)
    assert result.exit_code == 0, result.output
    assert "`textsel status` estimates the prevalence from random audit samples" in " ".join(result.output.split())


def test_the_readme_lists_every_file_the_demo_writes():
    from conftest import REPO

    from textsel.demo import DEMO_FILES

    readme = (REPO / "README.md").read_text()
    demo_section = readme[readme.index("## The demo"):readme.index("## Labeling your own data")]
    assert all(f"`{name}`" in demo_section for name in DEMO_FILES), DEMO_FILES


# (3) duplicate ids: named in full without --dedupe; init --dedupe keeps the first (by id or by text) and reports

def _write_duplicates(folder):
    rows = [("id", "text")] + [(f"{100 + i}", f"review number {i}") for i in range(30)]
    rows += [("105", "review number 5"), ("107", "review number 7"), ("200", "review number 9"),
             ("111", "a different text under a repeated id")]
    path = folder / "dups.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_duplicate_ids_are_counted_and_named_in_full_with_the_fix(tmp_path):
    result = invoke("init", tmp_path / "p", "--data", _write_duplicates(tmp_path), "--id-col", "id",
                    "--embeddings", "none.npy")
    output = " ".join(result.output.split())
    assert result.exit_code == 1 and not (tmp_path / "p").exists()
    assert "3 row(s) repeat an id of an earlier row: 105 (row 31, first used on row 6), 107 (row 32" in output
    assert "111 (row 34, first used on row 12)" in output and "--dedupe id" in output


def test_init_dedupe_keeps_the_first_row_of_each_id_or_text_and_reports_the_rest(tmp_path):
    import numpy as np

    data = _write_duplicates(tmp_path)
    np.save(tmp_path / "e30.npy", np.eye(30, 8, dtype=np.float32) + 0.1)
    np.save(tmp_path / "e31.npy", np.eye(31, 8, dtype=np.float32) + 0.1)
    by_id = invoke("init", tmp_path / "by_id", "--data", data, "--id-col", "id", "--dedupe", "id",
                   "--embeddings", tmp_path / "e31.npy", "--backend", "exact")
    assert by_id.exit_code == 0, by_id.output
    output = " ".join(by_id.output.split())
    assert "with 31 texts" in output and "Dropped 3 row(s) repeating the id of an earlier row: id 105 (row 31" in output
    with Project(tmp_path / "by_id") as opened:  # reopened: the setting is kept in textsel.toml
        assert len(opened.pool) == 31 and opened.pool.text_of(111) == "review number 11"
    by_text = invoke("init", tmp_path / "by_text", "--data", data, "--id-col", "id", "--dedupe", "text",
                     "--embeddings", tmp_path / "e30.npy", "--backend", "exact")
    assert by_text.exit_code == 1 and "111 (row 34" in by_text.output  # a new text under a repeated id stays an error
    assert invoke("init", tmp_path / "x", "--data", data, "--dedupe", "rows").exit_code == 2


def test_load_pool_dedupe_by_text_drops_repeated_texts_under_any_id(tmp_path):
    from textsel.data import load_pool

    pool = load_pool(_write_duplicates(tmp_path), dedupe="text")  # row numbers as ids
    assert len(pool) == 31 and pool.dedupe_report.dropped == 3
    assert [row for _, row, _ in pool.dedupe_report.examples] == [31, 32, 33]


# (1) init says what the first command will cost

def test_init_says_the_first_command_embeds_the_pool(tmp_path):
    data, _ = make_pool(tmp_path, n=30, with_embeddings=False)
    result = invoke("init", tmp_path / "p", "--data", data, "--text-col", "body", "--id-col", "doc_id")
    assert result.exit_code == 0, result.output
    assert "embeds all 30 texts with all-MiniLM-L6-v2 once" in " ".join(result.output.split())


# (8) import: the project's own id column name; Label Studio ids as strings; the Choices control name checked

def test_import_accepts_the_projects_own_id_column_name(project, tmp_path):  # noqa: F811
    rows = [("doc_id", "label"), (500, "broken"), (501, "fine")]
    with open(tmp_path / "mine.csv", "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    (tmp_path / "mine.jsonl").write_text('{"doc_id": 502, "label": "fine"}\n')
    for name in ("mine.csv", "mine.jsonl"):
        result = invoke("import", tmp_path / name, "-p", project)
        assert result.exit_code == 0, result.output
    with Project(project) as opened:
        assert opened.store.current_labels() == {500: "broken", 501: "fine", 502: "fine"}
    (tmp_path / "other.csv").write_text("tweet_id,label\n500,fine\n")
    refused = invoke("import", tmp_path / "other.csv", "-p", project)
    assert refused.exit_code == 1 and "an id column ('id' or 'doc_id')" in " ".join(refused.output.split())


def _big_id_project(tmp_path):
    big = [123456789012345600 + 7 * i for i in range(12)]
    texts = [f"tweet {i} about the delayed flight" if i % 3 else f"tweet {i}, lost my bag" for i in range(12)]
    import numpy as np
    from conftest import fake_embeddings

    with open(tmp_path / "tweets.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([("tweet_id", "text"), *zip(big, texts, strict=True)])
    np.save(tmp_path / "emb.npy", fake_embeddings(texts, 8))
    assert invoke("init", tmp_path / "air", "--data", tmp_path / "tweets.csv", "--id-col", "tweet_id", "--labels",
                  "bag,other", "--embeddings", tmp_path / "emb.npy", "--backend", "exact").exit_code == 0
    return tmp_path / "air", big


def _annotate(tasks, control="label"):
    return [{"id": 1 + number, "data": task["data"], "annotations": [{"result": [
        {"from_name": control, "to_name": "text", "type": "choices", "value": {"choices": ["other"]}}],
        "was_cancelled": False, "updated_at": "2026-01-01T10:00:00Z"}]} for number, task in enumerate(tasks)]


def test_label_studio_tasks_carry_18_digit_ids_as_strings_and_import_back_whole(tmp_path):
    folder, big = _big_id_project(tmp_path)
    batch = invoke("next", "-n", 12, "-s", "random", "--pool", "all", "-o", tmp_path / "batch.json", "-p", folder)
    assert batch.exit_code == 0, batch.output
    tasks = json.loads((tmp_path / "batch.json").read_text())
    assert sorted(int(task["data"]["id"]) for task in tasks) == big
    # what a JavaScript tool sends back: the ids as they were (strings survive; numbers would be rounded)
    (tmp_path / "done.json").write_text(json.dumps(_annotate(tasks)))
    result = invoke("import", tmp_path / "done.json", "-p", folder)
    assert result.exit_code == 0 and "Imported 12 labels" in result.output, result.output
    rounded = [{**task, "data": {**task["data"], "id": float(task["data"]["id"])}} for task in tasks]
    for task in rounded:
        task["data"]["id"] = int(task["data"]["id"])  # 123456789012345607 -> 123456789012345600 ...
    (tmp_path / "rounded.json").write_text(json.dumps(_annotate(rounded)))
    refused = invoke("import", tmp_path / "rounded.json", "-p", folder)
    assert refused.exit_code == 1 and "rounded by a JavaScript tool" in " ".join(refused.output.split())


def test_a_choices_control_not_named_label_is_refused(tmp_path):
    folder, _ = _big_id_project(tmp_path)
    assert invoke("next", "-n", 3, "-s", "random", "--pool", "all", "-o", tmp_path / "b.json", "-p", folder
                  ).exit_code == 0
    tasks = json.loads((tmp_path / "b.json").read_text())
    (tmp_path / "done.json").write_text(json.dumps(_annotate(tasks, control="sentiment")))
    result = invoke("import", tmp_path / "done.json", "-p", folder)
    output = " ".join(result.output.split())
    assert result.exit_code == 1 and "Choices control is named 'sentiment'" in output
    with Project(folder) as opened:
        assert opened.store.current_labels() == {}


# (6) concepts end to end: per-concept status, audit, train, predict; seeded from the project's labels; named errors

def test_a_concept_runs_status_audit_train_and_predict_and_seeds_from_the_projects_labels(tmp_path):
    import numpy as np
    from conftest import fake_embeddings
    from test_cli_concepts import TEXTS

    with open(tmp_path / "pool.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([("id", "text"), *((f"r{i}", text) for i, text in enumerate(TEXTS))])
    np.save(tmp_path / "emb.npy", fake_embeddings(TEXTS, 8))
    folder = tmp_path / "proj"
    assert invoke("init", folder, "--data", tmp_path / "pool.csv", "--id-col", "id", "--labels", "spoiler,plain",
                  "--embeddings", tmp_path / "emb.npy", "--backend", "exact").exit_code == 0
    assert invoke("concept", "add", "spoiler", "gore", "-p", folder).exit_code == 0
    unseeded = invoke("concept", "next", "-n", 3, "-s", "entropy", "--pool", "all", "-p", folder)
    assert unseeded.exit_code == 1 and "concept 'gore': " in unseeded.output, unseeded.output
    assert invoke("label", "--ids", "r0,r3,r6", "--label", "spoiler", "-p", folder).exit_code == 0
    assert invoke("label", "--ids", "r1,r2,r4,r5", "--label", "plain", "-p", folder).exit_code == 0
    seeded = invoke("concept", "seed", "spoiler", "--from-project", "spoiler", "-p", folder)
    assert seeded.exit_code == 0 and "3 yes, 4 no" in seeded.output, seeded.output
    untrained = invoke("train", "--concept", "gore", "-p", folder)
    assert untrained.exit_code == 1 and "concept 'gore': " in untrained.output and "0 labels" in untrained.output
    status = invoke("status", "--concept", "spoiler", "-p", folder)
    assert status.exit_code == 0 and "Labels: 7 (yes: 3, no: 4)" in status.output, status.output
    assert invoke("audit", "--n", 4, "--concept", "spoiler", "-p", folder).exit_code == 0
    with Project(folder) as opened:
        assert opened.store.rounds() == []  # the audit round is the concept's, not the project's
    trained = invoke("train", "--concept", "spoiler", "-p", folder)
    assert trained.exit_code == 0 and "on 7 labels" in trained.output, trained.output
    assert invoke("predict", "--concept", "spoiler", "-o", tmp_path / "spoiler.csv", "-p", folder).exit_code == 0
    with open(tmp_path / "spoiler.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(TEXTS) and set(rows[0]) == {"id", "text", "predicted", "p_yes", "p_no"}
    assert invoke("status", "--concept", "nope", "-p", folder).output.count("no concept 'nope'") == 1


# (5) simulate --project reuses the project's texts and vectors; vectors export (.npy + ids)

def test_simulate_on_a_project_embeds_nothing_and_vectors_export_with_ids(tmp_path, monkeypatch):
    import numpy as np
    import pyarrow as pa
    from conftest import fake_embeddings

    n = 160
    topics = np.where(np.arange(n) % 7 == 0, "rare", "common")
    texts = [f"{topic} review number {i}" for i, topic in enumerate(topics)]
    pq.write_table(pa.table({"rid": [f"r{i}" for i in range(n)], "text": texts, "topic": topics}),
                   tmp_path / "data.parquet")
    vectors = fake_embeddings(texts, dim=8)
    vectors[topics == "rare", 0] += 2.0
    np.save(tmp_path / "vectors.npy", vectors)
    assert invoke("init", tmp_path / "proj", "--data", tmp_path / "data.parquet", "--id-col", "rid",
                  "--embeddings", tmp_path / "vectors.npy", "--backend", "exact").exit_code == 0

    def no_embedding(*args, **kwargs):
        raise AssertionError("simulate --project embedded texts")

    monkeypatch.setattr("textsel.embed.embed_pool", no_embedding)
    result = invoke("simulate", "--project", tmp_path / "proj", "--out", tmp_path / "sim", "--label-col", "topic",
                    "--positive", "rare", "--pool", "all", "--seed-positives", "2", "--seed-negatives", "8",
                    "--batch", "10", "--budget", "30", "--test-split", "0.25", "--index-backend", "exact")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "sim" / "summary.json").read_text())["pool_size"] == 120

    exported = invoke("vectors", tmp_path / "out.npy", "-p", tmp_path / "proj")
    assert exported.exit_code == 0, exported.output
    ids = (tmp_path / "out.ids.txt").read_text().splitlines()
    saved = np.load(tmp_path / "out.npy")
    assert ids == [f"r{i}" for i in range(n)] and saved.shape == (n, 8)
    np.testing.assert_allclose(saved, np.load(tmp_path / "vectors.npy"), atol=1e-6)
    again = invoke("vectors", tmp_path / "out.npy", "-p", tmp_path / "proj")
    assert again.exit_code == 1 and "--force" in again.output
    inside = invoke("vectors", tmp_path / "proj" / "v.npy", "-p", tmp_path / "proj")
    assert inside.exit_code == 1 and not (tmp_path / "proj" / "v.npy").exists()


# (2) portable projects: relative data paths, a moved data file relinked by its rows, appended rows offered to add

def test_a_project_copied_with_its_data_works_at_another_place(project, tmp_path):  # noqa: F811
    import shutil

    import tomllib

    seed_labels(project, tmp_path)
    config = tomllib.loads((project / "textsel.toml").read_text())
    assert config["data"]["source"] == "../pool.csv" and config["embeddings"]["precomputed"] == "../emb.npy"
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    for name in ("pool.csv", "emb.npy"):
        shutil.copy(tmp_path / name, moved / name)
    shutil.copytree(project, moved / "proj")
    (tmp_path / "pool.csv").unlink()  # the original data is gone: the copy must not need it
    result = invoke("status", "-p", moved / "proj")
    assert result.exit_code == 0 and "Labels: 12" in result.output, result.output


def test_a_moved_data_file_is_relinked_only_when_it_holds_the_projects_rows(project, tmp_path):  # noqa: F811
    seed_labels(project, tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "pool.csv").rename(tmp_path / "data" / "pool.csv")
    missing = invoke("status", "-p", project)
    assert missing.exit_code == 1 and "textsel relink --data" in missing.output, missing.output
    other = tmp_path / "other.csv"
    other.write_text("doc_id,body\n1,something else\n")
    refused = invoke("relink", "--data", other, "-p", project)
    assert refused.exit_code == 1 and "does not hold the rows" in " ".join(refused.output.split())
    assert invoke("status", "-p", project).exit_code == 1  # still pointing at the old place
    relinked = invoke("relink", "--data", tmp_path / "data" / "pool.csv", "-p", project)
    assert relinked.exit_code == 0, relinked.output
    assert "../data/pool.csv" in (project / "textsel.toml").read_text()
    status = invoke("status", "-p", project)
    assert status.exit_code == 0 and "Labels: 12" in status.output


def test_rows_appended_to_the_data_file_are_reported_and_added_on_request(tmp_path, monkeypatch):
    import numpy as np

    from textsel.embed import Embedder

    monkeypatch.setattr(Embedder, "encode", lambda self, texts, on_batch=None: __import__("conftest").fake_embeddings(
        list(texts), 16))
    monkeypatch.setattr(Embedder, "dimension", property(lambda self: 16))
    monkeypatch.setenv("TEXTSEL_HOME", str(tmp_path / "home"))
    data, _ = make_pool(tmp_path, n=40, with_embeddings=False)
    assert invoke("init", tmp_path / "proj", "--data", data, "--text-col", "body", "--id-col", "doc_id",
                  "--backend", "exact").exit_code == 0
    folder = tmp_path / "proj"
    assert invoke("embed", "-p", folder).exit_code == 0
    with open(data, "a", newline="") as handle:
        csv.writer(handle).writerows([(900 + i, f"an appended review {i}") for i in range(5)])
    status = invoke("status", "-p", folder)
    output = " ".join(status.output.split())
    assert status.exit_code == 0 and "Pool: 40 texts" in output, status.output
    assert "5 rows appended to the data file are not in the project yet" in output
    added = invoke("add", "--appended", "-p", folder)
    assert added.exit_code == 0 and "Added 5 texts" in added.output, added.output
    status = invoke("status", "-p", folder)
    assert "Pool: 45 texts" in status.output and "appended" not in status.output
    with open(data, "a", newline="") as handle:
        csv.writer(handle).writerow((950, "one more appended later"))
    assert "1 rows appended" in " ".join(invoke("status", "-p", folder).output.split())
    assert invoke("add", "--appended", "-p", folder).exit_code == 0
    with Project(folder) as opened:
        assert len(opened.ids) == 46 and opened.pool.text_of(950) == "one more appended later"
        assert np.asarray(opened.embeddings()).shape == (46, 16)
    assert invoke("add", "--appended", "-p", folder).exit_code == 1  # nothing appended now
