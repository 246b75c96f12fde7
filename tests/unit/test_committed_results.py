"""Every committed results file carries complete, current-schema provenance; derived files sit beside their JSON.

A figure in benchmarks/results or recipes/results is only worth what a reader can check about it: which code, which
command, which machine, which seeds. A file without provenance, or written by an older schema, is stale: rerun the
benchmark or recipe that wrote it (never edit a results file by hand).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO

from textsel.provenance import check_provenance

RESULT_FOLDERS = [REPO / "benchmarks" / "results", REPO / "recipes" / "results"]
DERIVED = (".md", ".png", ".log")


def committed(suffixes: tuple[str, ...]) -> list[Path]:
    return sorted(path for folder in RESULT_FOLDERS if folder.exists() for path in folder.iterdir()
                  if path.suffix in suffixes and path.name != "README.md")


def test_there_are_committed_results_to_check() -> None:
    assert committed((".json",)), "no results files found: the folders moved or the check reads the wrong place"


@pytest.mark.parametrize("path", committed((".json",)), ids=lambda path: f"{path.parent.parent.name}/{path.name}")
def test_results_file_has_complete_current_provenance(path: Path) -> None:
    problems = check_provenance(json.loads(path.read_text(encoding="utf-8")))
    assert not problems, f"{path.name}: {'; '.join(problems)} (rerun what wrote it)"


@pytest.mark.parametrize("path", committed(DERIVED), ids=lambda path: f"{path.parent.parent.name}/{path.name}")
def test_derived_file_sits_beside_a_json_with_provenance(path: Path) -> None:
    source = path.with_suffix(".json")
    assert source.exists(), f"{path.name} has no {source.name} beside it to say where it came from"
    assert not check_provenance(json.loads(source.read_text(encoding="utf-8")))
