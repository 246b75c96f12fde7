"""A static first-pass project with real models: the static model distilled (offline, model2vec) from a tiny BERT
and the same BERT as the transformer, through the Project API (the CLI tests use fakes for both)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from conftest import save_tiny_bert

from textsel.project import Project, init_project

pytest.importorskip("model2vec.distill")
pytestmark = pytest.mark.usefixtures("one_torch_thread")

WORDS = ["zipper", "broke", "seam", "split", "lovely", "soft", "dress", "fits", "colour", "arrived", "the", "and"]


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    return save_tiny_bert(tmp_path_factory.mktemp("tiny_bert"), WORDS)


def test_a_static_project_embeds_statically_and_selects_with_the_transformer_on_candidates(tmp_path, tiny_bert):
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(WORDS, 5)) + f" {i}" for i in range(600)]
    data = tmp_path / "pool.csv"
    with open(data, "w", newline="") as handle:
        csv.writer(handle).writerows([("text",), *((text,) for text in texts)])
    project = init_project(tmp_path / "proj", data=str(data), model=str(tiny_bert), labels=["yes", "no"],
                           first_pass="static")
    with project:
        assert project.is_static
        static = project.static_vectors()
        assert static.shape == (600, 32) and project.store.get_meta("static_embeddings")["static_model"].startswith(
            "model2vec-static:")
        index = project.index()
        assert len(index) == 600 and project.index_path.name == "index-static.hnsw"
        project.add_labels([0, 1, 2, 3], ["yes", "no", "yes", "no"], source="test")
        _, result = project.next_batch(5)
        record = project.store.rounds()[-1]
        assert len(result.ids) == 5 and record.params["first_pass"] == "static"
        assert record.params["transformer_rows"] == 4 + result.candidate_pool_size < 600
        assert not (project.cache_dir / "embeddings").exists()
        model = project.train()
        assert model.n_labels == 4 and model.estimated_prevalence is None
    with Project(tmp_path / "proj") as reopened:  # the recorded static vectors are read back, not re-embedded
        np.testing.assert_array_equal(reopened.static_vectors(), static)
        assert reopened.positive_probabilities([0, 599])[0] is not None


def test_static_features_select_train_and_predict_without_the_transformer(tmp_path, tiny_bert):
    """[features] kind = "static": the classifier reads the static vectors every text has, so a round embeds
    nothing with the transformer, the full scan is allowed, and the whole pool can be predicted."""
    rng = np.random.default_rng(1)
    texts = [" ".join(rng.choice(WORDS[:4] if i % 10 == 0 else WORDS[4:], 5)) + f" {i}" for i in range(400)]
    data = tmp_path / "pool.csv"
    with open(data, "w", newline="") as handle:
        csv.writer(handle).writerows([("text",), *((text,) for text in texts)])
    project = init_project(tmp_path / "proj", data=str(data), model=str(tiny_bert), labels=["defect", "other"],
                           first_pass="static", features="static")
    with project:
        project.add_labels([0, 10, 1, 2], ["defect", "defect", "other", "other"], source="test")
        for pool in ("seals", "all"):
            _, result = project.next_batch(10, candidate_pool=pool, discard_pending=True)
            params = project.store.rounds()[-1].params
            assert params["candidate_pool"] == pool and params["features"] == "static"
            assert params["transformer_rows"] == 0 and len(result.ids) == 10
            assert ("candidate_rows" in params) == (pool == "seals")  # SEALS keeps its rows in a side file
        selected = project.store.rounds()[-1].doc_ids
        assert sum(i % 10 == 0 for i in selected) >= 8  # the likeliest defects: every tenth text
        project.next_batch(10, candidate_pool="auto", discard_pending=True)  # the cost model: a scan is cheap here
        params = project.store.rounds()[-1].params
        assert params["candidate_pool"] == "all" and "predicted" in params["pool_reason"]
        assert params["k"] == project.vectors.auto_k(400)  # static_k: 3x the automatic k
        assert not (project.cache_dir / "embeddings").exists() and not project.vectors.transformer_features() \
            .embedded_rows
        model = project.train()
        assert model.embeddings["features"] == "static" and model.embeddings["static_vectors"]["rows"] == 400
        out = tmp_path / "predictions.csv"
        assert project.predict(out) == 400
        with open(out, newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert sum(row["predicted"] == "defect" for row in rows[::10]) >= 35
    with Project(tmp_path / "proj") as reopened:
        assert reopened.positive_probabilities([0, 1])[0] > reopened.positive_probabilities([0, 1])[1]


def test_static_features_read_a_float32_copy_written_once_and_again_when_damaged(tmp_path, tiny_bert):
    """The classifier reads float32 static rows (numpy converts float16 slowly): a copy of the float16 cache, exact,
    written on first use, reused by later processes, and written again when missing or changed."""
    data = tmp_path / "pool.csv"
    with open(data, "w", newline="") as handle:
        csv.writer(handle).writerows([("text",), *((f"{WORDS[i % 12]} {WORDS[(i * 7) % 12]} {i}",) for i in range(60))])
    init_project(tmp_path / "proj", data=str(data), model=str(tiny_bert), labels=["defect", "other"],
                 first_pass="static", features="static")
    with Project(tmp_path / "proj") as project:
        copy = project.vectors.static_vectors_float32()
        path = project.vectors.static_float32_path
        assert copy.dtype == np.float32 and np.array_equal(copy, np.asarray(project.vectors.static_vectors(),
                                                                                 dtype=np.float32))
        assert project.model.classifier_features() is not None and \
            project.model.classifier_features().dtype == np.float32
        written = path.stat().st_mtime_ns
    with Project(tmp_path / "proj") as project:
        project.vectors.static_vectors_float32()
        assert path.stat().st_mtime_ns == written  # verified by its record, not written again
        with open(path, "r+b") as handle:  # damage one value, same size
            handle.seek(-4, 2)
            handle.write(np.float32(123.0).tobytes())
        project.vectors._static_vectors = None
        again = project.vectors.static_vectors_float32()
        assert np.array_equal(again, np.asarray(project.vectors.static_vectors(), dtype=np.float32))
        path.unlink()
        assert np.array_equal(project.vectors.static_vectors_float32(), again)
