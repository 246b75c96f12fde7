"""`textsel next`: select the next batch to label and record it as a round, or show the batch still pending."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Column, Table
from textsel.cli._common import (
    ProjectDir,
    Quiet,
    RayAddress,
    ScoringWorkers,
    check_engine_options,
    console,
    open_project,
)
from textsel.cli._display import one_line, safe

app = typer.Typer()


@app.command("next")
def next_batch(
    n: Annotated[int | None, typer.Option(
        "--n", "-n", help="How many texts to select. Default: the project's goal decides (find-all: 10; "
                          "train-classifier: 20).")] = None,
    strategy: Annotated[str | None, typer.Option(
        "--strategy", "-s", help="entropy, most-likely-positive, information-density, least-confidence, margin, "
                                 "random or k-center (old names maxent, mlp, id, kcenter still work). Default: "
                                 "the project's goal decides (find-all: most-likely-positive; train-classifier: "
                                 "entropy).")] = None,
    learner: Annotated[str | None, typer.Option(
        "--learner", help="The model that scores candidates: logistic (on the project's features), "
                          "relevance-feedback (hybrid features), fasttext (the SVP proxy, on the texts), transformer "
                          "or vdcnn (slow without a GPU). Default: relevance-feedback for the find-all goal on "
                          "hybrid features, else logistic.")] = None,
    pool: Annotated[str, typer.Option("--pool", help="Candidate pool: auto (the cheaper of the two, k from the pool "
                                                     "size), seals (kNN of labeled texts) or all.")] = "auto",
    seed: Annotated[int, typer.Option("--seed", help="Seed for random choices (recorded with the round).")] = 0,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Also write the batch for an external tool: "
                                                                 ".csv, .jsonl or .json (Label Studio).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing --out file.")] = False,
    discard_pending: Annotated[bool, typer.Option(
        "--discard-pending", help="Drop the texts of the last round still unlabeled (recorded; they are not "
                                  "selected again) and select a new batch.")] = False,
    engine: Annotated[str, typer.Option(
        "--engine", help="local, or ray: score the full scan (--pool all, or auto when it picks all) on Ray Data, a "
                         "local Ray or the cluster at --address (pip install 'textsel\\[ray]'). A SEALS pool is "
                         "small and is always scored here.")] = "local",
    address: RayAddress = None,
    workers: ScoringWorkers = None,
    project_dir: ProjectDir = Path("."),
    quiet: Quiet = False,
) -> None:
    """Select the next batch with a strategy over a candidate pool, record the round, and print it.

    While the last round still has texts to label, show those again instead (no new round).

    Examples: `textsel next -n 20`; `textsel next --strategy most-likely-positive --pool all`;
    `textsel next --learner fasttext` (select with the fastText proxy; then `textsel train --target transformer`);
    `textsel next --pool all --engine ray --address auto` (score the whole pool on a Ray cluster).
    """
    from textsel.export import check_output, write_batch
    from textsel.project import Project

    if out is not None:  # refuses the project folder, an existing folder, and an existing file without --force
        check_output(out, force=force, project_dir=project_dir)  # as export: one error line, exit 1
    Project.check_round_params(n, strategy, pool, learner)  # every argument is checked before anything is written
    check_engine_options(engine, address, workers)
    with open_project(project_dir, quiet=quiet) as project, project.lock():
        round_id, pending = project.store.pending()
        if pending and not discard_pending:
            scores = dict(project.store.selection(round_id))
            ids, result = pending, None
            round_scores = [scores[doc_id] for doc_id in ids]
            removed = len(set(scores) & project.store.removed_ids())  # no longer pending: out of the corpus
        else:
            round_id, result = project.next_batch(n, strategy=strategy, candidate_pool=pool, seed=seed,
                                                  discard_pending=discard_pending, learner=learner, engine=engine,
                                                  address=address, workers=workers)
            ids = result.ids.tolist()
            round_scores = [None] * len(ids) if result.scores is None else [float(score) for score in result.scores]
        positive = project.config.positive
        texts, shown_ids = project.texts(ids), project.external_ids(ids)  # string ids as given, else integers
        probabilities = _positive_probabilities(project, ids, result)
    records = [{"id": doc_id, "text": text, "score": score, "round": round_id}
               for doc_id, text, score in zip(shown_ids, texts, round_scores, strict=True)]
    if out is not None:
        write_batch(records, out, force=force, project_dir=project_dir)
    if result is None:
        gone = f"; {removed} selected texts of it were removed" if removed else ""
        title = (f"Round {round_id} is not finished: {len(ids)} texts still to label (no new round selected; "
                 f"--discard-pending drops them){gone}")
    else:
        chosen = project.last_pool_choice
        why = f"; auto: {chosen.reason}" if pool == "auto" else ""
        chosen_strategy, strategy_reason = project.last_strategy
        title = (f"Round {round_id}: {chosen_strategy} with the {project.last_learner} learner over the "
                 f"{chosen.name} pool "
                 f"(k={chosen.k}, {result.candidate_pool_size:,} candidates, {result.pool_fraction:.1%} of the "
                 f"unlabeled pool{why})")
    table = Table("#", "id", Column(f"P({safe(positive)})", justify="right"), Column("score", justify="right"),
                  "text", title=title)
    for rank, (record, probability) in enumerate(zip(records, probabilities, strict=True), start=1):
        table.add_row(str(rank), safe(record["id"]), "" if probability is None else f"{probability:.3f}",
                      "" if record["score"] is None else f"{record['score']:.3f}", one_line(record["text"]))
    console.print(table)
    if all(probability is None for probability in probabilities):
        console.print(f"No P({safe(positive)}) yet: the model needs labels of two classes.")
    written = f"Wrote {safe(out)}. " if out else ""
    if result is None:
        console.print(f"{written}Label them with `textsel label`, or run `textsel next --discard-pending` to drop "
                      f"them and select a new batch.")
    else:
        console.print(f"Strategy {chosen_strategy}: {safe(strategy_reason)}"
                      + ("" if strategy is not None else " (`--strategy` picks another; `textsel init --goal` sets "
                                                         "the goal)") + ".")
        console.print(f"Selected in {result.select_seconds:.2f} s (training {result.train_seconds:.2f} s). "
                      f"{written}Label them with `textsel label`.")


def _positive_probabilities(project, ids: list[int], result) -> list[float | None]:  # noqa: ANN001
    """P(positive) of each shown text: from the model that selected this round when its strategy read
    probabilities, else (a pending round, random or k-center) from the project's trained model."""
    by_id = result.positive_probabilities(project.config.positive, ids) if result is not None else {}
    if by_id:
        return [by_id.get(doc_id) for doc_id in ids]
    return project.positive_probabilities(ids)
