"""Commands that report on a project: status, diagnose, export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from textsel.cli._common import Concept, ProjectDir, console, open_project
from textsel.cli._display import safe

app = typer.Typer()


@app.command()
def status(
    project_dir: ProjectDir = Path("."),
    target_recall: Annotated[float, typer.Option("--target-recall", help="Recall the stopping rule aims for.")]
    = 0.95,
    confidence: Annotated[float, typer.Option("--confidence", help="Confidence of the stopping rule and of the "
                                                                   "intervals.")] = 0.95,
    concept: Concept = None,
) -> None:
    """Labels, rounds, positives found and, from audit samples, how many remain, recall so far and when to stop."""
    from textsel.status import describe_status

    for name, value in (("--target-recall", target_recall), ("--confidence", confidence)):
        if not 0.0 < value < 1.0:
            raise typer.BadParameter(f"{name} must be between 0 and 1 (exclusive)")
    from textsel.concept_scope import concept_scope

    with open_project(project_dir) as project, concept_scope(project, concept) as project:
        report = project.status(target_recall=target_recall, confidence=confidence)
        appended = getattr(project.corpus, "appended_rows", 0)
    if appended:
        console.print(f"{appended:,} rows appended to the data file are not in the project yet: add them with "
                      "`textsel add --appended`.", highlight=False)
    classes = ", ".join(f"{name}: {count}" for name, count in report.labels_per_class.items())
    removed = f" ({report.removed:,} removed, their labels kept)" if report.removed else ""
    console.print(f"Pool: {report.pool_size:,} texts{removed}. Labels: {sum(report.labels_per_class.values())} "
                  f"({classes}).", highlight=False)
    console.print(f"Positives ({report.positive}) found: {report.positives_found}. Rounds: {len(report.rounds)}, "
                  f"{report.selected:,} distinct texts selected, {report.pending} selected texts still to label.",
                  highlight=False)
    if report.candidate_pool_size is not None:
        console.print(f"Candidate pool (last active round): {report.candidate_pool_size:,} texts "
                      f"({report.candidate_fraction:.1%} of the pool).", highlight=False)
    if report.rounds:
        table = Table("round", "strategy", "new texts", "labeled", "positives")
        for row in report.rounds:
            table.add_row(str(row.round_id), row.strategy, str(row.selected), str(row.labeled), str(row.positives))
        console.print(table)
    how = "run `textsel audit --n 50`, then `textsel label`"
    for line in describe_status(report, how, "label more audit texts (`textsel audit`)"):
        console.print(line, highlight=False)
    console.print(f"Yield: {report.yield_hint}.", highlight=False)
    if report.diagnosis is not None:
        console.print(f"Embedding check: {report.diagnosis.report()}", highlight=False)


@app.command()
def diagnose(
    project_dir: ProjectDir = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print the measurements as JSON.")] = False,
    features: Annotated[bool, typer.Option(
        "--features", help="Also compare dense, lexical and hybrid features on the labels and say which to use "
                           "(builds the TF-IDF of the pool once; set it with [features] kind in textsel.toml).")]
    = False,
) -> None:
    """Check whether the embedding separates the rare class (embedding-task mismatch), whatever chose the labels.

    Example: textsel diagnose --project spoilers/ --features
    """
    import json

    with open_project(project_dir) as project:
        result = project.diagnose()
        comparison = project.compare_features() if features else None
    if as_json:
        typer.echo(json.dumps({**result.to_dict(), **({"features": comparison.to_dict()} if comparison else {})}))
    else:
        console.print(result.report(), highlight=False)
        if comparison is not None:
            console.print(comparison.report(), highlight=False)


@app.command()
def export(
    out: Annotated[Path, typer.Argument(help="File (.csv, .jsonl, .json = Label Studio) or new folder (hf) to "
                                             "write, outside the project folder.")],
    export_format: Annotated[str | None, typer.Option("--format", "-f", help="csv, jsonl, hf or label-studio "
                                                                             "(default: from OUT's suffix).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file (or a folder holding only a "
                                                        "saved hf dataset).")] = False,
    project_dir: ProjectDir = Path("."),
) -> None:
    """Write the labeled texts (latest label per text) for training elsewhere or a labeling tool.

    OUT is checked before anything is written: never a folder (except a new one for hf), never in or over the
    project, and an existing file only with --force. Example: textsel export labels.jsonl -p spoilers/
    """
    from textsel.errors import DataError
    from textsel.export import UnknownSuffixError, export_labels

    with open_project(project_dir) as project:
        try:
            count = export_labels(project, out, format=export_format, force=force)
        except UnknownSuffixError as error:
            raise DataError(f"{error} (or name one with --format csv, jsonl, hf or label-studio)") from error
    named = f" ({export_format})" if export_format else ""
    console.print(f"Wrote {count} labeled texts to {safe(out)}{named}.", highlight=False)
