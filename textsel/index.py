"""Vector indexes over document ids: HNSW (hnswlib) for large pools, exact numpy search for small ones.

Both answer ``search(queries, k, exclude)`` with document ids and similarities (higher is closer), so
the candidate pool and the strategies never see positions or backend details. Documents removed from a corpus are
marked deleted (``mark_deleted``, hnswlib's own marks for HNSW) instead of rebuilding: searches never return them,
their vectors stay readable, and ``save(..., keep_digest=True)`` keeps the digest caches derived from the index
were built for (deletion marks change no neighbourhood; readers of those caches filter removed ids themselves).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Protocol

import numpy as np

from textsel._atomic import atomic_path, write_text_atomic
from textsel._integrity import cache_lock, file_record, verified_record
from textsel._prefetch import read_rows
from textsel._progress import progress_bar
from textsel._setops import intersect, isin, setdiff, union, unique
from textsel.errors import ConfigError, DataError, check_param
from textsel.hnsw_check import check_hnsw_graph
from textsel.outputs import writing

METRICS = ("cosine", "ip")
_CHUNK = 10_000
_REBUILD = "rebuild the index"


class VectorIndex(Protocol):
    """The tiny interface every index offers."""

    metric: str

    def __len__(self) -> int: ...

    @property
    def ids(self) -> np.ndarray: ...

    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None: ...

    def search(self, queries: np.ndarray, k: int, exclude: np.ndarray | None = None, *, ef: int | None = None
               ) -> tuple[np.ndarray, np.ndarray]: ...

    def get_vectors(self, ids: np.ndarray) -> np.ndarray: ...

    @property
    def deleted_ids(self) -> np.ndarray: ...

    def mark_deleted(self, ids: np.ndarray) -> np.ndarray: ...

    def unmark_deleted(self, ids: np.ndarray) -> np.ndarray: ...

    def save(self, path: str | Path, *, vectors_sha256: str | None = None, keep_digest: bool = False) -> None: ...


def _check_add(vectors: np.ndarray, ids: np.ndarray, dim: int | None) -> tuple[np.ndarray, np.ndarray]:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    ids = np.asarray(ids, dtype=np.int64)
    if vectors.ndim != 2 or len(vectors) != len(ids):
        raise DataError(f"expected vectors of shape (n, dim) with n == len(ids) == {len(ids)}; "
                        f"got shape {vectors.shape}")
    if dim is not None and vectors.shape[1] != dim:
        raise DataError(f"vectors have dimension {vectors.shape[1]}, the index holds dimension {dim}")
    if not np.isfinite(vectors).all():
        row = int(np.flatnonzero(~np.isfinite(vectors).all(axis=1))[0])
        raise DataError(f"vector for id {int(ids[row])} contains NaN or inf", row=row + 1)
    return vectors, ids


def _check_new_ids(held: np.ndarray, ids: np.ndarray) -> None:
    """Refuse ids that repeat within the batch or are already held, naming one of them."""
    distinct, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        raise DataError(f"id {int(distinct[counts > 1][0])} appears twice in the ids being added")
    clash = intersect(held, ids)
    if len(clash):
        raise DataError(f"id {int(clash[0])} is already in the index")


def _check_known_ids(held: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Positions of ``ids`` in ``held``; unknown ids raise DataError instead of returning wrong rows."""
    ids = np.asarray(ids, dtype=np.int64)
    ascending = len(held) < 2 or bool((held[1:] > held[:-1]).all())  # the usual case: no argsort of every id
    order = None if ascending else np.argsort(held, kind="stable")
    found = np.minimum(np.searchsorted(held, ids, sorter=order), max(len(held) - 1, 0))
    positions = (found if order is None else order[found]) if len(held) else np.zeros(len(ids), dtype=np.int64)
    unknown = ids[held[positions] != ids] if len(held) else ids
    if len(unknown):
        raise DataError(f"id {int(unknown[0])} is not in the index ({len(unknown)} unknown ids)")
    return positions


def _changed_marks(held: np.ndarray, marked: np.ndarray, ids: np.ndarray, *, delete: bool) -> np.ndarray:
    """The sorted ids whose deletion mark ``mark_deleted`` (``delete``) or ``unmark_deleted`` changes; an id the
    index does not hold raises DataError."""
    ids = unique(np.asarray(ids, dtype=np.int64))
    _check_known_ids(held, ids)
    return setdiff(ids, marked) if delete else intersect(ids, marked)


def _check_queries(queries: np.ndarray, dim: int | None) -> np.ndarray:
    queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
    if dim is not None and (queries.ndim != 2 or queries.shape[1] != dim):
        raise DataError(f"queries have shape {queries.shape}, the index holds dimension {dim}")
    return queries


def _normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class _DeletionMarks:
    """What both indexes share: the ids they hold (``_ids``, in insertion order) and the sorted ids marked deleted
    (``_deleted``: still held, never returned by ``search``), changed only by ``mark_deleted`` and
    ``unmark_deleted``. A backend with marks of its own applies each change in :meth:`_apply_marks`."""

    _ids: np.ndarray
    _deleted: np.ndarray

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def ids(self) -> np.ndarray:
        return self._ids

    @property
    def deleted_ids(self) -> np.ndarray:
        """Sorted ids marked deleted: held, never returned by ``search``."""
        return self._deleted

    def mark_deleted(self, ids: np.ndarray) -> np.ndarray:
        """Mark ``ids`` deleted (no rebuild; unknown ids raise DataError, nothing marked); return those not marked
        before."""
        new = _changed_marks(self._ids, self._deleted, ids, delete=True)
        self._apply_marks(new, delete=True)
        self._deleted = union(self._deleted, new)
        return new

    def unmark_deleted(self, ids: np.ndarray) -> np.ndarray:
        """Make deleted ``ids`` searchable again; return those that were marked."""
        back = _changed_marks(self._ids, self._deleted, ids, delete=False)
        self._apply_marks(back, delete=False)
        self._deleted = setdiff(self._deleted, back)
        return back

    def _apply_marks(self, ids: np.ndarray, *, delete: bool) -> None:
        """Mark (``delete``) or unmark ``ids`` in the backend; nothing to do where ``_deleted`` is all there is."""


_EXACT_BLOCK_VALUES = 1 << 24
"""Similarities an exact search holds at once (64 MB of float32, and its ranking's int64 positions): queries are
searched in blocks of this many values over the pool, so a batch of queries at a million texts stays in memory."""


class ExactIndex(_DeletionMarks):
    """Brute-force search with numpy: exact answers, for small pools and for measuring HNSW recall.

    At a million texts it is also the fastest way to a first SEALS round: building it is one normalised copy of the
    vectors (an HNSW graph of 1.1M static vectors took minutes, its neighbour table longer), and a round searches
    only its new labels, each a pass over the vectors. ``textsel index`` builds no neighbour table over it (that would
    be one such pass per text).

    Parameters
    ----------
    metric : {"cosine", "ip"}, default="cosine"
    """

    def __init__(self, metric: str = "cosine") -> None:
        self.metric = metric
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        self._ids = np.zeros(0, dtype=np.int64)
        self._deleted = np.zeros(0, dtype=np.int64)

    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        check_param("ExactIndex", "metric", self.metric, self.metric in METRICS, f"one of {METRICS}")
        vectors, ids = _check_add(vectors, ids, self._vectors.shape[1] if len(self) else None)
        if self.metric == "cosine":
            vectors = _normalize(vectors)
        _check_new_ids(self._ids, ids)
        self._vectors = vectors if not len(self) else np.vstack([self._vectors, vectors])
        self._ids = np.concatenate([self._ids, ids])

    def search(self, queries: np.ndarray, k: int, exclude: np.ndarray | None = None, *, ef: int | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Return (ids, similarities), each of shape (n_queries, k), best first; padded with -1 / -inf.

        ``ef`` (a search width for approximate indexes) is accepted and ignored: this search is exact.
        """
        check_param("ExactIndex.search", "k", k, isinstance(k, int | np.integer) and k >= 1, "an int >= 1")
        queries = _check_queries(queries, self._vectors.shape[1] if len(self) else None)
        if self.metric == "cosine":
            queries = _normalize(queries)
        out_ids = np.full((len(queries), k), -1, dtype=np.int64)
        out_sims = np.full((len(queries), k), -np.inf, dtype=np.float32)
        if not len(self):
            return out_ids, out_sims
        hidden = self._deleted if exclude is None else union(self._deleted, np.asarray(exclude, dtype=np.int64))
        blocked = isin(self._ids, hidden) if len(hidden) else None
        take = min(k, len(self))
        step = max(1, min(1024, _EXACT_BLOCK_VALUES // len(self)))  # queries per block: at 1.1M texts, 15
        for start in range(0, len(queries), step):
            sims = queries[start:start + step] @ self._vectors.T
            if blocked is not None:
                sims[:, blocked] = -np.inf
            top = np.argpartition(-sims, take - 1, axis=1)[:, :take]
            top_sims = np.take_along_axis(sims, top, axis=1)
            order = np.argsort(-top_sims, axis=1, kind="stable")
            top, top_sims = np.take_along_axis(top, order, axis=1), np.take_along_axis(top_sims, order, axis=1)
            ids = np.where(np.isfinite(top_sims), self._ids[top], -1)
            out_ids[start:start + step, :take] = ids
            out_sims[start:start + step, :take] = top_sims
        return out_ids, out_sims

    def get_vectors(self, ids: np.ndarray) -> np.ndarray:
        """Stored vectors (unit length for cosine) of the given ids."""
        return self._vectors[_check_known_ids(self._ids, ids)]

    def neighbours(self, ids: np.ndarray, k: int, *, ef: int | None = None) -> np.ndarray:
        """The ids of the ``k`` nearest neighbours of indexed documents (themselves included), shape (len(ids), k)."""
        return self.search(self.get_vectors(ids), k, ef=ef)[0]

    def save(self, path: str | Path, *, vectors_sha256: str | None = None, keep_digest: bool = False) -> None:
        """Write ``path``'s ``.npz`` (vectors, ids and deletion marks) and ``path.json`` (settings and checksums),
        as :meth:`HNSWIndex.save` does."""
        path = Path(path)
        with writing(path), cache_lock(_lock_path(path), f"the index {path}"):
            derived = _derived_digest(path) if keep_digest else None
            with atomic_path(path.with_suffix(".npz"), fsync=True) as tmp:
                np.savez(tmp, vectors=self._vectors, ids=self._ids, deleted=self._deleted)
            _write_sidecar(path, {"backend": "exact", "metric": self.metric, "count": len(self),
                                  "deleted": len(self._deleted)},
                           [path.with_suffix(".npz")], vectors_sha256, derived)

    @classmethod
    def load(cls, path: str | Path, *, vectors_sha256: str | None = None) -> ExactIndex:
        """Load a saved index after verifying its files' checksums (and the vectors it was built over, if given)."""
        path = Path(path)
        meta = _verified_sidecar(path, vectors_sha256)
        index = cls(metric=meta["metric"])
        with np.load(path.with_suffix(".npz"), allow_pickle=False) as arrays:
            index._vectors, index._ids = arrays["vectors"], arrays["ids"]
            if "deleted" in arrays.files:  # absent from indexes saved before removals existed
                index._deleted = arrays["deleted"].astype(np.int64)
        return index


class HNSWIndex(_DeletionMarks):
    """Approximate kNN with hnswlib, keyed by document id; saves and loads next to its embeddings.

    Parameters
    ----------
    metric : {"cosine", "ip"}, default="cosine"
    M : int, default=16
        Graph degree: more is better recall, more memory.
    ef_construction : int, default=200
        Build-time beam width.
    ef : int, default=200
        Query-time beam width; raised to k when a query asks for more neighbours.
    num_threads : int, default=-1
        Threads for add and search (-1: all cores).
    show_progress : bool, default=False
    """

    def __init__(self, metric: str = "cosine", *, M: int = 16, ef_construction: int = 200, ef: int = 200,
                 num_threads: int = -1, show_progress: bool = False) -> None:
        self.metric = metric
        self.M = M
        self.ef_construction = ef_construction
        self.ef = ef
        self.num_threads = num_threads
        self.show_progress = show_progress
        self._index = None
        self._ids = np.zeros(0, dtype=np.int64)
        self._deleted = np.zeros(0, dtype=np.int64)

    def _apply_marks(self, ids: np.ndarray, *, delete: bool) -> None:
        """hnswlib's own marks (``mark_deleted``/``unmark_deleted``): the graph keeps the nodes and their links."""
        change = self._index.mark_deleted if delete else self._index.unmark_deleted
        for doc_id in ids.tolist():
            change(doc_id)

    def _create(self, dim: int, capacity: int) -> None:
        import hnswlib

        check_param("HNSWIndex", "metric", self.metric, self.metric in METRICS, f"one of {METRICS}")
        check_param("HNSWIndex", "M", self.M, self.M >= 2, "an int >= 2")
        self._index = hnswlib.Index(space=self.metric, dim=dim)
        self._index.init_index(max_elements=capacity, ef_construction=self.ef_construction, M=self.M)
        self._index.set_ef(self.ef)
        self._index.set_num_threads(self.num_threads)

    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        """Insert vectors under the given ids, growing the index as needed."""
        vectors, ids = _check_add(vectors, ids, self._index.dim if self._index is not None else None)
        _check_new_ids(self._ids, ids)
        if self._index is None:
            self._create(vectors.shape[1], len(ids))
        elif len(self) + len(ids) > self._index.get_max_elements():
            self._index.resize_index(max(len(self) + len(ids), 2 * self._index.get_max_elements()))
        with progress_bar("Building HNSW index", len(ids), show=self.show_progress) as advance:
            for start in range(0, len(ids), _CHUNK):
                self._index.add_items(vectors[start:start + _CHUNK], ids[start:start + _CHUNK],
                                      num_threads=self.num_threads)
                advance(len(ids[start:start + _CHUNK]))
        self._ids = np.concatenate([self._ids, ids])

    def search(self, queries: np.ndarray, k: int, exclude: np.ndarray | None = None, *, ef: int | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Return (ids, similarities), each of shape (n_queries, k), best first; padded with -1 / -inf.

        ``exclude`` ids are filtered inside the graph search, so each row still gets k results. ``ef`` overrides
        the index's search width for this call (raised to k when smaller): narrower is faster, less exact.
        """
        check_param("HNSWIndex.search", "k", k, isinstance(k, int | np.integer) and k >= 1, "an int >= 1")
        queries = _check_queries(queries, self._index.dim if self._index is not None else None)
        out_ids = np.full((len(queries), k), -1, dtype=np.int64)
        out_sims = np.full((len(queries), k), -np.inf, dtype=np.float32)
        # Only excluded ids the index holds shrink what is left; hnswlib fails when asked for more than that.
        excluded = intersect(self._ids, np.asarray(exclude, dtype=np.int64)) if exclude is not None \
            else np.zeros(0, dtype=np.int64)
        take = min(k, len(self) - len(union(excluded, self._deleted)))
        if self._index is None or not len(queries) or take <= 0:
            return out_ids, out_sims
        labels, distances = self._query(queries, take, set(excluded.tolist()), ef if ef is not None else self.ef)
        out_ids[:, :take] = labels
        out_sims[:, :take] = 1.0 - distances
        return out_ids, out_sims

    def _query(self, queries: np.ndarray, take: int, excluded: set[int], ef: int) -> tuple[np.ndarray, np.ndarray]:
        self._index.set_ef(max(ef, take))
        if not excluded:
            return self._index.knn_query(queries, k=take, num_threads=self.num_threads)
        # A Python filter holds the GIL, so one thread is as fast as many.
        return self._index.knn_query(queries, k=take, num_threads=1, filter=lambda label: label not in excluded)

    def get_vectors(self, ids: np.ndarray) -> np.ndarray:
        """Stored vectors (unit length for cosine) of the given ids, deleted ones included."""
        ids = np.asarray(ids, dtype=np.int64)
        _check_known_ids(self._ids, ids)
        hidden = intersect(ids, self._deleted)
        for doc_id in hidden.tolist():  # hnswlib hides a deleted item's vector; it is still stored
            self._index.unmark_deleted(doc_id)
        try:
            return np.asarray(self._index.get_items(ids, return_type="numpy"), dtype=np.float32)
        finally:
            for doc_id in hidden.tolist():
                self._index.mark_deleted(doc_id)

    def neighbours(self, ids: np.ndarray, k: int, *, ef: int | None = None) -> np.ndarray:
        """The ids of the ``k`` nearest neighbours of indexed documents (themselves included), shape (len(ids), k):
        one batched query on ``num_threads`` threads."""
        return self.search(self.get_vectors(ids), k, ef=ef)[0]

    def save(self, path: str | Path, *, vectors_sha256: str | None = None, keep_digest: bool = False) -> None:
        """Write ``path`` (the graph, with its deletion marks), ``path.ids.npy``, ``path.deleted.npy`` and
        ``path.json`` (settings and the checksums of the files, written last); every write is atomic and one
        process saves at a time. ``vectors_sha256`` records which vectors the index was built over, for
        :func:`load_index` to check. ``keep_digest``: the graph is the saved one with other deletion marks, so
        :func:`saved_index_digest` stays what it was."""
        if self._index is None:
            raise DataError("cannot save an empty HNSW index; add vectors first", file=str(path))
        path = Path(path)
        ids_path, deleted_path = _hnsw_id_files(path)
        with writing(path), cache_lock(_lock_path(path), f"the index {path}"):
            derived = _derived_digest(path) if keep_digest else None
            with atomic_path(path, fsync=True) as tmp:
                self._index.save_index(str(tmp))  # hnswlib reports no write error (a full disk): check what it wrote
                _check_written_graph(tmp, path, dim=self._index.dim, M=self.M, ids=self._ids, deleted=self._deleted)
            with atomic_path(ids_path, fsync=True) as tmp:
                np.save(tmp, self._ids)
            with atomic_path(deleted_path, fsync=True) as tmp:
                np.save(tmp, self._deleted)
            _write_sidecar(path, {"backend": "hnsw", "metric": self.metric, "dim": self._index.dim,
                                  "M": self.M, "ef_construction": self.ef_construction, "ef": self.ef,
                                  "count": len(self), "deleted": len(self._deleted)},
                           [path, ids_path, deleted_path], vectors_sha256, derived)

    @classmethod
    def load(cls, path: str | Path, *, num_threads: int = -1, vectors_sha256: str | None = None) -> HNSWIndex:
        """Load a saved index. The graph's checksum is verified before hnswlib reads it: hnswlib trusts its input,
        and a damaged graph file could crash the process instead of raising."""
        import hnswlib

        path = Path(path)
        meta = _verified_sidecar(path, vectors_sha256)
        index = cls(metric=meta["metric"], M=meta["M"], ef_construction=meta["ef_construction"],
                    ef=meta["ef"], num_threads=num_threads)
        ids_path, deleted_path = _hnsw_id_files(path)
        index._ids = _load_id_file(ids_path)
        if len(index._ids) != meta["count"]:
            raise DataError(f"index holds {meta['count']} items but its id file {len(index._ids)}; {_REBUILD}",
                            file=str(path))
        if deleted_path.name in meta["files"]:  # absent from indexes saved before removals existed
            index._deleted = _load_id_file(deleted_path)
        # The checksums catch damage, not a graph made to crash hnswlib: its structure is checked before it is read.
        check_hnsw_graph(path, dim=meta["dim"], M=meta["M"], count=meta["count"], ids=index._ids,
                         deleted=index._deleted if deleted_path.name in meta["files"] else None, fix=_REBUILD)
        index._index = hnswlib.Index(space=meta["metric"], dim=meta["dim"])
        try:
            index._index.load_index(str(path), max_elements=meta["count"])
        except RuntimeError as error:
            raise DataError(f"hnswlib cannot read the index ({error}); {_REBUILD}", file=str(path)) from error
        index._index.set_ef(index.ef)
        index._index.set_num_threads(num_threads)
        return index


class NeighbourTable:
    """The k nearest neighbours of every indexed document, computed once through the index and kept on disk.

    SEALS asks for the neighbours of each new label. With the table that is a row lookup in a memory map instead of
    loading the whole HNSW graph (about 1.7 GB at 1M documents of dimension 384) into every process. Files (no
    pickle): ``PATH.npy`` (int32 row positions, shape (n, k), nearest first, -1 padding) and ``PATH.ids.npy``
    (the int64 ids of those positions). Saved with :func:`save_neighbour_table`, which returns the record
    :func:`load_neighbour_table` checks.
    """

    def __init__(self, ids: np.ndarray, positions: np.ndarray) -> None:
        self._ids = np.asarray(ids, dtype=np.int64)
        self.positions = positions
        self.k = int(positions.shape[1]) if positions.ndim == 2 else 0

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def ids(self) -> np.ndarray:
        return self._ids

    def neighbours(self, ids: np.ndarray, k: int, *, ef: int | None = None) -> np.ndarray:
        """The ids of the ``k`` (at most the table's k) nearest neighbours of ``ids``, shape (len(ids), k); ``ef``
        is ignored (the search width was fixed when the table was built)."""
        check_param("NeighbourTable.neighbours", "k", k, isinstance(k, int | np.integer) and 1 <= k <= self.k,
                    f"an int in [1, {self.k}] (the table's k)")
        rows = np.asarray(read_rows(self.positions, _check_known_ids(self._ids, ids))[:, :k], dtype=np.int64)
        return np.where(rows >= 0, self._ids[np.maximum(rows, 0)], -1)


def build_neighbour_table(index: VectorIndex, k: int, *, ef: int | None = None, chunk: int = 20_000,
                          show_progress: bool = False) -> NeighbourTable:
    """The ``k`` nearest neighbours of every document in ``index`` (one batched query per ``chunk`` documents).

    ``ef`` defaults to k, the search width SEALS uses for its own queries, so the table holds the same neighbours
    a direct query would return.
    """
    check_param("build_neighbour_table", "k", k, isinstance(k, int | np.integer) and k >= 1, "an int >= 1")
    ids = np.asarray(index.ids, dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    positions = np.full((len(ids), int(k)), -1, dtype=np.int32)
    with progress_bar("Computing neighbour table", len(ids), show=show_progress) as advance:
        for start in range(0, len(ids), chunk):
            found = index.neighbours(ids[start:start + chunk], int(k), ef=ef if ef is not None else int(k))
            valid = found >= 0
            rows = order[np.minimum(np.searchsorted(ids, found, sorter=order), len(ids) - 1)]
            positions[start:start + chunk] = np.where(valid, rows, -1)
            advance(len(found))
    return NeighbourTable(ids, positions)


def save_neighbour_table(path: str | Path, table: NeighbourTable, *, index_digest: str) -> dict:
    """Write ``table`` to ``path`` (.npy) and ``path.ids.npy`` atomically; return the record to keep: k, the digest
    of the index it was computed from (:func:`saved_index_digest`), and a checksum record per file."""
    path = Path(path)
    ids_path = path.with_name(path.stem + ".ids.npy")
    with writing(path), atomic_path(path, fsync=True) as tmp:
        np.save(tmp, np.ascontiguousarray(table.positions, dtype=np.int32))
    with writing(ids_path), atomic_path(ids_path, fsync=True) as tmp:
        np.save(tmp, table.ids)
    return {"k": table.k, "index": index_digest, "rows": len(table),
            "files": {path.name: file_record(path), ids_path.name: file_record(ids_path)}}


def load_neighbour_table(path: str | Path, record: dict | None, *, index_digest: str) -> NeighbourTable | None:
    """The table at ``path`` (positions memory-mapped) when ``record`` matches the index and every file still
    matches its checksum record; None otherwise (missing, stale or changed: compute it again)."""
    path = Path(path)
    if not record or record.get("index") != index_digest or not isinstance(record.get("files"), dict):
        return None
    try:
        for name, file in record["files"].items():
            if verified_record(path.with_name(name), file) is None:
                return None
        positions = np.load(path, mmap_mode="r", allow_pickle=False)
        ids = np.load(path.with_name(path.stem + ".ids.npy"), mmap_mode="r", allow_pickle=False)  # read when used
    except (OSError, ValueError):
        return None
    if positions.dtype != np.int32 or positions.shape != (record.get("rows"), record.get("k")) or len(ids) != len(
            positions):
        return None
    return NeighbourTable(ids, positions)


def build_index(vectors: np.ndarray, ids: np.ndarray, *, backend: str = "hnsw", metric: str = "cosine",
                show_progress: bool = False, **params: int) -> VectorIndex:
    """Build an index of ``backend`` ("hnsw" or "exact") over vectors keyed by ids."""
    if backend == "hnsw":
        index: VectorIndex = HNSWIndex(metric, show_progress=show_progress, **params)
    elif backend == "exact":
        index = ExactIndex(metric)
    else:
        raise ConfigError(f"The 'backend' parameter of build_index must be 'hnsw' or 'exact'. Got {backend!r}.")
    index.add(vectors, ids)
    return index


def load_index(path: str | Path, *, vectors_sha256: str | None = None) -> VectorIndex:
    """Load an index saved by either backend, verifying its files first.

    ``vectors_sha256``: the checksum of the vectors the caller means to use it with; an index built over other
    vectors raises DataError (rebuild the index) instead of returning neighbours of the wrong texts.
    """
    backend = _read_sidecar(Path(path))["backend"]
    load = HNSWIndex.load if backend == "hnsw" else ExactIndex.load
    return load(path, vectors_sha256=vectors_sha256)


def saved_index_digest(path: str | Path) -> str:
    """A digest of which saved index is at ``path``: its settings, build and the checksums of its files (not their
    mtimes, so a copied project keeps its digest). Caches derived from the index record it and are rebuilt when it
    changes; read it after the index was verified (``load_index``) or saved. A save that only changed deletion
    marks (``keep_digest``) keeps the digest of the graph it marked."""
    meta = _read_sidecar(Path(path))
    if isinstance(meta.get("derived_digest"), str):
        return meta["derived_digest"]
    files = {name: record.get("sha256") for name, record in (meta.get("files") or {}).items()}
    kept = {key: value for key, value in meta.items() if key not in ("files", "settings_sha256")}
    return hashlib.sha256(json.dumps({**kept, "files": files}, sort_keys=True).encode()).hexdigest()


def _check_written_graph(written: Path, path: Path, *, dim: int, M: int, ids: np.ndarray,  # noqa: N803
                         deleted: np.ndarray) -> None:
    """Raise DataError unless the graph file hnswlib just wrote is whole (it stays silent on a full disk)."""
    try:
        check_hnsw_graph(written, dim=dim, M=M, count=len(ids), ids=ids, deleted=deleted)
    except DataError as error:
        raise DataError(f"the index graph was not written completely (is the disk full?); nothing was replaced "
                        f"({error})", file=str(path)) from None


def _load_id_file(path: Path) -> np.ndarray:
    """A saved array of document ids: one dimension of integers, or DataError."""
    try:
        ids = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise DataError(f"the index id file is unreadable ({error}); {_REBUILD}", file=str(path)) from error
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise DataError(f"the index id file does not hold one row of integer ids; {_REBUILD}", file=str(path))
    return ids.astype(np.int64)


def _hnsw_id_files(path: Path) -> tuple[Path, Path]:
    """The files beside an HNSW graph: its ids (in insertion order) and its sorted deleted ids."""
    return path.with_name(path.name + ".ids.npy"), path.with_name(path.name + ".deleted.npy")


def _derived_digest(path: Path) -> str | None:
    """The digest of the index saved at ``path`` now (None when there is none), for a save that only changes
    deletion marks to keep."""
    try:
        return saved_index_digest(path)
    except DataError:
        return None


def _lock_path(path: Path) -> Path:
    """The lock file ``save`` holds. A caller that builds then saves must hold a lock of its own, never this one:
    two locks on one file in one process would wait on each other."""
    return path.with_name(path.name + ".lock")


def _settings_digest(meta: dict) -> str:
    settings = {key: value for key, value in meta.items() if key != "settings_sha256"}
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


def _write_sidecar(path: Path, meta: dict, data_files: list[Path], vectors_sha256: str | None,
                   derived_digest: str | None = None) -> None:
    """The settings file: settings, ``vectors_sha256``, a FileRecord per data file, a fresh ``build_id`` (two
    builds are told apart even when their bytes agree), the ``derived_digest`` to keep (if any), and a digest of
    all of that."""
    meta = {**meta, "vectors_sha256": vectors_sha256, "build_id": uuid.uuid4().hex,
            "files": {file.name: file_record(file) for file in data_files}}
    if derived_digest is not None:
        meta["derived_digest"] = derived_digest
    _replace_sidecar(path, meta)


def _replace_sidecar(path: Path, meta: dict) -> None:
    meta = {**meta, "settings_sha256": _settings_digest(meta)}
    write_text_atomic(path.with_name(path.name + ".json"), json.dumps(meta, indent=2))


def _read_sidecar(path: Path) -> dict:
    sidecar = path.with_name(path.name + ".json")
    if not sidecar.exists():
        raise DataError("no index here (its .json settings file is missing); build it with `textsel index`",
                        file=str(sidecar))
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DataError(f"the index settings file is unreadable ({error}); {_REBUILD}", file=str(sidecar)) from error
    if not isinstance(meta, dict) or meta.get("backend") not in ("hnsw", "exact"):
        raise DataError(f"the index settings file is not one textsel wrote; {_REBUILD}", file=str(sidecar))
    return meta


def _verified_sidecar(path: Path, vectors_sha256: str | None) -> dict:
    """The settings of the index at ``path`` after checking them and every data file against their checksums."""
    meta = _read_sidecar(path)
    sidecar = str(path.with_name(path.name + ".json"))
    if not isinstance(meta.get("files"), dict) or "settings_sha256" not in meta:
        raise DataError(f"the index has no checksums (saved by an older textsel); {_REBUILD}", file=sidecar)
    if meta["settings_sha256"] != _settings_digest(meta):
        raise DataError(f"the index settings file was changed after it was written; {_REBUILD}", file=sidecar)
    if vectors_sha256 is not None and meta.get("vectors_sha256") != vectors_sha256:
        raise DataError(f"the index was built over other vectors than the embeddings it is used with; {_REBUILD}",
                        file=str(path))
    refreshed = {}
    for name, record in meta["files"].items():
        file = path.with_name(name)
        try:
            current = verified_record(file, record)
        except FileNotFoundError:
            raise DataError(f"an index file is missing; {_REBUILD}", file=str(file)) from None
        if current is None:
            raise DataError(f"the index file does not match the checksum recorded when it was saved (changed or "
                            f"damaged since); {_REBUILD}", file=str(file))
        refreshed[name] = current
    if refreshed != meta["files"]:  # same bytes, new mtimes (a copied project): remember the new stat
        try:
            _replace_sidecar(path, {**meta, "files": refreshed})
        except OSError:
            pass
    return meta
