"""Data set names resolve through $TEXTSEL_DATA (default ../shared/data), files and folders as given."""

from __future__ import annotations

import pytest

from textsel.errors import DataError
from textsel.simulate import resolve_data


def test_names_files_and_folders(tmp_path, monkeypatch):
    (tmp_path / "sets" / "reviews").mkdir(parents=True)
    (tmp_path / "sets" / "reviews" / "data.parquet").write_bytes(b"")
    monkeypatch.setenv("TEXTSEL_DATA", str(tmp_path / "sets"))
    assert resolve_data("reviews") == tmp_path / "sets" / "reviews" / "data.parquet"
    assert resolve_data(tmp_path / "sets" / "reviews") == tmp_path / "sets" / "reviews" / "data.parquet"
    with pytest.raises(DataError, match="no such data file"):
        resolve_data("not-a-data-set")


def test_default_is_shared_data_beside_the_current_folder(tmp_path, monkeypatch):
    (tmp_path / "shared" / "data" / "spam").mkdir(parents=True)
    (tmp_path / "shared" / "data" / "spam" / "data.parquet").write_bytes(b"")
    (tmp_path / "checkout").mkdir()
    monkeypatch.delenv("TEXTSEL_DATA", raising=False)
    monkeypatch.chdir(tmp_path / "checkout")
    assert resolve_data("spam").resolve() == (tmp_path / "shared" / "data" / "spam" / "data.parquet").resolve()
