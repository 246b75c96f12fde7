"""An existing project database is used only when it is one (issue 9, item 7): a 0-byte file, damaged pages or a
missing schema are one-line StoreErrors and the file is left as it was; only creating a project makes a database."""

from __future__ import annotations

import sqlite3

import pytest

from textsel.errors import StoreError
from textsel.store import Store


def labeled_store(path, n=3000):
    with Store(path, create=True) as store:
        store.add_labels(list(range(n)), ["positive"] * n, source="test")
    return path


def test_empty_database_file_is_an_error_and_stays_empty(tmp_path):
    path = tmp_path / "textsel.db"
    path.touch()
    with pytest.raises(StoreError, match=r"is empty \(0 bytes\).*restore it from a backup"):
        Store(path)
    assert path.stat().st_size == 0 and sorted(p.name for p in tmp_path.iterdir()) == ["textsel.db"]


def test_database_without_the_schema_is_an_error_and_is_not_written(tmp_path):
    path = tmp_path / "textsel.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE notes (body TEXT)")
    connection.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="has no textsel tables"):
        Store(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("offset", [0, 50, 4096 * 5])
def test_damaged_database_is_one_line_store_error(tmp_path, offset):
    path = labeled_store(tmp_path / "textsel.db")
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(b"\xa5" * 300)
    with pytest.raises(StoreError, match="is damaged .*; restore it from a backup") as error:
        Store(path)
    assert "\n" not in str(error.value)


def test_creating_a_store_still_works_on_a_new_path_and_reopens(tmp_path):
    path = labeled_store(tmp_path / "textsel.db", n=5)
    with Store(path) as store:
        assert len(store.current_labels()) == 5


def test_a_received_database_with_a_trigger_is_refused_before_any_label_is_written(tmp_path):
    """Issue 19 (a project from someone else): a trigger would run on every label this machine writes."""
    path = tmp_path / "textsel.db"
    with Store(path, create=True) as store:
        store.add_label(1, "pos", source="test")
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TRIGGER flip AFTER INSERT ON labels BEGIN DELETE FROM labels; END")
    with pytest.raises(StoreError, match="triggers or views"):
        Store(path)
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT COUNT(*) FROM labels").fetchone()[0] == 1
