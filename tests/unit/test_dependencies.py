"""Every third-party module the package imports is declared in pyproject.toml (a fresh install must not break)."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]


def _imported_top_level_modules() -> set[str]:
    names = set()
    for folder in ("textsel", "cli"):
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"textsel", "tomli"}  # tomli: the Python < 3.11 backport


def test_every_imported_package_is_a_declared_dependency():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = [requirement for group in project.get("optional-dependencies", {}).values() for requirement in group]
    declared = {re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")
                for requirement in [*project["dependencies"], *extras]}  # an extra declares an optional import
    distributions = packages_distributions()
    undeclared = {module: distributions.get(module, [module]) for module in _imported_top_level_modules()
                  if not {name.lower().replace("_", "-") for name in distributions.get(module, [module])} & declared}
    assert "scipy" in declared and "accelerate" in declared  # scipy: textsel.svp; accelerate: Trainer
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"
