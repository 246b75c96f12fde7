"""Static (model2vec) embeddings distilled from a tiny BERT offline: the encode contract, the verified cache, and
feature rows embedded on demand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import CountingEmbedder, fake_embeddings, save_tiny_bert

from textsel.errors import ConfigError, DataError
from textsel.static import RECORD_NAME, EmbeddedOnDemand, StaticEmbedder, distill_static_model

pytest.importorskip("model2vec.distill")
pytestmark = pytest.mark.usefixtures("one_torch_thread")

WORDS = ["good", "great", "love", "bad", "awful", "hate", "it", "the", "product", "is", "battery", "charge"]
TEXTS = ["good great product", "awful battery", "love it", "the charge is bad", "product", ""]


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("tiny_bert"), WORDS)


@pytest.fixture(scope="module")
def distilled(tiny_bert, tmp_path_factory) -> tuple[Path, Path]:
    """(model folder, cache folder) of one distillation shared by the module's tests."""
    cache = tmp_path_factory.mktemp("static-cache")
    return distill_static_model(tiny_bert, dims=8, cache_dir=cache), cache


def test_encode_gives_unit_float32_rows_of_the_requested_dims(tiny_bert, distilled):
    embedder = StaticEmbedder(tiny_bert, dims=8, cache_dir=distilled[1])
    vectors = embedder.encode(TEXTS)
    assert vectors.shape == (len(TEXTS), 8) and vectors.dtype == np.float32 and embedder.dimension == 8
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)  # the empty text too
    np.testing.assert_array_equal(vectors, embedder.encode(TEXTS))
    assert not np.allclose(vectors[0], vectors[1])
    reported = []
    small = StaticEmbedder(tiny_bert, dims=8, cache_dir=distilled[1], batch_size=4)
    np.testing.assert_allclose(small.encode(TEXTS, on_batch=reported.append), vectors, atol=1e-6)
    assert reported == [4, 2]


def test_the_cache_holds_safe_formats_and_a_record_of_what_it_was_built_from(tiny_bert, distilled):
    folder, _ = distilled
    assert {path.suffix for path in folder.iterdir()} <= {".safetensors", ".json", ".md"}  # nothing to unpickle
    record = json.loads((folder / RECORD_NAME).read_text())
    built_from = record["built_from"]
    assert built_from["source"] == str(tiny_bert.resolve()) and built_from["dims"] == 8
    assert set(built_from["source_sha256"]) == {"model.safetensors", "tokenizer.json"}
    assert built_from["model2vec"] and set(record["files"]) >= {"model.safetensors", "tokenizer.json", "config.json"}


def test_a_second_use_reads_the_cache_without_distilling(tiny_bert, distilled, monkeypatch):
    import textsel.static as static

    monkeypatch.setattr(static, "_distill", lambda *args: pytest.fail("distilled again"))
    assert distill_static_model(tiny_bert, dims=8, cache_dir=distilled[1]) == distilled[0]
    assert StaticEmbedder(tiny_bert, dims=8, cache_dir=distilled[1]).encode(TEXTS[:2]).shape == (2, 8)


def test_other_dims_or_changed_source_weights_make_another_model(tiny_bert, distilled, tmp_path):
    assert distill_static_model(tiny_bert, dims=4, cache_dir=distilled[1]) != distilled[0]
    changed = save_tiny_bert(tmp_path / "bert", WORDS)  # new random weights at another path
    first = distill_static_model(changed, dims=8, cache_dir=tmp_path / "cache")
    save_tiny_bert(changed, WORDS)  # the same folder, retrained
    assert distill_static_model(changed, dims=8, cache_dir=tmp_path / "cache") != first
    assert StaticEmbedder(changed, dims=8).name != StaticEmbedder(tiny_bert, dims=8).name


def test_a_damaged_cache_file_is_a_clear_error_naming_the_folder(tiny_bert, tmp_path):
    folder = distill_static_model(tiny_bert, dims=8, cache_dir=tmp_path)
    weights = folder / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(DataError, match=f"delete the folder {folder}") as error:
        StaticEmbedder(tiny_bert, dims=8, cache_dir=tmp_path).encode(["good"])
    assert "model.safetensors" in str(error.value) and "\n" not in str(error.value)
    (folder / RECORD_NAME).write_text("{not json")
    with pytest.raises(DataError, match="no readable record"):
        distill_static_model(tiny_bert, dims=8, cache_dir=tmp_path)


def test_bad_sources_and_settings_are_config_errors(tmp_path):
    (tmp_path / "pickled").mkdir()
    (tmp_path / "pickled" / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(ConfigError, match="safetensors only"):
        distill_static_model(tmp_path / "pickled", cache_dir=tmp_path / "cache")
    with pytest.raises(ConfigError, match="local model folder"):
        distill_static_model("no-such-org/no-model", cache_dir=tmp_path / "cache")
    with pytest.raises(ConfigError, match="'dims'"):
        distill_static_model(tmp_path / "pickled", dims=1)
    assert not (tmp_path / "cache").exists()  # nothing written before the arguments were checked


def test_rows_are_embedded_only_when_read_and_only_once():
    texts = [f"text {i}" for i in range(50)]
    counting = CountingEmbedder()
    features = EmbeddedOnDemand(texts, counting)
    assert len(features) == 50 and features.embedded_rows == 0 and counting.calls == 0
    rows = features[np.array([3, 7, 3])]
    np.testing.assert_allclose(rows, fake_embeddings(["text 3", "text 7", "text 3"], 12))
    assert counting.calls == 2 and features.embedded_rows == 2
    np.testing.assert_allclose(features[2:5], fake_embeddings(texts[2:5], 12))  # 3 is known already
    np.testing.assert_allclose(features[7], fake_embeddings(["text 7"], 12)[0])
    assert counting.calls == 4 and features.shape == (50, 12)
    everything = features[np.arange(50)]  # grows past its first allocation
    np.testing.assert_allclose(everything, fake_embeddings(texts, 12))
    assert counting.calls == 50 == features.embedded_rows


def test_embed_pool_caches_static_vectors_like_any_embedding(tiny_bert, distilled, tmp_path):
    from textsel.data import Pool
    from textsel.embed import embed_pool

    embedder = StaticEmbedder(tiny_bert, dims=8, cache_dir=distilled[1])
    pool = Pool(ids=np.arange(len(TEXTS)) * 3, texts=TEXTS)
    cached = embed_pool(pool, embedder, cache_dir=tmp_path, dtype="float32")
    np.testing.assert_allclose(cached, embedder.encode(TEXTS), atol=1e-6)
    assert [path.name.startswith("embeddings-") for path in tmp_path.iterdir()] == [True]
