"""Read scattered rows of a memory-mapped ``.npy`` file with the disk reads issued together, not one by one.

A round reads a few rows of large memory-mapped files: the neighbour-table rows of the texts just labeled, the
feature rows of new candidates. When those pages are not in the page cache, each row read through the memory map
is a page fault that waits for its own disk read (plus readahead) before the next row is touched. On this
project's development VM twenty rows of the 1.3 GB neighbour table of 1.1M texts took 17-60 ms that way, and
200 rows 16-157 ms; after :func:`prefetch_rows` asked for the same rows' pages first, 0.5-1.5 ms and 2-7 ms
(``posix_fadvise(POSIX_FADV_WILLNEED)`` queues the reads without waiting, so they overlap).
"""

from __future__ import annotations

import mmap
import os

import numpy as np

MAX_RUNS = 4096
"""At most this many separate page ranges are announced one call each (about 1 µs a call when the pages are cached
already). Reads that touch more ranges announce their whole span once, when at least :data:`MIN_SPAN_SHARE` of the
span's pages are read anyway; sparser wide reads are left to the page faults."""

MIN_SPAN_SHARE = 0.125


def prefetch_rows(array: np.ndarray, rows: np.ndarray) -> int:
    """Ask the OS to start reading the pages that hold ``rows`` (row positions) of ``array``; return the number of
    ranges announced (0: nothing to do).

    Only an unsliced read-only memory map of a file, as ``np.load(path, mmap_mode="r")`` returns, is prefetched:
    an array in memory needs nothing, and a view of a memory map does not know its own offset in the file. Nothing
    is read here and nothing changes in the results; where ``os.posix_fadvise`` does not exist (macOS, Windows)
    this does nothing.
    """
    if not (isinstance(array, np.memmap) and isinstance(array.base, mmap.mmap) and array.filename
            and hasattr(os, "posix_fadvise") and array.ndim >= 1 and array.flags.c_contiguous and len(array)):
        return 0
    rows = np.asarray(rows)
    if rows.ndim != 1 or not len(rows) or rows.dtype.kind not in "iu":
        return 0
    rows = rows.astype(np.int64, copy=False)
    if (rows[1:] < rows[:-1]).any():
        rows = np.sort(rows)
    if rows[0] < 0 or rows[-1] >= len(array):
        return 0  # negative or out-of-range positions: the gather itself reports them
    row_bytes = int(array.strides[0]) if array.ndim > 1 else int(array.itemsize)
    first = (int(array.offset) + rows * row_bytes) // mmap.PAGESIZE
    last = (int(array.offset) + (rows + 1) * row_bytes - 1) // mmap.PAGESIZE
    starts = np.flatnonzero(np.r_[True, first[1:] > last[:-1] + 1])  # a new page range where rows do not touch
    run_first, run_last = first[starts], last[np.r_[starts[1:] - 1, len(rows) - 1]]
    if len(starts) > MAX_RUNS:
        span = int(run_last[-1] - run_first[0] + 1)
        if int((run_last - run_first + 1).sum()) < MIN_SPAN_SHARE * span:
            return 0
        run_first, run_last = run_first[:1], run_last[-1:]
    descriptor = os.open(array.filename, os.O_RDONLY)
    try:
        for page, end in zip(run_first.tolist(), run_last.tolist(), strict=True):
            os.posix_fadvise(descriptor, page * mmap.PAGESIZE, (end - page + 1) * mmap.PAGESIZE,
                             os.POSIX_FADV_WILLNEED)
    finally:
        os.close(descriptor)
    return len(run_first)


def read_rows(array: np.ndarray, rows):  # noqa: ANN001, ANN201 - positions, a mask or a slice; what array[rows] gives
    """``array[rows]``, with the pages of scattered rows of a memory-mapped file requested together first."""
    prefetch_rows(array, rows)
    return array[rows]
