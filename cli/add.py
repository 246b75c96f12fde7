"""`textsel add FILE`: append documents to the project's pool (embedding only texts not seen before)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from textsel.cli._common import ProjectDir, Quiet, console, open_project
from textsel.cli._display import safe

app = typer.Typer()


@app.command()
def add(
    path: Annotated[Path | None, typer.Argument(help="File of new texts, with the same columns as the project's "
                                                     "data.", show_default=False)] = None,
    data_format: Annotated[str | None, typer.Option("--format", help="Force the file's format.")] = None,
    appended: Annotated[bool, typer.Option("--appended", help="Instead of a FILE: add the rows appended to the "
                                                              "project's own data file since it was read.")] = False,
    project_dir: ProjectDir = Path("."),
    quiet: Quiet = False,
) -> None:
    """Add the texts of FILE to the pool: ids are checked first, only new texts are embedded, the index grows."""
    if (path is None) == (not appended):
        raise typer.BadParameter("name a FILE to add, or pass --appended (one of the two)")
    with open_project(project_dir, quiet=quiet) as project, project.lock():
        if appended:
            from textsel.appended import add_appended

            count = add_appended(project)
            path = Path(project.config.source)
        else:
            count = project.add_documents(path, format=data_format)
        total = len(project.ids)
    how = ("static vectors made for the pool, the static index grown" if project.is_static else
           f"{project.encoded_texts:,} embedded now, the others from the embedding cache")
    console.print(f"Added {count:,} texts from {safe(path)} ({how}); the pool holds {total:,}.")
