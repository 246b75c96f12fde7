"""The project commands through Typer's CliRunner: init, embed, index, search, import, next, train, predict,
status, export, and their clear errors on bad input (nothing half-written)."""

from __future__ import annotations

import csv
import json
import sqlite3

import numpy as np
import pyarrow.parquet as pq
import pytest
import tomllib
from conftest import fake_embeddings, flat
from textsel.cli.app import app
from typer.testing import CliRunner

from textsel.errors import StoreError
from textsel.project import Project
from textsel.status import active_outcomes, negatives_needed, yield_hint

runner = CliRunner()
TOPICS = ["the zipper broke and the seams split after one wash, a refund please",
          "lovely soft dress that fits perfectly and looks great",
          "arrived quickly, the colour is exactly as pictured online",
          "runs small in the shoulders so order a size up"]


def make_pool(folder, n=120, with_embeddings=True):
    """A CSV pool with ids 500.. and, optionally, row-aligned fake embeddings; returns (csv path, npy path)."""
    texts = [f"{TOPICS[i % len(TOPICS)]} (review {i})" for i in range(n)]
    data = folder / "pool.csv"
    with open(data, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["doc_id", "body"])
        writer.writerows([500 + i, text] for i, text in enumerate(texts))
    vectors = folder / "emb.npy"
    if with_embeddings:
        np.save(vectors, fake_embeddings(texts, 16))
    return data, vectors


def invoke(*args):
    return runner.invoke(app, [str(arg) for arg in args])


@pytest.fixture
def project(tmp_path):
    data, vectors = make_pool(tmp_path)
    result = invoke("init", tmp_path / "proj", "--data", data, "--text-col", "body", "--id-col", "doc_id",
                    "--labels", "broken,fine", "--embeddings", vectors, "--backend", "exact", "--features", "dense")
    assert result.exit_code == 0, result.output  # dense: the tests compare with models on the fake vectors
    return tmp_path / "proj"


def write_labels(path, rows, header=("id", "label")):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def seed_labels(project, tmp_path):
    """Four positives (topic 0) and eight negatives, imported."""
    rows = [(500 + i, "broken") for i in (0, 4, 8, 12)] + [(500 + i, "fine") for i in (1, 2, 3, 5, 6, 7, 9, 10)]
    assert invoke("import", write_labels(tmp_path / "seed.csv", rows), "-p", project).exit_code == 0


def test_init_writes_a_readable_config_and_refuses_to_overwrite(project, tmp_path):
    config = tomllib.loads((project / "textsel.toml").read_text())
    assert config["data"]["text_col"] == "body" and config["data"]["id_col"] == "doc_id"
    assert config["labels"] == {"classes": ["broken", "fine"], "positive": "broken"}
    assert config["index"]["backend"] == "exact"
    assert (project / "textsel.db").exists()
    again = invoke("init", project, "--data", tmp_path / "pool.csv", "--text-col", "body")
    assert again.exit_code == 1 and "already a textsel project" in again.output


def test_commands_outside_a_project_fail_clearly(tmp_path):
    result = invoke("status", "-p", tmp_path)
    assert result.exit_code == 1 and "is not a textsel project" in result.output
    assert "create a project there first (`textsel init DIR --data FILE`)" in flat(result.output)  # the CLI's hint
    with pytest.raises(StoreError, match="create a project there first$"):  # the library names no command
        Project(tmp_path)
    assert not (tmp_path / "textsel.db").exists()


def test_init_with_misaligned_embeddings_creates_nothing(tmp_path):
    data, _ = make_pool(tmp_path)
    np.save(tmp_path / "short.npy", np.ones((7, 16), dtype=np.float32))
    result = invoke("init", tmp_path / "proj", "--data", data, "--text-col", "body", "--embeddings",
                    tmp_path / "short.npy")
    assert result.exit_code == 1 and "short.npy" in result.output and "120 texts" in result.output
    assert not (tmp_path / "proj").exists()
    missing = invoke("init", tmp_path / "proj", "--data", data, "--text-col", "nope")
    assert missing.exit_code == 1 and "nope" in missing.output and not (tmp_path / "proj").exists()


@pytest.mark.parametrize("rows, header, expected", [
    ([(500, "broken"), (501, "meh")], ("id", "label"), "row 2, column 'label': unknown label 'meh'"),
    ([(500, "broken"), ("x7", "fine")], ("id", "label"), "row 2, column 'id': id 'x7' is not an integer"),
    ([(500, "broken"), (9999, "fine")], ("id", "label"), "row 2, column 'id': id 9999 is not in the pool"),
    ([(500, "broken")], ("doc", "label"), "column 'id'"),
    ([(500, "broken"), (501,)], ("id", "label"), "row 2: has fewer fields"),
])
def test_import_validates_the_whole_file_before_writing(project, tmp_path, rows, header, expected):
    path = write_labels(tmp_path / "labels.csv", rows, header)
    result = invoke("import", path, "-p", project)
    assert result.exit_code == 1
    assert f"file {path}" in result.output and expected in result.output
    with Project(project) as opened:
        assert opened.store.label_count() == 0


def test_import_records_labels_and_relabels_append(project, tmp_path):
    seed_labels(project, tmp_path)
    (tmp_path / "excel.csv").write_bytes("id,label\r\n511,fine\r\n".encode("utf-8-sig"))
    assert invoke("import", tmp_path / "excel.csv", "-p", project).exit_code == 0
    result = invoke("import", write_labels(tmp_path / "fix.csv", [(500, "fine")]), "-p", project)
    assert result.exit_code == 0 and "Imported 1 labels" in result.output
    with Project(project) as opened:
        assert opened.store.current_labels()[500] == "fine"
        assert [row[0] for row in opened.store.label_history(500)] == ["broken", "fine"]


def test_next_records_the_round_and_writes_batches_for_external_tools(project, tmp_path):
    seed_labels(project, tmp_path)
    result = invoke("next", "--n", 5, "--strategy", "mlp", "--seed", 3, "--pool", "seals", "--out",
                    tmp_path / "batch.csv", "-p", project)
    assert result.exit_code == 0, result.output
    flat_output = " ".join(result.output.split())
    assert "Round 1: most-likely-positive with the logistic learner over the seals pool (k=100" in flat_output
    with open(tmp_path / "batch.csv") as handle:
        batch = list(csv.DictReader(handle))
    assert len(batch) == 5 and {row["round"] for row in batch} == {"1"}
    with Project(project) as opened:
        (record,) = opened.store.rounds()
        labeled = set(opened.store.current_labels())
    assert (record.strategy, record.seed, record.params["candidate_pool"]) == ("most-likely-positive", 3, "seals")
    assert record.doc_ids == [int(row["id"]) for row in batch] and not labeled & set(record.doc_ids)
    assert invoke("next", "-n", 4, "-s", "random", "--pool", "all", "-o", tmp_path / "b.jsonl", "--discard-pending",
                  "-p", project).exit_code == 0
    assert len((tmp_path / "b.jsonl").read_text().splitlines()) == 4
    again = invoke("next", "-n", 3, "-o", tmp_path / "tasks.json", "-p", project)  # round 2 is still pending
    assert again.exit_code == 0 and "Round 2 is not finished: 4 texts still to label" in again.output
    tasks = json.loads((tmp_path / "tasks.json").read_text())
    assert len(tasks) == 4 and "text" in tasks[0]["data"] and "annotations" not in tasks[0]
    bad = invoke("next", "-n", 3, "-o", tmp_path / "b.xlsx", "-p", project)
    assert bad.exit_code == 1 and ".xlsx" in bad.output


def test_next_without_two_classes_says_what_to_label(project, tmp_path):
    invoke("import", write_labels(tmp_path / "one.csv", [(500, "broken")]), "-p", project)
    result = invoke("next", "-p", project)
    assert result.exit_code == 1 and "at least two classes" in result.output


def test_train_predict_status_and_export(project, tmp_path):
    seed_labels(project, tmp_path)
    assert invoke("train", "-p", project).exit_code == 0
    result = invoke("predict", "--out", tmp_path / "preds.parquet", "-p", project)
    assert result.exit_code == 0, result.output
    table = pq.read_table(tmp_path / "preds.parquet").to_pydict()
    assert len(table["id"]) == 120 and set(table["predicted"]) <= {"broken", "fine"}
    assert np.allclose(np.add(table["p_broken"], table["p_fine"]), 1.0)
    status = invoke("status", "-p", project)
    assert "broken: 4, fine: 8" in status.output and "No labeled audit sample yet" in status.output
    for export_format, name in (("csv", "out.csv"), ("jsonl", "out.jsonl"), ("label-studio", "ls.json"),
                                ("hf", "hf_dir")):
        result = invoke("export", tmp_path / name, "--format", export_format, "-p", project)
        assert result.exit_code == 0 and "Wrote 12 labeled texts" in result.output
    from datasets import load_from_disk

    assert sorted(load_from_disk(str(tmp_path / "hf_dir"))["label"]).count("broken") == 4
    tasks = json.loads((tmp_path / "ls.json").read_text())
    assert tasks[0]["annotations"][0]["result"][0]["value"]["choices"] == ["broken"]
    assert invoke("export", tmp_path / "x", "--format", "xml", "-p", project).exit_code == 1


def test_yield_hint_counts_negatives_in_a_row_against_the_yield_not_rounds():
    """At a 20% active yield the hint needs (1 - 0.05 * 0.2)^L < 0.05: L >= 299 negatives in a row, whatever the
    batch size; three rounds of 20 negatives (60 in a row, what the old hint fired on) are not enough."""
    assert negatives_needed(0.2) == 299 and negatives_needed(0.2, fraction=0.1) == 149
    start = [True, False, False, False, False] * 40  # a 20% yield; the last positive is the 196th label
    needed = negatives_needed(40 / 196)
    assert needed == 293
    early = yield_hint([*start, *[False] * 60])  # 64 in a row
    assert "keep going: 64 negatives in a row" in early and f"needs {needed}" in early
    late = yield_hint([*start, *[False] * (needed - 4)])
    assert f"the last {needed} actively selected texts were all negative" in late
    assert "keep going" in yield_hint([*start, *[False] * (needed - 5)])
    assert "no actively selected text is positive yet" in yield_hint([False] * 30)


def test_active_outcomes_follow_round_order_and_leave_audits_out():
    class Record:
        def __init__(self, strategy, doc_ids):
            self.strategy, self.doc_ids = strategy, doc_ids

    rounds = [Record("maxent", [1, 2]), Record("audit", [3, 4]), Record("maxent", [2, 5, 6])]
    labels = {1: "hit", 2: "miss", 3: "hit", 4: "miss", 5: "miss"}  # 6 not labeled yet
    assert active_outcomes(rounds, labels, "hit") == [True, False, False]


def test_a_second_process_is_refused_while_the_project_is_held(project, tmp_path):
    seed_labels(project, tmp_path)
    with Project(project) as holder, holder.lock():
        result = invoke("next", "-p", project)
    assert result.exit_code == 1 and "another textsel process" in result.output
    with sqlite3.connect(project / "textsel.db") as connection:
        assert connection.execute("SELECT COUNT(*) FROM rounds").fetchone()[0] == 0


def test_embed_index_search_with_the_packaged_model(tmp_path):
    data, _ = make_pool(tmp_path, n=40, with_embeddings=False)
    assert invoke("init", tmp_path / "p", "--data", data, "--text-col", "body", "--id-col", "doc_id").exit_code == 0
    assert invoke("embed", "-p", tmp_path / "p", "-q").exit_code == 0
    assert invoke("index", "-p", tmp_path / "p", "-q").exit_code == 0
    assert (tmp_path / "p" / "cache" / "index.hnsw").exists()
    result = invoke("search", "zipper broke, I want my money back", "--n", 5, "-p", tmp_path / "p")
    assert result.exit_code == 0, result.output
    hits = Project(tmp_path / "p").search("zipper broke, I want my money back", 5)
    assert all("zipper broke" in hit.text for hit in hits)
    assert all(f"{hit.doc_id}" in result.output for hit in hits)
    config = (tmp_path / "p" / "textsel.toml").read_text()
    (tmp_path / "p" / "textsel.toml").write_text(config.replace('"all-MiniLM-L6-v2"', '"other-model"'))
    mismatch = invoke("search", "zipper", "-p", tmp_path / "p")
    assert mismatch.exit_code == 1 and "does not match the cached embeddings" in mismatch.output


def test_search_with_a_model_of_another_dimension_is_refused(project):
    result = invoke("search", "refund", "-p", project)
    assert result.exit_code == 1 and "16 dimensions" in result.output


def test_config_survives_a_round_trip_through_the_hand_written_toml(tmp_path):
    from textsel.errors import ConfigError
    from textsel.project_config import ProjectConfig

    config = ProjectConfig(source='C:\\data\\"odd" näme.csv', text_col="tëxt", labels=["spoiler", "clean", "x y"],
                           positive="clean", precomputed="/tmp/e.npy", k=50)
    path = tmp_path / "textsel.toml"
    path.write_text(config.to_toml(), encoding="utf-8")
    assert ProjectConfig.from_toml(path) == config
    with pytest.raises(ConfigError, match="positive class 'maybe'"):
        ProjectConfig(source="a.csv", labels=["a", "b"], positive="maybe")
    with pytest.raises(ConfigError, match="at least two distinct"):
        ProjectConfig(source="a.csv", labels=["a", "a"])
    path.write_text("[data\nsource = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot read"):
        ProjectConfig.from_toml(path)


class _RunsCodeWhenUnpickled:
    """A pickle payload that creates a marker file when loaded: what a hostile received project could hold."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_predict_never_unpickles_a_model_file_and_saves_plain_arrays(project, tmp_path):
    import pickle

    seed_labels(project, tmp_path)
    marker = tmp_path / "pwned"
    (project / "cache").mkdir(exist_ok=True)
    (project / "cache" / "model.pkl").write_bytes(pickle.dumps(_RunsCodeWhenUnpickled(marker)))
    result = invoke("predict", "--out", tmp_path / "preds.parquet", "-p", project)
    assert result.exit_code == 0, result.output
    assert not marker.exists()
    info = json.loads((project / "cache" / "model.json").read_text())
    assert info["classes"] == ["broken", "fine"] and info["embeddings"]["model"] == "all-MiniLM-L6-v2"
    assert info["label_rows"] == 12 and info["parameters"]["class_weight"] == "balanced"
    with np.load(project / "cache" / "model.npz", allow_pickle=False) as arrays:
        assert set(arrays.files) == {"coef", "intercept", "classes", "params"}


def test_saved_model_predicts_as_the_trained_one_and_is_retrained_when_labels_or_vectors_change(project, tmp_path):
    seed_labels(project, tmp_path)
    with Project(project) as opened:
        trained = opened.train()
        saved = opened.trained_model()
        vectors = opened.embeddings()
        np.testing.assert_array_equal(saved.learner.predict_proba(vectors), trained.learner.predict_proba(vectors))
        assert (saved.classes, saved.label_rows, saved.estimated_prevalence) == (
            trained.classes, trained.label_rows, trained.estimated_prevalence)
        opened.add_labels([511], ["broken"], source="test")
        assert opened.trained_model().label_rows == 13
        info = json.loads(opened.model_info_path.read_text())
        info["embeddings"]["fingerprint"] = "vectors of another pool"
        opened.model_info_path.write_text(json.dumps(info))
        assert opened.trained_model().embeddings["fingerprint"] == opened.pool.fingerprint()  # retrained


@pytest.mark.parametrize("damage", ["garble weights", "truncate weights", "garble description"])
def test_a_corrupt_saved_model_is_one_clear_line_naming_the_fix(project, tmp_path, damage):
    seed_labels(project, tmp_path)
    assert invoke("train", "-p", project).exit_code == 0
    weights, description = project / "cache" / "model.npz", project / "cache" / "model.json"
    if damage == "garble weights":
        data = bytearray(weights.read_bytes())
        data[len(data) // 2] ^= 0xFF
        weights.write_bytes(bytes(data))
    elif damage == "truncate weights":
        weights.write_bytes(b"")
    else:
        description.write_text("{not json")
    result = invoke("predict", "--out", tmp_path / "preds.parquet", "-p", project)
    assert result.exit_code == 1 and result.exception.__class__ is SystemExit
    assert "saved model" in result.output and "corrupt" in result.output and "retrain" in result.output
    assert not (tmp_path / "preds.parquet").exists()
    assert invoke("train", "-p", project).exit_code == 0
    assert invoke("predict", "--out", tmp_path / "preds.parquet", "-p", project).exit_code == 0


def rounds_and_selections(project):
    with sqlite3.connect(project / "textsel.db") as connection:
        return [connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in ("rounds", "selections")]


@pytest.mark.parametrize("args", [["--out", "batch.txt"], ["--out", "batch"],
                                  ["--out", "batch-folder.csv"], ["--strategy", "nope"],
                                  ["--pool", "everything"], ["-n", "0"], ["-n", "-3"], ["-n", "many"]])
def test_a_next_that_fails_records_no_round_and_writes_nothing(project, tmp_path, args):
    seed_labels(project, tmp_path)
    assert invoke("next", "-n", 3, "-p", project).exit_code == 0  # round 1, pending
    before = rounds_and_selections(project)
    if args[-1] == "batch-folder.csv":  # an existing folder named like a batch file is neither deleted nor written
        (tmp_path / "batch-folder.csv").mkdir()
        (tmp_path / "batch-folder.csv" / "keep.txt").write_text("mine")
    args = [str(tmp_path / arg) if arg.startswith("batch") else arg for arg in args]
    for discard in ([], ["--discard-pending"]):
        result = invoke("next", *args, *discard, "-p", project)
        assert result.exit_code != 0 and "Traceback" not in result.output
        assert rounds_and_selections(project) == before
    assert [path.name for path in tmp_path.rglob("*") if "batch" in str(path)] == (
        ["batch-folder.csv", "keep.txt"] if args[-1].endswith("batch-folder.csv") else [])
    with Project(project) as opened:
        assert len(opened.store.pending()[1]) == 3  # the pending batch was not discarded either


def test_next_shows_a_pending_batch_again_until_it_is_discarded(project, tmp_path):
    seed_labels(project, tmp_path)
    first = invoke("next", "-n", 6, "-s", "random", "--pool", "all", "-p", project)
    assert first.exit_code == 0, first.output
    with Project(project) as opened:
        (round_one,) = opened.store.rounds()
        opened.add_labels(round_one.doc_ids[:2], ["fine", "broken"], source="test")
    again = invoke("next", "-n", 6, "-s", "random", "--pool", "all", "-p", project)
    assert again.exit_code == 0 and "Round 1 is not finished: 4 texts still to label" in again.output
    assert all(str(doc_id) in again.output for doc_id in round_one.doc_ids[2:])
    assert rounds_and_selections(project) == [1, 6]
    with Project(project) as opened, pytest.raises(StoreError, match="round 1 still has 4 texts to label"):
        opened.next_batch(6, strategy="random", candidate_pool="all")

    fresh = invoke("next", "-n", 6, "-s", "random", "--pool", "all", "--discard-pending", "-p", project)
    assert fresh.exit_code == 0 and "Round 2: random" in fresh.output
    with Project(project) as opened:
        round_two = opened.store.rounds()[1]
        assert opened.store.pending() == (2, round_two.doc_ids)
        assert not set(round_two.doc_ids) & set(round_one.doc_ids)  # discarded texts do not come back
        with opened.store.transaction() as connection:
            discarded = [doc_id for (doc_id,) in connection.execute("SELECT doc_id FROM discards ORDER BY doc_id")]
        assert discarded == sorted(round_one.doc_ids[2:])
        # Every later round avoids them too, however many texts it asks for.
        opened.store.discard_pending()
        _, result = opened.next_batch(200, strategy="random", candidate_pool="all", seed=1)
        selected = [doc_id for record in opened.store.rounds() for doc_id in record.doc_ids]
    assert len(selected) == len(set(selected)) == 120 - 12  # each unlabeled text in exactly one round
    assert len(result.ids) == 120 - 12 - 12


def test_next_out_overwrites_an_existing_file_only_with_force_and_never_writes_into_the_project(project, tmp_path):
    seed_labels(project, tmp_path)
    batch = tmp_path / "batch.csv"
    batch.write_text("mine\n")
    refused = invoke("next", "-n", 3, "--out", batch, "-p", project)
    assert refused.exit_code == 1 and "already exists" in refused.output and "--force" in refused.output
    assert batch.read_text() == "mine\n" and rounds_and_selections(project) == [0, 0]
    inside = invoke("next", "-n", 3, "--out", project / "batch.csv", "-p", project)
    assert inside.exit_code == 1 and not (project / "batch.csv").exists()
    assert invoke("next", "-n", 3, "--out", batch, "--force", "-p", project).exit_code == 0
    assert batch.read_text().startswith("id,text,score,round")


def test_next_selects_with_the_fasttext_proxy_on_texts_without_embedding_anything(tmp_path):
    data, _ = make_pool(tmp_path, with_embeddings=False)
    assert invoke("init", tmp_path / "proj", "--data", data, "--text-col", "body", "--id-col", "doc_id",
                  "--labels", "broken,fine").exit_code == 0
    project = tmp_path / "proj"
    seed_labels(project, tmp_path)
    result = invoke("next", "-n", 6, "--learner", "fasttext", "--pool", "all", "--strategy", "entropy", "-p", project)
    assert result.exit_code == 0, result.output
    assert "Round 1: entropy with the fasttext learner over the all pool" in result.output
    assert not (project / "cache" / "embeddings").exists()  # the proxy reads texts: nothing was embedded
    with Project(project) as opened:
        (record,) = opened.store.rounds()
        labeled = set(opened.store.current_labels())
    assert record.params["learner"] == "fasttext" and len(record.doc_ids) == 6 and not labeled & set(record.doc_ids)
    bad = invoke("next", "--learner", "svm", "--discard-pending", "-p", project)
    assert bad.exit_code == 1 and "'learner' parameter must be one of" in bad.output
    with Project(project) as opened:
        assert len(opened.store.rounds()) == 1  # nothing recorded for a bad learner


def test_fasttext_rounds_are_repeatable(project, tmp_path):
    seed_labels(project, tmp_path)
    with Project(project) as opened:
        labels = opened.store.current_labels()
        picks = [opened._engine("fasttext", seed=2).select_batch(labels).ids.tolist() for _ in range(2)]
    assert picks[0] == picks[1] and len(picks[0]) == 100


@pytest.mark.usefixtures("one_torch_thread")
def test_train_a_transformer_target_on_the_labels_and_predict_with_it(project, tmp_path):
    seed_labels(project, tmp_path)
    result = invoke("train", "--target", "transformer", "--epochs", "1", "-p", project)
    assert result.exit_code == 0, result.output
    assert "Trained the transformer model on 12 labels" in result.output
    saved = project / "cache" / "model-transformer"
    assert (saved / "model.safetensors").exists() and not list(saved.glob("*.bin"))
    info = json.loads((project / "cache" / "model.json").read_text())
    assert info["learner"] == "transformer" and info["parameters"]["epochs"] == 1
    assert info["embeddings"] == {"texts": Project(project).pool.fingerprint()}
    stamp = (saved / "model.safetensors").stat().st_mtime_ns
    assert invoke("predict", "--out", tmp_path / "preds.parquet", "-p", project).exit_code == 0
    assert (saved / "model.safetensors").stat().st_mtime_ns == stamp  # the saved target predicted, no retraining
    table = pq.read_table(tmp_path / "preds.parquet").to_pydict()
    assert len(table["id"]) == 120 and set(table["predicted"]) <= {"broken", "fine"}
    np.testing.assert_allclose(np.asarray(table["p_broken"]) + np.asarray(table["p_fine"]), 1.0, rtol=1e-6)
    config = json.loads((saved / "config.json").read_text())
    (saved / "config.json").write_text(json.dumps({**config, "num_labels": 5}))  # any file of the folder is checked
    result = invoke("predict", "--out", tmp_path / "again.parquet", "-p", project)
    assert result.exit_code == 1 and "corrupt" in result.output and "model-transformer does not match" in result.output
    assert not (tmp_path / "again.parquet").exists()


def test_new_labels_retrain_the_saved_learner_with_its_saved_parameters(project, tmp_path):
    seed_labels(project, tmp_path)
    with Project(project) as opened:
        opened.train("logistic", C=0.25)
        opened.add_labels([511], ["broken"], source="test")
        retrained = opened.trained_model()
    assert (retrained.learner_name, retrained.label_rows, retrained.learner.C) == ("logistic", 13, 0.25)
    assert retrained.parameters == {"C": 0.25, "class_weight": "balanced", "max_iter": 1000}


def test_train_refuses_a_target_it_cannot_save_before_any_work(project, tmp_path):
    seed_labels(project, tmp_path)
    for args in (("--target", "fasttext"), ("--epochs", "2")):
        result = invoke("train", *args, "-p", project)
        assert result.exit_code == 2 and ("--target" in result.output or "--epochs" in result.output)
    assert not (project / "cache" / "model.json").exists()


def test_rounds_stored_under_old_strategy_names_still_read(project, tmp_path):
    from textsel.strategies import canonical_strategy

    seed_labels(project, tmp_path)
    with Project(project) as opened:
        opened.store.add_round(strategy="mlp", params={"n": 1}, seed=0, doc_ids=[501], scores=[0.5], pool_size=120,
                               candidate_pool_size=10, select_seconds=0.0, train_seconds=0.0)
        opened.store.add_labels([501], ["fine"], source="test", round_id=1)
        (record,) = opened.store.rounds()
    assert canonical_strategy(record.strategy) == "most-likely-positive"
    result = invoke("status", "-p", project)
    assert result.exit_code == 0 and "mlp" in result.output


def shown_probabilities(output: str) -> dict[int, float]:
    """{id: P} from the rows of `textsel next`'s table (# | id | P | score | text)."""
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in output.splitlines() if line.startswith("│")]
    return {int(row[1]): float(row[2]) for row in rows if row[0]}


def test_next_shows_the_models_positive_probability_beside_each_text(project, tmp_path):
    from textsel.learner import make_learner

    seed_labels(project, tmp_path)
    result = invoke("next", "-n", 5, "-s", "entropy", "-p", project)
    assert result.exit_code == 0, result.output
    assert "P(broken)" in result.output
    shown = shown_probabilities(result.output)
    with Project(project) as opened:
        (record,) = opened.store.rounds()
        labels = opened.store.current_labels()
        internal = list(labels)
        model = make_learner("logistic").fit(opened.embeddings()[opened.pool.positions(np.asarray(internal))],
                                             np.asarray([labels[i] for i in internal]))
        column = list(model.classes_).index("broken")
        expected = model.predict_proba(opened.embeddings()[opened.pool.positions(np.asarray(record.doc_ids))])
    assert list(shown) == record.doc_ids  # the project's ids are integers, shown as stored
    assert np.allclose([shown[i] for i in record.doc_ids], expected[:, column], atol=5e-4)  # 3 decimals shown
    again = invoke("next", "-p", project)  # the pending round: P from the project's trained model
    assert again.exit_code == 0 and "is not finished" in again.output
    assert np.allclose([shown_probabilities(again.output)[i] for i in record.doc_ids], expected[:, column],
                       atol=5e-4)


def test_next_says_there_is_no_probability_before_two_classes_are_labeled(project, tmp_path):
    invoke("import", write_labels(tmp_path / "one.csv", [(500, "broken")]), "-p", project)
    result = invoke("next", "-n", 3, "-s", "random", "--pool", "all", "-p", project)
    assert result.exit_code == 0, result.output
    assert "No P(broken) yet: the model needs labels of two classes" in flat(result.output)


def test_index_over_the_exact_backend_builds_no_neighbour_table_and_seals_searches_it(project, tmp_path):
    """A table over an exact index would cost one pass over the vectors per text; SEALS searches the index for each
    new label instead."""
    result = invoke("index", "-p", project, "-q")
    assert result.exit_code == 0 and "No neighbour table over the exact index" in result.output
    assert not (project / "cache" / "neighbours.npy").exists()
    seed_labels(project, tmp_path)
    assert invoke("next", "-p", project, "--pool", "seals", "-n", "3").exit_code == 0
    with Project(project) as opened:
        params = opened.store.rounds()[-1].params
    assert params["candidate_pool"] == "seals" and params["neighbours_from"] == "index"
    assert params["neighbour_queries"] == 12  # every label's neighbours, searched in the index
