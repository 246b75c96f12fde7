"""Does the embedding capture the concept? An embedding-task mismatch diagnostic from the labels a project has.

SEALS only scores the k nearest neighbours of labeled examples, so it works when positives sit near positives in
embedding space. Sentence-BERT groups texts by topic; a concept that cuts across topics (a spoiler in a review of
any book) is then scattered, and kNN candidate pools miss positives. Three measurements tell these cases apart:

- **kNN share above chance**: the share of positives among the k nearest labeled neighbours of each labeled
  positive, corrected for chance as (share - rate) / (1 - rate), where rate is the positive rate of the labeled
  set: 0 = no better than chance, 1 = every neighbour positive. (``knn_lift`` = share / rate is reported too.)
- **Neighbourhood recall lift**: grow a SEALS pool (k=100 neighbours each, over the whole index) from a random half
  of the known positives; the share of the other half inside it, divided by the share of the index it covers
  (1 = the pool finds positives no better than a random sample of the same size).
- **Linear probe above chance**: cross-validated average precision of logistic regression on the embeddings,
  corrected the same way; and, when texts are given, whether a fastText proxy on the raw text beats it.

Why chance-corrected: labels collected by active search are mostly positive (84-90% after SEALS-MLP rounds on
Amazon categories), which caps share / rate at 1 / rate, about 1.1, whatever the embedding does. The corrected
figures do not depend on the labeled positive rate. Thresholds come from ``benchmarks/diagnose_thresholds.py``
(random labeled samples of 1,500, seed 0) and ``recipes/goodreads_spoilers.py`` (labels a SEALS run collected):
TV Tropes spoilers at 3% positives gave kNN share above chance 0.01-0.04, probe AP above chance 0.02-0.07 and
neighbourhood recall lift 1.5 (random labels) to 3.1 (SEALS labels); Amazon product categories (baby, magazines,
automotive) 0.26-1.00, 0.50-1.00 and 12-44; SMS spam 0.89, 0.98 and 4.1; hotel tips (a weak concept, not flagged)
0.13, 0.46 and 1.8. A neighbourhood recall lift is inflated on
SEALS-collected labels (the held-out positives were found through neighbourhoods), so it is one vote of three:
"mismatch" is flagged when at least two signals fire.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from textsel.errors import DataError
from textsel.index import ExactIndex, VectorIndex

KNN_SHARE_ABOVE_CHANCE_THRESHOLD = 0.10
NEIGHBOURHOOD_RECALL_LIFT_THRESHOLD = 5.0
PROBE_AP_ABOVE_CHANCE_THRESHOLD = 0.15
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
    knn_share_above_chance: float
    neighbourhood_recall: float
    neighbourhood_pool_fraction: float
    neighbourhood_recall_lift: float
    probe_ap_embeddings: float
    probe_ap_above_chance: float
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
            f"kNN share above chance {self.knn_share_above_chance:.2f} (lift {self.knn_lift:.2f}; mismatch below "
            f"{KNN_SHARE_ABOVE_CHANCE_THRESHOLD})",
            f"neighbourhood recall {self.neighbourhood_recall:.2f} from a pool of "
            f"{self.neighbourhood_pool_fraction:.1%} of the index: lift {self.neighbourhood_recall_lift:.2f} "
            f"(mismatch below {NEIGHBOURHOOD_RECALL_LIFT_THRESHOLD})",
            f"probe AP: embeddings {self.probe_ap_embeddings:.3f} ({self.probe_ap_above_chance:.2f} above chance; "
            f"mismatch below {PROBE_AP_ABOVE_CHANCE_THRESHOLD}), fastText proxy {proxy}",
        ]
        verdict = "EMBEDDING-TASK MISMATCH: " + "; ".join(self.reasons) if self.mismatch else (
            "the embedding captures this concept" + (f" (one weak signal: {self.reasons[0]})" if self.reasons else ""))
        return "\n".join([verdict, *lines, *([self.recommendation] if self.mismatch else [])])


def above_chance(value: float, rate: float) -> float:
    """(value - rate) / (1 - rate): 0 for what a random ranking or neighbourhood gets, 1 for perfect."""
    return (value - rate) / max(1.0 - rate, 1e-12)


def knn_positive_share(embeddings: np.ndarray, is_positive: np.ndarray, k: int = 10) -> float:
    """Mean share of positives among each labeled positive's k nearest labeled neighbours."""
    index = ExactIndex("cosine")
    index.add(embeddings, np.arange(len(embeddings)))
    positives = np.flatnonzero(is_positive)
    neighbours, _ = index.search(embeddings[positives], k + 1)
    shares = [is_positive[row[(row != own) & (row >= 0)][:k]].mean()
              for own, row in zip(positives, neighbours, strict=True)]
    return float(np.mean(shares))


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
    share = knn_positive_share(embeddings, is_positive, k)
    share_above_chance = above_chance(share, rate)
    recall, pool_fraction = neighbourhood_recall(index, labeled_ids[is_positive], k=pool_k, seed=seed)
    recall_lift = recall / max(pool_fraction, 1e-12)
    probe = probe_average_precision(embeddings, is_positive, seed)
    probe_above_chance = above_chance(probe, rate)
    proxy = proxy_average_precision(texts, is_positive, seed) if texts is not None else None

    reasons = []
    if share_above_chance < KNN_SHARE_ABOVE_CHANCE_THRESHOLD:
        reasons.append(f"kNN share above chance {share_above_chance:.2f} < {KNN_SHARE_ABOVE_CHANCE_THRESHOLD}: "
                       f"positives are not near positives")
    if recall_lift < NEIGHBOURHOOD_RECALL_LIFT_THRESHOLD:
        reasons.append(f"neighbourhood recall lift {recall_lift:.2f} < {NEIGHBOURHOOD_RECALL_LIFT_THRESHOLD}: a "
                       f"kNN pool finds held-out positives barely better than a random sample")
    if probe_above_chance < PROBE_AP_ABOVE_CHANCE_THRESHOLD:
        reasons.append(f"probe AP above chance {probe_above_chance:.2f} < {PROBE_AP_ABOVE_CHANCE_THRESHOLD}: "
                       f"a linear model on the embeddings barely ranks positives first")
    elif proxy is not None and proxy > probe + PROXY_AP_MARGIN:
        reasons.append(f"fastText proxy AP {proxy:.3f} beats the embedding probe {probe:.3f}")
    mismatch = len(reasons) >= 2
    recommendation = ("Recommendation: the kNN candidate pool will miss positives. Select with a full scan "
                      "(--pool all), or with the fastText proxy (textsel svp), or re-embed with a model "
                      "closer to the task." if mismatch else "")
    return Diagnosis(len(labeled_ids), n_positive, rate, share / rate, share_above_chance, recall, pool_fraction,
                     recall_lift, probe, probe_above_chance, proxy, mismatch, reasons, recommendation)
