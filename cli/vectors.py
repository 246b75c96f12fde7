"""`textsel vectors`: export a project's vectors (.npy) with their ids (.ids.txt), for other tools."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from textsel.cli._common import ProjectDir, Quiet, console, open_project
from textsel.cli._display import safe

app = typer.Typer()


@app.command()
def vectors(
    out: Annotated[Path, typer.Argument(help="The .npy file to write, outside the project; the ids go beside it "
                                             "as <name>.ids.txt, one per line in the same order.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
    project_dir: ProjectDir = Path("."),
    quiet: Quiet = False,
) -> None:
    """Export the project's embeddings (embedding the pool first if needed) and their ids.

    Example: textsel vectors ../tweets.npy (writes ../tweets.npy and ../tweets.ids.txt)."""
    from textsel.vectors_export import export_vectors, ids_path

    with open_project(project_dir, quiet=quiet) as project, project.lock():
        count = export_vectors(project, out, force=force)
    console.print(f"Wrote {count:,} vectors to {safe(out)} and their ids to {safe(ids_path(out))}.",
                  highlight=False)
