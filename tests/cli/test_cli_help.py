"""`--help` reads cleanly: every command listed with a one-line description, examples under the app help, flags
without a value type, and each default stated once."""

from __future__ import annotations

import re

import pytest
from textsel.cli.app import EXAMPLES, app
from typer.main import get_command
from typer.testing import CliRunner

runner = CliRunner()
ROOT = get_command(app)


def all_commands() -> dict[str, object]:
    commands = {"": ROOT, **ROOT.commands}
    for group in [c for c in ROOT.commands.values() if hasattr(c, "commands")]:
        commands.update({f"{group.name} {name}": command for name, command in group.commands.items()})
    return commands


def help_of(name: str) -> str:
    result = runner.invoke(app, [*name.split(), "--help"], env={"COLUMNS": "120"}, terminal_width=120)
    assert result.exit_code == 0, result.output
    return result.output


def test_app_help_lists_every_command_on_one_line_and_shows_examples():
    output = help_of("")
    rows = {line.split()[1]: line for line in output.splitlines() if line.startswith("│ ") and len(line.split()) > 2}
    for name, command in ROOT.commands.items():
        assert name in rows, f"`textsel --help` does not list {name}"
        first_paragraph = (command.help or "").strip().split("\n\n")[0]
        assert first_paragraph.replace("\n", " ") in re.sub(r"\s+", " ", rows[name]), name  # fits on its row
    assert "Examples:" in output
    examples = [line.split()[1] for line in EXAMPLES.splitlines() if line.strip().startswith("textsel ")]
    assert len(examples) >= 5 and set(examples) <= set(ROOT.commands)  # every example runs a real command


@pytest.mark.parametrize("name", sorted(all_commands()))
def test_flags_show_no_value_type_and_negative_forms_only_where_the_default_is_on(name):
    assert "<bool>" not in help_of(name)
    for param in all_commands()[name].params:
        if getattr(param, "is_bool_flag", False) and param.name not in {"help"}:
            assert bool(param.secondary_opts) == bool(param.default), (name, param.opts)


@pytest.mark.parametrize("name", sorted(all_commands()))
def test_each_default_is_stated_once(name):
    for param in all_commands()[name].params:
        typer_shows_default = (param.show_default is not False and not param.required
                               and param.default not in (None, False, ()) and not getattr(param, "is_flag", False))
        says_default = "default" in (getattr(param, "help", None) or "").lower()
        assert not (typer_shows_default and says_default), (name, param.name, param.help)
