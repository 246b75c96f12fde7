"""`textsel label`: labels by id, the interactive session (scripted stdin and a real pseudo-terminal), and
durability: a labeling process killed with SIGKILL loses no committed label and the next session resumes."""

from __future__ import annotations

import csv
import os
import pty
import select
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import fake_embeddings
from textsel.cli.app import app
from typer.testing import CliRunner

from textsel.project import Project

runner = CliRunner()
BATCH = 8


def invoke(*args, stdin=None):
    return runner.invoke(app, [str(arg) for arg in args], input=stdin)


@pytest.fixture
def project(tmp_path):
    """A 60-text project with one random round of BATCH texts pending."""
    texts = [f"review {i}: {'torn seam' if i % 5 == 0 else 'nice fit'}" for i in range(60)]
    with open(tmp_path / "pool.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([("id", "text"), *((100 + i, t) for i, t in enumerate(texts))])
    np.save(tmp_path / "emb.npy", fake_embeddings(texts, 8))
    folder = tmp_path / "proj"
    assert invoke("init", folder, "--data", tmp_path / "pool.csv", "--id-col", "id", "--labels", "torn,ok",
                  "--embeddings", tmp_path / "emb.npy", "--backend", "exact").exit_code == 0
    result = invoke("next", "-n", BATCH, "-s", "random", "--pool", "all", "-p", folder)
    assert result.exit_code == 0, result.output
    return folder


def pending(folder):
    with Project(folder) as opened:
        return opened.store.pending()[1]


def label_rows(folder):
    with sqlite3.connect(folder / "textsel.db") as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return connection.execute("SELECT doc_id, label FROM labels ORDER BY row").fetchall()


def test_label_ids_records_and_rejects_bad_input_without_writing(project):
    assert invoke("label", "--ids", "100,105", "--label", "torn", "-p", project).exit_code == 0
    unknown = invoke("label", "--ids", "101", "--label", "maybe", "-p", project)
    assert unknown.exit_code == 1 and "unknown label 'maybe'" in unknown.output and "torn, ok" in unknown.output
    missing = invoke("label", "--ids", "101,7", "--label", "ok", "-p", project)
    assert missing.exit_code == 1 and "id 7 is not in the pool" in missing.output
    assert invoke("label", "--ids", "101", "-p", project).exit_code != 0
    assert label_rows(project) == [(100, "torn"), (105, "torn")]


def test_interactive_session_labels_skips_undoes_and_resumes(project):
    batch = pending(project)
    result = invoke("label", "-p", project, stdin="1\nx\ns\nu\n2\nu\n1\nq\n")
    assert result.exit_code == 0, result.output
    assert "unknown key 'x'" in result.output and "every label so far is saved" in result.output
    # label, skip, undo (skip), label, undo (retracts), label again
    assert label_rows(project) == [(batch[0], "torn"), (batch[1], "ok"), (batch[1], None), (batch[1], "torn")]
    assert pending(project) == batch[2:]
    finish = invoke("label", "-p", project, stdin="2\n" * (BATCH - 2))
    assert finish.exit_code == 0 and "done" in finish.output
    assert pending(project) == []
    assert "Nothing to label" in invoke("label", "-p", project, stdin="").output


def test_session_passes_over_texts_labeled_meanwhile_by_another_process(project):
    from textsel.labeling import LabelSession

    batch = pending(project)
    with Project(project) as first, Project(project) as second:
        session = LabelSession(first)
        session.press("1", batch[0])
        second.add_labels([batch[1]], ["ok"], source="cli")  # e.g. `textsel label --ids` from another terminal
        assert session.current == batch[2]
        session.press("u", batch[2])  # undo still reverses this session's own last label
        assert session.current == batch[0]
    assert label_rows(project) == [(batch[0], "torn"), (batch[1], "ok"), (batch[0], None)]


@pytest.mark.parametrize("key", ["1", "s"])
def test_a_key_press_never_lands_on_a_text_that_was_not_on_screen(project, key):
    from textsel.labeling import LabelSession, ShownTextChanged

    batch = pending(project)
    with Project(project) as first, Project(project) as second:
        session = LabelSession(first)
        shown = session.current
        assert shown == batch[0]
        second.add_labels([shown], ["ok"], source="cli")  # labeled elsewhere while it is on screen
        with pytest.raises(ShownTextChanged, match=f"id {shown} was labeled 'ok' by another process"):
            session.press(key, shown)
        assert session.current == batch[1]  # the redraw shows the next text; the key was not applied to it
        with first.store.transaction() as connection:
            assert connection.execute("SELECT COUNT(*) FROM skips").fetchone()[0] == 0
    assert label_rows(project) == [(batch[0], "ok")]
    assert pending(project) == batch[1:]


def test_the_labeler_refuses_a_key_for_a_text_labeled_meanwhile_and_shows_the_next(project, monkeypatch):
    from textsel.labeling import LabelSession

    batch = pending(project)
    original = LabelSession.press

    def press_after_another_process_labels(self, key, shown_id):  # the race, at the worst moment
        if shown_id == batch[0]:
            with Project(project) as other:
                other.add_labels([batch[0]], ["ok"], source="cli")
        return original(self, key, shown_id)

    monkeypatch.setattr(LabelSession, "press", press_after_another_process_labels)
    result = invoke("label", "-p", project, stdin="1\n1\nq\n")
    assert result.exit_code == 0, result.output
    assert f"id {batch[0]} was labeled 'ok' by another process" in result.output
    assert result.output.count(f"id {batch[1]}") >= 2  # redrawn, then saved
    assert label_rows(project) == [(batch[0], "ok"), (batch[1], "torn")]


def test_label_without_a_round_or_a_database_says_what_to_do(tmp_path, project):
    fresh = tmp_path / "fresh"
    assert invoke("init", fresh, "--data", tmp_path / "pool.csv", "--id-col", "id").exit_code == 0
    result = invoke("label", "-p", fresh)
    assert result.exit_code == 1 and "no batch to label yet" in result.output and "textsel next" in result.output
    (fresh / "textsel.db").unlink()
    for suffix in ("-wal", "-shm"):
        (fresh / f"textsel.db{suffix}").unlink(missing_ok=True)
    result = invoke("label", "-p", fresh)
    assert result.exit_code == 1 and "no project database" in result.output


def _spawn_in_pty(folder):
    """Start `textsel label` in a pseudo-terminal; return (process, master fd)."""
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "dumb", "NO_COLOR": "1", "COLUMNS": "120"}
    process = subprocess.Popen([sys.executable, "-m", "textsel.cli", "label", "-p", str(folder)],
                               stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    return process, master


def _read_until(master, needle: bytes, count: int, output: bytearray, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while output.count(needle) < count:
        ready, _, _ = select.select([master], [], [], max(deadline - time.monotonic(), 0))
        if not ready:
            raise AssertionError(f"timed out waiting for {needle!r} x{count}; got {bytes(output)!r}")
        try:
            output.extend(os.read(master, 4096))
        except OSError:  # the child closed the terminal
            raise AssertionError(f"process ended before {needle!r} x{count}; got {bytes(output)!r}") from None


def test_sigkill_in_a_terminal_session_loses_no_committed_label(project):
    batch = pending(project)
    process, master = _spawn_in_pty(project)
    output = bytearray()
    try:
        _read_until(master, b"q=quit", 1, output)
        for number, key in enumerate((b"1", b"2"), start=1):  # single keys, no Enter: the terminal is in cbreak mode
            os.write(master, key)
            _read_until(master, b"Saved:", number, output)
        os.write(master, b"1")  # a third label, killed at once: it may or may not have committed
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        os.close(master)
    rows = label_rows(project)
    assert rows[:2] == [(batch[0], "torn"), (batch[1], "ok")]
    assert rows[2:] in ([], [(batch[2], "torn")])
    assert pending(project) == batch[len(rows):]

    process, master = _spawn_in_pty(project)  # a new session resumes at the first unlabeled text
    output = bytearray()
    try:
        _read_until(master, b"q=quit", 1, output)
        assert f"id {batch[len(rows)]}".encode() in output
        os.write(master, b"q")
        assert process.wait(timeout=10) == 0
    finally:
        os.close(master)


def _wait_for_text(path, needle: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while needle not in path.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"timed out waiting for {needle!r} in {path}"
        time.sleep(0.01)


def test_repeated_sigkill_at_random_moments_keeps_every_printed_label(project, tmp_path):
    result = invoke("next", "-n", 50, "-s", "random", "--pool", "all", "--seed", 1, "--discard-pending",
                    "-p", project)
    assert result.exit_code == 0, result.output
    batch = pending(project)
    assert len(batch) == 50
    rng = np.random.default_rng(0)
    for attempt in range(3):
        log = tmp_path / f"out{attempt}.txt"
        with open(log, "wb") as out:
            process = subprocess.Popen([sys.executable, "-m", "textsel.cli", "label", "-p", str(project)],
                                       stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT)
            # At most 16 key presses per attempt: even a fast machine cannot finish the batch before the kill.
            process.stdin.write(b"1\n2\n" * 8)
            process.stdin.flush()
            _wait_for_text(log, "Saved:")  # mid-session: labels are being committed one by one
            time.sleep(float(rng.uniform(0.0, 0.03)))
            process.kill()
            process.wait(timeout=10)
        printed = log.read_text(errors="replace").count("Saved:")
        rows = label_rows(project)  # opens cleanly: integrity_check passes
        assert len(rows) >= printed  # nothing that was reported saved is lost
        assert len({doc_id for doc_id, _ in rows}) == len(rows)  # no text was shown (and labeled) twice
        assert 0 < len(rows) < len(batch)
        assert pending(project) == batch[len(rows):]
    result = invoke("label", "-p", project, stdin="2\n" * len(batch))
    assert result.exit_code == 0 and pending(project) == []
    assert sorted(doc_id for doc_id, _ in label_rows(project)) == sorted(batch)


@pytest.mark.parametrize("ids", ["--5", "²", "99999999999999999999999", "1e3", "100,,x"])
def test_label_ids_that_are_not_ids_are_one_clear_line(project, ids):
    result = invoke("label", "--ids", ids, "--label", "torn", "-p", project)
    assert result.exit_code == 1 and result.exception.__class__ is SystemExit
    assert "Error: " in result.output and "Traceback" not in result.output
    assert "is not an integer" in result.output or "out of range" in result.output
    assert label_rows(project) == []


def test_undo_never_erases_a_label_another_process_wrote_meanwhile(project):
    """Issue 19, case 2: press a key, another process relabels that text, press u: the other label stays."""
    from textsel.labeling import LabelChangedMeanwhile, LabelSession

    batch = pending(project)
    with Project(project) as first, Project(project) as second:
        session = LabelSession(first)
        session.press("1", batch[0])
        second.add_labels([batch[0]], ["ok"], source="cli")  # `label --ids <id> --label ok` in another terminal
        with pytest.raises(LabelChangedMeanwhile, match=f"id {batch[0]} was labeled 'ok' by another process"):
            session.press("u", session.current)
        assert session.current == batch[1] and session.press("u", batch[1]) is None  # nothing left to undo
    assert label_rows(project) == [(batch[0], "torn"), (batch[0], "ok")]
    with Project(project) as opened:
        assert opened.store.latest_label(batch[0]) == "ok"


def test_the_labeler_explains_a_refused_undo_and_keeps_going(project, monkeypatch):
    from textsel.labeling import LabelSession

    batch = pending(project)
    original = LabelSession.undo

    def undo_after_another_process_relabels(self):
        with Project(project) as other:
            other.add_labels([batch[0]], ["ok"], source="cli")
        return original(self)

    monkeypatch.setattr(LabelSession, "undo", undo_after_another_process_relabels)
    result = invoke("label", "-p", project, stdin="1\nu\nu\nq\n")
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())  # rich wraps long lines
    assert "undo leaves that label in place" in output and "Nothing to undo" in output
    assert label_rows(project)[-1] == (batch[0], "ok")
