"""The vectors of a project: the embeddings (or the static first pass's vectors), the kNN index over them, and the
table of every text's nearest neighbours.

Owns, in the project folder: ``cache/embeddings/``, ``cache/static-embeddings/``, ``cache/index*.<backend>`` and
``cache/neighbours.npy``, and in the project store what they were built from (``embeddings*``, ``static_*``,
``index``, ``precomputed_file``, ``neighbour_table``). It reads the corpus (texts, ids, removals) through its
public methods only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from textsel._integrity import cache_lock, file_record, restamped, verified_record
from textsel._setops import setdiff
from textsel.errors import ConfigError, DataError
from textsel.project.corpus import Corpus
from textsel.project_config import CONFIG_NAME, ProjectConfig
from textsel.store import Store

T = TypeVar("T")
_CONVERT_ROWS = 65_536  # float16 rows converted at a time when writing the float32 static vectors


def write_float32(vectors: np.ndarray, path: Path) -> dict:
    """Write ``vectors`` (float16 rows, a memory map) to the .npy file ``path`` as float32, a block of rows at a
    time and atomically; return the file's checksum record."""
    from textsel._atomic import atomic_path
    from textsel.outputs import writing

    with writing(path), atomic_path(path, fsync=True) as tmp, open(tmp, "wb") as out:
        # Plain writes, not a writable memory map: mapped pages count in the process's memory (1.1 GB here).
        np.lib.format.write_array_header_1_0(out, {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)),
                                                   "fortran_order": False, "shape": tuple(vectors.shape)})
        for start in range(0, len(vectors), _CONVERT_ROWS):
            out.write(np.ascontiguousarray(vectors[start:start + _CONVERT_ROWS], dtype=np.float32).tobytes())
    return file_record(path)


def transformer_embedder_for(config: ProjectConfig):  # noqa: ANN201 - textsel.embed.Embedder
    """The project's embedding model, as its config describes it (loaded on first use)."""
    from textsel.embed import Embedder

    return Embedder(config.model, max_seq_length=config.max_seq_length, dtype=config.dtype, device=config.device)


def static_embedder_for(config: ProjectConfig):  # noqa: ANN201 - textsel.static.StaticEmbedder
    """The static (model2vec) embedder distilled from the project's model (distilled once, cached per machine)."""
    from textsel.static import StaticEmbedder

    return StaticEmbedder(config.model)


class Vectors:
    """Embeddings, static vectors, the kNN index and the neighbour table of a project's corpus.

    ``embedder`` and ``static_embedder`` make the models (default: from the config); the Project passes its own
    methods, so replacing ``Project.embedder`` replaces the model everywhere.
    """

    def __init__(self, config: ProjectConfig, store: Store, cache_dir: Path, corpus: Corpus, *,
                 show_progress: bool = False, embedder: Callable[[], object] | None = None,
                 static_embedder: Callable[[], object] | None = None) -> None:
        self.config = config
        self.store = store
        self.cache_dir = Path(cache_dir)
        self.corpus = corpus
        self.show_progress = show_progress
        self._make_embedder = embedder or (lambda: transformer_embedder_for(config))
        self._make_static_embedder = static_embedder or (lambda: static_embedder_for(config))
        self._embeddings: np.ndarray | None = None
        self._static_vectors: np.ndarray | None = None
        self._on_demand = None  # transformer_features(), kept for the rounds of this process
        self._index = None
        self._known_vectors = None  # the old texts' vectors while grow() embeds the added ones
        self.encoded_texts = 0  # texts this process sent to the embedding model (the others came from caches)

    def embedder(self):  # noqa: ANN201 - textsel.embed.Embedder
        return self._make_embedder()

    def forget_on_demand(self) -> None:
        """Drop the on-demand transformer features (their vectors stay in the per-text cache) and close its file."""
        if self._on_demand is not None:
            self._on_demand.encoder.cache.close()
            self._on_demand = None

    # -- the static first pass ([embeddings] first_pass = "static", see textsel.first_pass) --------------------

    @property
    def is_static(self) -> bool:
        """True when the project selects with the static first pass: the pool is embedded with static vectors
        (its index is over those), and only labeled texts and candidates get the transformer embedding."""
        return self.config.first_pass == "static"

    def static_embedder(self):  # noqa: ANN201 - textsel.static.StaticEmbedder
        return self._make_static_embedder()

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

            pool = self.corpus.pool
            vectors, cache = embed_pool_with_record(pool, self.static_embedder(), cache_dir=self.static_cache_dir,
                                                    show_progress=self.show_progress, as_float32=False)
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

    @property
    def static_float32_path(self) -> Path:
        return self.static_cache_dir / "static.float32.npy"

    def static_vectors_float32(self) -> np.ndarray:
        """The static vectors as float32, memory-mapped: what a classifier on static features reads every round.

        The cache keeps them as float16 (half the disk), and numpy converts float16 slowly: at 1.1M texts a round
        spent most of its scoring time converting (a full scan about ten times longer than reading float32 rows).
        This copy, twice the static cache's size, is written once from :meth:`static_vectors`; the store records the
        float16 file's sha256 it came from and its own checksum record, so a copy that is missing, changed or made
        from other vectors is written again.
        """
        vectors = self.static_vectors()
        source, path = self.store.get_meta("static_embeddings")["sha256"], self.static_float32_path

        def verified() -> tuple[dict | None, dict | None]:  # (the copy's current record or None, the stored one)
            record = self.store.get_meta("static_float32")
            if not record or record.get("source") != source or not path.exists():
                return None, record
            return verified_record(path, record.get("file")), record

        current, record = verified()
        if current is None:
            with cache_lock(self.static_cache_dir / "float32.lock", f"the float32 static vectors {path}"):
                current, record = verified()  # another process may have written it meanwhile
                if current is None:
                    current = write_float32(vectors, path)
        if current != (record or {}).get("file"):
            self.store.set_meta("static_float32", {"source": source, "file": current})
        float32 = np.load(path, mmap_mode="r", allow_pickle=False)
        if float32.dtype != np.float32 or float32.shape != vectors.shape:
            raise DataError(f"the float32 static vectors have shape {float32.shape}, the static vectors "
                            f"{vectors.shape}; delete the file to have it written again", file=str(path))
        return float32

    def transformer_features(self):  # noqa: ANN201 - textsel.static.EmbeddedOnDemand
        """Transformer rows of the pool embedded when first read, through the per-text cache shared by every
        project here (:mod:`textsel.text_cache`): the learner's features in a static first-pass project. Kept for
        the process, so later rounds (a continuous labeling session) read rows embedded before from memory."""
        from textsel.static import EmbeddedOnDemand
        from textsel.text_cache import CachedEncoder

        if self._on_demand is None:
            self._on_demand = EmbeddedOnDemand(self.corpus.pool.texts, CachedEncoder(self.embedder()))
        return self._on_demand

    def refuse_static(self, what: str, instead: str) -> None:
        """Raise ConfigError in a static first-pass project: ``what`` needs the transformer embedding of every text,
        the cost the first pass avoids; ``instead`` says what to do."""
        if self.is_static:
            raise ConfigError(f"{what} needs the transformer embedding of every text, which this project's static "
                              f"first pass does not make (only labeled texts and candidates get one); {instead}")

    def index_vectors(self) -> np.ndarray:
        """The vectors the project's kNN index is built over: the static vectors or the embeddings."""
        return self.static_vectors() if self.is_static else self.embeddings()

    @property
    def _index_meta(self) -> str:
        """The store key recording which vectors and backend the saved index was built from."""
        return "static_index" if self.is_static else "index"

    def index_key(self) -> dict | None:
        """What the saved index must have been built from now: the recorded vectors and the backend (None when no
        vectors are recorded yet)."""
        recorded = self.store.get_meta("static_embeddings" if self.is_static else "embeddings")
        return {**recorded, "backend": self.config.backend} if recorded else None

    def saved_index_current(self) -> bool:
        """Whether a saved index file exists and was built from the current vectors and backend."""
        key = self.index_key()
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
        pool = self.corpus.pool
        if config.precomputed:
            from textsel.embed import load_embeddings

            sha256 = self._verified_precomputed_sha256()
            vectors = load_embeddings(config.precomputed, len(pool))
            file = {"path": config.precomputed, "file": self.store.get_meta("precomputed_file")}
        else:
            from textsel.embed import embed_pool_with_record
            from textsel.text_cache import CachedEncoder

            encoder = CachedEncoder(self.embedder(), known=self._known_vectors)  # nor by `add`
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
        saved, pool = self.store.get_meta(file_meta), self.corpus.pool_record()
        if self.corpus.pool_unverified or not recorded or not saved or saved.get("sha256") != recorded.get("sha256"):
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
                    "static_embeddings_file", "static_index", "static_float32"):
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
        vectors = self.index_vectors()
        key = self.index_key()
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with cache_lock(self.cache_dir / "index.build.lock", f"the index {self.index_path}"):
            if not rebuild and self.saved_index_current():
                index = load_index(self.index_path, vectors_sha256=key["sha256"])
                self.sync_deletions(index)
            else:
                index = build_index(vectors, self.corpus.ids, backend=self.config.backend,
                                    show_progress=self.show_progress)
                index.mark_deleted(self.corpus.removed_ids())
                index.save(self.index_path, vectors_sha256=key["sha256"])
                self.store.set_meta(self._index_meta, key)
                self.__dict__.pop("_neighbour_table", None)  # computed from the old index
        self._index = index
        return index

    def sync_deletions(self, index) -> None:  # noqa: ANN001 - a loaded textsel.index.VectorIndex
        """Make the saved index's deletion marks the store's removals (a removal or restore cut short before its
        index write is finished here) and save it in place when they differed. Call holding the index build lock."""
        removed = self.corpus.removed_ids()
        marked, unmarked = index.mark_deleted(removed), index.unmark_deleted(setdiff(index.deleted_ids, removed))
        if len(marked) or len(unmarked):
            index.save(self.index_path, vectors_sha256=self.index_key()["sha256"], keep_digest=True)

    def change_removals(self, write: Callable[[], T]) -> T:
        """Run ``write`` (the store's change of removals) and bring the saved index's deletion marks in line with
        it, holding the index lock. A current saved index is loaded and verified before ``write``, so a damaged one
        fails with nothing written; one built later marks the removals as it is built."""
        if not self.saved_index_current():
            return write()
        from textsel.index import load_index

        with cache_lock(self.cache_dir / "index.build.lock", f"the index {self.index_path}"):
            index = self._index if self._index is not None else load_index(
                self.index_path, vectors_sha256=self.index_key()["sha256"])
            result = write()
            self.sync_deletions(index)
        self._index = index
        return result

    def auto_k(self, n_docs: int) -> int:
        """k of the "auto" candidate pool: :func:`textsel.candidates.auto_k`, or the wider
        :func:`textsel.candidates.static_k` (3x) over a static first pass, whose neighbourhoods hold fewer positives."""
        if self.is_static:
            from textsel.candidates import static_k

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
        if build or self.saved_index_current():
            if build:
                index = self.index()
                k = max(self.config.k, self.auto_k(len(index)))
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

    @property
    def index_loaded(self) -> bool:
        """Whether this process has the kNN index in memory (loaded or built)."""
        return self._index is not None

    def known_vectors(self):  # noqa: ANN201 - textsel.text_cache.KnownVectors or None
        """The current texts' vectors, for :meth:`grow` to reuse (None in a static project or before embedding)."""
        from textsel.text_cache import KnownVectors

        if self.is_static or not self.store.get_meta("embeddings"):
            return None
        return KnownVectors(self.corpus.pool.texts, self.embeddings())

    def grow(self, old_key: dict | None, new_ids: np.ndarray, known=None) -> None:  # noqa: ANN001 - KnownVectors
        """Bring the vectors up to date after the corpus grew by ``new_ids`` (its last rows): embed the new texts
        (the old ones' vectors come from ``known``, see :meth:`known_vectors`) and add them to the saved index when
        it was current before (``old_key``, :meth:`index_key` then)."""
        self.__dict__.pop("_neighbour_table", None)
        self._embeddings = self._static_vectors = self._index = None
        self.forget_on_demand()
        self._known_vectors = known
        vectors = self.index_vectors()
        if old_key is not None and self.store.get_meta(self._index_meta) == old_key:
            self._grow_index(old_key["sha256"], new_ids, vectors[len(vectors) - len(new_ids):])

    def _grow_index(self, old_sha256: str, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add ``vectors`` under ``ids`` to the saved index (built over the vectors ``old_sha256``) and save it as
        the index of the current embeddings."""
        from textsel.index import load_index

        key = self.index_key()
        with cache_lock(self.cache_dir / "index.build.lock", f"the index {self.index_path}"):
            index = load_index(self.index_path, vectors_sha256=old_sha256)
            index.add(np.asarray(vectors, dtype=np.float32), ids)
            index.save(self.index_path, vectors_sha256=key["sha256"])
            self.store.set_meta(self._index_meta, key)
        self._index = index
