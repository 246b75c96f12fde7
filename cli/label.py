"""`textsel label`: record labels by id (`--ids ... --label X`) or label the pending batch key by key."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from textsel.cli._display import head, safe
from textsel.cli.app import app
from textsel.cli.project import ProjectDir, console, open_project

SHOWN_CHARACTERS = 2_000  # a text longer than this shows its start and how much is hidden


@contextmanager
def key_mode() -> Iterator[None]:
    """Put a terminal on stdin into cbreak mode (one key, no Enter) for a whole session; a pipe is left alone.

    Set once and without flushing, so keys typed ahead while a text is saved are not lost.
    """
    if not sys.stdin.isatty():
        yield
        return
    import termios
    import tty

    descriptor = sys.stdin.fileno()
    saved = termios.tcgetattr(descriptor)
    tty.setcbreak(descriptor, termios.TCSANOW)
    try:
        yield
    finally:
        termios.tcsetattr(descriptor, termios.TCSADRAIN, saved)


def read_key() -> str | None:
    """One key from a terminal in cbreak mode, or the first character of one line from a pipe; None at EOF."""
    if sys.stdin.isatty():
        return os.read(sys.stdin.fileno(), 1).decode(errors="replace") or None
    line = sys.stdin.readline()
    return line.strip()[:1] if line else None


def split_ids(ids: str) -> list[str]:
    """Comma-separated ids as typed (integers or string ids such as tw13983); resolved by the project."""
    from textsel.errors import DataError

    items = [item.strip() for item in ids.split(",") if item.strip()]
    if not items:
        raise DataError("no ids given; write them comma-separated, e.g. 17,204,311")
    return items


def _label_ids(project_dir: Path, ids: str, label_value: str | None) -> None:
    if not label_value:
        raise typer.BadParameter("--ids needs --label (the class to record for those ids)")
    doc_ids = split_ids(ids)
    with open_project(project_dir) as project:
        replaced = project.add_labels(doc_ids, [label_value] * len(doc_ids), source="cli")
    console.print(f"Labeled {len(doc_ids)} texts as {safe(label_value)}.")
    print_relabels(replaced)


def print_relabels(replaced: list, limit: int = 10) -> None:  # noqa: ANN001 - textsel.project.Relabel
    """Say which labels a write replaced (old -> new), up to ``limit`` of them."""
    if not replaced:
        return
    shown = ", ".join(f"{safe(item.doc_id)} ({safe(item.old)} -> {safe(item.new)})" for item in replaced[:limit])
    more = f" and {len(replaced) - limit} more" if len(replaced) > limit else ""
    console.print(f"Replaced {len(replaced)} earlier label{'s' if len(replaced) > 1 else ''} (kept in the "
                  f"history): id {shown}{more}.", highlight=False)


def _interactive(project_dir: Path) -> None:
    from textsel.labeling import QUIT, LabelSession

    with open_project(project_dir) as project, project.lock(), key_mode():
        session = LabelSession(project)
        total = len(session.queue)
        if not total:
            console.print(f"Nothing to label: every text of round {session.round_id} is labeled or skipped. "
                          "Select more with `textsel next`.")
            return
        legend = "  ".join(f"{key}={safe(label)}" for key, label in session.keys.items()) + "  s=skip  u=undo  q=quit"
        while session.current is not None:
            doc_id = session.current
            console.rule(f"round {session.round_id} · {len(session.queue)} left · id {doc_id}")
            _show(session.text(doc_id))
            console.print(legend)
            _dispatch(session, _next_key(QUIT), doc_id)
        console.print(f"Batch of round {session.round_id} done. Select the next with `textsel next`.")


def _show(text: str) -> None:
    """Print a text from the pool: control characters made visible, at most SHOWN_CHARACTERS of it."""
    shown, hidden = head(text, SHOWN_CHARACTERS)
    console.print(shown, markup=False, highlight=False)
    if hidden:
        console.print(f"[dim]… {hidden:,} more characters not shown ({len(text):,} in all).[/dim]")


class _Quit(Exception):
    pass


def _next_key(quit_key: str) -> str:
    try:
        key = read_key()
    except KeyboardInterrupt:
        key = None
    if key is None or key in (quit_key, "\x04"):  # Ctrl-D arrives as a character in cbreak mode
        raise _Quit
    return key


def _dispatch(session, key: str, shown_id: int) -> None:  # noqa: ANN001 - LabelSession
    """Apply a key to the text on screen; a refused key (unknown, or the text changed meanwhile) is explained and
    the caller's loop shows the current text again."""
    from textsel.errors import DataError
    from textsel.labeling import ShownTextChanged

    try:
        action = session.press(key, shown_id)
    except (DataError, ShownTextChanged) as error:
        console.print(f"[yellow]{safe(error)}[/yellow]")
        return
    if action is None:
        console.print("Nothing to undo in this session.")
    elif session.current == action.doc_id:
        console.print(f"Undone: id {action.doc_id} ({safe(action.label or 'skip')}).")
    else:
        console.print(f"Saved: id {action.doc_id} = {safe(action.label)}." if action.kind == "label"
                      else f"Skipped: id {action.doc_id}.")


@app.command()
def label(
    ids: Annotated[str | None, typer.Option("--ids", help="Comma-separated ids to label non-interactively.")] = None,
    label_value: Annotated[str | None, typer.Option("--label", "-l", help="The label for --ids.")] = None,
    project_dir: ProjectDir = Path("."),
) -> None:
    """Label the pending batch key by key (each label saved at once; resumes later), or --ids with --label."""
    if ids is not None:
        _label_ids(project_dir, ids, label_value)
        return
    try:
        _interactive(project_dir)
    except _Quit:
        console.print("Stopped; every label so far is saved. Run `textsel label` to resume.")
