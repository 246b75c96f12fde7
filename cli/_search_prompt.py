"""The seed-search prompt of `textsel search`: many queries against one loaded model, labeling hits by rank."""

from __future__ import annotations

import re

from rich.table import Table
from textsel.cli._common import console
from textsel.cli._display import one_line, safe

_LABEL_COMMAND = re.compile(r":label\s+(.+?)\s+([\d,\s]+)$")  # the label may hold spaces


def show_hits(hits: list, title: str, score_name: str) -> None:  # noqa: ANN001 - textsel.project.Hit
    """A table of hits: rank, id, score, current label and the text on one line (all data text escaped)."""
    table = Table("rank", "id", score_name, "label", "text", title=title)
    for rank, hit in enumerate(hits, start=1):
        score = f"{hit.score:.0f}" if score_name == "matches" else f"{hit.score:.3f}"
        table.add_row(str(rank), safe(hit.doc_id), score, safe(hit.label or ""), one_line(hit.text))
    console.print(table)


def run_prompt(project, n: int) -> None:  # noqa: ANN001 - textsel.project.Project
    """Read queries until an empty line, 'q' or end of input; the project keeps the model loaded between them."""
    from textsel.errors import TextselError

    console.print("Search by meaning (plain text) or by regular expression (/PATTERN/); label hits of the last "
                  "list with ':label LABEL 1,3'; an empty line or q quits.", highlight=False)
    hits: list = []
    while True:
        try:
            line = console.input("search> ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if line in ("", "q", ":q", ":quit"):
            break
        try:
            hits = _answer(project, line, n, hits)
        except TextselError as error:  # a bad pattern or label is explained; the prompt goes on
            console.print(f"[yellow]{safe(error)}[/yellow]")


def _answer(project, line: str, n: int, hits: list) -> list:  # noqa: ANN001
    """Run one prompt line; return the hits now on screen."""
    from textsel.cli.label import print_relabels

    from textsel.errors import DataError

    command = _LABEL_COMMAND.match(line)
    if line.startswith(":"):
        if command is None:
            raise DataError(f"unknown command {line!r}; write ':label LABEL 1,3' (ranks of the last list)")
        ranks = [int(rank) for rank in re.split(r"[,\s]+", command.group(2)) if rank]
        bad = [rank for rank in ranks if not 1 <= rank <= len(hits)]
        if bad or not ranks:
            raise DataError(f"rank {bad[0] if bad else ''} is not in the last list (1-{len(hits)})")
        replaced = project.add_labels([hits[rank - 1].doc_id for rank in ranks], [command.group(1)] * len(ranks),
                                      source="search")
        console.print(f"Labeled {len(ranks)} texts as {safe(command.group(1))}.")
        print_relabels(replaced)
        return hits
    if len(line) > 2 and line.startswith("/") and line.endswith("/"):
        found, total = project.find_texts(line[1:-1], regex=True, n=n)
        show_hits(found, f"{total:,} texts match {safe(line)}", "matches")
        return found
    found = project.search(line, n)
    show_hits(found, f"Nearest to {safe(repr(line))}", "similarity")
    return found
