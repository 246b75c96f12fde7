"""Seeding: the search prompt keeps one model loaded across queries and labels hits by rank; keyword and regex
search over the texts; data text is escaped on screen; predict writes a text column and clean p_<label> names;
a relabel says what it replaced."""

from __future__ import annotations

import csv

import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import fake_embeddings, flat
from textsel.cli.app import app
from typer.testing import CliRunner

from textsel.errors import DataError
from textsel.project import Project, probability_columns

runner = CliRunner()
TEXTS = ([f"Refund please, the zipper broke ({i})" for i in range(5)] + [f"refunded quickly, thanks ({i})" for i in
         range(3)] + [f"lovely dress number {i}" for i in range(22)] + ["\x1b]0;pwned\x07 [bold]refund[/bold]"])


def invoke(*args, stdin=None):
    return runner.invoke(app, [str(arg) for arg in args], input=stdin)



@pytest.fixture
def project(tmp_path):
    with open(tmp_path / "pool.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([("id", "text"), *((300 + i, text) for i, text in enumerate(TEXTS))])
    np.save(tmp_path / "emb.npy", fake_embeddings(TEXTS, 8))
    folder = tmp_path / "proj"
    assert invoke("init", folder, "--data", tmp_path / "pool.csv", "--id-col", "id", "--labels",
                  "needs refund,Fine!", "--embeddings", tmp_path / "emb.npy", "--backend", "exact").exit_code == 0
    return folder


class CountingEmbedder:
    """A stand-in for the sentence model: fake 8-dimensional vectors, and a count of how often it was loaded."""

    loads = 0

    def __init__(self):
        CountingEmbedder.loads += 1

    def encode(self, texts):
        return fake_embeddings(list(texts), 8)


def test_the_search_prompt_loads_the_model_once_and_labels_hits_by_rank(project, monkeypatch):
    monkeypatch.setattr(Project, "embedder", lambda self: CountingEmbedder())
    CountingEmbedder.loads = 0
    nearest = TEXTS[12]  # a query equal to a text finds that text first
    keys = f"{nearest}\n/zipper/\n:label needs refund 1,2\n:label nope 1\n:label Fine! 9\nlovely\n\n"
    result = invoke("search", "-n", 3, "-p", project, stdin=keys)
    assert result.exit_code == 0, result.output
    assert CountingEmbedder.loads == 1
    output = flat(result.output)
    assert "5 texts match /zipper/" in output and "Labeled 2 texts as needs refund" in output
    assert "unknown label 'nope'" in output and "rank 9 is not in the last list (1-3)" in output
    with Project(project) as opened:
        assert opened.store.current_labels() == {300: "needs refund", 301: "needs refund"}
        assert opened.search(nearest, 1)[0].doc_id == 312


def test_keyword_and_regex_search_rank_by_matches_and_escape_data_text(project):
    with Project(project) as opened:
        hits, total = opened.find_texts("REFUND", n=50)
        assert total == 9 and [hit.doc_id for hit in hits][:5] == [300, 301, 302, 303, 304]
        hits, total = opened.find_texts(r"refund(ed)?\b", regex=True, n=2)
        assert total == 9 and len(hits) == 2 and hits[0].score == 1.0
        with pytest.raises(DataError, match="not a valid regular expression"):
            opened.find_texts("refund(", regex=True)
    result = invoke("search", "--regex", "bold", "-p", project)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\\x1b]0;pwned\\x07" in result.output and "[bold]refund" in result.output
    keyword = invoke("search", "--keyword", "zipper broke", "-n", 2, "-p", project)
    assert keyword.exit_code == 0 and "5 texts match 'zipper broke'" in flat(keyword.output)
    both = invoke("search", "x", "--regex", "y", "-p", project)
    assert both.exit_code != 0 and "not several" in both.output


def test_predict_writes_text_and_clean_probability_columns(project, tmp_path):
    assert probability_columns(["needs refund", "Fine!", "needs-refund", "", "text"]) == [
        "p_needs_refund", "p_fine", "p_needs_refund_2", "p_class", "p_text"]
    assert invoke("label", "--ids", "300,301,305", "--label", "needs refund", "-p", project).exit_code == 0
    assert invoke("label", "--ids", "310,311,312", "--label", "Fine!", "-p", project).exit_code == 0
    assert invoke("predict", "-o", tmp_path / "preds.parquet", "-p", project).exit_code == 0
    table = pq.read_table(tmp_path / "preds.parquet")
    assert table.column_names == ["id", "text", "predicted", "p_needs_refund", "p_fine"]
    assert table.column("text").to_pylist() == TEXTS
    assert np.allclose(np.add(table.column("p_needs_refund"), table.column("p_fine")), 1.0)


def test_a_relabel_says_what_it_replaced(project):
    assert invoke("label", "--ids", "300,301", "--label", "Fine!", "-p", project).exit_code == 0
    result = invoke("label", "--ids", "300,301,302", "--label", "needs refund", "-p", project)
    assert result.exit_code == 0
    assert ("Replaced 2 earlier labels (kept in the history): id 300 (Fine! -> needs refund), 301 (Fine! -> needs "
            "refund)") in flat(result.output)
    same = invoke("label", "--ids", "302", "--label", "needs refund", "-p", project)
    assert same.exit_code == 0 and "Replaced" not in same.output
