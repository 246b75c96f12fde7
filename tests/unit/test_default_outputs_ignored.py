"""The default outputs of textsel's own commands (`demo --out`, `predict --out`) are git-ignored in a checkout,
so running the README's commands from the repository leaves `git status` clean."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from textsel.cli.app import app
from typer.main import get_command

REPO = Path(__file__).resolve().parents[2]


def default_out(command: str) -> str:
    (option,) = [param for param in get_command(app).commands[command].params if param.name == "out"]
    if option.default is None:  # predict: computed, preds.parquet in the current folder outside the project
        from textsel.outputs import default_output

        return str(default_output("preds.parquet", REPO / "some-project"))
    return str(option.default)


@pytest.mark.parametrize("command, inside", [("demo", "plot.png"), ("predict", None)])
def test_default_outputs_are_git_ignored(command, inside):
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    path = default_out(command) + (f"/{inside}" if inside else "")
    assert path in ("textsel-demo/plot.png", "preds.parquet")
    ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO, check=False)
    assert ignored.returncode == 0, f"{path} (the default output of `textsel {command}`) is not git-ignored"
