"""Write files and folders so that readers (and a killed process) never see half of one: write beside, then rename.

Temporary names are unique and created exclusively (``mkstemp``/``mkdtemp``) in the target's folder, so a
symlink planted at a guessable name (``OUT.tmp``) is never followed. Results get the permissions an ordinary
``open`` would give: the umask for a new path, the old mode when a file is replaced.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def current_umask() -> int:
    """The process umask (reading it means setting it; a private 077 is set meanwhile, so a race errs safe)."""
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | Path, *, fsync: bool = False) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s folder; when the block succeeds, rename it over ``path``.

    The temporary name keeps ``path``'s suffix, so writers that pick a format from it (``np.save``,
    ``savefig``, ``pq.write_table``) behave the same. On error the temporary file is removed and ``path`` is
    left as it was. ``fsync=True`` flushes the file to disk before the rename. A new file gets the mode the
    umask allows (not mkstemp's 0600); a replaced file keeps its mode.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_dead_temporaries(path)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    _hold(handle)  # locked while this process lives: a later writer knows it is not a dead one's leftover
    try:
        os.chmod(tmp, _mode_for(path, 0o666))
        yield Path(tmp)
        if fsync:
            with open(tmp, "rb") as written:
                os.fsync(written.fileno())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
        os.close(handle)


def remove_dead_temporaries(path: str | Path) -> None:
    """Delete the temporary files :func:`atomic_path` left beside ``path`` in a process that was killed (kill -9
    skips every ``finally``): names of the exact ``.NAME.XXXXXXXX.SUFFIX`` form that no living writer holds locked.
    Without ``fcntl`` (Windows) nothing is removed."""
    try:
        import fcntl
    except ImportError:
        return
    path = Path(path)
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[A-Za-z0-9_]{{8}}{re.escape(path.suffix)}")
    try:
        entries = [entry for entry in path.parent.iterdir() if pattern.fullmatch(entry.name)]
    except OSError:
        return
    for entry in entries:
        if entry.is_symlink() or not entry.is_file():
            continue
        try:
            descriptor = os.open(entry, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # a living writer holds it
            os.close(descriptor)
            continue
        try:
            entry.unlink(missing_ok=True)
        finally:
            os.close(descriptor)


def _hold(descriptor: int) -> None:
    """Take an exclusive advisory lock on an open temporary file (released when the process ends, however)."""
    try:
        import fcntl

        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (ImportError, OSError):
        pass


def write_text_atomic(path: str | Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


@contextmanager
def atomic_dir(path: str | Path, *, discard_old: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """Yield a new empty folder beside ``path``; when the block succeeds, it is renamed to ``path``.

    An existing ``path`` is never merged into or deleted here: without ``discard_old`` it raises
    FileExistsError (before the block runs, and again if one appears meanwhile). With ``discard_old``, an
    existing folder is first moved aside to a unique name, the new one takes its place, and ``discard_old``
    receives the moved-aside folder to remove what it knows to be its own; if the final rename fails, the old
    folder is put back. On error the temporary folder is removed.
    """
    import shutil

    path = Path(path)
    if _exists(path) and (discard_old is None or path.is_symlink() or not path.is_dir()):
        raise FileExistsError(f"{path} exists")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        os.chmod(tmp, 0o777 & ~current_umask())
        yield tmp
        aside = None
        if _exists(path):
            if discard_old is None:
                raise FileExistsError(f"{path} exists")
            aside = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.old."))
            try:
                os.rename(path, aside)  # onto the empty folder just made: POSIX replaces an empty directory
            except OSError:
                aside.rmdir()
                raise
        try:
            os.rename(tmp, path)  # fails (ENOTEMPTY/ENOTDIR) rather than replace anything that appeared meanwhile
        except OSError:
            if aside is not None:
                os.rename(aside, path)
            raise
        if aside is not None:
            discard_old(aside)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)  # only the folder mkdtemp made for this call


def _exists(path: Path) -> bool:
    """True for anything at ``path``, a dangling symlink included."""
    return path.exists() or path.is_symlink()


def _mode_for(path: Path, base: int) -> int:
    """Permission bits for a file written to ``path``: the current file's, else ``base`` less the umask."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return base & ~current_umask()
