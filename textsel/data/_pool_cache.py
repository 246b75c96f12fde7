"""A project's copy of its pool for reading a few rows fast: ids, and texts addressable by row.

Loading a pool of 1M texts from Parquet or CSV to validate a handful of ids, or to show the 20 texts of a round,
takes seconds. This cache holds three plain files (no pickle): ``pool.ids.npy`` (int64 ids in pool order),
``pool.offsets.npy`` (int64 byte offsets, one more than rows) and ``pool.texts.bin`` (the UTF-8 texts back to
back). A round reads the ids (8 bytes a row) and the bytes of the rows it shows, through memory maps.

:func:`write_pool_cache` returns a record (a checksum record per file); the readers return None when a file is
missing or no longer matches its record (size and mtime first, the sha256 only when those differ), and the
caller falls back to loading the pool, which writes the cache again.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from textsel._atomic import atomic_path
from textsel._integrity import file_record, restamped, verified_record
from textsel.data._pool import Pool

_FILES = {"ids": "pool.ids.npy", "offsets": "pool.offsets.npy", "texts": "pool.texts.bin"}


def write_pool_cache(folder: str | os.PathLike, pool: Pool) -> dict:
    """Write the cache of ``pool`` into ``folder`` (each file atomically); return its record."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    encoded = [text.encode("utf-8", "surrogatepass") for text in pool.texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=offsets[1:])
    with atomic_path(folder / _FILES["ids"]) as tmp:
        np.save(tmp, np.asarray(pool.ids, dtype=np.int64))
    with atomic_path(folder / _FILES["offsets"]) as tmp:
        np.save(tmp, offsets)
    with atomic_path(folder / _FILES["texts"]) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(b"".join(encoded))
    return {"rows": len(pool), "string_ids": bool(pool.has_string_ids),
            **{key: file_record(folder / name) for key, name in _FILES.items()}}


def _verified(folder: Path, record: dict | None, keys: tuple[str, ...]) -> bool:
    if not record or "string_ids" not in record:  # a record older than the flag: written again on the next load
        return False
    for key in keys:
        try:
            if verified_record(folder / _FILES[key], record.get(key)) is None:
                return False
        except FileNotFoundError:
            return False
    return True


def restamped_pool_cache(folder: str | os.PathLike, record: dict, keys: tuple[str, ...]) -> dict:
    """``record`` with the current stat of the files ``keys`` (just verified by checksum: see
    :func:`textsel._integrity.restamped`)."""
    return {**record, **{key: restamped(record[key], Path(folder) / _FILES[key]) for key in keys}}


def pool_cache_valid(folder: str | os.PathLike, record: dict | None) -> bool:
    """Whether every file of the cache in ``folder`` matches ``record``."""
    return _verified(Path(folder), record, tuple(_FILES))


def read_pool_ids(folder: str | os.PathLike, record: dict | None) -> np.ndarray | None:
    """The pool's ids from the cache, or None when the cache is missing or does not match ``record``."""
    folder = Path(folder)
    if not _verified(folder, record, ("ids",)):
        return None
    ids = np.load(folder / _FILES["ids"], allow_pickle=False)
    return ids if ids.dtype == np.int64 and ids.ndim == 1 and len(ids) == record.get("rows") else None


def read_pool_texts(folder: str | os.PathLike, record: dict | None, positions: np.ndarray) -> list[str] | None:
    """The texts at pool ``positions`` from the cache, or None when the cache is missing or does not match."""
    folder = Path(folder)
    if not _verified(folder, record, ("offsets", "texts")):
        return None
    offsets = np.load(folder / _FILES["offsets"], mmap_mode="r", allow_pickle=False)
    if offsets.ndim != 1 or len(offsets) != record.get("rows", -1) + 1:
        return None
    positions = np.asarray(positions, dtype=np.int64)
    if not len(positions):
        return []
    data = np.memmap(folder / _FILES["texts"], dtype=np.uint8, mode="r") if offsets[-1] else np.zeros(0, np.uint8)
    return [bytes(data[offsets[row]:offsets[row + 1]]).decode("utf-8", "surrogatepass") for row in positions]
