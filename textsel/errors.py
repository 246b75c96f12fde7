"""Exceptions raised by textsel.

Every error derives from :class:`TextselError`, so the CLI catches one class and prints one line.
Messages follow one template: what was wrong, what is allowed, what was received, and the fix.
"""

from __future__ import annotations


class TextselError(Exception):
    """Base class of every error textsel raises on purpose."""


class DataError(TextselError, ValueError):
    """Input data is missing, malformed or inconsistent.

    ``file``, ``row`` and ``column`` locate the problem when known; ``row`` counts data rows from 1.
    """

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None,
                 column: str | None = None) -> None:
        self.file, self.row, self.column = file, row, column
        where = ", ".join(
            part for part in (
                f"file {file}" if file is not None else "",
                f"row {row}" if row is not None else "",
                f"column {column!r}" if column is not None else "",
            ) if part
        )
        super().__init__(f"{where}: {message}" if where else message)


class DataFileMissingError(DataError):
    """A project's data file is not where the project says (the CLI adds how to point the project at it)."""


class DuplicateIdsError(DataError):
    """Ids repeat in a data file (the CLI adds how to keep the first of each)."""


class TooFewClassesError(DataError):
    """Training was asked for before labels of two classes exist (nothing to predict with yet)."""


class ConfigError(TextselError, ValueError):
    """A parameter or configuration value is outside what is allowed."""


class NotFittedError(TextselError, ValueError, AttributeError):
    """A model was used before ``fit`` was called."""


class PoolExhaustedError(TextselError):
    """Fewer unlabeled candidates are left than a selection asked for."""


class StoreError(TextselError):
    """The project store is missing, locked or inconsistent."""


class OutputExistsError(DataError):
    """The output path exists and replacing it was not allowed (the CLI adds how to allow it)."""


class NotAProjectError(StoreError):
    """A folder is not a textsel project (no config or no database): create the project first."""


class NothingToLabelError(StoreError):
    """A labeling session found no batch waiting to be labeled: select one first."""


class PendingBatchError(StoreError):
    """The latest round still has texts to label, so no new round is drawn (the CLI adds how to drop them)."""


class NoConceptsError(StoreError):
    """A multi-concept session was asked for in a project without concepts: add some first."""


class MissingDependencyError(TextselError, ImportError):
    """An optional package needed for this feature is not installed."""


def check_param(owner: str, name: str, value: object, ok: bool, allowed: str) -> None:
    """Raise ConfigError with the shared template unless ``ok``.

    Example message: "The 'k' parameter of SEALSCandidates must be an int >= 1. Got 0."
    """
    if not ok:
        raise ConfigError(f"The {name!r} parameter of {owner} must be {allowed}. Got {value!r}.")
