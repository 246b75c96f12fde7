"""Text from data never reaches the terminal raw: escape sequences are shown visibly, rich markup in a text is
printed as text (it crashed `next` after the round was recorded), long texts are cut in the labeler, and labels
that would garble a terminal are refused at init before anything is written."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import fake_embeddings
from textsel.cli.app import app
from typer.testing import CliRunner

from textsel.project import Project

runner = CliRunner()
HOSTILE = ["\x1b]0;pwned\x07", "\x1b[2J", "[/x]", "[bold]loud", "\x9b31m", "back\rover", "\u202eevil"]


def invoke(*args, stdin=None):
    return runner.invoke(app, [str(arg) for arg in args], input=stdin)


def make_project(tmp_path, texts, labels="torn,ok"):
    with open(tmp_path / "pool.jsonl", "w", encoding="utf-8") as handle:  # JSONL: fields of any size
        handle.writelines(json.dumps({"id": 100 + i, "text": text}) + "\n" for i, text in enumerate(texts))
    np.save(tmp_path / "emb.npy", fake_embeddings(texts, 8))
    folder = tmp_path / "proj"
    result = invoke("init", folder, "--data", tmp_path / "pool.jsonl", "--id-col", "id", "--labels", labels,
                    "--embeddings", tmp_path / "emb.npy", "--backend", "exact")
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture
def hostile(tmp_path):
    """A 30-text project where every text carries terminal escapes and rich markup."""
    return make_project(tmp_path, [f"review {i} {HOSTILE[i % len(HOSTILE)]} {'torn seam' if i % 3 else 'nice'} "
                                   f"[/x] end" for i in range(30)])


def assert_terminal_safe(result):
    assert result.exit_code == 0, result.output
    for raw in ("\x1b", "\x07", "\x9b", "\r", "\u202e"):
        assert raw not in result.output


def test_next_prints_escapes_visibly_and_markup_as_text(hostile):
    result = invoke("next", "-n", 30, "-s", "random", "--pool", "all", "-p", hostile)
    assert_terminal_safe(result)
    output = " ".join(result.output.split())
    assert "\\x1b]0;pwned\\x07" in output and "\\x1b[2J" in output and "[/x] end" in output
    assert "[bold]loud" in output and "\\x9b31m" in output and "\\u202eevil" in output


def test_search_prints_escapes_visibly_and_markup_as_text(hostile, monkeypatch):
    class FakeEmbedder:
        def encode(self, texts):
            return fake_embeddings(list(texts), 8)

    monkeypatch.setattr(Project, "embedder", lambda self: FakeEmbedder())
    result = invoke("search", "[/x] \x1b[2J", "-n", 30, "-p", hostile)
    assert_terminal_safe(result)
    assert "\\x1b]0;pwned\\x07" in " ".join(result.output.split()) and "[/x]" in result.output


def test_label_and_status_print_escapes_visibly(hostile):
    assert invoke("next", "-n", 5, "-s", "random", "--pool", "all", "-p", hostile).exit_code == 0
    result = invoke("label", "-p", hostile, stdin="1\n2\n1\n2\nq\n")
    assert_terminal_safe(result)
    assert result.output.count("Saved:") == 4 and "[/x] end" in result.output
    assert_terminal_safe(invoke("status", "-p", hostile))


def test_the_labeler_shows_the_start_of_a_huge_text_and_says_how_much_is_hidden(tmp_path):
    texts = [f"start of long text {i} " + "x" * 5_000_000 + " TAIL-MARKER" for i in range(3)]
    folder = make_project(tmp_path, texts)
    assert invoke("next", "-n", 3, "-s", "random", "--pool", "all", "-p", folder).exit_code == 0
    result = invoke("label", "-p", folder, stdin="q\n")
    assert result.exit_code == 0, result.output
    assert "start of long text" in result.output and "TAIL-MARKER" not in result.output
    assert f"{len(texts[0]) - 2_000:,} more characters not shown ({len(texts[0]):,} in all)" in result.output
    assert len(result.output) < 20_000


@pytest.mark.parametrize("labels", ["ok,[red]bad", "ok,bad[/x]", "ok,\x1b[2Jbad", "ok,ba\x07d", "ok,\u202ebad"])
def test_init_refuses_labels_that_would_garble_a_terminal_and_writes_nothing(tmp_path, labels):
    (tmp_path / "pool.csv").write_text("text\na\nb\n")
    result = invoke("init", tmp_path / "proj", "--data", tmp_path / "pool.csv", "--labels", labels)
    assert result.exit_code == 1 and "\x1b" not in result.output
    assert "square bracket" in result.output or "control character" in result.output
    assert not (tmp_path / "proj").exists()


def test_emoji_codes_in_texts_and_newlines_in_ids_print_as_written(tmp_path):
    """Issue 19, smaller: `:smile:` rendered as an emoji, and an id holding a newline printed on two lines."""
    texts = [f"review {i} :smile: {'torn seam' if i % 3 else 'nice'}" for i in range(12)]
    with open(tmp_path / "pool.jsonl", "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps({"id": f"r{i}\nX" if i == 0 else f"r{i}", "text": text}) + "\n"
                          for i, text in enumerate(texts))
    np.save(tmp_path / "emb.npy", fake_embeddings(texts, 8))
    folder = tmp_path / "proj"
    assert invoke("init", folder, "--data", tmp_path / "pool.jsonl", "--id-col", "id", "--labels", "torn,ok",
                  "--embeddings", tmp_path / "emb.npy", "--backend", "exact").exit_code == 0
    result = invoke("next", "-n", 12, "-s", "random", "--pool", "all", "-p", folder)
    assert result.exit_code == 0, result.output
    assert ":smile:" in result.output and "\U0001f604" not in result.output
    assert "r0\\nX" in result.output and not any(line.strip().startswith("X") for line in result.output.splitlines())
