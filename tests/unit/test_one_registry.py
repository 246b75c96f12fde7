"""One of each (issue 20): SVP reads strategy names and aliases from the one strategy registry, its models come
from the one learner factory, both indexes share one deletion bookkeeping, and embedding and scoring on Ray ask
one helper how many actors fit (refusing what does not, never waiting)."""

from __future__ import annotations

import numpy as np
import pytest

from textsel.errors import ConfigError, DataError
from textsel.index import ExactIndex, HNSWIndex
from textsel.learner import LEARNERS, LearnerSpec, make_learner
from textsel.ray_connect import fitting_workers
from textsel.strategies import STRATEGIES
from textsel.svp import select_active, select_coreset
from textsel.svp_experiments import make_model

TEXTS = [f"text {i}" for i in range(10)]
LABELS = ["a", "b"] * 5


class Scripted:
    """A selector whose probabilities are fixed by position: the most uncertain text is the last."""

    classes_ = np.array(["a", "b"])
    input = "texts"

    def fit(self, texts, labels):  # noqa: ANN001, ANN201
        return self

    def predict_proba(self, texts):  # noqa: ANN001, ANN201
        p = np.linspace(0.99, 0.5, len(texts))
        return np.column_stack([p, 1 - p])


def test_svp_resolves_aliases_through_the_registrys_one_table(monkeypatch):
    monkeypatch.setitem(STRATEGIES.aliases, "lc", "least-confidence")  # an alias added in one place only
    by_alias = select_active(Scripted(), TEXTS, LABELS, initial_size=2, round_sizes=[2], strategy="lc", seed=1)
    by_name = select_active(Scripted(), TEXTS, LABELS, initial_size=2, round_sizes=[2], strategy="least-confidence",
                            seed=1)
    assert by_alias.order.tolist() == by_name.order.tolist()
    kept = select_coreset(Scripted(), TEXTS, LABELS, keep=3, strategy="maxent").kept
    assert kept.tolist() == select_coreset(Scripted(), TEXTS, LABELS, keep=3, strategy="entropy").kept.tolist()
    with pytest.raises(ConfigError, match="'strategy'"):
        select_active(Scripted(), TEXTS, LABELS, initial_size=2, round_sizes=[2], strategy="margin")


def test_svp_models_are_built_by_the_learner_factory(monkeypatch):
    made = []
    spec = LearnerSpec("vdcnn", "texts", lambda **params: made.append(params) or params)
    monkeypatch.setitem(LEARNERS, "vdcnn", spec)
    assert make_model("vdcnn29", epochs=2, seed=4) == {"depth": 29, "epochs": 2, "seed": 4} and len(made) == 1
    proxy = make_model("fasttext", epochs=7, learning_rate=0.5, seed=3, max_length=64)  # max_length: not fastText's
    assert (proxy.epoch, proxy.lr, proxy.seed) == (7, 0.5, 3)
    assert vars(make_model("fasttext")) == vars(make_learner("fasttext"))  # the paper's defaults are the learner's


@pytest.mark.parametrize("index_class", [ExactIndex, HNSWIndex])
def test_both_indexes_keep_deletion_marks_alike(index_class):
    assert index_class.mark_deleted is ExactIndex.mark_deleted  # one bookkeeping, not two copies
    vectors = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    index = index_class()
    index.add(vectors, np.arange(100, 120))
    assert index.mark_deleted(np.array([101, 105])).tolist() == [101, 105]
    assert index.mark_deleted(np.array([105])).tolist() == []
    with pytest.raises(DataError, match="999"):
        index.mark_deleted(np.array([102, 999]))
    assert index.deleted_ids.tolist() == [101, 105]  # nothing marked by the refused call
    found, _ = index.search(vectors[[1, 5]], 20)
    assert not {101, 105} & set(found.ravel().tolist())
    assert index.unmark_deleted(np.array([101, 103])).tolist() == [101] and index.deleted_ids.tolist() == [105]
    assert 101 in index.search(vectors[[1]], 1)[0].ravel().tolist()


def test_ray_actors_that_do_not_fit_are_refused_for_embedding_and_scoring():
    cluster = {"CPU": 4.0}
    assert fitting_workers(cluster, None, spare=1, cpus_per_worker=1.0, gpus_per_worker=0.0) == 3
    assert fitting_workers(cluster, 2, spare=1, cpus_per_worker=1.0, gpus_per_worker=0.0, work="embedding") == 2
    with pytest.raises(ConfigError, match="5 embedding workers do not fit"):
        fitting_workers(cluster, 5, spare=1, cpus_per_worker=1.0, gpus_per_worker=0.0, work="embedding")
    with pytest.raises(ConfigError, match="has 0 GPUs, too few for 1 GPU embedding worker"):
        fitting_workers(cluster, None, spare=1, cpus_per_worker=1.0, gpus_per_worker=1.0, work="embedding")
    assert fitting_workers({"CPU": 16.0, "GPU": 2.0}, None, spare=1, cpus_per_worker=1.0, gpus_per_worker=0.5) == 4
