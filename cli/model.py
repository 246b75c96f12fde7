"""Commands for the project's model: train, predict."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from textsel.cli._common import (
    Concept,
    ProjectDir,
    Quiet,
    RayAddress,
    ScoringEngine,
    ScoringWorkers,
    check_engine_options,
    console,
    open_project,
)
from textsel.cli._display import safe

app = typer.Typer()


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
    concept: Concept = None,
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
    from textsel.concept_scope import concept_scope

    with open_project(project_dir, quiet=quiet) as project, project.lock(), concept_scope(project, concept) as project:
        model = project.train(target, engine=engine, address=address, workers=workers,
                              **({} if epochs is None else {"epochs": epochs}))
    prevalence = ("n/a (not estimated over a static first pass: it would embed every text)"
                  if model.estimated_prevalence is None and project.is_static else
                  "n/a" if model.estimated_prevalence is None
                  else f"{model.estimated_prevalence:.2%} of the pool predicted {safe(project.config.positive)} by "
                  "this model (a count of its predictions: trained on actively selected labels, where the rare class "
                  "is over-represented, it runs high; `textsel status` estimates the prevalence from random audit "
                  "samples instead)")
    console.print(f"Trained the {model.learner_name} model on {model.n_labels} labels "
                  f"({safe(', '.join(model.classes))}) in {model.train_seconds:.2f} s. "
                  f"Estimated prevalence: {prevalence}.")


@app.command()
def predict(
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="File to write, outside the project; the suffix picks the format: .parquet, .csv, .jsonl. "
        "Default: preds.parquet in the current folder, or <project>-preds.parquet beside the project when run "
        "inside it.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing --out file.")] = False,
    engine: ScoringEngine = "local",
    address: RayAddress = None,
    workers: ScoringWorkers = None,
    project_dir: ProjectDir = Path("."),
    quiet: Quiet = False,
    concept: Concept = None,
) -> None:
    """Write id, text, predicted label and p_<label> probabilities for every text.

    The model is trained first when labels changed since it was saved. Examples: textsel predict -o preds.parquet
    -p shop/; textsel predict --engine ray --address auto (score on a Ray cluster)."""
    check_engine_options(engine, address, workers)
    from textsel.outputs import default_output

    out = default_output("preds.parquet", project_dir) if out is None else out
    from textsel.concept_scope import concept_scope

    with open_project(project_dir, quiet=quiet) as project, project.lock(), concept_scope(project, concept) as project:
        count = project.predict(out, engine=engine, address=address, workers=workers, force=force)
    console.print(f"Wrote predictions for {count:,} texts to {safe(out)}.")
