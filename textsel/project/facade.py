"""A labeling project on disk: a readable config file, the SQLite store, and caches of embeddings and index.

Layout of a project folder::

    textsel.toml      what the pool is, which labels exist, which model embeds (read with tomllib)
    textsel.db        labels, rounds and selections (see textsel.store)
    cache/            embeddings, the kNN index, the trained model

``Project`` composes five parts, each owning one concern and its files (see each module's docstring):
``corpus`` (texts, ids, data files, removals), ``vectors`` (embeddings, static first pass, index, neighbour table),
``labels`` (labels, imports, audits, search), ``model`` (train, saved model, predict, Ray scoring) and ``rounds``
(selection, candidate pool, SEALS state). Its public methods are the parts' own, served through ``_Part``; the few
that span two parts (adding and removing documents) are written out here. It holds no selection logic of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from textsel.errors import NotAProjectError, StoreError
from textsel.project.corpus import Corpus
from textsel.project.labels import Labels
from textsel.project.model import Model
from textsel.project.rounds import Rounds
from textsel.project.vectors import Vectors, static_embedder_for, transformer_embedder_for
from textsel.project_config import CONFIG_NAME, DB_NAME, LOCK_NAME, ProjectConfig
from textsel.store import Store

if TYPE_CHECKING:
    import numpy as np

    from textsel.status import ProjectStatus


class _Part:
    """A Project attribute served by one of its parts: ``project.embeddings`` is ``project.vectors.embeddings``
    (a method, property or attribute alike). On the class it is the part's own (its docstring and signature)."""

    def __init__(self, part: str, owner: type, name: str | None = None) -> None:
        self.part, self.owner, self.name = part, owner, name

    def __set_name__(self, cls: type, name: str) -> None:
        self.name = self.name or name

    def __get__(self, project: object, cls: type | None = None) -> object:
        if project is None:
            return getattr(self.owner, self.name, self)
        return getattr(getattr(project, self.part), self.name)


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
            raise NotAProjectError(f"{self.directory.resolve()} is not a textsel project (no {CONFIG_NAME}); "
                                   f"create a project there first")
        self.config = ProjectConfig.from_toml(config_path)
        self.cache_dir = self.directory / "cache"
        if not (self.directory / DB_NAME).exists():
            raise StoreError(f"{self.directory.resolve()} has {CONFIG_NAME} but no project database ({DB_NAME}, which "
                             f"holds the labels); restore it from a backup")
        self.store = Store(self.directory / DB_NAME)
        self.corpus_store = self.store  # removals belong to the corpus: a concept's view (own store) keeps this one
        try:
            self.corpus = Corpus(self.config, self.store, self.cache_dir, state=self.__dict__)
        except BaseException:
            self.store.close()
            raise
        self.vectors = Vectors(self.config, self.store, self.cache_dir, self.corpus, show_progress=show_progress,
                               embedder=lambda: self.embedder(), static_embedder=lambda: self.static_embedder())
        self._compose()

    def _compose(self) -> None:
        """Make the parts that read and write labels over ``store``, ``config`` and ``cache_dir``: a concept's view
        (its own store, labels and cache folder; see :func:`textsel.concepts.concept_project`) makes its own."""
        self.labels = Labels(self.config, self.store, self.corpus, self.vectors)
        self.model = Model(self.config, self.store, self.cache_dir, self.corpus, self.vectors,
                           project_dir=self.directory, show_progress=self.show_progress)
        self.rounds = Rounds(self.config, self.store, self.cache_dir, self.corpus, self.vectors, self.model)

    def close(self) -> None:
        self.vectors.forget_on_demand()
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

    def embedder(self):  # noqa: ANN201 - textsel.embed.Embedder
        """The project's embedding model; every part asks for it here, so replacing this method replaces it."""
        return transformer_embedder_for(self.config)

    def static_embedder(self):  # noqa: ANN201 - textsel.static.StaticEmbedder
        """The static (model2vec) embedder distilled from the project's model (distilled once, cached per machine)."""
        return static_embedder_for(self.config)

    def add_documents(self, path: str | Path, *, format: str | None = None) -> int:
        """Append the texts of ``path`` (same columns as the project's data file) to the pool; return how many.

        Every new id is checked against the pool before anything is written. Only texts no project on this machine
        embedded before reach the model (:mod:`textsel.text_cache`), and a saved index grows with the new vectors
        instead of being rebuilt. Projects with precomputed embeddings cannot grow (nothing here can embed new
        texts to match them).
        """
        return self._grow(lambda: self.corpus.add_documents(path, format=format))

    def add_entry(self, entry: dict, *, shown: str) -> int:
        """Add the texts of an added-file ``entry`` (:meth:`textsel.project.corpus.Corpus.add_entry`; rows appended
        to the data file come in this way, see :mod:`textsel.appended`) as ``add_documents`` does; return how many."""
        return self._grow(lambda: self.corpus.add_entry(entry, shown=shown))

    def _grow(self, add: Callable[[], object]) -> int:
        """Run the corpus's ``add`` (it returns the Pool of new texts), then grow the vectors and the index."""
        old_key = self.vectors.index_key()
        known = self.vectors.known_vectors()  # the old texts' vectors, reused
        added = add()
        self.vectors.grow(old_key, added.ids, known)
        return len(added)

    def remove_documents(self, ids: Sequence[int | str], *, reason: str | None = None) -> list[int]:
        """:meth:`textsel.project.corpus.Corpus.remove_documents`, marking the saved index alike."""
        return self.corpus.remove_documents(ids, reason=reason, apply=self.vectors.change_removals)

    def restore_documents(self, ids: Sequence[int | str]) -> list[int]:
        """:meth:`textsel.project.corpus.Corpus.restore_documents`, unmarking the saved index alike."""
        return self.corpus.restore_documents(ids, apply=self.vectors.change_removals)

    def audit_batch(self, n: int = 20, *, seed: int | None = None, discard_pending: bool = False,
                    design: str = "uniform") -> tuple[int, np.ndarray]:
        """:meth:`textsel.project.labels.Labels.audit_batch`; a stratified design ranks texts by the model's
        P(positive) (:meth:`positive_probabilities`)."""
        return self.labels.audit_batch(n, seed=seed, discard_pending=discard_pending, design=design,
                                       scorer=self.positive_probabilities)

    def compare_features(self, *, seed: int = 0):  # noqa: ANN201 - textsel.diagnose.FeatureComparison
        """Dense vs lexical vs hybrid features on the labels so far, cross-validated against a random sample of the
        pool (on audit positives once there are enough), and the kind to use (:func:`textsel.diagnose.
        compare_features`). Builds the pool's TF-IDF once (cached) when the project does not use it yet."""
        import numpy as np

        from textsel.diagnose import compare_features
        from textsel.features import FEATURES, classifier_matrix

        if self.is_static:
            self.refuse_static("comparing features (the TF-IDF and embeddings of every text)", "textsel diagnose")
        doc_ids, labels = self.labels.labeled()
        lexical = self.model.lexical_matrix()
        matrices = {kind: classifier_matrix(kind, dense=self.embeddings(), lexical=lambda: lexical)
                    for kind in FEATURES}
        audited = self.labels.audited_ids()
        return compare_features(matrices, self.positions(doc_ids), labels == self.config.positive,
                                pool_size=len(self.ids), random_positions=self.positions(audited[np.isin(
                                    audited, doc_ids)]), current=self.config.features, seed=seed)

    def status(self, *, target_recall: float = 0.95, confidence: float = 0.95) -> ProjectStatus:
        """Labels per class, rounds and their yields, and from audit samples: positives remaining, prevalence,
        recall so far, and whether the stopping rule for ``target_recall`` at ``confidence`` says stop."""
        from textsel.status import project_status

        return project_status(self, target_recall=target_recall, confidence=confidence)

    # -- served by the parts ---------------------------------------------------------------------------------

    pool = _Part("corpus", Corpus)  # once loaded, a plain attribute (the corpus keeps it in this __dict__)
    ids = _Part("corpus", Corpus)
    positions = _Part("corpus", Corpus)
    removed_ids = _Part("corpus", Corpus)
    resolve_ids = _Part("corpus", Corpus)
    resolve_id_file = _Part("corpus", Corpus)
    external_ids = _Part("corpus", Corpus)
    texts = _Part("corpus", Corpus)

    is_static = _Part("vectors", Vectors)
    static_vectors = _Part("vectors", Vectors)
    static_vectors_float32 = _Part("vectors", Vectors)
    static_cache_dir = _Part("vectors", Vectors)
    transformer_features = _Part("vectors", Vectors)
    refuse_static = _Part("vectors", Vectors)
    embeddings = _Part("vectors", Vectors)
    forget_embeddings = _Part("vectors", Vectors)
    index_path = _Part("vectors", Vectors)
    index = _Part("vectors", Vectors)
    neighbour_table_path = _Part("vectors", Vectors)
    neighbour_table = _Part("vectors", Vectors)
    encoded_texts = _Part("vectors", Vectors)
    _index = _Part("vectors", Vectors)
    _embeddings = _Part("vectors", Vectors)

    check_labels = _Part("labels", Labels)
    remember_keys = _Part("labels", Labels)
    add_labels = _Part("labels", Labels)
    import_labels = _Part("labels", Labels)
    labeled = _Part("labels", Labels)
    diagnose = _Part("labels", Labels)
    search = _Part("labels", Labels)
    find_texts = _Part("labels", Labels)

    MODEL_FORMAT = _Part("model", Model)
    model_path = _Part("model", Model)
    model_info_path = _Part("model", Model)
    train = _Part("model", Model)
    saved_model = _Part("model", Model)
    trained_model = _Part("model", Model)
    positive_probabilities = _Part("model", Model)
    predict = _Part("model", Model)
    _ray_scorer = _Part("model", Model, "ray_scorer")
    _engine = _Part("model", Model, "round_engine")

    check_round_params = _Part("rounds", Rounds)
    next_batch = _Part("rounds", Rounds)
    choose_candidate_pool = _Part("rounds", Rounds)
    candidate_state_path = _Part("rounds", Rounds)
    last_pool_choice = _Part("rounds", Rounds)
    last_strategy = _Part("rounds", Rounds)
    last_learner = _Part("rounds", Rounds)
