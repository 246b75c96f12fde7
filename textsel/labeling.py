"""An interactive labeling session over the pending batch: label, skip, undo, quit.

Every action is committed to the store before the next text is shown, so a session killed at any moment
resumes where it stopped: the next session starts with the first selected text that is neither labeled nor
skipped. The session is plain library code; ``textsel label`` only reads keys and prints.

A key press names the text it was meant for (the one on screen): if another process labeled that text in the
meantime, the press is refused with :class:`ShownTextChanged`, never applied to the next text in the queue.
"""

from __future__ import annotations

from dataclasses import dataclass

from textsel.errors import DataError, StoreError

SKIP, UNDO, QUIT = "s", "u", "q"


class ShownTextChanged(StoreError):
    """The text on screen was labeled by another process before the key press; nothing was recorded."""


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

    def press(self, key: str, shown_id: int | None) -> Action | None:
        """Apply one key to the text ``shown_id`` (the one on screen): a label key, ``s`` (skip) or ``u`` (undo).

        Returns the action done or undone (None: nothing to undo, or the batch is done). Raises DataError for an
        unknown key and ShownTextChanged when ``shown_id`` is no longer the current text (labeled meanwhile by
        another process): the caller shows the current text again.
        """
        if key == UNDO:
            return self.undo()
        if key != SKIP and key not in self.keys:
            raise DataError(f"unknown key {key!r}; use {', '.join(f'{k}={v}' for k, v in self.keys.items())}, "
                            f"{SKIP}=skip, {UNDO}=undo, {QUIT}=quit")
        current = self.current
        if current is None and shown_id is None:
            return None
        if shown_id != current:
            raise self._changed(shown_id)
        return self.skip(shown_id) if key == SKIP else self.label(self.keys[key], shown_id)

    def label(self, label: str, doc_id: int) -> Action:
        """Record ``label`` for ``doc_id`` unless another process labeled it first (then ShownTextChanged)."""
        if not self.project.store.label_if_unlabeled(doc_id, label, source="label", round_id=self.round_id):
            raise self._changed(doc_id)
        return self._done(Action("label", doc_id, label))

    def skip(self, doc_id: int) -> Action:
        if not self.project.store.skip_if_unlabeled(self.round_id, doc_id):
            raise self._changed(doc_id)
        return self._done(Action("skip", doc_id))

    def _changed(self, shown_id: int | None) -> ShownTextChanged:
        label = None if shown_id is None else self.project.store.latest_label(shown_id)
        what = (f"id {shown_id} was labeled {label!r} by another process" if label
                else f"id {shown_id} left the batch")
        return ShownTextChanged(f"{what} while it was on screen; nothing was recorded for that key press")

    def _done(self, action: Action) -> Action:
        self.queue.remove(action.doc_id)
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
