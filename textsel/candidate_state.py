"""The SEALS candidate pool kept between processes, so a round never replays the label history.

A project saves the state of its :class:`~textsel.candidates.SEALSCandidates` (the sorted ids whose neighbours
were added, and the sorted union of those neighbours) after each round in one ``.npz`` (read with
``allow_pickle=False``) and records, in its store, the file's checksum and what the state was built from: the
index (:func:`textsel.index.saved_index_digest`), k and the search width. A later round restores it only when all
of that still holds and every id it has seen is still labeled; otherwise the state is rebuilt from the current
labels in one batched query, and the caller is told why. Documents removed from the corpus since are dropped from the
restored candidates (their labels, and so the ids seen, stay).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from textsel._atomic import atomic_path
from textsel._integrity import file_record, verified_record
from textsel._setops import setdiff
from textsel.candidates import SEALSCandidates

STATE_FORMAT = 1


def save_candidate_state(path: str | os.PathLike, pool: SEALSCandidates, source: dict,
                         removed_ids: np.ndarray | None = None) -> dict:
    """Write ``pool``'s state to ``path`` atomically; return the record to keep (format, source, file checksum).

    ``source`` says what the state was built from (the index digest, k, ef); :func:`load_candidate_state`
    accepts the file only for the same ``source``. ``removed_ids`` are dropped from the pool's candidates first
    (the neighbours of new labels may name texts removed from the corpus).
    """
    path = Path(path)
    drop_removed(pool, removed_ids)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:  # a file object: np.savez would otherwise append ".npz" to the name
            np.savez(handle, seen=np.asarray(pool.seen_, dtype=np.int64),
                     neighbours=np.asarray(pool.neighbours_, dtype=np.int64))
    return {"format": STATE_FORMAT, "source": dict(source), "file": file_record(path)}


def load_candidate_state(path: str | os.PathLike, record: dict | None, index, *, k: int, ef: int | None,
                         source: dict, labeled_ids: np.ndarray, removed_ids: np.ndarray | None = None
                         ) -> tuple[SEALSCandidates, str]:
    """A SEALS pool over ``index``: the saved state when it is still valid, else an empty one to rebuild.

    ``removed_ids`` (documents removed from the corpus) are left out of the restored candidates.

    Returns ``(pool, how)`` where ``how`` says what happened: "restored", "new" (no saved state), or
    "rebuilt: <reason>" (the index or k changed, the file changed since it was saved, or a label was retracted).
    """
    pool = SEALSCandidates(index, k=k, ef=ef)
    if not record:
        return pool, "new"
    reason = _stale_reason(Path(path), record, source)
    if reason is None:
        try:
            with np.load(path, allow_pickle=False) as arrays:
                seen, neighbours = arrays["seen"], arrays["neighbours"]
        except (OSError, ValueError, KeyError) as error:
            reason = f"the saved state is unreadable ({error})"
        else:
            if len(setdiff(seen, labeled_ids)):
                reason = "a label was retracted since it was saved"
            else:
                pool.seen_, pool.neighbours_ = seen.astype(np.int64), neighbours.astype(np.int64)
                drop_removed(pool, removed_ids)
                return pool, "restored"
    return pool, f"rebuilt: {reason}"


def drop_removed(pool: SEALSCandidates, removed_ids: np.ndarray | None) -> None:
    """Take documents removed from the corpus out of ``pool``'s candidates (not out of ``seen_``: their labels
    stay, and so do the neighbourhoods they brought in)."""
    if removed_ids is not None and len(removed_ids):
        pool.neighbours_ = np.setdiff1d(pool.neighbours_, np.asarray(removed_ids, dtype=np.int64))


def _stale_reason(path: Path, record: dict, source: dict) -> str | None:
    if record.get("format") != STATE_FORMAT:
        return "it was saved by another textsel version"
    if record.get("source") != source:
        changed = sorted(key for key in set(source) | set(record.get("source") or {})
                         if (record.get("source") or {}).get(key) != source.get(key))
        return f"{', '.join(changed)} changed since it was saved"
    try:
        current = verified_record(path, record.get("file"))
    except FileNotFoundError:
        return "the saved state file is missing"
    if current is None:
        return "the saved state file changed since it was saved (checksum differs)"
    return None
