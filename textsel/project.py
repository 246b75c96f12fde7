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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from textsel._atomic import atomic_path, write_text_atomic
from textsel._integrity import cache_lock, file_record, file_sha256, restamped, verified_record
from textsel.errors import ConfigError, DataError, NotAProjectError, StoreError, TextselError, check_param
from textsel.features import take_rows
from textsel.project_config import (
    CONFIG_NAME,
    DB_NAME,
    DEFAULT_LABELS,
    DEFAULT_MODEL,
    LOCK_NAME,
    ProjectConfig,
)
from textsel.store import Store

SAVED_LEARNERS = ("logistic", "transformer")  # learners a project can train, save (no pickle) and load
_FEATURE_INPUTS = frozenset({"features", "labeled_features"})  # strategy inputs read from the embeddings
T = TypeVar("T")

if TYPE_CHECKING:
    from textsel.rounds import SelectionResult
    from textsel.status import ProjectStatus

@dataclass(frozen=True)
class Hit:
    """One search result: the id as users know it (integer or string id), similarity (or number of keyword
    matches), text and current label."""

    doc_id: int | str
    score: float
    text: str
    label: str | None


@dataclass(frozen=True)
class Relabel:
    """A label that replaced a different current label of the same text (the old one stays in the history)."""

    doc_id: int | str
    old: str
    new: str


@dataclass(frozen=True)
class ImportReport:
    """What ``import_labels`` recorded, passed over and replaced."""

    imported: int
    unlabeled: int  # rows or tasks without a label, passed over
    relabeled: list[Relabel]  # labels that replaced a different current label
    newer: list[int | str]  # ids whose current label was made after the file's label
    kept_newer: bool  # True: those were left as they are; False: they were replaced too
    format: str


@dataclass(frozen=True)
class TrainedModel:
    """A learner fitted on the project's labels, with what it was trained on."""

    learner: object
    classes: list[str]
    n_labels: int
    label_rows: int
    train_seconds: float
    estimated_prevalence: float | None
    embeddings: dict | None = None  # what it was trained on: embedding model, pool fingerprint, dimension
    learner_name: str = "logistic"  # the name in textsel.learner.LEARNERS
    parameters: dict | None = None  # the learner's constructor parameters, to retrain it alike


class _ExcludingCandidates:
    """A candidate pool minus documents an earlier round already selected, so no text is selected twice, and minus
    documents removed from the corpus: a full scan or random draw never sees them, and SEALS candidates (from the
    index, its neighbour table or the saved state) that name them are dropped."""

    def __init__(self, inner, excluded: np.ndarray, removed: np.ndarray) -> None:  # noqa: ANN001 - a candidate pool
        self.inner = inner
        self.removed = np.asarray(removed, dtype=np.int64)
        self.excluded = np.union1d(np.asarray(excluded, dtype=np.int64), self.removed)
        self.size = 0

    def update(self, labeled_ids: np.ndarray) -> None:
        self.inner.update(labeled_ids)

    def candidates(self, pool_ids: np.ndarray, labeled_ids: np.ndarray) -> np.ndarray:
        if len(self.removed):
            pool_ids = np.asarray(pool_ids)[~np.isin(pool_ids, self.removed)]
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

    _query_embedder = None  # the embedder search() loads on its first query and keeps (set per instance)

    def __init__(self, directory: str | Path = ".", *, show_progress: bool = False) -> None:
        self.directory = Path(directory)
        self.show_progress = show_progress
        config_path = self.directory / CONFIG_NAME
        if not config_path.exists():
            raise NotAProjectError(f"{self.directory.resolve()} is not a textsel project (no {CONFIG_NAME}); "
                                   f"create a project there first")
        self.config = ProjectConfig.from_toml(config_path)
        self.cache_dir = self.directory / "cache"
        if not (self.directory / DB_NAME).exists():
            raise StoreError(f"{self.directory.resolve()} has {CONFIG_NAME} but no project database ({DB_NAME}, which "
                             f"holds the labels); restore it from a backup")
        self.store = Store(self.directory / DB_NAME)
        self.corpus_store = self.store  # removals belong to the corpus: a concept's view (own store) keeps this one
        self._embeddings: np.ndarray | None = None
        self._static_vectors: np.ndarray | None = None
        self._on_demand = None  # transformer_features(), kept for the rounds of this process
        self._index = None
        self._last_ray_scores = None  # (learner, probabilities of every pool row) of the last Ray scan
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
        self._forget_on_demand()
        self.store.close()

    def _forget_on_demand(self) -> None:
        """Drop the on-demand transformer features (their vectors stay in the per-text cache) and close its file."""
        if self._on_demand is not None:
            self._on_demand.encoder.cache.close()
            self._on_demand = None

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
        removed = np.intersect1d(clash, self.removed_ids())
        if len(removed):  # its text is still in the pool, only marked removed: adding it again would hold it twice
            raise DataError(f"id {int(removed[0])} was removed from the project, not deleted from it; restore it "
                            f"instead of adding it again", file=str(path), column=self.config.id_col or "id")
        if len(clash):
            raise DataError(f"id {int(clash[0])} is already in the project ({len(clash)} ids are)", file=str(path),
                            column=self.config.id_col or "id")
        old_key = self._index_key()
        combined = Pool.concat([old, new])
        self.store.set_meta("added_files", [*self._added_files(), {**entry, "stat": _data_file_stat(source)}])
        _record_pool(self.store, combined, self.config.source)
        self.__dict__["pool"] = combined
        self.__dict__.pop("ids", None)
        self.__dict__.pop("_neighbour_table", None)
        _record_pool_cache(self.store, combined, self.cache_dir, self.config)
        self._embeddings = self._static_vectors = self._index = None
        self._forget_on_demand()
        vectors = self._index_vectors()
        if old_key is not None and self.store.get_meta(self._index_meta) == old_key:
            self._grow_index(old_key["sha256"], new.ids, vectors[len(old):])
        return len(new)

    def _grow_index(self, old_sha256: str, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add ``vectors`` under ``ids`` to the saved index (built over the vectors ``old_sha256``) and save it as
        the index of the current embeddings."""
        from textsel.index import load_index

        key = self._index_key()
        with cache_lock(self.cache_dir / "index.build.lock", f"the index {self.index_path}"):
            index = load_index(self.index_path, vectors_sha256=old_sha256)
            index.add(np.asarray(vectors, dtype=np.float32), ids)
            index.save(self.index_path, vectors_sha256=key["sha256"])
            self.store.set_meta(self._index_meta, key)
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

        return Embedder(self.config.model, max_seq_length=self.config.max_seq_length, dtype=self.config.dtype,
                        device=self.config.device)

    # -- the static first pass ([embeddings] first_pass = "static", see textsel.first_pass) --------------------

    @property
    def is_static(self) -> bool:
        """True when the project selects with the static first pass: the pool is embedded with static vectors
        (its index is over those), and only labeled texts and candidates get the transformer embedding."""
        return self.config.first_pass == "static"

    def static_embedder(self):  # noqa: ANN201 - textsel.static.StaticEmbedder
        """The static (model2vec) embedder distilled from the project's model (distilled once, cached per machine)."""
        from textsel.static import StaticEmbedder

        return StaticEmbedder(self.config.model)

    def static_vectors(self) -> np.ndarray:
        """Row-aligned static vectors of the pool (the first pass's space), cached in ``cache/static-embeddings``
        like the embeddings: the store records what they were built from (model, static model, pool fingerprint,
        rows, dim, sha256 of the file), and a file whose bytes changed since is a DataError naming the fix."""
        if self._static_vectors is not None:
            return self._static_vectors
        recorded = self.store.get_meta("static_embeddings")
        vectors = self._recorded_embeddings(recorded, "static_embeddings_file")
        if vectors is None:
            from textsel.embed import embed_pool_with_record

            pool = self.pool
            vectors, cache = embed_pool_with_record(pool, self.static_embedder(), cache_dir=self.static_cache_dir,
                                                    show_progress=self.show_progress)
            key = {"model": self.config.model, "static_model": cache["model_name"], "fingerprint": pool.fingerprint(),
                   "rows": len(pool), "dim": int(vectors.shape[1]), "sha256": cache["file"]["sha256"]}
            if recorded != key:
                self.store.set_meta("static_embeddings", key)
            path = self._embedding_cache_file(cache["file"], self.static_cache_dir)
            self.store.set_meta("static_embeddings_file", None if path is None else
                                {"path": path, "file": cache["file"], "sha256": key["sha256"]})
        self._static_vectors = vectors
        return vectors

    @property
    def static_cache_dir(self) -> Path:
        return self.cache_dir / "static-embeddings"

    def transformer_features(self):  # noqa: ANN201 - textsel.static.EmbeddedOnDemand
        """Transformer rows of the pool embedded when first read, through the per-text cache shared by every
        project here (:mod:`textsel.text_cache`): the learner's features in a static first-pass project. Kept for
        the process, so later rounds (a continuous labeling session) read rows embedded before from memory."""
        from textsel.static import EmbeddedOnDemand
        from textsel.text_cache import CachedEncoder

        if self._on_demand is None:
            self._on_demand = EmbeddedOnDemand(self.pool.texts, CachedEncoder(self.embedder()))
        return self._on_demand

    def refuse_static(self, what: str, instead: str) -> None:
        """Raise ConfigError in a static first-pass project: ``what`` needs the transformer embedding of every text,
        the cost the first pass avoids; ``instead`` says what to do."""
        if self.is_static:
            raise ConfigError(f"{what} needs the transformer embedding of every text, which this project's static "
                              f"first pass does not make (only labeled texts and candidates get one); {instead}")

    def _index_vectors(self) -> np.ndarray:
        """The vectors the project's kNN index is built over: the static vectors or the embeddings."""
        return self.static_vectors() if self.is_static else self.embeddings()

    @property
    def _index_meta(self) -> str:
        """The store key recording which vectors and backend the saved index was built from."""
        return "static_index" if self.is_static else "index"

    def _index_key(self) -> dict | None:
        """What the saved index must have been built from now: the recorded vectors and the backend (None when no
        vectors are recorded yet)."""
        recorded = self.store.get_meta("static_embeddings" if self.is_static else "embeddings")
        return {**recorded, "backend": self.config.backend} if recorded else None

    def _saved_index_current(self) -> bool:
        """Whether a saved index file exists and was built from the current vectors and backend."""
        key = self._index_key()
        return bool(key) and self.store.get_meta(self._index_meta) == key and Path(
            str(self.index_path) + ".json").exists()

    def embeddings(self) -> np.ndarray:
        """Row-aligned float32 embeddings of the pool: precomputed, cached, or computed now (resumable).

        The store records what they are (model, pool fingerprint, rows, dim, sha256 of the vectors' file); a cache
        or precomputed file whose bytes changed since is a DataError instead of silently different vectors. A static
        first-pass project has none (ConfigError): its index is over :meth:`static_vectors`.
        """
        if self._embeddings is not None:
            return self._embeddings
        self.refuse_static("reading the pool's embeddings", "remove first_pass from [embeddings] in textsel.toml to "
                           "embed the whole pool")
        config = self.config
        recorded = self.store.get_meta("embeddings")
        if recorded and recorded["model"] != config.model:
            raise ConfigError(f"the model {config.model!r} in {CONFIG_NAME} does not match the cached embeddings, "
                              f"made with {recorded['model']!r}; restore the model name or rebuild the embeddings")
        vectors = self._recorded_embeddings(recorded, "embeddings_file")
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
            file = {"path": self._embedding_cache_file(cache["file"], self.cache_dir / "embeddings"),
                    "file": cache["file"]}
        key = {"model": config.model, "fingerprint": pool.fingerprint(), "rows": len(pool),
               "dim": int(vectors.shape[1]), "sha256": sha256}
        if recorded != key:
            self.store.set_meta("embeddings", key)
        self.store.set_meta("embeddings_file", None if file["path"] is None else {**file, "sha256": sha256})
        self._embeddings = vectors
        return vectors

    @staticmethod
    def _embedding_cache_file(record: dict, folder: Path) -> str | None:
        """The path of the embedding cache file under ``folder`` that ``record`` (size, mtime, sha256) describes."""
        for path in sorted(folder.glob("embeddings-*/embeddings.npy")):
            if (path.stat().st_size, path.stat().st_mtime_ns) == (record.get("size"), record.get("mtime_ns")):
                return str(path)
        return None

    def _recorded_embeddings(self, recorded: dict | None, file_meta: str) -> np.ndarray | None:
        """The vectors as a read-only memory map of the file they were last verified in (the store's ``file_meta``),
        without loading the pool, converting them or re-checking every row; None when anything could have changed
        since (the data file, the vectors file's size, mtime or checksum, the config), so the caller takes the full
        path with its checks."""
        saved, pool = self.store.get_meta(file_meta), self.store.get_meta("pool") or {}
        if self._pool_unverified or not recorded or not saved or saved.get("sha256") != recorded.get("sha256"):
            return None
        if recorded.get("fingerprint") != pool.get("fingerprint") or recorded.get("rows") != pool.get("rows"):
            return None  # the pool changed (texts were added) since these vectors were made
        if recorded.get("model") != self.config.model:
            return None
        if self.config.precomputed and saved["path"] != self.config.precomputed:
            return None
        try:
            current = verified_record(saved["path"], saved["file"])
            if current is None:
                return None
            if current != saved["file"]:  # same bytes, new mtime (a copied file): check by stat from now on
                self.store.set_meta(file_meta, {**saved, "file": current})
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
        clear_embedding_cache(self.static_cache_dir)
        for key in ("embeddings", "embeddings_file", "index", "precomputed_file", "static_embeddings",
                    "static_embeddings_file", "static_index"):
            self.store.set_meta(key, None)
        self._embeddings = self._static_vectors = self._index = None

    @property
    def index_path(self) -> Path:
        """The saved kNN index: ``index.<backend>``, or ``index-static.<backend>`` over a static first pass."""
        return self.cache_dir / f"index{'-static' if self.is_static else ''}.{self.config.backend}"

    def index(self, *, rebuild: bool = False):  # noqa: ANN201 - textsel.index.VectorIndex
        """The kNN index over the embeddings (the static vectors in a static first-pass project): loaded from the
        cache after verifying its checksums, or built now when missing, stale (other vectors or backend) or
        ``rebuild`` is true. One process builds at a time."""
        from textsel.index import build_index, load_index

        if self._index is not None and not rebuild:
            return self._index
        vectors = self._index_vectors()
        key = self._index_key()
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with cache_lock(self.cache_dir / "index.build.lock", f"the index {self.index_path}"):
            if not rebuild and self._saved_index_current():
                index = load_index(self.index_path, vectors_sha256=key["sha256"])
                self._sync_deletions(index)
            else:
                index = build_index(vectors, self.ids, backend=self.config.backend,
                                    show_progress=self.show_progress)
                index.mark_deleted(self.removed_ids())
                index.save(self.index_path, vectors_sha256=key["sha256"])
                self.store.set_meta(self._index_meta, key)
                self.__dict__.pop("_neighbour_table", None)  # computed from the old index
        self._index = index
        return index

    def _sync_deletions(self, index) -> None:  # noqa: ANN001 - a loaded textsel.index.VectorIndex
        """Make the saved index's deletion marks the store's removals (a removal or restore cut short before its
        index write is finished here) and save it in place when they differed. Call holding the index build lock."""
        removed = self.removed_ids()
        marked, unmarked = index.mark_deleted(removed), index.unmark_deleted(np.setdiff1d(index.deleted_ids, removed))
        if len(marked) or len(unmarked):
            index.save(self.index_path, vectors_sha256=self._index_key()["sha256"], keep_digest=True)

    # -- removals --------------------------------------------------------------------------------------------

    def removed_ids(self) -> np.ndarray:
        """Sorted ids (internal) of documents removed from the corpus: never selected, audited, estimated over or
        predicted again; their labels stay (kept, exported, and used for training)."""
        return np.asarray(sorted(self.corpus_store.removed_ids()), dtype=np.int64)

    def remove_documents(self, ids: Sequence[int | str], *, reason: str | None = None) -> list[int]:
        """Remove documents (ids as users know them) from the corpus; return the internal ids not removed before.

        Every id is checked first (an unknown one raises DataError, nothing written). The removal is recorded in
        the store in one transaction, then marked in the saved index with its deletion marks (no rebuild; the index
        file is rewritten atomically under the cache lock). The data files are not touched and labels are never
        deleted: a removed document's labels stay in the store, in exports, and among the training labels. It is
        never selected (any candidate pool), audited, counted in the estimates' population or predicted again, and
        stops being pending in the batch that selected it.
        """
        internal = self.resolve_ids(ids)
        return self._change_removals(lambda: self.corpus_store.add_removals(internal, reason=reason))

    def restore_documents(self, ids: Sequence[int | str]) -> list[int]:
        """Undo ``remove_documents`` for ``ids`` (checked first; ids not removed raise DataError, nothing written):
        they can be selected again and the index searches them again. Return their internal ids."""
        internal = self.resolve_ids(ids)
        removed = self.corpus_store.removed_ids()
        missing = [value for value, doc_id in zip(ids, internal, strict=True) if doc_id not in removed]
        if missing:
            raise DataError(f"id {missing[0]} is not removed, so there is nothing to restore ({len(missing)} ids "
                            f"are not)")
        def write() -> None:
            self.corpus_store.delete_removals(internal)
            self.corpus_store.set_meta("restores", int(self.corpus_store.get_meta("restores", 0)) + 1)  # see below

        self._change_removals(write)  # the SEALS states dropped restored texts: "restores" in their source
        return internal

    def _change_removals(self, write: Callable[[], T]) -> T:
        """Run ``write`` (the store's change of removals) and bring the saved index's deletion marks in line with
        it, holding the index lock. A current saved index is loaded and verified before ``write``, so a damaged one
        fails with nothing written; one built later marks the removals as it is built."""
        if not self._saved_index_current():
            return write()
        from textsel.index import load_index

        with cache_lock(self.cache_dir / "index.build.lock", f"the index {self.index_path}"):
            index = self._index if self._index is not None else load_index(
                self.index_path, vectors_sha256=self._index_key()["sha256"])
            result = write()
            self._sync_deletions(index)
        self._index = index
        return result

    def _auto_k(self, n_docs: int) -> int:
        """k of the "auto" candidate pool: :func:`textsel.candidates.auto_k`, or the wider
        :func:`textsel.first_pass.static_k` (3x) over a static first pass, whose neighbourhoods hold fewer positives."""
        if self.is_static:
            from textsel.first_pass import static_k

            return static_k(n_docs)
        from textsel.candidates import auto_k

        return auto_k(n_docs)

    @property
    def neighbour_table_path(self) -> Path:
        return self.cache_dir / "neighbours.npy"

    def neighbour_table(self, *, build: bool = False):  # noqa: ANN201 - textsel.index.NeighbourTable or None
        """The saved table of every document's nearest neighbours (SEALS reads rows of it instead of loading the
        index), or None when there is none matching the current index. ``build`` computes and saves it first
        (k = the larger of the config's k and the automatic k; a one-time cost like the index)."""
        from textsel.index import build_neighbour_table, load_neighbour_table, save_neighbour_table, saved_index_digest

        if hasattr(self, "_neighbour_table") and not build:
            return self._neighbour_table
        table = None
        if build or self._saved_index_current():
            if build:
                index = self.index()
                k = max(self.config.k, self._auto_k(len(index)))
                what = f"the neighbour table {self.neighbour_table_path}"
                with cache_lock(self.cache_dir / "index.build.lock", what):
                    built = build_neighbour_table(index, k, show_progress=self.show_progress)
                    record = save_neighbour_table(self.neighbour_table_path, built,
                                                  index_digest=saved_index_digest(self.index_path))
                    self.store.set_meta("neighbour_table", record)
            record = self.store.get_meta("neighbour_table")
            table = load_neighbour_table(self.neighbour_table_path, record, index_digest=saved_index_digest(
                self.index_path))
            if table is not None:  # its files were verified: remember their stat (new after a copy)
                files = {name: restamped(file, self.cache_dir / name) for name, file in record["files"].items()}
                if files != record["files"]:
                    self.store.set_meta("neighbour_table", {**record, "files": files})
        self._neighbour_table = table
        return table

    # -- labels ----------------------------------------------------------------------------------------------

    def check_labels(self, labels: Sequence[str]) -> None:
        """Raise DataError naming the first label that is not one of the project's classes."""
        for label in labels:
            if label not in self.config.labels:
                raise DataError(f"unknown label {label!r}; this project's labels are {', '.join(self.config.labels)}")

    def resolve_ids(self, values: Sequence[int | str]) -> list[int]:
        """Internal ids of ids as users type or import them (integers, or the pool's string ids as given).

        Raises DataError naming the first id that is malformed or not in the pool.
        """
        if self._integer_ids_without_loading():
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

    def _integer_ids_without_loading(self) -> bool:
        """True when the pool is not loaded and its valid cache says its ids are integers (so ids map to
        themselves and nothing needs the texts)."""
        if "pool" in self.__dict__ or self._pool_unverified:
            return False
        record = self._pool_cache_record()
        return bool(record) and record.get("string_ids") is False

    def external_ids(self, doc_ids: Sequence[int] | np.ndarray) -> list[int | str]:
        """The ids users know (string ids as given, else the integers) of internal ``doc_ids``."""
        if self._integer_ids_without_loading():
            return [int(doc_id) for doc_id in doc_ids]
        return self.pool.external(doc_ids)

    def remember_keys(self, doc_ids: Sequence[int]) -> None:
        """Record the string ids of internal ``doc_ids`` in the store (nothing for a pool with integer ids)."""
        if self._integer_ids_without_loading():
            return
        if self.pool.has_string_ids and len(doc_ids):
            self.store.remember_keys(dict(zip(map(int, doc_ids), self.external_ids(doc_ids), strict=True)))

    def add_labels(self, doc_ids: Sequence[int | str], labels: Sequence[str], *, source: str,
                   round_id: int | None = None) -> list[Relabel]:
        """Validate every id (as users know it) and label, then record them all in one transaction.

        Returns the labels that replaced a different current label, so a caller can say what changed.
        """
        self.check_labels(labels)
        internal = self.resolve_ids(doc_ids)
        replaced = self._relabels(internal, labels)
        self.remember_keys(internal)
        self.store.add_labels(internal, list(labels), source=source, round_id=round_id)
        return replaced

    def _relabels(self, doc_ids: Sequence[int], labels: Sequence[str]) -> list[Relabel]:
        current = self.store.current_labels()
        changed = [(doc_id, label) for doc_id, label in zip(doc_ids, labels, strict=True)
                   if current.get(doc_id, label) != label]
        shown = self.external_ids([doc_id for doc_id, _ in changed])
        return [Relabel(name, current[doc_id], label) for name, (doc_id, label) in zip(shown, changed, strict=True)]

    def import_labels(self, path: str | Path, *, format: str | None = None, keep_newer: bool = False
                      ) -> ImportReport:
        """Read a label file whole (textsel's csv/jsonl/hf exports, an ``id,label`` CSV, a Label Studio JSON
        export), validate every row, then record the labels in one transaction.

        A label in the project made after the file's label for the same text (by the annotation's time, else the
        file's modification time) is replaced, or kept when ``keep_newer``; either way the report names them.
        """
        from textsel.importing import read_labels

        path = Path(path)
        read = read_labels(path, self.pool, self.config.labels, format=format)
        current = self.store.current_labels_with_times()
        newer = [position for position, (doc_id, label, when) in enumerate(
                 zip(read.doc_ids, read.labels, read.labeled_at, strict=True))
                 if doc_id in current and current[doc_id][0] != label and current[doc_id][1] > when]
        skipped = set(newer) if keep_newer else set()
        keep = [position for position in range(len(read.doc_ids)) if position not in skipped]
        doc_ids = [read.doc_ids[position] for position in keep]
        labels = [read.labels[position] for position in keep]
        relabeled = self._relabels(doc_ids, labels)
        if doc_ids:
            self.remember_keys(doc_ids)
            self.store.add_labels(doc_ids, labels, source=f"import:{path.name}")
        return ImportReport(len(doc_ids), read.unlabeled, relabeled,
                            self.external_ids([read.doc_ids[position] for position in newer]), keep_newer,
                            read.format)

    def labeled(self) -> tuple[np.ndarray, np.ndarray]:
        """(doc ids, labels) of every labeled document, latest label per document."""
        current = self.store.current_labels()
        return np.fromiter(current.keys(), dtype=np.int64, count=len(current)), np.asarray(
            list(current.values()), dtype=object)

    def diagnose(self):  # noqa: ANN201 - textsel.diagnose.Diagnosis
        """Does the embedding capture the positive class? The labeled positives (those of audit samples once there
        are enough) against a random sample of the pool (textsel.diagnose). Over a static first pass this measures
        the static space, with advice about the first pass when it does not cluster the class
        (:func:`textsel.diagnose.diagnose_static_space`)."""
        from textsel.diagnose import diagnose, diagnose_static_space

        doc_ids, labels = self.labeled()
        measure = diagnose_static_space if self.is_static else diagnose
        return measure(self.index(), doc_ids, labels == self.config.positive, random_ids=self._audited_ids())

    def _audited_ids(self) -> np.ndarray:
        """Ids drawn by audit rounds (uniformly at random from the unlabeled texts)."""
        return np.asarray([doc_id for record in self.store.rounds() if record.strategy == "audit"
                           for doc_id in record.doc_ids], dtype=np.int64)

    def compare_features(self, *, seed: int = 0):  # noqa: ANN201 - textsel.diagnose.FeatureComparison
        """Dense vs lexical vs hybrid features on the labels so far, cross-validated against a random sample of the
        pool (on audit positives once there are enough), and the kind to use (:func:`textsel.diagnose.
        compare_features`). Builds the pool's TF-IDF once (cached) when the project does not use it yet."""
        from textsel.diagnose import compare_features
        from textsel.features import FEATURES, classifier_matrix, lexical_matrix

        if self.is_static:
            self.refuse_static("comparing features (the TF-IDF and embeddings of every text)", "textsel diagnose")
        doc_ids, labels = self.labeled()
        lexical = lexical_matrix(self.cache_dir, lambda: self.pool.texts, source=self.store.get_meta("pool"))
        matrices = {kind: classifier_matrix(kind, dense=self.embeddings(), lexical=lambda: lexical)
                    for kind in FEATURES}
        audited = self._audited_ids()
        return compare_features(matrices, self.positions(doc_ids), labels == self.config.positive,
                                pool_size=len(self.ids), random_positions=self.positions(audited[np.isin(
                                    audited, doc_ids)]), current=self.config.features, seed=seed)

    def status(self, *, target_recall: float = 0.95, confidence: float = 0.95) -> ProjectStatus:
        """Labels per class, rounds and their yields, and from audit samples: positives remaining, prevalence,
        recall so far, and whether the stopping rule for ``target_recall`` at ``confidence`` says stop."""
        from textsel.status import project_status

        return project_status(self, target_recall=target_recall, confidence=confidence)

    def audit_batch(self, n: int = 20, *, seed: int | None = None,
                    discard_pending: bool = False) -> tuple[int, np.ndarray]:
        """Draw ``n`` texts uniformly at random from every unlabeled text and record them as an "audit" round.

        Audit samples are what the estimates of positives remaining, prevalence and recall, and the stopping rule,
        rest on (textsel.estimate). Without ``seed`` a fresh one is drawn, so repeated audits are independent;
        the seed and the number of unlabeled texts drawn from are recorded with the round. Returns (round id, ids).
        Like ``next_batch``, it raises StoreError while the latest round still has texts to label, unless
        ``discard_pending`` (those texts are then recorded as discarded).
        """
        import time

        from textsel.errors import PoolExhaustedError

        check_param("Project.audit_batch", "n", n, isinstance(n, int) and n >= 1, "an int >= 1")
        check_param("Project.audit_batch", "seed", seed, seed is None or isinstance(seed, int) and seed >= 0,
                    "None or an int >= 0")
        pending_round, pending = self.store.pending()
        if pending and not discard_pending:
            raise StoreError(f"round {pending_round} still has {len(pending)} texts to label; label them first, "
                             f"or discard them to draw an audit sample")
        start = time.perf_counter()
        labeled = np.fromiter(self.store.current_labels(), dtype=np.int64)
        unlabeled = self.ids[~np.isin(self.ids, np.union1d(labeled, self.removed_ids()))]  # removed: not drawn
        if not len(unlabeled):
            raise PoolExhaustedError("every text is labeled: there is nothing left to audit")
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % 2**31)
        chosen = np.random.default_rng(seed).choice(unlabeled, min(n, len(unlabeled)), replace=False)
        params = {"n": n, "sampling": "uniform without replacement",
                  "population": "every unlabeled text not removed from the corpus",
                  "unlabeled": int(len(unlabeled))}
        if pending:
            self.store.discard_pending()
        round_id = self.store.add_round(strategy="audit", params=params, seed=seed, doc_ids=chosen.tolist(),
                                        scores=None, pool_size=len(self.ids), candidate_pool_size=len(unlabeled),
                                        select_seconds=time.perf_counter() - start, train_seconds=0.0)
        return round_id, chosen

    def texts(self, doc_ids: Sequence[int]) -> list[str]:
        """The texts of ``doc_ids``: read from the pool cache when it is valid (only those rows), else the pool."""
        from textsel.data._pool_cache import read_pool_texts

        positions = self.positions(doc_ids)
        if "pool" not in self.__dict__ and not self._pool_unverified:
            texts = read_pool_texts(self.cache_dir, self._pool_cache_record(), positions)
            if texts is not None:
                self._restamp_pool_cache(("offsets", "texts"))
                return texts
        return [self.pool.texts[i] for i in positions]

    # -- seeding ---------------------------------------------------------------------------------------------

    def search(self, query: str, n: int = 20) -> list[Hit]:
        """The ``n`` texts nearest to ``query`` through the index, with their current labels.

        The embedding model is loaded on the first query and kept, so a prompt of many queries loads it once. Over a
        static first pass the query is embedded with the static model and searched in the static index.
        """
        check_param("Project.search", "n", n, isinstance(n, int) and n >= 1, "an int >= 1")
        vectors = self._index_vectors()
        if self._query_embedder is None:
            self._query_embedder = self.static_embedder() if self.is_static else self.embedder()
        query_vector = np.asarray(self._query_embedder.encode([query]), dtype=np.float32).reshape(1, -1)
        if query_vector.shape[1] != vectors.shape[1]:
            raise ConfigError(f"the model {self.config.model!r} makes {query_vector.shape[1]}-dimensional vectors "
                              f"but the project's embeddings have {vectors.shape[1]} dimensions; set the model "
                              f"that made them in {CONFIG_NAME}")
        ids, sims = self.index().search(query_vector, min(n, len(self.ids)))
        found = ids[0][ids[0] >= 0]
        return self._hits(found, sims[0][ids[0] >= 0])

    def _hits(self, doc_ids: np.ndarray, scores: Sequence[float]) -> list[Hit]:
        labels = self.store.current_labels()
        return [Hit(name, float(score), text, labels.get(int(doc_id)))
                for doc_id, name, score, text in zip(doc_ids, self.external_ids(doc_ids), scores,
                                                     self.texts(doc_ids), strict=True)]

    def find_texts(self, pattern: str, *, regex: bool = False, n: int = 20, ignore_case: bool = True
                   ) -> tuple[list[Hit], int]:
        """Texts containing a keyword (or matching a regular expression), for seeding where the embedding does not
        help; return (the ``n`` with most matches, pool order breaking ties; how many texts match in all).

        A Hit's score is the number of matches in the text; texts removed from the corpus are left out. A malformed
        regular expression raises DataError.
        """
        import re

        check_param("Project.find_texts", "n", n, isinstance(n, int) and n >= 1, "an int >= 1")
        if not pattern:
            raise DataError("the search pattern is empty")
        try:
            compiled = re.compile(pattern if regex else re.escape(pattern), re.IGNORECASE if ignore_case else 0)
        except re.error as error:
            raise DataError(f"{pattern!r} is not a valid regular expression: {error}") from error
        counts = np.fromiter((len(compiled.findall(text)) for text in self.pool.texts), dtype=np.int64,
                             count=len(self.pool))
        counts[np.isin(self.pool.ids, self.removed_ids())] = 0  # removed texts are not found, as by the index
        matching = np.flatnonzero(counts)
        best = matching[np.argsort(-counts[matching], kind="stable")[:n]]
        return self._hits(self.pool.ids[best], counts[best].astype(float).tolist()), len(matching)

    # -- rounds and the model --------------------------------------------------------------------------------

    @staticmethod
    def check_round_params(n: int, strategy: str | None, candidate_pool: str, learner: str = "logistic") -> None:
        """Raise ConfigError for a batch size, strategy, candidate pool or learner a round cannot use (before any
        work)."""
        from textsel.candidates import POOL_CHOICES
        from textsel.learner import learner_spec
        from textsel.strategies import get_strategy

        check_param("Project.next_batch", "n", n, isinstance(n, int) and not isinstance(n, bool) and n >= 1,
                    "an int >= 1")
        if strategy is not None:  # None: the project's goal picks it (textsel.rounds.strategy_for_goal)
            get_strategy(strategy)
        check_param("Project.next_batch", "candidate_pool", candidate_pool, candidate_pool in POOL_CHOICES,
                    f"one of {POOL_CHOICES}")
        learner_spec(learner)

    def next_batch(self, n: int = 20, *, strategy: str | None = None, candidate_pool: str = "auto",
                   seed: int = 0, discard_pending: bool = False, learner: str = "logistic",
                   engine: str = "local", address: str | None = None,
                   workers: int | None = None) -> tuple[int, SelectionResult]:
        """Select the next ``n`` texts with the round engine and record the round; return (round id, result).

        ``learner`` names the model that scores the candidates (see :data:`textsel.learner.LEARNERS`): the
        default logistic regression on the embeddings, or e.g. the fastText proxy on the texts, which is
        Selection via Proxy's selector. The round records the strategy under its canonical name. ``strategy``
        None takes the default of the project's goal (``[rounds] goal``, :func:`textsel.rounds.strategy_for_goal`);
        the strategy and why are recorded and kept in ``last_strategy``. The learner reads the project's
        ``[features] kind`` (:meth:`classifier_features`); SEALS candidates always come from the dense index.

        ``candidate_pool`` "auto" picks the full scan or SEALS, whichever the cost model predicts cheaper, and k
        from the pool size (:func:`textsel.candidates.choose_pool`); the choice and its reason are recorded in the
        round's params. The SEALS pool is kept in the project between rounds (:mod:`textsel.candidate_state`).

        While the latest round still has texts to label this raises StoreError, unless ``discard_pending``: then
        those texts are recorded as discarded (after the new batch is selected, so a failed selection changes
        nothing). A new round never selects a text an earlier round selected (labeled, skipped, discarded or
        pending), so each text appears in at most one round.

        ``engine`` "ray" scores a full scan (the "all" pool) on Ray Data (:func:`textsel.score_ray.score_pool_ray`;
        ``address`` and ``workers`` as there); a SEALS pool is small and is always scored here.

        In a static first-pass project (:attr:`is_static`) the SEALS candidates come from the static index ("auto":
        k = :func:`textsel.first_pass.static_k`, three times the automatic k; "seals": the config's k) and the
        learner reads transformer vectors of the labeled texts and candidates only, embedded on demand through the
        per-text cache. The "all" pool and density strategies are refused (ConfigError).
        """
        from textsel.candidates import make_candidate_pool
        from textsel.learner import learner_spec
        from textsel.rounds import select_batch, strategy_for_goal
        from textsel.score_ray import check_engine
        from textsel.strategies import get_strategy

        self.check_round_params(n, strategy, candidate_pool, learner)
        strategy, strategy_reason = strategy_for_goal(self.config.goal, strategy)
        check_engine("Project.next_batch", engine, address, workers)
        needs, reads = get_strategy(strategy).needs, learner_spec(learner).input
        if self.is_static:
            self._check_static_round(strategy, candidate_pool)
        pending_round, pending = self.store.pending()
        if pending and not discard_pending:
            raise StoreError(f"round {pending_round} still has {len(pending)} texts to label; label them first, "
                             f"or discard them to select a new batch")
        features = self._learner_features() if reads == "embeddings" or "density" in needs or \
            needs & _FEATURE_INPUTS else None
        labels = self.store.current_labels()
        labeled_ids = np.fromiter(labels.keys(), dtype=np.int64, count=len(labels))
        choice = self.choose_candidate_pool(candidate_pool, labeled_ids)
        table = self.neighbour_table() if choice.name == "seals" and "density" not in needs else None
        if table is not None and table.k < choice.k:
            table = None
        index = self.index() if (choice.name == "seals" and table is None) or "density" in needs else None
        state = None
        if choice.name == "seals":
            inner, state = self._seals_candidates(table if table is not None else index, choice.k, labeled_ids)
        else:
            inner = make_candidate_pool(choice.name, k=choice.k, seed=seed)
        selected_before = np.fromiter(self.store.selected_ids(), dtype=np.int64)
        removed = self.removed_ids()
        pool = _ExcludingCandidates(inner, selected_before, removed)
        result = select_batch(self.ids, features, labels, pool, strategy=strategy, batch_size=n, seed=seed,
                              learner=self._learner(learner, seed), texts=self.pool.texts if reads == "texts" else None,
                              positive_label=self.config.positive, classes=self.config.labels, index=index,
                              scorer=self._ray_scorer(features, reads, address, workers)
                              if engine == "ray" and not self.is_static else None,
                              learner_features=self.classifier_features(reads))
        if state is not None:
            self._save_candidate_state(inner)
        params = {"n": n, "candidate_pool": choice.name, "pool_requested": candidate_pool,
                  "pool_reason": choice.reason, "k": choice.k, "learner": learner, "model": self.config.model,
                  "labels_used": len(labels), "excluded_selected_before": len(selected_before),
                  "excluded_removed": len(removed), "features": self.config.features, "goal": self.config.goal,
                  "strategy_reason": strategy_reason}
        if state is not None:
            params.update(candidate_state=state, neighbour_queries=inner.queried_,
                          neighbours_from="table" if table is not None else "index")
        if self.is_static:
            params.update(first_pass="static", transformer_rows=getattr(features, "embedded_rows", 0),
                          transformer_encoded=getattr(getattr(features, "encoder", None), "encoded_texts", 0))
        if pending:
            self.store.discard_pending()
        round_id = self.store.add_round(
            strategy=get_strategy(strategy).name, params=params, seed=seed, doc_ids=result.ids.tolist(),
            scores=None if result.scores is None else np.asarray(result.scores, dtype=float).tolist(),
            pool_size=len(self.ids), candidate_pool_size=result.candidate_pool_size,
            select_seconds=result.select_seconds, train_seconds=result.train_seconds)
        self.last_pool_choice, self.last_strategy = choice, (get_strategy(strategy).name, strategy_reason)
        return round_id, result

    @staticmethod
    def _learner(name: str, seed: int = 0, **params):  # noqa: ANN205 - a textsel.learner.Learner
        """A registered learner for this project's rounds: seeded, and repeatable where the learner allows it."""
        from textsel.learner import make_learner

        if name != "logistic":
            params.setdefault("seed", seed)
        if name == "fasttext":
            params.setdefault("threads", 1)  # fastText is repeatable only on one thread
        return make_learner(name, **params)

    def classifier_features(self, reads: str = "embeddings"):  # noqa: ANN201 - CSR, HybridRows or None
        """What a learner on feature rows reads when the project's ``[features] kind`` is not dense: the pool's
        TF-IDF matrix (built once and cached, :func:`textsel.features.lexical_matrix`) or it beside the embeddings;
        None for dense features or a learner on texts. Loaded once per process and pool."""
        if reads != "embeddings" or self.config.features == "dense":
            return None
        from textsel.features import classifier_matrix, lexical_matrix

        source = self.store.get_meta("pool")  # rows and fingerprint; `add` changes it, so the matrix is rebuilt
        cached = self.__dict__.get("_classifier_features")
        if cached is None or cached[0] != source:
            matrix = classifier_matrix(self.config.features, dense=self.embeddings(), lexical=lambda: lexical_matrix(
                self.cache_dir, lambda: self.pool.texts, source=source))
            self.__dict__["_classifier_features"] = cached = (source, matrix)
        return cached[1]

    def _learner_features(self):  # noqa: ANN202 - an array, or EmbeddedOnDemand over a static first pass
        """What an embedding learner reads: the embeddings, or over a static first pass the transformer vectors
        embedded on demand (labeled texts and candidates only)."""
        return self.transformer_features() if self.is_static else self.embeddings()

    def _check_static_round(self, strategy: str, candidate_pool: str) -> None:
        """Raise ConfigError for a round a static first pass cannot run without embedding the whole pool."""
        from textsel.strategies import get_strategy

        if "density" in get_strategy(strategy).needs:
            raise ConfigError(f"the {strategy!r} strategy needs density over the whole pool, which the static first "
                              f"pass does not offer (the static and transformer spaces would mix); use a model-based "
                              f"strategy such as entropy")
        if candidate_pool == "all":
            self.refuse_static("the 'all' candidate pool (scoring every text)",
                               "select from the static index's neighbours with the 'auto' or 'seals' pool")

    def choose_candidate_pool(self, requested: str, labeled_ids: np.ndarray):  # noqa: ANN201 - PoolChoice
        """Resolve "auto" (or a pool name) for this project's size, labels and saved SEALS state.

        Over a static first pass "auto" is always SEALS in static space with k = static_k (scanning would need the
        transformer embedding of every text), which needs a labeled text to start from.
        """
        from textsel.candidates import PoolChoice, choose_pool

        if self.is_static and requested == "auto":
            if not len(labeled_ids):
                raise ConfigError("the static first pass selects among the neighbours of labeled texts and nothing "
                                  "is labeled yet; search for a few positives and label them first")
            k = self._auto_k(len(self.ids))
            return PoolChoice("seals", k, f"static first pass: SEALS in static space with k={k} (3x the automatic "
                                          f"k; a scan would need the transformer embedding of every text)")
        record = self.store.get_meta(self._candidate_state_key(self._auto_k(len(self.ids)))) or {}
        known, seen = int(record.get("candidates", 0)), int(record.get("seen", 0))
        return choose_pool(requested, n_docs=len(self.ids), n_labeled=len(labeled_ids),
                           n_new_labels=max(len(labeled_ids) - seen, 0), n_known_candidates=known, k=self.config.k,
                           neighbours="table" if self.neighbour_table() is not None else
                           "loaded" if self._index is not None else "index")

    def candidate_state_path(self, k: int) -> Path:
        """The saved SEALS state for ``k`` (one per k, so rounds with different k do not undo each other's); over a
        static first pass ``candidates.static.k<k>.npz``, never mistaken for a state in transformer space."""
        return self.cache_dir / f"candidates{'.static' if self.is_static else ''}.k{int(k)}.npz"

    def _candidate_state_key(self, k: int) -> str:
        return f"candidate_state{'_static' if self.is_static else ''}_k{int(k)}"

    def _candidate_source(self, k: int) -> dict:
        from textsel.index import saved_index_digest

        source = {"index": saved_index_digest(self.index_path), "k": int(k), "ef": None}
        if self.is_static:
            source["space"] = "static"
        restores = int(self.corpus_store.get_meta("restores", 0))
        return {**source, "restores": restores} if restores else source  # a restored text may be a candidate again

    def _seals_candidates(self, neighbours, k: int, labeled_ids: np.ndarray):  # noqa: ANN001, ANN202
        """The SEALS pool over ``neighbours`` (the index or its NeighbourTable) restored from the project (or empty,
        to be rebuilt from every label in one batched query) and how: "restored", "new" or "rebuilt: <why>"."""
        from textsel.candidate_state import load_candidate_state

        return load_candidate_state(self.candidate_state_path(k), self.store.get_meta(self._candidate_state_key(k)),
                                    neighbours, k=k, ef=None, source=self._candidate_source(k),
                                    labeled_ids=labeled_ids, removed_ids=self.removed_ids())

    def _save_candidate_state(self, pool) -> None:  # noqa: ANN001 - SEALSCandidates
        from textsel.candidate_state import save_candidate_state

        record = save_candidate_state(self.candidate_state_path(pool.k), pool, self._candidate_source(pool.k),
                                      self.removed_ids())
        self.store.set_meta(self._candidate_state_key(pool.k),
                            {**record, "seen": len(pool.seen_), "candidates": len(pool.neighbours_)})

    def _engine(self, learner: str = "logistic", **params):  # noqa: ANN202 - textsel.rounds.RoundEngine
        """A round engine over the whole pool with the named learner, given the embeddings or texts it reads."""
        from textsel.candidates import AllCandidates
        from textsel.learner import learner_spec
        from textsel.rounds import RoundEngine

        reads = learner_spec(learner).input
        return RoundEngine(self.ids, AllCandidates(),
                           features=self._learner_features() if reads == "embeddings" else None,
                           texts=self.pool.texts if reads == "texts" else None,
                           learner=self._learner(learner, **params), positive_label=self.config.positive,
                           classes=self.config.labels, learner_features=self.classifier_features(reads))

    def train(self, target: str = "logistic", *, engine: str = "local", address: str | None = None,
              workers: int | None = None, **params) -> TrainedModel:
        """Fit the named learner on every label, save it, and estimate prevalence as the share predicted positive.

        ``target`` is a learner in :data:`textsel.learner.LEARNERS` that can be saved: "logistic" (the default,
        on the embeddings) or "transformer" (a Hugging Face model fine-tuned on the labeled texts, saved as
        safetensors). Selecting with a cheap learner and training an expensive target on the labels is Selection
        via Proxy. ``params`` go to the learner (e.g. ``epochs=1``). ``engine`` "ray" makes the prevalence
        estimate's pass over the pool on Ray Data (``address`` and ``workers`` as in :meth:`predict`).

        Over a static first pass the logistic model trains on the transformer vectors of the labeled texts only
        (embedded on demand), and no prevalence is estimated (None): that would score every text with it.
        """
        from textsel.learner import learner_spec
        from textsel.score_ray import check_engine

        check_param("Project.train", "target", target, target in SAVED_LEARNERS, f"one of {SAVED_LEARNERS}")
        check_engine("Project.train", engine, address, workers)
        labels = self.store.current_labels()
        label_rows = self.store.label_count()
        rounds = self._engine(target, **params)
        if engine == "ray" and not self.is_static:
            rounds.scorer = self._ray_scorer(rounds.features, learner_spec(target).input, address, workers)
        seconds = rounds.fit(labels)
        classes = [str(name) for name in rounds.learner_.classes_]
        prevalence = None
        if self.config.positive in classes and not self.is_static:
            # Share of the pool the model predicts positive: a rough estimate (balanced class weights and actively
            # chosen labels both bias it); status prefers random rounds when there are any.
            probabilities = rounds.predict_proba(np.flatnonzero(~np.isin(self.ids, self.removed_ids())))
            prevalence = float(np.mean(probabilities.argmax(axis=1) == classes.index(self.config.positive)))
        model = TrainedModel(rounds.learner_, classes, len(labels), label_rows, seconds, prevalence,
                             self._model_source(target), target, self._learner_parameters(rounds.learner_))
        self._save_model(model)
        self.store.set_meta("estimated_prevalence", prevalence)
        return model

    MODEL_FORMAT = 1

    @property
    def model_path(self) -> Path:
        """The saved logistic model's weights: plain arrays (.npz, read without pickle); ``model_info_path``
        describes them. A transformer target is saved to ``cache/model-transformer/`` instead."""
        return self.cache_dir / "model.npz"

    @property
    def model_info_path(self) -> Path:
        return self.cache_dir / "model.json"

    def _weights_path(self, learner: str) -> Path:
        """Where a saved learner's weights live: model.npz, or a folder such as cache/model-transformer/."""
        return self.model_path if learner == "logistic" else self.cache_dir / f"model-{learner}"

    @staticmethod
    def _weights_sha256(path: Path) -> str | None:
        """SHA-256 of a weights file, or of every file's name and SHA-256 in a weights folder; None when missing."""
        if path.is_file():
            return file_sha256(path)
        if not path.is_dir():
            return None
        import hashlib

        listing = [[str(file.relative_to(path)), file_sha256(file)] for file in sorted(path.rglob("*"))
                   if file.is_file()]
        return hashlib.sha256(json.dumps(listing).encode()).hexdigest()

    def _model_source(self, learner: str = "logistic") -> dict:
        """What a saved model must have been trained on to be used now: the embedding model and its vectors, or
        (for a learner on texts) the pool's texts."""
        from textsel.learner import learner_spec

        if learner_spec(learner).input == "texts":
            return {"texts": self.pool.fingerprint()}
        if self.is_static:  # transformer vectors by text (the per-text cache's settings), not a pool file
            from textsel.text_cache import encoder_settings

            return {"model": self.config.model, "first_pass": "static", "vectors": encoder_settings(self.embedder())}
        recorded = self.store.get_meta("embeddings") or {}
        source = {"model": self.config.model, "fingerprint": recorded.get("fingerprint"), "dim": recorded.get("dim")}
        if self.config.features != "dense":  # a model on TF-IDF columns fits only the matrix it was trained on
            source.update(features=self.config.features, pool=self.store.get_meta("pool"))
        return source

    @staticmethod
    def _learner_parameters(learner) -> dict:  # noqa: ANN001 - a fitted learner
        """Its constructor parameters (public attributes without a trailing underscore), to retrain it alike."""
        return {name: value for name, value in vars(learner).items() if not name.startswith("_")
                and not name.endswith("_") and isinstance(value, str | int | float | bool | type(None))}

    def _save_model(self, model: TrainedModel) -> None:
        """Weights (model.npz, or save_pretrained's safetensors), then what they are and were trained on (with the
        weights' SHA-256) to model.json."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        saved_to = self._weights_path(model.learner_name)
        model.learner.save(saved_to)
        info = {"format": self.MODEL_FORMAT, "learner": model.learner_name, "classes": model.classes,
                "parameters": model.parameters,
                "embeddings": model.embeddings, "n_labels": model.n_labels, "label_rows": model.label_rows,
                "train_seconds": model.train_seconds, "estimated_prevalence": model.estimated_prevalence,
                "sha256": self._weights_sha256(saved_to)}
        write_text_atomic(self.model_info_path, json.dumps(info, indent=2) + "\n")

    def saved_model(self) -> TrainedModel | None:
        """The model saved by the last ``train``, verified against its checksum; None when there is none.

        A leftover ``model.pkl`` from older versions is never read (unpickling can run code). A garbled or
        tampered file raises DataError that says to retrain.
        """
        if not self.model_info_path.exists():  # never trained, or a save cut short before its description
            return None
        from textsel.learner import make_learner

        try:
            try:
                info = json.loads(self.model_info_path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
                raise DataError(f"cannot read {self.model_info_path.name}: {error}") from error
            if not isinstance(info, dict) or info.get("format") != self.MODEL_FORMAT:
                raise DataError(f"{self.model_info_path.name} is not a textsel model description")
            name = info.get("learner", "logistic")
            if name not in SAVED_LEARNERS:
                raise DataError(f"{self.model_info_path.name} names an unknown learner {name!r}")
            saved_to = self._weights_path(name)
            digest = self._weights_sha256(saved_to)
            if digest is None or digest != info.get("sha256"):
                raise DataError(f"{saved_to.name} does not match the checksum in {self.model_info_path.name}")
            learner = type(make_learner(name)).load(saved_to)
            classes = [str(label) for label in learner.classes_]
            if classes != info.get("classes"):
                raise DataError(f"the classes in {saved_to.name} differ from {self.model_info_path.name}")
            return TrainedModel(learner, classes, int(info["n_labels"]), int(info["label_rows"]),
                                float(info["train_seconds"]), info.get("estimated_prevalence"), info.get("embeddings"),
                                name, dict(info.get("parameters") or {}))
        except (DataError, KeyError, TypeError, ValueError) as error:
            raise DataError(f"the saved model in {self.cache_dir} is corrupt ({error}); retrain the model to "
                            f"replace it") from error

    def trained_model(self, *, engine: str = "local", address: str | None = None,
                      workers: int | None = None) -> TrainedModel:
        """The saved model, retrained first (the same learner, the same parameters; ``engine`` as in :meth:`train`)
        when labels or the data it was trained on changed since."""
        model = self.saved_model()
        name = model.learner_name if model is not None else "logistic"
        if model is not None and model.label_rows == self.store.label_count():
            if name == "logistic" and not self.is_static:
                self.embeddings()  # records which vectors the model is checked against
            if model.embeddings == self._model_source(name):
                return model
        return self.train(name, engine=engine, address=address, workers=workers,
                          **(model.parameters if model is not None else {}))

    def positive_probabilities(self, doc_ids: Sequence[int]) -> list[float | None]:
        """The trained model's P(positive class) of each document (internal ids); all None before two classes
        are labeled. The model is retrained first when labels changed since it was saved (see trained_model)."""
        try:
            model = self.trained_model()
        except TextselError:  # fewer than two classes labeled: nothing to predict with yet
            return [None] * len(doc_ids)
        if self.config.positive not in model.classes or not len(doc_ids):
            return [None] * len(doc_ids)
        positions = self.pool.positions(np.asarray(doc_ids, dtype=np.int64))
        if getattr(model.learner, "input", "embeddings") == "texts":
            inputs = [self.pool.texts[i] for i in positions]
        else:
            inputs = take_rows(self.classifier_features() if self.config.features != "dense" else
                               self._learner_features(), positions)
        column = model.classes.index(self.config.positive)
        return [float(p) for p in model.learner.predict_proba(inputs)[:, column]]

    def _model_inputs(self, learner, start: int, stop: int):  # noqa: ANN001, ANN202 - a learner; rows it reads
        """Pool rows ``start:stop`` as the learner reads them: embedding rows or texts."""
        if getattr(learner, "input", "embeddings") == "texts":
            return self.pool.texts[start:stop]
        return take_rows(self.classifier_features() if self.config.features != "dense" else self.embeddings(),
                         slice(start, stop))

    def _ray_scorer(self, features: np.ndarray | None, reads: str, address: str | None,
                    workers: int | None):  # noqa: ANN202 - scorer(learner) -> probabilities of every pool row
        """Scores every pool row on Ray Data: the embeddings (read by the workers from the cache file) or the texts
        (staged under the project's cache). A learner with a torch model (the transformer target) gets one GPU per
        scoring actor when the project's device is CUDA, as embedding does; the others score on CPUs.

        The last learner scored and its probabilities are kept for the process, so ``predict`` after a retrain
        (whose prevalence estimate scored the pool with the same fitted learner) makes one pass over the pool, not
        two."""
        from textsel.score_ray import runs_on_gpu, score_pool_ray

        if reads == "embeddings" and self.config.features != "dense":
            raise ConfigError(f"scoring on Ray reads the embeddings, but this project's classifier reads "
                              f"{self.config.features} features; score it locally")
        on_cuda = self.embedder().device_class == "cuda"

        def scorer(learner):  # noqa: ANN001, ANN202 - a fitted learner -> probabilities of every pool row
            if self._last_ray_scores is not None and self._last_ray_scores[0] is learner:
                return self._last_ray_scores[1]
            probabilities = score_pool_ray(learner, embeddings=features if reads == "embeddings" else None,
                                           texts=self.pool.texts if reads == "texts" else None,
                                           staging_dir=self.cache_dir, address=address, workers=workers,
                                           gpus_per_worker=1.0 if on_cuda and runs_on_gpu(learner) else 0.0,
                                           show_progress=self.show_progress)
            self._last_ray_scores = (learner, probabilities)
            return probabilities

        return scorer

    def predict(self, out: str | Path, *, engine: str = "local", address: str | None = None,
                workers: int | None = None) -> int:
        """Write id, text, predicted label and one probability column per class (``p_<label>``, see
        ``probability_columns``) for every text not removed from the corpus to a Parquet file; return how many.

        ``engine`` "ray" scores the pool on Ray Data (a local Ray, or the cluster at ``address``, with ``workers``
        scoring actors; see :func:`textsel.score_ray.score_pool_ray`) instead of in this process.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        from textsel.score_ray import check_engine

        check_engine("Project.predict", engine, address, workers)
        self.refuse_static("predicting every text", "select likely positives among the candidates with the "
                           "most-likely-positive strategy, or remove first_pass from [embeddings] in textsel.toml "
                           "and embed the whole pool to predict it")
        model = self.trained_model(engine=engine, address=address, workers=workers)
        if engine == "ray":
            reads = getattr(model.learner, "input", "embeddings")
            features = self.embeddings() if reads == "embeddings" else None
            probabilities = self._ray_scorer(features, reads, address, workers)(model.learner)
        else:
            learner, chunk = model.learner, 65_536
            probabilities = np.vstack([learner.predict_proba(self._model_inputs(learner, start, start + chunk))
                                       for start in range(0, len(self.ids), chunk)])
        kept = np.flatnonzero(~np.isin(self.ids, self.removed_ids()))
        probabilities = probabilities[kept]
        ids = np.asarray(self.pool.keys, dtype=object)[kept].tolist() if self.pool.has_string_ids else self.ids[kept]
        columns = {"id": ids, "text": [self.pool.texts[i] for i in kept],
                   "predicted": np.asarray(model.classes, dtype=object)[probabilities.argmax(axis=1)].astype(str)}
        ordered = [name for name in self.config.labels if name in model.classes]  # the project's label order
        columns.update({column: probabilities[:, model.classes.index(name)]
                        for column, name in zip(probability_columns(ordered), ordered, strict=True)})
        with atomic_path(out) as tmp:
            pq.write_table(pa.table(columns), tmp)
        return len(kept)

def probability_columns(classes: Sequence[str]) -> list[str]:
    """Clean column names ``p_<label>`` for class probabilities: lower case, runs of anything but letters, digits
    and ``_`` made one ``_``; a name that would repeat another (or a fixed column) gets ``_2``, ``_3`` ..."""
    import re

    taken = {"id", "text", "predicted"}
    names = []
    for label in classes:
        base = "p_" + (re.sub(r"[^0-9a-z]+", "_", str(label).lower()).strip("_") or "class")
        name, number = base, 2
        while name in taken:
            name, number = f"{base}_{number}", number + 1
        taken.add(name)
        names.append(name)
    return names


def init_project(directory: str | Path, *, data: str, text_col: str = "text", id_col: str | None = None,
                 label_col: str | None = None, format: str | None = None, labels: Sequence[str] | None = None,
                 positive: str | None = None, model: str | None = None, embeddings: str | None = None,
                 backend: str = "hnsw", first_pass: str | None = None, features: str = "dense",
                 goal: str = "find-all") -> Project:
    """Create a project folder: check the model loads, the data loads (and precomputed embeddings fit), then write
    the database (with what the data file and embeddings were) and the config. Nothing is written on failure.

    ``first_pass`` "static" makes a static first-pass project (see :attr:`Project.is_static`): model2vec must be
    installed and the model must be a local folder (the static model is distilled from it offline).
    ``features`` is what the classifier reads (:mod:`textsel.features`: dense, lexical or hybrid); ``goal`` picks
    the default strategy of rounds ("find-all" or "train-classifier", :func:`textsel.rounds.strategy_for_goal`).
    """
    directory = Path(directory)
    if (directory / CONFIG_NAME).exists():
        raise StoreError(f"{directory.resolve()} is already a textsel project ({CONFIG_NAME} exists)")
    if (directory / DB_NAME).exists():
        raise StoreError(f"{directory.resolve()} already holds a {DB_NAME} (without {CONFIG_NAME}); move it away or "
                         f"choose another folder")
    source = str(Path(data).resolve()) if Path(data).exists() else data
    config = ProjectConfig(source=source, text_col=text_col, id_col=id_col, label_col=label_col, format=format,
                           labels=list(labels or DEFAULT_LABELS), positive=positive, model=model or DEFAULT_MODEL,
                           precomputed=str(Path(embeddings).resolve()) if embeddings else None, backend=backend,
                           first_pass=first_pass, features=features, goal=goal)
    if first_pass is not None:
        from textsel.static import check_static_available

        check_static_available(config.model)
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
