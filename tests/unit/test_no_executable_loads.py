"""Nothing textsel ships loads a file in a way that can run code from it: no pickle, joblib or marshal, no
``torch.load`` without ``weights_only=True``, no ``np.load`` with ``allow_pickle=True`` (a project folder or a
data set received from someone else must be safe to open)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = sorted(path for folder in ("textsel", "cli", "recipes", "benchmarks")
                 for path in (REPO / folder).rglob("*.py"))
UNSAFE_MODULES = {"pickle", "cPickle", "dill", "joblib", "marshal", "shelve", "cloudpickle"}


def _keyword(call: ast.Call, name: str) -> object:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value.value if isinstance(keyword.value, ast.Constant) else "not a constant"
    return None


def unsafe_loads(source: str) -> list[str]:
    """Each import of a pickle-like module or call that may unpickle, as 'line: what'."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"{node.lineno}: import {name}" for name in names if name.split(".")[0] in UNSAFE_MODULES]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "load":
            owner = ast.unparse(node.func.value)
            if owner == "torch" and _keyword(node, "weights_only") is not True:
                found.append(f"{node.lineno}: torch.load without weights_only=True")
            if owner in ("np", "numpy") and _keyword(node, "allow_pickle") not in (None, False):
                found.append(f"{node.lineno}: np.load with allow_pickle")
    return found


def test_the_check_finds_each_kind_of_unsafe_load():
    code = ("import pickle\nfrom joblib import load\nimport torch\nimport numpy as np\n"
            "torch.load('m.pt')\ntorch.load('m.pt', weights_only=True)\nnp.load('a.npy', allow_pickle=True)\n"
            "np.load('a.npy')\n")
    assert unsafe_loads(code) == ["1: import pickle", "2: import joblib", "5: torch.load without weights_only=True",
                                  "7: np.load with allow_pickle"]


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(REPO)))
def test_no_shipped_code_loads_files_that_can_run_code(path):
    assert unsafe_loads(path.read_text(encoding="utf-8")) == []
