"""The per-user textsel folder, where caches shared between runs and projects live."""

from __future__ import annotations

import os
from pathlib import Path


def textsel_home() -> Path:
    """The user cache folder: ``$TEXTSEL_HOME``, else ``$XDG_CACHE_HOME/textsel``, else ``~/.cache/textsel``."""
    if os.environ.get("TEXTSEL_HOME"):
        return Path(os.environ["TEXTSEL_HOME"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "textsel"


def shared_embedding_cache() -> Path:
    """Where runs without a project of their own (``simulate``) cache embeddings: ``<textsel home>/embeddings``.

    Caches inside are keyed by content (the pool's ids and texts, the model, truncation and dtype), so every run
    over the same data reuses one file whatever its output folder.
    """
    return textsel_home() / "embeddings"
