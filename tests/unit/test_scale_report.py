"""docs/scale.md's 1.1M regions (issue 22): 10M and 100M on Ray are computed from per-node rates in quiet results
files; a file measured under load is refused, a missing one names the command that writes it."""

from __future__ import annotations

import json
import sys

from conftest import REPO

sys.path.insert(0, str(REPO))
from benchmarks import report  # noqa: E402

QUIET = {"git_dirty": False, "date": "2026-12-07T05:00:00+00:00", "cores": 2, "busy": False,
         "load_average_1min": {"start": 0.3, "end": 0.6}}


def documents(busy: bool = False) -> tuple[dict, dict]:
    block = {**QUIET, "busy": busy, "load_average_1min": {"start": 3.5 if busy else 0.3, "end": 0.6}}
    latency = {"n_docs": 1_000_000, "fresh_to_first_selection_s": 600.0, "provenance": block,
               "steps": {"embed": {"wall_s": 100.0}, "index": {"wall_s": 1_000.0}}}
    runs = [{"rounds": [{"select_s": 2.0, "total_s": 2.5}] * 3}]
    seals = [{"rounds": [{"select_s": 0.1, "total_s": 0.4}] * 3}]
    scale = {"sizes": [{"n_docs": 1_000_000, "concepts": [{"all": runs, "seals": seals}]}], "provenance": dict(QUIET)}
    return latency, scale


def test_ray_figures_come_from_the_per_node_rates():
    text = report.ray_projection(*documents())
    assert ("`textsel embed` (static vectors and HNSW index) 10,000 texts/s, `textsel index` (neighbour table) 1,000 "
            "texts/s, full-scan scoring 500,000 texts/s") in text
    # 10M on 10 nodes: 1e7 / (1e4 x 10) = 100 s of embed, 1e7 / (1e3 x 10) = 1,000 s of neighbour table
    assert "| 10M | 10 | 1.7 min | 16.7 min | 2.0 s | 0.40 s |" in text
    assert "| 100M | 1 | 2.8 h | 27.8 h |" in text


def test_ray_region_refuses_a_loaded_file_and_names_the_commands_when_missing(tmp_path):
    regions = {"ray": report.Region(("results/latency.json", "results/scale.json"), report.ray_projection,
                                    timing=True, command="python next_latency.py; python seals_scale.py")}
    assert "Not run yet" in report.render("ray", tmp_path, regions) and "seals_scale.py" in \
        report.render("ray", tmp_path, regions)
    (tmp_path / "results").mkdir()
    latency, scale = documents(busy=True)
    (tmp_path / "results" / "latency.json").write_text(json.dumps(latency))
    (tmp_path / "results" / "scale.json").write_text(json.dumps(scale))
    assert report.render("ray", tmp_path, regions).startswith("*Not quoted: `results/latency.json` was measured "
                                                              "under load")
