"""Several concepts in one project: each a yes/no question per text, selected and trained on its own, labeled in
one pass.

A concept keeps its own store, ``concepts/<name>.db`` in the project folder (the schema of ``textsel.db``: labels,
rounds, selections, skips), and its own model cache, ``cache/concepts/<name>/``. :func:`concept_project` gives the
project as one concept sees it: that store, the labels ``yes``/``no`` (``yes`` is the rare class), and the project's
pool, embeddings and index shared in memory. Every Project operation (``next_batch``, ``train``, ``predict``,
``status``) therefore runs per concept unchanged, and one concept's rounds never touch another's.

:class:`ConceptSession` walks the union of every concept's pending texts and records, for each text, a yes or no
for every concept at once. :func:`export_concepts` writes one column per concept.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from textsel.errors import ConfigError, DataError, NoConceptsError, StoreError
from textsel.project_config import check_label_name
from textsel.store import Store

YES, NO = "yes", "no"
CONCEPTS_DIR = "concepts"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
ACCEPT, SKIP, UNDO = "a", "s", "u"
CONCEPTS_META = "concepts"  # the project database's record of every concept added
logger = logging.getLogger(__name__)


def concept_names(project) -> list[str]:  # noqa: ANN001 - textsel.project.Project
    """The project's concepts by name (a stable order: concept keys in the labeler never change between sessions)."""
    folder = Path(project.directory) / CONCEPTS_DIR
    found = sorted(path.stem for path in folder.glob("*.db") if _NAME.fullmatch(path.stem)) if folder.is_dir() else []
    for name in sorted(set(project.store.get_meta(CONCEPTS_META) or []) - set(found)):
        logger.warning("concept %r is recorded in this project but its database %s is missing, so its labels are "
                       "not used; restore the file from a backup, or add the concept again to start it empty",
                       name, folder / f"{name}.db")
    return found


def add_concept(project, name: str) -> None:  # noqa: ANN001 - textsel.project.Project
    """Create a concept's store; a name is letters, digits, ``_`` and ``-`` (it names a file), at most 64."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise DataError(f"concept name {name!r} must start with a letter or digit and hold only letters, digits, "
                        f"'_' and '-' (at most 64)")
    check_label_name(name)
    if name in concept_names(project):
        raise StoreError(f"the project already has a concept {name!r}")
    if len(concept_names(project)) >= 9:
        raise DataError("a project holds at most 9 concepts (one key each when labeling)")
    folder = Path(project.directory) / CONCEPTS_DIR
    folder.mkdir(exist_ok=True)
    Store(folder / f"{name}.db", create=True).close()
    recorded = set(project.store.get_meta(CONCEPTS_META) or []) | set(concept_names(project))
    project.store.set_meta(CONCEPTS_META, sorted(recorded))  # so a concept database that goes missing is noticed


def concept_project(project, name: str):  # noqa: ANN001, ANN201 - textsel.project.Project in and out
    """The project as concept ``name`` sees it (see the module docstring); close it with ``.close()``."""
    if name not in concept_names(project):
        known = ", ".join(concept_names(project)) or "none yet"
        raise DataError(f"no concept {name!r} in this project (concepts: {known})")
    if project.is_static:
        raise ConfigError("concepts share the project's whole-pool embeddings, which a static first-pass project does "
                          "not make; use one project per concept")
    project.embeddings()  # made or verified once, by the project, for every concept
    view = copy.copy(project)
    view.store = Store(Path(project.directory) / CONCEPTS_DIR / f"{name}.db")
    view.config = dataclasses.replace(project.config, labels=[YES, NO], positive=YES)
    view.cache_dir = Path(project.cache_dir) / "concepts" / name
    view.concept = name
    recorded = project.store.get_meta("embeddings")
    if view.store.get_meta("embeddings") != recorded:  # what the concept's model is checked against
        view.store.set_meta("embeddings", recorded)
    view._compose()  # its own labels, rounds and model; the project's corpus and vectors (one index for all)
    return view


@dataclass(frozen=True)
class Answer:
    """One text's labels for every concept, as recorded (kept so that ``undo`` can retract them)."""

    doc_id: int
    yes: frozenset[str]
    skipped: bool = False
    written: dict[str, str | None] = dataclasses.field(default_factory=dict)  # concept -> label it replaced
    rows: dict[str, int] = dataclasses.field(default_factory=dict)  # concept -> the label row this answer wrote


class ConceptSession:
    """One pass over the texts any concept selected: per text, toggle the concepts that apply and accept.

    Keys: ``1``-``9`` toggle a concept, ``a`` records yes for the toggled concepts and no for the others (in every
    concept's store), ``s`` skips the text for every concept that selected it, ``u`` undoes the last answer.
    """

    def __init__(self, project) -> None:  # noqa: ANN001 - textsel.project.Project
        self.project = project
        self.names = concept_names(project)
        if not self.names:
            raise NoConceptsError("the project has no concepts yet; add some first")
        self.views = {name: concept_project(project, name) for name in self.names}
        self.keys = {str(number): name for number, name in enumerate(self.names, start=1)}
        self.queue: list[int] = []
        self.rounds: dict[str, dict[int, int]] = {name: {} for name in self.names}
        for name, view in self.views.items():
            round_id, pending = view.store.pending()
            for doc_id in pending:
                self.rounds[name][doc_id] = round_id
                if doc_id not in self.queue:
                    self.queue.append(doc_id)
        self.toggled: set[str] = set()
        self._shown: int | None = None
        self.history: list[Answer] = []

    def close(self) -> None:
        for view in self.views.values():
            view.store.close()

    @property
    def current(self) -> int | None:
        """The text to answer now (texts answered for every concept meanwhile are passed over). When a text comes
        on screen, the concepts it is already labeled yes for start toggled on."""
        while self.queue and all(view.store.latest_label(self.queue[0]) is not None for view in self.views.values()):
            self.queue.pop(0)
        doc_id = self.queue[0] if self.queue else None
        if doc_id is not None and doc_id != self._shown:
            self._shown = doc_id
            self.toggled = {name for name, view in self.views.items() if view.store.latest_label(doc_id) == YES}
        return doc_id

    def press(self, key: str, shown_id: int) -> Answer | None:
        """Apply a key to the text on screen; returns the answer recorded or undone (None: a toggle)."""
        if key in self.keys:
            self.toggled ^= {self.keys[key]}
            return None
        if key == UNDO:
            return self.undo()
        if key not in (ACCEPT, SKIP):
            raise DataError(f"unknown key {key!r}; use {', '.join(f'{k}={v}' for k, v in self.keys.items())} to "
                            f"toggle, {ACCEPT}=accept, {SKIP}=skip, {UNDO}=undo, q=quit")
        if shown_id != self.current:
            raise StoreError("the text on screen changed; nothing was recorded for that key press")
        answer = Answer(shown_id, frozenset(self.toggled), skipped=key == SKIP)
        for name, view in self.views.items():
            round_id = self.rounds[name].get(shown_id)
            if answer.skipped:
                if round_id is not None:
                    view.store.skip(round_id, shown_id)
            elif (before := view.store.latest_label(shown_id)) != (YES if name in answer.yes else NO):
                answer.rows[name] = view.store.add_label_row(shown_id, YES if name in answer.yes else NO,
                                                             source="label", round_id=round_id)
                answer.written[name] = before
        self.queue.remove(shown_id)
        self.history.append(answer)
        self._shown = None
        return answer

    def undo(self) -> Answer | None:
        """Retract the last answer in every concept (or unskip it) and show that text again. A concept whose label
        another process changed since keeps that label; the others are undone, then StoreError names the kept."""
        if not self.history:
            return None
        answer = self.history.pop()
        kept = []
        for name, view in self.views.items():
            round_id = self.rounds[name].get(answer.doc_id)
            if answer.skipped:
                if round_id is not None:
                    view.store.unskip(round_id, answer.doc_id)
            elif name in answer.written:  # the label before the answer is current again (None: unlabeled)
                if not view.store.replace_if_latest(answer.doc_id, answer.rows[name], answer.written[name],
                                                    source="undo", round_id=round_id):
                    kept.append(name)
        self.queue.insert(0, answer.doc_id)
        self._shown = None
        if kept:
            raise StoreError(f"another process labeled this text for {', '.join(kept)} after this answer; undo left "
                             f"those labels in place and undid the rest")
        return answer


def concept_labels(project) -> dict[str, dict[int, str]]:  # noqa: ANN001 - textsel.project.Project
    """Every concept's current labels: {concept: {internal doc id: "yes" or "no"}}."""
    folder = Path(project.directory) / CONCEPTS_DIR
    labels = {}
    for name in concept_names(project):
        with Store(folder / f"{name}.db") as store:
            labels[name] = store.current_labels()
    return labels


def export_concepts(project, out: str | Path, *, format: str | None = None,  # noqa: ANN001 - Project
                    force: bool = False) -> int:
    """Write every text labeled for any concept: id, text and one column per concept (yes, no or empty).

    ``out`` is checked like every export before anything is written (never in or over the project; an existing
    file only with ``force``).
    Returns how many texts were written.
    """
    from textsel.export import write_records

    labels = concept_labels(project)
    doc_ids = list(dict.fromkeys(doc_id for by_doc in labels.values() for doc_id in by_doc))
    records = [{"id": name, "text": text, **{concept: labels[concept].get(doc_id) for concept in labels}}
               for doc_id, name, text in zip(doc_ids, project.external_ids(doc_ids), project.texts(doc_ids),
                                             strict=True)]
    write_records(records, Path(out), format=format, force=force, project_dir=project.directory)
    return len(records)
