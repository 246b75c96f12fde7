"""The provenance block that every results file carries, and the check run over committed results."""

from __future__ import annotations

import time

from textsel.provenance import REQUIRED_KEYS, SCHEMA_VERSION, check_provenance, results_with_provenance


def test_results_carry_every_required_key():
    started = time.perf_counter()
    results = results_with_provenance({"ratio": 1.5}, seeds=[0, 1], started=started, command=["bench.py", "--n", "5"])
    block = results["provenance"]
    assert results["ratio"] == 1.5
    assert set(REQUIRED_KEYS) <= set(block)
    assert block["command"] == "bench.py --n 5"
    assert block["seeds"] == [0, 1] and block["wall_seconds"] >= 0
    assert block["schema_version"] == SCHEMA_VERSION
    assert block["machine"]["cores"] >= 1 and block["packages"]["numpy"]
    assert check_provenance(results) == []


def test_check_names_what_is_missing_or_outdated():
    assert check_provenance({"ratio": 1.0}) == ["no 'provenance' block"]
    block = results_with_provenance({}, seeds=None, started=time.perf_counter())["provenance"]
    del block["seeds"]
    block["schema_version"] = SCHEMA_VERSION - 1
    problems = check_provenance({"provenance": block})
    assert any("'seeds'" in problem for problem in problems)
    assert any("schema" in problem for problem in problems)


def test_only_changed_code_makes_the_tree_dirty_not_changed_results(tmp_path):
    import subprocess

    from textsel.provenance import git_state

    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True,
                       capture_output=True)

    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / "code.py").write_text("x = 1\n")
    (tmp_path / "benchmarks" / "results" / "run.json").write_text("{}\n")
    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "start")
    (tmp_path / "benchmarks" / "results" / "run.json").write_text('{"stage": 2}\n')  # a run saving in stages
    commit, dirty = git_state(tmp_path / "benchmarks")
    assert len(commit) == 40 and dirty is False
    (tmp_path / "code.py").write_text("x = 2\n")
    assert git_state(tmp_path) == (commit, True)
