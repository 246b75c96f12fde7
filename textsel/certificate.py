"""The conservative figures `textsel status` leads with: at least N found, at most M remain, recall at least R.

A certificate is what the audits prove at one-sided ``confidence``: the positives still unlabeled are at most ``M``
(``textsel.estimate.upper_bound`` for uniform audits, ``textsel.stratified.stratified_upper_bound`` for a
score-stratified one), so the recall of the ``N`` found is at least ``N / (N + M)``. The stopping rule stops exactly
when that recall reaches the target. Beside it: how many more uniform audit labels, all negative, would certify the
target, and the floor any sample-based certificate must pay (``textsel.estimate.audit_floor``), so a user sees how
far the audits so far are from it.

Which audits count: those of the latest audit's design (a user who switched designs gets the newer one's figures;
choosing among designs by their results would not be valid). Uniform audits are pooled as in ``textsel.estimate``;
of stratified audits only the latest is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textsel.estimate import (
    DEFAULT_CONFIDENCE,
    DEFAULT_TARGET_RECALL,
    AuditDraw,
    AuditFloor,
    StoppingDecision,
    audit_floor,
    certified_recall,
    more_audit_labels,
    remaining_interval,
    stopping_test,
    upper_bound,
)
from textsel.stratified import (
    StratifiedAudit,
    remaining_estimate,
    stratified_stopping_test,
    stratified_upper_bound,
)


@dataclass(frozen=True)
class Certificate:
    """What the audits prove, what the rule says, and what certifying the target would still cost."""

    design: str  # "uniform", "stratified", or "none" (no labeled audit yet)
    found: int
    unlabeled: int
    remaining_at_most: int
    recall_at_least: float
    point_estimate: float | None  # positives remaining, unbiased-ish point estimate (None without audits)
    stopping: StoppingDecision
    more_audit_labels: int  # uniform audit labels, all negative, that would certify the target (0: certified)
    floor: AuditFloor  # the floor at the current state (zero positives found by the audit)
    audit_labels: int  # labeled audit texts the certificate rests on
    confidence: float
    target_recall: float


def certify(uniform: Sequence[AuditDraw], stratified: StratifiedAudit | None, *, found: int, unlabeled_now: int,
            use_stratified: bool = False, target_recall: float = DEFAULT_TARGET_RECALL,
            confidence: float = DEFAULT_CONFIDENCE) -> Certificate:
    """The certificate from the uniform audits, or from the latest stratified one when ``use_stratified``."""
    uniform = [draw for draw in uniform if draw.labeled > 0]
    floor = audit_floor(unlabeled_now, found, target_recall=target_recall, confidence=confidence)
    more = more_audit_labels(uniform, found=found, unlabeled_now=unlabeled_now, target_recall=target_recall,
                             confidence=confidence)
    if use_stratified and stratified is not None and stratified.labeled:
        most = stratified_upper_bound(stratified, unlabeled_now, confidence)
        decision = stratified_stopping_test(stratified, found=found, unlabeled_now=unlabeled_now,
                                            target_recall=target_recall, confidence=confidence)
        point, design, audited = remaining_estimate(stratified), "stratified", stratified.labeled
        more = 0 if decision.stop else more
    else:
        most = upper_bound(uniform, unlabeled_now, confidence)
        decision = stopping_test(uniform, found=found, unlabeled_now=unlabeled_now, target_recall=target_recall,
                                 confidence=confidence)
        point = remaining_interval(uniform, unlabeled_now, confidence).estimate if uniform else None
        design, audited = ("uniform" if uniform else "none"), sum(draw.labeled for draw in uniform)
    return Certificate(design, found, unlabeled_now, most, certified_recall(found, most), point, decision, more,
                       floor, audited, confidence, target_recall)


def _share(value: float) -> str:
    return f"{value:.0%}" if value >= 0.1 else f"{value:.1%}"


def describe_certificate(certificate: Certificate, positive: str) -> tuple[str, str, str]:
    """Three sentences: the conservative figure, the point estimate (labeled as such), and the cost to certify."""
    level = f"{certificate.confidence:.0%}"
    headline = (f"At least {certificate.found:,} {positive} found; at most {certificate.remaining_at_most:,} remain "
                f"among the {certificate.unlabeled:,} unlabeled texts ({level}); recall at least "
                f"{_share(certificate.recall_at_least)}.")
    point = ("Point estimate: none without a labeled audit sample." if certificate.point_estimate is None else
             f"Point estimate (not a guarantee): about {round(certificate.point_estimate):,} remain, from "
             f"{certificate.audit_labels:,} audit labels ({certificate.design} design).")
    target = f"recall >= {certificate.target_recall:.0%}"
    if certificate.stopping.stop:
        cost = f"With the audits so far, {target} is certified ({level})."
    else:
        cost = (f"With the audits so far, recall >= {_share(certificate.recall_at_least)} is certified; about "
                f"{certificate.more_audit_labels:,} more audit labels, none of them {positive}, would certify "
                f"{target} (the floor for any random audit here: about {certificate.floor.exact:,}).")
    return headline, point, cost
