"""The shared reporting of benchmarks/: provenance on every results file, spreads, break-even rounds, build costs."""

from __future__ import annotations

import json
import sys

import pytest
from conftest import REPO

from textsel.provenance import check_provenance

sys.path.insert(0, str(REPO / "benchmarks"))
from _results import BuildRecord, break_even_rounds, finish, mean_ci95  # noqa: E402


def test_finish_writes_and_prints_the_payload_with_provenance(tmp_path, capsys) -> None:
    out = tmp_path / "nested" / "bench.json"
    result = finish({"ratio": 2.0}, seeds=[0, 1], started=0.0, out=out)
    written = json.loads(out.read_text())
    assert written == result and written["ratio"] == 2.0 and check_provenance(written) == []
    assert written["provenance"]["seeds"] == [0, 1]
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == written


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
