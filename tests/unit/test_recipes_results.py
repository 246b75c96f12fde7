"""recipes/_common.write_results writes through unique temporary names: a symlink planted at the old fixed names
(``.<stem>.md.tmp``, ``.<stem>.tmp.png``) is never followed, and the results honour the umask."""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import sys

from conftest import REPO


def load_common():
    spec = importlib.util.spec_from_file_location("recipes_common", REPO / "recipes" / "_common.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_write_results_never_follows_a_planted_symlink(tmp_path):
    common = load_common()
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    out = tmp_path / "results"
    out.mkdir()
    for name in (".run.md.tmp", ".run.tmp.png"):
        (out / name).symlink_to(outside)
    figure, axis = common.new_figure(1, (2, 2))
    axis.plot([0, 1], [1, 0])
    old_mask = os.umask(0o022)
    try:
        record = common.start_run(allow_dirty=True)  # the one results writer; a developer's tree may be dirty
        paths = common.write_results(out, "run", "| a |\n|---|\n| 1 |", {"seeds": [0]}, figure, record)
    finally:
        os.umask(old_mask)
    assert outside.read_text() == "precious"
    assert paths[0].read_text().startswith("| a |") and json.loads(paths[1].read_text())["seeds"] == [0]
    assert "load_average_1min" in json.loads(paths[1].read_text())["provenance"]
    assert paths[2].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert {stat.S_IMODE(path.stat().st_mode) for path in paths} == {0o644}
