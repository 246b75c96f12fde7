"""An interactive labeling session over the pending batch: label, skip, undo, quit.

Every action is committed to the store before the next text is shown, so a session killed at any moment
resumes where it stopped: the next session starts with the first selected text that is neither labeled nor
skipped. The session is plain library code; ``textsel label`` only reads keys and prints.
"""

from __future__ import annotations

from dataclasses import dataclass

from textsel.errors import DataError, StoreError

SKIP, UNDO, QUIT = "s", "u", "q"


@dataclass(frozen=True)
class Action:
    """One committed step, kept so that ``undo`` can reverse it."""

    kind: str  # "label" or "skip"
    doc_id: int
    label: str | None = None


class LabelSession:
    """Walks the latest round's unlabeled, unskipped selections in order.

    Parameters
    ----------
    project : Project
        An open project; its store receives one transaction per action.
    """

    def __init__(self, project) -> None:  # noqa: ANN001 - textsel.project.Project
        self.project = project
        self.round_id, pending = project.store.pending()
        if self.round_id is None:
            raise StoreError("no batch to label yet: select one with `textsel next`")
        self.queue: list[int] = list(pending)
        self.history: list[Action] = []
        self.keys = {str(number): label for number, label in enumerate(project.config.labels, start=1)}
        if len(self.keys) > 9:
            raise DataError(f"interactive labeling offers one key per label (1-9); this project has "
                            f"{len(self.keys)} labels. Use `textsel label --ids ... --label ...` or `textsel import`")

    @property
    def current(self) -> int | None:
        """The document to label now, or None when the batch is done (texts labeled meanwhile by another
        process, e.g. ``textsel label --ids``, are passed over)."""
        while self.queue and self.project.store.latest_label(self.queue[0]) is not None:
            self.queue.pop(0)
        return self.queue[0] if self.queue else None

    def text(self, doc_id: int) -> str:
        return self.project.texts([doc_id])[0]

    def press(self, key: str) -> Action | None:
        """Apply one key: a label key, ``s`` (skip) or ``u`` (undo); return the action done or undone."""
        if key == UNDO:
            return self.undo()
        if self.current is None:
            return None
        if key == SKIP:
            return self.skip()
        if key in self.keys:
            return self.label(self.keys[key])
        raise DataError(f"unknown key {key!r}; use {', '.join(f'{k}={v}' for k, v in self.keys.items())}, "
                        f"{SKIP}=skip, {UNDO}=undo, {QUIT}=quit")

    def label(self, label: str) -> Action:
        doc_id = self.queue[0]
        self.project.add_labels([doc_id], [label], source="label", round_id=self.round_id)
        return self._done(Action("label", doc_id, label))

    def skip(self) -> Action:
        doc_id = self.queue[0]
        self.project.store.skip(self.round_id, doc_id)
        return self._done(Action("skip", doc_id))

    def _done(self, action: Action) -> Action:
        self.queue.pop(0)
        self.history.append(action)
        return action

    def undo(self) -> Action | None:
        """Reverse this session's last label (a retracting row is appended) or skip; None if there is none."""
        if not self.history:
            return None
        action = self.history.pop()
        if action.kind == "label":
            self.project.store.add_label(action.doc_id, None, source="undo", round_id=self.round_id)
        else:
            self.project.store.unskip(self.round_id, action.doc_id)
        self.queue.insert(0, action.doc_id)
        return action
