"""The mismatch diagnostic run in the static first pass's space: it flags a concept the static vectors scatter
although the transformer vectors cluster it, and then advises about the first pass."""

from __future__ import annotations

import numpy as np

from textsel.diagnose import STATIC_RECOMMENDATION, diagnose, diagnose_static_space
from textsel.index import ExactIndex

N, DIM = 3000, 16


def spaces() -> tuple[ExactIndex, ExactIndex, np.ndarray]:
    """(transformer index, static index, is_positive): 5% positives, one tight cluster in the transformer space and
    scattered at random in the static one."""
    rng = np.random.default_rng(0)
    is_positive = np.zeros(N, dtype=bool)
    is_positive[rng.choice(N, N // 20, replace=False)] = True
    transformer = rng.normal(size=(N, DIM))
    transformer[is_positive] = rng.normal(size=DIM) * 3 + 0.3 * rng.normal(size=(int(is_positive.sum()), DIM))
    indexes = []
    for vectors in (transformer, rng.normal(size=(N, DIM))):
        index = ExactIndex()
        index.add((vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32), np.arange(N) + 500)
        indexes.append(index)
    return indexes[0], indexes[1], is_positive


def test_a_concept_the_static_space_scatters_is_flagged_with_first_pass_advice():
    transformer, static, is_positive = spaces()
    labeled = np.random.default_rng(1).choice(N, 800, replace=False)
    in_static = diagnose_static_space(static, labeled + 500, is_positive[labeled])
    assert in_static.mismatch and in_static.recommendation == STATIC_RECOMMENDATION
    assert in_static.reasons and all(reason.startswith("in the static first pass's space") for reason in
                                     in_static.reasons)
    assert "static first pass" in in_static.report()
    in_transformer = diagnose(transformer, labeled + 500, is_positive[labeled])
    assert not in_transformer.mismatch


def test_a_concept_the_static_space_clusters_gets_the_plain_diagnosis():
    transformer, _, is_positive = spaces()
    labeled = np.random.default_rng(2).choice(N, 800, replace=False)
    as_static = diagnose_static_space(transformer, labeled + 500, is_positive[labeled], seed=3)
    assert as_static == diagnose(transformer, labeled + 500, is_positive[labeled], seed=3)
    assert not as_static.mismatch and as_static.recommendation == ""
