"""Does the embedding capture the concept? An embedding-task mismatch diagnostic that holds whatever strategy
collected the labels.

SEALS only scores the nearest neighbours of labeled texts, so it works when positives sit near positives in
embedding space. Sentence-BERT groups texts by topic; a concept that cuts across topics (a spoiler in a review of
any book, a negative review of any product) is then scattered, and kNN candidate pools miss positives.

Why a random reference instead of the labeled negatives: the negatives a strategy collects are not a sample of
the pool. Maximum-entropy rounds label the negatives closest to the positives, which makes any well-clustered
concept look mixed; most-likely-positive rounds label few negatives at all. Measured on eight concepts, the old
signals (computed on the labeled set) were right 8 of 8 times on random labels but 5 of 8 on MaxEnt-collected
ones. So both signals here compare the labeled positives with a **uniform random reference sample of the whole
pool** (known positives left out; the rest treated as negatives, which holds up to the prevalence, a few percent
for a rare class): the reference does not depend on what was labeled.

- **kNN share above chance**: for each labeled positive, the share of positives among its ``k`` nearest texts in
  (other labeled positives + the reference), corrected for chance as (share - rate) / (1 - rate), where rate is the
  positives' share of that set (the reference holds ``REFERENCE_PER_POSITIVE`` texts per positive, so rate is the
  same for every project): 0 = positives are no nearer positives than chance, 1 = all their neighbours are.
- **Probe AUC above chance**: a cross-validated logistic regression separating positives from the reference; the
  probability that it ranks a held-out positive above a held-out reference text, as 2 AUC - 1 (0 = chance,
  1 = perfect).

The neighbourhood-recall signal of earlier versions is gone: its lift was capped at 1 / (pool fraction), below
its threshold in 9 of 24 measured diagnoses, so it fired whatever the data. The fastText-proxy recommendation is
gone too: the proxy's AP was below the embedding probe's in all 24.

Actively found positives are the ones near other positives, so on them a scattered concept looks clustered (TV
Tropes spoilers: probe AUC above chance 0.86-0.91 on MaxEnt- or MLP-collected positives, 0.28-0.30 on random ones).
So once audit samples (``textsel audit``) hold ``MIN_RANDOM_POSITIVES`` positives, both signals are averaged over
those positives alone (the found ones still train the probe and sit among the neighbours); before that, over all.

The rule and threshold come from ``benchmarks/diagnose_thresholds.py``, fitted on fold A of
``benchmarks/diagnose_validation.py`` (TV Tropes spoilers, hotel tips, Amazon automotive, magazines and office
products, Blitzer books; each with labels from random sampling, MaxEnt over SEALS or MLP over SEALS, plus a 300-text
audit): "mismatch" when the probe AUC above chance is below 0.42. On the other concepts (Amazon negative reviews and
Blitzer 1-star reviews, both mismatches, SMS spam, Amazon baby and cell phones) it agreed with the truth on 67% of
random label sets, 73% of MaxEnt-collected and 80% of MLP-collected ones (fold A holds one mismatch concept only;
fitted on fold B instead, 0.82, it agreed on 93%, 89% and 89% of fold A's).

What helps when the concept is scattered (``--recovery`` of the same benchmark, 1,500 labels, pools of 6-11k texts
where k=10 stands for k=100 in a pool ten times larger): ten times larger neighbourhoods found as many positives as a
full scan (recall 0.44 -> 0.59 on Amazon negative reviews, 0.49 -> 0.56 on Blitzer 1-star, 0.39 -> 0.40 on
spoilers, MLP); drawing 20% of each round at random found fewer (0.42, 0.48, 0.38).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np

from textsel.errors import DataError, check_param
from textsel.index import ExactIndex, VectorIndex

# Fitted on fold A by benchmarks/diagnose_thresholds.py (see the module docstring). The kNN threshold is not part
# of the fitted rule; it is the level below which `reasons` mentions the kNN share as a weak signal.
KNN_SHARE_ABOVE_CHANCE_THRESHOLD = 0.10
PROBE_AUC_ABOVE_CHANCE_THRESHOLD = 0.42
MISMATCH_RULE = "probe"  # "knn", "probe", "both" (both signals low) or "either" (one low signal is enough)
AUDIT = "audit positives"
REFERENCE_PER_POSITIVE = 20
MAX_POSITIVES = 200  # a larger labeled set adds little and costs time: positives beyond it are subsampled
MIN_POSITIVES = 10
MIN_NEGATIVES = 20  # `textsel status` waits for this many labeled negatives before it runs the check
MIN_RANDOM_POSITIVES = 5  # audit positives needed before the signals are measured on them alone
RECOMMENDATION = ("What to do: the kNN candidate pool misses positives that are not near the ones found. Grow the "
                  "neighbourhoods (a k ten times larger found as many positives as a full scan in textsel's "
                  "measurements) or select over every text (the 'all' pool); a random share of each round did not "
                  "help. An embedding model closer to the task, or keyword searches, may find what this one "
                  "scatters (not measured).")


@dataclass
class Diagnosis:
    """The measurements, whether they add up to an embedding-task mismatch, and what to do about it."""

    n_labeled: int
    n_positive: int
    n_random_positive: int  # positives among the texts drawn at random (audit samples)
    measured_on: str  # "audit positives" or "all labeled positives"
    reference_size: int
    k: int
    knn_share: float
    knn_chance: float
    knn_share_above_chance: float
    probe_auc: float
    probe_auc_above_chance: float
    mismatch: bool
    reasons: list[str] = field(default_factory=list)
    recommendation: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    def report(self) -> str:
        """Plain lines for the terminal: the verdict, then one line per number saying what it means."""
        verdict = ("EMBEDDING-TASK MISMATCH: " + "; ".join(self.reasons) if self.mismatch
                   else "The embedding captures this concept" + (
                       f" (one weak signal: {self.reasons[0]})" if self.reasons else "") + ".")
        on_audit = self.measured_on == AUDIT
        lines = [
            verdict,
            f"Measured on the {self.measured_on} ({self.n_random_positive if on_audit else self.n_positive}) "
            f"against {self.reference_size:,} texts drawn at random from the pool."
            + ("" if on_audit else " Actively found positives are the ones near other positives, so these figures "
               f"flatter the embedding; with {MIN_RANDOM_POSITIVES} positives in audit samples they are measured on "
               "those instead."),
            f"kNN share {self.knn_share:.2f}: among each positive's {self.k} nearest texts, this share are positives "
            f"(chance: {self.knn_chance:.2f}).",
            f"kNN share above chance {self.knn_share_above_chance:.2f}: 0 = positives sit no nearer each other than "
            f"chance, 1 = only near each other; below {KNN_SHARE_ABOVE_CHANCE_THRESHOLD:.2f} SEALS' neighbourhoods "
            f"find few new positives.",
            f"Probe AUC {self.probe_auc:.2f}: a linear model on the embeddings ranks a positive above a random "
            f"text {self.probe_auc:.0%} of the time (0.50 = chance).",
            f"Probe AUC above chance {self.probe_auc_above_chance:.2f} (2 AUC - 1): below "
            f"{PROBE_AUC_ABOVE_CHANCE_THRESHOLD:.2f} the embedding barely separates the concept.",
        ]
        return "\n".join([*lines, *([self.recommendation] if self.mismatch else [])])


def above_chance(value: float, rate: float) -> float:
    """(value - rate) / (1 - rate): 0 for what a random ranking or neighbourhood gets, 1 for perfect."""
    return (value - rate) / max(1.0 - rate, 1e-12)


def knn_positive_share(embeddings: np.ndarray, is_positive: np.ndarray, k: int = 10,
                       queries: np.ndarray | None = None) -> float:
    """Mean share of positives among each positive's k nearest rows of ``embeddings`` (itself excluded); only over
    the positives where ``queries`` is true, when given."""
    index = ExactIndex("cosine")
    index.add(embeddings, np.arange(len(embeddings)))
    positives = np.flatnonzero(is_positive if queries is None else is_positive & queries)
    neighbours, _ = index.search(embeddings[positives], k + 1)
    shares = [is_positive[row[(row != own) & (row >= 0)][:k]].mean()
              for own, row in zip(positives, neighbours, strict=True)]
    return float(np.mean(shares))


def probe_auc(embeddings: np.ndarray, is_positive: np.ndarray, seed: int = 0,
              evaluate: np.ndarray | None = None) -> float:
    """Cross-validated ROC AUC of balanced logistic regression on the embeddings (over the rows where
    ``evaluate`` is true, when given; every row trains)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    folds = StratifiedKFold(n_splits=min(5, int(is_positive.sum())), shuffle=True, random_state=seed)
    scores = np.zeros(len(embeddings))
    for train, test in folds.split(np.zeros(len(embeddings)), is_positive):
        model = LogisticRegression(class_weight="balanced", max_iter=1000)
        scores[test] = model.fit(embeddings[train], is_positive[train]).decision_function(embeddings[test])
    keep = np.ones(len(embeddings), dtype=bool) if evaluate is None else evaluate
    return float(roc_auc_score(is_positive[keep], scores[keep]))


def random_reference(pool_ids: np.ndarray, exclude: np.ndarray, size: int, seed: int) -> np.ndarray:
    """``size`` ids drawn uniformly from ``pool_ids`` without the ``exclude``d ones (the known positives)."""
    candidates = np.setdiff1d(np.asarray(pool_ids, dtype=np.int64), exclude)
    return np.random.default_rng(seed).choice(candidates, min(size, len(candidates)), replace=False)


def is_mismatch(knn_above: float, probe_above: float, rule: str = MISMATCH_RULE,
                knn_threshold: float = KNN_SHARE_ABOVE_CHANCE_THRESHOLD,
                probe_threshold: float = PROBE_AUC_ABOVE_CHANCE_THRESHOLD) -> bool:
    """Combine the two signals by ``rule``: "knn", "probe", "both" (both low) or "either" (one low is enough)."""
    knn_low, probe_low = knn_above < knn_threshold, probe_above < probe_threshold
    return {"knn": knn_low, "probe": probe_low, "both": knn_low and probe_low, "either": knn_low or probe_low}[rule]


def diagnose(index: VectorIndex, labeled_ids: np.ndarray, is_positive: np.ndarray, *,
             random_ids: np.ndarray | None = None, k: int = 10, seed: int = 0) -> Diagnosis:
    """Measure whether the embedding in ``index`` separates the concept behind the labeled positives.

    Parameters
    ----------
    index : VectorIndex
        The project's index over every document (ids are document ids); the random reference is drawn from it.
    labeled_ids : ndarray of int, shape (n,)
    is_positive : ndarray of bool, shape (n,)
        Whether each labeled document belongs to the rare concept. Only the positives are used: the labeled
        negatives depend on the strategy that chose them, the random reference does not.
    random_ids : ndarray of int, optional
        Labeled documents that were drawn uniformly at random (audit samples). Once at least
        ``MIN_RANDOM_POSITIVES`` of them are positive, both signals are averaged over those positives only: they are
        a fair sample of the concept, while actively found positives are the ones near other positives.
    k : int, default=10
        Neighbours for the kNN share.
    seed : int, default=0
        Seed of the reference sample, the positives' subsample and the probe's folds.
    """
    labeled_ids = np.asarray(labeled_ids, dtype=np.int64)
    is_positive = np.asarray(is_positive, dtype=bool)
    n_positive = int(is_positive.sum())
    if n_positive < MIN_POSITIVES:
        raise DataError(f"the diagnostic needs at least {MIN_POSITIVES} positive labels; got {n_positive}. "
                        f"Label more, then run it again.")
    rng = np.random.default_rng(seed)
    random_positives = labeled_ids[is_positive & np.isin(labeled_ids, random_ids if random_ids is not None else [])]
    found = np.setdiff1d(labeled_ids[is_positive], random_positives)
    if len(found) + len(random_positives) > MAX_POSITIVES:  # subsample the actively found ones first
        found = rng.choice(found, max(MAX_POSITIVES - len(random_positives), 0), replace=False)
    positives = np.concatenate([random_positives, found])
    reference = random_reference(index.ids, labeled_ids[is_positive], REFERENCE_PER_POSITIVE * len(positives),
                                 seed)
    embeddings = index.get_vectors(np.concatenate([positives, reference]))
    target = np.arange(len(embeddings)) < len(positives)
    on_audit = len(random_positives) >= MIN_RANDOM_POSITIVES
    queries = (np.arange(len(embeddings)) < len(random_positives)) if on_audit else None
    rate = float(target.mean())
    share = knn_positive_share(embeddings, target, k, queries=queries)
    knn_above = above_chance(share, rate)
    auc = probe_auc(embeddings, target, seed, evaluate=None if queries is None else queries | ~target)
    probe_above = 2.0 * auc - 1.0
    reasons = []
    if knn_above < KNN_SHARE_ABOVE_CHANCE_THRESHOLD:
        reasons.append(f"kNN share above chance {knn_above:.2f} < {KNN_SHARE_ABOVE_CHANCE_THRESHOLD:.2f}: "
                       f"positives are not near positives")
    if probe_above < PROBE_AUC_ABOVE_CHANCE_THRESHOLD:
        reasons.append(f"probe AUC above chance {probe_above:.2f} < {PROBE_AUC_ABOVE_CHANCE_THRESHOLD:.2f}: "
                       f"a linear model on the embeddings barely tells positives from random texts")
    mismatch = is_mismatch(knn_above, probe_above)
    return Diagnosis(n_labeled=len(labeled_ids), n_positive=n_positive, n_random_positive=len(random_positives),
                     measured_on=AUDIT if on_audit else "all labeled positives", reference_size=len(reference),
                     k=k, knn_share=share, knn_chance=rate, knn_share_above_chance=knn_above, probe_auc=auc,
                     probe_auc_above_chance=probe_above, mismatch=mismatch, reasons=reasons,
                     recommendation=RECOMMENDATION if mismatch else "")


STATIC_RECOMMENDATION = ("What to do: the static first pass chooses candidates by their static vectors, and those "
                         "do not cluster this concept, so its neighbourhoods miss positives the transformer would "
                         "place near the ones found. Widen its k, or embed the whole pool with the transformer "
                         "(no first pass) and check the transformer space with the same diagnostic.")


def diagnose_static_space(static_index: VectorIndex, labeled_ids: np.ndarray, is_positive: np.ndarray,
                          **options) -> Diagnosis:
    """:func:`diagnose` in the static space of the first pass (:mod:`textsel.first_pass`): the same signals and
    rule, measured on the static vectors in ``static_index``, with advice about the first pass when they say the
    static space does not cluster the concept. ``options`` are :func:`diagnose`'s (random_ids, k, seed)."""
    diagnosis = diagnose(static_index, labeled_ids, is_positive, **options)
    if not diagnosis.mismatch:
        return diagnosis
    return replace(diagnosis, reasons=[f"in the static first pass's space: {reason}" for reason in diagnosis.reasons],
                   recommendation=STATIC_RECOMMENDATION)



# --- which features capture the concept: dense vs lexical vs hybrid on the labels so far -----------------------

FEATURE_MARGIN = 0.02  # AUC points another feature kind must win by before it is recommended (set, not fitted)
FEATURE_FOLDS = 5
FEATURE_RULES = ("random", "labeled")  # which AUC decides: positives vs a random reference, or vs labeled negatives


@dataclass
class FeatureComparison:
    """Cross-validated probe AUC of each feature kind on the labeled positives against a random reference, and the
    kind to use. ``mismatch`` is true when the embeddings alone lose: a concept of words (a kind of document, a
    phrase) that the embedding blurs, which the probe on embeddings alone can miss (it scores 0.95 on such a
    concept when measured on the positives found so far)."""

    auc: dict[str, float]
    current: str
    recommended: str
    measured_on: str
    n_positive: int
    reference_size: int
    margin: float = FEATURE_MARGIN
    labeled_auc: dict[str, float] | None = None
    rule: str = "random"

    @property
    def mismatch(self) -> bool:
        return self.recommended != "dense"

    def to_dict(self) -> dict:
        return {**asdict(self), "mismatch": self.mismatch}

    def report(self) -> str:
        """One line per kind, then the recommendation."""
        lines = [f"Features (probe AUC, cross-validated, {self.measured_on} against {self.reference_size:,} random "
                 f"texts):"]
        lines += [f"  {kind}: {auc:.3f}" + (" (this project's)" if kind == self.current else "")
                  for kind, auc in sorted(self.auc.items(), key=lambda item: -item[1])]
        if self.recommended == self.current:
            lines.append(f"Keep the {self.current} features: no other kind separates the concept better by "
                         f"{self.margin:.2f} or more.")
        else:
            lines.append(f"Use the {self.recommended} features: they separate the concept better than the "
                         f"{self.current} ones by {self.auc[self.recommended] - self.auc[self.current]:.3f}"
                         + (" (the embedding misses words that mark it)" if self.mismatch else "") + ".")
        return "\n".join(lines)


def compare_features(matrices: dict, labeled_positions: np.ndarray, is_positive: np.ndarray, *, pool_size: int,
                     random_positions: np.ndarray | None = None, current: str = "dense", seed: int = 0,
                     margin: float = FEATURE_MARGIN, rule: str = "random") -> FeatureComparison:
    """Which feature kind separates the labeled positives from a random sample of the pool best.

    ``matrices`` maps a kind (see :data:`textsel.features.FEATURES`) to its row matrix over the pool (array, CSR or
    HybridRows); positions index its rows. As in :func:`diagnose`, the positives are compared with a uniform random
    reference of the pool (``REFERENCE_PER_POSITIVE`` per positive, known positives left out), never with the
    strategy-chosen negatives, and once audit samples (``random_positions``) hold ``MIN_RANDOM_POSITIVES`` positives
    the AUC is measured on those alone (all positives still train). The same folds serve every kind. The kind with
    the highest AUC is recommended when it beats ``current`` by ``margin``; else ``current`` stays.
    """
    from textsel.features import take_rows
    from textsel.learner import LogisticLearner, cross_validated_auc

    labeled_positions = np.asarray(labeled_positions, dtype=np.int64)
    is_positive = np.asarray(is_positive, dtype=bool)
    if current not in matrices:
        raise DataError(f"the current features {current!r} are not among those compared {sorted(matrices)}")
    if int(is_positive.sum()) < MIN_POSITIVES:
        raise DataError(f"comparing features needs at least {MIN_POSITIVES} positive labels; got "
                        f"{int(is_positive.sum())}. Label more, then run it again.")
    rng = np.random.default_rng(seed)
    random_set = labeled_positions[is_positive & np.isin(labeled_positions, random_positions
                                                         if random_positions is not None else [])]
    found = np.setdiff1d(labeled_positions[is_positive], random_set)
    if len(found) + len(random_set) > MAX_POSITIVES:
        found = rng.choice(found, max(MAX_POSITIVES - len(random_set), 0), replace=False)
    positives = np.concatenate([random_set, found])
    reference = random_reference(np.arange(pool_size), labeled_positions[is_positive],
                                 REFERENCE_PER_POSITIVE * len(positives), seed)
    rows = np.concatenate([positives, reference])
    target = np.arange(len(rows)) < len(positives)
    on_audit = len(random_set) >= MIN_RANDOM_POSITIVES
    evaluate = ~target | (np.arange(len(rows)) < len(random_set)) if on_audit else np.ones(len(rows), dtype=bool)
    folds = min(FEATURE_FOLDS, int(target.sum()))
    auc = {kind: cross_validated_auc(take_rows(matrix, rows), target, LogisticLearner, folds=folds, seed=seed,
                                     evaluate=evaluate) for kind, matrix in matrices.items()}
    negatives = labeled_positions[~is_positive]
    labeled_auc = None
    if len(negatives) >= MIN_POSITIVES:  # the labeled negatives: the near misses the rounds showed
        labeled_rows = np.concatenate([positives, negatives])
        labeled_target = np.arange(len(labeled_rows)) < len(positives)
        labeled_auc = {kind: cross_validated_auc(take_rows(matrix, labeled_rows), labeled_target, LogisticLearner,
                                                 folds=folds, seed=seed) for kind, matrix in matrices.items()}
    check_param("compare_features", "rule", rule, rule in FEATURE_RULES, f"one of {FEATURE_RULES}")
    decide = labeled_auc if rule == "labeled" and labeled_auc is not None else auc
    best = max(decide, key=lambda kind: (decide[kind], kind == current))
    recommended = best if decide[best] >= decide[current] + margin else current
    return FeatureComparison(auc=auc, current=current, recommended=recommended,
                             measured_on=AUDIT if on_audit else "all labeled positives",
                             n_positive=len(positives), reference_size=len(reference), margin=margin,
                             labeled_auc=labeled_auc, rule=rule if decide is labeled_auc else "random")
