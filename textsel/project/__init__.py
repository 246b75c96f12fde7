"""A labeling project on disk (see :mod:`textsel.project.facade`): ``Project`` opens one, ``init_project``
creates one. The parts ``Project`` composes live beside it: corpus, vectors, labels, model and rounds."""

from textsel.project.create import init_project
from textsel.project.facade import Project
from textsel.project.model import SAVED_LEARNERS, probability_columns
from textsel.project.types import Hit, ImportReport, Relabel, TrainedModel

__all__ = ["SAVED_LEARNERS", "Hit", "ImportReport", "Project", "Relabel", "TrainedModel", "init_project",
           "probability_columns"]
