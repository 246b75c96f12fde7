"""A per-text embedding cache shared by every project on one machine, so a text is embedded once per model.

The project's embedding file is keyed by the whole pool; this cache sits under it, keyed per text: the sha256 of
the text's UTF-8 bytes, in one SQLite file per model and settings (model name, max_seq_length, normalize, dtype)
under ``$TEXTSEL_HOME/text-embeddings/`` (default ``~/.cache/textsel``). :class:`CachedEncoder` wraps an embedder:
``encode`` returns cached rows and sends only the other texts to the model. A second project over the same texts,
or a pool that grew by a few documents, embeds only what it has not seen.

Rows are float32 bytes (what the model returned, so a cached row equals a fresh one); each file records its
settings and is checked before use; SQLite holds no executable content.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from textsel._home import textsel_home
from textsel.errors import DataError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS vectors (text_sha256 BLOB PRIMARY KEY, vector BLOB NOT NULL);
"""


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
        for start in range(0, len(keys), 500):  # SQLite's limit on bound parameters
            part = keys[start:start + 500]
            rows = self._connection.execute(
                f"SELECT text_sha256, vector FROM vectors WHERE text_sha256 IN ({','.join('?' * len(part))})", part)
            found.update((key, np.frombuffer(blob, dtype=np.float32)) for key, blob in rows)
        return found

    def store(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Remember ``vectors`` (rows aligned with ``texts``) in one transaction."""
        rows = [(self.key(text), np.ascontiguousarray(vector, dtype=np.float32).tobytes())
                for text, vector in zip(texts, vectors, strict=True)]
        with self._connection:
            self._connection.execute("BEGIN IMMEDIATE")
            self._connection.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?)", rows)


class CachedEncoder:
    """An embedder whose ``encode`` reads the per-text cache first and embeds only the texts it lacks.

    Every other attribute (``name``, ``max_seq_length``, ``dimension`` ...) is the wrapped embedder's, so it can be
    passed wherever an embedder is expected. ``encoded_texts`` counts the texts sent to the model.
    """

    def __init__(self, embedder: object, cache: TextEmbeddingCache | None = None) -> None:
        self.embedder = embedder
        self.cache = cache if cache is not None else TextEmbeddingCache(encoder_settings(embedder))
        self.encoded_texts = 0

    def __getattr__(self, name: str):  # noqa: ANN204 - delegate to the wrapped embedder
        return getattr(self.__dict__["embedder"], name)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        found = self.cache.lookup(texts)
        keys = [self.cache.key(text) for text in texts]
        missing = list(dict.fromkeys(text for text, key in zip(texts, keys, strict=True) if key not in found))
        if missing:
            fresh = np.asarray(self.embedder.encode(missing), dtype=np.float32)
            self.encoded_texts += len(missing)
            self.cache.store(missing, fresh)
            found.update(zip((self.cache.key(text) for text in missing), fresh, strict=True))
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack([found[key] for key in keys]).astype(np.float32, copy=False)
