"""Project commands: init, embed, index, search, import, status, diagnose, train, predict, export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from textsel.cli.app import app

console = Console()

ProjectDir = Annotated[Path, typer.Option("--project", "-p", help="The project folder (default: current dir).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]


def open_project(directory: Path, *, quiet: bool = True):  # noqa: ANN201 - textsel.project.Project
    """Open a project folder; the library raises a clear error when it is not one."""
    from textsel.project import Project

    return Project(directory, show_progress=not quiet)


def split_list(value: str | None) -> list[str] | None:
    """'a,b, c' -> ['a', 'b', 'c']; None stays None."""
    return [item.strip() for item in value.split(",") if item.strip()] if value else None


def short(text: str, width: int = 100) -> str:
    """One line of at most ``width`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the project in.")],
    data: Annotated[str, typer.Option("--data", help="Pool file (CSV/TSV/JSONL/Parquet/fastText) or dataset.")],
    text_col: Annotated[str, typer.Option("--text-col", help="Column holding the texts.")] = "text",
    id_col: Annotated[str | None, typer.Option("--id-col", help="Column of unique integer ids.")] = None,
    labels: Annotated[str, typer.Option("--labels", help="Comma-separated classes; the first is the rare "
                                                         "class you hunt.")] = "positive,negative",
    positive: Annotated[str | None, typer.Option("--positive", help="The rare class, if not the first.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Sentence-Transformers model name or path "
                                                              "(default: the offline MiniLM).")] = None,
    embeddings: Annotated[Path | None, typer.Option("--embeddings", help="Precomputed row-aligned embeddings "
                                                                         "(.npy).")] = None,
    label_col: Annotated[str | None, typer.Option("--label-col", help="Gold-label column (simulations).")] = None,
    data_format: Annotated[str | None, typer.Option("--format", help="Force the pool format.")] = None,
    backend: Annotated[str, typer.Option("--backend", help="Index backend: hnsw or exact.")] = "hnsw",
) -> None:
    """Create a project folder: textsel.toml, an SQLite database and a cache."""
    from textsel.project import init_project

    project = init_project(directory, data=data, text_col=text_col, id_col=id_col, label_col=label_col,
                           format=data_format, labels=split_list(labels), positive=positive, model=model,
                           embeddings=str(embeddings) if embeddings else None, backend=backend)
    with project:
        console.print(f"Created project {directory} with {len(project.pool):,} texts; labels "
                      f"{', '.join(project.config.labels)} (rare class: {project.config.positive}).")
        console.print(f'Next: textsel search "..." --project {directory}, then textsel label --ids ... --label ...')


@app.command()
def embed(
    project_dir: ProjectDir = Path("."),
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Drop cached embeddings (after a model change).")] = False,
    quiet: Quiet = False,
) -> None:
    """Embed every text of the pool (cached and resumable)."""
    with open_project(project_dir, quiet=quiet) as project, project.lock():
        if rebuild:
            project.forget_embeddings()
        vectors = project.embeddings()
        console.print(f"Embeddings: {vectors.shape[0]:,} texts x {vectors.shape[1]} dimensions "
                      f"({project.config.model}).")


@app.command()
def index(project_dir: ProjectDir = Path("."), quiet: Quiet = False) -> None:
    """Build the kNN index over the embeddings (embedding first when needed)."""
    with open_project(project_dir, quiet=quiet) as project, project.lock():
        built = project.index()
        console.print(f"Index: {len(built):,} vectors ({project.config.backend}) at {project.index_path}.")


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Text to search for.")],
    n: Annotated[int, typer.Option("--n", "-n", help="How many nearest texts to list.")] = 20,
    project_dir: ProjectDir = Path("."),
    quiet: Quiet = False,
) -> None:
    """List the texts nearest to a query, to find the first positives."""
    with open_project(project_dir, quiet=quiet) as project:
        hits = project.search(query, n)
    table = Table("rank", "id", "similarity", "label", "text", title=f"Nearest to {query!r}")
    for rank, hit in enumerate(hits, start=1):
        table.add_row(str(rank), str(hit.doc_id), f"{hit.score:.3f}", hit.label or "", short(hit.text))
    console.print(table)


@app.command("import")
def import_labels(
    path: Annotated[Path, typer.Argument(help="CSV with a header 'id,label'.")],
    project_dir: ProjectDir = Path("."),
) -> None:
    """Record labels from an id,label CSV; the whole file is checked before anything is written."""
    with open_project(project_dir) as project:
        count = project.import_labels(path)
    console.print(f"Imported {count} labels from {path}.")


@app.command()
def status(
    project_dir: ProjectDir = Path("."),
    target_recall: Annotated[float, typer.Option("--target-recall", help="Recall the stopping rule aims for.")]
    = 0.95,
    confidence: Annotated[float, typer.Option("--confidence", help="Confidence of the stopping rule and of the "
                                                                   "intervals.")] = 0.95,
) -> None:
    """Labels, rounds, positives found and, from audit samples, how many remain, recall so far and when to stop."""
    from textsel.status import describe_estimate, describe_stopping

    for name, value in (("--target-recall", target_recall), ("--confidence", confidence)):
        if not 0.0 < value < 1.0:
            raise typer.BadParameter(f"{name} must be between 0 and 1 (exclusive)")
    with open_project(project_dir) as project:
        report = project.status(target_recall=target_recall, confidence=confidence)
    classes = ", ".join(f"{name}: {count}" for name, count in report.labels_per_class.items())
    console.print(f"Pool: {report.pool_size:,} texts. Labels: {sum(report.labels_per_class.values())} ({classes}).",
                  highlight=False)
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
    for line in describe_estimate(report.estimate, report.positive, how_to_audit=how):
        console.print(line, highlight=False)
    console.print(describe_stopping(report.stopping, report.estimate, how_to_audit="label more audit texts "
                                    "(`textsel audit`)"), highlight=False)
    console.print(f"Yield: {report.yield_hint}.", highlight=False)
    if report.diagnosis is not None:
        console.print(f"Embedding check: {report.diagnosis.report()}", highlight=False)


@app.command()
def diagnose(
    project_dir: ProjectDir = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print the measurements as JSON.")] = False,
) -> None:
    """Check whether the embedding separates the rare class (embedding-task mismatch), whatever chose the labels.

    Example: textsel diagnose --project spoilers/
    """
    import json

    with open_project(project_dir) as project:
        result = project.diagnose()
    if as_json:
        typer.echo(json.dumps(result.to_dict()))
    else:
        console.print(result.report(), highlight=False)


@app.command()
def export(
    out: Annotated[Path, typer.Argument(help="File (csv, jsonl, label-studio) or folder (hf) to write.")],
    export_format: Annotated[str, typer.Option("--format", "-f", help="csv, jsonl, hf or label-studio.")] = "csv",
    project_dir: ProjectDir = Path("."),
) -> None:
    """Write the labeled texts (latest label per text) for training elsewhere or a labeling tool."""
    from textsel.export import export_labels

    with open_project(project_dir) as project:
        count = export_labels(project, out, format=export_format)
    console.print(f"Wrote {count} labeled texts to {out} ({export_format}).")


@app.command()
def train(project_dir: ProjectDir = Path("."), quiet: Quiet = False) -> None:
    """Train the classifier on every label and estimate the rare class's prevalence."""
    with open_project(project_dir, quiet=quiet) as project, project.lock():
        model = project.train()
    prevalence = ("n/a" if model.estimated_prevalence is None
                  else f"{model.estimated_prevalence:.2%} of the pool predicted {project.config.positive}")
    console.print(f"Trained on {model.n_labels} labels ({', '.join(model.classes)}) in {model.train_seconds:.2f} s. "
                  f"Estimated prevalence: {prevalence}.")


@app.command()
def predict(
    out: Annotated[Path, typer.Option("--out", "-o", help="Parquet file to write.")] = Path("preds.parquet"),
    project_dir: ProjectDir = Path("."),
    quiet: Quiet = False,
) -> None:
    """Write id, predicted label and class probabilities for every text (training first if labels changed)."""
    with open_project(project_dir, quiet=quiet) as project, project.lock():
        count = project.predict(out)
    console.print(f"Wrote predictions for {count:,} texts to {out}.")
