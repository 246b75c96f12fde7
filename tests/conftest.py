"""Shared fixtures: offline Hugging Face, paths to the real data in ../shared/data, a fake embedder."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
FIXTURES = REPO / "data" / "fixtures"


def shared_dataset(name: str) -> Path:
    """Path of ../shared/data/<name>, or skip the test when it is absent."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"real data set {name!r} not present at {path}")
    return path


def fake_embeddings(texts: list[str], dim: int = 16) -> np.ndarray:
    """Deterministic unit vectors from text hashes: tests of later stages need no model."""
    rows = []
    for text in texts:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        rows.append(np.random.default_rng(seed).normal(size=dim))
    vectors = np.asarray(rows, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def overwrite_npy_rows(path: Path, change) -> None:  # noqa: ANN001 - change: a function of the memmap
    """Apply ``change`` to the rows of an .npy file in place (the header stays), as a disk fault or an edit would.

    The modification time moves on as it would for any later edit: a test can outrun the file system's clock tick,
    and caches trust an unchanged size and mtime without re-hashing.
    """
    before = os.stat(path).st_mtime_ns
    vectors = np.lib.format.open_memmap(path, mode="r+")
    change(vectors)
    vectors.flush()
    del vectors
    if os.stat(path).st_mtime_ns == before:
        os.utime(path, ns=(before, before + 1_000_000))


def save_tiny_bert(path: Path, words: list[str]) -> Path:
    """A randomly initialised 2-layer BERT (hidden 32) and its word-piece tokenizer over ``words``, saved in
    ``path`` like a hub checkpoint (safetensors): a model that loads offline in well under a second."""
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    vocab = {token: index for index, token in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words])}
    BertTokenizerFast(vocab=vocab).save_pretrained(path)
    config = BertConfig(vocab_size=len(words) + 5, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64)
    BertForSequenceClassification(config).save_pretrained(path)
    return path


@pytest.fixture(autouse=True)
def private_textsel_home(tmp_path_factory, monkeypatch):
    """Machine-wide caches (the per-text embedding cache) go to a folder of each test's own, never ~/.cache."""
    monkeypatch.setenv("TEXTSEL_HOME", str(tmp_path_factory.mktemp("textsel-home")))


@pytest.fixture(scope="session")
def local_ray():
    """One local Ray instance with 2 CPUs for the whole test session (starting Ray costs 10-30 s); skips without
    the ray extra."""
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models run fastest on one thread; on a busy machine extra threads mostly wait on each other."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def flat(output: str) -> str:
    """CLI output with rich's line wrapping undone (runs of whitespace made one space), for substring checks."""
    return " ".join(output.split())


def precomputed_project(tmp_path: Path, texts: list[str], ids: list[int], labels: list[str], *,
                        dtype=np.float32, backend: str = "exact",
                        features: str = "dense") -> tuple[Path, np.ndarray]:  # noqa: ANN001
    """A project over a CSV pool (columns doc_id, body) with fake precomputed embeddings of ``dtype`` whose
    classifier reads ``features`` (dense by default: the fake vectors are what the tests check); returns the
    project folder and the vectors as saved."""
    import csv

    from textsel.project import init_project

    data = tmp_path / "pool.csv"
    with open(data, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["doc_id", "body"])
        writer.writerows(zip(ids, texts, strict=True))
    vectors = fake_embeddings(texts, 8).astype(dtype)
    np.save(tmp_path / "emb.npy", vectors)
    init_project(tmp_path / "proj", data=str(data), text_col="body", id_col="doc_id", labels=labels,
                 embeddings=str(tmp_path / "emb.npy"), backend=backend, features=features).close()
    return tmp_path / "proj", vectors


class CountingEmbedder:
    """A stand-in embedding model: fake vectors (dimension 12) and a count of the texts it was asked to embed."""

    name = "counting-test-model"
    max_seq_length = 64
    normalize = True

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts):  # noqa: ANN001, ANN201 - any sequence of str -> float32 array
        self.calls += len(texts)
        return fake_embeddings(list(texts), 12)


def project_parts(folder: Path, texts: list[str], *, labels: tuple[str, ...] = ("gears", "fabric"),
                  embedder=None):  # noqa: ANN001, ANN201 - a stand-in embedding model; a namespace of parts
    """The parts of a project (textsel.project.*) composed by hand over a fresh store, without ``Project``: a CSV
    pool of ``texts`` (ids 10, 20, ...) and a CountingEmbedder unless ``embedder`` is given. Close ``parts.store``."""
    import csv
    from types import SimpleNamespace

    from textsel.project.corpus import Corpus
    from textsel.project.labels import Labels
    from textsel.project.model import Model
    from textsel.project.rounds import Rounds
    from textsel.project.vectors import Vectors
    from textsel.project_config import ProjectConfig
    from textsel.store import Store

    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "pool.csv"
    with open(data, "w", newline="") as handle:
        csv.writer(handle).writerows([["id", "text"], *([10 * (i + 1), text] for i, text in enumerate(texts))])
    config = ProjectConfig(source=str(data), id_col="id", labels=list(labels), backend="exact", k=4)
    store, cache_dir = Store(folder / "textsel.db", create=True), folder / "cache"
    model_made = embedder or CountingEmbedder()
    corpus = Corpus(config, store, cache_dir)
    vectors = Vectors(config, store, cache_dir, corpus, embedder=lambda: model_made)
    model = Model(config, store, cache_dir, corpus, vectors, project_dir=folder)
    return SimpleNamespace(config=config, store=store, cache_dir=cache_dir, embedder=model_made, corpus=corpus,
                           vectors=vectors, labels=Labels(config, store, corpus, vectors), model=model,
                           rounds=Rounds(config, store, cache_dir, corpus, vectors, model), data=data)
