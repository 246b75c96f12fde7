"""Two-stage selection for very large pools: SEALS expands candidates in static space, the transformer embeds
only the candidates.

Embedding a pool with MiniLM costs 45-85 texts/s on a 2-core CPU (10M texts: about 32 hours) before the first
selection. Static vectors distilled from the same model (:mod:`textsel.static`) embed about 100 times faster, but
cluster a rare concept about half as well. So they only decide *which* texts are candidates: the k nearest
neighbours of every labeled text in the static index (SEALS, Coleman et al. 2022). The candidates and the labeled
texts get the full transformer embedding (through the per-text cache, :mod:`textsel.text_cache`, so no text is
embedded twice, in this run or any later one), and the learner trains and scores on those. The transformer cost
then grows with labels x k, not with the pool.

Density-based strategies are not supported here (their density would mix the two spaces); entropy, margin,
most-likely-positive and the other model-based strategies are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from textsel.candidates import SEALSCandidates, static_k
from textsel.errors import ConfigError, DataError, check_param
from textsel.index import VectorIndex, build_index
from textsel.simulate import HeldOut, run_simulation
from textsel.static import EmbeddedOnDemand, StaticEmbedder
from textsel.strategies import get_strategy
from textsel.text_cache import CachedEncoder


@dataclass
class FirstPass:
    """The pieces of a two-stage selection over one pool.

    Attributes
    ----------
    static_index : VectorIndex
        Over the pool's static vectors, keyed by document id.
    candidate_pool : SEALSCandidates
        Its kNN expansion (wide k) in static space.
    features : EmbeddedOnDemand
        Transformer rows, row-aligned with the pool, embedded when first read (candidates and labeled texts).
    """

    static_index: VectorIndex
    candidate_pool: SEALSCandidates
    features: EmbeddedOnDemand

    @property
    def transformer_rows(self) -> int:
        """Texts of the pool that have the transformer embedding so far."""
        return self.features.embedded_rows


def build_first_pass(pool_ids: np.ndarray, texts: Sequence[str], *, transformer: Any,
                     static_vectors: np.ndarray | None = None, static_embedder: Any | None = None,
                     static_index: VectorIndex | None = None, k: int | None = None, index_backend: str = "hnsw",
                     text_cache: bool = True) -> FirstPass:
    """Set up the two stages for a pool (``pool_ids`` row-aligned with ``texts``).

    Parameters
    ----------
    transformer : encoder
        The full model (``encode(texts)``, e.g. :class:`textsel.embed.Embedder`), run on candidates only.
    static_vectors : array (n, dims), optional
        The pool's static vectors when already computed (e.g. cached with ``embed_pool``); otherwise
        ``static_embedder`` (default: a :class:`textsel.static.StaticEmbedder` of the packaged MiniLM) embeds
        ``texts``.
    static_index : VectorIndex, optional
        An index already built over the pool's static vectors (keyed by ``pool_ids``): reused, nothing embedded.
    k : int, optional
        Neighbours per label in static space; default :func:`static_k` of the pool size.
    index_backend : {"hnsw", "exact"}, default="hnsw"
    text_cache : bool, default=True
        Wrap ``transformer`` in the per-text cache (:class:`textsel.text_cache.CachedEncoder`).
    """
    pool_ids = np.asarray(pool_ids, dtype=np.int64)
    if len(pool_ids) != len(texts):
        raise DataError(f"the pool has {len(pool_ids)} ids but {len(texts)} texts; they must be row-aligned")
    k = static_k(len(pool_ids)) if k is None else k
    check_param("build_first_pass", "k", k, isinstance(k, int | np.integer) and k >= 1, "an int >= 1")
    if static_index is None:
        if static_vectors is None:
            static_vectors = (static_embedder if static_embedder is not None else StaticEmbedder()).encode(texts)
        if len(static_vectors) != len(pool_ids):
            raise DataError(f"the static vectors have {len(static_vectors)} rows but the pool has {len(pool_ids)} "
                            "texts")
        static_index = build_index(np.asarray(static_vectors, dtype=np.float32), pool_ids, backend=index_backend)
    elif len(static_index) != len(pool_ids):
        raise DataError(f"the static index holds {len(static_index)} texts but the pool has {len(pool_ids)}")
    encoder = CachedEncoder(transformer) if text_cache else transformer
    return FirstPass(static_index, SEALSCandidates(static_index, k=int(k)), EmbeddedOnDemand(texts, encoder))


def simulate_first_pass(pool_ids: np.ndarray, labels: np.ndarray, first_pass: FirstPass, *,
                        heldout: HeldOut | None = None, strategy: str = "entropy", learner: Any = None,
                        batch_size: int = 100, budget: int = 2000, seed_positives: int = 5,
                        seed_negatives: int = 95, positive_label: Any = 1, seed: int = 0,
                        keep_labeled_ids: bool = False) -> list[dict]:
    """One simulated labeling session over the two stages: :func:`textsel.simulate.run_simulation` (same seed
    draw and round records) with the static SEALS pool and the on-demand transformer features. The last record
    also holds ``transformer_rows``: the pool texts embedded with the transformer (labeled texts plus every
    candidate scored), the cost the first pass saves on, and with ``keep_labeled_ids`` the ids labeled in order
    (e.g. for :func:`textsel.diagnose.diagnose_static_space`). ``heldout`` features are the transformer's."""
    if "density" in get_strategy(strategy).needs:
        raise ConfigError(f"The {strategy!r} strategy needs density, which the static first pass does not offer "
                          f"(the static and transformer spaces would mix); use a model-based strategy.")
    records = run_simulation(pool_ids, labels, features=first_pass.features, heldout=heldout, strategy=strategy,
                             candidate_pool=first_pass.candidate_pool, learner=learner, batch_size=batch_size,
                             budget=budget, seed_positives=seed_positives, seed_negatives=seed_negatives,
                             positive_label=positive_label, seed=seed, keep_labeled_ids=keep_labeled_ids)
    records[-1]["transformer_rows"] = first_pass.transformer_rows
    return records
