"""Finding a data set and its held-out rows: what every harness (simulate, SVP experiments, recipes) shares.

``resolve_data`` turns a file, a folder or a bare data set name into the data file; ``split_test`` turns a
test-split rule ("column=value", a fraction, or nothing) into a boolean mask over the rows.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from textsel.errors import ConfigError, DataError

# Where a bare data set name (``amazon_multidomain``) is looked up: $TEXTSEL_DATA, else ../shared/data beside the
# current folder (the layout of a textsel checkout next to its benchmark data).
DATA_DIR_VARIABLE = "TEXTSEL_DATA"


def resolve_data(data: str | Path) -> Path:
    """A data file, a folder holding data.parquet, or the name of a folder in $TEXTSEL_DATA (../shared/data)."""
    path = Path(data)
    named = Path(os.environ.get(DATA_DIR_VARIABLE, Path("..") / "shared" / "data")) / str(data)
    if not path.exists() and named.exists():
        path = named
    if path.is_dir():
        path = path / "data.parquet"
    if not path.exists():
        raise DataError("no such data file or data set name", file=str(data))
    return path


def split_test(columns: dict, n: int, test_split: str | float | None, seed: int) -> tuple[np.ndarray, str]:
    """Boolean test mask from "column=value", a fraction in [0, 1), or None (split=test if present, else 0.2).

    Returns the mask and the rule actually applied (e.g. "split=test" or "0.2"), for the run's summary.
    """
    if test_split is None:
        has_test = "split" in columns and (np.asarray(columns["split"]).astype(str) == "test").any()
        test_split = "split=test" if has_test else 0.2
    if isinstance(test_split, str) and "=" in test_split:
        column, value = test_split.split("=", 1)
        if column not in columns:
            raise DataError(f"no column {column!r} for the test split; available: {', '.join(sorted(columns))}",
                            column=column)
        mask = np.asarray(columns[column]).astype(str) == value
        if not mask.any():
            raise DataError(f"no row has {column} == {value!r}", column=column)
        return mask, test_split
    try:
        fraction = float(test_split)
    except ValueError:
        fraction = -1.0
    if not 0.0 <= fraction < 1.0:
        raise ConfigError(f"The test split must be 'column=value' or a fraction in [0, 1). Got {test_split!r}.")
    mask = np.zeros(n, dtype=bool)
    mask[np.random.default_rng(seed).choice(n, int(round(fraction * n)), replace=False)] = True
    return mask, str(fraction)
