"""Ray addresses that cannot work fail fast with what failed (issue 19, case 10): a ray:// address without Ray
Client is a MissingDependencyError before any work, and an address where nothing listens is a ConfigError within
the timeout instead of minutes of ray.init retries."""

from __future__ import annotations

import importlib.util
import socket
import sys
import time
from pathlib import Path

import pytest

from textsel import ray_connect
from textsel.errors import ConfigError, MissingDependencyError
from textsel.ray_connect import init_ray
from textsel.score_ray import check_engine


class NeverInit:
    """A stand-in for the ray module: ray.init must not be reached for an address that cannot work."""

    def is_initialized(self):
        return False

    def init(self, **kwargs):
        pytest.fail(f"ray.init was called with {kwargs}")


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def labeled_project(tmp_path):
    """A small project with 12 labels of two classes, and the CLI helpers of tests/cli (invoke, refused)."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "cli"))
    from test_cli_export import refused
    from test_cli_project import invoke, make_pool, seed_labels

    data, vectors = make_pool(tmp_path)
    project = tmp_path / "proj"
    assert invoke("init", project, "--data", data, "--text-col", "body", "--id-col", "doc_id", "--labels",
                  "broken,fine", "--embeddings", vectors, "--backend", "exact").exit_code == 0
    seed_labels(project, tmp_path)
    return project, invoke, refused


def test_an_address_where_nothing_listens_fails_within_the_timeout():
    started = time.monotonic()
    with pytest.raises(ConfigError, match=r"cannot reach the Ray cluster at 127\.0\.0\.1:\d+"):
        init_ray(NeverInit(), f"127.0.0.1:{closed_port()}", show_progress=False, timeout=2)
    assert time.monotonic() - started < 10


def test_a_ray_client_address_without_the_client_extra_is_named(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(ray_connect.importlib.util, "find_spec", lambda name: None if name == "grpc" else real(name))
    with pytest.raises(MissingDependencyError, match=r"ray\[client\]"):
        init_ray(NeverInit(), "ray://127.0.0.1:1", show_progress=False)


def test_the_timeout_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("TEXTSEL_RAY_TIMEOUT", "4.5")
    assert ray_connect.connect_timeout() == 4.5
    monkeypatch.setenv("TEXTSEL_RAY_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="TEXTSEL_RAY_TIMEOUT"):
        ray_connect.connect_timeout()


def test_next_with_a_ray_client_address_and_no_client_is_one_line_before_any_work(tmp_path, monkeypatch):
    pytest.importorskip("ray")
    real = importlib.util.find_spec
    monkeypatch.setattr(ray_connect.importlib.util, "find_spec", lambda name: None if name == "grpc" else real(name))
    project, invoke, _ = labeled_project(tmp_path)
    for command in (("next", "-n", "3"), ("predict", "-o", tmp_path / "preds.parquet")):
        result = invoke(*command, "--engine", "ray", "--address", "ray://127.0.0.1:1", "-p", project)
        assert result.exit_code == 2 and isinstance(result.exception, SystemExit)  # a usage error on --engine
        assert "ray[client]" in " ".join(result.output.replace("│", " ").split())
    with pytest.raises(MissingDependencyError):  # the library says the same
        check_engine("Project.predict", "ray", "ray://head:10001")


def test_predict_at_an_address_where_nothing_listens_fails_before_ray_init(tmp_path, monkeypatch):
    """`predict --engine ray --address 127.0.0.1:1` used to hang in ray.init for minutes."""
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        pytest.skip("Ray already runs in this process (init_ray reuses it)")
    monkeypatch.setattr(ray, "init", lambda *a, **k: pytest.fail("ray.init was reached"))
    monkeypatch.setenv("TEXTSEL_RAY_TIMEOUT", "3")
    project, invoke, refused = labeled_project(tmp_path)
    result = invoke("predict", "-o", tmp_path / "p.parquet", "--engine", "ray", "--address",
                    f"127.0.0.1:{closed_port()}", "-p", project)
    assert refused(result, "cannot reach the Ray cluster"), result.output
    assert not (tmp_path / "p.parquet").exists()
