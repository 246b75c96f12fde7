"""Scoring engine options without starting Ray: argument checks before anything is written, the missing extra as
a clear error, the RoundEngine scorer hook used only for the full scan, and a fastText learner made shippable."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest
from conftest import fake_embeddings, precomputed_project
from textsel.cli.app import app
from typer.testing import CliRunner

from textsel.candidates import AllCandidates, RandomCandidates
from textsel.errors import ConfigError, DataError, MissingDependencyError, TextselError
from textsel.learner import LogisticLearner
from textsel.project import Project
from textsel.rounds import RoundEngine
from textsel.score_ray import _shippable, _unshipped, _worker_error, check_engine

runner = CliRunner()


def plain(output: str) -> str:
    """CLI output without rich's boxes and line wrapping, for substring checks."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", output).split())
TEXTS = [f"{'the hinge snapped' if i % 4 == 0 else 'soft fabric, fits well'} (review {i})" for i in range(40)]
LABELS = {i: "hinge" if i % 4 == 0 else "other" for i in range(0, 16)}


@pytest.fixture
def folder(tmp_path):
    folder, _ = precomputed_project(tmp_path, TEXTS, list(range(40)), ["hinge", "other"])
    with Project(folder) as project:
        project.add_labels(list(LABELS), list(LABELS.values()), source="test")
    return folder


@pytest.fixture
def without_ray(monkeypatch):
    """``import ray`` fails, as it does without the ray extra."""
    monkeypatch.setitem(sys.modules, "ray", None)
    monkeypatch.setitem(sys.modules, "ray.data", None)


@pytest.mark.parametrize(("engine", "address", "workers", "wrong"), [
    ("spark", None, None, "'engine'"), ("ray", "", None, "'address'"), ("ray", None, 0, "'workers'"),
    ("ray", None, True, "'workers'"), ("local", "auto", None, "only to engine='ray'"),
    ("local", None, 2, "only to engine='ray'")])
def test_bad_engine_arguments_are_refused(engine, address, workers, wrong):
    with pytest.raises(ConfigError, match=wrong):
        check_engine("Project.predict", engine, address, workers)


def test_ray_without_the_extra_is_a_clear_error_before_any_work(folder, tmp_path, without_ray):
    check_engine("Project.predict", "local")  # the local engine never needs Ray
    out = tmp_path / "preds.parquet"
    with Project(folder) as project:
        with pytest.raises(MissingDependencyError, match=r"scoring with Ray needs the ray extra"):
            project.predict(out, engine="ray")
        with pytest.raises(MissingDependencyError, match=r"textsel\[ray\]"):
            project.next_batch(5, candidate_pool="all", engine="ray")
        assert project.saved_model() is None and project.store.pending() == (None, [])
    assert not out.exists()
    result = runner.invoke(app, ["predict", "-o", str(out), "-p", str(folder), "--engine", "ray"])
    assert result.exit_code != 0 and "--engine" in result.output and "pip install" in plain(result.output)
    assert not out.exists()
    embed = runner.invoke(app, ["embed", "-p", str(folder), "--engine", "ray"])
    assert embed.exit_code != 0 and "embedding with Ray needs the ray extra" in plain(embed.output)


def test_cli_checks_engine_options_before_writing(folder, tmp_path):
    out = tmp_path / "preds.parquet"
    bad = runner.invoke(app, ["predict", "-o", str(out), "-p", str(folder), "--engine", "spark"])
    assert bad.exit_code != 0 and "--engine" in bad.output and not out.exists()
    local_with_workers = runner.invoke(app, ["next", "-p", str(folder), "--pool", "all", "--workers", "2"])
    assert local_with_workers.exit_code != 0 and "--engine ray" in plain(local_with_workers.output)
    zero = runner.invoke(app, ["next", "-p", str(folder), "--engine", "ray", "--workers", "0"])
    assert zero.exit_code != 0 and "--workers" in zero.output
    with Project(folder) as project:
        assert project.store.pending() == (None, []) and project.saved_model() is None
    help_text = plain(runner.invoke(app, ["next", "--help"]).output)
    assert "A SEALS pool is small and is always scored here" in help_text


class RecordingScorer:
    """A scorer that records its calls and returns the learner's probabilities of every row, distinguishable."""

    def __init__(self, features: np.ndarray) -> None:
        self.features, self.calls = features, 0

    def __call__(self, learner) -> np.ndarray:  # noqa: ANN001 - a fitted learner
        self.calls += 1
        return learner.predict_proba(self.features)


def test_round_engine_uses_the_scorer_for_the_full_scan_only():
    features = fake_embeddings(TEXTS, 8)
    ids = np.arange(40)
    full = RecordingScorer(features)
    engine = RoundEngine(ids, AllCandidates(), features=features, batch_size=5, scorer=full)
    result = engine.select_batch(LABELS)
    assert full.calls == 1 and result.candidate_pool_size == 24
    np.testing.assert_allclose(result.probabilities, engine.learner_.predict_proba(features[16:]), atol=1e-6)
    local = RoundEngine(ids, AllCandidates(), features=features, batch_size=5).select_batch(LABELS)
    np.testing.assert_array_equal(result.ids, local.ids)
    small = RecordingScorer(features)
    RoundEngine(ids, RandomCandidates(m=5), features=features, batch_size=5, scorer=small).select_batch(LABELS)
    assert small.calls == 0  # a small candidate pool is scored locally


def test_a_fasttext_learner_ships_as_bytes_and_predicts_the_same():
    from textsel.proxy import FastTextProxy

    texts, labels = TEXTS[:16], list(LABELS.values())
    proxy = FastTextProxy(threads=1, bucket=1000).fit(texts, labels)
    shipped = _shippable(proxy)
    assert not hasattr(shipped, "model_") and hasattr(proxy, "model_")  # the original keeps its model
    import pickle

    restored = _unshipped(pickle.loads(pickle.dumps(shipped)))  # noqa: S301 - the test's own object, in memory
    np.testing.assert_array_equal(restored.predict_proba(TEXTS), proxy.predict_proba(TEXTS))
    logistic = LogisticLearner().fit(fake_embeddings(texts, 8), labels)
    assert _shippable(logistic) is logistic  # picklable learners travel as they are


def test_a_worker_error_becomes_one_line():
    traceback = ("The actor died because of an error raised in its creation task, \x1b[36mray::MapWorker()\x1b[39m\n"
                 '  File "textsel/score_ray.py", line 223, in __init__\n'
                 "    raise DataError(...)\n"
                 "textsel.errors.DataError: file /shared/e.npy: the embeddings file changed; score again\n")
    ours = _worker_error(RuntimeError(traceback))
    assert type(ours) is DataError and str(ours) == "file /shared/e.npy: the embeddings file changed; score again"
    other = _worker_error(RuntimeError("ray.exceptions.ActorDiedError: died\n  File x\n"
                                       "FileNotFoundError: [Errno 2] No such file: '/local/e.npy'\n"))
    assert isinstance(other, TextselError) and "\n" not in str(other)
    assert "FileNotFoundError: [Errno 2] No such file: '/local/e.npy'" in str(other) and "cache folder" in str(other)


def test_ray_scoring_asks_for_gpus_for_a_torch_learner_when_the_project_device_is_cuda(tmp_path, monkeypatch):
    import dataclasses

    import torch

    import textsel.score_ray as score_ray
    from textsel.proxy import FastTextProxy

    class TorchLearner:  # what the transformer target holds once fitted
        model_, device_ = torch.nn.Linear(2, 2), torch.device("cpu")

    texts = [f"text {i}" for i in range(20)]
    folder, _ = precomputed_project(tmp_path, texts, list(range(20)), ["yes", "no"])
    asked = []
    monkeypatch.setattr(score_ray, "score_pool_ray", lambda learner, **options: asked.append(
        options["gpus_per_worker"]))
    with Project(folder) as project:
        for device in ("cuda", "cuda:1", "cpu"):
            project.config = dataclasses.replace(project.config, device=device)
            scorer = project._ray_scorer(None, "texts", None, None)
            scorer(TorchLearner())
            scorer(FastTextProxy())  # no torch model: CPU actors whatever the device
    assert asked == [1.0, 0.0, 1.0, 0.0, 0.0, 0.0]


def test_predict_that_retrains_on_ray_scans_the_pool_once_and_matches_the_local_engine(folder, tmp_path,
                                                                                         monkeypatch):
    """The retrain's prevalence pass and the predictions share one Ray scan (Ray itself replaced by the learner
    scoring the embeddings it was handed, as the Ray workers do)."""
    scanned = []

    def score_pool_ray(learner, *, embeddings, **options):  # noqa: ANN001, ANN003, ANN202
        scanned.append(learner)
        return learner.predict_proba(np.asarray(embeddings, dtype=np.float32))

    monkeypatch.setattr("textsel.score_ray.score_pool_ray", score_pool_ray)
    with Project(folder) as project:
        project.predict(tmp_path / "ray.parquet", engine="ray")
        on_ray = project.saved_model()
    assert len(scanned) == 1 and on_ray.estimated_prevalence is not None
    with Project(folder) as project:
        local = project.train()
        project.predict(tmp_path / "local.parquet")
    assert local.estimated_prevalence == on_ray.estimated_prevalence
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "ray.parquet").equals(pq.read_table(tmp_path / "local.parquet"))
    result = runner.invoke(app, ["train", "-p", str(folder), "--engine", "ray", "-q"])
    assert result.exit_code == 0 and len(scanned) == 2  # train's own prevalence pass went to Ray too
    local_workers = runner.invoke(app, ["train", "-p", str(folder), "--workers", "2"])
    assert local_workers.exit_code != 0 and "--engine ray" in plain(local_workers.output)
