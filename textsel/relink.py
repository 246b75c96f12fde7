"""Point a project at its data file after the file moved: the new file is accepted only when it holds the rows
the project was made from (its row count and fingerprint, recorded at init, are checked), then ``textsel.toml``
records the new place (relative to the project where possible). Labels and caches are untouched.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from textsel._atomic import write_text_atomic
from textsel.errors import DataError
from textsel.project_config import CONFIG_NAME, DB_NAME, ProjectConfig
from textsel.store import Store

_NEVER = {"size": -1, "mtime_ns": -1}  # a data-file record no file matches: the next open checks every row


def relink_data(directory: str | Path, data: str | Path) -> Path:
    """Make ``data`` the project's data file when it holds the project's rows; return its resolved path.

    The project is reopened over ``data`` with its fingerprint check forced; on any mismatch the old config
    and record are put back and a DataError says why.
    """
    from textsel.project import Project

    directory, data = Path(directory), Path(data)
    if not data.is_file():
        raise DataError("no such file", file=str(data))
    config_path = directory / CONFIG_NAME
    old_text = config_path.read_text(encoding="utf-8")
    config = ProjectConfig.from_toml(config_path)
    with Store(directory / DB_NAME) as store:
        old_record = store.get_meta("data_file")
        store.set_meta("data_file", _NEVER)
    try:
        write_text_atomic(config_path, replace(config, source=str(data.resolve())).to_toml(directory))
        with Project(directory) as project:
            project.pool  # noqa: B018 - compares every row with the project's record
    except BaseException as error:
        write_text_atomic(config_path, old_text)
        with Store(directory / DB_NAME) as store:
            store.set_meta("data_file", old_record)
        if isinstance(error, DataError):
            raise DataError(f"does not hold the rows this project was made from ({error}); the project still "
                            "points at its old data file", file=str(data)) from error
        raise
    return data.resolve()
