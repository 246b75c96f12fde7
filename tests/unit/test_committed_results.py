"""Every committed results file carries complete, current-schema provenance from a clean tree (or says it did not),
its recorded command is the one that writes a file of its name, and derived files sit beside their JSON.

A figure in benchmarks/results or recipes/results is only worth what a reader can check about it: which code, which
command, which machine, which seeds. A file without provenance, written by an older schema, from a dirty tree without
the writer's ``dirty`` mark, or whose command writes another file, is stale: rerun the benchmark or recipe that
wrote it (never edit a results file by hand).
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from conftest import REPO

from textsel.provenance import check_provenance

RESULT_FOLDERS = [REPO / "benchmarks" / "results", REPO / "recipes" / "results"]
DERIVED = (".md", ".png", ".log")
# Options that make a script write under another name than its default (the naming bugs this test now catches).
SUFFIX_OF_OPTION = {"--selection-only": "_selection", "--train-target": "_target"}


def committed(suffixes: tuple[str, ...]) -> list[Path]:
    return sorted(path for folder in RESULT_FOLDERS if folder.exists() for path in folder.iterdir()
                  if path.suffix in suffixes and path.name != "README.md")


def command_problems(path: Path, document: dict) -> list[str]:
    """Why the recorded command cannot be what wrote ``path`` (empty when it can)."""
    words = shlex.split(document["provenance"]["command"])
    scripts = [word for word in words if word.endswith(".py")]
    if len(scripts) != 1:
        return [f"the command names {len(scripts)} scripts"]
    script = Path(scripts[0])
    problems = []
    if script.parent.name not in ("benchmarks", "recipes"):
        problems.append(f"{script} is not a benchmark or recipe")
    declared = document.get("benchmark") or document.get("recipe")
    if declared is not None and declared != script.stem:
        problems.append(f"the file says it came from {declared!r}, the command ran {script.name}")
    named_by = [script.stem] + ([document["data"]] if isinstance(document.get("data"), str) else [])
    if not any(path.stem.startswith(name) for name in named_by):
        problems.append(f"{script.name} does not write files named {path.stem}*")
    if "--out" in words and words.index("--out") + 1 < len(words):
        out = Path(words[words.index("--out") + 1])
        if out.suffix == ".json" and out.name != path.name:
            problems.append(f"the command wrote {out.name}")
    for option, suffix in SUFFIX_OF_OPTION.items():
        if option in words and not path.stem.endswith(suffix):
            problems.append(f"{option} writes a name ending in {suffix}")
    k = re.search(r"--k[ =](\d+)", document["provenance"]["command"])
    if script.parent.name == "recipes" and k and k.group(1) != "100" and not path.stem.endswith(f"_k{k.group(1)}"):
        problems.append(f"--k {k.group(1)} writes a name ending in _k{k.group(1)}")
    return problems


def dirt_problems(document: dict) -> list[str]:
    """A result from a tree with uncommitted changes must carry the writer's explicit ``dirty`` mark."""
    block = document["provenance"]
    if block.get("git_dirty") and block.get("dirty") is not True:
        return ["written from a tree with uncommitted changes and not marked dirty (the writer refuses that unless "
                "run with --allow-dirty, which marks it)"]
    return []


def test_there_are_committed_results_to_check() -> None:
    assert committed((".json",)), "no results files found: the folders moved or the check reads the wrong place"


@pytest.mark.parametrize("path", committed((".json",)), ids=lambda path: f"{path.parent.parent.name}/{path.name}")
def test_results_file_has_complete_current_provenance_from_a_clean_tree(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    problems = check_provenance(document)
    problems += [] if problems else dirt_problems(document) + command_problems(path, document)
    assert not problems, f"{path.name}: {'; '.join(problems)} (rerun what wrote it)"


def test_the_checks_refuse_an_unmarked_dirty_tree_and_a_mismatched_command() -> None:
    block = {"git_dirty": True, "command": "python benchmarks/svp_amazon.py --selection-only --seeds 0"}
    assert dirt_problems({"provenance": block})
    assert not dirt_problems({"provenance": block | {"dirty": True}})
    # the naming bug of cec3da1: a --selection-only run written over the full run's file
    assert command_problems(Path("svp_amazon_blitzer_neg25.json"), {"benchmark": "svp_amazon", "provenance": block})
    assert not command_problems(Path("svp_amazon_blitzer_neg25_selection.json"),
                                {"benchmark": "svp_amazon", "provenance": block})
    other = {"provenance": {"command": "python benchmarks/stopping.py --out benchmarks/results/stopping.json"}}
    assert command_problems(Path("seals_scale.json"), other)
    assert command_problems(Path("stopping_audit_only.json"), other)  # the command wrote stopping.json
    assert command_problems(Path("stopping.json"), {"benchmark": "seals_scale"} | other)


@pytest.mark.parametrize("path", committed(DERIVED), ids=lambda path: f"{path.parent.parent.name}/{path.name}")
def test_derived_file_sits_beside_a_json_with_provenance(path: Path) -> None:
    source = path.with_suffix(".json")
    assert source.exists(), f"{path.name} has no {source.name} beside it to say where it came from"
    assert not check_provenance(json.loads(source.read_text(encoding="utf-8")))
