"""`textsel embed`: encoder dtype/device saved in textsel.toml, bad values refused before writing, and Ctrl-C
reports what was saved and resumes on the next run (fake encoder, no model)."""

from __future__ import annotations

import functools

import tomllib
from conftest import fake_embeddings
from test_cli_project import invoke, make_pool

import textsel.embed as embed_module
from textsel.embed import Embedder


def new_project(tmp_path, n=40):
    data, _ = make_pool(tmp_path, n=n, with_embeddings=False)
    result = invoke("init", tmp_path / "p", "--data", data, "--text-col", "body", "--id-col", "doc_id")
    assert result.exit_code == 0, result.output
    return tmp_path / "p"


def fake_encoder(monkeypatch, interrupt_on_call=None):
    """Replace the model by hashed vectors; raise KeyboardInterrupt on the given call. Returns the texts seen."""
    seen = []

    def encode(self, texts, *, on_batch=None):
        if len(seen) + 1 == interrupt_on_call:
            raise KeyboardInterrupt
        seen.append(list(texts))
        return fake_embeddings(list(texts), 16)

    monkeypatch.setattr(Embedder, "encode", encode)
    for name in ("embed_pool", "embed_pool_with_record"):  # whichever the project calls: small chunks
        if hasattr(embed_module, name):
            monkeypatch.setattr(embed_module, name, functools.partial(getattr(embed_module, name), chunk_size=10))
    return seen


def embeddings_section(project):
    return tomllib.loads((project / "textsel.toml").read_text())["embeddings"]


def test_dtype_and_device_are_saved_for_later_commands(tmp_path, monkeypatch):
    project = new_project(tmp_path)
    fake_encoder(monkeypatch)
    result = invoke("embed", "-p", project, "-q", "--dtype", "float32", "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert "float32 on cpu" in result.output
    assert embeddings_section(project)["dtype"] == "float32" and embeddings_section(project)["device"] == "cpu"
    again = invoke("embed", "-p", project, "-q", "--device", "auto")
    assert again.exit_code == 0, again.output
    assert embeddings_section(project)["dtype"] == "float32" and "device" not in embeddings_section(project)


def test_a_bad_dtype_is_refused_and_nothing_is_written(tmp_path):
    project = new_project(tmp_path)
    before = (project / "textsel.toml").read_text()
    result = invoke("embed", "-p", project, "-q", "--dtype", "int4")
    assert result.exit_code == 1 and "'dtype' parameter" in result.output and "'int4'" in result.output
    assert (project / "textsel.toml").read_text() == before
    assert not (project / "cache" / "embeddings").exists()


def test_ctrl_c_says_what_was_saved_and_a_rerun_resumes(tmp_path, monkeypatch):
    project = new_project(tmp_path)
    fake_encoder(monkeypatch, interrupt_on_call=3)
    interrupted = invoke("embed", "-p", project, "-q", "--dtype", "float32")
    assert interrupted.exit_code == 130
    assert "20 of 40 embeddings are saved" in interrupted.output and "again to resume" in interrupted.output
    seen = fake_encoder(monkeypatch)
    resumed = invoke("embed", "-p", project, "-q")
    assert resumed.exit_code == 0, resumed.output
    assert "40 texts x 16 dimensions" in resumed.output
    assert sum(len(call) for call in seen) == 20  # only the rows that were not saved
