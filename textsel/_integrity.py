"""Cache integrity: one writer at a time, and a checksum record that says whether a file is still what was written.

Every cache (embeddings, index) is written under a lock file beside it, so two processes never fill one file, and
records a ``FileRecord`` of each file it wrote: size, modification time (ns) and the sha256 of its bytes. A reader
compares size and mtime first and re-hashes only when they differ (a copied project, a touched or damaged file),
so verifying a 1M-row cache costs one ``stat`` on the usual start-up.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

logger = logging.getLogger(__name__)

_BLOCK = 1 << 20


def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def file_record(path: str | os.PathLike) -> dict:
    """What a reader needs to verify ``path`` later: ``{"size", "mtime_ns", "sha256"}``."""
    stat = os.stat(path)
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": file_sha256(path)}


def verified_record(path: str | os.PathLike, record: Mapping | None) -> dict | None:
    """``path``'s current record when its bytes still match ``record``, else None.

    Same size and mtime as recorded: the record itself, without reading the file. Otherwise the file is hashed; a
    matching hash returns a fresh record (with the new mtime, for the caller to store), a different one None.
    A missing file raises FileNotFoundError; a record without a checksum never matches.
    """
    stat = os.stat(path)
    if not record or not isinstance(record.get("sha256"), str):
        return None
    if stat.st_size == record.get("size") and stat.st_mtime_ns == record.get("mtime_ns"):
        return dict(record)
    if stat.st_size != record.get("size"):
        return None
    current = file_record(path)
    return current if current["sha256"] == record["sha256"] else None


def restamped(record: Mapping, path: str | os.PathLike) -> dict:
    """``record`` with ``path``'s current size and mtime. Store it once the file's checksum matched under another
    mtime (a project copied without its timestamps), so later checks go by stat again instead of re-hashing."""
    stat = os.stat(path)
    return {**record, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


@contextmanager
def cache_lock(lock_path: str | os.PathLike, what: str) -> Iterator[None]:
    """Hold the lock file ``lock_path`` while writing the cache ``what``; wait (saying so) while another holds it.

    The lock is an OS file lock (``filelock``), released when its process ends, however it ends.
    """
    Path(lock_path).parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        logger.warning("Waiting for another textsel process that is writing %s ...", what)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()
