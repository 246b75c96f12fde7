"""atomic_path and atomic_dir: a failed write leaves the old file untouched and no temporary files behind;
results honour the umask; a folder is never replaced."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from textsel._atomic import atomic_dir, atomic_path, write_text_atomic


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


def test_a_new_file_honours_the_umask_and_a_replaced_file_keeps_its_mode(tmp_path):
    old_mask = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "report.json", "{}")
        with atomic_path(tmp_path / "plot.png") as tmp:
            tmp.write_bytes(b"png")
    finally:
        os.umask(old_mask)
    assert stat.S_IMODE((tmp_path / "report.json").stat().st_mode) == 0o644  # mkstemp alone gives 0600
    assert stat.S_IMODE((tmp_path / "plot.png").stat().st_mode) == 0o644
    private = tmp_path / "labels.csv"
    private.write_text("old")
    private.chmod(0o600)
    write_text_atomic(private, "new")
    assert private.read_text() == "new" and stat.S_IMODE(private.stat().st_mode) == 0o600


def test_atomic_dir_creates_a_folder_with_the_umask_and_never_replaces_one(tmp_path):
    old_mask = os.umask(0o022)
    try:
        with atomic_dir(tmp_path / "dataset") as folder:
            assert folder.parent == tmp_path and folder.name != "dataset"
            (folder / "state.json").write_text("{}")
    finally:
        os.umask(old_mask)
    assert stat.S_IMODE((tmp_path / "dataset").stat().st_mode) == 0o755  # mkdtemp alone gives 0700
    assert [p.name for p in (tmp_path / "dataset").iterdir()] == ["state.json"]
    with pytest.raises(FileExistsError), atomic_dir(tmp_path / "dataset"):
        pytest.fail("the block must not run when the folder exists")
    assert [p.name for p in tmp_path.iterdir()] == ["dataset"]


def test_atomic_dir_cleans_up_on_error_and_replaces_only_through_discard_old(tmp_path):
    with pytest.raises(RuntimeError), atomic_dir(tmp_path / "new") as folder:
        (folder / "half").write_text("x")
        raise RuntimeError("killed mid-write")
    assert list(tmp_path.iterdir()) == []
    old = tmp_path / "dataset"
    old.mkdir()
    (old / "old.arrow").write_text("old")
    discarded = []
    with atomic_dir(old, discard_old=discarded.append) as folder:
        (folder / "new.arrow").write_text("new")
    assert [p.name for p in old.iterdir()] == ["new.arrow"]
    assert [p.name for p in discarded[0].iterdir()] == ["old.arrow"]  # handed over to the caller, not deleted


def test_atomic_dir_puts_nothing_aside_when_the_old_path_became_a_file(tmp_path):
    path = tmp_path / "dataset"
    path.mkdir()
    with pytest.raises(OSError), atomic_dir(path, discard_old=lambda old: pytest.fail("nothing to discard")):
        path.rmdir()
        path.write_text("a file appeared meanwhile")
    assert [p.name for p in tmp_path.iterdir()] == ["dataset"] and path.read_text() == "a file appeared meanwhile"


def test_temporaries_of_a_killed_writer_are_removed_by_the_next_write_and_a_living_ones_kept(tmp_path):
    """Issue 19, smaller: a `.model.npz.*.npz` left by kill -9 during `train` stayed in the cache for good."""
    import fcntl
    import os

    from textsel._atomic import write_text_atomic

    dead = tmp_path / ".model.npz.k1ll3d9x.npz"
    dead.write_bytes(b"half a model")
    living = tmp_path / ".model.npz.w0rk1ng_.npz"
    living.write_bytes(b"being written")
    other = tmp_path / ".model.npz.notours.txt"
    other.write_bytes(b"someone's")
    holder = os.open(living, os.O_RDONLY)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        write_text_atomic(tmp_path / "model.npz", "weights")
    finally:
        os.close(holder)
    assert not dead.exists() and living.exists() and other.exists()
    assert (tmp_path / "model.npz").read_text() == "weights"
