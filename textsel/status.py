"""What `textsel status` reports: labels per class, each round's yield of positives, and, from audit samples,
how many positives remain, the prevalence, the recall so far and whether the stopping rule says stop.

Rounds with strategy "audit" are uniform random samples of the texts unlabeled at the time (``Project.audit_batch``);
only they feed the estimates (see :mod:`textsel.estimate`). Selections and yields count distinct ids: a text
selected again by a later round is credited to the first round that selected it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textsel.estimate import (
    DEFAULT_CONFIDENCE,
    DEFAULT_TARGET_RECALL,
    AuditDraw,
    RemainingEstimate,
    StoppingDecision,
    estimate_remaining,
    stopping_test,
)

AUDIT_STRATEGY = "audit"


@dataclass(frozen=True)
class RoundYield:
    """How many texts a round selected for the first time, how many of those are labeled now, how many positive."""

    round_id: int
    strategy: str
    selected: int
    labeled: int
    positives: int


@dataclass(frozen=True)
class ProjectStatus:
    """What ``textsel status`` reports."""

    pool_size: int
    labels_per_class: dict[str, int]
    positive: str
    positives_found: int
    rounds: list[RoundYield]
    selected: int  # distinct texts selected by any round
    pending: int
    candidate_pool_size: int | None
    estimate: RemainingEstimate | None  # None until an audit sample has labeled texts
    stopping: StoppingDecision
    yield_hint: str
    diagnosis: object | None = None  # textsel.diagnose.Diagnosis once enough labels exist
    removed: int = 0  # documents removed from the corpus: outside pool_size and the estimates, their labels kept

    @property
    def candidate_fraction(self) -> float | None:
        return None if self.candidate_pool_size is None else self.candidate_pool_size / max(self.pool_size, 1)


def yield_hint(rounds: Sequence[RoundYield], window: int = 3, threshold: float = 0.02) -> str:
    """When to draw audit samples: once each of the last ``window`` labeled active rounds found under
    ``threshold`` positives, the active rounds have stopped paying and only an audit can tell what is left."""
    done = [record for record in rounds if record.labeled and record.strategy != AUDIT_STRATEGY]
    if len(done) < window:
        return f"too early to judge the yield: {len(done)} labeled round(s) so far, the hint needs {window}"
    recent = done[-window:]
    rates = [record.positives / record.labeled for record in recent]
    if max(rates) < threshold:
        found = sum(record.positives for record in recent)
        labeled = sum(record.labeled for record in recent)
        return (f"the last {window} rounds found under {threshold:.0%} positives ({found} of {labeled}): "
                f"audit samples will tell whether you can stop")
    last = recent[-1]
    return f"keep going: the last round found {rates[-1]:.0%} positives ({last.positives} of {last.labeled})"


def round_yields(rounds: Sequence, labels: dict[int, str], positive: str) -> list[RoundYield]:
    """Each round's newly selected distinct ids, how many are labeled now, and how many of those are positive."""
    seen: set[int] = set()
    yields = []
    for record in rounds:
        new = [doc_id for doc_id in dict.fromkeys(record.doc_ids) if doc_id not in seen]
        seen.update(new)
        labeled = [doc_id for doc_id in new if doc_id in labels]
        yields.append(RoundYield(record.round_id, record.strategy, len(new), len(labeled),
                                 sum(labels[doc_id] == positive for doc_id in labeled)))
    return yields


def _labeled_since(history: Sequence[tuple[str | None, str, float]]) -> float | None:
    """When the document's current unbroken run of labels began (None when it is unlabeled now)."""
    start = None
    for label, _source, created_at in history:
        if label is None:
            start = None
        elif start is None:
            start = created_at
    return start


def audit_draws(store, positive: str) -> list[AuditDraw]:  # noqa: ANN001 - textsel.store.Store
    """The project's audit rounds as estimator inputs, oldest first (see :class:`textsel.estimate.AuditDraw`)."""
    audits = [record for record in store.rounds() if record.strategy == AUDIT_STRATEGY]
    if not audits:
        return []
    labels = store.current_labels()
    positive_since = [_labeled_since(store.label_history(doc_id))
                      for doc_id, label in labels.items() if label == positive]
    draws = []
    for record in audits:
        labeled = [doc_id for doc_id in dict.fromkeys(record.doc_ids) if doc_id in labels]
        found_since = sum(since is not None and since >= record.created_at for since in positive_since)
        draws.append(AuditDraw(unlabeled=int(record.params["unlabeled"]), labeled=len(labeled),
                               positives=sum(labels[doc_id] == positive for doc_id in labeled),
                               found_since=found_since))
    return draws


def project_status(project, *, target_recall: float = DEFAULT_TARGET_RECALL,  # noqa: ANN001 - Project
                   confidence: float = DEFAULT_CONFIDENCE) -> ProjectStatus:
    """Labels per class, rounds and their yields, positives remaining, prevalence, recall and the stopping rule."""
    labels = project.store.current_labels()
    positive = project.config.positive
    per_class = {name: 0 for name in project.config.labels}
    for label in labels.values():
        per_class[label] = per_class.get(label, 0) + 1
    rounds = project.store.rounds()
    yields = round_yields(rounds, labels, positive)
    # The population is the corpus less removed documents; their labels are counted per class but not as found.
    # An unlabeled positive removed after an audit leaves the remaining positives without being "found": the
    # estimate of what remains then errs high (the safe side).
    removed = set(project.removed_ids().tolist())
    pool_size = len(project.ids) - len(removed)
    in_corpus = {doc_id: label for doc_id, label in labels.items() if doc_id not in removed}
    found = sum(label == positive for label in in_corpus.values())
    draws = audit_draws(project.store, positive)
    # A retracted label makes a text unlabeled again; the estimator needs the unlabeled set to only ever shrink, so
    # such texts count as labeled here (a slight undercount of the unlabeled, never a crash).
    unlabeled = min([max(pool_size - len(in_corpus), 0), *(draw.unlabeled for draw in draws)])
    estimate = (estimate_remaining(draws, found=found, unlabeled_now=unlabeled, pool_size=pool_size,
                                   confidence=confidence)
                if any(draw.labeled for draw in draws) else None)
    active = [record for record in rounds if record.strategy != AUDIT_STRATEGY]
    return ProjectStatus(
        pool_size=pool_size, labels_per_class=per_class, positive=positive, positives_found=found, rounds=yields,
        selected=sum(record.selected for record in yields), pending=len(project.store.pending()[1]),
        candidate_pool_size=active[-1].candidate_pool_size if active else None, estimate=estimate,
        stopping=stopping_test(draws, found=found, unlabeled_now=unlabeled, target_recall=target_recall,
                               confidence=confidence),
        yield_hint=yield_hint(yields), diagnosis=_diagnosis_if_enough_labels(project, per_class, positive),
        removed=len(removed))


def _diagnosis_if_enough_labels(project, per_class: dict[str, int], positive: str):  # noqa: ANN001, ANN202
    """The mismatch diagnostic once it has enough labels to measure."""
    from textsel.diagnose import MIN_NEGATIVES, MIN_POSITIVES

    n_positive = per_class.get(positive, 0)
    if n_positive < MIN_POSITIVES or sum(per_class.values()) - n_positive < MIN_NEGATIVES:
        return None
    return project.diagnose()


def _count(value: float) -> str:
    return f"{round(value):,}"


def _share(value: float) -> str:
    return f"{value:.0%}" if value >= 0.1 else f"{value:.1%}"


def describe_estimate(estimate: RemainingEstimate | None, positive: str,
                      how_to_audit: str = "draw an audit sample and label it") -> list[str]:
    """Plain sentences for the terminal: found, remaining, recall, prevalence, and where the figures come from."""
    if estimate is None:
        return [f"No labeled audit sample yet, so how many {positive} texts remain, the prevalence and the recall "
                f"are unknown (actively selected texts are not a random sample): {how_to_audit}."]
    level = f"{estimate.confidence:.0%}"
    remaining, recall, prevalence = estimate.remaining, estimate.recall, estimate.prevalence
    return [
        f"Found {estimate.found:,} {positive}; about {_count(remaining.estimate)} remain among the "
        f"{estimate.unlabeled:,} unlabeled texts ({level}: {_count(remaining.low)}-{_count(remaining.high)}); "
        f"recall so far about {_share(recall.estimate)} ({level}: {_share(recall.low)}-{_share(recall.high)}).",
        f"Prevalence of {positive} in the pool: about {_share(prevalence.estimate)} ({level}: "
        f"{_share(prevalence.low)}-{_share(prevalence.high)}).",
        f"These come from {estimate.audits} audit sample(s) ({estimate.audit_labeled} texts drawn at random from "
        f"the unlabeled ones and labeled, {estimate.audit_positives} {positive}); actively selected texts are "
        f"not used as if random.",
    ]


def describe_stopping(decision: StoppingDecision, estimate: RemainingEstimate | None,
                      how_to_audit: str = "label more audit texts") -> str:
    """One sentence: what the stopping rule says, and why."""
    goal = (f"recall of at least {decision.target_recall:.0%} with {decision.confidence:.0%} confidence "
            f"(hypergeometric test, Callaghan & Mueller-Hansen 2020)")
    if decision.stop:
        return (f"Stopping rule: STOP: {goal} is reached (p = {decision.p_value:.3f}; recall would be below the "
                f"target only if {decision.remaining_if_below:,} or more positives were still unlabeled).")
    if estimate is None:
        return f"Stopping rule: cannot say yet; it needs a labeled audit sample for {goal}."
    return (f"Stopping rule: keep going: the audit samples cannot yet rule out {decision.remaining_if_below:,} or "
            f"more positives still unlabeled (p = {decision.p_value:.2f}), so {goal} is not shown; {how_to_audit} "
            f"or continue the rounds.")
