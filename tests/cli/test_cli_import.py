"""`textsel import` round-trips: textsel's own csv/jsonl/hf exports and a Label Studio JSON export of the tasks
`next --out batch.json` wrote come back as the same labels; a bad file is refused whole with every bad row named;
an import that would replace a newer label warns (and keeps it with --keep-newer)."""

from __future__ import annotations

import csv
import json
import os
import time

import numpy as np
import pytest
from conftest import fake_embeddings
from textsel.cli.app import app
from typer.testing import CliRunner

from textsel.project import Project

runner = CliRunner()
TEXTS = [f"{'the zipper broke' if i % 5 == 0 else 'fits nicely'} (review {i})" for i in range(50)]


def invoke(*args):
    return runner.invoke(app, [str(arg) for arg in args])


def new_project(tmp_path, name):
    """A project over the same 50-text pool (ids 700..749) each time it is called."""
    data = tmp_path / "pool.csv"
    if not data.exists():
        with open(data, "w", newline="") as handle:
            csv.writer(handle).writerows([("id", "text"), *((700 + i, text) for i, text in enumerate(TEXTS))])
        np.save(tmp_path / "emb.npy", fake_embeddings(TEXTS, 8))
    result = invoke("init", tmp_path / name, "--data", data, "--id-col", "id", "--labels", "broken,fine",
                    "--embeddings", tmp_path / "emb.npy", "--backend", "exact")
    assert result.exit_code == 0, result.output
    return tmp_path / name


def current(project):
    with Project(project) as opened:
        return dict(zip(opened.external_ids(list(opened.store.current_labels())),
                        opened.store.current_labels().values(), strict=True))


def write_csv(path, rows, header=("id", "label")):
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


@pytest.mark.parametrize("name", ["labels.csv", "labels.jsonl", "labels_hf"])
def test_textsel_exports_import_back_as_the_same_labels(tmp_path, name):
    source = new_project(tmp_path, "a")
    assert invoke("label", "--ids", "700,705,710", "--label", "broken", "-p", source).exit_code == 0
    assert invoke("label", "--ids", "701,702", "--label", "fine", "-p", source).exit_code == 0
    export_format = "hf" if name.endswith("_hf") else None
    exported = invoke("export", tmp_path / name, *(["--format", export_format] if export_format else []),
                      "-p", source)
    assert exported.exit_code == 0, exported.output
    target = new_project(tmp_path, "b")
    result = invoke("import", tmp_path / name, "-p", target)
    assert result.exit_code == 0, result.output
    assert "Imported 5 labels" in result.output
    assert current(target) == current(source) == {700: "broken", 705: "broken", 710: "broken", 701: "fine",
                                                  702: "fine"}


def label_studio_export(batch_path, choices):
    """What Label Studio exports (JSON) after annotating the tasks textsel wrote: ``choices`` maps a task's
    position to its annotations as (choice or None, updated_at, was_cancelled)."""
    tasks = json.loads(batch_path.read_text())
    exported = []
    for number, task in enumerate(tasks):
        annotations = [{"id": 100 * number + k, "result": [] if choice is None else [
            {"from_name": "label", "to_name": "text", "type": "choices", "value": {"choices": [choice]}}],
            "was_cancelled": cancelled, "created_at": when, "updated_at": when}
            for k, (choice, when, cancelled) in enumerate(choices.get(number, []))]
        exported.append({"id": 9000 + number, "data": task["data"], "annotations": annotations, "predictions": []})
    return exported


def test_a_label_studio_export_of_a_next_batch_imports_its_latest_kept_annotations(tmp_path):
    project = new_project(tmp_path, "p")
    assert invoke("label", "--ids", "700,705", "--label", "broken", "-p", project).exit_code == 0
    assert invoke("label", "--ids", "701,702", "--label", "fine", "-p", project).exit_code == 0
    batch = invoke("next", "-n", 4, "-s", "random", "--pool", "all", "-o", tmp_path / "batch.json", "-p", project)
    assert batch.exit_code == 0, batch.output
    tasks = json.loads((tmp_path / "batch.json").read_text())
    assert all(isinstance(task["data"]["id"], str) for task in tasks)  # never rounded by JavaScript
    ids = [int(task["data"]["id"]) for task in tasks]
    annotated = label_studio_export(tmp_path / "batch.json", {
        0: [("fine", "2026-01-01T10:00:00Z", False), ("broken", "2026-01-02T10:00:00.5Z", False)],  # latest wins
        1: [("broken", "2026-01-03T10:00:00Z", True), ("fine", "2026-01-01T10:00:00Z", False)],  # cancelled: no
        2: [],  # never annotated
        3: [(None, "2026-01-01T10:00:00Z", False)],  # submitted without a choice
    })
    (tmp_path / "annotated.json").write_text(json.dumps(annotated))
    result = invoke("import", tmp_path / "annotated.json", "-p", project)
    assert result.exit_code == 0, result.output
    assert "Imported 2 labels" in result.output and "(label-studio); 2 without a label passed over" in result.output
    labels = current(project)
    assert (labels[ids[0]], labels[ids[1]]) == ("broken", "fine") and ids[2] not in labels and ids[3] not in labels
    with Project(project) as opened:
        assert opened.store.pending()[1] == opened.resolve_ids(ids[2:])


def test_a_bad_file_is_refused_whole_naming_every_bad_row(tmp_path):
    project = new_project(tmp_path, "p")
    rows = [(700, "broken"), ("x7", "fine"), (9999, "fine"), (701, "meh"), (702, "fine"), (702, "broken"),
            (703, "")]
    result = invoke("import", write_csv(tmp_path / "bad.csv", rows), "-p", project)
    assert result.exit_code == 1
    line = result.output.strip()
    assert "\n" not in line and f"file {tmp_path / 'bad.csv'}: 4 bad rows, nothing imported" in line
    for expected in ("row 2, column 'id': id 'x7' is not an integer", "row 3, column 'id': id 9999 is not in the "
                     "pool", "row 4, column 'label': unknown label 'meh'",
                     "row 6, column 'label': id '702' is labeled 'broken' here but 'fine' on row 5"):
        assert expected in line
    mismatch = write_csv(tmp_path / "other.csv", [(700, "broken", "a text from another pool")],
                         ("id", "label", "text"))
    other = invoke("import", mismatch, "-p", project)
    assert other.exit_code == 1 and "row 1, column 'text': the text differs from the pool's text" in other.output
    many = invoke("import", write_csv(tmp_path / "many.csv", [(f"y{i}", "fine") for i in range(25)]), "-p", project)
    assert "25 bad rows" in many.output and "row 20," in many.output and "row 21," not in many.output
    assert "and 5 more" in many.output
    tasks = [{"data": {"id": 700}, "annotations": [{"result": [
        {"type": "choices", "value": {"choices": ["broken", "fine"]}}]}]}, {"text": "flat, not a task"}]
    (tmp_path / "ls.json").write_text(json.dumps(tasks))
    studio = invoke("import", tmp_path / "ls.json", "-p", project)
    assert studio.exit_code == 1 and "row 1, column 'label': the annotation holds 2 choices" in studio.output
    assert "row 2: not a Label Studio task" in studio.output
    with Project(project) as opened:
        assert opened.store.label_count() == 0


def test_an_import_that_would_replace_a_newer_label_warns_and_keep_newer_keeps_it(tmp_path):
    project = new_project(tmp_path, "p")
    old_file = write_csv(tmp_path / "old.csv", [(700, "fine"), (701, "fine"), (702, "broken")])
    an_hour_ago = time.time() - 3600
    os.utime(old_file, (an_hour_ago, an_hour_ago))
    assert invoke("label", "--ids", "700,702", "--label", "broken", "-p", project).exit_code == 0
    kept = invoke("import", old_file, "--keep-newer", "-p", project)
    assert kept.exit_code == 0 and "Imported 2 labels" in kept.output
    assert "Warning: 1 texts had a label made after the file's label; kept them: id 700" in kept.output
    assert current(project) == {700: "broken", 701: "fine", 702: "broken"}
    replaced = invoke("import", old_file, "-p", project)
    assert replaced.exit_code == 0 and "replaced them" in replaced.output
    assert "Replaced 1 earlier label (kept in the history): id 700 (broken -> fine)" in replaced.output
    assert current(project)[700] == "fine"


def test_label_studio_shapes_it_never_writes_are_named_per_row(tmp_path):
    """Issue 19, case 8: `choices: 5` was a TypeError traceback, `value: [..]` an AttributeError."""
    project = new_project(tmp_path, "p")

    def task(doc_id, result):
        return {"data": {"id": doc_id}, "annotations": [{"result": result}]}

    tasks = [task(700, [{"type": "choices", "value": {"choices": 5}}]),
             task(701, [{"type": "choices", "value": ["fine"]}]),
             task(702, ["fine"]),
             {"data": {"id": 703}, "annotations": {"result": []}},
             task(704, [{"type": "choices", "value": {"choices": ["fine"]}}])]
    (tmp_path / "odd.json").write_text(json.dumps(tasks))
    result = invoke("import", tmp_path / "odd.json", "-p", project)
    line = result.output.strip()
    assert result.exit_code == 1 and "\n" not in line and "4 bad rows, nothing imported" in line
    for expected in ("row 1, column 'label': a choices result's 'choices' must be a list of label names, got 5",
                     "row 2, column 'label': a choices result's 'value' must be an object",
                     "row 3, column 'label': the annotation's 'result' must be a list of objects",
                     "row 4, column 'label': 'annotations' must be a list"):
        assert expected in line
    assert current(project) == {}


def test_the_relabel_report_names_each_text_once(tmp_path):
    project = new_project(tmp_path, "p")
    assert invoke("label", "--ids", "700,701", "--label", "broken", "-p", project).exit_code == 0
    rows = [(700, "fine"), (701, "fine")] * 50
    result = invoke("import", write_csv(tmp_path / "repeated.csv", rows), "-p", project)
    output = " ".join(result.output.split())
    assert result.exit_code == 0 and "Replaced 2 earlier labels" in output
    assert output.count("(broken -> fine)") == 2
