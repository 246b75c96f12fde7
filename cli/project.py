"""Project commands: init, embed, index, search, import, status, diagnose, train, predict, export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from textsel.cli._display import safe
from textsel.cli.app import app

console = Console()

ProjectDir = Annotated[Path, typer.Option("--project", "-p", show_default=False,
                                          help="The project folder (default: the current folder).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]
ScoringEngine = Annotated[str, typer.Option(
    "--engine", help="local (this process) or ray (Ray Data: a local Ray, or the cluster at --address; "
                     "pip install 'textsel[ray]'). With the project's device cuda, the transformer target scores "
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
    first_pass: Annotated[str | None, typer.Option(
        "--first-pass", help="static: for very large pools, embed every text with static vectors distilled from "
                             "the model (~100x faster) and give only labeled texts and SEALS candidates the "
                             "transformer embedding (pip install 'textsel[static]').")] = None,
    features: Annotated[str, typer.Option(
        "--features", help="What the classifier reads: dense (the embeddings), lexical (TF-IDF of words and word "
                           "pairs) or hybrid (both).")] = "dense",
    goal: Annotated[str, typer.Option(
        "--goal", help="find-all (each round shows the likeliest positives) or train-classifier (the texts the "
                       "model is least sure of); picks the strategy of `textsel next` when --strategy is not "
                       "given.")] = "find-all",
) -> None:
    """Create a project folder: textsel.toml, an SQLite database and a cache."""
    from textsel.project import init_project

    if first_pass not in (None, "static"):
        raise typer.BadParameter(f"must be static; got {first_pass!r}", param_hint="--first-pass")
    project = init_project(directory, data=data, text_col=text_col, id_col=id_col, label_col=label_col,
                           format=data_format, labels=split_list(labels), positive=positive, model=model,
                           embeddings=str(embeddings) if embeddings else None, backend=backend,
                           first_pass=first_pass, features=features, goal=goal)
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
    """Embed every text of the pool (cached and resumable: after Ctrl-C, run it again to continue).

    In a project made with `init --first-pass static` this embeds the pool with static vectors and builds the
    static index; the transformer embeds labeled texts and candidates later, in `textsel next`."""
    check_engine_options(engine, address, workers, purpose="embedding")
    with open_project(project_dir, quiet=quiet) as project, project.lock():
        if project.is_static and engine == "ray":
            from textsel.errors import ConfigError

            raise ConfigError("the static first pass embeds in this process (about 100x faster than the transformer); "
                              "run `textsel embed` without --engine ray")
        if dtype is not None or device is not None:
            _save_encoder_settings(project, dtype, device)
        if rebuild:
            project.forget_embeddings()
        if project.is_static:
            _embed_static(project)
            return
        try:
            if engine == "ray" and not project.config.precomputed:
                _embed_with_ray(project, address=address, workers=workers, quiet=quiet)
            vectors = project.embeddings()
        except KeyboardInterrupt:
            console.print(_interrupted_message(project, engine))
            raise typer.Exit(130) from None
        embedder = project.embedder()
        encoder = "precomputed" if project.config.precomputed else \
            f"{getattr(embedder, 'resolved_dtype', '?')} on {getattr(embedder, 'device_class', '?')}"
        console.print(f"Embeddings: {vectors.shape[0]:,} texts x {vectors.shape[1]} dimensions "
                      f"({project.config.model}, {encoder}).")


def _embed_static(project) -> None:  # noqa: ANN001 - Project
    """The static first pass's embed: static vectors of every text, then the static index over them."""
    try:
        vectors = project.static_vectors()
        built = project.index()
    except KeyboardInterrupt:
        console.print(_interrupted_message(project))
        raise typer.Exit(130) from None
    console.print(f"Static first pass: {vectors.shape[0]:,} texts x {vectors.shape[1]} dimensions of static vectors "
                  f"distilled from {safe(project.config.model)}; static index of {len(built):,} texts at "
                  f"{safe(project.index_path)}. No transformer embedding of the pool: `textsel next` embeds only "
                  f"labeled texts and candidates.", highlight=False)


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

    if project.is_static:
        folder = embedding_cache_folder(project.pool, project.static_embedder(), project.static_cache_dir)
    else:
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
def index(
    project_dir: ProjectDir = Path("."),
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Build the index again even if a saved one matches "
                                                            "(after an error about a damaged index).")] = False,
    quiet: Quiet = False,
) -> None:
    """Build the kNN index over the embeddings (embedding first when needed)."""
    with open_project(project_dir, quiet=quiet) as project, project.lock():
        built = project.index(rebuild=rebuild)
        kind = "Static index (the first pass)" if project.is_static else "Index"
        console.print(f"{kind}: {len(built):,} vectors ({project.config.backend}) at {project.index_path}.")
        table = project.neighbour_table(build=rebuild or project.neighbour_table() is None)
        console.print(f"Neighbour table: the {table.k} nearest of each text, for SEALS rounds without the index.")


@app.command()
def search(
    query: Annotated[str | None, typer.Argument(help="Text to search for; omit it for a prompt of many queries.")]
    = None,
    n: Annotated[int, typer.Option("--n", "-n", help="How many texts to list.")] = 20,
    regex: Annotated[str | None, typer.Option("--regex", help="List texts matching this regular expression "
                                                              "(case-insensitive) instead.")] = None,
    keyword: Annotated[str | None, typer.Option("--keyword", "-k", help="List texts containing this word or "
                                                                        "phrase (case-insensitive) instead.")] = None,
    project_dir: ProjectDir = Path("."),
    quiet: Quiet = False,
) -> None:
    """List the texts nearest to a query (or matching a keyword or regex), to find the first positives.

    Without a query, a prompt takes one query after another with the model kept loaded: plain text searches by
    meaning, /PATTERN/ by regular expression, ':label LABEL 1,3' labels hits of the last list by rank, and an
    empty line or 'q' quits. Examples: textsel search "torn seam" -p shop/;  textsel search --regex "refund(ed)?"
    """
    from textsel.cli._search_prompt import run_prompt, show_hits

    if sum(value is not None for value in (query, regex, keyword)) > 1:
        raise typer.BadParameter("give a query, --regex or --keyword, not several")
    with open_project(project_dir, quiet=quiet) as project:
        if regex is not None or keyword is not None:
            hits, total = project.find_texts(regex if regex is not None else keyword, regex=regex is not None, n=n)
            show_hits(hits, f"{total:,} texts match {safe(repr(regex if regex is not None else keyword))}",
                      "matches")
        elif query is not None:
            show_hits(project.search(query, n), f"Nearest to {safe(repr(query))}", "similarity")
        else:
            run_prompt(project, n)


@app.command("import")
def import_labels(
    path: Annotated[Path, typer.Argument(help="Label file: .csv or .jsonl with id and label columns (textsel's "
                                              "exports), a saved hf dataset folder, or a Label Studio JSON export "
                                              "of tasks written by `textsel next --out batch.json`.")],
    import_format: Annotated[str | None, typer.Option("--format", "-f", help="csv, jsonl, hf or label-studio "
                                                                             "(default: from PATH).")] = None,
    keep_newer: Annotated[bool, typer.Option("--keep-newer", help="Keep labels made in the project after the "
                                                                  "file's labels (default: replace them).")] = False,
    project_dir: ProjectDir = Path("."),
) -> None:
    """Record labels from a label file; the whole file is checked first and every bad row reported.

    Example: textsel import annotated.json -p shop/  (a Label Studio export of the batch from next --out)
    """
    from textsel.cli.label import print_relabels

    with open_project(project_dir) as project:
        report = project.import_labels(path, format=import_format, keep_newer=keep_newer)
    passed = f"; {report.unlabeled} without a label passed over" if report.unlabeled else ""
    console.print(f"Imported {report.imported} labels from {safe(path)} ({report.format}){passed}.", highlight=False)
    print_relabels(report.relabeled)
    if report.newer:
        shown = ", ".join(safe(doc_id) for doc_id in report.newer[:10])
        action = "kept them" if report.kept_newer else "replaced them (--keep-newer keeps them)"
        console.print(f"[yellow]Warning: {len(report.newer)} texts had a label made after the file's label; "
                      f"{action}: id {shown}{' ...' if len(report.newer) > 10 else ''}.[/yellow]", highlight=False)


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


@app.command()
def train(
    target: Annotated[str, typer.Option(
        "--target", help="The model to train: logistic (on the embeddings, seconds) or transformer (fine-tunes "
                         "all-MiniLM-L6-v2 on the labeled texts; minutes without a GPU). Selecting with "
                         "`next --learner fasttext` and training the transformer is Selection via Proxy.")]
    = "logistic",
    epochs: Annotated[int | None, typer.Option(
        "--epochs", help="Training epochs of the transformer target (3 when not given).")] = None,
    engine: ScoringEngine = "local",
    address: RayAddress = None,
    workers: ScoringWorkers = None,
    project_dir: ProjectDir = Path("."),
    quiet: Quiet = False,
) -> None:
    """Train the classifier on every label, save it, and estimate the rare class's prevalence.

    The estimate scores every text once, here or on Ray with --engine ray. Examples: `textsel train`;
    `textsel train --target transformer --epochs 1`.
    """
    from textsel.project import SAVED_LEARNERS

    if target not in SAVED_LEARNERS:
        raise typer.BadParameter(f"must be one of {', '.join(SAVED_LEARNERS)}; got {target!r}", param_hint="--target")
    if epochs is not None and (target != "transformer" or epochs < 1):
        raise typer.BadParameter("takes an int >= 1, with --target transformer", param_hint="--epochs")
    check_engine_options(engine, address, workers)
    with open_project(project_dir, quiet=quiet) as project, project.lock():
        model = project.train(target, engine=engine, address=address, workers=workers,
                              **({} if epochs is None else {"epochs": epochs}))
    prevalence = ("n/a (not estimated over a static first pass: it would embed every text)"
                  if model.estimated_prevalence is None and project.is_static else
                  "n/a" if model.estimated_prevalence is None
                  else f"{model.estimated_prevalence:.2%} of the pool predicted {safe(project.config.positive)}")
    console.print(f"Trained the {model.learner_name} model on {model.n_labels} labels "
                  f"({safe(', '.join(model.classes))}) in {model.train_seconds:.2f} s. "
                  f"Estimated prevalence: {prevalence}.")


@app.command()
def predict(
    out: Annotated[Path, typer.Option("--out", "-o", help="Parquet file to write.")] = Path("preds.parquet"),
    engine: ScoringEngine = "local",
    address: RayAddress = None,
    workers: ScoringWorkers = None,
    project_dir: ProjectDir = Path("."),
    quiet: Quiet = False,
) -> None:
    """Write id, text, predicted label and p_<label> probabilities for every text.

    The model is trained first when labels changed since it was saved. Examples: textsel predict -o preds.parquet
    -p shop/; textsel predict --engine ray --address auto (score on a Ray cluster)."""
    check_engine_options(engine, address, workers)
    with open_project(project_dir, quiet=quiet) as project, project.lock():
        count = project.predict(out, engine=engine, address=address, workers=workers)
    console.print(f"Wrote predictions for {count:,} texts to {safe(out)}.")
