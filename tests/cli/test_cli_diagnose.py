"""`textsel diagnose` and the embedding check in `textsel status`, on projects whose answer is known."""

from __future__ import annotations

import csv
import json

import numpy as np
from textsel.cli.app import app
from typer.testing import CliRunner

runner = CliRunner()


def make_project(tmp_path, *, positives_cluster: bool):
    """240 texts in 8 topic clusters; every 8th text is positive. Positives either form their own cluster
    (a concept the embedding captures) or stay in their topics (a concept it misses). All are labeled."""
    rng = np.random.default_rng(0)
    n, topics = 240, 8
    centres = rng.normal(size=(topics + 1, 24))
    is_positive = np.arange(n) % 8 == 0
    topic = rng.integers(topics, size=n)
    cluster = np.where(is_positive & positives_cluster, topics, topic)
    vectors = centres[cluster] + 0.2 * rng.normal(size=(n, 24))
    np.save(tmp_path / "emb.npy", vectors.astype(np.float32))
    words = ["spoiler ending dies twist" if p else "plot character book scene" for p in is_positive]
    with open(tmp_path / "pool.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text"])
        writer.writerows([f"{words[i]} topic{topic[i]} review {i}"] for i in range(n))
    with open(tmp_path / "labels.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "label"])
        writer.writerows([i, "spoiler" if p else "other"] for i, p in enumerate(is_positive))
    project = tmp_path / "proj"
    for args in (["init", project, "--data", tmp_path / "pool.csv", "--labels", "spoiler,other",
                  "--embeddings", tmp_path / "emb.npy", "--backend", "exact"],
                 ["import", tmp_path / "labels.csv", "--project", project]):
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == 0, result.output
    return project


def test_diagnose_stays_quiet_when_the_embedding_captures_the_concept(tmp_path):
    project = make_project(tmp_path, positives_cluster=True)
    result = runner.invoke(app, ["diagnose", "--project", str(project)])
    assert result.exit_code == 0, result.output
    assert "captures this concept" in result.output
    status = runner.invoke(app, ["status", "--project", str(project)])
    assert "Embedding check: The embedding captures" in status.output


def test_diagnose_flags_a_concept_scattered_over_topics(tmp_path):
    project = make_project(tmp_path, positives_cluster=False)
    result = runner.invoke(app, ["diagnose", "--project", str(project), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["mismatch"] is True
    assert report["knn_share_above_chance"] < 0.1 and report["n_positive"] == 30
    text = runner.invoke(app, ["diagnose", "--project", str(project)]).output
    assert "EMBEDDING-TASK MISMATCH" in text and "What to do" in text


def test_diagnose_with_too_few_labels_says_so(tmp_path):
    project = make_project(tmp_path, positives_cluster=True)
    (tmp_path / "few").mkdir()
    result = runner.invoke(app, ["init", str(tmp_path / "few" / "p"), "--data", str(tmp_path / "pool.csv"),
                                 "--labels", "spoiler,other", "--embeddings", str(tmp_path / "emb.npy"),
                                 "--backend", "exact"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["diagnose", "--project", str(tmp_path / "few" / "p")])
    assert result.exit_code == 1
    assert "at least 10 positive" in result.output
    assert project.exists()
