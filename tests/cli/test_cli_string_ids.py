"""String ids (``tw13983``, UUIDs): accepted wherever a user types or imports an id, stored and exported as
given, hashed to the same internal ids whatever the row order; integer pools keep integer ids."""

from __future__ import annotations

import csv
import json
import uuid

import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import fake_embeddings
from textsel.cli.app import app
from typer.testing import CliRunner

from textsel.data import Pool, load_pool
from textsel.data._pool import key_to_id
from textsel.errors import DataError
from textsel.project import Project

runner = CliRunner()
TEXTS = [f"{'the seam tore on day one' if i % 4 == 0 else 'soft fabric, fits well'} (review {i})" for i in range(40)]


def invoke(*args, stdin=None):
    return runner.invoke(app, [str(arg) for arg in args], input=stdin)


def write_pool(path, ids, texts=TEXTS):
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([("id", "text"), *zip(ids, texts, strict=True)])
    return path


def make_project(tmp_path, ids, name="proj"):
    data = write_pool(tmp_path / f"{name}.csv", ids)
    np.save(tmp_path / f"{name}.npy", fake_embeddings(TEXTS, 8))
    folder = tmp_path / name
    result = invoke("init", folder, "--data", data, "--id-col", "id", "--labels", "torn,fine",
                    "--embeddings", tmp_path / f"{name}.npy", "--backend", "exact")
    assert result.exit_code == 0, result.output
    return folder


TWEET_IDS = [f"tw{13983 + i}" for i in range(len(TEXTS))]
UUIDS = [str(uuid.UUID(int=i * 7919 + 1)) for i in range(len(TEXTS))]


def test_a_string_id_column_keeps_the_ids_as_given_and_maps_them_to_stable_internal_ids(tmp_path):
    pool = load_pool(write_pool(tmp_path / "pool.csv", TWEET_IDS), id_col="id")
    assert pool.has_string_ids and pool.keys.tolist() == TWEET_IDS
    assert pool.ids.tolist() == [key_to_id(key) for key in TWEET_IDS] and (pool.ids >= 0).all()
    assert pool.external(pool.ids[[3, 0]]) == ["tw13986", "tw13983"]
    assert pool.resolve(["tw13986", " tw13983 "]).tolist() == pool.ids[[3, 0]].tolist()
    with pytest.raises(DataError, match="id 'tw1' is not in the pool"):
        pool.resolve(["tw13986", "tw1"])
    reordered = load_pool(write_pool(tmp_path / "rev.csv", TWEET_IDS[::-1], TEXTS[::-1]), id_col="id")
    assert reordered.resolve(["tw13986"]).tolist() == pool.resolve(["tw13986"]).tolist()
    assert pool.subset([5]).external(pool.ids[[5]]) == ["tw13988"]
    integers = Pool(ids=[10, 11], texts=["a", "b"])
    assert integers.resolve(["11", 10]).tolist() == [11, 10] and integers.external([11]) == [11]
    with pytest.raises(DataError, match="'x' is not an integer"):
        integers.resolve(["x"])


@pytest.mark.parametrize("ids", [TWEET_IDS, UUIDS], ids=["tweet", "uuid"])
def test_string_ids_through_label_next_import_export_search_and_predict(tmp_path, ids):
    project = make_project(tmp_path, ids)
    positives, negatives = [ids[i] for i in (0, 4, 8)], [ids[i] for i in (1, 2, 3)]
    assert invoke("label", "--ids", ",".join(positives), "--label", "torn", "-p", project).exit_code == 0
    with open(tmp_path / "neg.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([("id", "label"), *((doc_id, "fine") for doc_id in negatives)])
    imported = invoke("import", tmp_path / "neg.csv", "-p", project)
    assert imported.exit_code == 0 and "Imported 3 labels" in imported.output
    unknown = invoke("label", "--ids", f"{ids[5]},nope-1", "--label", "torn", "-p", project)
    assert unknown.exit_code == 1 and "id 'nope-1' is not in the pool" in unknown.output

    batch = invoke("next", "-n", 4, "-s", "random", "--pool", "all", "-o", tmp_path / "batch.json", "-p", project)
    assert batch.exit_code == 0, batch.output
    tasks = json.loads((tmp_path / "batch.json").read_text())
    assert all(task["data"]["id"] in ids for task in tasks)
    assert any(task["data"]["id"][:8] in batch.output for task in tasks)

    assert invoke("export", tmp_path / "labels.csv", "-p", project).exit_code == 0
    with open(tmp_path / "labels.csv") as handle:
        exported = {row["id"]: row["label"] for row in csv.DictReader(handle)}
    assert exported == {**dict.fromkeys(positives, "torn"), **dict.fromkeys(negatives, "fine")}

    with Project(project) as opened:
        hits, total = opened.find_texts("seam tore", n=3)
        assert total == 10 and {hit.doc_id for hit in hits} <= set(ids[::4])
        stored = opened.store.current_labels()
        assert sorted(opened.external_ids(list(stored))) == sorted(positives + negatives)
        keys = opened.store.doc_keys()  # the database names its documents by their ids as given
        assert {keys[doc_id] for doc_id in stored} == set(positives + negatives)
    assert invoke("predict", "-o", tmp_path / "preds.parquet", "-p", project).exit_code == 0
    table = pq.read_table(tmp_path / "preds.parquet").to_pydict()
    assert table["id"] == ids and table["text"] == TEXTS



@pytest.mark.parametrize("odd", ["007", "+5", "1_000", "٣", " 9", "9 ", "-0"])
def test_an_id_column_with_one_non_canonical_integer_keeps_every_id_as_given(tmp_path, odd):
    """Issue 19, case 6: `007`, `+5`, `1_000`, `٣` and ids with spaces were read as integers (7, 5, 1000, 3)."""
    ids = [odd, *(str(100 + i) for i in range(len(TEXTS) - 1))]
    pool = load_pool(write_pool(tmp_path / "pool.csv", ids), id_col="id")
    assert pool.has_string_ids and pool.external(pool.ids)[:2] == [odd, "100"]
    canonical = load_pool(write_pool(tmp_path / "ints.csv", [str(i - 3) for i in range(len(TEXTS))]), id_col="id")
    assert not canonical.has_string_ids and canonical.ids[:4].tolist() == [-3, -2, -1, 0]


def test_ids_with_spaces_label_exactly_and_round_trip_through_export_and_import(tmp_path):
    ids = [" a", "a", *(f"r{i}" for i in range(len(TEXTS) - 2))]
    project = make_project(tmp_path, ids)
    assert invoke("label", "--ids", " a", "--label", "torn", "-p", project).exit_code == 0
    assert invoke("label", "--ids", "a,r3", "--label", "fine", "-p", project).exit_code == 0
    for suffix in ("csv", "jsonl", "json"):
        out = tmp_path / f"labels.{suffix}"
        assert invoke("export", out, "-p", project).exit_code == 0
        copy = make_project(tmp_path, ids, name=f"copy_{suffix}")
        result = invoke("import", out, "-p", copy)
        assert result.exit_code == 0, result.output
        with Project(copy) as opened:
            labels = {opened.external_ids([doc_id])[0]: label
                      for doc_id, label in opened.store.current_labels().items()}
        assert labels == {" a": "torn", "a": "fine", "r3": "fine"}


def test_label_ids_counts_each_text_once(tmp_path):
    project = make_project(tmp_path, [f"r{i}" for i in range(len(TEXTS))])
    result = invoke("label", "--ids", "r2,r2,r2", "--label", "torn", "-p", project)
    assert result.exit_code == 0 and "Labeled 1 text as torn." in result.output
