"""A live round trip with a Label Studio server, through ``label-studio-sdk`` (the optional extra
``textsel[label-studio]``): push the pending batch as tasks, pull the annotations back as labels.

Push: each text of the latest round still to label becomes a task ``{"id": "<id as a string>", "text": ...}``
(ids as strings: JavaScript reads JSON numbers as doubles, so an 18-digit id would come back rounded), with the
model's P(positive) as a pre-annotation (a prediction whose choice is the likelier class and whose score is
P(positive)) once two classes are labeled. A new Label Studio project gets a labeling config with one Choices
control named ``label`` over ``text``, one choice per class.

Pull: every task of the Label Studio project is read with its annotations; per task the latest annotation that
was not cancelled counts, and a Choices control under another name is refused (as for a file import, see
:func:`textsel.importing.latest_choice`). The labels are then checked and recorded exactly like ``textsel import``
of a Label Studio export (``Project.import_labels``): every bad task named in one error, nothing half-written.
"""

from __future__ import annotations

import json
import tempfile
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

from textsel.errors import DataError, MissingDependencyError, NothingToLabelError
from textsel.importing import CHOICES_CONTROL

MODEL_VERSION = "textsel"


def connect(url: str, api_key: str):  # noqa: ANN201 - label_studio_sdk.client.LabelStudio
    """A Label Studio client for the server at ``url`` with an access token (legacy token or personal token)."""
    try:
        from label_studio_sdk.client import LabelStudio
    except ImportError as error:
        raise MissingDependencyError("the Label Studio round trip needs label-studio-sdk: "
                                     "pip install 'textsel[label-studio]'") from error
    return LabelStudio(base_url=url.rstrip("/"), api_key=api_key)


def label_config(classes: list[str]) -> str:
    """The labeling config textsel creates: the text, and one Choices control named ``label`` over it."""
    choices = "".join(f"<Choice value={quoteattr(name)}/>" for name in classes)
    return (f'<View><Text name="text" value="$text"/><Choices name="{CHOICES_CONTROL}" toName="text" '
            f'choice="single" showInLine="true">{choices}</Choices></View>')


def check_label_config(config: str) -> None:
    """Raise DataError unless the Label Studio project's config has a Choices control named ``label``."""
    try:
        root = ElementTree.fromstring(config)
    except ElementTree.ParseError as error:
        raise DataError(f"the Label Studio project's labeling config is not XML: {error}") from error
    names = [element.get("name") for element in root.iter("Choices")]
    if CHOICES_CONTROL not in names:
        found = ", ".join(repr(name) for name in names) or "none"
        raise DataError(f"the Label Studio project has no Choices control named {CHOICES_CONTROL!r} (Choices "
                        f"controls: {found}); textsel reads the labels from a Choices control named "
                        f"{CHOICES_CONTROL!r} over the text")


@dataclass(frozen=True)
class Pushed:
    """What a push did: the Label Studio project, the round whose texts went, how many tasks, with predictions."""

    ls_project: int
    round_id: int
    tasks: int
    predictions: int


def push_batch(project, client, *, ls_project: int | None = None,  # noqa: ANN001 - Project, LabelStudio
               title: str | None = None) -> Pushed:
    """Send the texts of the latest round still to label as tasks to ``ls_project`` (a new Label Studio project
    titled ``title`` when None); see the module docstring."""
    round_id, pending = project.store.pending()
    if not pending:
        raise NothingToLabelError("no selected texts are waiting to be labeled; select a batch first")
    if ls_project is None:
        created = client.projects.create(title=title or f"textsel round {round_id}",
                                         label_config=label_config(list(project.config.labels)))
        ls_project = int(created.id)
    else:
        check_label_config(client.projects.get(id=ls_project).label_config or "")
    ids, texts = project.external_ids(pending), project.texts(pending)
    chances = project.positive_probabilities(pending)
    positive = project.config.positive
    other = next(label for label in project.config.labels if label != positive)
    tasks = []
    for doc_id, text, chance in zip(ids, texts, chances, strict=True):
        task = {"data": {"id": str(doc_id), "text": text}}
        if chance is not None:
            choice = positive if chance >= 0.5 else other
            task["predictions"] = [{"model_version": MODEL_VERSION, "score": float(chance), "result": [
                {"from_name": CHOICES_CONTROL, "to_name": "text", "type": "choices",
                 "value": {"choices": [choice]}}]}]
        tasks.append(task)
    client.projects.import_tasks(id=ls_project, request=tasks)
    return Pushed(ls_project, int(round_id), len(tasks), sum("predictions" in task for task in tasks))


def _plain(value: object) -> object:
    """An SDK object as plain JSON data (dicts and lists as they are; pydantic models dumped, warnings off)."""
    if isinstance(value, dict | list | str | int | float | type(None)):
        return value
    return value.model_dump(mode="json", warnings=False)


def fetch_tasks(client, ls_project: int) -> list[dict]:  # noqa: ANN001 - LabelStudio
    """Every task of ``ls_project`` as a Label Studio JSON export holds it: id, data and annotations (read as
    attributes: the SDK's task model declares ``annotations`` a string, while the server sends a list)."""
    check_label_config(client.projects.get(id=ls_project).label_config or "")
    return [{"id": getattr(task, "id", None), "data": _plain(getattr(task, "data", None) or {}),
             "annotations": [_plain(note) for note in (getattr(task, "annotations", None) or [])]}
            for task in client.tasks.list(project=ls_project, fields="all")]


def pull_labels(project, client, ls_project: int, *, keep_newer: bool = False):  # noqa: ANN001, ANN201
    """Record the annotations of ``ls_project`` in the project (an ImportReport, as ``Project.import_labels``)."""
    tasks = fetch_tasks(client, ls_project)
    with tempfile.TemporaryDirectory(prefix="textsel-label-studio-") as folder:
        path = Path(folder) / f"label-studio-project-{ls_project}.json"
        path.write_text(json.dumps(tasks), encoding="utf-8")
        return project.import_labels(path, format="label-studio", keep_newer=keep_newer)
