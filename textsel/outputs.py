"""The one checked writer for everything a command writes where the user said: a file (an export, a batch, the
predictions) or a folder of results (simulate, svp, demo) or a new project folder (init).

Before anything is computed or written, :func:`check_output_file`, :func:`check_output_folder` and
:func:`check_new_project` refuse, with one DataError line: the project folder, a path inside or above it (symlinks
resolved); the current folder or one above it; a folder where a file goes and a file where a folder goes; anything
that is not a regular file (a device node, a FIFO); an existing file unless the caller allows replacing it
(OutputExistsError); a folder that cannot be written to (probed with a uniquely named temporary file, so a
read-only disk is found even by root). Writing then goes through :func:`output_file` (a unique temporary file,
flushed to disk, renamed over the target) inside :func:`writing`, which turns any OSError (a full disk, a
read-only folder, a path that became a folder meanwhile) into one DataError naming the file: never a traceback,
never half a file.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from textsel._atomic import atomic_path
from textsel.errors import DataError, OutputExistsError

PROJECT_MARKER = "textsel.toml"


def os_error_message(error: OSError) -> str:
    """A short reason for an OSError: the disk is full, read-only, permission denied, or its own text."""
    if error.errno == errno.ENOSPC:
        return "no space left on the disk"
    if error.errno == errno.EROFS:
        return "the file system is read-only"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return error.strerror or str(error)


@contextmanager
def writing(out: str | Path) -> Iterator[None]:
    """Turn an OSError raised while writing ``out`` into one DataError line naming it (nothing was written)."""
    try:
        yield
    except OSError as error:
        raise DataError(f"cannot write it: {os_error_message(error)}; nothing was written", file=str(out)) from error


@contextmanager
def output_file(out: str | Path) -> Iterator[Path]:
    """A temporary path beside ``out``; renamed over it (after an fsync) when the block succeeds. Check ``out``
    first with :func:`check_output_file`; OSErrors become DataError (see :func:`writing`)."""
    with writing(out), atomic_path(out, fsync=True) as tmp:
        yield tmp


def check_place(out: str | Path, project_dir: str | Path | None) -> None:
    """Refuse ``out`` when it is the project folder, inside it or above it, or the current folder or above it."""
    out = Path(out)
    try:  # where the rename lands (the parent resolved, the name as given) and where a symlink there points
        places = {out.resolve()} | ({out.parent.resolve() / out.name} if out.name not in ("", "..") else set())
    except (OSError, RuntimeError) as error:  # RuntimeError: a symlink loop (Python < 3.13)
        raise DataError(f"cannot resolve the path: {error}", file=str(out)) from error
    if project_dir is not None:
        project = Path(project_dir).resolve()
        if any(place == project or project in place.parents or place in project.parents for place in places):
            raise DataError(f"is the project folder {project}, inside it or above it; outputs are written "
                            "outside the project", file=str(out))
    cwd = Path.cwd().resolve()
    if any(place == cwd or place in cwd.parents for place in places):
        raise DataError("is the current folder or contains it; name a new file to write", file=str(out))


def check_writable_folder(out: str | Path) -> None:
    """Refuse when the folder ``out`` goes into cannot be created or written: the nearest existing folder must be
    a folder, and a folder that exists is probed with a uniquely named temporary file (removed at once)."""
    folder = Path(out).parent.resolve()
    existing = next(parent for parent in (folder, *folder.parents) if parent.exists())
    if not existing.is_dir():
        raise DataError(f"cannot create a folder here: {existing} is a file", file=str(out))
    probe_folder(existing, out)


def probe_folder(folder: Path, out: str | Path) -> None:
    """Create and remove a uniquely named file in ``folder``; an OSError becomes a DataError naming ``out``."""
    try:
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".textsel-probe.")
    except OSError as error:
        raise DataError(f"cannot write in {folder}: {os_error_message(error)}", file=str(out)) from error
    os.close(handle)
    Path(probe).unlink(missing_ok=True)


def check_output_file(out: str | Path, *, force: bool = False, project_dir: str | Path | None = None) -> Path:
    """Validate a file output before anything is computed or written (see the module docstring); return it."""
    out = Path(out)
    check_place(out, project_dir)
    if out.is_dir():
        raise DataError("is a folder; name a file to write", file=str(out))
    if out.exists() and not out.is_file():
        raise DataError("is not a regular file; choose a new name", file=str(out))
    if (out.exists() or out.is_symlink()) and not force:
        raise OutputExistsError("already exists; choose a new name, or allow overwriting it", file=str(out))
    check_writable_folder(out)
    return out


def check_output_folder(out: str | Path, *, names: Iterable[str] = (), project_dir: str | Path | None = None) -> Path:
    """Validate a results folder (created if missing; the files ``names`` in it are replaced): not a file, not in
    or over a project (``project_dir``, or any folder holding a textsel.toml above it), and each of ``names`` in
    it absent or a regular file, never a symlink or a folder. Return ``out``."""
    out = Path(out)
    if (out.exists() or out.is_symlink()) and not out.is_dir():
        raise DataError("is not a folder; name a folder for the results", file=str(out))
    if project_dir is not None:
        check_place(out, project_dir)
    check_outside_projects(out)
    for name in names:
        inside = out / name
        if inside.is_symlink() or (inside.exists() and not inside.is_file()):
            raise DataError(f"{name} there is not a regular file; it is never replaced, choose another folder",
                            file=str(out))
    if out.is_dir():
        probe_folder(out.resolve(), out)
    else:
        check_writable_folder(out)
    return out


def check_outside_projects(out: str | Path) -> None:
    """Refuse ``out`` when it or a folder above it is a textsel project (holds a textsel.toml)."""
    resolved = Path(out).resolve()
    for folder in (resolved, *resolved.parents):
        if (folder / PROJECT_MARKER).is_file():
            raise DataError(f"is inside the textsel project {folder}; write it outside the project", file=str(out))


def check_new_project(directory: str | Path) -> Path:
    """Validate the folder a new project is created in: not a file, not inside another project
    (its cache included), and writable. An empty name is refused (it would mean the current folder)."""
    if not str(directory).strip():
        raise DataError("the project folder name is empty; name a folder")
    directory = Path(directory)
    if (directory.exists() or directory.is_symlink()) and not directory.is_dir():
        raise DataError("is not a folder; name a folder for the project", file=str(directory))
    resolved = directory.resolve()
    for folder in resolved.parents:
        if (folder / PROJECT_MARKER).is_file():
            raise DataError(f"is inside the textsel project {folder}; create the project elsewhere",
                            file=str(directory))
    if directory.is_dir():
        probe_folder(resolved, directory)
    else:
        check_writable_folder(directory)
    return directory


@contextmanager
def creating_project(directory: str | Path, names: Iterable[str]) -> Iterator[None]:
    """Write a new project's files in the block; on any error remove what the block created of ``names`` (files
    and folders that were not there before, the SQLite side files, and ``directory`` itself when it was made here
    and is left empty), then raise it (an OSError as one DataError line)."""
    import shutil

    directory = Path(directory)
    made = not directory.exists()
    names = list(names)
    before = {name for name in names if (directory / name).exists() or (directory / name).is_symlink()}
    try:
        with writing(directory):
            yield
    except BaseException:
        for name in (name for name in names if name not in before):
            path = directory / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)  # a folder this call created
            for file in (path, directory / f"{name}-wal", directory / f"{name}-shm", directory / f"{name}-journal"):
                if file.is_file() and not file.is_symlink():
                    file.unlink(missing_ok=True)
        if made:
            _remove_empty_tree(directory)
        raise


def _remove_empty_tree(folder: Path) -> None:
    """Remove ``folder`` and the folders below it when they hold no file (nothing of anyone's is deleted)."""
    if not folder.is_dir() or folder.is_symlink():
        return
    for child in folder.iterdir():
        _remove_empty_tree(child)
    try:
        folder.rmdir()
    except OSError:
        pass


def default_output(name: str, project_dir: str | Path) -> Path:
    """Where an output goes when none is named: ``name`` in the current folder, or, when the current folder is the
    project or inside it, ``<project name>-<name>`` beside the project folder (never inside the project)."""
    project = Path(project_dir).resolve()
    cwd = Path.cwd().resolve()
    if cwd == project or project in cwd.parents:
        return project.parent / f"{project.name}-{name}"
    return Path(name)
