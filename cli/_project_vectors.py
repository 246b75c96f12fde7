"""What `textsel simulate --project P` takes from a project: its data file, text column, and every text's vector
(so the simulation embeds nothing)."""

from __future__ import annotations

from pathlib import Path

import typer


def project_simulation_inputs(project_dir: Path | None, data: str | None, text_col: str,
                              embeddings: Path | None) -> tuple[str, str, tuple | None]:
    """(data, text column, known vectors) for a simulation: unchanged without a project; else the project's data
    file (unless ``data`` names another with the same texts), its text column and (texts, vectors)."""
    if project_dir is None:
        return data, text_col, None
    if embeddings is not None:
        raise typer.BadParameter("--project brings the project's vectors; leave out --embeddings",
                                 param_hint="--embeddings")
    from textsel.cli._common import open_project

    with open_project(project_dir) as project:
        config = project.config
        known = (list(project.pool.texts), project.embeddings())
    return data if data is not None else config.source, config.text_col, known
