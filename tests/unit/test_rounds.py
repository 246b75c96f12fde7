"""Round engine and simulation loop: determinism, ids not positions, multi-class, text learners, bad input."""

import numpy as np
import pytest

from textsel.candidates import AllCandidates, RandomCandidates, SEALSCandidates
from textsel.errors import ConfigError, DataError, PoolExhaustedError
from textsel.index import ExactIndex
from textsel.learner import LogisticLearner
from textsel.rounds import RoundEngine, select_batch
from textsel.simulate import HeldOut, run_simulation
from textsel.strategies import STRATEGIES, register_strategy


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n = 600
    labels = (np.arange(n) % 20 == 0).astype(int)  # 5% positives, clustered around one direction
    features = rng.normal(size=(n, 8)) + 2.5 * labels[:, None] * np.eye(8)[0]
    ids = np.arange(n, dtype=np.int64)[::-1] * 7 + 11  # unsorted, not positions
    index = ExactIndex()
    index.add(features.astype(np.float32), ids)
    return ids, features.astype(np.float32), labels, index


def seed_labels(ids, labels):
    chosen = np.r_[np.flatnonzero(labels)[:3], np.flatnonzero(labels == 0)[:17]]
    return {int(ids[i]): int(labels[i]) for i in chosen}


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_every_strategy_is_deterministic_and_returns_unlabeled_pool_ids(data, strategy):
    ids, features, labels, index = data
    seed = seed_labels(ids, labels)
    results = [RoundEngine(ids, SEALSCandidates(index, k=10), features=features, strategy=strategy, batch_size=7,
                           index=index, seed=4).select_batch(seed) for _ in range(2)]
    assert results[0].ids.tolist() == results[1].ids.tolist()
    assert len(results[0].ids) == 7 and len(set(results[0].ids.tolist())) == 7
    assert not set(results[0].ids.tolist()) & set(seed) and set(results[0].ids.tolist()) <= set(ids.tolist())
    assert 0 < results[0].pool_fraction < 1 and results[0].unlabeled_size == len(ids) - len(seed)


def test_select_batch_function_matches_engine(data):
    ids, features, labels, index = data
    seed = seed_labels(ids, labels)
    engine = RoundEngine(ids, AllCandidates(), features=features, strategy="mlp", batch_size=5)
    one_shot = select_batch(ids, features, seed, AllCandidates(), "mlp", LogisticLearner(), 5, 0)
    assert one_shot.ids.tolist() == engine.select_batch(seed).ids.tolist()
    assert one_shot.candidate_pool_size == len(ids) - len(seed) and one_shot.pool_fraction == 1.0
    assert one_shot.select_seconds > 0 and one_shot.train_seconds > 0


def test_mlp_finds_positives(data):
    ids, features, labels, index = data
    result = RoundEngine(ids, AllCandidates(), features=features, strategy="mlp", batch_size=10).select_batch(
        seed_labels(ids, labels))
    truth = dict(zip(ids.tolist(), labels.tolist(), strict=True))
    assert sum(truth[i] for i in result.ids.tolist()) >= 5


def test_multiclass_rounds(data):
    ids, features, _, index = data
    classes = np.asarray(["a", "b", "c"])[np.argmax(features[:, :3], axis=1)]
    labeled = {int(i): str(c) for i, c in zip(ids[:30], classes[:30], strict=True)}
    for strategy in ("maxent", "margin", "least-confidence", "random"):
        result = RoundEngine(ids, RandomCandidates(100, seed=1), features=features, strategy=strategy,
                             batch_size=4).select_batch(labeled)
        assert len(result.ids) == 4 and result.candidate_pool_size == 100
    with pytest.raises(ConfigError, match="positive_label"):
        RoundEngine(ids, AllCandidates(), features=features, strategy="mlp").select_batch(labeled)
    result = RoundEngine(ids, AllCandidates(), features=features, strategy="mlp", positive_label="b",
                         batch_size=3).select_batch(labeled)
    assert len(result.ids) == 3


class TextLengthLearner:
    """A learner on texts: probability of class 1 grows with text length."""

    input = "texts"

    def fit(self, texts, labels):
        self.classes_ = np.unique(labels)
        self.seen_ = list(texts)
        return self

    def predict_proba(self, texts):
        p = np.array([min(len(t) / 10, 1.0) for t in texts])
        return np.column_stack([1 - p, p])


def test_text_learners_get_texts(data):
    ids, _, labels, _ = data
    texts = ["x" * (i % 10) for i in range(len(ids))]
    learner = TextLengthLearner()
    engine = RoundEngine(ids, AllCandidates(), texts=texts, strategy="mlp", learner=learner, batch_size=3)
    seed = seed_labels(ids, labels)
    result = engine.select_batch(seed)
    assert all(isinstance(t, str) for t in learner.seen_) and len(learner.seen_) == len(seed)
    position = {int(i): p for p, i in enumerate(ids)}
    assert all(len(texts[position[i]]) == 9 for i in result.ids.tolist())


def test_bad_input_gives_clear_errors(data):
    ids, features, labels, index = data
    seed = seed_labels(ids, labels)
    engine = RoundEngine(ids, AllCandidates(), features=features, classes=[0, 1])
    with pytest.raises(DataError, match="label 7 of id .* not one of the allowed labels"):
        engine.select_batch({**seed, int(ids[100]): 7})
    with pytest.raises(DataError, match="id 5 is not in the pool"):
        engine.select_batch({**seed, 5: 0})
    with pytest.raises(DataError, match="at least two classes"):
        engine.select_batch({int(ids[1]): 0, int(ids[2]): 0})
    with pytest.raises(ConfigError, match="'strategy' parameter"):
        RoundEngine(ids, AllCandidates(), features=features, strategy="best").select_batch(seed)
    with pytest.raises(ConfigError, match="'batch_size' parameter of RoundEngine"):
        RoundEngine(ids, AllCandidates(), features=features, batch_size=0).select_batch(seed)
    with pytest.raises(ConfigError, match="needs an index"):
        RoundEngine(ids, AllCandidates(), features=features, strategy="id").select_batch(seed)
    with pytest.raises(DataError, match="'features' has 5 rows"):
        RoundEngine(ids, AllCandidates(), features=features[:5]).select_batch(seed)
    small = ids[:4]
    everything = {int(i): int(n % 2) for n, i in enumerate(small)}
    with pytest.raises(PoolExhaustedError, match="no unlabeled candidates"):
        RoundEngine(small, AllCandidates(), features=features[:4]).select_batch(everything)
    with pytest.raises(PoolExhaustedError, match="nothing is labeled yet"):
        RoundEngine(ids, SEALSCandidates(index), features=features, strategy="random").select_batch({})


def test_random_strategy_needs_no_labels_to_start(data):
    ids, features, _, _ = data
    result = RoundEngine(ids, AllCandidates(), features=features, strategy="random", batch_size=5).select_batch({})
    assert len(result.ids) == 5 and result.train_seconds == 0.0 and result.scores is None


def test_run_simulation_records_and_determinism(data):
    ids, features, labels, index = data
    heldout = HeldOut(labels[::3], features[::3])

    def run(seed):
        return run_simulation(ids, labels, features=features, heldout=heldout, strategy="maxent",
                              candidate_pool=SEALSCandidates(index, k=20), batch_size=10, budget=55,
                              seed_positives=2, seed_negatives=8, seed=seed, index=index)

    records = run(3)
    assert [r["labels"] for r in records] == [10, 20, 30, 40, 50, 55]
    assert records[-1]["candidate_pool_size"] is None and records[0]["pool_fraction"] < 1
    assert records[0]["positives_found"] == 2 and 0 <= records[-1]["recall"] <= 1
    assert all(0 <= r["average_precision"] <= 1 for r in records)
    strip = [{k: v for k, v in r.items() if "seconds" not in k} for r in records]
    assert strip == [{k: v for k, v in r.items() if "seconds" not in k} for r in run(3)]


def test_run_simulation_bad_budget_and_empty_pool(data):
    ids, features, labels, _ = data
    with pytest.raises(ConfigError, match="at least the seed size"):
        run_simulation(ids, labels, features=features, budget=50)
    with pytest.raises(DataError, match="pool is empty"):
        run_simulation(ids[:0], labels[:0], features=features[:0])
    with pytest.raises(DataError, match="positives"):
        run_simulation(ids, labels, features=features, seed_positives=100)


def test_fasttext_proxy_drives_a_seals_round(data):
    from textsel.proxy import FastTextProxy

    ids, features, labels, index = data
    texts = [f"rare gadget widget {i}" if y else f"plain common item {i % 50}" for i, y in enumerate(labels)]
    engine = RoundEngine(ids, SEALSCandidates(index, k=20), features=features, texts=texts, strategy="mlp",
                         learner=FastTextProxy(bucket=10_000, threads=1, epoch=20), batch_size=10, seed=0)
    result = engine.select_batch(seed_labels(ids, labels))
    truth = dict(zip(ids.tolist(), labels.tolist(), strict=True))
    assert len(result.ids) == 10 and sum(truth[i] for i in result.ids.tolist()) >= 5


def test_a_registered_strategy_runs_in_the_engine_with_the_inputs_it_declares(data):
    ids, features, labels, index = data
    seen = {}

    def least_likely_positive(candidates, k, *, probabilities, positive_column, rng, **rest):
        seen.update(rest, probabilities=probabilities.shape, positive_column=positive_column)
        order = np.argsort(probabilities[:, positive_column], kind="stable")[:k]
        return candidates[order], probabilities[order, positive_column]

    register_strategy("least-likely-positive", least_likely_positive, needs={"probabilities", "positive_column"},
                      aliases=("llp",))
    try:
        seed = seed_labels(ids, labels)
        result = RoundEngine(ids, AllCandidates(), features=features, strategy="llp", batch_size=4).select_batch(seed)
    finally:
        del STRATEGIES._strategies["least-likely-positive"], STRATEGIES.aliases["llp"]
    assert seen == {"probabilities": (len(ids) - len(seed), 2), "positive_column": 1}  # nothing it did not ask for
    assert len(result.ids) == 4 and np.all(np.diff(result.scores) >= 0) and not set(result.ids.tolist()) & set(seed)


@pytest.mark.parametrize(("old", "new"), sorted(STRATEGIES.aliases.items()))
def test_old_strategy_names_select_what_the_new_names_select(data, old, new):
    ids, features, labels, index = data
    seed = seed_labels(ids, labels)
    picks = [RoundEngine(ids, SEALSCandidates(index, k=10), features=features, strategy=name, batch_size=5,
                         index=index).select_batch(seed).ids.tolist() for name in (old, new)]
    assert picks[0] == picks[1] and len(picks[0]) == 5


def test_one_random_stream_fit_only_when_needed_and_candidate_probabilities(data):
    ids, features, labels, index = data
    seed = seed_labels(ids, labels)

    class CountingLearner(LogisticLearner):
        fits = 0

        def fit(self, features, labels):  # noqa: ANN001, ANN206
            CountingLearner.fits += 1
            return super().fit(features, labels)

    picks = [RoundEngine(ids, AllCandidates(), features=features, strategy="random", batch_size=5,
                         rng=np.random.default_rng(9), learner=CountingLearner(),
                         fit_every_round=False).select_batch(seed).ids.tolist() for _ in range(2)]
    assert picks[0] == picks[1] and CountingLearner.fits == 0  # random needs no model: none trained
    stream = np.random.default_rng(9)
    engine = RoundEngine(ids, AllCandidates(), features=features, strategy="random", batch_size=5, rng=stream)
    assert engine.select_batch(seed).ids.tolist() == picks[0]
    assert engine.select_batch(seed).ids.tolist() != picks[0]  # the next round draws on from the same stream
    result = RoundEngine(ids, AllCandidates(), features=features, batch_size=5).select_batch(seed)
    assert result.probabilities.shape == (len(result.candidates), 2) == (len(ids) - len(seed), 2)


def test_selection_result_gives_each_candidates_positive_probability(data):
    ids, features, labels, index = data
    seed = seed_labels(ids, labels)
    engine = RoundEngine(ids, AllCandidates(), features=features, strategy="most-likely-positive", batch_size=5)
    result = engine.select_batch(seed)
    assert result.classes.tolist() == [0, 1]
    by_id = result.positive_probabilities(1)
    assert set(by_id) == set(result.ids.tolist())  # the shown rows only (issue 22)
    assert set(result.positive_probabilities(1, result.candidates[::-1])) == set(result.candidates.tolist())
    expected = engine.learner_.predict_proba(features[engine.positions(result.ids)])[:, 1]
    assert np.allclose([by_id[i] for i in result.ids.tolist()], expected)
    assert np.allclose([by_id[i] for i in result.ids.tolist()], result.scores)  # most-likely-positive's score
    assert result.positive_probabilities("spam") == {}
    random = RoundEngine(ids, AllCandidates(), features=features, strategy="random", batch_size=5,
                         fit_every_round=False).select_batch(seed)
    assert random.probabilities is None and random.positive_probabilities(1) == {}


class _RowCountingProbabilities:
    """Class probabilities that refuse to be read whole and count the rows read (issue 22)."""

    def __init__(self, values: np.ndarray) -> None:
        self.values, self.rows_read = values, 0
        self.shape = values.shape

    def __array__(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN204
        raise AssertionError("every candidate's probabilities were read")

    def __getitem__(self, key):  # noqa: ANN001, ANN204
        rows = np.atleast_1d(key[0])
        self.rows_read += len(rows)
        return self.values[key]


def test_positive_probabilities_read_only_the_shown_rows():
    from textsel.rounds import SelectionResult

    candidates = np.arange(0, 2_000_000, 2, dtype=np.int64)
    values = np.column_stack([1 - candidates / 2e6, candidates / 2e6])
    probabilities = _RowCountingProbabilities(values)
    shown = np.array([1_999_998, 4, 1_000_000], dtype=np.int64)
    result = SelectionResult(ids=shown, scores=None, candidate_pool_size=len(candidates),
                             unlabeled_size=len(candidates), select_seconds=0.0, train_seconds=0.0,
                             candidates=candidates, probabilities=probabilities, classes=np.array([0, 1]))
    by_id = result.positive_probabilities(1)
    assert by_id == {int(i): i / 2e6 for i in shown} and probabilities.rows_read == 3
    assert result.positive_probabilities(1, [5]) == {}  # not a candidate


class _RowCountingFeatures(np.ndarray):
    """float16 features that count the rows read through fancy indexing (issue 22)."""

    rows_read = 0

    def __getitem__(self, key):  # noqa: ANN001, ANN204
        if isinstance(key, np.ndarray) and key.ndim == 1:
            type(self).rows_read += len(key)
        return np.asarray(self).__getitem__(key)


def test_a_seals_round_reads_only_the_rows_of_new_candidates():
    rng = np.random.default_rng(0)
    n = 3_000
    features = rng.normal(size=(n, 16)).astype(np.float16).view(_RowCountingFeatures)
    ids = np.arange(n, dtype=np.int64)
    index = ExactIndex()
    index.add(np.asarray(features, np.float32), ids)
    labels = {int(i): int(i % 4 == 0) for i in range(0, 40, 2)}
    engine = RoundEngine(ids, SEALSCandidates(index, k=20), features=features, strategy="entropy", batch_size=10)
    first = engine.select_batch(labels)
    held = len(engine.candidate_rows)
    plain = RoundEngine(ids, SEALSCandidates(index, k=20), features=np.asarray(features), strategy="entropy",
                        batch_size=10, candidate_rows=None)
    for doc_id in first.ids.tolist():
        labels[doc_id] = int(doc_id % 4 == 0)
    _RowCountingFeatures.rows_read = 0
    second = engine.select_batch(labels)
    new_rows = len(engine.candidate_rows) - held
    # training reads the labeled rows; scoring only the candidates not held before
    assert _RowCountingFeatures.rows_read == len(labels) + new_rows < second.candidate_pool_size
    assert np.array_equal(second.ids, plain.select_batch(labels).ids)  # the same selection as gathering every row


@pytest.mark.parametrize("pool_ids", [np.arange(10, 60), np.arange(10, 110, 2), np.arange(60, 10, -1)])
def test_positions_of_contiguous_sorted_and_unsorted_ids_agree_and_refuse_unknown_ids(pool_ids):
    """Contiguous ids (as a project numbers its texts) take positions by arithmetic, others by search: the same
    answers, and the same error for an id outside the pool."""
    engine = RoundEngine(pool_ids, AllCandidates(), features=np.ones((len(pool_ids), 2), dtype=np.float32))
    asked = pool_ids[[3, 0, len(pool_ids) - 1, 7]]
    assert engine.positions(asked).tolist() == [3, 0, len(pool_ids) - 1, 7]
    for unknown in (9, 200, int(pool_ids.max()) + 1):
        with pytest.raises(DataError, match=f"id {unknown} is not in the pool"):
            engine.positions(np.asarray([int(pool_ids[0]), unknown]))
