"""The vectors part of a project on its own (textsel.project.vectors): embeddings from the model it is given,
their record, the index and its deletion marks, and growing with the corpus."""

from __future__ import annotations

import numpy as np
from conftest import CountingEmbedder, fake_embeddings, project_parts

from textsel.project.vectors import Vectors

TEXTS = [f"review {i} about {'gears' if i % 3 else 'fabric'}" for i in range(15)]


def test_embeddings_come_from_the_given_model_once_and_are_then_read_from_the_cache(tmp_path):
    parts = project_parts(tmp_path / "p", TEXTS)
    vectors = parts.vectors.embeddings()
    assert np.allclose(vectors, fake_embeddings(TEXTS, 12), atol=1e-3) and parts.embedder.calls == len(TEXTS)
    other = CountingEmbedder()
    again = Vectors(parts.config, parts.store, parts.cache_dir, parts.corpus, embedder=lambda: other)
    assert np.allclose(again.embeddings(), vectors) and other.calls == 0  # recorded and verified: not embedded again
    assert parts.store.get_meta("embeddings")["rows"] == len(TEXTS)
    parts.store.close()


def test_the_index_marks_removed_documents_and_follows_later_removals(tmp_path):
    parts = project_parts(tmp_path / "p", TEXTS)
    parts.corpus.remove_documents([20], apply=parts.vectors.change_removals)  # no index yet: store only
    index = parts.vectors.index()
    assert index.deleted_ids.tolist() == [20] and parts.vectors.index_loaded
    parts.corpus.remove_documents([30], apply=parts.vectors.change_removals)
    assert sorted(parts.vectors.index().deleted_ids.tolist()) == [20, 30]
    fresh = Vectors(parts.config, parts.store, parts.cache_dir, parts.corpus, embedder=lambda: parts.embedder)
    assert sorted(fresh.index().deleted_ids.tolist()) == [20, 30] and parts.embedder.calls == len(TEXTS)  # saved
    parts.store.close()


def test_grow_embeds_only_the_new_texts_and_adds_them_to_the_saved_index(tmp_path):
    parts = project_parts(tmp_path / "p", TEXTS)
    parts.vectors.index()
    old_key = parts.vectors.index_key()
    more = tmp_path / "more.csv"
    more.write_text("id,text\n900,a new review about gears\n")
    added = parts.corpus.add_documents(more)
    parts.vectors.grow(old_key, added.ids)
    assert parts.embedder.calls == len(TEXTS) + 1
    assert len(parts.vectors.index()) == len(TEXTS) + 1 and parts.vectors.embeddings().shape[0] == len(TEXTS) + 1
    parts.store.close()


def test_auto_k_is_wider_over_a_static_first_pass(tmp_path):
    parts = project_parts(tmp_path / "p", TEXTS)
    plain = parts.vectors.auto_k(1_000_000)
    parts.config.first_pass = "static"
    assert parts.vectors.is_static and parts.vectors.auto_k(1_000_000) > plain
    parts.store.close()
