"""Rows appended to a project's data file: found, and taken into the pool on request.

A project records its pool's row count and fingerprint. When the data file grows and its first rows are still
exactly the project's (same ids, same texts), the new rows were appended: :func:`main_file_rows` leaves them
out with a warning saying how many (commands go on with the project's rows, instead of calling the file changed), and
:func:`add_appended` adds them like ``Project.add_documents`` adds a file (ids checked, only new texts embedded,
the index grown). The project then reads the first ``data_rows`` rows of the file as its original data, and each
appended stretch as an added entry (``skip_rows``, ``take_rows``), so rows appended later are found again.
"""

from __future__ import annotations

import logging

from textsel.errors import DataError

logger = logging.getLogger("textsel.appended")

DATA_ROWS_META = "data_rows"  # how many leading rows of the data file are the project's original data


def pool_rows(pool, start: int, stop: int | None = None):  # noqa: ANN001, ANN201 - textsel.data.Pool
    """Rows ``start:stop`` of ``pool`` as a Pool (string ids kept)."""
    from textsel.data import Pool

    return Pool(ids=pool.ids[start:stop], texts=pool.texts[start:stop],
                columns={name: values[start:stop] for name, values in pool.columns.items()}, source=pool.source,
                keys=None if pool.keys is None else pool.keys[start:stop])


def _used_rows(corpus, limit: int) -> int:  # noqa: ANN001 - textsel.project.corpus.Corpus
    """Rows of the data file the project holds: the original ``limit`` plus every appended stretch taken in."""
    source = corpus.config.source
    return limit + sum(entry.get("take_rows", 0) for entry in corpus._added_files() if entry["source"] == source)


def _appended_count(corpus, full) -> int:  # noqa: ANN001 - Corpus, Pool
    """How many rows were appended to the data file ``full`` (read whole) after the project's rows; 0 when none
    were, or when the file changed otherwise (the caller's checks say so)."""
    limit = corpus.store.get_meta(DATA_ROWS_META)
    if limit is not None:
        return max(len(full) - _used_rows(corpus, limit), 0)
    from textsel.data import Pool

    expected = corpus.store.get_meta("pool") or {}
    added = [corpus._load_added(entry) for entry in corpus._added_files()]
    extra = len(full) + sum(len(pool) for pool in added) - (expected.get("rows") or 0)
    if extra <= 0 or extra >= len(full) or not expected.get("fingerprint"):
        return 0
    before = Pool.concat([pool_rows(full, 0, len(full) - extra), *added])
    return extra if before.fingerprint() == expected["fingerprint"] else 0


def main_file_rows(corpus, full):  # noqa: ANN001, ANN201 - textsel.project.corpus.Corpus, textsel.data.Pool
    """The rows of the data file ``full`` that are the project's data. Rows appended after them are left out
    with a warning (commands go on with the project's rows) and counted in ``corpus.appended_rows``."""
    appended = _appended_count(corpus, full)
    corpus.appended_rows, corpus.data_file_rows = appended, len(full)
    limit = corpus.store.get_meta(DATA_ROWS_META)
    if appended:
        logger.warning("%s: %s rows were appended to the data file after the %s this project holds (those are "
                       "unchanged); commands use the project's rows until the appended ones are added to it",
                       corpus.config.source, f"{appended:,}", f"{len(full) - appended:,}")
        limit = len(full) - appended if limit is None else limit
    return full if limit is None else pool_rows(full, 0, limit)


def add_appended(project) -> int:  # noqa: ANN001 - textsel.project.Project
    """Take the rows appended to the data file into the pool; return how many (see the module docstring)."""
    project.pool  # noqa: B018 - reading the pool counts the appended rows
    corpus = project.corpus
    appended = getattr(corpus, "appended_rows", 0)
    if not appended:
        raise DataError("no rows were appended to the data file after the project's rows", file=project.config.source)
    total = corpus.data_file_rows
    limit = project.store.get_meta(DATA_ROWS_META)
    limit = total - appended if limit is None else limit
    project.store.set_meta(DATA_ROWS_META, limit)
    entry = {"source": project.config.source, "format": project.config.format, "id_offset": 0,
             "skip_rows": total - appended, "take_rows": appended}
    count = project.add_entry(entry, shown=project.config.source)
    corpus.appended_rows = 0
    return count
