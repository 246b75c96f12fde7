"""`textsel remove`: take documents out of the corpus (or put them back) without touching the data files or labels.

A removed document is marked deleted in the saved index (no rebuild) and is never selected, audited, counted in the
estimates or predicted again; its labels stay in the project and in exports, and the model still trains on them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from textsel.cli._common import ProjectDir, Quiet, console, open_project
from textsel.cli.label import split_ids

app = typer.Typer()


@app.command()
def remove(
    ids: Annotated[str | None, typer.Option("--ids", help="Comma-separated ids to remove.")] = None,
    file: Annotated[Path | None, typer.Option(
        "--file", help="CSV of ids to remove: its 'id' column (e.g. a filtered export) or its only column.")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why, recorded with the removal.")] = None,
    restore: Annotated[bool, typer.Option(
        "--restore", help="Put removed documents back instead: selectable and searchable again.")] = False,
    project_dir: ProjectDir = Path("."),
    quiet: Quiet = False,
) -> None:
    """Remove documents from the corpus: never selected, audited, estimated over or predicted again.

    Every id is checked before anything is written. The data files are not changed and labels are never deleted:
    a removed document's labels stay in the project and in `textsel export`, and the model keeps training on them
    (they are still true examples of their class). A text of the batch still to label that is removed stops being
    pending. `textsel add` refuses a removed id; --restore puts it back.

    Examples: textsel remove --ids 17,204 --reason duplicate;  textsel remove --file drop.csv;
    textsel remove --ids 17 --restore
    """
    if (ids is None) == (file is None):
        raise typer.BadParameter("give the documents with one of --ids and --file")
    if restore and reason is not None:
        raise typer.BadParameter("--reason goes with a removal, not with --restore")
    with open_project(project_dir, quiet=quiet) as project, project.lock():
        values = split_ids(ids) if ids is not None else project.resolve_id_file(file)
        if restore:
            restored = project.restore_documents(values)
            console.print(f"Restored {len(restored):,} texts: they can be selected and found by search again.")
            return
        round_id, pending_before = project.store.pending()
        removed = project.remove_documents(values, reason=reason)
        labeled = len(set(removed) & set(project.store.current_labels()))
        left_pending = set(pending_before) & set(removed)
        already = len(set(project.resolve_ids(values))) - len(removed)
    parts = [f"Removed {len(removed):,} texts from the corpus"
             + (f" ({already:,} were removed already)" if already else "") + "."]
    if labeled:
        parts.append(f"{labeled:,} of them are labeled: their labels are kept and still used for training.")
    if left_pending:
        parts.append(f"{len(left_pending):,} of round {round_id}'s texts to label were among them and are no longer "
                     f"pending.")
    console.print(" ".join(parts), highlight=False)
