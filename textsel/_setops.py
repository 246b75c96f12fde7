"""Set operations on 1-D arrays by sorting and binary search, for the code every round runs.

numpy >= 2.3's ``np.unique`` (and ``isin``, ``setdiff1d``, ``union1d``, which call it) imports ``numpy.ma`` the
first time it runs: about 50 ms of every ``textsel next`` on a 2-core machine, a tenth of its half-second budget at
1M texts (issue 22). These give the same results for the id and label arrays rounds handle (numbers or strings).
"""

from __future__ import annotations

import numpy as np


def unique(values) -> np.ndarray:  # noqa: ANN001 - array-like
    """The sorted distinct values of ``values`` (flattened), as ``np.unique``."""
    values = np.sort(np.ravel(np.asarray(values)))
    if len(values) < 2:
        return values
    return values[np.concatenate(([True], values[1:] != values[:-1]))]


def isin(values, test) -> np.ndarray:  # noqa: ANN001 - array-likes
    """Whether each element of ``values`` is in ``test`` (a boolean array shaped like ``values``), as ``np.isin``."""
    values, test = np.asarray(values), unique(test)
    if not values.size or not len(test):
        return np.zeros(values.shape, dtype=bool)
    if (values.dtype.kind in "biuf") != (test.dtype.kind in "biuf"):  # numbers against strings: nothing matches
        return np.zeros(values.shape, dtype=bool)
    places = np.minimum(np.searchsorted(test, values), len(test) - 1)
    return test[places] == values


def setdiff(values, remove) -> np.ndarray:  # noqa: ANN001 - array-likes
    """The sorted distinct values of ``values`` not in ``remove``, as ``np.setdiff1d``."""
    values = unique(values)
    return values[~isin(values, remove)]


def union(first, second) -> np.ndarray:  # noqa: ANN001 - array-likes
    """The sorted distinct values of both, as ``np.union1d``."""
    return unique(np.concatenate([np.ravel(np.asarray(first)), np.ravel(np.asarray(second))]))


def intersect(first, second) -> np.ndarray:  # noqa: ANN001 - array-likes
    """The sorted distinct values in both, as ``np.intersect1d``."""
    first = unique(first)
    return first[isin(first, second)]
