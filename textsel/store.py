"""The project store: labels, rounds and selections in one SQLite file.

Durability comes first: WAL journal, ``synchronous=FULL`` and one transaction per label, so ``kill -9`` at any
moment loses no committed label. Labels are append-only rows (a relabel adds a row, the latest wins; a NULL label
retracts), rounds record their strategy, parameters and seed. The schema grows by numbered migrations
(``m001_...``), applied in order and tracked in ``PRAGMA user_version``.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from textsel.errors import NotAProjectError, StoreError

BUSY_TIMEOUT_MS = 5_000


def m001_initial(connection: sqlite3.Connection) -> None:
    """Labels, rounds, selections, skips and a key/value table for project facts."""
    _execute_all(connection, """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE labels (
            row INTEGER PRIMARY KEY AUTOINCREMENT,
            doc_id INTEGER NOT NULL,
            label TEXT,
            source TEXT NOT NULL,
            round_id INTEGER REFERENCES rounds(round_id),
            created_at REAL NOT NULL
        );
        CREATE INDEX labels_doc ON labels(doc_id, row);
        CREATE TABLE rounds (
            round_id INTEGER PRIMARY KEY AUTOINCREMENT,
            strategy TEXT NOT NULL,
            params TEXT NOT NULL,
            seed INTEGER,
            pool_size INTEGER NOT NULL,
            candidate_pool_size INTEGER NOT NULL,
            select_seconds REAL NOT NULL,
            train_seconds REAL NOT NULL,
            created_at REAL NOT NULL
        );
        CREATE TABLE selections (
            round_id INTEGER NOT NULL REFERENCES rounds(round_id),
            position INTEGER NOT NULL,
            doc_id INTEGER NOT NULL,
            score REAL,
            PRIMARY KEY (round_id, position)
        );
        CREATE TABLE skips (
            round_id INTEGER NOT NULL REFERENCES rounds(round_id),
            doc_id INTEGER NOT NULL,
            PRIMARY KEY (round_id, doc_id)
        );
    """)


def _execute_all(connection: sqlite3.Connection, script: str) -> None:
    # executescript() would COMMIT first and break the migration's transaction, so run statement by statement.
    for statement in script.split(";"):
        if statement.strip():
            connection.execute(statement)


def m002_discards(connection: sqlite3.Connection) -> None:
    """Selected texts the user dropped unlabeled (``next --discard-pending``): no longer pending, never reselected."""
    _execute_all(connection, """
        CREATE TABLE discards (
            round_id INTEGER NOT NULL REFERENCES rounds(round_id),
            doc_id INTEGER NOT NULL,
            discarded_at REAL NOT NULL,
            PRIMARY KEY (round_id, doc_id)
        );
    """)


def m003_doc_keys(connection: sqlite3.Connection) -> None:
    """String ids as given (``tw13983``, UUIDs) of the documents that were labeled or selected, beside the int64
    ids (a hash of the string, see textsel.data) the other tables use: the database names its documents by
    itself, even without the pool file."""
    _execute_all(connection, """
        CREATE TABLE doc_keys (
            doc_id INTEGER PRIMARY KEY,
            key TEXT NOT NULL
        );
    """)


def m004_removals(connection: sqlite3.Connection) -> None:
    """Documents removed from the corpus (``Project.remove_documents``): never selected, audited or predicted again;
    their labels stay in ``labels``. One row per document; a restored document's row is deleted."""
    _execute_all(connection, """
        CREATE TABLE removals (
            doc_id INTEGER PRIMARY KEY,
            reason TEXT,
            removed_at REAL NOT NULL
        );
    """)


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [m001_initial, m002_discards, m003_doc_keys, m004_removals]


@dataclass(frozen=True)
class RoundRecord:
    """One selection round as stored: what was asked (strategy, params, seed) and what it cost."""

    round_id: int
    strategy: str
    params: dict
    seed: int | None
    pool_size: int
    candidate_pool_size: int
    select_seconds: float
    train_seconds: float
    created_at: float
    doc_ids: list[int]


class Store:
    """An open project database.

    Parameters
    ----------
    path : str or Path
        The SQLite file; created with the current schema when ``create`` is true.
    create : bool, default=False
        Create the file if it does not exist; otherwise a missing file raises StoreError.
    """

    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise NotAProjectError(f"no project database at {self.path}; create the project first")
        if not create and self.path.stat().st_size == 0:
            raise StoreError(f"the project database {self.path} is empty (0 bytes), so its labels and rounds are "
                             f"gone; restore it from a backup (only creating a project makes a new database)")
        try:
            self._connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            self._connection.execute("PRAGMA trusted_schema = OFF")  # a received file's schema runs no functions
            if not create:
                self._check_existing()
            self._connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._connection.execute("PRAGMA journal_mode = WAL")
            self._connection.execute("PRAGMA synchronous = FULL")
            self._connection.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as error:
            raise _store_error(error, self.path) from error

    def _check_existing(self) -> None:
        """Refuse a database with damaged pages or without textsel's schema before anything writes to it."""
        problems = [row[0] for row in self._connection.execute("PRAGMA quick_check(2)")]
        if problems != ["ok"]:
            found = " ".join(" ".join(problems).replace("*** in database main ***", "").split())
            raise StoreError(f"the project database {self.path} is damaged ({found}); restore it from a backup")
        if self.schema_version == 0:
            raise StoreError(f"{self.path} has no textsel tables (not a project database, or an empty one); "
                             f"restore the project's database from a backup")
        foreign = [name for (name,) in self._connection.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('trigger', 'view')")]
        if foreign:  # textsel writes neither; a trigger would run on every label written
            raise StoreError(f"the project database {self.path} holds triggers or views textsel never writes "
                             f"({', '.join(foreign[:3])}); restore it from a backup or the sender's export")

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return self._connection.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        version = self.schema_version
        if version > len(MIGRATIONS):
            raise StoreError(f"{self.path} has schema version {version}, newer than this textsel "
                             f"({len(MIGRATIONS)}); upgrade textsel")
        for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction() as connection:
                migration(connection)
                connection.execute(f"PRAGMA user_version = {number}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One immediate (write-locking) transaction: all of it commits, or none of it."""
        connection = self._connection
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise _store_error(error, self.path) from error
        try:
            yield connection
        except sqlite3.DatabaseError as error:  # a damaged page found mid-transaction: one clear line
            _rollback_quietly(connection)
            raise _store_error(error, self.path) from error
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        try:
            connection.execute("COMMIT")
        except sqlite3.OperationalError as error:
            raise _store_error(error, self.path) from error

    # -- facts -----------------------------------------------------------------------------------------------

    def set_meta(self, key: str, value: object) -> None:
        """Store a JSON-serialisable value under ``key``."""
        with self.transaction() as connection:
            connection.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, json.dumps(value)))

    def get_meta(self, key: str, default: object = None) -> object:
        row = self._connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    # -- labels ----------------------------------------------------------------------------------------------

    def add_labels(self, doc_ids: Sequence[int], labels: Sequence[str | None], *, source: str,
                   round_id: int | None = None) -> None:
        """Append label rows for many documents in one transaction (``None`` retracts a label)."""
        if len(doc_ids) != len(labels):
            raise StoreError(f"{len(doc_ids)} ids but {len(labels)} labels")
        now = time.time()
        rows = [(int(doc_id), label, source, round_id, now) for doc_id, label in zip(doc_ids, labels, strict=True)]
        with self.transaction() as connection:
            connection.executemany(
                "INSERT INTO labels(doc_id, label, source, round_id, created_at) VALUES (?, ?, ?, ?, ?)", rows)

    def add_label(self, doc_id: int, label: str | None, *, source: str, round_id: int | None = None) -> None:
        """Append one label row and commit it before returning."""
        self.add_labels([doc_id], [label], source=source, round_id=round_id)

    def current_labels(self) -> dict[int, str]:
        """Latest label of every labeled document (retracted ones left out), in first-labeled order."""
        rows = self._connection.execute("""
            SELECT doc_id, label FROM labels
            WHERE row IN (SELECT MAX(row) FROM labels GROUP BY doc_id)
            ORDER BY (SELECT MIN(row) FROM labels AS first WHERE first.doc_id = labels.doc_id)
        """).fetchall()
        return {doc_id: label for doc_id, label in rows if label is not None}

    def remember_keys(self, keys: dict[int, str]) -> None:
        """Record the string id of each internal doc id (kept once; a pool with integer ids records nothing)."""
        if keys:
            with self.transaction() as connection:
                connection.executemany("INSERT OR IGNORE INTO doc_keys(doc_id, key) VALUES (?, ?)",
                                       [(int(doc_id), str(key)) for doc_id, key in keys.items()])

    def doc_keys(self) -> dict[int, str]:
        """Every recorded string id, by internal doc id."""
        return dict(self._connection.execute("SELECT doc_id, key FROM doc_keys").fetchall())

    def current_labels_with_times(self) -> dict[int, tuple[str, float]]:
        """(latest label, when it was written) of every labeled document (retracted ones left out)."""
        rows = self._connection.execute(
            "SELECT doc_id, label, created_at FROM labels WHERE row IN (SELECT MAX(row) FROM labels GROUP BY doc_id)"
        ).fetchall()
        return {doc_id: (label, created_at) for doc_id, label, created_at in rows if label is not None}

    def latest_label(self, doc_id: int) -> str | None:
        """The current label of one document (None when unlabeled or retracted)."""
        return _latest_label(self._connection, doc_id)

    def label_history(self, doc_id: int) -> list[tuple[str | None, str, float]]:
        """Every (label, source, created_at) row of one document, oldest first."""
        return self._connection.execute(
            "SELECT label, source, created_at FROM labels WHERE doc_id = ? ORDER BY row", (int(doc_id),)).fetchall()

    def label_count(self) -> int:
        """Number of label rows ever written (relabels and retractions included)."""
        return self._connection.execute("SELECT COUNT(*) FROM labels").fetchone()[0]

    # -- removals --------------------------------------------------------------------------------------------

    def add_removals(self, doc_ids: Sequence[int], *, reason: str | None = None) -> list[int]:
        """Record documents as removed in one transaction; return the ids that were not removed already."""
        now = time.time()
        with self.transaction() as connection:
            before = {doc_id for (doc_id,) in connection.execute("SELECT doc_id FROM removals")}
            new = [int(doc_id) for doc_id in dict.fromkeys(map(int, doc_ids)) if int(doc_id) not in before]
            connection.executemany("INSERT INTO removals(doc_id, reason, removed_at) VALUES (?, ?, ?)",
                                   [(doc_id, reason, now) for doc_id in new])
        return new

    def delete_removals(self, doc_ids: Sequence[int]) -> None:
        """Forget that documents were removed (they are part of the corpus again), in one transaction."""
        with self.transaction() as connection:
            connection.executemany("DELETE FROM removals WHERE doc_id = ?", [(int(doc_id),) for doc_id in doc_ids])

    def removed_ids(self) -> set[int]:
        """Every document removed from the corpus (and not restored)."""
        return {doc_id for (doc_id,) in self._connection.execute("SELECT doc_id FROM removals")}

    def removals(self) -> list[tuple[int, str | None, float]]:
        """(doc id, reason, removed_at) of every removed document, oldest removal first."""
        return self._connection.execute(
            "SELECT doc_id, reason, removed_at FROM removals ORDER BY removed_at, doc_id").fetchall()

    # -- rounds ----------------------------------------------------------------------------------------------

    def add_round(self, *, strategy: str, params: dict, seed: int | None, doc_ids: Sequence[int],
                  scores: Sequence[float] | None, pool_size: int, candidate_pool_size: int,
                  select_seconds: float, train_seconds: float) -> int:
        """Record a round and its selection in one transaction; return the new round id."""
        scores = list(scores) if scores is not None else [None] * len(doc_ids)
        with self.transaction() as connection:
            cursor = connection.execute(
                "INSERT INTO rounds(strategy, params, seed, pool_size, candidate_pool_size, select_seconds, "
                "train_seconds, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (strategy, json.dumps(params, sort_keys=True), seed, int(pool_size), int(candidate_pool_size),
                 float(select_seconds), float(train_seconds), time.time()))
            round_id = cursor.lastrowid
            connection.executemany(
                "INSERT INTO selections(round_id, position, doc_id, score) VALUES (?, ?, ?, ?)",
                [(round_id, position, int(doc_id), None if score is None else float(score))
                 for position, (doc_id, score) in enumerate(zip(doc_ids, scores, strict=True))])
        return round_id

    def rounds(self) -> list[RoundRecord]:
        """Every round, oldest first, with its selected document ids in selection order."""
        selected: dict[int, list[int]] = {}
        for round_id, doc_id in self._connection.execute(
                "SELECT round_id, doc_id FROM selections ORDER BY round_id, position"):
            selected.setdefault(round_id, []).append(doc_id)
        rows = self._connection.execute(
            "SELECT round_id, strategy, params, seed, pool_size, candidate_pool_size, select_seconds, "
            "train_seconds, created_at FROM rounds ORDER BY round_id").fetchall()
        return [RoundRecord(row[0], row[1], json.loads(row[2]), *row[3:], doc_ids=selected.get(row[0], []))
                for row in rows]

    def pending(self) -> tuple[int | None, list[int]]:
        """The latest round and its selected documents that are neither labeled, skipped, discarded nor removed
        from the corpus yet."""
        row = self._connection.execute("SELECT MAX(round_id) FROM rounds").fetchone()
        round_id = row[0]
        if round_id is None:
            return None, []
        return round_id, self._pending_in(self._connection, round_id)

    def _pending_in(self, connection: sqlite3.Connection, round_id: int) -> list[int]:
        labeled = {doc_id for (doc_id,) in connection.execute(
            "SELECT doc_id FROM labels WHERE row IN (SELECT MAX(row) FROM labels GROUP BY doc_id) "
            "AND label IS NOT NULL")}
        done = {doc_id for (doc_id,) in connection.execute(
            "SELECT doc_id FROM skips WHERE round_id = ? UNION SELECT doc_id FROM discards WHERE round_id = ? "
            "UNION SELECT doc_id FROM removals", (round_id, round_id))}
        selected = [doc_id for (doc_id,) in connection.execute(
            "SELECT doc_id FROM selections WHERE round_id = ? ORDER BY position", (round_id,))]
        return [doc_id for doc_id in selected if doc_id not in labeled and doc_id not in done]

    def selection(self, round_id: int) -> list[tuple[int, float | None]]:
        """(doc id, score) of every text a round selected, in selection order."""
        return self._connection.execute(
            "SELECT doc_id, score FROM selections WHERE round_id = ? ORDER BY position", (round_id,)).fetchall()

    def selected_ids(self) -> set[int]:
        """Every document any round has selected (labeled, skipped, discarded or still pending)."""
        return {doc_id for (doc_id,) in self._connection.execute("SELECT DISTINCT doc_id FROM selections")}

    def discard_pending(self) -> tuple[int | None, list[int]]:
        """Drop the latest round's pending texts unlabeled, in one transaction; return (round id, discarded ids).

        Recorded, not deleted: the round keeps its selection, the texts stop being pending, and later rounds do
        not select them again.
        """
        with self.transaction() as connection:
            row = connection.execute("SELECT MAX(round_id) FROM rounds").fetchone()
            if row[0] is None:
                return None, []
            doc_ids = self._pending_in(connection, row[0])
            now = time.time()
            connection.executemany("INSERT INTO discards(round_id, doc_id, discarded_at) VALUES (?, ?, ?)",
                                   [(row[0], doc_id, now) for doc_id in doc_ids])
        return row[0], doc_ids

    def label_if_unlabeled(self, doc_id: int, label: str, *, source: str, round_id: int | None = None) -> int | None:
        """Record ``label`` only if the document has no label now, checked and written in one transaction.

        Returns the new label row's number (for :meth:`replace_if_latest`), or None (nothing written) when another
        process labeled it first.
        """
        with self.transaction() as connection:
            if _latest_label(connection, doc_id) is not None:
                return None
            return connection.execute(
                "INSERT INTO labels(doc_id, label, source, round_id, created_at) VALUES (?, ?, ?, ?, ?)",
                (int(doc_id), label, source, round_id, time.time())).lastrowid

    def add_label_row(self, doc_id: int, label: str | None, *, source: str, round_id: int | None = None) -> int:
        """Append one label row (``None`` retracts) and return its row number."""
        with self.transaction() as connection:
            return connection.execute(
                "INSERT INTO labels(doc_id, label, source, round_id, created_at) VALUES (?, ?, ?, ?, ?)",
                (int(doc_id), label, source, round_id, time.time())).lastrowid

    def replace_if_latest(self, doc_id: int, row: int, label: str | None, *, source: str,
                          round_id: int | None = None) -> bool:
        """Append ``label`` (``None`` retracts) only while ``row`` is still the document's latest label row,
        checked and written in one transaction: an undo never erases a label another process wrote since.

        Returns False (nothing written) when a later row exists.
        """
        with self.transaction() as connection:
            latest = connection.execute("SELECT MAX(row) FROM labels WHERE doc_id = ?", (int(doc_id),)).fetchone()[0]
            if latest != row:
                return False
            connection.execute("INSERT INTO labels(doc_id, label, source, round_id, created_at) VALUES (?, ?, ?, ?, ?)",
                               (int(doc_id), label, source, round_id, time.time()))
        return True

    def skip_if_unlabeled(self, round_id: int, doc_id: int) -> bool:
        """Like :meth:`skip`, but only while the document has no label (checked in the same transaction)."""
        with self.transaction() as connection:
            if _latest_label(connection, doc_id) is not None:
                return False
            connection.execute("INSERT OR IGNORE INTO skips(round_id, doc_id) VALUES (?, ?)", (round_id, int(doc_id)))
        return True

    def skip(self, round_id: int, doc_id: int) -> None:
        """Mark a selected document as skipped in its round, so the labeling session moves past it."""
        with self.transaction() as connection:
            connection.execute("INSERT OR IGNORE INTO skips(round_id, doc_id) VALUES (?, ?)",
                               (round_id, int(doc_id)))

    def skipped(self) -> list[tuple[int, int]]:
        """(round id, doc id) of every skipped text that has no label now and was not removed, oldest round first,
        in selection order.

        A text skipped in a round and then labeled (by a revisit, ``label --ids`` or an import) is left out.
        """
        rows = self._connection.execute("""
            SELECT skips.round_id, skips.doc_id FROM skips
            JOIN selections ON selections.round_id = skips.round_id AND selections.doc_id = skips.doc_id
            ORDER BY skips.round_id, selections.position""").fetchall()
        done = set(self.current_labels()) | self.removed_ids()
        return [(round_id, doc_id) for round_id, doc_id in rows if doc_id not in done]

    def unskip(self, round_id: int, doc_id: int) -> None:
        with self.transaction() as connection:
            connection.execute("DELETE FROM skips WHERE round_id = ? AND doc_id = ?", (round_id, int(doc_id)))


def _latest_label(connection: sqlite3.Connection, doc_id: int) -> str | None:
    row = connection.execute("SELECT label FROM labels WHERE doc_id = ? ORDER BY row DESC LIMIT 1",
                             (int(doc_id),)).fetchone()
    return row[0] if row else None


def _rollback_quietly(connection: sqlite3.Connection) -> None:
    try:
        connection.execute("ROLLBACK")
    except sqlite3.DatabaseError:
        pass


def _store_error(error: sqlite3.DatabaseError, path: Path) -> StoreError:
    message = str(error)
    if "locked" in message or "busy" in message:
        return StoreError(f"the project database {path} is locked by another textsel process "
                          f"(waited {BUSY_TIMEOUT_MS / 1000:g} s); try again when it has finished")
    if any(sign in message for sign in ("malformed", "not a database", "corrupt")):
        return StoreError(f"the project database {path} is damaged ({message}); restore it from a backup")
    return StoreError(f"cannot use the project database {path}: {message}")
