"""Package-wide contracts: the public names exist, importing textsel stays light, every command has help,
and imports only point upstream in the data flow."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from textsel.cli.app import app
from typer.main import get_command
from typer.testing import CliRunner

import textsel

PACKAGE = Path(textsel.__file__).parent


def test_every_public_name_exists():
    missing = [name for name in textsel.__all__ if not hasattr(textsel, name)]
    assert not missing


def test_import_textsel_does_not_load_torch_or_models():
    code = ("import sys, textsel; heavy = [m for m in ('torch', 'sentence_transformers', 'fasttext', "
            "'transformers') if m in sys.modules]; print(','.join(heavy))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""


def test_every_command_has_help_text():
    root = get_command(app)
    runner = CliRunner()
    commands = {name: command for name, command in root.commands.items()}
    for group in [c for c in commands.values() if hasattr(c, "commands")]:
        commands.update({f"{group.name} {n}": c for n, c in group.commands.items()})
    assert {"init", "next", "label", "status", "diagnose", "simulate", "demo", "svp active"} <= set(commands)
    for name, command in commands.items():
        assert (command.help or "").strip(), f"`textsel {name}` has no help text"
        result = runner.invoke(app, [*name.split(), "--help"])
        assert result.exit_code == 0, (name, result.output)


# Stages in data-flow order; a module may import only from its own stage or earlier ones.
STAGES = ["errors", "ids", "_setops", "_atomic", "outputs", "tables", "vectors_export", "_disk", "_integrity",
          "_prefetch", "_progress", "_home", "provenance", "data", "embed", "ray_connect", "embed_ray", "static",
          "hnsw_check", "index", "features", "candidates", "candidate_state", "candidate_rows",
          "strategies", "proxy", "models", "learner", "score_ray", "rounds", "metrics",
          "estimate", "stratified", "certificate", "audit_sampling",
          "diagnose", "svp", "simulate", "svp_experiments", "store", "project_config", "status", "labeling", "export",
          "importing", "label_studio", "text_cache", "first_pass", "appended", "project", "relink", "concepts",
          "concept_scope", "demo"]


def _stage(module: str) -> str:
    return module.split(".")[1] if module.count(".") else module


def test_library_imports_point_upstream_and_never_into_the_cli():
    order = {name: position for position, name in enumerate(STAGES)}
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).with_suffix("")
        if relative.parts[0] == "cli" or relative.name == "__init__" and len(relative.parts) == 1:
            continue
        own = relative.parts[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("textsel."):
                target = _stage(node.module)
                assert target != "cli", f"{relative} imports the CLI"
                assert target in order and own in order, f"add {target!r} or {own!r} to STAGES"
                assert order[target] <= order[own], f"{relative} imports downstream module {node.module}"
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                assert not any(n.split(".")[0] in {"typer", "click"} for n in names), f"{relative} imports typer"
