"""The corpus part of a project on its own (textsel.project.corpus): texts and ids, the pool cache, added files
and removals, with no vectors, labels or model around it."""

from __future__ import annotations

import pytest
from conftest import project_parts

from textsel.errors import ConfigError, DataError
from textsel.project.corpus import Corpus

TEXTS = [f"text number {i}" for i in range(12)]


def test_ids_and_texts_come_from_the_pool_cache_without_reading_the_data_file(tmp_path):
    parts = project_parts(tmp_path / "p", TEXTS)
    assert parts.corpus.texts([30]) == [TEXTS[2]] and parts.corpus.pool_loaded  # the first corpus read the file
    again = Corpus(parts.config, parts.store, parts.cache_dir)  # a new process: the cache, verified, is enough
    assert again.ids.tolist() == [10 * (i + 1) for i in range(12)]
    assert again.texts([120, 10]) == [TEXTS[11], TEXTS[0]] and again.external_ids([10]) == [10]
    assert again.resolve_ids(["20", 30]) == [20, 30] and not again.pool_loaded
    with pytest.raises(DataError, match="55"):
        again.resolve_ids([55])
    parts.store.close()


def test_the_loaded_pool_is_kept_in_the_state_its_owner_hands_over(tmp_path):
    parts = project_parts(tmp_path / "p", TEXTS)
    state: dict = {}
    corpus = Corpus(parts.config, parts.store, parts.cache_dir, state=state)
    assert "pool" not in state
    assert corpus.pool is state["pool"] and corpus.pool_loaded
    parts.store.close()


def test_removals_run_inside_the_callers_wrapper_and_are_checked_first(tmp_path):
    parts = project_parts(tmp_path / "p", TEXTS)
    calls = []

    def apply(write):  # what the Project passes: the vectors' change_removals
        calls.append("before")
        result = write()
        calls.append("after")
        return result

    with pytest.raises(DataError):
        parts.corpus.remove_documents([20, 999], apply=apply)
    assert calls == [] and not len(parts.corpus.removed_ids())  # an unknown id: nothing written
    assert parts.corpus.remove_documents([20, 40], reason="duplicate", apply=apply) == [20, 40]
    assert calls == ["before", "after"] and parts.corpus.removed_ids().tolist() == [20, 40]
    with pytest.raises(DataError, match="not removed"):
        parts.corpus.restore_documents([30])
    assert parts.corpus.restore_documents([40]) == [40] and parts.corpus.removed_ids().tolist() == [20]
    assert parts.corpus.restore_count() == 1  # recorded for the SEALS states, which dropped the restored text
    parts.store.close()


def test_added_files_join_the_pool_and_clashing_ids_are_refused_before_writing(tmp_path):
    parts = project_parts(tmp_path / "p", TEXTS)
    clash = tmp_path / "clash.csv"
    clash.write_text("id,text\n500,new one\n20,again\n")
    with pytest.raises(DataError, match="id 20 is already in the project"):
        parts.corpus.add_documents(clash)
    assert parts.store.get_meta("added_files") is None and len(parts.corpus.ids) == 12
    more = tmp_path / "more.csv"
    more.write_text("id,text\n500,new one\n510,new two\n")
    added = parts.corpus.add_documents(more)
    assert added.ids.tolist() == [500, 510] and parts.corpus.ids[-2:].tolist() == [500, 510]
    assert Corpus(parts.config, parts.store, parts.cache_dir).texts([510]) == ["new two"]  # recorded and cached
    with pytest.raises(DataError, match="already part of the project"):
        parts.corpus.add_documents(more)
    parts.store.close()


def test_a_corpus_with_precomputed_embeddings_cannot_grow(tmp_path):
    parts = project_parts(tmp_path / "p", TEXTS)
    parts.config.precomputed = str(tmp_path / "emb.npy")
    with pytest.raises(ConfigError, match="precomputed"):
        parts.corpus.add_documents(parts.data)
    parts.store.close()
