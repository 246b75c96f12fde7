"""`textsel audit`: draw a uniformly random batch from every unlabeled text, record it as an audit round, print it.

Audit samples are what `textsel status` estimates the positives remaining, the prevalence and the recall from,
and what its stopping rule tests; label them like any round with `textsel label`. Draw them on request: a few
along the way for rough figures, then larger ones when the active rounds stop finding positives.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from textsel.cli.app import app
from textsel.cli.project import ProjectDir, console, open_project


def visible(text: str, width: int = 100) -> str:
    """Text from data as one safe line of at most ``width`` characters: whitespace runs become one space, control
    characters (C0, DEL, C1) are shown as escapes such as ``\\x1b``, and rich markup is escaped so that ``[red]``
    prints as written."""
    text = " ".join(text.split())
    text = text if len(text) <= width else text[:width - 1] + "…"
    shown = "".join(char.encode("unicode_escape").decode("ascii") if unicodedata.category(char) == "Cc" else char
                    for char in text)
    return escape(shown)


@app.command()
def audit(
    n: Annotated[int, typer.Option("--n", "-n", help="How many unlabeled texts to draw at random.")] = 20,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for the draw (default: a fresh one, recorded "
                                                            "with the round).")] = None,
    project_dir: ProjectDir = Path("."),
) -> None:
    """Draw a random audit sample of the unlabeled texts, to estimate how many positives remain and when to stop.

    Example: textsel audit --n 50, then textsel label, then textsel status.
    """
    if n < 1:
        raise typer.BadParameter("--n must be at least 1")
    if seed is not None and seed < 0:
        raise typer.BadParameter("--seed must be >= 0")
    with open_project(project_dir) as project, project.lock():
        previous_round, left_over = project.store.pending()
        round_id, ids = project.audit_batch(n, seed=seed)
        unlabeled = project.store.rounds()[-1].params["unlabeled"]
        texts = project.texts(ids)
    table = Table("#", "id", "text", title=f"Round {round_id}: audit, {len(ids)} texts drawn uniformly at random "
                                          f"from the {unlabeled:,} unlabeled")
    for rank, (doc_id, text) in enumerate(zip(ids.tolist(), texts, strict=True), start=1):
        table.add_row(str(rank), str(doc_id), visible(text))
    console.print(table)
    if left_over:
        console.print(f"Note: {len(left_over)} texts of round {previous_round} stay unlabeled; `textsel label` now "
                      f"works on round {round_id} (label the others with `textsel label --ids`).")
    console.print("Label every one of them with `textsel label` (skipping texts for their content biases the "
                  "estimates), then see `textsel status`.")
