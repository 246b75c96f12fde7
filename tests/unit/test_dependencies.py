"""Every third-party module the package imports is declared in pyproject.toml (a fresh install must not break)."""

from __future__ import annotations

import ast
import functools
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


def _declared_by_group() -> dict[str, set[str]]:
    """Normalised distribution names per group: "core" and each extra."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    groups = {"core": project["dependencies"], **project.get("optional-dependencies", {})}
    return {group: {re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")
                    for requirement in requirements} for group, requirements in groups.items()}


@functools.cache
def _installed() -> dict[str, list[str]]:
    return packages_distributions()  # scans every installed distribution: once per session


def _distributions(module: str) -> set[str]:
    return {name.lower().replace("_", "-") for name in _installed().get(module, [module])}


def _third_party(names: set[str], local: set[str]) -> set[str]:
    return names - set(sys.stdlib_module_names) - {"textsel", "tomli"} - local


def _top_level_imports(tree: ast.Module) -> set[str]:
    """Modules imported when the file is imported: at module level, not inside functions or ``if TYPE_CHECKING``."""
    names: set[str] = set()
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.If | ast.Try):
            pending.extend([*node.body, *node.orelse, *getattr(node, "finalbody", [])])
    return names


# Files run by another interpreter, never by textsel's: the packages that interpreter brings.
OTHER_VENVS = {"benchmarks/_asreview_worker.py": {"asreview"}}  # ASReview LAB in its own venv (benchmarks/screening.py)


def test_benchmarks_recipes_and_tests_import_only_declared_packages():
    """They run in a checkout installed with the extras: what they import is declared in the core or an extra."""
    declared = set().union(*_declared_by_group().values())
    folders = ("benchmarks", "recipes", "tests")
    local = {path.stem for folder in folders for path in (REPO / folder).rglob("*.py")} | set(folders)  # sys.path
    for folder in folders:
        for path in (REPO / folder).rglob("*.py"):
            names = set()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.add(node.module.split(".")[0])
            names -= OTHER_VENVS.get(str(path.relative_to(REPO)), set())
            undeclared = sorted(name for name in _third_party(names, local) if not _distributions(name) & declared)
            assert not undeclared, f"{path.relative_to(REPO)} imports undeclared {undeclared}"


def test_pandas_is_declared_wherever_a_table_becomes_a_data_frame():
    """``to_pandas()`` imports pandas without an import statement, so the import scan above cannot see it."""
    users = [path.relative_to(REPO) for folder in ("textsel", "cli", "benchmarks", "recipes", "tests")
             for path in (REPO / folder).rglob("*.py")
             if re.search(r"\.to_pandas\(|^\s*(import|from) pandas\b", path.read_text(encoding="utf-8"), re.M)]
    if users:
        assert "pandas" in set().union(*_declared_by_group().values()), f"{users} need pandas declared"


def test_a_core_install_imports_every_module_and_extras_load_only_when_used():
    """A package declared only in an extra is imported inside the function that needs it, so every module of the
    package imports on a core install; each such import is declared in an extra."""
    groups = _declared_by_group()
    extras_only = set().union(*(names for group, names in groups.items() if group != "core")) - groups["core"]
    for folder in ("textsel", "cli"):
        for path in (REPO / folder).rglob("*.py"):
            top = _third_party(_top_level_imports(ast.parse(path.read_text(encoding="utf-8"))), set())
            eager = sorted(name for name in top if _distributions(name) & extras_only)
            assert not eager, f"{path.relative_to(REPO)} imports extra-only {eager} at module level"
