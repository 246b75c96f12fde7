"""How the CLI is put together (issue 20): each command module has its own Typer app and registers nothing on
import; cli/app.py adds them all in one place."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import textsel.cli
import typer
from textsel.cli.app import app, command_apps
from typer.main import get_command

CLI = Path(textsel.cli.__file__).parent


def test_command_modules_define_their_own_app_and_never_import_the_root():
    apps = {id(commands) for commands, _ in command_apps()}
    for path in sorted(CLI.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        if path.stem not in {"app", "__main__"}:
            assert "textsel.cli.app" not in imported, f"{path.name} imports the root app"
        if path.stem in {"app", "__main__", "__init__"}:
            continue
        for value in vars(importlib.import_module(f"textsel.cli.{path.stem}")).values():
            if isinstance(value, typer.Typer):
                assert id(value) in apps, f"{path.name} defines a Typer app that cli/app.py does not register"


def test_commands_stay_top_level_and_groups_keep_their_names():
    root = get_command(app)
    assert {"init", "embed", "index", "search", "import", "status", "diagnose", "export", "train", "predict", "next",
            "label", "audit", "add", "remove", "relink", "vectors", "demo", "simulate", "concept", "svp",
            "studio"} == set(root.commands)
    assert set(root.commands["concept"].commands) == {"add", "seed", "next", "label", "export"}
    assert set(root.commands["studio"].commands) == {"push", "pull"}
