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


def library_error_strings() -> list[tuple[str, int, str]]:
    """(file, line, text) of the string constants inside every raise and check_param call of the library."""
    import ast
    from pathlib import Path

    import textsel

    found = []
    for path in sorted(Path(textsel.__file__).parent.rglob("*.py")):
        if "cli" in path.relative_to(Path(textsel.__file__).parent).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            raised = node.exc if isinstance(node, ast.Raise) else None
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check_param":
                raised = node
            if raised is not None:
                text = " ".join(n.value for n in ast.walk(raised) if isinstance(n, ast.Constant)
                                and isinstance(n.value, str))
                found.append((path.name, node.lineno, text))
    return found


# Modules other helpers still own while this test was written; their messages are reworded when they merge.
NOT_YET_REWORDED = {"index.py", "diagnose.py", "candidates.py"}


def test_library_errors_name_no_cli_command_or_flag():
    offenders = [(name, line, text) for name, line, text in library_error_strings()
                 if name not in NOT_YET_REWORDED and re.search(r"`textsel|(^|\s)--[a-z]", text)]
    assert not offenders


def test_the_cli_adds_the_command_that_fixes_an_error():
    from textsel.cli.app import error_line

    from textsel.errors import DataError, NoConceptsError, NothingToLabelError

    assert error_line(NothingToLabelError("no batch to label yet: select one first")).endswith(
        "select one first (`textsel next`, or `textsel label --continuous` to select as you go)")
    assert error_line(NoConceptsError("no concepts")) == "Error: no concepts (`textsel concept add NAME`)"
    assert error_line(DataError("bad row")) == "Error: bad row"


def test_each_command_line_loads_only_the_module_that_defines_its_command():
    from textsel.cli.app import COMMAND_MODULE, COMMAND_MODULES, app_for, command_apps

    for (module, _, _), (commands, group) in zip(COMMAND_MODULES, command_apps(), strict=True):
        names = {group} if group else {command.name or command.callback.__name__ for command in
                                       commands.registered_commands}
        assert {name for name, owner in COMMAND_MODULE.items() if owner == module} == names, module
    assert set(COMMAND_MODULE) == set(ROOT.commands)  # every command the full app lists, and no other
    for name in ROOT.commands:
        assert set(get_command(app_for([name, "--help"])).commands) == \
            {other for other, owner in COMMAND_MODULE.items() if owner == COMMAND_MODULE[name]}
    for args in ([], ["--version"], ["-v", "next"], ["nxt"]):  # help, options first, a typo: the whole app
        assert set(get_command(app_for(args)).commands) == set(ROOT.commands)


def test_a_command_run_through_its_own_module_behaves_as_in_the_whole_app(tmp_path):
    from textsel.cli.app import app_for

    result = runner.invoke(app_for(["next"]), ["next", "-p", str(tmp_path)])
    assert result.exit_code == 1 and "Error:" in result.output and "textsel init" in result.output  # hint kept
    assert runner.invoke(app_for(["next"]), ["next", "--help"]).exit_code == 0
    typo = runner.invoke(app_for(["nxt"]), ["nxt"])
    assert typo.exit_code != 0 and "next" in typo.output  # the whole app suggests the command meant
