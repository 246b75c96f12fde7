"""What the command modules share: the console, the project and engine options, opening a project."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console(emoji=False)  # ":smile:" in a text from data prints as written

ProjectDir = Annotated[Path, typer.Option("--project", "-p", show_default=False,
                                          help="The project folder (default: the current folder).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]
Concept = Annotated[str | None, typer.Option("--concept", help="Run it for one concept of the project (its own "
                                                              "labels, rounds and model; see `textsel concept`).")]
ScoringEngine = Annotated[str, typer.Option(
    "--engine", help="local (this process) or ray (Ray Data: a local Ray, or the cluster at --address; "
                     "pip install 'textsel\\[ray]'). With the project's device cuda, the transformer target scores "
                     "on one GPU per actor.")]
RayAddress = Annotated[str | None, typer.Option(
    "--address", help="Ray cluster to use with --engine ray, e.g. auto or ray://head:10001.")]
ScoringWorkers = Annotated[int | None, typer.Option(
    "--workers", min=1, help="Scoring actors with --engine ray (default: what the cluster fits).")]


def open_project(directory: Path, *, quiet: bool = True):  # noqa: ANN201 - textsel.project.Project
    """Open a project folder; the library raises a clear error when it is not one."""
    from textsel.project import Project

    return Project(directory, show_progress=not quiet)


def split_list(value: str | None) -> list[str] | None:
    """'a,b, c' -> ['a', 'b', 'c']; None stays None."""
    return [item.strip() for item in value.split(",") if item.strip()] if value else None


def check_engine_options(engine: str, address: str | None, workers: int | None, purpose: str = "scoring") -> None:
    """--engine is local or ray; --address and --workers come only with ray; the ray extra is installed (the
    message says that ``purpose`` needs it)."""
    from textsel.errors import MissingDependencyError
    from textsel.score_ray import check_engine

    if engine not in ("local", "ray"):
        raise typer.BadParameter(f"must be local or ray; got {engine!r}", param_hint="--engine")
    if engine == "local" and (address is not None or workers is not None):
        raise typer.BadParameter("--address and --workers need --engine ray", param_hint="--engine")
    try:
        check_engine("textsel", engine, address, workers, purpose=purpose)
    except MissingDependencyError as error:
        raise typer.BadParameter(str(error), param_hint="--engine") from error
