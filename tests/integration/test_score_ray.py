"""Full-pool scoring on Ray Data on a local 2-CPU Ray instance: the same probabilities as the local path for an
embedding learner (from the memory-mapped cache and from an in-memory array) and a text learner (fastText), and
`predict` / `next --pool all` with ``--engine ray`` giving what the local engine gives. Skips without the ray
extra."""

from __future__ import annotations

from functools import partial

import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import fake_embeddings, precomputed_project
from textsel.cli.app import app
from typer.testing import CliRunner

from textsel.candidates import AllCandidates
from textsel.errors import ConfigError, DataError
from textsel.learner import LogisticLearner
from textsel.project import Project
from textsel.proxy import FastTextProxy
from textsel.rounds import RoundEngine

pytest.importorskip("ray")
pytest.importorskip("ray.data")

from textsel.score_ray import score_pool_ray  # noqa: E402 - after the skip

runner = CliRunner()
WORDS = ["hinge", "zipper", "novel", "charger", "blender", "tent"]
TEXTS = [f"the {WORDS[i % 6]} was fine for {i} days, then the {WORDS[(i * 5) % 6]} failed" for i in range(50)]
CLASSES = np.array(["hinge", "zipper", "other"])
LABELS = {i: CLASSES[min(i % 6, 2)] for i in range(18)}  # three classes: multi-class columns too


def test_embedding_learner_scores_equal_the_local_path(local_ray, tmp_path):
    np.save(tmp_path / "cache.npy", fake_embeddings(TEXTS, 12).astype(np.float16))
    vectors = np.load(tmp_path / "cache.npy", mmap_mode="r")  # how a project holds its cached embeddings
    engine = RoundEngine(np.arange(50), AllCandidates(), features=vectors, batch_size=5,
                         scorer=partial(score_pool_ray, embeddings=vectors, chunk_rows=16, workers=2))
    result = engine.select_batch(LABELS)
    local = RoundEngine(np.arange(50), AllCandidates(), features=vectors, batch_size=5).select_batch(LABELS)
    np.testing.assert_allclose(result.probabilities, local.probabilities, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(result.ids, local.ids)
    in_memory = np.asarray(vectors[:37], dtype=np.float32)  # no file behind it: goes through the object store
    learner = LogisticLearner().fit(in_memory[:18], list(LABELS.values()))
    scored = score_pool_ray(learner, embeddings=in_memory, chunk_rows=10)
    assert scored.shape == (37, 3)
    np.testing.assert_allclose(scored, learner.predict_proba(in_memory), rtol=0, atol=1e-6)


def test_text_learner_scores_equal_the_local_path_and_staging_is_removed(local_ray, tmp_path):
    proxy = FastTextProxy(threads=1, bucket=1000).fit(TEXTS[:18], list(LABELS.values()))
    scored = score_pool_ray(proxy, texts=TEXTS, staging_dir=tmp_path / "staging", chunk_rows=16)
    np.testing.assert_allclose(scored, proxy.predict_proba(TEXTS), rtol=0, atol=1e-6)
    assert list((tmp_path / "staging").iterdir()) == []  # made when missing; emptied of what was staged
    with pytest.raises(ConfigError, match="at most 1 with 1.0 CPUs each and one CPU left to the parquet reads"):
        score_pool_ray(proxy, texts=TEXTS, workers=2)  # two actors on 2 CPUs would wait for the reads forever


def test_a_file_no_worker_can_read_is_one_clear_error(local_ray, tmp_path, monkeypatch):
    import textsel.score_ray

    vectors = fake_embeddings(TEXTS, 12)
    learner = LogisticLearner().fit(vectors[:18], list(LABELS.values()))
    missing = {"path": str(tmp_path / "not-on-this-node.npy"), "shape": vectors.shape, "dtype": "float32"}
    monkeypatch.setattr(textsel.score_ray, "_vector_source", lambda ray, embeddings: missing)  # as on a cluster node
    with pytest.raises(DataError, match=r"^a Ray worker could not score the pool \(FileNotFoundError.*cache folder$"):
        score_pool_ray(learner, embeddings=vectors, workers=1)


def twin_projects(tmp_path):
    """Two identical projects with the same labels (float16 precomputed vectors, as a cache holds them)."""
    folders = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        folder, _ = precomputed_project(tmp_path / name, TEXTS, list(range(50)), list(CLASSES), dtype=np.float16)
        with Project(folder) as project:
            project.add_labels(list(LABELS), [str(label) for label in LABELS.values()], source="test")
        folders.append(folder)
    return folders


def test_cli_predict_and_next_with_ray_give_the_local_results(local_ray, tmp_path, monkeypatch):
    import textsel.score_ray

    calls = []
    monkeypatch.setattr(textsel.score_ray, "score_pool_ray",
                        lambda learner, **options: calls.append(options) or score_pool_ray(learner, **options))
    ray_project, local_project = twin_projects(tmp_path)
    result = runner.invoke(app, ["predict", "-o", str(tmp_path / "ray.parquet"), "-p", str(ray_project), "-q",
                                 "--engine", "ray", "--workers", "1"])
    assert result.exit_code == 0, result.output
    with Project(local_project) as project:
        project.predict(tmp_path / "local.parquet")
    from_ray, local = (pq.read_table(tmp_path / name).to_pydict() for name in ("ray.parquet", "local.parquet"))
    assert from_ray["id"] == local["id"] and from_ray["predicted"] == local["predicted"]
    for column in ("p_hinge", "p_zipper", "p_other"):
        np.testing.assert_allclose(from_ray[column], local[column], rtol=0, atol=1e-6)

    result = runner.invoke(app, ["next", "-n", "5", "--pool", "all", "-p", str(ray_project), "-q", "--engine", "ray"])
    assert result.exit_code == 0, result.output
    with Project(ray_project) as project:
        _, from_ray_ids = project.store.pending()
    with Project(local_project) as project:
        _, local_result = project.next_batch(5, candidate_pool="all")
    assert from_ray_ids == local_result.ids.tolist()
    assert [options["workers"] for options in calls] == [1, None]  # both scans ran on Ray


class TorchTextLearner:
    """A fitted text learner holding a torch model, as the transformer target does (runs_on_gpu is true)."""

    input = "texts"

    def __init__(self) -> None:
        import torch

        self.model_, self.device_, self.classes_ = torch.nn.Linear(2, 2), torch.device("cpu"), np.array(["a", "b"])

    def predict_proba(self, texts):  # noqa: ANN001, ANN201
        return np.full((len(texts), 2), 0.5)


def test_gpu_actors_the_cluster_lacks_are_refused_before_anything_is_staged(local_ray, tmp_path):
    assert "GPU" not in local_ray.cluster_resources()  # the local test instance has CPUs only
    with pytest.raises(ConfigError, match="has 0 GPUs, too few for 1 GPU scoring worker"):
        score_pool_ray(TorchTextLearner(), texts=TEXTS, staging_dir=tmp_path / "staging", gpus_per_worker=1)
    assert not (tmp_path / "staging").exists()
    proxy = FastTextProxy(threads=1, bucket=1000).fit(TEXTS[:18], list(LABELS.values()))
    with pytest.raises(ConfigError, match="FastTextProxy scores on CPUs"):
        score_pool_ray(proxy, texts=TEXTS, gpus_per_worker=1)
    with pytest.raises(ConfigError, match="'gpus_per_worker'"):
        score_pool_ray(proxy, texts=TEXTS, gpus_per_worker=-1)


def test_the_gpu_option_reaches_the_scoring_actors_resources(local_ray, tmp_path, monkeypatch):
    import textsel.score_ray as score_ray

    monkeypatch.setattr(local_ray, "cluster_resources", lambda: {"CPU": 6.0, "GPU": 2.0})
    runs = []
    monkeypatch.setattr(score_ray, "_run", lambda ray, dataset, payload, n_rows, **options: runs.append(
        (payload["device"], options)) or np.zeros((n_rows, 2)))
    score_pool_ray(TorchTextLearner(), texts=TEXTS, staging_dir=tmp_path, gpus_per_worker=1)
    score_pool_ray(TorchTextLearner(), texts=TEXTS, staging_dir=tmp_path, gpus_per_worker=0.5, workers=4)
    assert [(device, options["workers"], options["gpus_per_worker"]) for device, options in runs] == [
        ("cuda", 2, 1), ("cuda", 4, 0.5)]  # as many as the GPUs fit; half a GPU each fits four
    with pytest.raises(ConfigError, match="too few for 3 GPU scoring worker"):
        score_pool_ray(TorchTextLearner(), texts=TEXTS, staging_dir=tmp_path, gpus_per_worker=1, workers=3)

    class Dataset:  # what _run hands Ray Data: the actor pool's resources
        def map_batches(self, actor, **options):
            self.options = options
            return self

        def iter_batches(self, **_):
            yield {"row": np.arange(3), "probabilities": np.full((3, 2), 0.5)}

    dataset = Dataset()
    monkeypatch.undo()
    score_ray._run(local_ray, dataset, {}, 3, batch_size=8, workers=2, cpus_per_worker=1.0, gpus_per_worker=1.0)
    assert dataset.options["num_gpus"] == 1.0 and dataset.options["compute"].min_size == 2
    score_ray._run(local_ray, dataset, {}, 3, batch_size=8, workers=2, cpus_per_worker=1.0)
    assert dataset.options["num_gpus"] is None  # CPU actors ask for no GPU


def test_a_gpu_actor_moves_the_torch_model_to_the_gpu_once():
    from textsel.score_ray import _on_device

    learner, moved = TorchTextLearner(), []
    learner.model_.to = lambda device: moved.append(device) or learner.model_
    assert _on_device(learner, None) is learner and moved == []
    assert _on_device(learner, "cuda").device_.type == "cuda" and moved == ["cuda"]
