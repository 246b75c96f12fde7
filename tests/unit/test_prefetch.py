"""Scattered rows of a memory-mapped file are requested from the OS together before they are read (issue 22): the
pages asked for are exactly those of the rows, nothing is asked for arrays in memory or views, and what is read is
what indexing returns."""

from __future__ import annotations

import mmap
import os

import numpy as np
import pytest

from textsel import _prefetch
from textsel._prefetch import prefetch_rows, read_rows

pytestmark = pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="posix_fadvise is POSIX-only")


@pytest.fixture
def advised(monkeypatch):
    calls = []
    monkeypatch.setattr(os, "posix_fadvise", lambda fd, offset, length, advice: calls.append((offset, length, advice)))
    return calls


def _mapped(tmp_path, rows: int = 4096, width: int = 256) -> np.ndarray:
    np.save(tmp_path / "rows.npy", np.arange(rows * width, dtype=np.float32).reshape(rows, width))
    return np.load(tmp_path / "rows.npy", mmap_mode="r")


def test_the_pages_of_the_rows_are_announced_once_each_run(tmp_path, advised):
    array = _mapped(tmp_path)  # 1 KiB rows: four to a 4 KiB page
    rows = np.array([2000, 7, 5, 6, 3000])
    assert np.array_equal(read_rows(array, rows), np.asarray(array)[rows])
    page = mmap.PAGESIZE
    expected = sorted({(array.offset + row * 1024) // page for row in rows.tolist()}
                      | {(array.offset + (row + 1) * 1024 - 1) // page for row in rows.tolist()})
    announced = sorted(p for offset, length, _ in advised for p in range(offset // page, (offset + length) // page))
    assert announced == expected and all(advice == os.POSIX_FADV_WILLNEED for *_, advice in advised)
    assert all(offset % page == 0 for offset, _, _ in advised)
    assert len(advised) < len(rows)  # rows 5, 6 and 7 share a range


def test_nothing_is_announced_for_memory_views_masks_or_slices(tmp_path, advised):
    array = _mapped(tmp_path)
    assert prefetch_rows(np.asarray(array).copy(), np.array([1, 2])) == 0
    assert prefetch_rows(array[10:], np.array([1, 2])) == 0  # a view: its offset in the file is not array.offset
    assert prefetch_rows(array, np.zeros(len(array), dtype=bool)) == 0
    assert prefetch_rows(array, np.array([-1, 3])) == 0 and prefetch_rows(array, np.array([], dtype=np.int64)) == 0
    assert np.array_equal(read_rows(array, slice(3, 9)), np.asarray(array)[3:9])
    assert advised == []


def test_many_ranges_become_one_span_when_dense_and_none_when_sparse(tmp_path, advised, monkeypatch):
    monkeypatch.setattr(_prefetch, "MAX_RUNS", 4)
    array = _mapped(tmp_path)
    assert prefetch_rows(array, np.arange(0, 400, 8)) == 1  # every other page of a 100-page span
    (offset, length, _), = advised
    assert offset <= array.offset + 0 and offset + length >= array.offset + 393 * 1024
    advised.clear()
    assert prefetch_rows(array, np.arange(0, 4096, 400)) == 0 and advised == []  # 11 pages of a 1,000-page span
