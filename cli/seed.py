"""Commands that bring in the first labels: search (by meaning, keyword or regex) and import."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from textsel.cli._common import ProjectDir, Quiet, console, open_project
from textsel.cli._display import safe

app = typer.Typer()


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
