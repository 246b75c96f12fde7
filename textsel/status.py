"""What `textsel status` reports: labels per class, each round's yield of positives, and a stopping hint."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RoundYield:
    """How many of a round's selections are labeled now, and how many of those are positive."""

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
    pending: int
    candidate_pool_size: int | None
    estimated_prevalence: float | None
    prevalence_method: str
    stopping_hint: str
    diagnosis: object | None = None  # textsel.diagnose.Diagnosis once enough labels exist

    @property
    def candidate_fraction(self) -> float | None:
        return None if self.candidate_pool_size is None else self.candidate_pool_size / max(self.pool_size, 1)


def stopping_hint(rounds: Sequence[RoundYield], window: int = 3, threshold: float = 0.02) -> str:
    """Suggest stopping once each of the last ``window`` labeled rounds found under ``threshold`` positives."""
    done = [record for record in rounds if record.labeled]
    if len(done) < window:
        return f"too early to judge: {len(done)} labeled round(s) so far, the hint needs {window}"
    recent = done[-window:]
    rates = [record.positives / record.labeled for record in recent]
    if max(rates) < threshold:
        found = sum(record.positives for record in recent)
        labeled = sum(record.labeled for record in recent)
        return (f"the last {window} rounds found under {threshold:.0%} positives ({found} of {labeled}): "
                f"few positives are left to find, consider stopping")
    last = recent[-1]
    return f"keep going: the last round found {rates[-1]:.0%} positives ({last.positives} of {last.labeled})"


def project_status(project) -> ProjectStatus:  # noqa: ANN001 - textsel.project.Project
    """Labels per class, rounds and their yield of positives, candidate pool, prevalence, a stopping hint."""
    labels = project.store.current_labels()
    positive = project.config.positive
    per_class = {name: 0 for name in project.config.labels}
    for label in labels.values():
        per_class[label] = per_class.get(label, 0) + 1
    rounds = project.store.rounds()
    yields = [RoundYield(record.round_id, record.strategy, len(record.doc_ids),
                         sum(doc_id in labels for doc_id in record.doc_ids),
                         sum(labels.get(doc_id) == positive for doc_id in record.doc_ids))
              for record in rounds]
    pool_size = project.store.get_meta("pool_size") or len(project.pool)
    last = rounds[-1] if rounds else None
    prevalence, method = estimate_prevalence(yields, project.store.get_meta("estimated_prevalence"))
    return ProjectStatus(
        pool_size=pool_size, labels_per_class=per_class, positive=positive,
        positives_found=per_class.get(positive, 0), rounds=yields, pending=len(project.store.pending()[1]),
        candidate_pool_size=last.candidate_pool_size if last else None,
        estimated_prevalence=prevalence, prevalence_method=method, stopping_hint=stopping_hint(yields),
        diagnosis=_diagnosis_if_enough_labels(project, per_class, positive))


def _diagnosis_if_enough_labels(project, per_class: dict[str, int], positive: str):  # noqa: ANN001, ANN202
    """The mismatch diagnostic (without the slower proxy comparison) once it has enough labels to measure."""
    from textsel.diagnose import MIN_NEGATIVES, MIN_POSITIVES

    n_positive = per_class.get(positive, 0)
    if n_positive < MIN_POSITIVES or sum(per_class.values()) - n_positive < MIN_NEGATIVES:
        return None
    return project.diagnose(with_proxy=False)


def estimate_prevalence(rounds: Sequence[RoundYield], model_estimate: float | None) -> tuple[float | None, str]:
    """Positive rate among labeled texts of random rounds (unbiased) if any, else the last trained model's share
    of the pool predicted positive (rough)."""
    random_rounds = [record for record in rounds if record.strategy == "random" and record.labeled]
    if random_rounds:
        labeled = sum(record.labeled for record in random_rounds)
        positives = sum(record.positives for record in random_rounds)
        return positives / labeled, f"{positives} of {labeled} labeled texts from random rounds"
    if model_estimate is not None:
        return model_estimate, "share predicted positive by the last `textsel train`; rough"
    return None, "run a random round (`textsel next --strategy random --pool all`) or `textsel train`"
