"""`textsel studio push|pull`: the live round trip with a Label Studio server (pip install
'textsel[label-studio]'); see textsel.label_studio."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from textsel.cli._common import ProjectDir, console, open_project
from textsel.cli._display import safe

label_studio_app = typer.Typer(help="Label Studio, live: push the pending batch as tasks, pull annotations back."
                                    "\n\nNeeds pip install 'textsel\\[label-studio]'.", no_args_is_help=True)

Url = Annotated[str, typer.Option("--url", envvar="LABEL_STUDIO_URL", help="The Label Studio server "
                                  "(or $LABEL_STUDIO_URL).")]
ApiKey = Annotated[str, typer.Option("--api-key", envvar="LABEL_STUDIO_API_KEY", show_default=False,
                                     help="An access token of a Label Studio user (or $LABEL_STUDIO_API_KEY).")]


@label_studio_app.command("push")
def push(
    url: Url = "http://localhost:8080",
    api_key: ApiKey = "",
    ls_project: Annotated[int | None, typer.Option("--ls-project", help="Add the tasks to this Label Studio "
                                                                        "project (default: create one).")] = None,
    title: Annotated[str | None, typer.Option("--title", help="Title of the Label Studio project created.")] = None,
    project_dir: ProjectDir = Path("."),
) -> None:
    """Send the texts still to label in the last round as tasks, with P(positive) as pre-annotations.

    Example: textsel next -n 50 && textsel studio push --url http://localhost:8080 --api-key $TOKEN"""
    from textsel.label_studio import connect, push_batch

    if not api_key:
        raise typer.BadParameter("give a Label Studio access token", param_hint="--api-key")
    with open_project(project_dir) as project:
        pushed = push_batch(project, connect(url, api_key), ls_project=ls_project, title=title)
    console.print(f"Sent {pushed.tasks} texts of round {pushed.round_id} to Label Studio project {pushed.ls_project} "
                  f"({pushed.predictions} with P(positive) as a pre-annotation). Label them there, then run "
                  f"`textsel studio pull --ls-project {pushed.ls_project}`.", highlight=False)


@label_studio_app.command("pull")
def pull(
    ls_project: Annotated[int, typer.Option("--ls-project", help="The Label Studio project to read.")],
    url: Url = "http://localhost:8080",
    api_key: ApiKey = "",
    keep_newer: Annotated[bool, typer.Option("--keep-newer", help="Keep labels made in the project after the "
                                                                  "annotation (default: replace them).")] = False,
    project_dir: ProjectDir = Path("."),
) -> None:
    """Record the Label Studio project's annotations (the latest not cancelled per task) as labels."""
    from textsel.cli.label import print_relabels

    from textsel.label_studio import connect, pull_labels

    if not api_key:
        raise typer.BadParameter("give a Label Studio access token", param_hint="--api-key")
    with open_project(project_dir) as project:
        report = pull_labels(project, connect(url, api_key), ls_project, keep_newer=keep_newer)
    passed = f"; {report.unlabeled} tasks without an annotation passed over" if report.unlabeled else ""
    console.print(f"Imported {report.imported} labels from Label Studio project {safe(ls_project)}{passed}.",
                  highlight=False)
    print_relabels(report.relabeled)
