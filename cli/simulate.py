"""`textsel simulate`: replay labeling against oracle labels and compare strategies and candidate pools."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer()


def _spread(stat: dict, spec: str) -> str:
    """A summary statistic as "mean ± sd" (sd over repeats; the mean alone after one repeat, n/a when missing)."""
    if stat["mean"] is None:
        return "n/a"
    if stat.get("n", 0) > 1:
        return f"{format(stat['mean'], spec)} ± {format(stat['sd'], spec)}"
    return format(stat["mean"], spec)


@app.command()
def simulate(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder: results.jsonl, summary.json, plot.png.")],
    data: Annotated[str | None, typer.Argument(
        help="Data file (.parquet/.csv/.jsonl ...), a folder with data.parquet, or a data set name in $TEXTSEL_DATA "
             "(default ../shared/data). With --project: the project's data file.", show_default=False)] = None,
    embeddings: Annotated[Path | None, typer.Option(help="Row-aligned .npy embeddings. Default: minilm.f16.npy "
                                                         "next to the data, else the texts are embedded once into "
                                                         "the shared cache in $TEXTSEL_HOME/embeddings "
                                                         "(~/.cache/textsel), reused by every run.")] = None,
    text_col: Annotated[str, typer.Option(help="Column holding the texts.")] = "text",
    label_col: Annotated[str, typer.Option(help="Column holding the oracle labels.")] = "label",
    positive: Annotated[list[str] | None, typer.Option(help="Value of --label-col in the rare class; repeat for "
                                                            "several. Omit for multi-class.")] = None,
    strategy: Annotated[list[str] | None, typer.Option(help="entropy, most-likely-positive, information-density, "
                                                            "least-confidence, margin, random or k-center (old names "
                                                            "maxent, mlp, id, kcenter still work); repeat to compare. "
                                                            "Default entropy.")] = None,
    pool: Annotated[list[str] | None, typer.Option(help="Candidate pool: seals, all, random; repeat to compare. "
                                                        "Default seals.")] = None,
    k: Annotated[int, typer.Option(help="Neighbours per labeled example in the SEALS pool.")] = 100,
    random_pool_size: Annotated[int, typer.Option(help="Subset size of the random candidate pool.")] = 10_000,
    seed_positives: Annotated[int, typer.Option(help="Positives in the seed (per class if multi-class).")] = 5,
    seed_negatives: Annotated[int, typer.Option(help="Negatives in the seed (extra random if multi-class).")] = 95,
    batch: Annotated[int, typer.Option(help="Labels selected per round.")] = 100,
    budget: Annotated[int, typer.Option(help="Total labels, seed included.")] = 2000,
    repeats: Annotated[int, typer.Option(help="Runs per strategy and pool (seeds seed, seed+1, ...).")] = 1,
    test_split: Annotated[str | None, typer.Option(help="Held-out rows: 'column=value' (split=test) or a fraction "
                                                        "(0.2). Default: split=test if present, else 0.2.")] = None,
    learner: Annotated[str, typer.Option(help="logistic (on embeddings) or fasttext (on texts).")] = "logistic",
    C: Annotated[float, typer.Option("--C", help="Inverse regularisation of the logistic learner.")] = 1.0,
    index_backend: Annotated[str, typer.Option(help="hnsw, or exact for small pools.")] = "hnsw",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    project_dir: Annotated[Path | None, typer.Option(
        "--project", "-p", help="Simulate on a project's texts with its vectors (nothing is embedded again); "
                                "--label-col names the oracle column of its data file.")] = None,
) -> None:
    """Simulate labeling with oracle labels; write per-round metrics, a summary and a plot."""
    from textsel.cli._project_vectors import project_simulation_inputs

    from textsel.simulate import simulate as run

    if data is None and project_dir is None:
        raise typer.BadParameter("name a data file, or --project with a project folder", param_hint="DATA")
    data, text_col, known = project_simulation_inputs(project_dir, data, text_col, embeddings)
    summary = run(data, out=out, embeddings=embeddings, text_col=text_col, label_col=label_col,
                  positive=positive or None, strategies=strategy or ["entropy"], pools=pool or ["seals"], k=k,
                  random_pool_size=random_pool_size, seed_positives=seed_positives, seed_negatives=seed_negatives,
                  batch_size=batch, budget=budget, repeats=repeats, test_split=test_split, learner=learner, C=C,
                  index_backend=index_backend, seed=seed, show_progress=True, known_vectors=known)
    typer.echo(f"{summary['concept']}: {summary['pool_size']} pool and {summary['test_size']} test documents")
    if repeats > 1:
        typer.echo(f"  mean ± sd over {repeats} repeats")
    for row in summary["runs"]:
        typer.echo(f"  {row['strategy']:>16} / {row['pool']:<6} final AP "
                   f"{_spread(row['final_average_precision'], '.3f')}, positives found "
                   f"{_spread(row['final_positives_found'], '.1f')}, pool fraction "
                   f"{_spread(row['mean_pool_fraction'], '.1%')}")
    typer.echo(f"Wrote {out / 'results.jsonl'}, {out / 'summary.json'} and {out / 'plot.png'}")
