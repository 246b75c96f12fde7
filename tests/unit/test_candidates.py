"""Candidate pools: the SEALS pool is exactly the union of kNN of labeled ids minus the labeled ids."""

import numpy as np
import pytest

from textsel.candidates import AllCandidates, RandomCandidates, SEALSCandidates, make_candidate_pool, sorted_union
from textsel.errors import ConfigError
from textsel.index import ExactIndex


@pytest.fixture
def pool():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(400, 8)).astype(np.float32)
    ids = np.arange(400, dtype=np.int64) * 5 + 3  # ids are not positions
    index = ExactIndex()
    index.add(vectors, ids)
    return vectors, ids, index


def brute_force_neighbours(vectors, ids, labeled, k):
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    positions = np.searchsorted(ids, labeled)
    sims = unit[positions] @ unit.T
    nearest = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return set(ids[nearest].ravel().tolist())


def test_seals_pool_equals_exact_union_minus_labeled_over_rounds(pool):
    vectors, ids, index = pool
    rng = np.random.default_rng(1)
    candidate_pool = SEALSCandidates(index, k=6)
    labeled = list(rng.choice(ids, 5, replace=False).tolist())
    for _ in range(12):
        result = candidate_pool.candidates(ids, np.array(labeled))
        expected = brute_force_neighbours(vectors, ids, np.array(labeled), 6) - set(labeled)
        assert set(result.tolist()) == expected
        assert not set(result.tolist()) & set(labeled)
        assert candidate_pool.size == len(result)
        assert (np.diff(result) > 0).all()
        # Next batch: label some candidates (as a strategy would) and one document from outside the pool.
        outside = rng.choice(np.setdiff1d(ids, np.concatenate([result, labeled])), 1)
        labeled += rng.choice(result, 3, replace=False).tolist() + outside.tolist()


def test_fresh_pool_replaying_all_labels_equals_incremental(pool):
    _, ids, index = pool
    incremental = SEALSCandidates(index, k=5)
    labeled = []
    for batch in np.array_split(ids[::37], 4):
        labeled += batch.tolist()
        incremental.update(batch)
    replayed = SEALSCandidates(index, k=5)
    assert replayed.candidates(ids, labeled).tolist() == incremental.candidates(ids, labeled).tolist()


def test_all_candidates_is_every_unlabeled_id_sorted():
    pool_ids = np.array([30, 10, 20, 50, 40])
    candidates = AllCandidates().candidates(pool_ids, np.array([20, 99]))
    assert candidates.tolist() == [10, 30, 40, 50]
    assert AllCandidates().candidates(np.array([1, 2, 3]), []).tolist() == [1, 2, 3]


def test_random_candidates_are_fresh_deterministic_and_unlabeled():
    pool_ids = np.arange(1000)
    labeled = np.arange(0, 1000, 2)
    first = RandomCandidates(50, seed=3).candidates(pool_ids, labeled)
    assert len(first) == 50 and not np.isin(first, labeled).any()
    assert first.tolist() == RandomCandidates(50, seed=3).candidates(pool_ids, labeled).tolist()
    other_round = RandomCandidates(50, seed=3).candidates(pool_ids, labeled[:-1])
    assert first.tolist() != other_round.tolist()
    assert len(RandomCandidates(5000).candidates(pool_ids, labeled)) == 500


def test_bad_parameters_raise_config_errors(pool):
    _, ids, index = pool
    with pytest.raises(ConfigError, match="'k' parameter of SEALSCandidates must be an int >= 1. Got 0"):
        SEALSCandidates(index, k=0).update(ids[:2])
    with pytest.raises(ConfigError, match="'m' parameter of RandomCandidates"):
        RandomCandidates(0).candidates(ids, [])
    with pytest.raises(ConfigError, match="index"):
        make_candidate_pool("seals")
    with pytest.raises(ConfigError, match="one of"):
        make_candidate_pool("everything")
    assert isinstance(make_candidate_pool("seals", index=index, k=3), SEALSCandidates)


def test_seals_queries_use_a_search_width_of_k_unless_told():
    class RecordingIndex(ExactIndex):
        def search(self, queries, k, exclude=None, *, ef=None):
            self.widths.append(ef)
            return super().search(queries, k, exclude, ef=ef)

    index = RecordingIndex()
    index.widths = []
    index.add(np.eye(4, dtype=np.float32), np.array([10, 11, 12, 13]))
    SEALSCandidates(index, k=2).candidates(index.ids, [10])
    SEALSCandidates(index, k=2, ef=64).candidates(index.ids, [11])
    assert index.widths == [2, 64]


def test_auto_k_never_falls_below_the_floor_that_keeps_positives():
    from textsel.candidates import AUTO_K_FLOOR, auto_k, scaled_k

    assert AUTO_K_FLOOR == 100  # k=16 lost 8-28% of a scan's positives on tweets (issue 21); k=100 none
    assert [auto_k(n) for n in (1_000, 25_000, 100_000, 1_000_000, 10_000_000)] == [100] * 5
    assert [scaled_k(n) for n in (1_000, 25_000, 100_000, 1_000_000, 10_000_000)] == [16, 16, 32, 100, 100]


def test_auto_scans_small_pools_and_uses_seals_where_the_cost_model_says_it_pays():
    from textsel.candidates import PoolChoice, choose_pool

    common = {"n_labeled": 200, "n_new_labels": 20, "n_known_candidates": 15_000}
    small = choose_pool("auto", n_docs=5_000, neighbours="table", k=100, **common)
    assert small.name == "all" and small.k == 100 and "scanning 4,800 texts" in small.reason
    large = choose_pool("auto", n_docs=1_000_000, neighbours="table", k=100, **common)
    assert large.name == "seals" and large.k == 100 and "neighbour table" in large.reason
    # without a table SEALS must load the whole graph, which costs more than scanning: scan
    assert choose_pool("auto", n_docs=1_000_000, neighbours="index", k=100, **common).name == "all"
    assert choose_pool("auto", n_docs=1_000_000, neighbours="loaded", k=100, **common).name == "seals"
    first = choose_pool("auto", n_docs=1_000_000, n_labeled=0, n_new_labels=0, n_known_candidates=0, k=100)
    assert first.name == "all" and "nothing is labeled" in first.reason
    assert choose_pool("seals", n_docs=50, k=7, **common) == PoolChoice("seals", 7, "requested")
    with pytest.raises(ConfigError):
        choose_pool("everything", n_docs=50, k=7, **common)


def test_auto_never_trades_positives_for_milliseconds():
    from textsel.candidates import choose_pool

    # 14k tweets with a neighbour table: SEALS is predicted cheaper, but saves milliseconds, so scan
    tweets = choose_pool("auto", n_docs=14_000, n_labeled=600, n_new_labels=20, n_known_candidates=3_000,
                         k=100, neighbours="table")
    assert tweets.name == "all" and "SEALS would save under" in tweets.reason
    # a million texts: the saving is one a person notices, and k stays at the floor
    large = choose_pool("auto", n_docs=1_000_000, n_labeled=600, n_new_labels=20, n_known_candidates=30_000,
                        k=100, neighbours="table")
    assert large.name == "seals" and large.k == 100


def test_sorted_union_is_numpys_union_of_a_sorted_pool_and_new_ids():
    rng = np.random.default_rng(0)
    for _ in range(300):
        held = np.unique(rng.integers(0, 500, rng.integers(0, 40)))
        more = rng.integers(0, 500, rng.integers(0, 40))  # repeats, unsorted, some already held
        merged = sorted_union(held, more)
        assert merged.dtype == np.int64 and np.array_equal(merged, np.union1d(held, more))
    assert np.array_equal(sorted_union(np.array([1, 5], dtype=np.int64), np.array([5, 1])), [1, 5])


def test_auto_weighs_a_cheaper_scan_and_the_k_it_is_given():
    """Static features: a scan reads float32 static rows (STATIC_SCAN_S_PER_DOC), so at 1.1M texts SEALS at k=300
    saves too little to be worth its missed positives; at 10M it pays again."""
    from textsel.candidates import STATIC_SCAN_S_PER_DOC, choose_pool

    common = {"n_labeled": 2_000, "n_new_labels": 20, "n_known_candidates": 280_000, "k": 100,
              "neighbours": "table", "seals_k": 300, "scan_s_per_doc": STATIC_SCAN_S_PER_DOC}
    million = choose_pool("auto", n_docs=1_100_000, **common)
    assert million.name == "all" and million.k == 300 and "scanning 1,098,000 texts" in million.reason
    assert choose_pool("auto", n_docs=10_000_000, **common).name == "seals"
    dense = {**common, "scan_s_per_doc": 5e-7}  # the float16 MiniLM scan: SEALS pays at 1.1M
    assert choose_pool("auto", n_docs=1_100_000, **dense).name == "seals"
