"""Embedding with Ray Data on a local 2-CPU Ray instance: the same vectors and the same cache as the local path,
resumption by shard. Skips when the ``ray`` extra is not installed."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import fake_embeddings

from textsel.data import Pool
from textsel.embed import Embedder, embed_pool, embedding_cache_folder
from textsel.errors import ConfigError

pytest.importorskip("ray")
pytest.importorskip("ray.data")

from textsel.embed_ray import embed_pool_ray  # noqa: E402 - after the skip

WORDS = ["battery", "zipper", "novel", "charger", "blender", "tent", "guitar", "lamp"]
POOL = Pool(ids=np.arange(100, 140), texts=[f"the {WORDS[i % 8]} broke after {i} days, {WORDS[(i * 3) % 8]} too"
                                             for i in range(40)])


def small_embedder() -> Embedder:
    return Embedder(device="cpu", dtype="float32", batch_size=8)


def test_ray_gives_the_local_vectors_and_the_cache_embed_pool_reads(local_ray, tmp_path):
    from_ray = embed_pool_ray(POOL, small_embedder(), cache_dir=tmp_path / "ray", shard_rows=16)
    local = embed_pool(POOL, small_embedder(), cache_dir=tmp_path / "local", chunk_size=16)
    assert from_ray.shape == (40, 384) and from_ray.dtype == np.float32
    np.testing.assert_allclose(from_ray, local, atol=2e-3)  # both stored as float16
    untouched = small_embedder()
    again = embed_pool(POOL, untouched, cache_dir=tmp_path / "ray")
    assert getattr(untouched, "model_", None) is None  # a cache hit: the model was never loaded
    np.testing.assert_array_equal(again, from_ray)
    folder = embedding_cache_folder(POOL, untouched, tmp_path / "ray")
    assert not (folder / "shards").exists()


def test_a_saved_shard_is_not_encoded_again(local_ray, tmp_path):
    folder = embedding_cache_folder(POOL, small_embedder(), tmp_path)
    (folder / "shards").mkdir(parents=True)
    saved = fake_embeddings(POOL.texts[16:32], 384)  # a marker no model would produce
    np.save(folder / "shards" / "shard-000001.npy", saved.astype(np.float16))
    vectors = embed_pool_ray(POOL, small_embedder(), cache_dir=tmp_path, shard_rows=16, workers=1)
    np.testing.assert_allclose(vectors[16:32], saved, atol=2e-3)
    local = small_embedder().encode(POOL.texts[:16])
    np.testing.assert_allclose(vectors[:16], local, atol=2e-3)


def test_cli_engine_ray_fills_the_project_cache(local_ray, tmp_path):
    import pyarrow
    from pyarrow import csv as pyarrow_csv
    from textsel.cli.app import app
    from typer.testing import CliRunner

    from textsel.project import Project

    runner = CliRunner()
    pyarrow_csv.write_csv(pyarrow.table({"text": POOL.texts[:30]}), tmp_path / "pool.csv")
    project_dir = str(tmp_path / "p")
    assert runner.invoke(app, ["init", project_dir, "--data", str(tmp_path / "pool.csv")]).exit_code == 0
    bad = runner.invoke(app, ["embed", "-p", project_dir, "--engine", "spark"])
    assert bad.exit_code != 0 and "--engine" in bad.output
    result = runner.invoke(app, ["embed", "-p", project_dir, "-q", "--engine", "ray", "--dtype", "float32",
                                 "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "30 texts x 384 dimensions" in result.output and "float32 on cpu" in result.output
    project = Project(project_dir)
    np.testing.assert_allclose(project.embeddings(), small_embedder().encode(project.pool.texts), atol=2e-3)


def test_actors_the_cluster_cannot_hold_are_refused_not_waited_for(local_ray, tmp_path):
    with pytest.raises(ConfigError, match="3 embedding workers do not fit the Ray cluster: at most 1"):
        embed_pool_ray(POOL, small_embedder(), cache_dir=tmp_path, shard_rows=16, workers=3)  # 2 CPUs, 1 for reads
    with pytest.raises(ConfigError, match="has 0 GPUs, too few for 1 GPU embedding worker"):
        embed_pool_ray(POOL, small_embedder(), cache_dir=tmp_path, shard_rows=16, gpus_per_worker=1.0)
    assert not list(tmp_path.rglob("*.npy"))  # nothing encoded, nothing cached
