"""Interactive labeling sessions: label, skip, undo, quit; over the pending batch, over skipped texts, or in a
continuous loop that selects, labels and retrains until the user stops.

Every action is committed to the store before the next text is shown, so a session killed at any moment
resumes where it stopped: the next session starts with the first selected text that is neither labeled nor
skipped. The sessions are plain library code; ``textsel label`` only reads keys and prints.

A key press names the text it was meant for (the one on screen): if another process labeled that text in the
meantime, the press is refused with :class:`ShownTextChanged`, never applied to the next text in the queue.
Ids in messages are the ids users know (string ids as given).
"""

from __future__ import annotations

from dataclasses import dataclass

from textsel.errors import DataError, NothingToLabelError, PoolExhaustedError, StoreError

SKIP, UNDO, QUIT = "s", "u", "q"


class ShownTextChanged(StoreError):
    """The text on screen was labeled by another process before the key press; nothing was recorded."""


class LabelChangedMeanwhile(ShownTextChanged):
    """An undo found that another process labeled the text after this session did; its label stays."""


@dataclass(frozen=True)
class Action:
    """One committed step, kept so that ``undo`` can reverse it."""

    kind: str  # "label", "skip", or "pass" (a revisited skipped text left skipped)
    doc_id: int
    label: str | None = None
    round_id: int | None = None
    row: int | None = None  # the label row this session wrote (undo retracts it only while it is the latest)


class LabelSession:
    """Walks selected texts in order: the latest round's unlabeled, unskipped ones, or with ``revisit_skipped``
    every skipped text that is still unlabeled (in any round).

    Parameters
    ----------
    project : Project
        An open project; its store receives one transaction per action.
    revisit_skipped : bool, default=False
        Walk the skipped texts instead of the pending batch; ``s`` then leaves a text skipped and moves on.
    """

    def __init__(self, project, *, revisit_skipped: bool = False) -> None:  # noqa: ANN001 - Project
        self.project = project
        self.revisit = revisit_skipped
        self.keys = {str(number): label for number, label in enumerate(project.config.labels, start=1)}
        if len(self.keys) > 9:
            raise DataError(f"interactive labeling offers one key per label (1-9); this project has "
                            f"{len(self.keys)} labels; label texts by id with an explicit label, or import a label "
                            f"file")
        self.queue: list[int] = []
        self.rounds: dict[int, int] = {}  # doc id -> the round that selected it
        self.history: list[Action] = []
        self._probabilities: dict[int, float | None] = {}
        self._round_strategies: dict[int, str] = {}
        if revisit_skipped:
            self.round_id = None
            self._enqueue(project.store.skipped())
        else:
            self.round_id, pending = project.store.pending()
            if self.round_id is None and not self._selects_itself:
                raise NothingToLabelError("no batch to label yet: select one first")
            self._enqueue([(self.round_id, doc_id) for doc_id in pending])

    _selects_itself = False  # a ContinuousSession selects its own batches

    def _enqueue(self, items: list[tuple[int, int]]) -> None:
        for round_id, doc_id in items:
            self.rounds[doc_id] = round_id
            self.queue.append(doc_id)
        self.project.remember_keys([doc_id for _, doc_id in items])  # string ids stored as given

    @property
    def current(self) -> int | None:
        """The document to label now, or None when the queue is done (texts labeled meanwhile by another
        process, e.g. ``textsel label --ids``, are passed over)."""
        while self.queue and self.project.store.latest_label(self.queue[0]) is not None:
            self.queue.pop(0)
        return self.queue[0] if self.queue else None

    def text(self, doc_id: int) -> str:
        return self.project.texts([doc_id])[0]

    def shown_id(self, doc_id: int) -> int | str:
        """The id users know for an internal ``doc_id``."""
        return self.project.external_ids([doc_id])[0]

    def probability(self, doc_id: int) -> float | None:
        """The model's P(positive class) for a queued text (None before two classes are labeled).

        The model is the project's trained model, retrained when labels changed since it was saved; the
        probabilities of the whole queue are computed at once and kept until the queue is refilled.

        Texts of an audit round get None: the estimates and the stopping rule rest on their labels, and a score
        on screen could sway exactly those labels.
        """
        if self._is_audited(doc_id):
            return None
        if doc_id not in self._probabilities:
            self._probabilities.update(zip(self.queue, self.project.positive_probabilities(self.queue), strict=True))
            self._probabilities.setdefault(doc_id, None)
        return self._probabilities[doc_id]

    def _is_audited(self, doc_id: int) -> bool:
        """Whether the text is queued from an audit round (rounds looked up once per round id)."""
        round_id = self.rounds.get(doc_id)
        if round_id is None:
            return False
        if round_id not in self._round_strategies:
            self._round_strategies.update((record.round_id, record.strategy)
                                          for record in self.project.store.rounds())
        return self._round_strategies.get(round_id) == "audit"

    def press(self, key: str, shown_id: int | None) -> Action | None:
        """Apply one key to the text ``shown_id`` (the one on screen): a label key, ``s`` (skip) or ``u`` (undo).

        Returns the action done or undone (None: nothing to undo, or the queue is done). Raises DataError for an
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
        round_id = self.rounds.get(doc_id)
        row = self.project.store.label_if_unlabeled(doc_id, label, source="label", round_id=round_id)
        if row is None:
            raise self._changed(doc_id)
        return self._done(Action("label", doc_id, label, round_id, row))

    def skip(self, doc_id: int) -> Action:
        """Skip the text (recorded in its round); when revisiting skipped texts, leave it skipped and move on."""
        round_id = self.rounds.get(doc_id)
        if self.revisit:
            return self._done(Action("pass", doc_id, round_id=round_id))
        if not self.project.store.skip_if_unlabeled(round_id, doc_id):
            raise self._changed(doc_id)
        return self._done(Action("skip", doc_id, round_id=round_id))

    def _changed(self, shown_id: int | None) -> ShownTextChanged:
        label = None if shown_id is None else self.project.store.latest_label(shown_id)
        name = None if shown_id is None else self.shown_id(shown_id)
        what = (f"id {name} was labeled {label!r} by another process" if label else f"id {name} left the batch")
        return ShownTextChanged(f"{what} while it was on screen; nothing was recorded for that key press")

    def _done(self, action: Action) -> Action:
        self.queue.remove(action.doc_id)
        self.history.append(action)
        return action

    def undo(self) -> Action | None:
        """Reverse this session's last label (a retracting row is appended), skip or pass; None if there is none.

        A label undone from a round that is no longer the latest is also recorded as skipped, so that a session
        stopped before relabeling it leaves it where ``--skipped`` finds it. A label that another process replaced
        since is left alone: LabelChangedMeanwhile, nothing written (and that step can no longer be undone).
        """
        if not self.history:
            return None
        action = self.history.pop()
        store = self.project.store
        if action.kind == "label":
            if not store.replace_if_latest(action.doc_id, action.row, None, source="undo", round_id=action.round_id):
                raise LabelChangedMeanwhile(
                    f"id {self.shown_id(action.doc_id)} was labeled {store.latest_label(action.doc_id)!r} by "
                    f"another process after this session's {action.label!r}; undo leaves that label in place")
            if self.revisit or action.round_id != store.pending()[0]:
                store.skip(action.round_id, action.doc_id)
        elif action.kind == "skip":
            store.unskip(action.round_id, action.doc_id)
        self.queue.insert(0, action.doc_id)
        return action


class ContinuousSession(LabelSession):
    """Select a batch, label it, retrain and select again, until the user quits or a stopping rule says so.

    Starts with the pending batch when there is one. Each new batch of ``batch_size`` texts comes from
    ``Project.next_batch``, which trains on every label so far, so the model is retrained every ``batch_size``
    texts labeled (or skipped). Stops when ``max_labels`` labels were made in this session or no unlabeled
    candidate is left; ``stop_reason`` then says which.
    """

    _selects_itself = True

    def __init__(self, project, *, batch_size: int = 10, strategy: str | None = None,  # noqa: ANN001 - Project
                 candidate_pool: str = "auto", seed: int = 0, max_labels: int | None = None) -> None:
        project.check_round_params(batch_size, strategy, candidate_pool)
        if max_labels is not None and (isinstance(max_labels, bool) or not isinstance(max_labels, int)
                                       or max_labels < 1):
            raise DataError(f"the most labels for a session must be an int >= 1; got {max_labels!r}")
        self.batch_size, self.strategy, self.candidate_pool = batch_size, strategy, candidate_pool
        self.seed, self.max_labels = seed, max_labels
        self.labels_made = 0
        self.batches_selected = 0
        self.stop_reason: str | None = None
        self.selected_rounds: set[int] = set()
        super().__init__(project)

    @property
    def current(self) -> int | None:
        """The text to label now; when the batch is done, a new one is selected first (None: stopped)."""
        if self.stop_reason is not None:
            return None
        doc_id = LabelSession.current.fget(self)
        while doc_id is None and self.stop_reason is None:
            self._select()
            doc_id = LabelSession.current.fget(self)
        return doc_id

    def _select(self) -> None:
        try:
            self.round_id, result = self.project.next_batch(
                n=self.batch_size, strategy=self.strategy, candidate_pool=self.candidate_pool,
                seed=self.seed + self.batches_selected)
        except PoolExhaustedError as error:
            self.stop_reason = str(error)
            return
        self.batches_selected += 1
        self.selected_rounds.add(self.round_id)
        self._probabilities.clear()  # the model is retrained on the labels of the batch just done
        self._enqueue([(self.round_id, int(doc_id)) for doc_id in result.ids])
        if not len(result.ids):
            self.stop_reason = "the selection found no more texts to label"

    def label(self, label: str, doc_id: int) -> Action:
        action = super().label(label, doc_id)
        self.labels_made += 1
        if self.max_labels is not None and self.labels_made >= self.max_labels:
            self.stop_reason = f"{self.labels_made} labels made in this session, the most asked for"
        return action

    def set_aside(self) -> tuple[int | None, list[int]]:
        """End the session: the unlabeled rest of the last batch this session selected is discarded (recorded in
        the database, like a discarded batch), so no half-done batch blocks the next selection or audit. A batch
        that was pending before the session started stays pending. Returns (round id, ids set aside)."""
        pending_round, pending = self.project.store.pending()
        if not pending or pending_round not in self.selected_rounds:
            return None, []
        return self.project.store.discard_pending()

    def undo(self) -> Action | None:
        action = super().undo()
        if action is not None and action.kind == "label":
            self.labels_made -= 1
            if self.stop_reason and self.max_labels is not None and self.labels_made < self.max_labels:
                self.stop_reason = None
        return action
