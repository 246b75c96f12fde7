"""`textsel label`: record labels by id (`--ids ... --label X`) or label the pending batch key by key."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from textsel.cli.app import app
from textsel.cli.project import ProjectDir, console, open_project, split_list


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


def _label_ids(project_dir: Path, ids: str, label_value: str | None) -> None:
    if not label_value:
        raise typer.BadParameter("--ids needs --label (the class to record for those ids)")
    try:
        doc_ids = [int(value) for value in split_list(ids) or []]
    except ValueError as error:
        raise typer.BadParameter(f"--ids must be comma-separated integers: {error}") from error
    with open_project(project_dir) as project:
        project.add_labels(doc_ids, [label_value] * len(doc_ids), source="cli")
    console.print(f"Labeled {len(doc_ids)} texts as {label_value}.")


def _interactive(project_dir: Path) -> None:
    from textsel.labeling import QUIT, LabelSession

    with open_project(project_dir) as project, project.lock(), key_mode():
        session = LabelSession(project)
        total = len(session.queue)
        if not total:
            console.print(f"Nothing to label: every text of round {session.round_id} is labeled or skipped. "
                          "Select more with `textsel next`.")
            return
        legend = "  ".join(f"{key}={label}" for key, label in session.keys.items()) + "  s=skip  u=undo  q=quit"
        while session.current is not None:
            doc_id = session.current
            console.rule(f"round {session.round_id} · {len(session.queue)} left · id {doc_id}")
            console.print(session.text(doc_id), markup=False, highlight=False)
            console.print(legend)
            _dispatch(session, _next_key(QUIT))
        console.print(f"Batch of round {session.round_id} done. Select the next with `textsel next`.")


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


def _dispatch(session, key: str) -> None:  # noqa: ANN001 - LabelSession
    from textsel.errors import DataError

    try:
        action = session.press(key)
    except DataError as error:
        console.print(f"[yellow]{error}[/yellow]")
        return
    if action is None:
        console.print("Nothing to undo in this session.")
    elif session.current == action.doc_id:
        console.print(f"Undone: id {action.doc_id} ({action.label or 'skip'}).")
    else:
        console.print(f"Saved: id {action.doc_id} = {action.label}." if action.kind == "label"
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
