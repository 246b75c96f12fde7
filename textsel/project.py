"""A labeling project on disk: a readable config file, the SQLite store, and caches of embeddings and index.

Layout of a project folder::

    textsel.toml      what the pool is, which labels exist, which model embeds (read with tomllib)
    textsel.db        labels, rounds and selections (see textsel.store)
    cache/            embeddings, the kNN index, the trained model

The Project wires library pieces together (load_pool, embed_pool, build_index, the round engine, the learner);
it holds no selection logic of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from textsel._atomic import atomic_path, write_text_atomic
from textsel._integrity import cache_lock, file_record, file_sha256, verified_record
from textsel.errors import ConfigError, DataError, StoreError, check_param
from textsel.project_config import (
    CONFIG_NAME,
    DB_NAME,
    DEFAULT_LABELS,
    DEFAULT_MODEL,
    LOCK_NAME,
    ProjectConfig,
)
from textsel.store import Store

if TYPE_CHECKING:
    from textsel.rounds import SelectionResult
    from textsel.status import ProjectStatus

@dataclass(frozen=True)
class Hit:
    """One search result."""

    doc_id: int
    score: float
    text: str
    label: str | None


@dataclass(frozen=True)
class TrainedModel:
    """A learner fitted on the project's labels, with what it was trained on."""

    learner: object
    classes: list[str]
    n_labels: int
    label_rows: int
    train_seconds: float
    estimated_prevalence: float | None
    embeddings: dict | None = None  # the embedding model, pool fingerprint and dimension it was trained on


class _ExcludingCandidates:
    """A candidate pool minus documents an earlier round already selected, so no text is selected twice."""

    def __init__(self, inner, excluded: np.ndarray) -> None:  # noqa: ANN001 - a textsel.candidates pool
        self.inner = inner
        self.excluded = np.asarray(excluded, dtype=np.int64)
        self.size = 0

    def update(self, labeled_ids: np.ndarray) -> None:
        self.inner.update(labeled_ids)

    def candidates(self, pool_ids: np.ndarray, labeled_ids: np.ndarray) -> np.ndarray:
        found = np.asarray(self.inner.candidates(pool_ids, labeled_ids), dtype=np.int64)
        kept = found[~np.isin(found, self.excluded)] if len(self.excluded) else found
        self.size = len(kept)
        return kept


class Project:
    """An initialised project folder. Open one with ``Project(directory)``, create one with ``init_project``.

    Parameters
    ----------
    directory : str or Path
    show_progress : bool, default=False
        Draw progress bars while embedding and indexing.
    """

    def __init__(self, directory: str | Path = ".", *, show_progress: bool = False) -> None:
        self.directory = Path(directory)
        self.show_progress = show_progress
        config_path = self.directory / CONFIG_NAME
        if not config_path.exists():
            raise StoreError(f"{self.directory.resolve()} is not a textsel project (no {CONFIG_NAME}); "
                             f"create one with `textsel init {self.directory} --data FILE`")
        self.config = ProjectConfig.from_toml(config_path)
        self.cache_dir = self.directory / "cache"
        if not (self.directory / DB_NAME).exists():
            raise StoreError(f"{self.directory.resolve()} has {CONFIG_NAME} but no project database ({DB_NAME}, which "
                             f"holds the labels); restore it from a backup")
        self.store = Store(self.directory / DB_NAME)
        self._embeddings: np.ndarray | None = None
        self._index = None
        self.last_pool_choice = None  # the PoolChoice of this process's last next_batch
        self.encoded_texts = 0  # texts this process sent to the embedding model (the others came from caches)
        try:
            self._pool_unverified = self._data_file_changed()
            if self._pool_unverified and self.store.get_meta("data_file") is not None:
                self.pool  # noqa: B018 - loading the pool compares it with what the project was made from
        except BaseException:
            self.store.close()
            raise

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def lock(self, wait_seconds: float = 2.0) -> Iterator[None]:
        """Hold the project for a long write (a labeling session, a round); a second holder gets StoreError."""
        import fcntl
        import time

        with open(self.directory / LOCK_NAME, "a+") as handle:
            deadline = time.monotonic() + wait_seconds
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StoreError(f"another textsel process is working on the project "
                                         f"{self.directory.resolve()} (a labeling session or a round); "
                                         f"wait for it to finish") from None
                    time.sleep(0.1)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- data ------------------------------------------------------------------------------------------------

    @cached_property
    def pool(self):  # noqa: ANN201 - textsel.data.Pool, imported lazily
        from textsel.data import load_pool

        config = self.config
        pool = load_pool(config.source, text_col=config.text_col, id_col=config.id_col,
                         label_col=config.label_col, format=config.format)
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
        if "pool" not in self.__dict__ and not self._pool_unverified:
            ids = self._pool_cache_ids()
            if ids is not None:
                return ids
        return self.pool.ids

    def _pool_cache_ids(self) -> np.ndarray | None:
        from textsel.data._pool_cache import read_pool_ids

        return read_pool_ids(self.cache_dir, self._pool_cache_record())

    def _pool_cache_record(self) -> dict | None:
        """The pool cache's record when it was written for the current [data] settings (else None)."""
        record = self.store.get_meta("pool_cache")
        return record if record and record.get("data") == _data_settings(self.config) else None

    def positions(self, doc_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Pool positions of document ids; an unknown id raises DataError naming it (texts are not loaded)."""
        from textsel.data import Pool

        if "pool" in self.__dict__:
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
            raise DataError("the project's data file is missing (moved or deleted?); put it back, or set [data] "
                            f"source in {CONFIG_NAME} to where it is now", file=self.config.source)
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
        if entry["id_offset"]:
            pool = Pool(ids=pool.ids + entry["id_offset"], texts=pool.texts, columns=pool.columns, source=pool.source)
        return pool

    def add_documents(self, path: str | Path, *, format: str | None = None) -> int:
        """Append the texts of ``path`` (same columns as the project's data file) to the pool; return how many.

        Every new id is checked against the pool before anything is written. Only texts no project on this machine
        embedded before reach the model (:mod:`textsel.text_cache`), and a saved index grows with the new vectors
        instead of being rebuilt. Projects with precomputed embeddings cannot grow (nothing here can embed new
        texts to match them).
        """
        from textsel.data import Pool

        if self.config.precomputed:
            raise ConfigError("this project's embeddings were precomputed, so new texts cannot be embedded to match "
                              "them; create a new project with embeddings for every text")
        source = str(Path(path).resolve())
        if source == str(Path(self.config.source).resolve()) or source in {e["source"] for e in self._added_files()}:
            raise DataError("this file is already part of the project", file=str(path))
        old = self.pool
        offset = 0 if self.config.id_col else int(old.ids.max()) + 1
        entry = {"source": source, "format": format, "id_offset": offset}
        new = self._load_added(entry)
        clash = np.intersect1d(old.ids, new.ids)
        if len(clash):
            raise DataError(f"id {int(clash[0])} is already in the project ({len(clash)} ids are)", file=str(path),
                            column=self.config.id_col or "id")
        old_embeddings, old_index = self.store.get_meta("embeddings"), self.store.get_meta("index")
        combined = Pool.concat([old, new])
        self.store.set_meta("added_files", [*self._added_files(), {**entry, "stat": _data_file_stat(source)}])
        _record_pool(self.store, combined, self.config.source)
        self.__dict__["pool"] = combined
        self.__dict__.pop("ids", None)
        self.__dict__.pop("_neighbour_table", None)
        _record_pool_cache(self.store, combined, self.cache_dir, self.config)
        self._embeddings = self._index = None
        vectors = self.embeddings()
        if old_embeddings and old_index == {**old_embeddings, "backend": self.config.backend}:
            self._grow_index(old_embeddings["sha256"], new.ids, vectors[len(old):])
        return len(new)

    def _grow_index(self, old_sha256: str, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add ``vectors`` under ``ids`` to the saved index (built over the vectors ``old_sha256``) and save it as
        the index of the current embeddings."""
        from textsel.index import load_index

        key = {**self.store.get_meta("embeddings"), "backend": self.config.backend}
        with cache_lock(self.cache_dir / "index.build.lock", f"the index {self.index_path}"):
            index = load_index(self.index_path, vectors_sha256=old_sha256)
            index.add(np.asarray(vectors, dtype=np.float32), ids)
            index.save(self.index_path, vectors_sha256=key["sha256"])
            self.store.set_meta("index", key)
        self._index = index

    def _check_pool_unchanged(self, pool) -> None:  # noqa: ANN001 - textsel.data.Pool
        """Raise DataError when ``pool`` is not the data the project was made from (rows, then fingerprint)."""
        expected = self.store.get_meta("pool") or {"rows": self.store.get_meta("pool_size"), "fingerprint": None}
        changed = expected["rows"] is not None and len(pool) != expected["rows"]
        if not changed and self._pool_unverified and expected["fingerprint"] is not None:
            changed = pool.fingerprint() != expected["fingerprint"]
        if changed:
            now = f"{len(pool):,} texts" if len(pool) != expected["rows"] else "other texts or ids"
            raise DataError(f"the data file changed since the project was created (it holds {now}; the project "
                            f"was made from {expected['rows']:,}); restore the original file, or create a new "
                            f"project for the new data", file=self.config.source)
        if self._pool_unverified:  # the same data (perhaps copied or touched): remember its new size and mtime
            _record_pool(self.store, pool, self.config.source)
            if self._added_files():
                self.store.set_meta("added_files", [{**entry, "stat": _data_file_stat(entry["source"])}
                                                    for entry in self._added_files()])
            self._pool_unverified = False

    def embedder(self):  # noqa: ANN201 - textsel.embed.Embedder
        from textsel.embed import Embedder

        return Embedder(self.config.model, max_seq_length=self.config.max_seq_length)

    def embeddings(self) -> np.ndarray:
        """Row-aligned float32 embeddings of the pool: precomputed, cached, or computed now (resumable).

        The store records what they are (model, pool fingerprint, rows, dim, sha256 of the vectors' file); a cache
        or precomputed file whose bytes changed since is a DataError instead of silently different vectors.
        """
        if self._embeddings is not None:
            return self._embeddings
        config = self.config
        recorded = self.store.get_meta("embeddings")
        if recorded and recorded["model"] != config.model:
            raise ConfigError(f"the model {config.model!r} in {CONFIG_NAME} does not match the cached embeddings, "
                              f"made with {recorded['model']!r}; restore the model name or rebuild the embeddings")
        vectors = self._recorded_embeddings(recorded)
        if vectors is not None:
            self._embeddings = vectors
            return vectors
        pool = self.pool
        if config.precomputed:
            from textsel.embed import load_embeddings

            sha256 = self._verified_precomputed_sha256()
            vectors = load_embeddings(config.precomputed, len(pool))
            file = {"path": config.precomputed, "file": self.store.get_meta("precomputed_file")}
        else:
            from textsel.embed import embed_pool_with_record
            from textsel.text_cache import CachedEncoder

            encoder = CachedEncoder(self.embedder())  # texts embedded before, by any project here, are not again
            try:
                vectors, cache = embed_pool_with_record(pool, encoder, cache_dir=self.cache_dir / "embeddings",
                                                        show_progress=self.show_progress)
            finally:
                encoder.cache.close()
            self.encoded_texts = encoder.encoded_texts
            vectors, sha256 = np.asarray(vectors, dtype=np.float32), cache["file"]["sha256"]
            file = {"path": self._embedding_cache_file(cache["file"]), "file": cache["file"]}
        key = {"model": config.model, "fingerprint": pool.fingerprint(), "rows": len(pool),
               "dim": int(vectors.shape[1]), "sha256": sha256}
        if recorded != key:
            self.store.set_meta("embeddings", key)
        self.store.set_meta("embeddings_file", None if file["path"] is None else {**file, "sha256": sha256})
        self._embeddings = vectors
        return vectors

    def _embedding_cache_file(self, record: dict) -> str | None:
        """The path of the embedding cache file that ``record`` (size, mtime, sha256) describes."""
        for path in sorted((self.cache_dir / "embeddings").glob("embeddings-*/embeddings.npy")):
            if (path.stat().st_size, path.stat().st_mtime_ns) == (record.get("size"), record.get("mtime_ns")):
                return str(path)
        return None

    def _recorded_embeddings(self, recorded: dict | None) -> np.ndarray | None:
        """The vectors as a read-only memory map of the file they were last verified in, without loading the pool,
        converting them or re-checking every row; None when anything could have changed since (the data file, the
        vectors file's size, mtime or checksum, the config), so the caller takes the full path with its checks."""
        saved, pool = self.store.get_meta("embeddings_file"), self.store.get_meta("pool") or {}
        if self._pool_unverified or not recorded or not saved or saved.get("sha256") != recorded.get("sha256"):
            return None
        if recorded.get("fingerprint") != pool.get("fingerprint") or recorded.get("rows") != pool.get("rows"):
            return None  # the pool changed (texts were added) since these vectors were made
        if self.config.precomputed and saved["path"] != self.config.precomputed:
            return None
        try:
            if verified_record(saved["path"], saved["file"]) is None:
                return None
            vectors = np.load(saved["path"], mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError):
            return None
        if vectors.ndim != 2 or vectors.shape != (recorded["rows"], recorded["dim"]):
            return None
        return vectors

    def _verified_precomputed_sha256(self) -> str:
        """The checksum of the precomputed embeddings file, verified against the one recorded (recorded if none)."""
        path, recorded = self.config.precomputed, self.store.get_meta("precomputed_file")
        try:
            current = verified_record(path, recorded) if recorded else file_record(path)
        except FileNotFoundError:
            raise DataError("the precomputed embeddings file is missing; put it back", file=path) from None
        if current is None:
            raise DataError("the precomputed embeddings changed since the project recorded them (their checksum "
                            "differs); restore the original file, or rebuild the embeddings to use the new one",
                            file=path)
        if current != recorded:
            self.store.set_meta("precomputed_file", current)
        return current["sha256"]

    def forget_embeddings(self) -> None:
        """Drop the embedding cache and what the store recorded about the vectors and the index, so the next
        ``embeddings()`` rebuilds for the config (and accepts a replaced precomputed file)."""
        from textsel.embed import clear_embedding_cache

        clear_embedding_cache(self.cache_dir / "embeddings")
        for key in ("embeddings", "embeddings_file", "index", "precomputed_file"):
            self.store.set_meta(key, None)
        self._embeddings = self._index = None

    @property
    def index_path(self) -> Path:
        return self.cache_dir / f"index.{self.config.backend}"

    def index(self, *, rebuild: bool = False):  # noqa: ANN201 - textsel.index.VectorIndex
        """The kNN index over the embeddings: loaded from the cache after verifying its checksums, or built now
        when missing, stale (other embeddings or backend) or ``rebuild`` is true. One process builds at a time."""
        from textsel.index import build_index, load_index

        if self._index is not None and not rebuild:
            return self._index
        vectors = self.embeddings()
        key = {**self.store.get_meta("embeddings"), "backend": self.config.backend}
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with cache_lock(self.cache_dir / "index.build.lock", f"the index {self.index_path}"):
            saved = Path(str(self.index_path) + ".json").exists()
            if not rebuild and saved and self.store.get_meta("index") == key:
                index = load_index(self.index_path, vectors_sha256=key["sha256"])
            else:
                index = build_index(vectors, self.ids, backend=self.config.backend,
                                    show_progress=self.show_progress)
                index.save(self.index_path, vectors_sha256=key["sha256"])
                self.store.set_meta("index", key)
                self.__dict__.pop("_neighbour_table", None)  # computed from the old index
        self._index = index
        return index

    @property
    def neighbour_table_path(self) -> Path:
        return self.cache_dir / "neighbours.npy"

    def neighbour_table(self, *, build: bool = False):  # noqa: ANN201 - textsel.index.NeighbourTable or None
        """The saved table of every document's nearest neighbours (SEALS reads rows of it instead of loading the
        index), or None when there is none matching the current index. ``build`` computes and saves it first
        (k = the larger of the config's k and the automatic k; a one-time cost like the index)."""
        from textsel.candidates import auto_k
        from textsel.index import build_neighbour_table, load_neighbour_table, save_neighbour_table, saved_index_digest

        if hasattr(self, "_neighbour_table") and not build:
            return self._neighbour_table
        table = None
        embeddings = self.store.get_meta("embeddings")
        current = embeddings and self.store.get_meta("index") == {**embeddings, "backend": self.config.backend}
        if build or (current and Path(str(self.index_path) + ".json").exists()):
            if build:
                index = self.index()
                k = max(self.config.k, auto_k(len(index)))
                what = f"the neighbour table {self.neighbour_table_path}"
                with cache_lock(self.cache_dir / "index.build.lock", what):
                    built = build_neighbour_table(index, k, show_progress=self.show_progress)
                    record = save_neighbour_table(self.neighbour_table_path, built,
                                                  index_digest=saved_index_digest(self.index_path))
                    self.store.set_meta("neighbour_table", record)
            table = load_neighbour_table(self.neighbour_table_path, self.store.get_meta("neighbour_table"),
                                         index_digest=saved_index_digest(self.index_path))
        self._neighbour_table = table
        return table

    # -- labels ----------------------------------------------------------------------------------------------

    def check_labels(self, labels: Sequence[str]) -> None:
        """Raise DataError naming the first label that is not one of the project's classes."""
        for label in labels:
            if label not in self.config.labels:
                raise DataError(f"unknown label {label!r}; this project's labels are {', '.join(self.config.labels)}")

    def add_labels(self, doc_ids: Sequence[int], labels: Sequence[str], *, source: str,
                   round_id: int | None = None) -> None:
        """Validate every id and label, then record them all in one transaction."""
        self.check_labels(labels)
        self.positions(doc_ids)
        self.store.add_labels(list(doc_ids), list(labels), source=source, round_id=round_id)

    def import_labels(self, path: str | Path) -> int:
        """Read an ``id,label`` CSV, validate every row, then record it in one transaction; return the count."""
        from textsel.export import read_label_file

        doc_ids, labels = read_label_file(Path(path), self.config.labels)
        known = np.isin(np.asarray(doc_ids, dtype=np.int64), self.ids)
        if not known.all():
            row = int(np.flatnonzero(~known)[0])
            raise DataError(f"id {doc_ids[row]} is not in the pool", file=str(path), row=row + 1, column="id")
        self.store.add_labels(doc_ids, labels, source=f"import:{Path(path).name}")
        return len(doc_ids)

    def labeled(self) -> tuple[np.ndarray, np.ndarray]:
        """(doc ids, labels) of every labeled document, latest label per document."""
        current = self.store.current_labels()
        return np.fromiter(current.keys(), dtype=np.int64, count=len(current)), np.asarray(
            list(current.values()), dtype=object)

    def diagnose(self, *, with_proxy: bool = True):  # noqa: ANN201 - textsel.diagnose.Diagnosis
        """Does the embedding capture the positive class? Measured on the labels so far (textsel.diagnose)."""
        from textsel.diagnose import diagnose

        doc_ids, labels = self.labeled()
        texts = self.texts(doc_ids) if with_proxy else None
        return diagnose(self.index(), doc_ids, labels == self.config.positive, texts=texts)

    def status(self) -> ProjectStatus:
        """Labels per class, rounds and their yield of positives, candidate pool, prevalence, a stopping hint."""
        from textsel.status import project_status

        return project_status(self)

    def texts(self, doc_ids: Sequence[int]) -> list[str]:
        """The texts of ``doc_ids``: read from the pool cache when it is valid (only those rows), else the pool."""
        from textsel.data._pool_cache import read_pool_texts

        positions = self.positions(doc_ids)
        if "pool" not in self.__dict__ and not self._pool_unverified:
            texts = read_pool_texts(self.cache_dir, self._pool_cache_record(), positions)
            if texts is not None:
                return texts
        return [self.pool.texts[i] for i in positions]

    # -- seeding ---------------------------------------------------------------------------------------------

    def search(self, query: str, n: int = 20) -> list[Hit]:
        """The ``n`` texts nearest to ``query`` through the index, with their current labels."""
        check_param("Project.search", "n", n, isinstance(n, int) and n >= 1, "an int >= 1")
        vectors = self.embeddings()
        query_vector = np.asarray(self.embedder().encode([query]), dtype=np.float32).reshape(1, -1)
        if query_vector.shape[1] != vectors.shape[1]:
            raise ConfigError(f"the model {self.config.model!r} makes {query_vector.shape[1]}-dimensional vectors "
                              f"but the project's embeddings have {vectors.shape[1]} dimensions; set the model "
                              f"that made them in {CONFIG_NAME}")
        ids, sims = self.index().search(query_vector, min(n, len(self.ids)))
        found = ids[0] >= 0
        labels = self.store.current_labels()
        return [Hit(int(doc_id), float(sim), text, labels.get(int(doc_id)))
                for doc_id, sim, text in zip(ids[0][found], sims[0][found], self.texts(ids[0][found]), strict=True)]

    # -- rounds and the model --------------------------------------------------------------------------------

    @staticmethod
    def check_round_params(n: int, strategy: str, candidate_pool: str) -> None:
        """Raise ConfigError for a batch size, strategy or candidate pool a round cannot use (before any work)."""
        from textsel.candidates import POOL_CHOICES
        from textsel.strategies import get_strategy

        check_param("Project.next_batch", "n", n, isinstance(n, int) and not isinstance(n, bool) and n >= 1,
                    "an int >= 1")
        get_strategy(strategy)
        check_param("Project.next_batch", "candidate_pool", candidate_pool, candidate_pool in POOL_CHOICES,
                    f"one of {POOL_CHOICES}")

    def next_batch(self, n: int = 20, *, strategy: str = "maxent", candidate_pool: str = "auto",
                   seed: int = 0, discard_pending: bool = False) -> tuple[int, SelectionResult]:
        """Select the next ``n`` texts with the round engine and record the round; return (round id, result).

        ``candidate_pool`` "auto" picks the full scan or SEALS, whichever the cost model predicts cheaper, and k
        from the pool size (:func:`textsel.candidates.choose_pool`); the choice and its reason are recorded in the
        round's params. The SEALS pool is kept in the project between rounds (:mod:`textsel.candidate_state`).

        While the latest round still has texts to label this raises StoreError, unless ``discard_pending``: then
        those texts are recorded as discarded (after the new batch is selected, so a failed selection changes
        nothing). A new round never selects a text an earlier round selected (labeled, skipped, discarded or
        pending), so each text appears in at most one round.
        """
        from textsel.candidates import make_candidate_pool
        from textsel.rounds import select_batch

        self.check_round_params(n, strategy, candidate_pool)
        pending_round, pending = self.store.pending()
        if pending and not discard_pending:
            raise StoreError(f"round {pending_round} still has {len(pending)} texts to label; label them first, "
                             f"or discard them to select a new batch")
        features = self.embeddings()
        labels = self.store.current_labels()
        labeled_ids = np.fromiter(labels.keys(), dtype=np.int64, count=len(labels))
        choice = self.choose_candidate_pool(candidate_pool, labeled_ids)
        table = self.neighbour_table() if choice.name == "seals" and strategy != "id" else None
        if table is not None and table.k < choice.k:
            table = None
        index = self.index() if (choice.name == "seals" and table is None) or strategy == "id" else None
        state = None
        if choice.name == "seals":
            inner, state = self._seals_candidates(table if table is not None else index, choice.k, labeled_ids)
        else:
            inner = make_candidate_pool(choice.name, k=choice.k, seed=seed)
        selected_before = np.fromiter(self.store.selected_ids(), dtype=np.int64)
        pool = _ExcludingCandidates(inner, selected_before)
        result = select_batch(self.ids, features, labels, pool, strategy=strategy, batch_size=n, seed=seed,
                              positive_label=self.config.positive, classes=self.config.labels, index=index)
        if state is not None:
            self._save_candidate_state(inner)
        params = {"n": n, "candidate_pool": choice.name, "pool_requested": candidate_pool,
                  "pool_reason": choice.reason, "k": choice.k, "learner": "logistic", "model": self.config.model,
                  "labels_used": len(labels), "excluded_selected_before": len(selected_before)}
        if state is not None:
            params.update(candidate_state=state, neighbour_queries=inner.queried_,
                          neighbours_from="table" if table is not None else "index")
        if pending:
            self.store.discard_pending()
        round_id = self.store.add_round(
            strategy=strategy, params=params, seed=seed, doc_ids=result.ids.tolist(),
            scores=None if result.scores is None else np.asarray(result.scores, dtype=float).tolist(),
            pool_size=len(self.ids), candidate_pool_size=result.candidate_pool_size,
            select_seconds=result.select_seconds, train_seconds=result.train_seconds)
        self.last_pool_choice = choice
        return round_id, result

    def choose_candidate_pool(self, requested: str, labeled_ids: np.ndarray):  # noqa: ANN201 - PoolChoice
        """Resolve "auto" (or a pool name) for this project's size, labels and saved SEALS state."""
        from textsel.candidates import auto_k, choose_pool

        record = self.store.get_meta(self._candidate_state_key(auto_k(len(self.ids)))) or {}
        known, seen = int(record.get("candidates", 0)), int(record.get("seen", 0))
        return choose_pool(requested, n_docs=len(self.ids), n_labeled=len(labeled_ids),
                           n_new_labels=max(len(labeled_ids) - seen, 0), n_known_candidates=known, k=self.config.k,
                           neighbours="table" if self.neighbour_table() is not None else
                           "loaded" if self._index is not None else "index")

    def candidate_state_path(self, k: int) -> Path:
        """The saved SEALS state for ``k`` (one per k, so rounds with different k do not undo each other's)."""
        return self.cache_dir / f"candidates.k{int(k)}.npz"

    @staticmethod
    def _candidate_state_key(k: int) -> str:
        return f"candidate_state_k{int(k)}"

    def _candidate_source(self, k: int) -> dict:
        from textsel.index import saved_index_digest

        return {"index": saved_index_digest(self.index_path), "k": int(k), "ef": None}

    def _seals_candidates(self, neighbours, k: int, labeled_ids: np.ndarray):  # noqa: ANN001, ANN202
        """The SEALS pool over ``neighbours`` (the index or its NeighbourTable) restored from the project (or empty,
        to be rebuilt from every label in one batched query) and how: "restored", "new" or "rebuilt: <why>"."""
        from textsel.candidate_state import load_candidate_state

        return load_candidate_state(self.candidate_state_path(k), self.store.get_meta(self._candidate_state_key(k)),
                                    neighbours, k=k, ef=None, source=self._candidate_source(k),
                                    labeled_ids=labeled_ids)

    def _save_candidate_state(self, pool) -> None:  # noqa: ANN001 - SEALSCandidates
        from textsel.candidate_state import save_candidate_state

        record = save_candidate_state(self.candidate_state_path(pool.k), pool, self._candidate_source(pool.k))
        self.store.set_meta(self._candidate_state_key(pool.k),
                            {**record, "seen": len(pool.seen_), "candidates": len(pool.neighbours_)})

    def _engine(self):  # noqa: ANN202 - textsel.rounds.RoundEngine
        from textsel.candidates import AllCandidates
        from textsel.rounds import RoundEngine

        return RoundEngine(self.ids, AllCandidates(), features=self.embeddings(),
                           positive_label=self.config.positive, classes=self.config.labels)

    def train(self) -> TrainedModel:
        """Fit the learner on every label, save it, and estimate prevalence as the share predicted positive."""
        labels = self.store.current_labels()
        label_rows = self.store.label_count()
        engine = self._engine()
        seconds = engine.fit(labels)
        probabilities = engine.predict_proba(np.arange(len(self.ids)))
        classes = [str(name) for name in engine.learner_.classes_]
        # Share of the pool the model predicts positive: a rough estimate (balanced class weights and actively
        # chosen labels both bias it); status prefers random rounds when there are any.
        prevalence = (float(np.mean(probabilities.argmax(axis=1) == classes.index(self.config.positive)))
                      if self.config.positive in classes else None)
        model = TrainedModel(engine.learner_, classes, len(labels), label_rows, seconds, prevalence,
                             self._model_source())
        self._save_model(model)
        self.store.set_meta("estimated_prevalence", prevalence)
        return model

    MODEL_FORMAT = 1

    @property
    def model_path(self) -> Path:
        """The saved model's weights: plain arrays (.npz, read without pickle); ``model_info_path`` describes them."""
        return self.cache_dir / "model.npz"

    @property
    def model_info_path(self) -> Path:
        return self.cache_dir / "model.json"

    def _model_source(self) -> dict:
        """What a saved model must have been trained on to be used now: the embedding model and its vectors."""
        recorded = self.store.get_meta("embeddings") or {}
        return {"model": self.config.model, "fingerprint": recorded.get("fingerprint"), "dim": recorded.get("dim")}

    def _save_model(self, model: TrainedModel) -> None:
        """Weights to model.npz, then what they are and were trained on (with the weights' SHA-256) to model.json."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        model.learner.save(self.model_path)
        info = {"format": self.MODEL_FORMAT, "learner": "logistic", "classes": model.classes,
                "parameters": json.loads(str(model.learner.to_arrays()["params"])),
                "embeddings": model.embeddings, "n_labels": model.n_labels, "label_rows": model.label_rows,
                "train_seconds": model.train_seconds, "estimated_prevalence": model.estimated_prevalence,
                "sha256": file_sha256(self.model_path)}
        write_text_atomic(self.model_info_path, json.dumps(info, indent=2) + "\n")

    def saved_model(self) -> TrainedModel | None:
        """The model saved by the last ``train``, verified against its checksum; None when there is none.

        A leftover ``model.pkl`` from older versions is never read (unpickling can run code). A garbled or
        tampered file raises DataError that says to retrain.
        """
        if not self.model_info_path.exists():  # never trained, or a save cut short before its description
            return None
        from textsel.learner import LogisticLearner

        try:
            try:
                info = json.loads(self.model_info_path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
                raise DataError(f"cannot read {self.model_info_path.name}: {error}") from error
            if not isinstance(info, dict) or info.get("format") != self.MODEL_FORMAT:
                raise DataError(f"{self.model_info_path.name} is not a textsel model description")
            if not self.model_path.exists() or file_sha256(self.model_path) != info.get("sha256"):
                raise DataError(f"{self.model_path.name} does not match the checksum in {self.model_info_path.name}")
            learner = LogisticLearner.load(self.model_path)
            classes = [str(name) for name in learner.classes_]
            if classes != info.get("classes"):
                raise DataError(f"the classes in {self.model_path.name} differ from {self.model_info_path.name}")
            return TrainedModel(learner, classes, int(info["n_labels"]), int(info["label_rows"]),
                                float(info["train_seconds"]), info.get("estimated_prevalence"), info.get("embeddings"))
        except (DataError, KeyError, TypeError, ValueError) as error:
            raise DataError(f"the saved model in {self.cache_dir} is corrupt ({error}); retrain the model to "
                            f"replace it") from error

    def trained_model(self) -> TrainedModel:
        """The saved model, retrained first when labels or embeddings changed since it was trained."""
        self.embeddings()  # records which vectors the model is checked against
        model = self.saved_model()
        if (model is not None and model.label_rows == self.store.label_count()
                and model.embeddings == self._model_source()):
            return model
        return self.train()

    def predict(self, out: str | Path) -> int:
        """Write id, predicted label and one probability column per class for every text to a Parquet file."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        model = self.trained_model()
        vectors = self.embeddings()
        probabilities = np.vstack([model.learner.predict_proba(np.asarray(vectors[start:start + 65_536], np.float32))
                                   for start in range(0, len(self.ids), 65_536)])
        columns = {"id": self.ids,
                   "predicted": np.asarray(model.classes, dtype=object)[probabilities.argmax(axis=1)].astype(str)}
        columns.update({f"p_{name}": probabilities[:, column] for column, name in enumerate(model.classes)})
        with atomic_path(out) as tmp:
            pq.write_table(pa.table(columns), tmp)
        return len(self.ids)

def init_project(directory: str | Path, *, data: str, text_col: str = "text", id_col: str | None = None,
                 label_col: str | None = None, format: str | None = None, labels: Sequence[str] | None = None,
                 positive: str | None = None, model: str | None = None, embeddings: str | None = None,
                 backend: str = "hnsw") -> Project:
    """Create a project folder: check the model loads, the data loads (and precomputed embeddings fit), then write
    the database (with what the data file and embeddings were) and the config. Nothing is written on failure."""
    directory = Path(directory)
    if (directory / CONFIG_NAME).exists():
        raise StoreError(f"{directory.resolve()} is already a textsel project ({CONFIG_NAME} exists)")
    if (directory / DB_NAME).exists():
        raise StoreError(f"{directory.resolve()} already holds a {DB_NAME} (without {CONFIG_NAME}); move it away or "
                         f"choose another folder")
    source = str(Path(data).resolve()) if Path(data).exists() else data
    config = ProjectConfig(source=source, text_col=text_col, id_col=id_col, label_col=label_col, format=format,
                           labels=list(labels or DEFAULT_LABELS), positive=positive, model=model or DEFAULT_MODEL,
                           precomputed=str(Path(embeddings).resolve()) if embeddings else None, backend=backend)
    if model is not None:
        from textsel.embed import check_model_loads

        check_model_loads(model)
    from textsel.data import load_pool

    pool = load_pool(config.source, text_col=text_col, id_col=id_col, label_col=label_col, format=format)
    precomputed = None
    if config.precomputed:
        from textsel.embed import load_embeddings

        load_embeddings(config.precomputed, len(pool))
        precomputed = file_record(config.precomputed)
    directory.mkdir(parents=True, exist_ok=True)
    with Store(directory / DB_NAME, create=True) as store:
        store.set_meta("pool_size", len(pool))
        _record_pool(store, pool, config.source)
        _record_pool_cache(store, pool, directory / "cache", config)
        if precomputed is not None:
            store.set_meta("precomputed_file", precomputed)
    write_text_atomic(directory / CONFIG_NAME, config.to_toml())
    project = Project(directory)
    project.__dict__["pool"] = pool
    return project


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
    return {"source": config.source, "text_col": config.text_col, "id_col": config.id_col, "format": config.format}


def _record_pool_cache(store: Store, pool, cache_dir: Path, config: ProjectConfig) -> None:  # noqa: ANN001 - Pool
    """Write the pool cache (ids and row-addressable texts) and record its checksums and [data] settings."""
    from textsel.data._pool_cache import write_pool_cache

    store.set_meta("pool_cache", None)  # a cut-short write leaves no record that could match half of it
    store.set_meta("pool_cache", {**write_pool_cache(cache_dir, pool), "data": _data_settings(config)})
