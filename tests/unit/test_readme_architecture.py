"""The README's architecture section matches the code (issue 20): every module it names exists, every part of
textsel.project and every command module of the CLI is named, and each command sits in the module it names."""

from __future__ import annotations

import importlib.util
import re

from conftest import REPO
from textsel.cli.app import command_apps


def architecture() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    return readme.split("## Architecture", 1)[1].split("\n## ", 1)[0]


def test_every_named_module_exists_and_every_part_and_command_module_is_named():
    section = architecture()
    for module in set(re.findall(r"`(textsel(?:\.\w+)+)`", section)):
        assert importlib.util.find_spec(module) is not None, module
    for path in (REPO / "textsel" / "project").glob("*.py"):
        if path.stem not in {"__init__", "facade", "types"}:
            assert f"`textsel.project.{path.stem}`" in section, path.name
    for path in (REPO / "cli").glob("*.py"):
        if not path.stem.startswith("_") and path.stem != "app":
            assert f"`cli/{path.stem}.py`" in section, path.name


def test_each_command_is_in_the_module_the_readme_names():
    rows = [line for line in architecture().splitlines() if line.startswith("| `cli/")]
    for commands, group in command_apps():
        if group:
            assert any(f"`{group}`" in row and "group" in row for row in rows), group
            continue
        module = commands.registered_commands[0].callback.__module__.rsplit(".", 1)[-1]
        row = next(row for row in rows if f"`cli/{module}.py`" in row)
        for command in commands.registered_commands:
            assert f"`{command.name or command.callback.__name__}`" in row, (module, command.name)
