"""How an audit sample is drawn, with every audited text's inclusion probability, so estimates can be recomputed.

Two designs:

- ``uniform`` (the default): a simple random sample of the unlabeled texts, inclusion probability ``n / N`` for
  every one (Callaghan & Mueller-Hansen's sample of the unscreened remainder; ``textsel.estimate``).
- ``stratified``: the unlabeled texts are ranked by the model's score; the top ``top_share`` of them form one
  stratum and receive ``top_fraction`` of the sample, the rest the remainder; each stratum is a simple random
  sample, so a text's inclusion probability is its stratum's ``n_h / N_h``: higher where the score is high, never
  zero (``textsel.stratified``).

The returned ``params`` go into the audit round's record: the design, each stratum's population and sample size,
and ``inclusion_probability`` and ``stratum`` per audited text, in the order of the drawn ids.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from textsel.errors import check_param

DESIGNS = ("uniform", "stratified")
DEFAULT_TOP_SHARE = 0.1
DEFAULT_TOP_FRACTION = 0.5


@dataclass(frozen=True)
class AuditSample:
    """Drawn ids, each one's inclusion probability and stratum (0 = top, 1 = the rest; 0 for uniform), and the
    parameters to record with the round."""

    ids: np.ndarray
    inclusion_probability: np.ndarray
    stratum: np.ndarray
    params: dict


def draw_audit(rng: np.random.Generator, unlabeled: np.ndarray, n: int, *, design: str = "uniform",
               scores: np.ndarray | None = None, top_share: float = DEFAULT_TOP_SHARE,
               top_fraction: float = DEFAULT_TOP_FRACTION) -> AuditSample:
    """Draw ``n`` of the ``unlabeled`` ids with ``design``; ``scores`` (aligned with ``unlabeled``) rank the texts
    for the stratified design."""
    check_param("draw_audit", "design", design, design in DESIGNS, f"one of {', '.join(DESIGNS)}")
    check_param("draw_audit", "n", n, isinstance(n, int | np.integer) and n >= 1, "an int >= 1")
    population = len(unlabeled)
    n = min(int(n), population)
    if design == "uniform":
        chosen = rng.choice(unlabeled, n, replace=False)
        return AuditSample(chosen, np.full(n, n / population), np.zeros(n, dtype=np.int64),
                           {"design": "uniform", "sampling": "uniform without replacement",
                            "unlabeled": int(population), "inclusion_probability": [n / population] * n})
    check_param("draw_audit", "scores", scores, scores is not None and len(scores) == population,
                "one model score per unlabeled text")
    check_param("draw_audit", "top_share", top_share, 0.0 < top_share < 1.0, "a number in (0, 1)")
    check_param("draw_audit", "top_fraction", top_fraction, 0.0 < top_fraction < 1.0, "a number in (0, 1)")
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    top_size = min(max(1, round(top_share * population)), population - 1) if population > 1 else population
    strata = [unlabeled[order[:top_size]], unlabeled[order[top_size:]]]
    top_n = min(len(strata[0]), max(1, round(top_fraction * n)))
    rest_n = min(len(strata[1]), n - top_n)
    top_n = min(len(strata[0]), n - rest_n)  # a small rest stratum hands its share back to the top
    sizes = [top_n, rest_n]
    picks = [rng.choice(members, size, replace=False) for members, size in zip(strata, sizes, strict=True)]
    chosen = np.concatenate(picks)
    probability = np.concatenate([np.full(size, size / len(members) if len(members) else 0.0)
                                  for members, size in zip(strata, sizes, strict=True)])
    stratum = np.concatenate([np.full(size, h, dtype=np.int64) for h, size in enumerate(sizes)])
    threshold = float(np.asarray(scores)[order[top_size - 1]]) if top_size else None
    params = {"design": "stratified", "sampling": "score-stratified, uniform without replacement per stratum",
              "unlabeled": int(population), "top_share": top_share, "top_fraction": top_fraction,
              "top_score_threshold": threshold,
              "strata": [{"unlabeled": int(len(members)), "drawn": int(size)}
                         for members, size in zip(strata, sizes, strict=True)],
              "inclusion_probability": [float(p) for p in probability], "stratum": [int(h) for h in stratum]}
    return AuditSample(chosen, probability, stratum, params)
