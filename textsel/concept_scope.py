"""One concept end to end: every Project operation (status, audit, train, predict, rounds) run as one concept
sees the project (:func:`textsel.concepts.concept_project`), errors that name the concept, and a concept seeded
from the project's own labels of the same question.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from textsel.concepts import NO, YES, concept_project
from textsel.errors import DataError, TextselError


@contextmanager
def concept_scope(project, name: str | None) -> Iterator[object]:  # noqa: ANN001 - textsel.project.Project
    """Yield ``project`` itself (``name`` None) or its view as concept ``name``, closed afterwards. A library
    error raised inside for a concept names it ("concept 'spoiler': got 0 labels ..."), same class."""
    if name is None:
        yield project
        return
    view = concept_project(project, name)
    try:
        yield view
    except TextselError as error:
        if str(error).startswith(f"concept {name!r}"):
            raise
        try:
            named = type(error)(f"concept {name!r}: {error}")
        except TypeError:  # an error class with another constructor: keep it as it is
            raise error from None
        raise named from error
    finally:
        view.store.close()


def seed_from_project(project, name: str, yes_label: str | None = None) -> tuple[int, int]:  # noqa: ANN001
    """Label concept ``name`` from the project's current labels: a text labeled ``yes_label`` (default: the
    project's rare class) is ``yes``, any other label ``no``. Returns (yes count, no count) written."""
    yes_label = project.config.positive if yes_label is None else yes_label
    if yes_label not in project.config.labels:
        raise DataError(f"{yes_label!r} is not one of the project's labels {project.config.labels}")
    labels = project.store.current_labels()
    if not labels:
        raise DataError("the project has no labels yet to seed the concept from")
    doc_ids = list(labels)
    answers = [YES if labels[doc_id] == yes_label else NO for doc_id in doc_ids]
    with concept_scope(project, name) as view:
        view.add_labels(project.external_ids(doc_ids), answers, source="project")
    return answers.count(YES), answers.count(NO)
