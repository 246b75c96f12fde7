"""atomic_path: a failed write leaves the old file untouched and no temporary files behind."""

from __future__ import annotations

import numpy as np
import pytest

from textsel._atomic import atomic_path, write_text_atomic


def test_success_replaces_and_keeps_the_suffix(tmp_path):
    target = tmp_path / "sub" / "vectors.npy"
    with atomic_path(target) as tmp:
        assert tmp.suffix == ".npy" and tmp.parent == target.parent
        np.save(tmp, np.arange(3))  # np.save would append .npy to a path without that suffix
    assert np.load(target).tolist() == [0, 1, 2]
    assert [p.name for p in target.parent.iterdir()] == ["vectors.npy"]


def test_failure_keeps_the_old_file_and_cleans_up(tmp_path):
    target = tmp_path / "summary.json"
    write_text_atomic(target, "old")
    with pytest.raises(RuntimeError), atomic_path(target, fsync=True) as tmp:
        tmp.write_text("half of the new")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]
