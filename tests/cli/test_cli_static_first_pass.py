"""A project with `[embeddings] first_pass = "static"`: `textsel embed` makes static vectors and the static index
(no transformer embedding of the pool), `textsel next` takes SEALS candidates from the static index and embeds only
labeled texts and candidates with the transformer, and every command either works or refuses in one line.

Fakes stand in for both models: hashed 8-dimensional static vectors and CountingEmbedder's 12-dimensional
"transformer" vectors, each counting the texts it was asked to embed."""

from __future__ import annotations

import numpy as np
import pytest
import tomllib
from conftest import CountingEmbedder, fake_embeddings, flat, overwrite_npy_rows
from test_cli_project import invoke, make_pool, write_labels

from textsel.concepts import concept_project
from textsel.diagnose import STATIC_RECOMMENDATION
from textsel.errors import ConfigError
from textsel.first_pass import static_k
from textsel.project import Project
from textsel.project_config import ProjectConfig

N = 1000  # static_k(1000) = 48: a few labels' neighbourhoods stay a small share of the pool


class FakeStatic:
    """A stand-in static embedder (no model2vec distillation): hashed unit vectors and a count of texts."""

    name = "fake-static-test-model"
    max_seq_length = None
    normalize = True

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts):  # noqa: ANN001, ANN201 - any sequence of str -> float32 array
        self.calls += len(texts)
        return fake_embeddings([f"static {text}" for text in texts], 8)


@pytest.fixture
def models(monkeypatch):
    """(static, transformer) fakes, the ones every Project in this test uses."""
    static, transformer = FakeStatic(), CountingEmbedder()
    monkeypatch.setattr(Project, "static_embedder", lambda self: static)
    monkeypatch.setattr(Project, "embedder", lambda self: transformer)
    return static, transformer


@pytest.fixture
def static_project(tmp_path, models):
    data, _ = make_pool(tmp_path, n=N, with_embeddings=False)
    result = invoke("init", tmp_path / "proj", "--data", data, "--text-col", "body", "--id-col", "doc_id",
                    "--labels", "broken,fine", "--first-pass", "static")
    assert result.exit_code == 0, result.output
    return tmp_path / "proj"


def seed(project, tmp_path, positives=(0, 4), negatives=(1, 2)):
    rows = [(500 + i, "broken") for i in positives] + [(500 + i, "fine") for i in negatives]
    result = invoke("import", write_labels(tmp_path / "seed.csv", rows), "-p", project)
    assert result.exit_code == 0, result.output


def last_round(project):
    with Project(project) as opened:
        return opened.store.rounds()[-1]


def label_pending(project, tmp_path):
    with Project(project) as opened:
        _, pending = opened.store.pending()
    rows = [(doc_id, "broken" if (doc_id - 500) % 4 == 0 else "fine") for doc_id in pending]
    assert invoke("import", write_labels(tmp_path / "batch.csv", rows), "-p", project).exit_code == 0
    return len(rows)


def test_the_setting_round_trips_and_bad_values_are_refused(tmp_path, models):
    config = ProjectConfig(source="pool.csv", first_pass="static")
    path = tmp_path / "textsel.toml"
    path.write_text(config.to_toml())
    assert tomllib.loads(path.read_text())["embeddings"]["first_pass"] == "static"
    assert ProjectConfig.from_toml(path) == config
    assert "first_pass" not in ProjectConfig(source="pool.csv").to_toml()  # absent: today's behaviour
    with pytest.raises(ConfigError, match="first_pass must be 'static' or absent"):
        ProjectConfig(source="pool.csv", first_pass="dynamic")
    with pytest.raises(ConfigError, match="precomputed"):
        ProjectConfig(source="pool.csv", first_pass="static", precomputed="emb.npy")
    data, _ = make_pool(tmp_path, n=20, with_embeddings=False)
    bad = invoke("init", tmp_path / "p", "--data", data, "--text-col", "body", "--first-pass", "fast")
    assert bad.exit_code == 2 and "must be static" in flat(bad.output) and not (tmp_path / "p").exists()


def test_init_embed_label_next_train_embeds_only_labeled_texts_and_candidates(static_project, tmp_path, models):
    static, transformer = models
    embedded = invoke("embed", "-p", static_project, "-q")
    assert embedded.exit_code == 0, embedded.output
    assert "Static first pass: 1,000 texts x 8 dimensions" in flat(embedded.output)
    assert static.calls == N and transformer.calls == 0  # no whole-pool transformer embedding
    cache = static_project / "cache"
    assert (cache / "index-static.hnsw").exists() and not (cache / "embeddings").exists()
    assert invoke("embed", "-p", static_project, "-q").exit_code == 0 and static.calls == N  # cached

    seed(static_project, tmp_path)
    first = invoke("next", "-n", "10", "-p", static_project, "-q")
    assert first.exit_code == 0, first.output
    assert "over the seals pool (k=48" in flat(first.output)
    record = last_round(static_project)
    assert record.params["first_pass"] == "static" and record.params["k"] == static_k(N)
    assert record.params["candidate_state"] == "new"
    # the transformer embedded the 4 labeled texts and the candidates scored, nothing else
    assert transformer.calls == 4 + record.candidate_pool_size == record.params["transformer_rows"] < N // 4
    assert (cache / f"candidates.static.k{static_k(N)}.npz").exists()
    assert not list(cache.glob("candidates.k*.npz"))  # never a transformer-space state

    before = transformer.calls
    label_pending(static_project, tmp_path)
    second = invoke("next", "-n", "10", "-p", static_project, "-q")
    assert second.exit_code == 0, second.output
    record = last_round(static_project)
    assert record.params["candidate_state"] == "restored" and record.params["neighbour_queries"] == 10
    # only texts no earlier run embedded reach the model: the per-text cache holds the rest
    assert transformer.calls - before == record.params["transformer_encoded"] < record.params["transformer_rows"]

    before = transformer.calls
    trained = invoke("train", "-p", static_project, "-q")
    assert trained.exit_code == 0, trained.output
    assert "on 14 labels" in trained.output and "not estimated over a static first pass" in flat(trained.output)
    assert transformer.calls == before  # the labeled texts' vectors come from the per-text cache
    with Project(static_project) as opened:
        assert opened.saved_model().embeddings["first_pass"] == "static"
        assert opened.trained_model().label_rows == 14  # the saved model is current, not retrained


def test_whole_pool_commands_are_refused_in_one_line(static_project, tmp_path, models):
    assert invoke("embed", "-p", static_project, "-q").exit_code == 0
    nothing_labeled = invoke("next", "-p", static_project, "-q")
    assert nothing_labeled.exit_code == 1 and "nothing is labeled yet" in nothing_labeled.output
    seed(static_project, tmp_path)
    cases = {("next", "--pool", "all"): "the 'all' candidate pool",
             ("next", "--strategy", "information-density"): "density",
             ("predict", "-o", tmp_path / "preds.parquet"): "predicting every text"}
    for args, expected in cases.items():
        result = invoke(*args, "-p", static_project)
        assert result.exit_code == 1, result.output
        assert result.output.startswith("Error: ") and len(result.output.strip().splitlines()) == 1, result.output
        assert expected in result.output
    assert not (tmp_path / "preds.parquet").exists() and not last_round_exists(static_project)
    assert invoke("concept", "add", "zips", "-p", static_project).exit_code == 0  # writes only its store
    with Project(static_project) as opened, pytest.raises(ConfigError, match="one project per concept"):
        concept_project(opened, "zips")
    pytest.importorskip("ray")
    ray = invoke("embed", "--engine", "ray", "-p", static_project, "-q")
    assert ray.exit_code == 1 and "without --engine ray" in ray.output


def last_round_exists(project):
    with Project(project) as opened:
        return bool(opened.store.rounds())


def test_search_status_diagnose_audit_remove_and_add_work_in_static_space(static_project, tmp_path, models):
    static, transformer = models
    assert invoke("embed", "-p", static_project, "-q").exit_code == 0
    found = invoke("search", "zipper broke", "-n", "3", "-p", static_project, "-q")
    assert found.exit_code == 0 and "Nearest to" in found.output
    seed(static_project, tmp_path, positives=range(0, 40, 4), negatives=[i for i in range(1, 40) if i % 4][:20])
    with Project(static_project) as opened:
        diagnosis = opened.diagnose()  # hashed static vectors do not cluster the class
        assert diagnosis.mismatch and diagnosis.recommendation == STATIC_RECOMMENDATION
    status = invoke("status", "-p", static_project)
    assert status.exit_code == 0 and "in the static first pass's space" in flat(status.output)
    assert invoke("audit", "--n", "5", "-p", static_project).exit_code == 0
    label_pending(static_project, tmp_path)
    removed = invoke("remove", "--ids", "503,507", "-p", static_project)
    assert removed.exit_code == 0, removed.output
    with Project(static_project) as opened:
        assert set(opened.index().deleted_ids) == {503, 507}  # marked in the static index
    table = invoke("index", "-p", static_project, "-q")  # the neighbour table of the static index
    assert table.exit_code == 0 and "Static index (the first pass): 1,000 vectors" in flat(table.output)
    assert invoke("next", "-n", "50", "-p", static_project, "-q").exit_code == 0
    assert not {503, 507} & set(last_round(static_project).doc_ids)
    assert last_round(static_project).params["neighbours_from"] == "table"

    extra = tmp_path / "extra.csv"
    write_labels(extra, [(5000 + i, f"a new review about zippers {i}") for i in range(5)], header=("doc_id", "body"))
    calls = transformer.calls
    added = invoke("add", extra, "-p", static_project, "-q")
    assert added.exit_code == 0 and "static index grown" in flat(added.output)
    assert transformer.calls == calls  # new texts get static vectors only
    with Project(static_project) as opened:
        assert len(opened.index()) == N + 5 and 5004 in opened.index().search(
            fake_embeddings(["static a new review about zippers 4"], 8), 1)[0][0]


def test_a_damaged_static_cache_is_a_clear_error(static_project, tmp_path, models):
    assert invoke("embed", "-p", static_project, "-q").exit_code == 0
    seed(static_project, tmp_path)
    [vectors] = (static_project / "cache" / "static-embeddings").glob("embeddings-*/embeddings.npy")
    overwrite_npy_rows(vectors, lambda rows: rows.__setitem__(slice(0, 3), 0.5))
    result = invoke("next", "-p", static_project, "-q")
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1, result.output
    assert "checksum" in result.output and "embeddings.npy" in result.output


def test_ctrl_c_during_the_static_embedding_says_what_was_saved_and_a_rerun_resumes(static_project, models,
                                                                                    monkeypatch):
    import functools

    import textsel.embed as embed_module

    static, _ = models
    monkeypatch.setattr(embed_module, "embed_pool_with_record",
                        functools.partial(embed_module.embed_pool_with_record, chunk_size=100))
    encode = FakeStatic.encode

    def interrupted(self, texts):  # noqa: ANN001, ANN202
        if self.calls == 200:
            raise KeyboardInterrupt
        return encode(self, texts)

    monkeypatch.setattr(FakeStatic, "encode", interrupted)
    stopped = invoke("embed", "-p", static_project, "-q")
    assert stopped.exit_code == 130 and "200 of 1,000 embeddings are saved" in flat(stopped.output)
    monkeypatch.setattr(FakeStatic, "encode", encode)
    resumed = invoke("embed", "-p", static_project, "-q")
    assert resumed.exit_code == 0 and static.calls == N  # the 800 rows not saved, nothing twice


def test_static_features_run_next_all_train_and_predict_without_the_transformer(tmp_path, models):
    static, transformer = models
    data, _ = make_pool(tmp_path, n=N, with_embeddings=False)
    project = tmp_path / "proj"
    made = invoke("init", project, "--data", data, "--text-col", "body", "--id-col", "doc_id", "--labels",
                  "broken,fine", "--first-pass", "static", "--features", "static")
    assert made.exit_code == 0, made.output
    assert tomllib.loads((project / "textsel.toml").read_text())["features"]["kind"] == "static"
    assert invoke("embed", "-p", project, "-q").exit_code == 0
    written = project / "cache" / "static-embeddings" / "static.float32.npy"
    assert np.load(written).dtype == np.float32  # the classifier's float32 rows: written by embed, a one-time cost
    stamp = written.stat().st_mtime_ns
    seed(project, tmp_path)
    for pool in ("auto", "all"):
        result = invoke("next", "-n", "10", "--pool", pool, "-p", project, "-q")
        assert result.exit_code == 0, result.output
        assert last_round(project).params["features"] == "static"
        label_pending(project, tmp_path)
    assert last_round(project).candidate_pool_size > N // 2  # the full scan of the static vectors
    assert written.stat().st_mtime_ns == stamp  # read by every round, written once
    assert invoke("train", "-p", project, "-q").exit_code == 0
    predicted = invoke("predict", "-o", tmp_path / "preds.csv", "-p", project, "-q")
    assert predicted.exit_code == 0, predicted.output
    assert len((tmp_path / "preds.csv").read_text().splitlines()) == N + 1
    assert transformer.calls == 0 and static.calls == N  # the transformer never ran
    bad = invoke("init", tmp_path / "p2", "--data", data, "--text-col", "body", "--features", "static")
    assert bad.exit_code != 0 and "first_pass" in flat(bad.output) and not (tmp_path / "p2").exists()
