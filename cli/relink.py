"""`textsel relink --data FILE`: point a project at its data file after it moved (rows checked first)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from textsel.cli._common import ProjectDir, console
from textsel.cli._display import safe

app = typer.Typer()


@app.command()
def relink(
    data: Annotated[Path, typer.Option("--data", help="Where the project's data file is now.")],
    project_dir: ProjectDir = Path("."),
) -> None:
    """Point the project at its moved data file: accepted only when it holds the rows the project was made from.

    Example: textsel relink --data ~/datasets/tweets.csv -p airline/"""
    from textsel.relink import relink_data

    found = relink_data(project_dir, data)
    console.print(f"The project now reads its data from {safe(found)} (same rows as recorded).", highlight=False)
