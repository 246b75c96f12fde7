"""`textsel audit`: draw a uniformly random batch from every unlabeled text, record it as an audit round, print it.

Audit samples are what `textsel status` estimates the positives remaining, the prevalence and the recall from,
and what its stopping rule tests; label them like any round with `textsel label`. Draw them on request: a few
along the way for rough figures, then larger ones when the active rounds stop finding positives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from textsel.cli._common import Concept, ProjectDir, console, open_project
from textsel.cli._display import one_line, safe

app = typer.Typer()


@app.command()
def audit(
    n: Annotated[int, typer.Option("--n", "-n", help="How many unlabeled texts to draw at random.")] = 20,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for the draw (default: a fresh one, recorded "
                                                            "with the round).")] = None,
    discard_pending: Annotated[bool, typer.Option(
        "--discard-pending", help="Drop the texts of the last round still unlabeled (recorded) and draw the "
                                  "audit sample.")] = False,
    design: Annotated[str, typer.Option("--design", help="uniform (a simple random sample) or "
                                                         "stratified (the model's top-scored 10% get half the sample; "
                                                         "finds more positives, certifies no cheaper).")] = "uniform",
    project_dir: ProjectDir = Path("."),
    concept: Concept = None,
) -> None:
    """Draw a random audit sample of the unlabeled texts, to estimate how many positives remain and when to stop.

    Example: textsel audit --n 50, then textsel label, then textsel status.
    """
    if n < 1:
        raise typer.BadParameter("--n must be at least 1")
    if seed is not None and seed < 0:
        raise typer.BadParameter("--seed must be >= 0")
    if design not in ("uniform", "stratified"):
        raise typer.BadParameter("--design must be uniform or stratified")
    from textsel.concept_scope import concept_scope

    with open_project(project_dir) as project, project.lock(), concept_scope(project, concept) as project:
        round_id, ids = project.audit_batch(n, seed=seed, discard_pending=discard_pending, design=design)
        unlabeled = project.store.rounds()[-1].params["unlabeled"]
        texts = project.texts(ids)
        shown_ids = project.external_ids(ids)
    how = "uniformly at random" if design == "uniform" else "at random, more often where the model scores high,"
    table = Table("#", "id", "text", title=f"Round {round_id}: audit, {len(ids)} texts drawn {how} "
                                          f"from the {unlabeled:,} unlabeled")
    for rank, (doc_id, text) in enumerate(zip(shown_ids, texts, strict=True), start=1):
        table.add_row(str(rank), safe(doc_id), one_line(text))
    console.print(table)
    console.print("Label every one of them with `textsel label` (skipping texts for their content biases the "
                  "estimates), then see `textsel status`.")
