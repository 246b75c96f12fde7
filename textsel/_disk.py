"""Reserve disk space for a file that is filled through a memory map.

Writing into a memory-mapped page of a sparse file on a full disk is not an error a program can catch: the kernel
sends SIGBUS and the process dies without a word. :func:`reserve` gives the file real blocks first
(``posix_fallocate``), so a full disk is an OSError at that moment instead, which the callers turn into one
DataError line.
"""

from __future__ import annotations

import os
from pathlib import Path

from textsel.errors import DataError


def reserve(path: str | Path, what: str) -> None:
    """Allocate every block of ``path`` at its current size; a full disk raises DataError naming ``what``."""
    path = Path(path)
    size = path.stat().st_size
    try:
        with open(path, "r+b") as handle:
            if hasattr(os, "posix_fallocate"):
                os.posix_fallocate(handle.fileno(), 0, size)
            else:  # no fallocate (macOS, Windows): at least refuse what obviously cannot fit
                import shutil

                if shutil.disk_usage(path.parent).free < size:
                    raise OSError(28, "No space left on device")
    except OSError as error:
        from textsel.outputs import os_error_message

        raise DataError(f"cannot make room for {what} ({size:,} bytes): {os_error_message(error)}; free some space "
                        f"and run again", file=str(path)) from error
