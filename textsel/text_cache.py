"""A per-text embedding cache shared by every project on one machine, so a text is embedded once per model.

The project's embedding file is keyed by the whole pool; this cache sits under it, keyed per text: the sha256 of
the text's UTF-8 bytes, in one SQLite file per model and settings (model name, max_seq_length, normalize, dtype)
under ``$TEXTSEL_HOME/text-embeddings/`` (default ``~/.cache/textsel``). :class:`CachedEncoder` wraps an embedder:
``encode`` returns cached rows and sends only the other texts to the model. A second project over the same texts,
or a pool that grew by a few documents, embeds only what it has not seen.

Rows are float32 bytes (what the model returned, so a cached row equals a fresh one); each file records its
settings and is checked before use; SQLite holds no executable content. Each row is bound to its text: it stores
the sha256 of the text's key and the vector's bytes, checked on every read, so a row moved to another text, cut
short or changed is a miss (re-embedded and rewritten, with a warning), never a wrong vector. Rows written before
the binding existed are misses too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from textsel._home import textsel_home
from textsel.errors import DataError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS vectors (text_sha256 BLOB PRIMARY KEY, vector BLOB NOT NULL, binding BLOB);
"""
logger = logging.getLogger(__name__)


def encoder_settings(embedder: object) -> dict:
    """What makes an embedder's vectors what they are (the cache key besides the text)."""
    return {"model_name": str(getattr(embedder, "name", None) or type(embedder).__qualname__),
            "max_seq_length": getattr(embedder, "max_seq_length", None),
            "normalize": getattr(embedder, "normalize", None), "dtype": str(getattr(embedder, "dtype", None))}


class TextEmbeddingCache:
    """Vectors by text for one embedder's settings, in ``folder/<settings digest>.sqlite``.

    Parameters
    ----------
    settings : dict
        From :func:`encoder_settings`; a file written for other settings is refused with DataError.
    folder : path, optional
        Defaults to ``textsel_home() / "text-embeddings"``.
    """

    def __init__(self, settings: dict, folder: str | os.PathLike | None = None) -> None:
        self.settings = dict(settings)
        digest = hashlib.sha256(json.dumps(self.settings, sort_keys=True).encode()).hexdigest()[:24]
        folder = Path(folder) if folder is not None else textsel_home() / "text-embeddings"
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{digest}.sqlite"
        try:
            self._connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._connection.executescript(_SCHEMA)
            if "binding" not in {row[1] for row in self._connection.execute("PRAGMA table_info(vectors)")}:
                self._connection.execute("ALTER TABLE vectors ADD COLUMN binding BLOB")  # older rows: misses
            row = self._connection.execute("SELECT value FROM settings WHERE key = 'settings'").fetchone()
            if row is None:
                self._connection.execute("INSERT OR IGNORE INTO settings VALUES ('settings', ?)",
                                         (json.dumps(self.settings, sort_keys=True),))
            elif json.loads(row[0]) != self.settings:
                raise DataError("the per-text embedding cache was written for other settings; delete it to start "
                                "a new one", file=str(self.path))
        except (sqlite3.DatabaseError, ValueError) as error:
            raise DataError(f"the per-text embedding cache is unreadable ({error}); delete it to start a new one",
                            file=str(self.path)) from error

    def close(self) -> None:
        self._connection.close()

    @staticmethod
    def key(text: str) -> bytes:
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()

    def lookup(self, texts: Sequence[str]) -> dict[bytes, np.ndarray]:
        """Cached vectors of ``texts`` by key (texts not cached are absent)."""
        keys = list(dict.fromkeys(self.key(text) for text in texts))
        found: dict[bytes, np.ndarray] = {}
        unbound = 0
        for start in range(0, len(keys), 500):  # SQLite's limit on bound parameters
            part = keys[start:start + 500]
            rows = self._connection.execute(
                f"SELECT text_sha256, vector, binding FROM vectors WHERE text_sha256 IN ({','.join('?' * len(part))})",
                part)
            for key, blob, binding in rows:
                if _bound(key, blob, binding):
                    found[key] = np.frombuffer(blob, dtype=np.float32)
                else:
                    unbound += 1
        if unbound:
            logger.warning("%d cached embeddings in %s do not match their texts (changed, cut short or written by an "
                           "older textsel); they are embedded again", unbound, self.path)
        return found

    def store(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Remember ``vectors`` (rows aligned with ``texts``), each bound to its text, in one transaction; a row
        that failed its check is replaced."""
        rows = []
        for text, vector in zip(texts, vectors, strict=True):
            key, blob = self.key(text), np.ascontiguousarray(vector, dtype=np.float32).tobytes()
            rows.append((key, blob, _binding(key, blob)))
        with self._connection:
            self._connection.execute("BEGIN IMMEDIATE")
            self._connection.executemany("INSERT OR REPLACE INTO vectors(text_sha256, vector, binding) "
                                         "VALUES (?, ?, ?)", rows)


def _binding(key: bytes, blob: bytes) -> bytes:
    """What binds a vector to its text: the sha256 of the text's key and the vector's bytes."""
    return hashlib.sha256(b"textsel-text-embedding\0" + key + blob).digest()


def _bound(key: object, blob: object, binding: object) -> bool:
    """Whether a row read back is a whole float32 vector still bound to the text ``key``."""
    return (isinstance(key, bytes) and isinstance(blob, bytes) and isinstance(binding, bytes) and len(blob) > 0
            and len(blob) % 4 == 0 and binding == _binding(key, blob))


class KnownVectors:
    """Vectors a project already holds for its texts (its embeddings before ``add`` grew the pool), looked up by
    text for the texts the per-text cache lacks, so growing a pool never re-embeds its old texts. They are not
    written to the per-text cache (a project file may hold them rounded to float16)."""

    def __init__(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        self.texts, self.vectors = texts, vectors
        self._rows: dict[bytes, int] | None = None

    def lookup(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """The known vector (float32) of each key that has one."""
        if self._rows is None:  # hashed only when the cache missed something
            self._rows = {TextEmbeddingCache.key(text): row for row, text in enumerate(self.texts)}
        return {key: np.asarray(self.vectors[self._rows[key]], dtype=np.float32) for key in keys if key in self._rows}


class CachedEncoder:
    """An embedder whose ``encode`` reads the per-text cache first and embeds only the texts it lacks.

    Every other attribute (``name``, ``max_seq_length``, ``dimension`` ...) is the wrapped embedder's, so it can be
    passed wherever an embedder is expected. ``encoded_texts`` counts the texts sent to the model.
    """

    def __init__(self, embedder: object, cache: TextEmbeddingCache | None = None, *,
                 known: KnownVectors | None = None) -> None:
        self.embedder = embedder
        self.cache = cache if cache is not None else TextEmbeddingCache(encoder_settings(embedder))
        self.known = known
        self.encoded_texts = 0

    reports_batches = True  # encode(on_batch=...) advances per batch of the wrapped model (textsel.embed)

    def __getattr__(self, name: str):  # noqa: ANN204 - delegate to the wrapped embedder
        return getattr(self.__dict__["embedder"], name)

    def encode(self, texts: Sequence[str], *, on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Vectors of ``texts``: cached ones at once, the others from the model. ``on_batch(n)`` is called with the
        count found in the cache, then after every batch the model embeds, so a progress bar moves per batch."""
        from textsel.embed import encode_reporting

        texts = list(texts)
        found = self.cache.lookup(texts)
        keys = [self.cache.key(text) for text in texts]
        if self.known is not None and len(found) < len(set(keys)):
            found.update(self.known.lookup([key for key in keys if key not in found]))
        missing = list(dict.fromkeys(text for text, key in zip(texts, keys, strict=True) if key not in found))
        advance = on_batch if on_batch is not None else (lambda n: None)
        advance(len(texts) - len(missing))  # found, and repeats of a missing text: done with it
        if missing:
            fresh = np.asarray(encode_reporting(self.embedder, missing, advance), dtype=np.float32)
            self.encoded_texts += len(missing)
            self.cache.store(missing, fresh)
            found.update(zip((self.cache.key(text) for text in missing), fresh, strict=True))
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        if len({len(found[key]) for key in keys}) > 1:
            raise DataError("the per-text embedding cache holds vectors of different lengths for one model; delete "
                            "it to start a new one", file=str(self.cache.path))
        return np.vstack([found[key] for key in keys]).astype(np.float32, copy=False)
