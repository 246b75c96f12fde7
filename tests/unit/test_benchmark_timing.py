"""The scale benchmarks' command timer (issue 22): each command's peak RSS is its own, not the largest of every
child the benchmark ran before it; a failing command raises with its stderr."""

from __future__ import annotations

import sys

import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
from review_sentences import Concept, first_output, timed  # noqa: E402


def test_each_command_reports_its_own_peak_rss():
    _, big, _ = timed([sys.executable, "-c", "b = bytearray(300 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])"])
    ballast = bytearray(400 * 1024 * 1024)  # the benchmark's own memory must not count as the command's
    ballast[::4096] = b"x" * len(ballast[::4096])
    _, small, out = timed([sys.executable, "-c", "print('small')"])
    assert big > 300 and small < 100 and out.strip() == "small"


def test_a_failing_command_raises_with_its_stderr():
    with pytest.raises(RuntimeError, match="boom"):
        timed([sys.executable, "-c", "import sys; sys.exit('boom')"])


INTERACTIVE = "print('card'); print('keys: q=quit', flush=True); import sys; print('got', sys.stdin.readline())"


def test_an_interactive_command_is_timed_to_its_marker_with_its_own_peak_rss():
    ballast = bytearray(400 * 1024 * 1024)  # the benchmark's own memory must not count as the command's
    ballast[::4096] = b"x" * len(ballast[::4096])
    wall, peak = first_output([sys.executable, "-c", INTERACTIVE], marker="q=quit")
    assert 0 < wall < 30 and peak < 100
    with pytest.raises(RuntimeError, match="without printing 'never'"):
        first_output([sys.executable, "-c", "print('no marker here')"], marker="never")


def test_concepts_are_column_equals_value():
    concept = Concept.parse("domain=office_products")
    assert (concept.column, concept.value, concept.label) == ("domain", "office_products", "office_products")
    with pytest.raises(ValueError):
        Concept.parse("office_products")


def test_seals_scale_counts_every_per_round_cost(tmp_path):
    """seals_scale on real sentences: each SEALS round saves and restores its candidate state (timed) and reads
    candidate rows from the float32 vectors directly, as `textsel next` does with static features; both sides pay the
    process start, and the total is the sum of the parts."""
    import argparse

    import numpy as np
    from seals_scale import sentence_session

    from textsel.index import ExactIndex

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(400, 8)).astype(np.float32)
    is_positive = np.arange(400) % 20 == 0
    ids = np.arange(400, dtype=np.int64)
    index = ExactIndex()
    index.add(vectors.astype(np.float32), ids)
    args = argparse.Namespace(k=2, batch=20, rounds=3, positives_at=120)
    seals = sentence_session(ids, vectors, is_positive, index, "seals", args, 0, 0.25, tmp_path)
    everything = sentence_session(ids, vectors, is_positive, index, "all", args, 0, 0.25, tmp_path / "all")
    assert [r["labels"] for r in seals["rounds"]] == [100, 120, 140]
    assert all(r["state_io_s"] > 0 for r in seals["rounds"]) and (tmp_path / "candidates.npz").exists()
    # SEALS keeps its candidates' rows, as textsel next does (k=2 keeps the candidates under half the pool, the share
    # up to which their rows are held rather than the pool scanned)
    assert (tmp_path / "candidate_rows.f32").exists()
    assert all(r["process_start_s"] == 0.25 for r in seals["rounds"] + everything["rounds"])
    for r in seals["rounds"] + everything["rounds"]:
        assert np.isclose(r["total_s"], r["train_s"] + r["select_s"] + r["state_io_s"] + r["process_start_s"])
    assert everything["rounds"][0]["candidates"] == 300 and seals["positives_at"] is not None


def test_seals_scale_checks_its_float32_copy_against_the_float16_source(tmp_path):
    """The cached float32 rows are written again when they are missing, damaged, or made from other vectors."""
    import numpy as np
    from seals_scale import float32_rows

    source, copy = tmp_path / "static.f16.npy", tmp_path / "static.f32.npy"
    vectors = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float16)
    np.save(source, vectors)
    assert np.array_equal(float32_rows(source, copy), vectors.astype(np.float32))
    np.save(copy, np.zeros((50, 4), dtype=np.float32))  # a copy of other vectors
    assert np.array_equal(float32_rows(source, copy), vectors.astype(np.float32))
    copy.write_bytes(b"not a numpy file")
    assert np.array_equal(float32_rows(source, copy), vectors.astype(np.float32))
    np.save(source, vectors[:40])  # the source changed size
    assert float32_rows(source, copy).shape == (40, 4)


def test_the_build_waits_for_its_own_load_to_settle_and_gives_up_on_a_loaded_machine(monkeypatch):
    """The end load is read once the build's own load has decayed to the core count; a machine that stays loaded
    is waited for at most the limit (its file is then marked busy by the writer)."""
    import next_latency

    loads = iter([2.6, 2.3, 1.9, 9.0])
    monkeypatch.setattr(next_latency, "load_average", lambda: next(loads))
    monkeypatch.setattr(next_latency.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(next_latency.time, "sleep", lambda seconds: None)
    next_latency.settle_own_load()
    assert next(loads) == 9.0  # stopped polling at 1.9
    monkeypatch.setattr(next_latency, "load_average", lambda: 5.0)
    assert next_latency.settle_own_load(limit_s=0.05) >= 0.05
