"""The values a project hands back: search hits, relabels, an import report and a trained model."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hit:
    """One search result: the id as users know it (integer or string id), similarity (or number of keyword
    matches), text and current label."""

    doc_id: int | str
    score: float
    text: str
    label: str | None


@dataclass(frozen=True)
class Relabel:
    """A label that replaced a different current label of the same text (the old one stays in the history)."""

    doc_id: int | str
    old: str
    new: str


@dataclass(frozen=True)
class ImportReport:
    """What ``import_labels`` recorded, passed over and replaced."""

    imported: int
    unlabeled: int  # rows or tasks without a label, passed over
    relabeled: list[Relabel]  # labels that replaced a different current label
    newer: list[int | str]  # ids whose current label was made after the file's label
    kept_newer: bool  # True: those were left as they are; False: they were replaced too
    format: str


@dataclass(frozen=True)
class TrainedModel:
    """A learner fitted on the project's labels, with what it was trained on."""

    learner: object
    classes: list[str]
    n_labels: int
    label_rows: int
    train_seconds: float
    estimated_prevalence: float | None
    embeddings: dict | None = None  # what it was trained on: embedding model, pool fingerprint, dimension
    learner_name: str = "logistic"  # the name in textsel.learner.LEARNERS
    parameters: dict | None = None  # the learner's constructor parameters, to retrain it alike

