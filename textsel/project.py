"""A labeling project on disk: a readable config file, the SQLite store, and caches of embeddings and index.

Layout of a project folder::

    textsel.toml      what the pool is, which labels exist, which model embeds (read with tomllib)
    textsel.db        labels, rounds and selections (see textsel.store)
    cache/            embeddings, the kNN index, the trained model

The Project wires library pieces together (load_pool, embed_pool, build_index, the round engine, the learner);
it holds no selection logic of its own.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from textsel._atomic import atomic_path, write_text_atomic
from textsel.errors import ConfigError, DataError, StoreError, check_param
from textsel.project_config import (
    CONFIG_NAME,
    DB_NAME,
    DEFAULT_LABELS,
    DEFAULT_MODEL,
    LOCK_NAME,
    ProjectConfig,
)
from textsel.store import Store

if TYPE_CHECKING:
    from textsel.rounds import SelectionResult
    from textsel.status import ProjectStatus

@dataclass(frozen=True)
class Hit:
    """One search result."""

    doc_id: int
    score: float
    text: str
    label: str | None


@dataclass(frozen=True)
class TrainedModel:
    """A learner fitted on the project's labels, with what it was trained on."""

    learner: object
    classes: list[str]
    n_labels: int
    label_rows: int
    train_seconds: float
    estimated_prevalence: float | None


class Project:
    """An initialised project folder. Open one with ``Project(directory)``, create one with ``init_project``.

    Parameters
    ----------
    directory : str or Path
    show_progress : bool, default=False
        Draw progress bars while embedding and indexing.
    """

    def __init__(self, directory: str | Path = ".", *, show_progress: bool = False) -> None:
        self.directory = Path(directory)
        self.show_progress = show_progress
        config_path = self.directory / CONFIG_NAME
        if not config_path.exists():
            raise StoreError(f"{self.directory.resolve()} is not a textsel project (no {CONFIG_NAME}); "
                             f"create one with `textsel init {self.directory} --data FILE`")
        self.config = ProjectConfig.from_toml(config_path)
        self.cache_dir = self.directory / "cache"
        self.store = Store(self.directory / DB_NAME)
        self._embeddings: np.ndarray | None = None
        self._index = None

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def lock(self, wait_seconds: float = 2.0) -> Iterator[None]:
        """Hold the project for a long write (a labeling session, a round); a second holder gets StoreError."""
        import fcntl
        import time

        with open(self.directory / LOCK_NAME, "a+") as handle:
            deadline = time.monotonic() + wait_seconds
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StoreError(f"another textsel process is working on the project "
                                         f"{self.directory.resolve()} (a labeling session or a round); "
                                         f"wait for it to finish") from None
                    time.sleep(0.1)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- data ------------------------------------------------------------------------------------------------

    @cached_property
    def pool(self):  # noqa: ANN201 - textsel.data.Pool, imported lazily
        from textsel.data import load_pool

        config = self.config
        return load_pool(config.source, text_col=config.text_col, id_col=config.id_col,
                         label_col=config.label_col, format=config.format)

    def embedder(self):  # noqa: ANN201 - textsel.embed.Embedder
        from textsel.embed import Embedder

        return Embedder(self.config.model, max_seq_length=self.config.max_seq_length, dtype=self.config.dtype,
                        device=self.config.device)

    def embeddings(self) -> np.ndarray:
        """Row-aligned float32 embeddings of the pool: precomputed, cached, or computed now (resumable)."""
        if self._embeddings is not None:
            return self._embeddings
        pool, config = self.pool, self.config
        recorded = self.store.get_meta("embeddings")
        if recorded and recorded["model"] != config.model:
            raise ConfigError(f"the model {config.model!r} in {CONFIG_NAME} does not match the cached embeddings, "
                              f"made with {recorded['model']!r}; restore the model name or run "
                              f"`textsel embed --rebuild`")
        if config.precomputed:
            from textsel.embed import load_embeddings

            vectors = load_embeddings(config.precomputed, len(pool))
        else:
            from textsel.embed import embed_pool

            vectors = embed_pool(pool, self.embedder(), cache_dir=self.cache_dir / "embeddings",
                                 show_progress=self.show_progress)
            vectors = np.asarray(vectors, dtype=np.float32)
        key = {"model": config.model, "fingerprint": pool.fingerprint(), "rows": len(pool),
               "dim": int(vectors.shape[1])}
        if recorded != key:
            self.store.set_meta("embeddings", key)
        self._embeddings = vectors
        return vectors

    def forget_embeddings(self) -> None:
        """Drop the record of which model made the cache, so the next ``embeddings()`` rebuilds for the config."""
        import shutil

        self.store.set_meta("embeddings", None)
        self.store.set_meta("index", None)
        shutil.rmtree(self.cache_dir / "embeddings", ignore_errors=True)
        self._embeddings = self._index = None

    @property
    def index_path(self) -> Path:
        return self.cache_dir / f"index.{self.config.backend}"

    def index(self):  # noqa: ANN201 - textsel.index.VectorIndex
        """The kNN index over the embeddings, loaded from the cache or built now when missing or stale."""
        from textsel.index import build_index, load_index

        if self._index is not None:
            return self._index
        vectors = self.embeddings()
        key = {**self.store.get_meta("embeddings"), "backend": self.config.backend}
        if self.store.get_meta("index") == key and Path(str(self.index_path) + ".json").exists():
            index = load_index(self.index_path)
        else:
            index = build_index(vectors, self.pool.ids, backend=self.config.backend,
                                show_progress=self.show_progress)
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            index.save(self.index_path)
            self.store.set_meta("index", key)
        self._index = index
        return index

    # -- labels ----------------------------------------------------------------------------------------------

    def check_labels(self, labels: Sequence[str]) -> None:
        """Raise DataError naming the first label that is not one of the project's classes."""
        for label in labels:
            if label not in self.config.labels:
                raise DataError(f"unknown label {label!r}; this project's labels are {', '.join(self.config.labels)}")

    def add_labels(self, doc_ids: Sequence[int], labels: Sequence[str], *, source: str,
                   round_id: int | None = None) -> None:
        """Validate every id and label, then record them all in one transaction."""
        self.check_labels(labels)
        self.pool.positions(np.asarray(doc_ids, dtype=np.int64))
        self.store.add_labels(list(doc_ids), list(labels), source=source, round_id=round_id)

    def import_labels(self, path: str | Path) -> int:
        """Read an ``id,label`` CSV, validate every row, then record it in one transaction; return the count."""
        from textsel.export import read_label_file

        doc_ids, labels = read_label_file(Path(path), self.config.labels)
        known = np.isin(np.asarray(doc_ids, dtype=np.int64), self.pool.ids)
        if not known.all():
            row = int(np.flatnonzero(~known)[0])
            raise DataError(f"id {doc_ids[row]} is not in the pool", file=str(path), row=row + 1, column="id")
        self.store.add_labels(doc_ids, labels, source=f"import:{Path(path).name}")
        return len(doc_ids)

    def labeled(self) -> tuple[np.ndarray, np.ndarray]:
        """(doc ids, labels) of every labeled document, latest label per document."""
        current = self.store.current_labels()
        return np.fromiter(current.keys(), dtype=np.int64, count=len(current)), np.asarray(
            list(current.values()), dtype=object)

    def diagnose(self, *, with_proxy: bool = True):  # noqa: ANN201 - textsel.diagnose.Diagnosis
        """Does the embedding capture the positive class? Measured on the labels so far (textsel.diagnose)."""
        from textsel.diagnose import diagnose

        doc_ids, labels = self.labeled()
        texts = self.texts(doc_ids) if with_proxy else None
        return diagnose(self.index(), doc_ids, labels == self.config.positive, texts=texts)

    def status(self) -> ProjectStatus:
        """Labels per class, rounds and their yield of positives, candidate pool, prevalence, a stopping hint."""
        from textsel.status import project_status

        return project_status(self)

    def texts(self, doc_ids: Sequence[int]) -> list[str]:
        return [self.pool.texts[i] for i in self.pool.positions(np.asarray(doc_ids, dtype=np.int64))]

    # -- seeding ---------------------------------------------------------------------------------------------

    def search(self, query: str, n: int = 20) -> list[Hit]:
        """The ``n`` texts nearest to ``query`` through the index, with their current labels."""
        check_param("Project.search", "n", n, isinstance(n, int) and n >= 1, "an int >= 1")
        vectors = self.embeddings()
        query_vector = np.asarray(self.embedder().encode([query]), dtype=np.float32).reshape(1, -1)
        if query_vector.shape[1] != vectors.shape[1]:
            raise ConfigError(f"the model {self.config.model!r} makes {query_vector.shape[1]}-dimensional vectors "
                              f"but the project's embeddings have {vectors.shape[1]} dimensions; set the model "
                              f"that made them in {CONFIG_NAME}")
        ids, sims = self.index().search(query_vector, min(n, len(self.pool)))
        found = ids[0] >= 0
        labels = self.store.current_labels()
        return [Hit(int(doc_id), float(sim), text, labels.get(int(doc_id)))
                for doc_id, sim, text in zip(ids[0][found], sims[0][found], self.texts(ids[0][found]), strict=True)]

    # -- rounds and the model --------------------------------------------------------------------------------

    def next_batch(self, n: int = 20, *, strategy: str = "maxent", candidate_pool: str = "seals",
                   seed: int = 0) -> tuple[int, SelectionResult]:
        """Select the next ``n`` texts with the round engine and record the round; return (round id, result)."""
        from textsel.candidates import make_candidate_pool
        from textsel.rounds import select_batch

        features = self.embeddings()
        needs_index = candidate_pool == "seals" or strategy == "id"
        index = self.index() if needs_index else None
        labels = self.store.current_labels()
        pool = make_candidate_pool(candidate_pool, index=index, k=self.config.k, seed=seed)
        result = select_batch(self.pool.ids, features, labels, pool, strategy=strategy, batch_size=n, seed=seed,
                              positive_label=self.config.positive, classes=self.config.labels, index=index)
        params = {"n": n, "candidate_pool": candidate_pool, "k": self.config.k, "learner": "logistic",
                  "model": self.config.model, "labels_used": len(labels)}
        round_id = self.store.add_round(
            strategy=strategy, params=params, seed=seed, doc_ids=result.ids.tolist(),
            scores=None if result.scores is None else np.asarray(result.scores, dtype=float).tolist(),
            pool_size=len(self.pool), candidate_pool_size=result.candidate_pool_size,
            select_seconds=result.select_seconds, train_seconds=result.train_seconds)
        return round_id, result

    def _engine(self):  # noqa: ANN202 - textsel.rounds.RoundEngine
        from textsel.candidates import AllCandidates
        from textsel.rounds import RoundEngine

        return RoundEngine(self.pool.ids, AllCandidates(), features=self.embeddings(),
                           positive_label=self.config.positive, classes=self.config.labels)

    def train(self) -> TrainedModel:
        """Fit the learner on every label, save it, and estimate prevalence as the share predicted positive."""
        labels = self.store.current_labels()
        engine = self._engine()
        seconds = engine.fit(labels)
        probabilities = engine.predict_proba(np.arange(len(self.pool)))
        classes = [str(name) for name in engine.learner_.classes_]
        # Share of the pool the model predicts positive: a rough estimate (balanced class weights and actively
        # chosen labels both bias it); status prefers random rounds when there are any.
        prevalence = (float(np.mean(probabilities.argmax(axis=1) == classes.index(self.config.positive)))
                      if self.config.positive in classes else None)
        model = TrainedModel(engine.learner_, classes, len(labels), self.store.label_count(), seconds, prevalence)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.model_path) as tmp, open(tmp, "wb") as handle:
            pickle.dump(model, handle)
        self.store.set_meta("estimated_prevalence", prevalence)
        return model

    @property
    def model_path(self) -> Path:
        return self.cache_dir / "model.pkl"

    def trained_model(self) -> TrainedModel:
        """The saved model, retrained first when labels were added since it was trained."""
        if self.model_path.exists():
            with open(self.model_path, "rb") as handle:
                model = pickle.load(handle)
            if model.label_rows == self.store.label_count():
                return model
        return self.train()

    def predict(self, out: str | Path) -> int:
        """Write id, predicted label and one probability column per class for every text to a Parquet file."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        model = self.trained_model()
        probabilities = np.vstack([model.learner.predict_proba(self.embeddings()[start:start + 65_536])
                                   for start in range(0, len(self.pool), 65_536)])
        columns = {"id": self.pool.ids,
                   "predicted": np.asarray(model.classes, dtype=object)[probabilities.argmax(axis=1)].astype(str)}
        columns.update({f"p_{name}": probabilities[:, column] for column, name in enumerate(model.classes)})
        with atomic_path(out) as tmp:
            pq.write_table(pa.table(columns), tmp)
        return len(self.pool)

def init_project(directory: str | Path, *, data: str, text_col: str = "text", id_col: str | None = None,
                 label_col: str | None = None, format: str | None = None, labels: Sequence[str] | None = None,
                 positive: str | None = None, model: str | None = None, embeddings: str | None = None,
                 backend: str = "hnsw") -> Project:
    """Create a project folder: check the data loads (and precomputed embeddings fit), then write config and db."""
    directory = Path(directory)
    if (directory / CONFIG_NAME).exists():
        raise StoreError(f"{directory.resolve()} is already a textsel project ({CONFIG_NAME} exists)")
    source = str(Path(data).resolve()) if Path(data).exists() else data
    config = ProjectConfig(source=source, text_col=text_col, id_col=id_col, label_col=label_col, format=format,
                           labels=list(labels or DEFAULT_LABELS), positive=positive, model=model or DEFAULT_MODEL,
                           precomputed=str(Path(embeddings).resolve()) if embeddings else None, backend=backend)
    from textsel.data import load_pool

    pool = load_pool(config.source, text_col=text_col, id_col=id_col, label_col=label_col, format=format)
    if config.precomputed:
        from textsel.embed import load_embeddings

        load_embeddings(config.precomputed, len(pool))
    directory.mkdir(parents=True, exist_ok=True)
    with Store(directory / DB_NAME, create=True) as store:
        store.set_meta("pool_size", len(pool))
    write_text_atomic(directory / CONFIG_NAME, config.to_toml())
    project = Project(directory)
    project.__dict__["pool"] = pool
    return project
