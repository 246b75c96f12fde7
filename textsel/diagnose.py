"""Does the embedding capture the concept? An embedding-task mismatch diagnostic from the labels a project has.

SEALS only scores the k nearest neighbours of labeled examples, so it works when positives sit near positives in
embedding space. Sentence-BERT groups texts by topic; a concept that cuts across topics (a spoiler in a review of
any book) is then scattered, and kNN candidate pools miss positives. Three measurements tell these cases apart:

- **kNN lift**: the share of positives among the k nearest labeled neighbours of each labeled positive, divided
  by the positive rate of the labeled set (1 = no better than chance).
- **Neighbourhood recall lift**: grow a SEALS pool (k=100 neighbours each, over the whole index) from a random half
  of the known positives; the share of the other half inside it, divided by the share of the index it covers
  (1 = the pool finds positives no better than a random sample of the same size).
- **Linear probe vs proxy**: cross-validated average precision of logistic regression on the embeddings, against a
  fastText proxy on the raw text, on the labeled set.

Thresholds come from measurements on real data in ../shared/data (``benchmarks/diagnose_thresholds.py``, random
labeled samples of 1,500, seed 0): TV Tropes spoilers at 3% positives gave kNN lift 1.23, neighbourhood recall
lift 1.48 and probe AP 1.4x the positive rate; hotel tips 3.3 / 1.8 / 8.7x; SMS spam 6.7 / 4.1 / 7.3x; Amazon
product categories (baby, magazines, automotive) 10-34 / 12-37 / 13-60x. The neighbourhood signal is the noisiest
(only half the positives are held out), so "mismatch" is flagged when at least two of the three signals fire.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from textsel.errors import DataError
from textsel.index import ExactIndex, VectorIndex

KNN_LIFT_THRESHOLD = 2.0
NEIGHBOURHOOD_RECALL_LIFT_THRESHOLD = 1.5
PROBE_AP_OVER_RATE_THRESHOLD = 3.0
PROXY_AP_MARGIN = 0.05
MIN_POSITIVES = 10
MIN_NEGATIVES = 20


@dataclass
class Diagnosis:
    """The measurements, whether they add up to an embedding-task mismatch, and what to do about it."""

    n_labeled: int
    n_positive: int
    positive_rate: float
    knn_lift: float
    neighbourhood_recall: float
    neighbourhood_pool_fraction: float
    neighbourhood_recall_lift: float
    probe_ap_embeddings: float
    probe_ap_proxy: float | None
    mismatch: bool
    reasons: list[str] = field(default_factory=list)
    recommendation: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    def report(self) -> str:
        """A few plain lines for the terminal."""
        proxy = "n/a" if self.probe_ap_proxy is None else f"{self.probe_ap_proxy:.3f}"
        lines = [
            f"labeled {self.n_labeled} ({self.n_positive} positive, rate {self.positive_rate:.3f})",
            f"kNN lift {self.knn_lift:.2f} (mismatch below {KNN_LIFT_THRESHOLD})",
            f"neighbourhood recall {self.neighbourhood_recall:.2f} from a pool of "
            f"{self.neighbourhood_pool_fraction:.1%} of the index: lift {self.neighbourhood_recall_lift:.2f} "
            f"(mismatch below {NEIGHBOURHOOD_RECALL_LIFT_THRESHOLD})",
            f"probe AP: embeddings {self.probe_ap_embeddings:.3f}, fastText proxy {proxy}",
        ]
        verdict = "EMBEDDING-TASK MISMATCH: " + "; ".join(self.reasons) if self.mismatch else (
            "the embedding captures this concept" + (f" (one weak signal: {self.reasons[0]})" if self.reasons else ""))
        return "\n".join([verdict, *lines, *([self.recommendation] if self.mismatch else [])])


def knn_lift(embeddings: np.ndarray, is_positive: np.ndarray, k: int = 10) -> float:
    """Share of positives among each labeled positive's k nearest labeled neighbours, over the positive rate."""
    index = ExactIndex("cosine")
    index.add(embeddings, np.arange(len(embeddings)))
    positives = np.flatnonzero(is_positive)
    neighbours, _ = index.search(embeddings[positives], k + 1)
    shares = [is_positive[row[(row != own) & (row >= 0)][:k]].mean()
              for own, row in zip(positives, neighbours, strict=True)]
    return float(np.mean(shares) / is_positive.mean())


def neighbourhood_recall(index: VectorIndex, positive_ids: np.ndarray, *, k: int = 100,
                         seed: int = 0) -> tuple[float, float]:
    """Grow a SEALS pool from half the positives; return (recall of the other half, pool fraction of the index)."""
    shuffled = np.random.default_rng(seed).permutation(np.asarray(positive_ids, dtype=np.int64))
    seeds, held_out = shuffled[: len(shuffled) // 2], shuffled[len(shuffled) // 2:]
    neighbours, _ = index.search(index.get_vectors(seeds), k)
    candidate_pool = np.setdiff1d(np.unique(neighbours[neighbours >= 0]), seeds)
    recall = float(np.isin(held_out, candidate_pool).mean())
    return recall, len(candidate_pool) / max(len(index) - len(seeds), 1)


def _cross_validated_ap(fit_predict, n_rows: int, is_positive: np.ndarray, seed: int) -> float:
    from sklearn.metrics import average_precision_score
    from sklearn.model_selection import StratifiedKFold

    folds = StratifiedKFold(n_splits=min(5, int(is_positive.sum())), shuffle=True, random_state=seed)
    scores = np.zeros(n_rows)
    for train, test in folds.split(np.zeros(n_rows), is_positive):
        scores[test] = fit_predict(train, test)
    return float(average_precision_score(is_positive, scores))


def probe_average_precision(embeddings: np.ndarray, is_positive: np.ndarray, seed: int = 0) -> float:
    """Cross-validated AP of balanced logistic regression on the embeddings."""
    from sklearn.linear_model import LogisticRegression

    def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        model = LogisticRegression(class_weight="balanced", max_iter=1000)
        return model.fit(embeddings[train], is_positive[train]).predict_proba(embeddings[test])[:, 1]

    return _cross_validated_ap(fit_predict, len(embeddings), is_positive, seed)


def proxy_average_precision(texts: Sequence[str], is_positive: np.ndarray, seed: int = 0) -> float:
    """Cross-validated AP of the fastText proxy on raw text: what a model that never saw the embedding gets."""
    from textsel.proxy import FastTextProxy

    def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        proxy = FastTextProxy(seed=seed).fit([texts[i] for i in train], is_positive[train].astype(int))
        probabilities = proxy.predict_proba([texts[i] for i in test])
        return probabilities[:, list(proxy.classes_).index(1)]

    return _cross_validated_ap(fit_predict, len(texts), is_positive, seed)


def diagnose(index: VectorIndex, labeled_ids: np.ndarray, is_positive: np.ndarray, *,
             texts: Sequence[str] | None = None, k: int = 10, pool_k: int = 100, seed: int = 0) -> Diagnosis:
    """Measure whether the embedding in ``index`` separates the concept behind the given labels.

    Parameters
    ----------
    index : VectorIndex
        The project's index over every document (ids are document ids).
    labeled_ids : ndarray of int, shape (n,)
    is_positive : ndarray of bool, shape (n,)
        Whether each labeled document belongs to the rare concept.
    texts : sequence of str, optional
        Texts of the labeled documents; when given, the fastText proxy is compared with the linear probe.
    k : int, default=10
        Neighbours for the kNN lift.
    pool_k : int, default=100
        Neighbours per positive for the neighbourhood recall (SEALS' k).
    """
    labeled_ids = np.asarray(labeled_ids, dtype=np.int64)
    is_positive = np.asarray(is_positive, dtype=bool)
    n_positive, n_negative = int(is_positive.sum()), int((~is_positive).sum())
    if n_positive < MIN_POSITIVES or n_negative < MIN_NEGATIVES:
        raise DataError(f"the diagnostic needs at least {MIN_POSITIVES} positive and {MIN_NEGATIVES} negative "
                        f"labels; got {n_positive} and {n_negative}. Label more, then run it again.")
    embeddings = index.get_vectors(labeled_ids)
    rate = float(is_positive.mean())
    lift = knn_lift(embeddings, is_positive, k)
    recall, pool_fraction = neighbourhood_recall(index, labeled_ids[is_positive], k=pool_k, seed=seed)
    recall_lift = recall / max(pool_fraction, 1e-12)
    probe = probe_average_precision(embeddings, is_positive, seed)
    proxy = proxy_average_precision(texts, is_positive, seed) if texts is not None else None

    reasons = []
    if lift < KNN_LIFT_THRESHOLD:
        reasons.append(f"kNN lift {lift:.2f} < {KNN_LIFT_THRESHOLD}: positives are not near positives")
    if recall_lift < NEIGHBOURHOOD_RECALL_LIFT_THRESHOLD:
        reasons.append(f"neighbourhood recall lift {recall_lift:.2f} < {NEIGHBOURHOOD_RECALL_LIFT_THRESHOLD}: a "
                       f"kNN pool finds held-out positives barely better than a random sample")
    if probe < PROBE_AP_OVER_RATE_THRESHOLD * rate:
        reasons.append(f"probe AP {probe:.3f} < {PROBE_AP_OVER_RATE_THRESHOLD} x positive rate {rate:.3f}")
    elif proxy is not None and proxy > probe + PROXY_AP_MARGIN:
        reasons.append(f"fastText proxy AP {proxy:.3f} beats the embedding probe {probe:.3f}")
    mismatch = len(reasons) >= 2
    recommendation = ("Recommendation: the kNN candidate pool will miss positives. Select with a full scan "
                      "(--pool all), or with the fastText proxy (textsel svp), or re-embed with a model "
                      "closer to the task." if mismatch else "")
    return Diagnosis(len(labeled_ids), n_positive, rate, lift, recall, pool_fraction, recall_lift, probe, proxy,
                     mismatch, reasons, recommendation)
