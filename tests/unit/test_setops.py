"""textsel._setops gives numpy's set routines' results without importing numpy.ma (see its docstring)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from textsel._setops import isin, setdiff, union, unique


@pytest.mark.parametrize("seed", range(20))
def test_matches_numpy_on_random_ids(seed: int) -> None:
    rng = np.random.default_rng(seed)
    first = rng.integers(0, 50, size=rng.integers(0, 40)).astype(np.int64)
    second = rng.integers(0, 50, size=rng.integers(0, 40)).astype(np.int64)
    assert np.array_equal(unique(first), np.unique(first))
    assert np.array_equal(isin(first, second), np.isin(first, second))
    assert np.array_equal(setdiff(first, second), np.setdiff1d(first, second))
    assert np.array_equal(union(first, second), np.union1d(first, second))


def test_labels_as_strings_and_mixed_kinds() -> None:
    labels = np.asarray(["spam", "ham", "spam", "eggs"])
    assert unique(labels).tolist() == ["eggs", "ham", "spam"]
    assert isin(labels, ["spam", "toast"]).tolist() == [True, False, True, False]
    assert not isin(np.asarray([1, 2]), ["1", "2"]).any()  # numbers never equal strings, as in np.isin
    assert isin(np.zeros((0,), dtype=np.int64), [1]).shape == (0,)
    assert isin([3, 4], []).tolist() == [False, False]


def test_using_them_does_not_import_numpy_ma() -> None:
    code = ("import sys\nfrom textsel._setops import isin, setdiff, union, unique\n"
            "unique([3, 1, 3]); isin([1, 2], [2]); setdiff([1, 2], [2]); union([1], [2])\n"
            "print('numpy.ma' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
