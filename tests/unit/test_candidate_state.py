"""The SEALS candidate pool kept in the project between rounds (issue 10): it equals the brute-force union of the
labeled documents' neighbours after every round, only new labels are searched, a stale or damaged state is rebuilt,
and the neighbour table answers as the index does."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import precomputed_project

from textsel.candidate_state import load_candidate_state, save_candidate_state
from textsel.candidates import SEALSCandidates
from textsel.index import ExactIndex, build_neighbour_table, load_neighbour_table, save_neighbour_table
from textsel.project import Project

K = 8


def make_project(tmp_path, n=300, backend="exact"):
    texts = [f"text number {i} about {'gears' if i % 10 == 0 else 'fabric'}" for i in range(n)]
    ids = [1000 + 3 * i for i in range(n)]
    folder, vectors = precomputed_project(tmp_path, texts, ids, ["gears", "fabric"], backend=backend)
    config = (folder / "textsel.toml").read_text().replace("k = 100", f"k = {K}")
    (folder / "textsel.toml").write_text(config)
    return folder, np.asarray(ids, dtype=np.int64), vectors


def brute_force_union(vectors, ids, labeled, k=K):
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    sims = unit[np.searchsorted(ids, labeled)] @ unit.T
    return set(ids[np.argsort(-sims, axis=1, kind="stable")[:, :k]].ravel().tolist())


def saved_state(folder):
    with np.load(folder / "cache" / f"candidates.k{K}.npz", allow_pickle=False) as arrays:
        return arrays["seen"], arrays["neighbours"]


def label_round(project, round_ids):
    labels = ["gears" if i % 2 else "fabric" for i in range(len(round_ids))]
    project.add_labels(round_ids, labels, source="test")


def test_persisted_pool_is_the_union_of_neighbours_of_labels_and_only_new_labels_are_searched(tmp_path):
    folder, ids, vectors = make_project(tmp_path)
    with Project(folder) as project:
        project.add_labels([int(i) for i in ids[:6]], ["gears", "fabric"] * 3, source="seed")
    queried = []
    for round_number in range(5):
        with Project(folder) as project:  # a fresh process per round, as the CLI runs
            round_id, result = project.next_batch(5, candidate_pool="seals")
            params = project.store.rounds()[-1].params
            labeled = np.fromiter(project.store.current_labels(), dtype=np.int64)
            seen, neighbours = saved_state(folder)
            expected = brute_force_union(vectors, ids, labeled)
            assert set(neighbours.tolist()) == expected
            assert set(seen.tolist()) == set(labeled.tolist())
            assert set(result.ids.tolist()) <= expected - set(labeled.tolist())
            assert params["candidate_state"] == ("new" if round_number == 0 else "restored")
            queried.append(params["neighbour_queries"])
            label_round(project, result.ids.tolist())
    assert queried == [6, 5, 5, 5, 5]  # the seed once, then each round's five new labels; no replay


def test_a_rebuilt_index_a_changed_k_or_a_damaged_file_rebuilds_the_state_and_says_why(tmp_path):
    folder, ids, vectors = make_project(tmp_path)
    with Project(folder) as project:
        project.add_labels([int(i) for i in ids[:6]], ["gears", "fabric"] * 3, source="seed")
        _, result = project.next_batch(4, candidate_pool="seals")
        label_round(project, result.ids.tolist())
        project.index(rebuild=True)
    with Project(folder) as project:
        _, result = project.next_batch(4, candidate_pool="seals")
        params = project.store.rounds()[-1].params
        assert params["candidate_state"] == "rebuilt: index changed since it was saved"
        assert params["neighbour_queries"] == 10  # every label, once, in one batched query
        labeled = np.fromiter(project.store.current_labels(), dtype=np.int64)
        assert set(saved_state(folder)[1].tolist()) == brute_force_union(vectors, ids, labeled)
        label_round(project, result.ids.tolist())
    state = folder / "cache" / f"candidates.k{K}.npz"
    state.write_bytes(state.read_bytes()[:-7] + b"garbage")
    with Project(folder) as project:
        _, result = project.next_batch(4, candidate_pool="seals")
        assert project.store.rounds()[-1].params["candidate_state"].startswith("rebuilt: the saved state file changed")
        labeled = np.fromiter(project.store.current_labels(), dtype=np.int64)
        assert set(saved_state(folder)[1].tolist()) == brute_force_union(vectors, ids, labeled)


def test_a_retracted_label_is_not_kept_in_the_pool(tmp_path):
    index = ExactIndex()
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(200, 6)).astype(np.float32)
    ids = np.arange(200, dtype=np.int64) * 2
    index.add(vectors, ids)
    pool = SEALSCandidates(index, k=5)
    pool.update(ids[:10])
    source = {"index": "x", "k": 5, "ef": None}
    record = save_candidate_state(tmp_path / "state.npz", pool, source)
    restored, how = load_candidate_state(tmp_path / "state.npz", record, index, k=5, ef=None, source=source,
                                         labeled_ids=ids[:10])
    assert how == "restored" and np.array_equal(restored.neighbours_, pool.neighbours_)
    fresh, how = load_candidate_state(tmp_path / "state.npz", record, index, k=5, ef=None, source=source,
                                      labeled_ids=ids[1:10])
    assert how == "rebuilt: a label was retracted since it was saved" and not len(fresh.neighbours_)
    assert set(fresh.candidates(ids, ids[1:10]).tolist()) == brute_force_union(vectors, ids, ids[1:10], 5) - set(
        ids[1:10].tolist())


def test_neighbour_table_answers_as_the_index_and_is_refused_for_another_index(tmp_path):
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(300, 8)).astype(np.float32)
    ids = rng.permutation(np.arange(300, dtype=np.int64) * 7 + 1)  # not sorted, not positions
    index = ExactIndex()
    index.add(vectors, ids)
    table = build_neighbour_table(index, 12, chunk=64)
    query = ids[[5, 17, 250]]
    assert np.array_equal(table.neighbours(query, 12), index.neighbours(query, 12))
    assert np.array_equal(table.neighbours(query, 4), index.neighbours(query, 4))
    record = save_neighbour_table(tmp_path / "neighbours.npy", table, index_digest="abc")
    loaded = load_neighbour_table(tmp_path / "neighbours.npy", record, index_digest="abc")
    assert np.array_equal(loaded.neighbours(query, 12), index.neighbours(query, 12))
    assert load_neighbour_table(tmp_path / "neighbours.npy", record, index_digest="other") is None
    with pytest.raises(Exception, match="table's k"):
        loaded.neighbours(query, 13)


def test_seals_rounds_read_the_neighbour_table_instead_of_loading_the_index(tmp_path):
    folder, ids, vectors = make_project(tmp_path)
    with Project(folder) as project:
        project.index()
        assert project.neighbour_table(build=True).k == 100  # the automatic k (its floor) exceeds k = 8
        project.add_labels([int(i) for i in ids[:6]], ["gears", "fabric"] * 3, source="seed")
    with Project(folder) as project:
        _, result = project.next_batch(5, candidate_pool="seals")
        assert project._index is None  # the graph was never loaded
        params = project.store.rounds()[-1].params
        assert params["neighbours_from"] == "table"
        labeled = np.fromiter(project.store.current_labels(), dtype=np.int64)
        assert set(saved_state(folder)[1].tolist()) == brute_force_union(vectors, ids, labeled)
        project.index(rebuild=True)
        assert project.neighbour_table() is None  # computed from the old index
    with Project(folder) as project:
        assert project.neighbour_table() is None
        project.next_batch(5, candidate_pool="seals", discard_pending=True)
        assert project.store.rounds()[-1].params["neighbours_from"] == "index"


def test_rounds_with_another_k_keep_their_own_state(tmp_path):
    folder, ids, _ = make_project(tmp_path)
    config = folder / "textsel.toml"
    with Project(folder) as project:
        project.add_labels([int(i) for i in ids[:6]], ["gears", "fabric"] * 3, source="seed")
    hows = []
    for k in (K, 12, K, 12):
        config.write_text(config.read_text().replace("k = 8", f"k = {k}").replace("k = 12", f"k = {k}"))
        with Project(folder) as project:
            _, result = project.next_batch(3, candidate_pool="seals")
            params = project.store.rounds()[-1].params
            hows.append((params["k"], params["candidate_state"], params["neighbour_queries"]))
            label_round(project, result.ids.tolist())
    assert hows == [(K, "new", 6), (12, "new", 9), (K, "restored", 6), (12, "restored", 6)]
