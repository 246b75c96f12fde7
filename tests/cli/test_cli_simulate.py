"""`textsel simulate` end to end on a tiny generated data set with precomputed fake embeddings."""

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import fake_embeddings
from textsel.cli.app import app
from typer.testing import CliRunner

from textsel.provenance import check_provenance


@pytest.fixture
def tiny(tmp_path):
    n = 240
    topics = np.where(np.arange(n) % 7 == 0, "rare", np.where(np.arange(n) % 2 == 0, "common", "other"))
    texts = [f"{topic} review number {i}" for i, topic in enumerate(topics)]
    split = np.where(np.arange(n) % 4 == 3, "test", "train")
    pq.write_table(pa.table({"id": np.arange(n), "text": texts, "topic": topics, "split": split}),
                   tmp_path / "data.parquet")
    vectors = fake_embeddings(texts, dim=8)
    vectors[topics == "rare", 0] += 2.0  # make the rare topic findable
    np.save(tmp_path / "vectors.npy", vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    return tmp_path


def test_simulate_writes_results_summary_and_plot(tiny):
    out = tiny / "out"
    result = CliRunner().invoke(app, [
        "simulate", str(tiny / "data.parquet"), "--out", str(out), "--embeddings", str(tiny / "vectors.npy"),
        "--label-col", "topic", "--positive", "rare", "--strategy", "mlp", "--strategy", "maxent",
        "--pool", "seals", "--pool", "all", "--k", "10", "--seed-positives", "2", "--seed-negatives", "8",
        "--batch", "10", "--budget", "40", "--repeats", "2", "--test-split", "split=test",
        "--index-backend", "exact"])
    assert result.exit_code == 0, result.output
    assert "mlp / seals" in result.output and "plot.png" in result.output
    assert "mean ± sd over 2 repeats" in result.output
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(records) == 2 * 2 * 2 * 4  # strategies x pools x repeats x (3 selection rounds + final)
    assert {r["pool"] for r in records} == {"seals", "all"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["pool_size"] == 180 and summary["test_size"] == 60 and summary["concept"] == "rare"
    assert len(summary["runs"]) == 4 and all(run["repeats"] == 2 for run in summary["runs"])
    assert all(0 <= run["final_average_precision"]["mean"] <= 1 for run in summary["runs"])
    assert check_provenance(summary) == [] and summary["provenance"]["seeds"] == [0, 1]  # seed and seed + 1
    assert (out / "plot.png").read_bytes()[:4] == b"\x89PNG"


def test_simulate_multiclass_with_a_test_fraction(tiny):
    out = tiny / "multi"
    result = CliRunner().invoke(app, [
        "simulate", str(tiny / "data.parquet"), "--out", str(out), "--embeddings", str(tiny / "vectors.npy"),
        "--label-col", "topic", "--pool", "random", "--pool", "seals", "--strategy", "id", "--strategy", "kcenter",
        "--random-pool-size", "50", "--seed-positives", "3",
        "--seed-negatives", "0", "--batch", "5", "--budget", "19", "--test-split", "0.25", "--index-backend",
        "exact"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["concept"] == "multiclass" and summary["test_size"] == 60
    assert len(summary["runs"]) == 4 and all(run["final_labels"]["mean"] == 19 for run in summary["runs"])
    assert all(run["final_average_precision"]["mean"] is not None for run in summary["runs"])


def test_simulate_embeds_with_textsel_embed_when_no_vectors_are_given(tiny, monkeypatch):
    import textsel.embed

    calls = []

    def fake_embed_pool(pool, *, cache_dir, show_progress):
        calls.append((cache_dir, show_progress))
        return fake_embeddings(pool.texts, dim=8)

    monkeypatch.setenv("TEXTSEL_HOME", str(tiny / "home"))

    monkeypatch.setattr(textsel.embed, "embed_pool", fake_embed_pool)
    out = tiny / "embedded"
    result = CliRunner().invoke(app, ["simulate", str(tiny / "data.parquet"), "--out", str(out), "--label-col",
                                      "topic", "--positive", "rare", "--seed-positives", "2", "--seed-negatives",
                                      "8", "--batch", "10", "--budget", "20", "--index-backend", "exact"])
    assert result.exit_code == 0, result.output
    assert calls == [(tiny / "home" / "embeddings", True)]  # the shared cache, not under --out; with progress
    assert json.loads((out / "summary.json").read_text())["runs"][0]["final_labels"]["mean"] == 20


@pytest.mark.parametrize(("extra", "message"), [
    (["--positive", "missing"], "positive value 'missing' does not occur"),
    (["--positive", "rare", "--budget", "50"], "'budget' parameter of simulate"),
    (["--positive", "rare", "--strategy", "best"], "'strategy' parameter of simulate"),
    (["--positive", "rare", "--test-split", "split=nothing"], "no row has split == 'nothing'"),
    (["--positive", "rare", "--label-col", "nope"], "no column 'nope'"),
])
def test_simulate_bad_input_exits_with_a_clear_error(tiny, extra, message):
    out = tiny / "bad"
    result = CliRunner().invoke(app, ["simulate", str(tiny / "data.parquet"), "--out", str(out), "--embeddings",
                                      str(tiny / "vectors.npy"), "--index-backend", "exact", "--label-col",
                                      "topic", *extra])
    assert result.exit_code == 1
    assert message in result.output
    assert not out.exists()


class CountingEncoder:
    """Stands in for the packaged MiniLM: deterministic vectors, and a count of the texts it was asked to encode."""

    name = "counting-encoder"
    max_seq_length = None
    normalize = True
    encoded = 0

    def encode(self, texts, on_batch=None):
        CountingEncoder.encoded += len(texts)
        if on_batch is not None:
            on_batch(len(texts))
        return fake_embeddings(list(texts), dim=8)


def test_simulate_reuses_the_shared_content_keyed_embedding_cache_across_outputs(tiny, monkeypatch):
    import textsel.embed

    monkeypatch.setenv("TEXTSEL_HOME", str(tiny / "home"))
    monkeypatch.setattr(textsel.embed, "Embedder", CountingEncoder)
    CountingEncoder.encoded = 0
    args = ["--label-col", "topic", "--positive", "rare", "--seed-positives", "2", "--seed-negatives", "8",
            "--batch", "10", "--budget", "20", "--index-backend", "exact"]
    first = CliRunner().invoke(app, ["simulate", str(tiny / "data.parquet"), "--out", str(tiny / "a"), *args])
    assert first.exit_code == 0, first.output
    assert CountingEncoder.encoded == 240
    assert "Embedding" in first.output  # the progress bar
    second = CliRunner().invoke(app, ["simulate", str(tiny / "data.parquet"), "--out", str(tiny / "b"), *args])
    assert second.exit_code == 0, second.output
    assert CountingEncoder.encoded == 240  # nothing embedded again for another --out
    assert len(list((tiny / "home" / "embeddings").glob("embeddings-*/embeddings.npy"))) == 1
    assert not list((tiny / "a").glob("embedding*")) and not list((tiny / "b").glob("embedding*"))
    finals = [[(run["final_average_precision"], run["final_positives_found"])
               for run in json.loads((tiny / folder / "summary.json").read_text())["runs"]] for folder in "ab"]
    assert finals[0] == finals[1]  # same vectors from the cache, same run
