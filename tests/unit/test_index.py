"""One contract, run on ExactIndex and HNSWIndex: both answer in document ids, best first, padded, excluding ids."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import fake_embeddings

from textsel.errors import ConfigError, DataError
from textsel.index import ExactIndex, HNSWIndex, build_index, load_index

DIM = 16
N = 60


@pytest.fixture
def vectors() -> np.ndarray:
    return fake_embeddings([f"document {i}" for i in range(N)], DIM)


@pytest.fixture
def ids() -> np.ndarray:
    """Document ids that are not positions: scattered, unsorted, large."""
    return np.random.default_rng(0).permutation(np.arange(N) * 7 + 10_000).astype(np.int64)


def brute_force(vectors, ids, queries, k, exclude=()):
    """Expected ids and cosine similarities, by sorting every similarity."""
    sims = queries @ vectors.T
    sims[:, np.isin(ids, list(exclude))] = -np.inf
    order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return ids[order], np.take_along_axis(sims, order, axis=1)


class IndexContract:
    """Behaviour every VectorIndex must show; subclasses say how to build one."""

    def make_index(self, metric: str = "cosine"):
        raise NotImplementedError

    def filled(self, vectors, ids, metric="cosine"):
        index = self.make_index(metric)
        index.add(vectors, ids)
        return index

    def test_nearest_neighbour_of_a_stored_vector_is_itself(self, vectors, ids):
        found, sims = self.filled(vectors, ids).search(vectors[:5], k=3)
        assert found.shape == sims.shape == (5, 3) and found.dtype == np.int64 and sims.dtype == np.float32
        np.testing.assert_array_equal(found[:, 0], ids[:5])
        np.testing.assert_allclose(sims[:, 0], 1.0, atol=1e-5)
        assert (np.diff(sims, axis=1) <= 1e-6).all()

    def test_results_match_brute_force(self, vectors, ids):
        queries = fake_embeddings([f"query {i}" for i in range(7)], DIM)
        found, sims = self.filled(vectors, ids).search(queries, k=10)
        expected_ids, expected_sims = brute_force(vectors, ids, queries, 10)
        np.testing.assert_array_equal(found, expected_ids)
        np.testing.assert_allclose(sims, expected_sims, atol=1e-5)

    def test_ids_are_document_ids_not_positions(self, vectors, ids):
        index = self.filled(vectors, ids)
        found, _ = index.search(vectors, k=N)
        assert set(found.ravel()) == set(ids.tolist())
        np.testing.assert_array_equal(np.sort(index.ids), np.sort(ids))
        np.testing.assert_allclose(index.get_vectors(ids[[9, 2, 40]]), vectors[[9, 2, 40]], atol=1e-6)

    def test_excluded_ids_never_come_back_and_rows_stay_full(self, vectors, ids):
        index = self.filled(vectors, ids)
        exclude = ids[:20]
        found, sims = index.search(vectors[:5], k=10, exclude=exclude)
        assert not np.isin(found, exclude).any()
        assert (found >= 0).all() and np.isfinite(sims).all()
        expected_ids, _ = brute_force(vectors, ids, vectors[:5], 10, exclude)
        np.testing.assert_array_equal(found, expected_ids)

    def test_pads_with_minus_one_and_minus_inf_when_k_exceeds_size(self, vectors, ids):
        found, sims = self.filled(vectors, ids).search(vectors[:2], k=N + 5)
        assert (found[:, N:] == -1).all() and np.isneginf(sims[:, N:]).all()
        assert all(set(row) == set(ids.tolist()) for row in found[:, :N])

    def test_pads_when_exclude_leaves_fewer_than_k(self, vectors, ids):
        exclude = np.concatenate([ids[:N - 4], [1, 2, 3]])  # includes ids the index never held
        found, sims = self.filled(vectors, ids).search(vectors[:3], k=10, exclude=exclude)
        assert all(set(row[:4]) == set(ids[N - 4:].tolist()) for row in found)
        assert (found[:, 4:] == -1).all() and np.isneginf(sims[:, 4:]).all()

    def test_excluding_everything_or_searching_empty_gives_only_padding(self, vectors, ids):
        found, sims = self.filled(vectors, ids).search(vectors[:2], k=4, exclude=ids)
        assert (found == -1).all() and np.isneginf(sims).all()
        found, sims = self.make_index().search(vectors[:2], k=4)
        assert found.shape == (2, 4) and (found == -1).all() and np.isneginf(sims).all()

    def test_incremental_add_equals_one_add(self, vectors, ids):
        index = self.make_index()
        for part in np.array_split(np.arange(N), 3):
            index.add(vectors[part], ids[part])
        assert len(index) == N
        np.testing.assert_array_equal(index.ids, ids)
        np.testing.assert_array_equal(index.search(vectors[:8], k=5)[0], self.filled(vectors, ids).search(
            vectors[:8], k=5)[0])

    def test_save_load_round_trip_keeps_results_and_accepts_more_vectors(self, vectors, ids, tmp_path):
        index = self.filled(vectors[:50], ids[:50])
        index.save(tmp_path / "index")
        for loaded in (type(index).load(tmp_path / "index"), load_index(tmp_path / "index")):
            assert type(loaded) is type(index) and len(loaded) == 50 and loaded.metric == index.metric
            np.testing.assert_array_equal(loaded.ids, ids[:50])
            for got, want in zip(loaded.search(vectors[:6], k=7, exclude=ids[:2]),
                                 index.search(vectors[:6], k=7, exclude=ids[:2]), strict=True):
                np.testing.assert_array_equal(got, want)
        loaded.add(vectors[50:], ids[50:])
        np.testing.assert_array_equal(loaded.search(vectors[50:], k=1)[0][:, 0], ids[50:])

    def test_duplicate_ids_are_refused_and_leave_the_index_unchanged(self, vectors, ids):
        index = self.filled(vectors[:10], ids[:10])
        with pytest.raises(DataError, match=f"id {ids[3]} is already in the index"):
            index.add(vectors[10:12], np.array([ids[11], ids[3]]))
        with pytest.raises(DataError, match=f"id {ids[12]} appears twice"):
            index.add(vectors[10:13], np.array([ids[10], ids[12], ids[12]]))
        assert len(index) == 10
        index.add(vectors[10:], ids[10:])
        assert len(index) == N

    def test_nan_vector_is_refused_naming_its_id(self, vectors, ids):
        index = self.make_index()
        bad = vectors.copy()
        bad[4, 1] = np.nan
        with pytest.raises(DataError, match=f"row 5: vector for id {ids[4]} contains NaN"):
            index.add(bad, ids)
        assert len(index) == 0

    def test_wrong_dimension_and_unknown_ids_are_data_errors(self, vectors, ids):
        index = self.filled(vectors, ids)
        with pytest.raises(DataError, match="dimension 8"):
            index.add(np.ones((2, 8), dtype=np.float32), np.array([1, 2]))
        with pytest.raises(DataError, match="id 5 is not in the index"):
            index.get_vectors(np.array([ids[0], 5]))

    def test_k_must_be_a_positive_int(self, vectors, ids):
        with pytest.raises(ConfigError, match="The 'k' parameter of .*search must be an int >= 1. Got 0."):
            self.filled(vectors, ids).search(vectors[:1], k=0)

    def test_inner_product_metric_returns_raw_dot_products(self, vectors, ids):
        scaled = vectors * np.linspace(0.5, 2.0, N, dtype=np.float32)[:, None]
        queries = fake_embeddings(["q1", "q2"], DIM)
        found, sims = self.filled(scaled, ids, metric="ip").search(queries, k=5)
        expected_ids, expected_sims = brute_force(scaled, ids, queries, 5)
        np.testing.assert_array_equal(found, expected_ids)
        np.testing.assert_allclose(sims, expected_sims, atol=1e-5)

    def test_labeled_ids_excluded_over_three_rounds(self, vectors, ids):
        """SEALS-style: each round the best unlabeled neighbour of every labeled example gets labeled."""
        index, labeled = self.filled(vectors, ids), list(ids[:3])
        for _ in range(3):
            queries = index.get_vectors(np.array(labeled))
            found, _ = index.search(queries, k=2, exclude=np.array(labeled))
            expected, _ = brute_force(vectors, ids, queries, 2, labeled)
            np.testing.assert_array_equal(found, expected)
            assert not np.isin(found, labeled).any()
            labeled += [doc for doc in dict.fromkeys(found[:, 0].tolist()) if doc not in labeled]
        assert len(labeled) == len(set(labeled)) > 3


class TestExactIndex(IndexContract):
    def make_index(self, metric="cosine"):
        return ExactIndex(metric)


class TestHNSWIndex(IndexContract):
    def make_index(self, metric="cosine"):
        return HNSWIndex(metric, num_threads=1)

    def test_save_before_add_is_a_clear_error(self, tmp_path):
        with pytest.raises(DataError, match="empty"):
            HNSWIndex().save(tmp_path / "index")


@pytest.mark.parametrize("backend", ["hnsw", "exact"])
def test_build_index_makes_the_named_backend(vectors, ids, backend):
    index = build_index(vectors, ids, backend=backend)
    assert isinstance(index, {"hnsw": HNSWIndex, "exact": ExactIndex}[backend]) and len(index) == N


def test_build_index_rejects_unknown_backend_and_metric(vectors, ids):
    with pytest.raises(ConfigError, match="'backend' parameter of build_index must be 'hnsw' or 'exact'"):
        build_index(vectors, ids, backend="faiss")
    with pytest.raises(ConfigError, match="'metric' parameter of HNSWIndex must be one of"):
        build_index(vectors, ids, metric="l2")


def test_loading_where_no_index_was_saved_names_the_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"index\.json.*no index here"):
        load_index(tmp_path / "index")


def test_exact_search_in_blocks_of_queries_returns_the_brute_force_answer(vectors, ids, monkeypatch):
    """A large pool is searched a few queries at a time (a block of similarities stays small); the answers are the
    same as one search of every query."""
    import textsel.index

    index = build_index(vectors, ids, backend="exact")
    whole = index.search(vectors[:25], 7)
    monkeypatch.setattr(textsel.index, "_EXACT_BLOCK_VALUES", 3 * N)  # three queries per block
    blocked = index.search(vectors[:25], 7)
    assert np.array_equal(blocked[0], whole[0]) and np.allclose(blocked[1], whole[1])
    assert np.array_equal(blocked[0], brute_force(vectors, ids, vectors[:25], 7)[0])
