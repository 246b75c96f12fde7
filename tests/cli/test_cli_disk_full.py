"""A full disk while `embed` or `index` writes a cache (issue 19, cases 7 and 9): one error line, exit 1, and no
cache file that a checksum vouches for. The faults are injected: ``posix_fallocate`` fails as on a full disk (the
embeddings memmap used to die of SIGBUS there), and hnswlib writes a 0-byte graph (it reports no write error)."""

from __future__ import annotations

import errno
import os

import hnswlib
import numpy as np
import pytest
from conftest import CountingEmbedder
from test_cli_export import refused
from textsel.cli.app import app
from typer.testing import CliRunner

from textsel.project import Project, init_project


def invoke(*args):
    return CliRunner().invoke(app, [str(arg) for arg in args])


@pytest.fixture
def project(tmp_path, monkeypatch):
    counting = CountingEmbedder()
    monkeypatch.setattr(Project, "embedder", lambda self: counting)
    (tmp_path / "pool.csv").write_text("text\n" + "".join(f"review number {i}\n" for i in range(80)))
    init_project(tmp_path / "proj", data=str(tmp_path / "pool.csv")).close()
    return tmp_path / "proj"


def test_embed_on_a_full_disk_is_one_line_not_a_sigbus(project, monkeypatch):
    def full(descriptor, offset, length):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "posix_fallocate", full)
    assert refused(invoke("embed", "-p", project, "-q"), "no space left", "embeddings")
    assert not list((project / "cache").rglob("embeddings.npy"))
    with Project(project) as opened:
        assert opened.store.get_meta("embeddings") is None


def test_index_on_a_full_disk_leaves_no_graph_its_checksum_vouches_for(project, monkeypatch):
    assert invoke("embed", "-p", project, "-q").exit_code == 0

    def save_nothing(self, path):
        open(path, "wb").close()  # what a full disk leaves: hnswlib's ofstream fails silently

    monkeypatch.setattr(hnswlib.Index, "save_index", save_nothing)
    assert refused(invoke("index", "-p", project, "-q"), "not written completely", "disk full")
    assert not (project / "cache" / "index.hnsw").exists() and not (project / "cache" / "index.hnsw.json").exists()
    monkeypatch.undo()
    monkeypatch.setattr(Project, "embedder", lambda self: CountingEmbedder())
    assert invoke("index", "-p", project, "-q").exit_code == 0
    with Project(project) as opened:
        assert len(opened.index()) == 80 and np.isfinite(opened.embeddings()).all()
