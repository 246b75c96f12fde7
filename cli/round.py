"""`textsel next`: select the next batch to label and record it as a round."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from textsel.cli.app import app
from textsel.cli.project import ProjectDir, Quiet, console, open_project, short


@app.command("next")
def next_batch(
    n: Annotated[int, typer.Option("--n", "-n", help="How many texts to select.")] = 20,
    strategy: Annotated[str, typer.Option("--strategy", "-s", help="maxent, mlp, id, least-confidence, margin, "
                                                                   "random or kcenter.")] = "maxent",
    pool: Annotated[str, typer.Option("--pool", help="Candidate pool: seals (kNN of labeled texts) or all.")]
    = "seals",
    seed: Annotated[int, typer.Option("--seed", help="Seed for random choices (recorded with the round).")] = 0,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Also write the batch for an external tool: "
                                                                 ".csv, .jsonl or .json (Label Studio).")] = None,
    project_dir: ProjectDir = Path("."),
    quiet: Quiet = False,
) -> None:
    """Select the next batch with a strategy over a candidate pool, record the round, and print it."""
    from textsel.export import write_batch

    with open_project(project_dir, quiet=quiet) as project, project.lock():
        previous_round, left_over = project.store.pending()
        round_id, result = project.next_batch(n, strategy=strategy, candidate_pool=pool, seed=seed)
        texts = project.texts(result.ids)
    scores = [None] * len(result.ids) if result.scores is None else [float(score) for score in result.scores]
    records = [{"id": int(doc_id), "text": text, "score": score, "round": round_id}
               for doc_id, text, score in zip(result.ids, texts, scores, strict=True)]
    if out is not None:
        write_batch(records, out)
    table = Table("#", "id", "score", "text", title=f"Round {round_id}: {strategy} over the {pool} pool "
                  f"({result.candidate_pool_size:,} candidates, {result.pool_fraction:.1%} of the unlabeled pool)")
    for rank, record in enumerate(records, start=1):
        table.add_row(str(rank), str(record["id"]), "" if record["score"] is None else f"{record['score']:.3f}",
                      short(record["text"]))
    console.print(table)
    if left_over:
        console.print(f"Note: {len(left_over)} texts of round {previous_round} stay unlabeled; `textsel label` now "
                      f"works on round {round_id} (label the others with `textsel label --ids`).")
    console.print(f"Selected in {result.select_seconds:.2f} s (training {result.train_seconds:.2f} s). "
                  f"{'Wrote ' + str(out) + '. ' if out else ''}Label them with `textsel label`.")
