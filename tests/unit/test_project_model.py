"""The model part of a project on its own (textsel.project.model): training on the labels, the saved model and
its checks, probabilities and predictions, and the learners rounds use."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import project_parts

from textsel.errors import ConfigError, DataError
from textsel.project.model import Model, probability_columns, round_learner

TEXTS = [f"review {i} about {'gears' if i % 3 else 'fabric'}" for i in range(30)]


def trained_parts(tmp_path):  # noqa: ANN201 - parts with eight labels and a saved logistic model
    parts = project_parts(tmp_path / "p", TEXTS)
    doc_ids = [10 * (i + 1) for i in range(8)]
    parts.labels.add_labels(doc_ids, ["gears" if i % 3 else "fabric" for i in range(8)], source="test")
    parts.corpus.remove_documents([300])
    return parts, parts.model.train()


def test_a_trained_model_is_saved_checked_and_loaded_alike(tmp_path):
    parts, model = trained_parts(tmp_path)
    assert model.classes == ["fabric", "gears"] and model.n_labels == 8 and model.learner_name == "logistic"
    loaded = Model(parts.config, parts.store, parts.cache_dir, parts.corpus, parts.vectors,
                   project_dir=parts.data.parent).saved_model()
    assert loaded.classes == model.classes and loaded.embeddings == model.embeddings
    assert parts.model.trained_model().label_rows == 8  # nothing changed: the saved model, not a retrain
    weights = parts.model.model_path.read_bytes()
    parts.model.model_path.write_bytes(weights[:-8] + b"tampered")
    with pytest.raises(DataError, match="corrupt"):
        parts.model.saved_model()
    parts.store.close()


def test_probabilities_and_predictions_leave_removed_texts_out(tmp_path):
    parts, _ = trained_parts(tmp_path)
    probabilities = parts.model.positive_probabilities([10, 20])
    assert all(0.0 <= p <= 1.0 for p in probabilities)
    assert parts.model.predict(tmp_path / "preds.parquet") == len(TEXTS) - 1
    table = pq.read_table(tmp_path / "preds.parquet").to_pydict()
    assert 300 not in table["id"] and set(table) == {"id", "text", "predicted", *probability_columns(["gears",
                                                                                                      "fabric"])}
    parts.store.close()


def test_only_saveable_learners_are_trained(tmp_path):
    parts = project_parts(tmp_path / "p", TEXTS)
    with pytest.raises(ConfigError):
        parts.model.train("fasttext")
    parts.store.close()


def test_round_learners_are_seeded_and_fasttext_runs_on_one_thread():
    fasttext = round_learner("fasttext", seed=5)
    assert fasttext.seed == 5 and fasttext.threads == 1
    assert np.isclose(round_learner("logistic").C, round_learner("logistic", seed=9).C)  # logistic takes no seed
