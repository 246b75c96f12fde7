"""Commands that make a project and its caches: init, embed, index."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from textsel.cli._common import ProjectDir, Quiet, check_engine_options, console, open_project, split_list
from textsel.cli._display import safe

app = typer.Typer()


@app.command()
def init(
    directory: Annotated[str, typer.Argument(help="Folder to create the project in.")],
    data: Annotated[str, typer.Option("--data", help="Pool file (CSV/TSV/JSONL/Parquet/fastText) or dataset.")],
    text_col: Annotated[str, typer.Option("--text-col", help="Column holding the texts.")] = "text",
    id_col: Annotated[str | None, typer.Option(
        "--id-col", help="Column of unique ids: integers or strings (default: row numbers).")] = None,
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
                             "transformer embedding (pip install 'textsel\\[static]').")] = None,
    dedupe: Annotated[str | None, typer.Option(
        "--dedupe", help="Keep the first row of each id (id) or of each text (text) and drop repeats, with a "
                         "report; without it repeated ids stop init.")] = None,
    features: Annotated[str | None, typer.Option(
        "--features", help="What the classifier reads: dense (the embeddings), lexical (TF-IDF of words and word "
                           "pairs), hybrid (both) or, with --first-pass static, static (the static vectors: no "
                           "transformer in a round). Default: hybrid for --goal find-all (dense with "
                           "--first-pass static), dense for train-classifier.")] = None,
    goal: Annotated[str, typer.Option(
        "--goal", help="find-all (each round shows the likeliest positives) or train-classifier (the texts the "
                       "model is least sure of); picks the strategy of `textsel next` when --strategy is not "
                       "given.")] = "find-all",
) -> None:
    """Create a project folder: textsel.toml, an SQLite database and a cache."""
    from textsel.cli._first_cost import first_command_cost

    from textsel.project import init_project

    if first_pass not in (None, "static"):
        raise typer.BadParameter(f"must be static; got {first_pass!r}", param_hint="--first-pass")
    if dedupe not in (None, "id", "text"):
        raise typer.BadParameter(f"must be id or text; got {dedupe!r}", param_hint="--dedupe")
    project = init_project(directory, data=data, text_col=text_col, id_col=id_col, label_col=label_col,
                           format=data_format, labels=split_list(labels), positive=positive, model=model,
                           embeddings=str(embeddings) if embeddings else None, backend=backend,
                           first_pass=first_pass, dedupe=dedupe, features=features, goal=goal)
    with project:
        console.print(f"Created project {directory} with {len(project.pool):,} texts; labels "
                      f"{', '.join(project.config.labels)} (rare class: {project.config.positive}).")
        if project.pool.dedupe_report is not None:
            report = safe(project.pool.dedupe_report.describe())
            console.print(f"{report[0].upper()}{report[1:]}.", highlight=False)
        console.print(first_command_cost(project), highlight=False)
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
                         "pip install 'textsel\\[ray]').")] = "local",
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
    """The static first pass's embed: static vectors of every text, then the static index over them; with static
    features the float32 copy the classifier reads instead (a scan needs no index; `textsel index` builds it)."""
    static_features = project.config.features == "static"
    try:
        vectors = project.static_vectors()
        if static_features:  # what the classifier reads: written now, not in the first `next`
            project.static_vectors_float32()
        else:
            built = project.index()
    except KeyboardInterrupt:
        console.print(_interrupted_message(project))
        raise typer.Exit(130) from None
    shape = (f"Static first pass: {vectors.shape[0]:,} texts x {vectors.shape[1]} dimensions of static vectors "
             f"distilled from {safe(project.config.model)}")
    if static_features:
        console.print(f"{shape}, and the float32 copy the classifier reads. No index yet: with static features "
                      f"`textsel next` can scan every text; `textsel index` builds the static index and the "
                      f"neighbour table SEALS reads (`--pool seals`, or `auto` where SEALS pays).", highlight=False)
        return
    console.print(f"{shape}; static index of {len(built):,} texts at {safe(project.index_path)}. No transformer "
                  f"embedding of the pool: `textsel next` embeds only labeled texts and candidates.", highlight=False)


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
    write_text_atomic(project.directory / CONFIG_NAME, config.to_toml(project.directory))
    project.config.dtype, project.config.device = config.dtype, config.device  # in place: the parts hold this config


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
        if project.config.backend == "exact":  # a table would cost one pass over the vectors per text
            console.print("No neighbour table over the exact index: SEALS searches it for each new label.")
            return
        table = project.neighbour_table(build=rebuild or project.neighbour_table() is None)
        console.print(f"Neighbour table: the {table.k} nearest of each text, for SEALS rounds without the index.")
