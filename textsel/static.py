"""Static embeddings distilled from the configured sentence-transformer: a cheap first pass for very large pools.

model2vec (Tulkens & van Dongen, 2024) runs the transformer once over each token of its vocabulary, reduces the
token vectors with PCA (256 dimensions by default) and weights them by token frequency (SIF). A text's vector is
then the mean of its tokens' rows: no transformer at encode time, about 100 times faster than MiniLM on a CPU.
The price is quality: on the shared rare concepts the kNN lift of static vectors is about half MiniLM's (issue 11).
So static vectors only choose *where to look* (SEALS candidate expansion with a wide k, see
:mod:`textsel.first_pass`); the candidates get the real transformer embedding, which the learner trains and
scores on. :class:`EmbeddedOnDemand` is that lazily filled, row-aligned feature matrix.

Distillation runs offline from the local model folder (the packaged MiniLM by default). The result is cached under
``$TEXTSEL_HOME/static-models/`` in model2vec's own safe formats (safetensors weights, tokenizer.json, JSON
config; nothing that executes when loaded) with a record of what it was built from: the source folder, the sha256
of its weight and tokenizer files, the dimensions and the model2vec version (all part of the folder name too).
Every file's checksum is verified before use; a damaged cache is a one-line error naming the folder to delete.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from textsel._atomic import atomic_dir
from textsel._home import textsel_home
from textsel._integrity import cache_lock, file_record, file_sha256, verified_record
from textsel.embed import Embedder
from textsel.errors import ConfigError, DataError, MissingDependencyError, check_param

STATIC_DIMS = 256
RECORD_NAME = "textsel-static.json"
_SOURCE_FILES = ("tokenizer.json", "vocab.txt")  # besides the *.safetensors weights: the vocabulary distilled


def static_models_folder() -> Path:
    """Where distilled static models are cached by default: ``<textsel home>/static-models``."""
    return textsel_home() / "static-models"


def _model2vec() -> Any:
    try:
        import model2vec
        from model2vec.distill import distill  # noqa: F401 - the extra's dependencies (skeletoken) are present
    except ImportError as error:
        raise MissingDependencyError("the static first pass needs model2vec: pip install 'textsel[static]'") \
            from error
    return model2vec


def source_folder(model_name_or_path: str | os.PathLike | None) -> Path:
    """The local folder of the sentence-transformer to distil: the packaged MiniLM for None and its names."""
    embedder = Embedder(model_name_or_path)
    folder = Path(embedder._source()).expanduser()
    if not folder.is_dir():
        raise ConfigError(f"distilling a static model needs a local model folder (it runs offline); "
                          f"{str(model_name_or_path)!r} is not one")
    return folder.resolve()


def check_static_available(model_name_or_path: str | os.PathLike | None) -> None:
    """Raise (MissingDependencyError, ConfigError) unless a static model can be distilled from the model here:
    model2vec is installed and the model is a local folder with safetensors weights. Distils nothing."""
    _model2vec()
    _safetensors_weights(source_folder(model_name_or_path))


def _safetensors_weights(folder: Path) -> list[Path]:
    """The folder's top-level safetensors weights; ConfigError when there are none."""
    weights = sorted(folder.glob("*.safetensors"))
    if not weights:
        raise ConfigError(f"the model folder {folder} has no .safetensors weights; static distillation loads "
                          "safetensors only (save the model with safe_serialization=True)")
    return weights


def source_checksums(folder: str | os.PathLike) -> dict[str, str]:
    """sha256 of the model folder's top-level safetensors weights and vocabulary files, by file name.

    Only safetensors weights are distilled: a pickled ``pytorch_model.bin`` could run code when loaded.
    """
    folder = Path(folder)
    files = [*_safetensors_weights(folder), *(folder / name for name in _SOURCE_FILES if (folder / name).is_file())]
    return {path.name: file_sha256(path) for path in files}


def _built_from(folder: Path, dims: int, version: str) -> dict:
    return {"source": str(folder), "source_sha256": source_checksums(folder), "dims": dims, "model2vec": version,
            "vectors_dtype": "float32"}


def _digest(fields: dict) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:24]


def _verified_model(folder: Path, built_from: dict) -> bool:
    """True when ``folder`` holds a finished static model built from ``built_from`` whose files all match their
    recorded checksums; False when there is no folder yet; DataError (naming the folder to delete) otherwise."""
    if not folder.exists():
        return False
    fix = f"delete the folder {folder} to distil the static model again"
    try:
        record = json.loads((folder / RECORD_NAME).read_text())
    except (OSError, ValueError):
        raise DataError(f"the static model cache has no readable record of what it was built from; {fix}",
                        file=str(folder / RECORD_NAME)) from None
    if not isinstance(record, dict) or record.get("built_from") != built_from or not record.get("files"):
        raise DataError(f"the static model cache was built from another model or settings than its folder name "
                        f"says; {fix}", file=str(folder / RECORD_NAME))
    for name, recorded in record["files"].items():
        try:
            current = verified_record(folder / name, recorded)
        except FileNotFoundError:
            current = None
        if current is None:
            raise DataError(f"the static model file is missing or does not match the checksum recorded when it "
                            f"was written; {fix}", file=str(folder / name))
    return True


def distill_static_model(model_name_or_path: str | os.PathLike | None = None, *, dims: int = STATIC_DIMS,
                         cache_dir: str | os.PathLike | None = None, show_progress: bool = False) -> Path:
    """Distil (once) a static model from a local sentence-transformer folder; return its verified cache folder.

    Parameters
    ----------
    model_name_or_path : str, path or None, default=None
        As for :class:`textsel.embed.Embedder`: None (and the MiniLM names) mean the packaged offline MiniLM;
        anything else must be a local folder with safetensors weights.
    dims : int, default=256
        PCA dimensions of the static vectors (model2vec's default; the issue-11 measurements used 256).
    cache_dir : path, optional
        Defaults to :func:`static_models_folder`. The model lives in ``static-<hash of what it was built from>``.
    show_progress : bool, default=False
        Show model2vec's bar over the vocabulary (distilling MiniLM's 30k tokens takes 10 s to a few minutes on
        a CPU).
    """
    check_param("distill_static_model", "dims", dims, isinstance(dims, int) and dims >= 2, "an int >= 2")
    model2vec = _model2vec()
    source = source_folder(model_name_or_path)
    built_from = _built_from(source, dims, model2vec.__version__)
    root = Path(cache_dir) if cache_dir is not None else static_models_folder()
    folder = root / f"static-{_digest(built_from)}"
    if _verified_model(folder, built_from):
        return folder
    with cache_lock(root / f"{folder.name}.lock", f"the static model {folder}"):
        if _verified_model(folder, built_from):  # another process may have distilled it meanwhile
            return folder
        with atomic_dir(folder) as tmp:
            model = _distill(model2vec, source, dims, show_progress)
            model.save_pretrained(tmp)
            files = {path.name: file_record(path) for path in sorted(tmp.iterdir()) if path.is_file()}
            (tmp / RECORD_NAME).write_text(json.dumps({"built_from": built_from, "files": files}, indent=2))
    return folder


def _distill(model2vec: Any, source: Path, dims: int, show_progress: bool) -> Any:
    """model2vec's distillation from the local folder, offline, float32 vectors (renormalised by us anyway).
    Without ``show_progress`` the libraries' bars and load reports (written to stderr) are held back."""
    import contextlib
    import io

    from model2vec.distill import distill
    from transformers.utils import logging as transformers_logging

    offline = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"  # a local folder: never ask the hub for a model card
    verbosity = transformers_logging.get_verbosity()
    quiet = contextlib.nullcontext() if show_progress else contextlib.redirect_stderr(io.StringIO())
    try:
        if not show_progress:
            transformers_logging.set_verbosity_error()
        with quiet:
            return distill(str(source), pca_dims=dims, quantize_to="float32")
    finally:
        transformers_logging.set_verbosity(verbosity)
        if offline is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = offline


class StaticEmbedder:
    """Static (model2vec) vectors distilled from a sentence-transformer, with :class:`textsel.embed.Embedder`'s
    ``encode`` contract: float32 rows of unit length, one per text. The model is distilled on first use (or read
    from its verified cache).

    A text with no token the static vocabulary knows (empty, only emoji ...) has no direction of its own; it gets
    the same fixed unit vector as every other such text, so it is a neighbour of those only.

    Parameters
    ----------
    model_name_or_path : str, path or None, default=None
        The sentence-transformer to distil (a local folder; None: the packaged MiniLM).
    dims : int, default=256
    cache_dir : path, optional
        Where distilled models are cached (default: :func:`static_models_folder`).
    batch_size : int, default=1024
    """

    max_seq_length = None
    normalize = True
    dtype = "float32"

    def __init__(self, model_name_or_path: str | os.PathLike | None = None, *, dims: int = STATIC_DIMS,
                 cache_dir: str | os.PathLike | None = None, batch_size: int = 1024) -> None:
        self.model_name_or_path = model_name_or_path
        self.dims = dims
        self.cache_dir = cache_dir
        self.batch_size = batch_size

    @property
    def name(self) -> str:
        """Identity in cache keys: the source model, a digest of its weights and the dimensions."""
        if getattr(self, "name_", None) is None:
            checksums = source_checksums(source_folder(self.model_name_or_path))
            digest = _digest(checksums)[:12]
            self.name_ = f"model2vec-static:{Embedder(self.model_name_or_path).name}:{digest}:dims={self.dims}"
        return self.name_

    @property
    def dimension(self) -> int:
        return int(self._loaded_model().dim)

    reports_batches = True  # encode(on_batch=...) advances a progress bar per batch (textsel.embed)

    def encode(self, texts: Sequence[str], *, on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed ``texts``; float32 of shape (len(texts), dims), every row of unit length."""
        model = self._loaded_model()
        texts = list(texts)
        vectors = np.empty((len(texts), model.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start:start + self.batch_size]
            vectors[start:start + len(batch)] = model.encode(batch, batch_size=self.batch_size,
                                                             use_multiprocessing=False, normalize=False)
            if on_batch is not None:
                on_batch(len(batch))
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        empty = norms[:, 0] == 0
        vectors[empty] = 1.0 / np.sqrt(model.dim)
        norms[empty] = 1.0
        return vectors / norms

    def _loaded_model(self) -> Any:
        if getattr(self, "model_", None) is None:
            check_param("StaticEmbedder", "batch_size", self.batch_size,
                        isinstance(self.batch_size, int) and self.batch_size >= 1, "an int >= 1")
            folder = distill_static_model(self.model_name_or_path, dims=self.dims, cache_dir=self.cache_dir)
            from model2vec import StaticModel

            self.model_ = StaticModel.from_pretrained(folder)
            self.folder_ = folder
        return self.model_


class EmbeddedOnDemand:
    """Feature rows of a pool that are embedded only when read: the two-stage pipeline's transformer features.

    Row-aligned with ``texts`` and indexed like an array (an int array of positions, a slice or one int), so
    :class:`textsel.rounds.RoundEngine` takes it as ``features``. A row is embedded (with ``encoder``, typically a
    :class:`textsel.text_cache.CachedEncoder` so no text is embedded twice across runs) the first time it is read
    and kept; ``embedded_rows`` counts the rows embedded so far. Reading most of the pool (a slice, the "all"
    pool) embeds most of the pool: use it with a candidate pool that stays a small share.

    Parameters
    ----------
    texts : sequence of str
    encoder : object with ``encode(texts) -> (n, dim)``
    """

    def __init__(self, texts: Sequence[str], encoder: Any) -> None:
        self.texts = texts
        self.encoder = encoder
        self.slot_ = np.full(len(texts), -1, dtype=np.int64)  # row position -> row of vectors_, -1: not embedded
        self.vectors_: np.ndarray | None = None
        self.embedded_rows = 0

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def shape(self) -> tuple[int, int | None]:
        return len(self.texts), None if self.vectors_ is None else self.vectors_.shape[1]

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, int | np.integer):
            return self[np.array([key])][0]
        positions = np.arange(len(self.texts))[key] if isinstance(key, slice) else np.asarray(key, dtype=np.int64)
        self._embed(np.unique(positions[self.slot_[positions] < 0]))
        if self.vectors_ is None:  # nothing asked for yet, nothing embedded
            return np.zeros((len(positions), 0), dtype=np.float32)
        return self.vectors_[self.slot_[positions]]

    def _embed(self, positions: np.ndarray) -> None:
        if not len(positions):
            return
        vectors = np.asarray(self.encoder.encode([self.texts[i] for i in positions]), dtype=np.float32)
        if len(vectors) != len(positions) or vectors.ndim != 2:
            raise DataError(f"the encoder returned {len(vectors)} rows for {len(positions)} texts")
        if self.vectors_ is None:
            self.vectors_ = np.empty((len(positions), vectors.shape[1]), dtype=np.float32)
        needed = self.embedded_rows + len(positions)
        if needed > len(self.vectors_):  # grow by doubling: amortised O(1) per row
            grown = np.empty((max(needed, 2 * len(self.vectors_)), self.vectors_.shape[1]), dtype=np.float32)
            grown[:self.embedded_rows] = self.vectors_[:self.embedded_rows]
            self.vectors_ = grown
        self.vectors_[self.embedded_rows:needed] = vectors
        self.slot_[positions] = np.arange(self.embedded_rows, needed)
        self.embedded_rows = needed
