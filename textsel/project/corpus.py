"""The corpus of a project: its texts and ids, the data files they come from, and the documents removed.

Owns, in the project folder: the pool cache (``cache/pool.*``, see :mod:`textsel.data._pool_cache`), and in the
project store the records of the data (``pool``, ``data_file``, ``added_files``, ``pool_cache``) and the removals.
It reads nothing of the other parts: a caller that keeps an index in line with the removals passes ``apply``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import TypeVar

import numpy as np

from textsel._setops import intersect
from textsel.errors import ConfigError, DataError, DataFileMissingError
from textsel.project_config import ProjectConfig
from textsel.store import Store

T = TypeVar("T")


def _write_now(write: Callable[[], T]) -> T:
    return write()


class Corpus:
    """The project's texts (the data file plus files added since) and which of them are removed.

    Parameters
    ----------
    config : ProjectConfig
    store : Store
        The project's own store (a concept's view shares the project's corpus).
    cache_dir : Path
        Where the pool cache lives.
    state : dict, optional
        Where the loaded pool is kept under ``"pool"``: the Project passes its own ``__dict__``, so that once
        loaded ``project.pool`` is a plain attribute (and "is the pool loaded?" is ``"pool" in project.__dict__``).
    """

    def __init__(self, config: ProjectConfig, store: Store, cache_dir: Path, *, state: dict | None = None) -> None:
        self.config = config
        self.store = store
        self.cache_dir = Path(cache_dir)
        self._loaded = state if state is not None else {}
        self.pool_unverified = self._data_file_changed()
        if self.pool_unverified and self.store.get_meta("data_file") is not None:
            self.pool  # noqa: B018 - loading the pool compares it with what the project was made from

    @property
    def pool_loaded(self) -> bool:
        """Whether the data files were read in this process (most reads go through the pool cache instead)."""
        return "pool" in self._loaded

    @property
    def pool(self):  # noqa: ANN201 - textsel.data.Pool, imported lazily
        if "pool" not in self._loaded:
            self._loaded["pool"] = self._load_pool()
        return self._loaded["pool"]

    def _load_pool(self):  # noqa: ANN202 - textsel.data.Pool
        from textsel.data import load_pool

        config = self.config
        pool = load_pool(config.source, text_col=config.text_col, id_col=config.id_col,
                         label_col=config.label_col, format=config.format, dedupe=config.dedupe)
        from textsel.appended import main_file_rows

        pool = main_file_rows(self, pool)  # rows appended to the data file stay out until added
        if self._added_files():
            pool = type(pool).concat([pool, *(self._load_added(entry) for entry in self._added_files())])
        self._check_pool_unchanged(pool)
        from textsel.data._pool_cache import pool_cache_valid

        if not pool_cache_valid(self.cache_dir, self._pool_cache_record()):  # none yet, damaged, or other columns
            _record_pool_cache(self.store, pool, self.cache_dir, config)
        return pool

    @cached_property
    def ids(self) -> np.ndarray:
        """The pool's document ids, in pool order, without loading the texts when the project's pool cache (see
        :mod:`textsel.data._pool_cache`) is valid and the data file is unchanged since it was verified."""
        if not self.pool_loaded and not self.pool_unverified:
            ids = self._pool_cache_ids()
            if ids is not None:
                return ids
        return self.pool.ids

    def _pool_cache_ids(self) -> np.ndarray | None:
        from textsel.data._pool_cache import read_pool_ids

        ids = read_pool_ids(self.cache_dir, self._pool_cache_record())
        if ids is not None:
            self._restamp_pool_cache(("ids",))
        return ids

    def _restamp_pool_cache(self, keys: tuple[str, ...]) -> None:
        """Remember the current stat of pool cache files just verified (by stat, or by checksum after a copy)."""
        from textsel.data._pool_cache import restamped_pool_cache

        record = self._pool_cache_record()
        fresh = restamped_pool_cache(self.cache_dir, record, keys)
        if fresh != record:
            self.store.set_meta("pool_cache", fresh)

    def _pool_cache_record(self) -> dict | None:
        """The pool cache's record when it was written for the current [data] settings (else None)."""
        record = self.store.get_meta("pool_cache")
        return record if record and record.get("data") == _data_settings(self.config) else None

    def pool_record(self) -> dict:
        """What the project's data was when last verified: its row count and fingerprint (empty when unknown)."""
        return self.store.get_meta("pool") or {}

    def positions(self, doc_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Pool positions of document ids; an unknown id raises DataError naming it (texts are not loaded)."""
        from textsel.data import Pool

        if self.pool_loaded:
            return self.pool.positions(np.asarray(doc_ids, dtype=np.int64))
        return Pool.positions_in(self.ids, np.asarray(doc_ids, dtype=np.int64), source=self.config.source)

    def _data_file_changed(self) -> bool:
        """Whether the data may differ from what the project was made from: no record of the data file (another
        source kind, or a project from an older textsel), or a size/mtime unlike the recorded ones (of the data file
        or of a file added with ``add_documents``)."""
        recorded = self.store.get_meta("data_file")
        if recorded is None:
            return True
        if not Path(self.config.source).is_file():
            raise DataFileMissingError("the project's data file is missing (moved or deleted?); put it back, or point "
                                       "the project at where it is now (its rows are checked against the project's "
                                       "record)", file=self.config.source)
        for entry in self._added_files():
            if not Path(entry["source"]).is_file():
                raise DataError("a file added to the project is missing (moved or deleted?); put it back",
                                file=entry["source"])
        return _data_file_stat(self.config.source) != recorded or any(
            _data_file_stat(entry["source"]) != entry["stat"] for entry in self._added_files())

    def _added_files(self) -> list[dict]:
        """The files ``add_documents`` appended to the pool, in order: source, format, id offset, size and mtime."""
        return self.store.get_meta("added_files") or []

    def _load_added(self, entry: dict):  # noqa: ANN202 - textsel.data.Pool
        """One added file as a Pool with the project's columns; without an id column its row numbers continue
        after the ids before it (``id_offset``)."""
        from textsel.data import Pool, load_pool

        config = self.config
        pool = load_pool(entry["source"], text_col=config.text_col, id_col=config.id_col, format=entry["format"])
        if "skip_rows" in entry:  # rows appended to the data file (textsel.appended)
            from textsel.appended import pool_rows

            pool = pool_rows(pool, entry["skip_rows"], entry["skip_rows"] + entry["take_rows"])
        if entry["id_offset"]:
            pool = Pool(ids=pool.ids + entry["id_offset"], texts=pool.texts, columns=pool.columns, source=pool.source)
        return pool

    def add_documents(self, path: str | Path, *, format: str | None = None):  # noqa: ANN201 - textsel.data.Pool
        """Append the texts of ``path`` (same columns as the project's data file) to the pool; return them as a Pool.

        Every new id is checked against the pool before anything is written. Projects with precomputed embeddings
        cannot grow (nothing here can embed new texts to match them). The caller brings the vectors and the index
        up to date (:meth:`textsel.project.vectors.Vectors.grow`).
        """
        self._refuse_precomputed()
        source = str(Path(path).resolve())
        if source == str(Path(self.config.source).resolve()) or source in {e["source"] for e in self._added_files()}:
            raise DataError("this file is already part of the project", file=str(path))
        offset = 0 if self.config.id_col else int(self.pool.ids.max()) + 1
        return self.add_entry({"source": source, "format": format, "id_offset": offset}, shown=str(path))

    def add_entry(self, entry: dict, *, shown: str):  # noqa: ANN201 - textsel.data.Pool
        """Add the texts of an added-file ``entry`` (see :meth:`_load_added`) to the pool, as ``add_documents``
        does; ``shown`` names the file in errors. Returns the texts added, as a Pool."""
        from textsel.data import Pool

        self._refuse_precomputed()
        old, path, source = self.pool, shown, entry["source"]
        new = self._load_added(entry)
        clash = intersect(old.ids, new.ids)
        removed = intersect(clash, self.removed_ids())
        if len(removed):  # its text is still in the pool, only marked removed: adding it again would hold it twice
            raise DataError(f"id {int(removed[0])} was removed from the project, not deleted from it; restore it "
                            f"instead of adding it again", file=str(path), column=self.config.id_col or "id")
        if len(clash):
            raise DataError(f"id {int(clash[0])} is already in the project ({len(clash)} ids are)", file=str(path),
                            column=self.config.id_col or "id")
        combined = Pool.concat([old, new])
        self.store.set_meta("added_files", [*self._added_files(), {**entry, "stat": _data_file_stat(source)}])
        _record_pool(self.store, combined, self.config.source)
        self._loaded["pool"] = combined
        self.__dict__.pop("ids", None)
        _record_pool_cache(self.store, combined, self.cache_dir, self.config)
        return new

    def _refuse_precomputed(self) -> None:
        """A project with precomputed embeddings cannot grow: nothing here can embed new texts to match them."""
        if self.config.precomputed:
            raise ConfigError("this project's embeddings were precomputed, so new texts cannot be embedded to match "
                              "them; create a new project with embeddings for every text")

    def _check_pool_unchanged(self, pool) -> None:  # noqa: ANN001 - textsel.data.Pool
        """Raise DataError when ``pool`` is not the data the project was made from (rows, then fingerprint)."""
        expected = self.store.get_meta("pool") or {"rows": self.store.get_meta("pool_size"), "fingerprint": None}
        changed = expected["rows"] is not None and len(pool) != expected["rows"]
        if not changed and self.pool_unverified and expected["fingerprint"] is not None:
            changed = pool.fingerprint() != expected["fingerprint"]
        if changed:
            now = f"{len(pool):,} texts" if len(pool) != expected["rows"] else "other texts or ids"
            raise DataError(f"the data file changed since the project was created (it holds {now}; the project "
                            f"was made from {expected['rows']:,}); restore the original file, or create a new "
                            f"project for the new data", file=self.config.source)
        if self.pool_unverified and not getattr(self, "appended_rows", 0):  # the same data (perhaps copied or
            # touched): remember its new size and mtime (not while rows appended to it wait to be added)
            _record_pool(self.store, pool, self.config.source)
            if self._added_files():
                self.store.set_meta("added_files", [{**entry, "stat": _data_file_stat(entry["source"])}
                                                    for entry in self._added_files()])

    # -- removals --------------------------------------------------------------------------------------------

    def removed_ids(self) -> np.ndarray:
        """Sorted ids (internal) of documents removed from the corpus: never selected, audited, estimated over or
        predicted again; their labels stay (kept, exported, and used for training)."""
        return np.asarray(sorted(self.store.removed_ids()), dtype=np.int64)

    def remove_documents(self, ids: Sequence[int | str], *, reason: str | None = None,
                         apply: Callable[[Callable[[], T]], T] = _write_now) -> list[int]:
        """Remove documents (ids as users know them) from the corpus; return the internal ids not removed before.

        Every id is checked first (an unknown one raises DataError, nothing written). The removal is recorded in
        the store in one transaction, then marked in the saved index with its deletion marks (no rebuild; the index
        file is rewritten atomically under the cache lock). The data files are not touched and labels are never
        deleted: a removed document's labels stay in the store, in exports, and among the training labels. It is
        never selected (any candidate pool), audited, counted in the estimates' population or predicted again, and
        stops being pending in the batch that selected it. ``apply(write)`` runs the store's write; the Project
        passes the vectors' :meth:`~textsel.project.vectors.Vectors.change_removals`, which marks the index alike.
        """
        internal = self.resolve_ids(ids)
        return apply(lambda: self.store.add_removals(internal, reason=reason))

    def restore_documents(self, ids: Sequence[int | str], *,
                          apply: Callable[[Callable[[], T]], T] = _write_now) -> list[int]:
        """Undo ``remove_documents`` for ``ids`` (checked first; ids not removed raise DataError, nothing written):
        they can be selected again and the index searches them again. Return their internal ids."""
        internal = self.resolve_ids(ids)
        removed = self.store.removed_ids()
        missing = [value for value, doc_id in zip(ids, internal, strict=True) if doc_id not in removed]
        if missing:
            raise DataError(f"id {missing[0]} is not removed, so there is nothing to restore ({len(missing)} ids "
                            f"are not)")
        def write() -> None:
            self.store.delete_removals(internal)
            self.store.set_meta("restores", int(self.store.get_meta("restores", 0)) + 1)  # see restore_count

        apply(write)
        return internal

    def restore_count(self) -> int:
        """How many restores were made: the SEALS states dropped restored texts, so their source records this."""
        return int(self.store.get_meta("restores", 0))

    def resolve_ids(self, values: Sequence[int | str]) -> list[int]:
        """Internal ids of ids as users type or import them (integers, or the pool's string ids as given).

        Raises DataError naming the first id that is malformed or not in the pool.
        """
        if self.integer_ids_without_loading():
            from textsel.ids import parse_doc_id

            doc_ids = [parse_doc_id(value) if isinstance(value, str) else int(value) for value in values]
            self.positions(doc_ids)  # an unknown id raises DataError naming it
            return doc_ids
        return self.pool.resolve(list(values)).tolist()

    def resolve_id_file(self, path: str | Path) -> list[int | str]:
        """The ids of a CSV file (column ``id``, or its only column; see :func:`textsel.ids.read_id_column`) as users
        know them, every one checked: a malformed or unknown id raises DataError naming the file, row and column."""
        from textsel.ids import read_id_column

        rows, column = read_id_column(path)
        values = [value for _, value in rows]
        try:
            self.resolve_ids(values)
        except DataError:
            for row, value in rows:  # name the row: resolve one by one (this loads the pool, on this path only)
                self.pool.resolve_one(value, file=str(path), row=row, column=column)
            raise
        return values

    def integer_ids_without_loading(self) -> bool:
        """True when the pool is not loaded and its valid cache says its ids are integers (so ids map to
        themselves and nothing needs the texts)."""
        if self.pool_loaded or self.pool_unverified:
            return False
        record = self._pool_cache_record()
        return bool(record) and record.get("string_ids") is False

    def external_ids(self, doc_ids: Sequence[int] | np.ndarray) -> list[int | str]:
        """The ids users know (string ids as given, else the integers) of internal ``doc_ids``."""
        if self.integer_ids_without_loading():
            return [int(doc_id) for doc_id in doc_ids]
        return self.pool.external(doc_ids)


    def texts(self, doc_ids: Sequence[int]) -> list[str]:
        """The texts of ``doc_ids``: read from the pool cache when it is valid (only those rows), else the pool."""
        from textsel.data._pool_cache import read_pool_texts

        positions = self.positions(doc_ids)
        if not self.pool_loaded and not self.pool_unverified:
            texts = read_pool_texts(self.cache_dir, self._pool_cache_record(), positions)
            if texts is not None:
                self._restamp_pool_cache(("offsets", "texts"))
                return texts
        return [self.pool.texts[i] for i in positions]


def _data_file_stat(source: str) -> dict | None:
    """Size and mtime of a data file; None for other sources (a dataset folder or a hub name)."""
    path = Path(source)
    if not path.is_file():
        return None
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _record_pool(store: Store, pool, source: str) -> None:  # noqa: ANN001 - textsel.data.Pool
    """Remember what the project's data is: its row count and fingerprint, and the data file's size and mtime."""
    store.set_meta("pool", {"rows": len(pool), "fingerprint": pool.fingerprint()})
    store.set_meta("data_file", _data_file_stat(source))


def _data_settings(config: ProjectConfig) -> dict:
    """The [data] settings a pool is loaded with: a pool cache is valid for these only."""
    settings = {"source": config.source, "text_col": config.text_col, "id_col": config.id_col, "format": config.format}
    return settings | ({"dedupe": config.dedupe} if config.dedupe else {})


def _record_pool_cache(store: Store, pool, cache_dir: Path, config: ProjectConfig) -> None:  # noqa: ANN001 - Pool
    """Write the pool cache (ids and row-addressable texts) and record its checksums and [data] settings."""
    from textsel.data._pool_cache import write_pool_cache

    store.set_meta("pool_cache", None)  # a cut-short write leaves no record that could match half of it
    store.set_meta("pool_cache", {**write_pool_cache(cache_dir, pool), "data": _data_settings(config)})
