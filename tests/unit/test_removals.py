"""Removed documents (issue 10, "removed documents are marked deleted"): recorded in the store, marked deleted in
the saved index without a rebuild, never selected again in any candidate pool nor audited, their labels kept; an
older project database gains the table when opened; a removed id cannot be added again but can be restored."""

from __future__ import annotations

import os
import sqlite3

import numpy as np
import pytest
from conftest import precomputed_project

from textsel.errors import DataError
from textsel.index import ExactIndex, build_index, load_index, saved_index_digest
from textsel.project import Project
from textsel.store import MIGRATIONS, Store

N = 240


def make_project(tmp_path, backend="hnsw"):
    texts = [f"text number {i} about {'gears' if i % 10 == 0 else 'fabric'}" for i in range(N)]
    ids = [1000 + 3 * i for i in range(N)]
    folder, vectors = precomputed_project(tmp_path, texts, ids, ["gears", "fabric"], backend=backend)
    return folder, np.asarray(ids, dtype=np.int64), vectors


def seed_and_remove(folder, ids, vectors):
    """Label six texts, then remove two of them and the 60 nearest unlabeled neighbours of the labeled ones (the
    texts SEALS and uncertainty would pick first); return the removed ids."""
    labeled = [int(i) for i in ids[:6]]
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    near = np.argsort(-(unit[:6] @ unit.T).max(axis=0), kind="stable")
    removed = [int(ids[i]) for i in near if i >= 6][:60] + labeled[:2]
    with Project(folder) as project:
        project.add_labels(labeled, ["gears", "fabric"] * 3, source="seed")
        assert sorted(project.remove_documents(removed, reason="test")) == sorted(removed)
    return set(removed)


def label_batch(project, doc_ids):
    project.add_labels(doc_ids, ["gears" if i % 2 else "fabric" for i in range(len(doc_ids))], source="test")


@pytest.mark.parametrize("pool", ["all", "seals", "random"])
def test_removed_texts_never_come_back_in_rounds_or_audits_of_any_pool(tmp_path, pool):
    folder, ids, vectors = make_project(tmp_path)
    with Project(folder) as project:
        project.index()  # saved before the removal, so the removal marks it
    removed = seed_and_remove(folder, ids, vectors)
    chosen = []
    for _ in range(6):  # a fresh process per round, as the CLI runs
        with Project(folder) as project:
            _, result = project.next_batch(8, candidate_pool=pool)
            chosen += result.ids.tolist()
            assert project.store.rounds()[-1].params["excluded_removed"] == len(removed)
            label_batch(project, result.ids.tolist())
            _, audited = project.audit_batch(8, seed=len(chosen))
            chosen += audited.tolist()
            label_batch(project, audited.tolist())
    assert len(chosen) == 96 and not removed & set(chosen)
    with Project(folder) as project:
        labels = project.store.current_labels()
        assert all(int(doc_id) in labels for doc_id in ids[:6])  # the removed labeled texts keep their labels
        assert set(project.index().deleted_ids.tolist()) == removed


def test_seals_restored_state_and_neighbour_table_rows_drop_removed_texts(tmp_path):
    folder, ids, vectors = make_project(tmp_path)
    with Project(folder) as project:
        project.index()
        project.neighbour_table(build=True)
        project.add_labels([int(i) for i in ids[:6]], ["gears", "fabric"] * 3, source="seed")
        _, first = project.next_batch(8, candidate_pool="seals")
        label_batch(project, first.ids.tolist())
    state_before = set(np.load(folder / "cache" / "candidates.k100.npz")["neighbours"].tolist())
    labeled = set(Project(folder).store.current_labels())
    removed = sorted(state_before - labeled)[: len(state_before - labeled) // 2]  # half the known candidates
    with Project(folder) as project:
        project.remove_documents(removed)
    for _ in range(3):
        with Project(folder) as project:
            _, result = project.next_batch(8, candidate_pool="seals")
            params = project.store.rounds()[-1].params
            # the removal kept the index's digest: the saved state and the neighbour table are still used
            assert params["candidate_state"] == "restored" and params["neighbours_from"] == "table"
            assert not set(removed) & set(result.ids.tolist())
            label_batch(project, result.ids.tolist())
    saved = np.load(folder / "cache" / "candidates.k100.npz")["neighbours"]
    assert not set(removed) & set(saved.tolist())


@pytest.mark.parametrize("backend", ["hnsw", "exact"])
def test_the_saved_index_reports_marks_after_reload_and_keeps_its_digest(tmp_path, backend):
    vectors = np.random.default_rng(0).normal(size=(50, 8)).astype(np.float32)
    path = tmp_path / f"index.{backend}"
    index = build_index(vectors, np.arange(100, 150), backend=backend)
    index.save(path, vectors_sha256="a" * 64)
    digest = saved_index_digest(path)
    with pytest.raises(DataError, match="id 7 is not in the index"):
        index.mark_deleted(np.array([101, 7]))
    assert not len(index.deleted_ids)  # nothing marked when one id is unknown
    assert index.mark_deleted(np.array([101, 102, 101])).tolist() == [101, 102]
    index.save(path, vectors_sha256="a" * 64, keep_digest=True)
    loaded = load_index(path, vectors_sha256="a" * 64)
    assert loaded.deleted_ids.tolist() == [101, 102] and saved_index_digest(path) == digest
    found, _ = loaded.search(vectors[:5], 48)
    assert not {101, 102} & set(found.ravel().tolist()) and (found >= 0).all()  # 48 = every text not deleted
    assert np.allclose(loaded.get_vectors(np.array([101])), index.get_vectors(np.array([101])))  # still stored
    assert loaded.unmark_deleted(np.array([101, 103])).tolist() == [101]
    assert loaded.search(vectors[1:2], 1)[0][0, 0] == 101


def test_an_index_saved_before_removals_existed_loads_with_nothing_deleted(tmp_path):
    from textsel.index import _write_sidecar

    index = ExactIndex()
    index.add(np.eye(4, dtype=np.float32), np.arange(4))
    np.savez(tmp_path / "index.npz", vectors=index._vectors, ids=index.ids)  # an older save: no deletion array
    _write_sidecar(tmp_path / "index.exact", {"backend": "exact", "metric": "cosine", "count": 4},
                   [tmp_path / "index.npz"], None)
    loaded = load_index(tmp_path / "index.exact")
    assert loaded.deleted_ids.tolist() == [] and loaded.search(np.eye(4)[:1], 1)[0][0, 0] == 0


def test_an_older_project_database_gains_the_removals_table_and_keeps_its_labels(tmp_path):
    folder, ids, _ = make_project(tmp_path)
    with Project(folder) as project:
        project.add_labels([int(ids[0]), int(ids[1])], ["gears", "fabric"], source="seed")
    with sqlite3.connect(folder / "textsel.db") as connection:  # the database as textsel wrote it before m004
        connection.execute("DROP TABLE removals")
        connection.execute("PRAGMA user_version = 3")
    with Project(folder) as project:
        assert project.store.schema_version == len(MIGRATIONS) == 4
        assert project.store.current_labels() == {int(ids[0]): "gears", int(ids[1]): "fabric"}
        assert project.remove_documents([int(ids[0])]) == [int(ids[0])]
    with Store(folder / "textsel.db") as store:
        assert store.removed_ids() == {int(ids[0])} and store.latest_label(int(ids[0])) == "gears"


def test_unknown_ids_remove_nothing_and_restore_puts_texts_back(tmp_path):
    folder, ids, _ = make_project(tmp_path)
    with Project(folder) as project:
        project.index()
        graph = (folder / "cache" / "index.hnsw").read_bytes()
        with pytest.raises(DataError, match="id 7 is not in the pool"):
            project.remove_documents([int(ids[3]), 7])
        assert project.store.removed_ids() == set() and (folder / "cache" / "index.hnsw").read_bytes() == graph
        project.remove_documents([int(ids[3]), int(ids[4])])
        with pytest.raises(DataError, match=f"id {int(ids[5])} is not removed"):
            project.restore_documents([int(ids[3]), int(ids[5])])
        assert project.restore_documents([int(ids[3])]) == [int(ids[3])]
    with Project(folder) as project:
        assert project.store.removed_ids() == {int(ids[4])}
        assert project.index().deleted_ids.tolist() == [int(ids[4])]


def test_an_index_built_after_the_removal_marks_it(tmp_path):
    folder, ids, vectors = make_project(tmp_path)
    with Project(folder) as project:
        project.remove_documents([int(ids[0])])  # no index yet: nothing to mark now
        assert not (folder / "cache" / "index.hnsw").exists()
        index = project.index()
        assert index.deleted_ids.tolist() == [int(ids[0])]
        assert int(ids[0]) not in index.search(vectors[:1], 5)[0].ravel().tolist()


def test_a_concept_never_selects_or_audits_texts_removed_from_the_corpus(tmp_path):
    from textsel.concepts import add_concept, concept_project

    folder, ids, vectors = make_project(tmp_path, backend="exact")
    removed = seed_and_remove(folder, ids, vectors)
    with Project(folder) as project:
        add_concept(project, "gears")
        view = concept_project(project, "gears")
        try:
            view.add_labels([int(i) for i in ids[2:6]], ["yes", "no"] * 2, source="seed")
            _, result = view.next_batch(40, candidate_pool="all")
            _, audited = view.audit_batch(40, seed=1, discard_pending=True)
            assert len(result.ids) == 40 and not removed & (set(result.ids.tolist()) | set(audited.tolist()))
            assert view.store.removed_ids() == set()  # recorded once, in the project's own store
        finally:
            view.close()


def test_a_removal_cut_short_before_its_index_write_is_finished_when_the_index_loads(tmp_path):
    folder, ids, vectors = make_project(tmp_path)
    with Project(folder) as project:
        project.index()
        digest = saved_index_digest(project.index_path)
        project.store.add_removals([int(ids[7])])  # recorded, then the process died before marking the index
    with Project(folder) as project:
        assert project.index().deleted_ids.tolist() == [int(ids[7])]
        assert saved_index_digest(project.index_path) == digest  # caches derived from the graph stay valid
        table = project.neighbour_table(build=True)  # computed over every id, the removed one's row included
        rows = table.neighbours(np.asarray(ids[:20]), 16)
        assert len(rows) == 20 and int(ids[7]) not in rows.ravel().tolist()
    with Project(folder) as project:
        assert load_index(project.index_path).deleted_ids.tolist() == [int(ids[7])]


def test_a_damaged_saved_index_fails_the_removal_before_anything_is_written(tmp_path):
    folder, ids, _ = make_project(tmp_path)
    with Project(folder) as project:
        project.index()
    graph = folder / "cache" / "index.hnsw"
    stat = graph.stat()
    graph.write_bytes(graph.read_bytes()[:-8] + b"\x07" * 8)  # a disk fault: same size, other bytes, later mtime
    os.utime(graph, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    with Project(folder) as project:
        with pytest.raises(DataError, match="rebuild the index"):
            project.remove_documents([int(ids[1])])
        assert project.store.removed_ids() == set()


def test_keyword_search_and_the_index_leave_removed_texts_out(tmp_path):
    folder, ids, vectors = make_project(tmp_path)
    with Project(folder) as project:
        project.remove_documents([int(ids[10]), int(ids[20])])
        hits, total = project.find_texts("gears", n=50)
        assert total == 22 and {int(ids[10]), int(ids[20])}.isdisjoint(hit.doc_id for hit in hits)
        found = project.index().search(vectors[[10, 20]], 1)[0].ravel().tolist()
        assert {int(ids[10]), int(ids[20])}.isdisjoint(found)
