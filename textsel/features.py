"""The features stage: what the classifier reads for each text, chosen per project.

Four kinds, registered by name in :data:`FEATURES` (like strategies and learners):

- ``dense``: the sentence embeddings (the default; every project made before this stage uses it);
- ``lexical``: TF-IDF of word 1- and 2-grams, fitted on the pool, a sparse matrix. A criterion that is a kind of
  document ("is a randomised trial", "a literature review") lives in word pairs that a sentence embedding blurs;
  ASReview's default model reads exactly these features;
- ``hybrid``: both side by side (:class:`HybridRows`): the embedding block and the TF-IDF block, each of unit
  norm per row, the embedding block scaled by ``dense_weight``;
- ``static``: in a static first-pass project, the static (model2vec) vectors every text already has, instead of
  transformer vectors embedded on demand for the labeled texts and candidates: a round then runs no transformer,
  so its cost at a million texts is the candidates' rows, not their encoding.

Only the classifier reads these features. SEALS still takes its candidates from the dense index, and strategies
that need geometry (k-center, information density) still read the embeddings. The lexical matrix is built once
per pool and kept in the project's cache as plain files, never a pickle: ``lexical/matrix.npz``
(:func:`scipy.sparse.save_npz`), ``lexical/vocabulary.json`` (the terms in column order), ``lexical/idf.npy``
and ``lexical/record.json`` (what it was built from and the matrix's checksum, verified before use). A round
slices the rows of its labeled texts and candidates, so its cost stays O(candidates).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from textsel._atomic import atomic_path, write_text_atomic
from textsel._integrity import cache_lock, file_record, verified_record
from textsel._prefetch import read_rows
from textsel.errors import ConfigError, DataError, check_param

if TYPE_CHECKING:
    import scipy.sparse as sp

logger = logging.getLogger(__name__)

LEXICAL_DIR = "lexical"
LEXICAL_FORMAT = 1


@dataclass(frozen=True)
class FeatureSpec:
    """A registered feature kind: its name, whether it reads the TF-IDF matrix and the embeddings, and what it is."""

    name: str
    lexical: bool
    dense: bool
    description: str = ""


FEATURES: dict[str, FeatureSpec] = {}
"""Name -> :class:`FeatureSpec`; add one with :func:`register_features`."""


def register_features(name: str, *, lexical: bool, dense: bool, description: str = "") -> FeatureSpec:
    """Add (or replace) a feature kind under ``name``."""
    FEATURES[name] = FeatureSpec(name, lexical, dense, description)
    return FEATURES[name]


register_features("dense", lexical=False, dense=True,
                  description="the sentence embeddings (semantic; the default of projects made before [features])")
register_features("lexical", lexical=True, dense=False,
                  description="TF-IDF of word 1-2-grams fitted on the pool (words and word pairs; sparse)")
register_features("hybrid", lexical=True, dense=True,
                  description="the embeddings and the TF-IDF side by side (semantic and lexical)")
register_features("static", lexical=False, dense=True,
                  description="the static first pass's vectors of every text (no transformer in a round)")


def feature_spec(name: str) -> FeatureSpec:
    """The registered feature kind ``name``, or ConfigError listing the names."""
    if name not in FEATURES:
        raise ConfigError(f"The 'features' parameter must be one of {sorted(FEATURES)}. Got {name!r}.")
    return FEATURES[name]


# --- lexical features: TF-IDF of word 1-2-grams, persisted as plain files ------------------------------------

@dataclass(frozen=True)
class LexicalSettings:
    """How the TF-IDF is fitted: word n-grams up to ``max_ngram``, terms in at least ``min_df`` texts, sublinear tf
    (1 + log tf), rows of unit L2 norm. ``min_df`` None means 1 below 20,000 texts, else 2 (a bigram seen once in
    a million texts is mostly a typo, and the vocabulary would grow past memory)."""

    max_ngram: int = 2
    min_df: int | None = None
    max_features: int | None = 2_000_000

    def resolved_min_df(self, n_texts: int) -> int:
        return self.min_df if self.min_df is not None else (1 if n_texts < 20_000 else 2)

    def as_dict(self, n_texts: int) -> dict:
        return {"max_ngram": self.max_ngram, "min_df": self.resolved_min_df(n_texts),
                "max_features": self.max_features, "sublinear_tf": True, "norm": "l2"}


def _vectorizer(settings: dict, vocabulary: Sequence[str] | None = None):  # noqa: ANN202 - a TfidfVectorizer
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, settings["max_ngram"]), min_df=settings["min_df"],
                           max_features=settings["max_features"], sublinear_tf=True, norm="l2", dtype=np.float32,
                           vocabulary=None if vocabulary is None else list(vocabulary))


class LexicalFeatures:
    """TF-IDF of word n-grams: ``fit_transform(texts)`` on the pool, ``transform(texts)`` for other texts, and
    :meth:`save`/:meth:`load` of the vocabulary and idf as JSON and .npy (nothing that can run code)."""

    def __init__(self, settings: LexicalSettings | None = None) -> None:
        self.settings = settings or LexicalSettings()

    def fit_transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Fit the vocabulary and idf on ``texts`` and return their rows (CSR, float32)."""
        check_param("LexicalFeatures", "max_ngram", self.settings.max_ngram,
                    isinstance(self.settings.max_ngram, int) and self.settings.max_ngram >= 1, "an int >= 1")
        self.params_ = self.settings.as_dict(len(texts))
        vectorizer = _vectorizer(self.params_)
        try:
            matrix = vectorizer.fit_transform(texts)
        except ValueError as error:  # an empty vocabulary: no text holds a word
            raise DataError(f"cannot build lexical features: {error}") from error
        self.vocabulary_ = vectorizer.get_feature_names_out().tolist()
        self.idf_ = vectorizer.idf_.astype(np.float32)
        return matrix.tocsr().astype(np.float32)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Rows of ``texts`` in the fitted vocabulary (unknown words are dropped)."""
        if not hasattr(self, "vocabulary_"):
            raise DataError("the lexical features are not fitted yet")
        vectorizer = _vectorizer(self.params_, self.vocabulary_)
        vectorizer.idf_ = self.idf_
        return vectorizer.transform(texts).tocsr().astype(np.float32)

    def save(self, folder: Path) -> None:
        """Write ``vocabulary.json`` (settings and terms in column order) and ``idf.npy`` into ``folder``."""
        write_text_atomic(folder / "vocabulary.json", json.dumps({"settings": self.params_,
                                                                   "terms": self.vocabulary_}))
        with atomic_path(folder / "idf.npy") as tmp:
            np.save(tmp, self.idf_)

    @classmethod
    def load(cls, folder: Path) -> LexicalFeatures:
        """Read what :meth:`save` wrote; a garbled file is a DataError naming it."""
        features = cls()
        try:
            document = json.loads((folder / "vocabulary.json").read_text(encoding="utf-8"))
            features.params_, features.vocabulary_ = dict(document["settings"]), list(document["terms"])
            features.idf_ = np.load(folder / "idf.npy", allow_pickle=False)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise DataError(f"cannot read the lexical features: {error}", file=str(folder)) from error
        if features.idf_.shape != (len(features.vocabulary_),):
            raise DataError(f"idf.npy has {features.idf_.shape} values for {len(features.vocabulary_)} terms",
                            file=str(folder / "idf.npy"))
        return features


def lexical_matrix(cache_dir: Path, texts: Callable[[], Sequence[str]], *, source: dict,
                   settings: LexicalSettings | None = None) -> sp.csr_matrix:
    """The pool's TF-IDF matrix from ``cache_dir/lexical``, built (and saved) when missing or stale.

    ``source`` says what the matrix is built from (e.g. the pool's fingerprint and row count); it is recorded with
    the settings and the matrix file's checksum in ``record.json``, and a saved matrix is used only when all three
    still match. ``texts`` is called only to build. One process builds at a time; the others wait and then load.
    """
    import scipy.sparse as sp

    settings = settings or LexicalSettings()
    folder = Path(cache_dir) / LEXICAL_DIR
    matrix = _load_lexical(folder, source, settings)
    if matrix is not None:
        return matrix
    with cache_lock(Path(cache_dir) / ".lexical.lock", "the lexical features"):
        matrix = _load_lexical(folder, source, settings)  # another process may have built it meanwhile
        if matrix is not None:
            return matrix
        pool_texts = texts()
        logger.info("Building lexical features (TF-IDF word 1-%d-grams) for %d texts ...", settings.max_ngram,
                    len(pool_texts))
        features = LexicalFeatures(settings)
        matrix = features.fit_transform(pool_texts)
        folder.mkdir(parents=True, exist_ok=True)
        features.save(folder)
        with atomic_path(folder / "matrix.npz") as tmp:
            sp.save_npz(tmp, matrix, compressed=False)
        record = {"format": LEXICAL_FORMAT, "source": source, "settings": features.params_,
                  "matrix": file_record(folder / "matrix.npz"), "shape": list(matrix.shape)}
        write_text_atomic(folder / "record.json", json.dumps(record, indent=2) + "\n")
        return matrix


def _load_lexical(folder: Path, source: dict, settings: LexicalSettings) -> sp.csr_matrix | None:
    """The saved matrix when its record matches ``source``, the settings and the file's bytes; else None."""
    import scipy.sparse as sp

    try:
        record = json.loads((folder / "record.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    rows = source.get("rows")
    if not isinstance(record, dict) or record.get("format") != LEXICAL_FORMAT or record.get("source") != source \
            or record.get("settings") != settings.as_dict(int(rows) if rows is not None else 0):
        return None
    try:
        if verified_record(folder / "matrix.npz", record.get("matrix")) is None:
            logger.warning("%s does not match its checksum; rebuilding the lexical features", folder / "matrix.npz")
            return None
        matrix = sp.load_npz(folder / "matrix.npz")  # scipy reads .npz with allow_pickle=False
    except (OSError, ValueError):
        return None
    return matrix.tocsr().astype(np.float32)


# --- the matrix a learner reads, and its rows ------------------------------------------------------------------

class HybridRows:
    """The embeddings and the TF-IDF side by side, row-aligned, without ever stacking the whole pool.

    Indexing with positions (or a slice) returns those rows as one CSR matrix ``[dense_weight * embeddings |
    tfidf]``: each block has unit norm per row (MiniLM vectors and TF-IDF rows both do), so ``dense_weight`` 1.0
    gives both the same say. The embeddings may be a float16 memmap; only the rows asked for are read.
    """

    def __init__(self, dense, lexical: sp.csr_matrix, dense_weight: float = 1.0) -> None:  # noqa: ANN001 - array
        if len(dense) != lexical.shape[0]:
            raise DataError(f"the embeddings have {len(dense)} rows but the lexical features {lexical.shape[0]}")
        check_param("HybridRows", "dense_weight", dense_weight,
                    isinstance(dense_weight, int | float) and dense_weight > 0, "a float > 0")
        self.dense, self.lexical, self.dense_weight = dense, lexical, float(dense_weight)

    def __len__(self) -> int:
        return self.lexical.shape[0]

    @property
    def shape(self) -> tuple[int, int]:
        return len(self), int(np.shape(self.dense)[1]) + self.lexical.shape[1]

    def __getitem__(self, rows) -> sp.csr_matrix:  # noqa: ANN001 - positions or a slice
        import scipy.sparse as sp

        dense = np.asarray(read_rows(self.dense, rows), dtype=np.float32) * np.float32(self.dense_weight)
        return sp.hstack([sp.csr_matrix(dense), self.lexical[rows]], format="csr", dtype=np.float32)


def is_sparse(matrix) -> bool:  # noqa: ANN001 - anything
    """Whether ``matrix`` is a scipy sparse matrix or array, without importing scipy (~0.1 s) for dense rounds."""
    return type(matrix).__module__.startswith("scipy.sparse")


def in_memory(matrix) -> bool:  # noqa: ANN001 - any feature matrix
    """Whether ``matrix`` holds (or memory-maps) every row, so contiguous slices of it are cheap to score: an
    array, a sparse matrix or :class:`HybridRows`; not features embedded on demand (``EmbeddedOnDemand``)."""
    return isinstance(matrix, np.ndarray | HybridRows) or is_sparse(matrix)


def take_rows(matrix, rows):  # noqa: ANN001, ANN201 - an array, CSR or HybridRows; positions or a slice
    """Rows of a feature matrix as the learner reads them: float32 array for dense features, CSR for sparse ones."""
    taken = read_rows(matrix, rows)
    return taken.tocsr().astype(np.float32) if is_sparse(taken) else np.asarray(taken, dtype=np.float32)


def classifier_matrix(kind: str, *, dense=None, lexical: Callable[[], sp.csr_matrix] | None = None,  # noqa: ANN001
                      dense_weight: float = 1.0):  # noqa: ANN201 - array, CSR or HybridRows
    """The matrix the classifier reads for feature ``kind``: the embeddings, the TF-IDF matrix, or both.

    ``dense`` is the embeddings (an array or memmap), ``lexical`` builds or loads the TF-IDF matrix (called only
    for the kinds that read it).
    """
    spec = feature_spec(kind)
    if spec.lexical and lexical is None:
        raise ConfigError(f"the {kind!r} features need the lexical matrix")
    if spec.dense and dense is None:
        raise ConfigError(f"the {kind!r} features need the embeddings")
    if not spec.lexical:
        return dense
    matrix = lexical()
    return HybridRows(dense, matrix, dense_weight) if spec.dense else matrix
