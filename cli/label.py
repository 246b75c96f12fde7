"""`textsel label`: record labels by id (`--ids ... --label X`) or label the pending batch key by key."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from textsel.cli._common import ProjectDir, console, open_project
from textsel.cli._display import head, safe

app = typer.Typer()

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

    items = list(dict.fromkeys(item for item in ids.split(",") if item.strip()))  # as typed (" a" is an id), once
    if not items:
        raise DataError("no ids given; write them comma-separated, e.g. 17,204,311")
    return items


def _label_ids(project_dir: Path, ids: str, label_value: str | None) -> None:
    if not label_value:
        raise typer.BadParameter("--ids needs --label (the class to record for those ids)")
    doc_ids = split_ids(ids)
    with open_project(project_dir) as project:
        replaced = project.add_labels(doc_ids, [label_value] * len(doc_ids), source="cli")
        count = len(set(project.resolve_ids(doc_ids)))  # "2,2,2" or "2, 2" is one text
    console.print(f"Labeled {count} text{'s' if count != 1 else ''} as {safe(label_value)}.")
    print_relabels(replaced)


def print_relabels(replaced: list, limit: int = 10) -> None:  # noqa: ANN001 - textsel.project.Relabel
    """Say which labels a write replaced (old -> new), up to ``limit`` of them."""
    if not replaced:
        return
    shown = ", ".join(f"{safe(item.doc_id)} ({safe(item.old)} -> {safe(item.new)})" for item in replaced[:limit])
    more = f" and {len(replaced) - limit} more" if len(replaced) > limit else ""
    console.print(f"Replaced {len(replaced)} earlier label{'s' if len(replaced) > 1 else ''} (kept in the "
                  f"history): id {shown}{more}.", highlight=False)


def _interactive(project_dir: Path, make_session, intro) -> None:  # noqa: ANN001 - callables
    """Run a session made by ``make_session(project)``: show a card, read a key, apply it, until the queue is done
    or the user quits; then list the texts still skipped. ``intro(session)`` returns None to go on, or a line to
    print and stop (nothing to label)."""
    from textsel.labeling import QUIT

    with open_project(project_dir) as project, project.lock(), key_mode():
        session = make_session(project)
        stop = intro(session)
        if stop:
            console.print(stop)
            return
        legend = "  ".join(f"{key}={safe(label)}" for key, label in session.keys.items()) + "  s=skip  u=undo  q=quit"
        try:
            while session.current is not None:
                doc_id = session.current
                _card(session, doc_id)
                console.print(legend)
                _dispatch(session, next_key(QUIT), doc_id)
        except Quit:
            console.print("Stopped; every label so far is saved. Run `textsel label` to resume.")
        else:
            console.print(_finished(session))
        _report_set_aside(session)
        _list_skipped(project)


def _report_set_aside(session) -> None:  # noqa: ANN001 - LabelSession
    """A continuous session discards the unlabeled rest of its last batch (nothing pending blocks `audit`); say so."""
    round_id, ids = session.set_aside() if hasattr(session, "set_aside") else (None, [])
    if ids:
        console.print(f"Set aside the {len(ids)} unlabeled texts of round {round_id} (recorded as discarded), so "
                      "`textsel next` and `textsel audit` start fresh.")


def _card(session, doc_id: int) -> None:  # noqa: ANN001 - LabelSession
    """The rule above a text: its round, how many are left, its id and the model's P(positive)."""
    probability = session.probability(doc_id)
    positive = session.project.config.positive
    chance = "" if probability is None else f" · P({safe(positive)}) {probability:.2f}"
    round_id = session.rounds.get(doc_id)
    console.rule(f"round {round_id} · {len(session.queue)} left · id {safe(session.shown_id(doc_id))}{chance}")
    show_text(session.text(doc_id))


def _finished(session) -> str:  # noqa: ANN001 - LabelSession
    from textsel.labeling import ContinuousSession

    if isinstance(session, ContinuousSession):
        return f"Stopped: {safe(session.stop_reason)}. {session.labels_made} labels made in this session."
    if session.revisit:
        return "Every skipped text was shown."
    return f"Batch of round {session.round_id} done. Select the next with `textsel next`."


def _list_skipped(project, limit: int = 10) -> None:  # noqa: ANN001 - Project
    """Name the texts skipped and still unlabeled, and how to revisit them."""
    skipped = [doc_id for _, doc_id in project.store.skipped()]
    if skipped:
        shown = ", ".join(safe(name) for name in project.external_ids(skipped[:limit]))
        more = f" and {len(skipped) - limit} more" if len(skipped) > limit else ""
        console.print(f"Skipped and still unlabeled: {len(skipped)} texts (id {shown}{more}). Revisit them with "
                      f"`textsel label --skipped`.", highlight=False)


def _pending_intro(session) -> str | None:  # noqa: ANN001 - LabelSession
    if session.queue:
        return None
    return (f"Nothing to label: every text of round {session.round_id} is labeled or skipped. Select more with "
            f"`textsel next`, or label continuously with `textsel label --continuous`.")


def _skipped_intro(session) -> str | None:  # noqa: ANN001 - LabelSession
    return None if session.queue else "No skipped texts to revisit."


def show_text(text: str) -> None:
    """Print a text from the pool: control characters made visible, at most SHOWN_CHARACTERS of it."""
    shown, hidden = head(text, SHOWN_CHARACTERS)
    console.print(shown, markup=False, highlight=False)
    if hidden:
        console.print(f"[dim]… {hidden:,} more characters not shown ({len(text):,} in all).[/dim]")


class Quit(Exception):
    pass


def next_key(quit_key: str) -> str:
    """The next key; Enter alone (an empty line from a pipe, CR or LF from a terminal) is passed over quietly."""
    key = ""
    while key in ("", "\n", "\r"):
        try:
            key = read_key()
        except KeyboardInterrupt:
            key = None
        if key is None or key in (quit_key, "\x04"):  # Ctrl-D arrives as a character in cbreak mode
            raise Quit
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
        return
    name = safe(session.shown_id(action.doc_id))
    if session.queue and session.queue[0] == action.doc_id:
        console.print(f"Undone: id {name} ({safe(action.label or 'skip')}).")
    elif action.kind == "label":
        console.print(f"Saved: id {name} = {safe(action.label)}.")
    else:
        console.print(f"Skipped: id {name}." if action.kind == "skip" else f"Still skipped: id {name}.")


@app.command()
def label(
    ids: Annotated[str | None, typer.Option("--ids", help="Comma-separated ids to label non-interactively.")] = None,
    label_value: Annotated[str | None, typer.Option("--label", "-l", help="The label for --ids.")] = None,
    continuous: Annotated[bool, typer.Option("--continuous", "-c", help="Select, label, retrain and select again "
                                                                        "until you quit.")] = False,
    skipped: Annotated[bool, typer.Option("--skipped", help="Revisit the texts skipped so far.")] = False,
    retrain_every: Annotated[int, typer.Option("--retrain-every", help="With --continuous: texts per batch; the "
                                                                       "model is retrained after each.")] = 10,
    strategy: Annotated[str | None, typer.Option("--strategy", "-s", help="With --continuous: the selection "
                                                 "strategy (as for `textsel next`; default: the project's goal's).")]
    = None,
    pool: Annotated[str, typer.Option("--pool", help="With --continuous: candidate pool, auto, seals or all.")]
    = "auto",
    max_labels: Annotated[int | None, typer.Option("--max-labels", help="With --continuous: stop after this many "
                                                                        "labels.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="With --continuous: seed of the first batch.")] = 0,
    project_dir: ProjectDir = Path("."),
) -> None:
    """Label texts key by key (each label saved at once; a session resumes later).

    Plain: the pending batch of `textsel next`. --continuous: select, label, retrain every --retrain-every texts and
    select again until q. --skipped: revisit skipped texts. --ids with --label: no prompt. Each card shows the
    model's P(positive) once two classes are labeled; Enter alone does nothing.
    Examples: textsel label -p shop/;  textsel label --continuous --retrain-every 20;  textsel label --ids 17,tw9
    --label spoiler
    """
    from textsel.labeling import ContinuousSession, LabelSession

    if sum((ids is not None, continuous, skipped)) > 1:
        raise typer.BadParameter("use one of --ids, --continuous and --skipped")
    if ids is not None:
        _label_ids(project_dir, ids, label_value)
    elif continuous:
        _interactive(project_dir, lambda project: ContinuousSession(
            project, batch_size=retrain_every, strategy=strategy, candidate_pool=pool, seed=seed,
            max_labels=max_labels), lambda session: None)
    elif skipped:
        _interactive(project_dir, lambda project: LabelSession(project, revisit_skipped=True), _skipped_intro)
    else:
        _interactive(project_dir, LabelSession, _pending_intro)
