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
    dtype: Annotated[str | None, typer.Option(
        "--dtype", help="Encoder dtype: auto (bfloat16 where the CPU or GPU has the hardware for it, else float32), "
                        "float32, bfloat16 or float16. Saved in textsel.toml for later commands.")] = None,
    device: Annotated[str | None, typer.Option(
        "--device", help="cpu, cuda, cuda:N, mps, or auto (whatever torch finds). Saved in textsel.toml. "
                         "With --engine ray, cuda puts one encoder per GPU.")] = None,
    engine: Annotated[str, typer.Option(
        "--engine", help="local (this process) or ray (Ray Data: a local Ray, or the cluster at --address; "
                         "pip install 'textsel[ray]').")] = "local",
    address: Annotated[str | None, typer.Option(
        "--address", help="Ray cluster to use with --engine ray, e.g. auto or ray://head:10001.")] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", min=1, help="Encoder actors with --engine ray (default: what the cluster fits).")] = None,
    quiet: Quiet = False,
) -> None:
    """Embed every text of the pool (cached and resumable: after Ctrl-C, run it again to continue)."""
    if engine not in ("local", "ray"):
        raise typer.BadParameter(f"must be local or ray; got {engine!r}", param_hint="--engine")
    if engine == "local" and (address is not None or workers is not None):
        raise typer.BadParameter("--address and --workers need --engine ray", param_hint="--engine")
    with open_project(project_dir, quiet=quiet) as project, project.lock():
        if dtype is not None or device is not None:
            _save_encoder_settings(project, dtype, device)
        if rebuild:
            project.forget_embeddings()
        try:
            if engine == "ray" and not project.config.precomputed:
                _embed_with_ray(project, address=address, workers=workers, quiet=quiet)
            vectors = project.embeddings()
        except KeyboardInterrupt:
            console.print(_interrupted_message(project, engine))
            raise typer.Exit(130) from None
        embedder = project.embedder()
        encoder = "precomputed" if project.config.precomputed else \
            f"{embedder.resolved_dtype} on {embedder.device_class}"
        console.print(f"Embeddings: {vectors.shape[0]:,} texts x {vectors.shape[1]} dimensions "
                      f"({project.config.model}, {encoder}).")


def _embed_with_ray(project, *, address: str | None, workers: int | None, quiet: bool) -> None:  # noqa: ANN001
    """Fill the project's embedding cache with Ray Data; GPU workers when the project's device is CUDA."""
    from textsel.embed_ray import embed_pool_ray

    embedder = project.embedder()
    embed_pool_ray(project.pool, embedder, cache_dir=project.cache_dir / "embeddings", address=address,
                   workers=workers, gpus_per_worker=1.0 if embedder.device_class == "cuda" else 0.0,
                   show_progress=not quiet)


def _save_encoder_settings(project, dtype: str | None, device: str | None) -> None:  # noqa: ANN001 - Project
    """Check the new encoder dtype/device (an error names the bad value) and write them to textsel.toml."""
    from dataclasses import replace

    from textsel._atomic import write_text_atomic
    from textsel.embed import Embedder
    from textsel.project_config import CONFIG_NAME

    config = replace(project.config, dtype=dtype if dtype is not None else project.config.dtype,
                     device=project.config.device if device is None else None if device == "auto" else device)
    Embedder(config.model, dtype=config.dtype, device=config.device).check_settings()
    write_text_atomic(project.directory / CONFIG_NAME, config.to_toml())
    project.config = config


def _interrupted_message(project, engine: str = "local") -> str:  # noqa: ANN001 - Project
    """How much an interrupted embedding run saved, and that running it again resumes there."""
    from textsel.embed import embedding_cache_folder, saved_rows

    folder = embedding_cache_folder(project.pool, project.embedder(), project.cache_dir / "embeddings")
    if engine == "ray":
        shards = len(list((folder / "shards").glob("shard-*.npy")))
        return (f"Interrupted: {shards:,} finished shards are saved. Run `textsel embed --engine ray` again to "
                "encode only the rest.")
    saved, total = saved_rows(folder)
    total = total or len(project.pool)
    return (f"Interrupted: {saved:,} of {total:,} embeddings are saved. Run `textsel embed` again to resume "
            f"from row {saved + 1:,}.")


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
def status(project_dir: ProjectDir = Path(".")) -> None:
    """Labels per class, rounds, positives found, candidate pool, estimated prevalence and a stopping hint."""
    with open_project(project_dir) as project:
        report = project.status()
    classes = ", ".join(f"{name}: {count}" for name, count in report.labels_per_class.items())
    console.print(f"Pool: {report.pool_size:,} texts. Labels: {sum(report.labels_per_class.values())} ({classes}).")
    console.print(f"Positives ({report.positive}) found: {report.positives_found}. Rounds: {len(report.rounds)}, "
                  f"{report.pending} selected texts still to label.")
    if report.candidate_pool_size is not None:
        console.print(f"Candidate pool (last round): {report.candidate_pool_size:,} texts "
                      f"({report.candidate_fraction:.1%} of the pool).")
    estimate = "unknown" if report.estimated_prevalence is None else f"{report.estimated_prevalence:.2%}"
    console.print(f"Estimated prevalence of {report.positive}: {estimate} ({report.prevalence_method}).")
    if report.rounds:
        table = Table("round", "strategy", "selected", "labeled", "positives")
        for row in report.rounds:
            table.add_row(str(row.round_id), row.strategy, str(row.selected), str(row.labeled), str(row.positives))
        console.print(table)
    console.print(f"Hint: {report.stopping_hint}.")
    if report.diagnosis is not None:
        console.print(f"Embedding check: {report.diagnosis.report()}", highlight=False)


@app.command()
def diagnose(
    project_dir: ProjectDir = Path("."),
    proxy: Annotated[bool, typer.Option("--proxy/--no-proxy", help="Also cross-validate the fastText proxy.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the measurements as JSON.")] = False,
) -> None:
    """Check whether the embedding separates the rare class, from the labels so far (embedding-task mismatch).

    Example: textsel diagnose --project spoilers/
    """
    import json

    with open_project(project_dir) as project:
        result = project.diagnose(with_proxy=proxy)
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
