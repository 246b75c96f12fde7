"""What `textsel status` reports: labels per class, each round's yield of positives, and, from audit samples,
how many positives remain, the prevalence, the recall so far and whether the stopping rule says stop.

Rounds with strategy "audit" are random samples of the texts unlabeled at the time (``Project.audit_batch``, uniform
or score-stratified); only they feed the estimates (:mod:`textsel.estimate`, :mod:`textsel.stratified`), and the
conservative figures come first (:mod:`textsel.certificate`). Selections and yields count distinct ids: a text
selected again by a later round is credited to the first round that selected it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from textsel.certificate import Certificate, certify, describe_certificate
from textsel.estimate import (
    DEFAULT_CONFIDENCE,
    DEFAULT_TARGET_RECALL,
    AuditDraw,
    RemainingEstimate,
    StoppingDecision,
    estimate_remaining,
)
from textsel.stratified import StratifiedAudit, StratumSample

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
    certificate: Certificate | None = None  # the conservative figures (textsel.certificate)
    diagnosis: object | None = None  # textsel.diagnose.Diagnosis once enough labels exist
    removed: int = 0  # documents removed from the corpus: outside pool_size and the estimates, their labels kept

    @property
    def candidate_fraction(self) -> float | None:
        return None if self.candidate_pool_size is None else self.candidate_pool_size / max(self.pool_size, 1)


# The audit hint fires once a positive rate above this share of the active yield is unlikely. 0.05 was chosen by
# benchmarks/stopping_hint_fit.py on concepts the stopping benchmark does not judge (results/stopping_hint_fit.json):
# the cheapest fraction whose certified stops all reached 95% recall; at 0.1 and above, audits began early enough
# that some stops fell short of the target.
HINT_FRACTION = 0.05
HINT_CONFIDENCE = 0.95


def active_outcomes(rounds: Sequence, labels: dict[int, str], positive: str) -> list[bool]:
    """Whether each labeled, actively selected text is positive, in the order the rounds selected them (each id
    once, at its first round; audit rounds left out)."""
    seen: set[int] = set()
    outcomes = []
    for record in rounds:
        new = [doc_id for doc_id in dict.fromkeys(record.doc_ids) if doc_id not in seen]
        seen.update(new)
        if record.strategy != AUDIT_STRATEGY:
            outcomes += [labels[doc_id] == positive for doc_id in new if doc_id in labels]
    return outcomes


def negatives_needed(active_yield: float, fraction: float = HINT_FRACTION,
                     confidence: float = HINT_CONFIDENCE) -> int:
    """Negatives in a row after which a positive rate of ``fraction`` x ``active_yield`` or more is unlikely:
    ``(1 - fraction * yield) ** L < 1 - confidence``."""
    rate = min(fraction * active_yield, 1.0 - 1e-12)
    return math.ceil(math.log(1.0 - confidence) / math.log1p(-rate)) if rate > 0 else 0


def yield_hint(outcomes: Sequence[bool], fraction: float = HINT_FRACTION,
               confidence: float = HINT_CONFIDENCE) -> str:
    """When to draw audit samples: once the actively selected texts since the last positive are enough negatives
    in a row that a positive rate above ``fraction`` of the active rounds' yield up to the last positive is unlikely
    (at ``confidence``). It counts labels, not rounds, so it means the same at any batch size."""
    found = sum(outcomes)
    if not found:
        return (f"no actively selected text is positive yet ({len(outcomes)} labeled): find positives first "
                f"(search, or more rounds)")
    last = max(i for i, outcome in enumerate(outcomes) if outcome)
    run = len(outcomes) - 1 - last
    active_yield = found / (last + 1)  # the yield up to the last positive: the dry run itself does not lower the bar
    needed = negatives_needed(active_yield, fraction, confidence)
    if run >= needed:
        return (f"the last {run:,} actively selected texts were all negative: a yield above {fraction:.0%} of the "
                f"active rounds' {active_yield:.1%} is unlikely ({confidence:.0%}); audit samples will tell "
                f"whether you can stop")
    return (f"keep going: {run:,} negatives in a row since the last positive; the audit hint needs {needed:,} at "
            f"the active yield up to the last positive ({found:,} of {last + 1:,}, {active_yield:.1%})")


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


def _design(record) -> str:  # noqa: ANN001 - textsel.store.RoundRecord
    return record.params.get("design", "uniform")


def _positives_since(store, positive: str) -> list[float | None]:  # noqa: ANN001 - textsel.store.Store
    labels = store.current_labels()
    return [_labeled_since(store.label_history(doc_id)) for doc_id, label in labels.items() if label == positive]


def audit_draws(store, positive: str) -> list[AuditDraw]:  # noqa: ANN001 - textsel.store.Store
    """The project's uniform audit rounds as estimator inputs, oldest first (:class:`textsel.estimate.AuditDraw`)."""
    audits = [record for record in store.rounds() if record.strategy == AUDIT_STRATEGY and _design(record) == "uniform"]
    if not audits:
        return []
    labels = store.current_labels()
    positive_since = _positives_since(store, positive)
    draws = []
    for record in audits:
        labeled = [doc_id for doc_id in dict.fromkeys(record.doc_ids) if doc_id in labels]
        found_since = sum(since is not None and since >= record.created_at for since in positive_since)
        draws.append(AuditDraw(unlabeled=int(record.params["unlabeled"]), labeled=len(labeled),
                               positives=sum(labels[doc_id] == positive for doc_id in labeled),
                               found_since=found_since))
    return draws


def latest_stratified_audit(store, positive: str) -> StratifiedAudit | None:  # noqa: ANN001 - textsel.store.Store
    """The latest score-stratified audit round as estimator input (textsel.stratified), or None."""
    audits = [record for record in store.rounds()
              if record.strategy == AUDIT_STRATEGY and _design(record) == "stratified"]
    if not audits:
        return None
    record = audits[-1]
    labels = store.current_labels()
    strata = [[0, 0] for _ in record.params["strata"]]  # labeled, positives per stratum
    for doc_id, stratum in zip(record.doc_ids, record.params["stratum"], strict=True):
        if doc_id in labels:
            strata[stratum][0] += 1
            strata[stratum][1] += labels[doc_id] == positive
    found_since = sum(since is not None and since >= record.created_at for since in _positives_since(store, positive))
    return StratifiedAudit(tuple(StratumSample(int(info["unlabeled"]), labeled, positives)
                                 for info, (labeled, positives) in zip(record.params["strata"], strata, strict=True)),
                           found_since)


def _latest_audit_is_stratified(rounds: Sequence) -> bool:
    audits = [record for record in rounds if record.strategy == AUDIT_STRATEGY]
    return bool(audits) and _design(audits[-1]) == "stratified"


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
    stratified = latest_stratified_audit(project.store, positive)
    # A retracted label makes a text unlabeled again; the estimator needs the unlabeled set to only ever shrink, so
    # such texts count as labeled here (a slight undercount of the unlabeled, never a crash).
    unlabeled = min([max(pool_size - len(in_corpus), 0), *(draw.unlabeled for draw in draws),
                     *([stratified.unlabeled] if stratified is not None else [])])
    estimate = (estimate_remaining(draws, found=found, unlabeled_now=unlabeled, pool_size=pool_size,
                                   confidence=confidence)
                if any(draw.labeled for draw in draws) else None)
    certificate = certify(draws, stratified, found=found, unlabeled_now=unlabeled,
                          use_stratified=_latest_audit_is_stratified(rounds), target_recall=target_recall,
                          confidence=confidence)
    active = [record for record in rounds if record.strategy != AUDIT_STRATEGY]
    return ProjectStatus(
        pool_size=pool_size, labels_per_class=per_class, positive=positive, positives_found=found, rounds=yields,
        selected=sum(record.selected for record in yields), pending=len(project.store.pending()[1]),
        candidate_pool_size=active[-1].candidate_pool_size if active else None, estimate=estimate,
        stopping=certificate.stopping, yield_hint=yield_hint(active_outcomes(rounds, labels, positive)),
        certificate=certificate, diagnosis=_diagnosis_if_enough_labels(project, per_class, positive),
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
    """The point estimates, labeled as such, with their two-sided intervals: remaining, recall, prevalence, and where
    the figures come from. :func:`describe_status` puts the conservative figures before them."""
    if estimate is None:
        return [f"No labeled audit sample yet, so how many {positive} texts remain, the prevalence and the recall "
                f"are unknown (actively selected texts are not a random sample): {how_to_audit}."]
    level = f"{estimate.confidence:.0%}"
    remaining, recall, prevalence = estimate.remaining, estimate.recall, estimate.prevalence
    return [
        f"Point estimate (not a guarantee): about {_count(remaining.estimate)} {positive} remain among the "
        f"{estimate.unlabeled:,} unlabeled texts (two-sided {level}: {_count(remaining.low)}-"
        f"{_count(remaining.high)}); recall about {_share(recall.estimate)} ({level}: {_share(recall.low)}-"
        f"{_share(recall.high)}).",
        f"Prevalence of {positive} in the pool: about {_share(prevalence.estimate)} ({level}: "
        f"{_share(prevalence.low)}-{_share(prevalence.high)}).",
        f"These come from {estimate.audits} audit sample(s) ({estimate.audit_labeled} texts drawn at random from "
        f"the unlabeled ones and labeled, {estimate.audit_positives} {positive}); actively selected texts are "
        f"not used as if random.",
    ]


def describe_stopping(decision: StoppingDecision, audited: bool, how_to_audit: str = "label more audit texts",
                      method: str = "hypergeometric test, Callaghan & Mueller-Hansen 2020") -> str:
    """One sentence: what the stopping rule says, and why (``audited``: some audit text is labeled)."""
    goal = f"recall of at least {decision.target_recall:.0%} with {decision.confidence:.0%} confidence ({method})"
    if decision.stop:
        return (f"Stopping rule: STOP: {goal} is reached (p = {decision.p_value:.3f}; recall would be below the "
                f"target only if {decision.remaining_if_below:,} or more positives were still unlabeled).")
    if not audited:
        return f"Stopping rule: cannot say yet; it needs a labeled audit sample for {goal}."
    return (f"Stopping rule: keep going: the audit samples cannot yet rule out {decision.remaining_if_below:,} or "
            f"more positives still unlabeled (p = {decision.p_value:.2f}), so {goal} is not shown; {how_to_audit} "
            f"or continue the rounds.")


def describe_status(report: ProjectStatus, how_to_audit: str = "draw an audit sample and label it",
                    how_to_audit_more: str = "label more audit texts") -> list[str]:
    """What the audits prove first (at least N found, at most M remain, recall at least R), the point estimates
    after, labeled as such, then the audit labels still needed and the stopping rule."""
    certificate = report.certificate
    headline, point, cost = describe_certificate(certificate, report.positive)
    stratified = certificate.design == "stratified"
    middle = [point] if stratified else describe_estimate(report.estimate, report.positive, how_to_audit)
    after = [] if certificate.design == "none" else [cost]
    method = ("score-stratified audit, exact bound over every split" if stratified
              else "hypergeometric test, Callaghan & Mueller-Hansen 2020")
    return [headline, *middle, *after, describe_stopping(report.stopping, certificate.design != "none",
                                                         how_to_audit_more, method)]
