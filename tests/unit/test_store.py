"""The SQLite project store: migrations, WAL durability settings, append-only labels, rounds, locking."""

from __future__ import annotations

import sqlite3

import pytest

from textsel.errors import NotAProjectError, StoreError
from textsel.store import MIGRATIONS, Store


def test_new_store_applies_every_migration_in_wal_mode(tmp_path):
    with Store(tmp_path / "p.db", create=True) as store:
        assert store.schema_version == len(MIGRATIONS)
        connection = store._connection
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert connection.execute("PRAGMA busy_timeout").fetchone()[0] > 0
    with Store(tmp_path / "p.db") as store:  # reopening migrates nothing twice
        assert store.schema_version == len(MIGRATIONS)


def test_missing_database_and_newer_schema_are_refused(tmp_path):
    with pytest.raises(NotAProjectError, match="create the project first"):
        Store(tmp_path / "absent.db")
    connection = sqlite3.connect(tmp_path / "future.db")
    connection.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    connection.close()
    with pytest.raises(StoreError, match="newer than this textsel"):
        Store(tmp_path / "future.db")


def test_labels_are_append_only_and_latest_wins(tmp_path):
    with Store(tmp_path / "p.db", create=True) as store:
        store.add_labels([3, 1], ["pos", "neg"], source="import")
        store.add_label(3, "neg", source="cli")
        store.add_label(1, None, source="undo")
        assert store.current_labels() == {3: "neg"}
        assert (store.latest_label(3), store.latest_label(1), store.latest_label(99)) == ("neg", None, None)
        assert [row[0] for row in store.label_history(3)] == ["pos", "neg"]
        assert store.label_count() == 4


def test_rounds_record_strategy_params_seed_and_pending_batch(tmp_path):
    with Store(tmp_path / "p.db", create=True) as store:
        assert store.pending() == (None, [])
        round_id = store.add_round(strategy="maxent", params={"k": 100, "pool": "seals"}, seed=7,
                                   doc_ids=[10, 11, 12], scores=[0.9, 0.5, 0.1], pool_size=1000,
                                   candidate_pool_size=250, select_seconds=0.5, train_seconds=0.2)
        store.add_label(10, "pos", source="label", round_id=round_id)
        store.skip(round_id, 11)
        assert store.pending() == (round_id, [12])
        store.unskip(round_id, 11)
        assert store.pending() == (round_id, [11, 12])
        (record,) = store.rounds()
        assert (record.strategy, record.params, record.seed) == ("maxent", {"k": 100, "pool": "seals"}, 7)
        assert record.doc_ids == [10, 11, 12] and record.candidate_pool_size == 250


def test_failed_transaction_writes_nothing(tmp_path):
    with Store(tmp_path / "p.db", create=True) as store:
        with pytest.raises(StoreError):
            store.add_labels([1, 2], ["a"], source="import")
        with pytest.raises(RuntimeError), store.transaction() as connection:
            connection.execute("INSERT INTO labels(doc_id, label, source, created_at) VALUES (1, 'a', 'x', 0)")
            raise RuntimeError("abort")
        assert store.label_count() == 0


def test_second_writer_gets_a_clear_message_when_the_lock_is_held(tmp_path, monkeypatch):
    monkeypatch.setattr("textsel.store.BUSY_TIMEOUT_MS", 100)
    with Store(tmp_path / "p.db", create=True) as first, Store(tmp_path / "p.db") as second:
        second._connection.execute("PRAGMA busy_timeout = 100")
        with first.transaction():
            with pytest.raises(StoreError, match="locked by another textsel process"):
                second.add_label(1, "a", source="cli")
            assert second.current_labels() == {}  # readers are never blocked in WAL mode
        second.add_label(1, "a", source="cli")
        assert first.current_labels() == {1: "a"}


def test_a_project_of_the_first_schema_gains_discards_and_keeps_its_rounds(tmp_path):
    connection = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    MIGRATIONS[0](connection)
    connection.execute("PRAGMA user_version = 1")
    connection.execute("INSERT INTO rounds VALUES (1, 'random', '{}', 0, 10, 10, 0.1, 0.0, 0.0)")
    connection.executemany("INSERT INTO selections VALUES (1, ?, ?, NULL)", [(0, 5), (1, 6), (2, 7)])
    connection.close()
    with Store(tmp_path / "old.db") as store:
        assert store.schema_version == len(MIGRATIONS)
        assert store.label_if_unlabeled(5, "pos", source="label", round_id=1)
        assert not store.label_if_unlabeled(5, "neg", source="label", round_id=1)  # labeled first elsewhere
        assert store.skip_if_unlabeled(1, 6) and not store.skip_if_unlabeled(1, 5)
        assert store.pending() == (1, [7])
        assert store.discard_pending() == (1, [7])
        assert store.pending() == (1, []) and store.selected_ids() == {5, 6, 7}
        assert store.selection(1) == [(5, None), (6, None), (7, None)]
        assert store.current_labels() == {5: "pos"}
