"""The shared reporting of benchmarks/: provenance on every results file, spreads, break-even rounds, build costs."""

from __future__ import annotations

import argparse
import json
import os
import sys

import pytest
from conftest import REPO

from textsel.provenance import check_provenance

sys.path.insert(0, str(REPO / "benchmarks"))
import _results  # noqa: E402
from _results import BuildRecord, DirtyTree, add_run_options, break_even_rounds, mean_ci95, start_run  # noqa: E402


@pytest.fixture
def clean_tree(monkeypatch):
    """A checkout without uncommitted changes, whatever state the developer's tree is in."""
    monkeypatch.setattr(_results, "git_state", lambda: ("abc123", False))


def test_finish_writes_and_prints_the_payload_with_provenance(tmp_path, capsys, clean_tree, monkeypatch) -> None:
    monkeypatch.setattr(_results, "load_average", lambda: 0.5)
    out = tmp_path / "nested" / "bench.json"
    result = start_run().finish({"ratio": 2.0}, seeds=[0, 1], out=out)
    written = json.loads(out.read_text())
    assert written == result and written["ratio"] == 2.0 and check_provenance(written) == []
    block = written["provenance"]
    assert block["seeds"] == [0, 1] and block["git_commit"] == "abc123"
    assert block["load_average_1min"] == {"start": 0.5, "end": 0.5} and block["cores"] >= 1
    assert block["busy"] is False and block["quotable"] is True and "dirty" not in block
    assert isinstance(block["machine"]["cpu_flags"], list)
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == written


def test_a_run_under_more_load_than_cores_is_marked_busy_and_not_quotable(tmp_path, clean_tree, monkeypatch) -> None:
    loads = iter([0.2, 10.0 * (os.cpu_count() or 1)])  # quiet at the start, crowded at the end
    monkeypatch.setattr(_results, "load_average", lambda: next(loads))
    block = start_run().write({"ratio": 2.0}, [0], tmp_path / "bench.json")["provenance"]
    assert block["busy"] is True and block["quotable"] is False


def test_a_dirty_tree_is_refused_unless_allowed_and_then_marked(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(_results, "git_state", lambda: ("abc123", True))
    with pytest.raises(DirtyTree, match="uncommitted changes"):
        start_run()
    args = add_run_options(argparse.ArgumentParser()).parse_args(["--allow-dirty"])
    block = start_run(args).write({"ratio": 2.0}, [0], tmp_path / "bench.json")["provenance"]
    assert block["dirty"] is True and block["git_dirty"] is True and block["quotable"] is False


def test_mean_ci95_is_a_t_interval_over_seeds() -> None:
    spread = mean_ci95([1.0, 2.0, 3.0, None])
    assert spread["n"] == 3 and spread["mean"] == 2.0 and spread["sd"] == 1.0
    # t(0.975, 2) = 4.303: half width 4.303 / sqrt(3)
    assert spread["ci95"] == pytest.approx([2.0 - 2.4843, 2.0 + 2.4843], abs=1e-3)
    assert mean_ci95([5.0]) == {"mean": 5.0, "sd": None, "ci95": [None, None], "n": 1}
    assert mean_ci95([])["mean"] is None


def test_break_even_rounds_counts_rounds_until_seals_has_paid_its_one_time_cost() -> None:
    # SEALS pays 10 s up front and saves 3 s a round: even after 4 rounds (12 s saved)
    assert break_even_rounds(10.0, 0.0, seals_round_s=1.0, all_round_s=4.0) == 4
    assert break_even_rounds(5.0, 8.0, seals_round_s=1.0, all_round_s=2.0) == 0  # ahead from the start
    assert break_even_rounds(10.0, 0.0, seals_round_s=2.0, all_round_s=1.0) is None  # never catches up
    assert break_even_rounds(None, 0.0, seals_round_s=1.0, all_round_s=2.0) is None  # unknown build cost


def test_build_record_keeps_the_real_build_time_for_cache_hits(tmp_path) -> None:
    artefact = tmp_path / "pool.hnsw"
    record = BuildRecord(artefact)
    assert record.seconds() is None  # an older cache without a record: unknown, never 0
    record.save(12.5)
    assert BuildRecord(artefact).seconds() == 12.5
    assert json.loads((tmp_path / "pool.hnsw.build.json").read_text())["machine"]["cores"] >= 1
    record.path.write_text("{broken")
    assert record.seconds() is None
