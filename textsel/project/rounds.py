"""The rounds of a project: selecting the next batch, the candidate pool, and the saved SEALS state.

Owns, in the project folder (or a concept's cache folder): ``candidates*.k<k>.npz`` and ``candidate_rows*.f32``
(the float32 rows of SEALS candidates, see :mod:`textsel.candidate_rows`), and in its store the rounds and the
records of those states. It reads the corpus, the vectors and the model through their public methods.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from textsel._setops import isin, union
from textsel.errors import ConfigError, PendingBatchError, check_param
from textsel.project.corpus import Corpus
from textsel.project.model import Model, round_learner
from textsel.project.vectors import Vectors
from textsel.project_config import ProjectConfig
from textsel.store import Store

if TYPE_CHECKING:
    from textsel.rounds import SelectionResult

_FEATURE_INPUTS = frozenset({"features", "labeled_features"})  # strategy inputs read from the embeddings


class _ExcludingCandidates:
    """A candidate pool minus documents an earlier round already selected, so no text is selected twice, and minus
    documents removed from the corpus: a full scan or random draw never sees them, and SEALS candidates (from the
    index, its neighbour table or the saved state) that name them are dropped."""

    def __init__(self, inner, excluded: np.ndarray, removed: np.ndarray) -> None:  # noqa: ANN001 - a candidate pool
        self.inner = inner
        self.removed = np.asarray(removed, dtype=np.int64)
        self.excluded = union(np.asarray(excluded, dtype=np.int64), self.removed)
        self.size = 0

    def update(self, labeled_ids: np.ndarray) -> None:
        self.inner.update(labeled_ids)

    def candidates(self, pool_ids: np.ndarray, labeled_ids: np.ndarray) -> np.ndarray:
        if len(self.removed):
            pool_ids = np.asarray(pool_ids)[~isin(pool_ids, self.removed)]
        found = np.asarray(self.inner.candidates(pool_ids, labeled_ids), dtype=np.int64)
        kept = found[~isin(found, self.excluded)] if len(self.excluded) else found
        self.size = len(kept)
        return kept


class Rounds:
    """Select batches with the round engine and keep the SEALS candidate state between rounds."""

    def __init__(self, config: ProjectConfig, store: Store, cache_dir: Path, corpus: Corpus, vectors: Vectors,
                 model: Model) -> None:
        self.config = config
        self.store = store
        self.cache_dir = Path(cache_dir)
        self.corpus = corpus
        self.vectors = vectors
        self.model = model
        self.last_pool_choice = None  # the PoolChoice of this process's last next_batch
        self.last_strategy = None  # (strategy, why) of this process's last next_batch
        self.last_learner = None  # the learner of this process's last next_batch

    @staticmethod
    def check_round_params(n: int | None, strategy: str | None, candidate_pool: str,
                           learner: str | None = None) -> None:
        """Raise ConfigError for a batch size, strategy, candidate pool or learner a round cannot use (before any
        work)."""
        from textsel.candidates import POOL_CHOICES
        from textsel.learner import learner_spec
        from textsel.strategies import get_strategy

        check_param("Project.next_batch", "n", n, n is None or (isinstance(n, int) and not isinstance(n, bool)
                                                                 and n >= 1), "an int >= 1")
        if strategy is not None:  # None: the project's goal picks it (textsel.rounds.strategy_for_goal)
            get_strategy(strategy)
        if candidate_pool not in POOL_CHOICES:
            raise ConfigError(f"unknown candidate pool {candidate_pool!r}; use one of {', '.join(POOL_CHOICES)}")
        if learner is not None:  # None: the project's goal and features pick it (textsel.rounds.learner_for_goal)
            learner_spec(learner)

    def next_batch(self, n: int | None = None, *, strategy: str | None = None, candidate_pool: str = "auto",
                   seed: int = 0, discard_pending: bool = False, learner: str | None = None,
                   engine: str = "local", address: str | None = None,
                   workers: int | None = None) -> tuple[int, SelectionResult]:
        """Select the next ``n`` texts with the round engine and record the round; return (round id, result).

        ``learner`` names the model that scores the candidates (see :data:`textsel.learner.LEARNERS`): logistic
        regression on the project's features, relevance feedback on hybrid features, or e.g. the fastText proxy on
        the texts, which is Selection via Proxy's selector; None takes the goal's
        (:func:`textsel.rounds.learner_for_goal`, kept in ``last_learner``), and ``n`` None the goal's batch
        (:func:`textsel.rounds.batch_for_goal`). The round records the strategy under its canonical name.
        ``strategy`` None takes the default of the project's goal (``[rounds] goal``,
        :func:`textsel.rounds.strategy_for_goal`); the strategy and why are recorded and kept in
        ``last_strategy``. The learner reads the project's
        ``[features] kind`` (:meth:`textsel.project.model.Model.classifier_features`); SEALS candidates always come
        from the dense index.

        ``candidate_pool`` "auto" picks the full scan or SEALS, whichever the cost model predicts cheaper, and k
        from the pool size (:func:`textsel.candidates.choose_pool`); the choice and its reason are recorded in the
        round's params. The SEALS pool is kept in the project between rounds (:mod:`textsel.candidate_state`).

        While the latest round still has texts to label this raises PendingBatchError, unless ``discard_pending``: then
        those texts are recorded as discarded (after the new batch is selected, so a failed selection changes
        nothing). A new round never selects a text an earlier round selected (labeled, skipped, discarded or
        pending), so each text appears in at most one round.

        ``engine`` "ray" scores a full scan (the "all" pool) on Ray Data (:func:`textsel.score_ray.score_pool_ray`;
        ``address`` and ``workers`` as there); a SEALS pool is small and is always scored here.

        In a static first-pass project (:attr:`is_static`) the SEALS candidates come from the static index ("auto":
        k = :func:`textsel.candidates.static_k`, three times the automatic k; "seals": the config's k) and the
        learner reads transformer vectors of the labeled texts and candidates only, embedded on demand through the
        per-text cache; with ``[features] kind = "static"`` it reads the static vectors instead and a round runs no
        transformer and the "all" pool scans those vectors. Otherwise the "all" pool is refused there, and density
        strategies always are (ConfigError).
        """
        from textsel.candidate_rows import holds_rows_of
        from textsel.candidates import make_candidate_pool
        from textsel.learner import learner_spec
        from textsel.rounds import batch_for_goal, learner_for_goal, select_batch, strategy_for_goal
        from textsel.score_ray import check_engine
        from textsel.strategies import get_strategy

        self.check_round_params(n, strategy, candidate_pool, learner)
        strategy, strategy_reason = strategy_for_goal(self.config.goal, strategy)
        learner = learner_for_goal(self.config.goal, self.config.features, learner)
        n = batch_for_goal(self.config.goal, n)
        check_engine("Project.next_batch", engine, address, workers)
        needs, reads = get_strategy(strategy).needs, learner_spec(learner).input
        if self.vectors.is_static:
            self._check_static_round(strategy, candidate_pool)
        pending_round, pending = self.store.pending()
        if pending and not discard_pending:
            raise PendingBatchError(f"round {pending_round} still has {len(pending)} texts to label; label them "
                                    f"first, or discard them to select a new batch")
        features = self.model.learner_features() if self.model.reads_embedding_rows(reads) or "density" in needs \
            or needs & _FEATURE_INPUTS else None
        labels = self.store.current_labels()
        labeled_ids = np.fromiter(labels.keys(), dtype=np.int64, count=len(labels))
        choice = self.choose_candidate_pool(candidate_pool, labeled_ids)
        table = self.vectors.neighbour_table() if choice.name == "seals" and "density" not in needs else None
        if table is not None and table.k < choice.k:
            table = None
        index = self.vectors.index() if (choice.name == "seals" and table is None) or "density" in needs else None
        state = None
        if choice.name == "seals":
            inner, state = self._seals_candidates(table if table is not None else index, choice.k, labeled_ids)
        else:
            inner = make_candidate_pool(choice.name, k=choice.k, seed=seed)
        selected_before = np.fromiter(self.store.selected_ids(), dtype=np.int64)
        removed = self.corpus.removed_ids()
        pool = _ExcludingCandidates(inner, selected_before, removed)
        learner_features = self.model.classifier_features(reads)  # None: the dense rows `features`
        # SEALS candidates' float32 rows are kept in a side file and read in place, in contiguous chunks: scattered
        # rows of the pool's features cost more to gather than to score (dev VM, 1.1M static vectors, 148k
        # candidates: 0.12-0.15 s to gather, 0.01 s from the side file). TF-IDF columns are read where they are.
        side_rows = state is not None and reads == "embeddings" and holds_rows_of(learner_features)
        rows, rows_how = self._load_candidate_rows() if side_rows else (None, None)
        result = select_batch(self.corpus.ids, features, labels, pool, strategy=strategy, batch_size=n, seed=seed,
                              learner=round_learner(learner, seed, features=learner_features),
                              texts=self.corpus.pool.texts if reads == "texts" else None,
                              positive_label=self.config.positive, classes=self.config.labels, index=index,
                              scorer=self.model.ray_scorer(features, reads, address, workers)
                              if engine == "ray" and not self.vectors.is_static else None, candidate_rows=rows,
                              learner_features=learner_features)
        if state is not None:
            self._save_candidate_state(inner)
        if rows is not None:
            self._save_candidate_rows(rows)
        params = {"n": n, "candidate_pool": choice.name, "pool_requested": candidate_pool,
                  "pool_reason": choice.reason, "k": choice.k, "learner": learner, "model": self.config.model,
                  "labels_used": len(labels), "excluded_selected_before": len(selected_before),
                  "excluded_removed": len(removed), "features": self.config.features, "goal": self.config.goal,
                  "strategy_reason": strategy_reason}
        if state is not None:
            params.update(candidate_state=state, neighbour_queries=inner.queried_,
                          neighbours_from="table" if table is not None else "index")
        if rows is not None:
            params.update(candidate_rows=rows_how, candidate_rows_gathered=rows.gathered_)
        if self.vectors.is_static:
            params.update(first_pass="static", transformer_rows=getattr(features, "embedded_rows", 0),
                          transformer_encoded=getattr(getattr(features, "encoder", None), "encoded_texts", 0))
        if pending:
            self.store.discard_pending()
        round_id = self.store.add_round(
            strategy=get_strategy(strategy).name, params=params, seed=seed, doc_ids=result.ids.tolist(),
            scores=None if result.scores is None else np.asarray(result.scores, dtype=float).tolist(),
            pool_size=len(self.corpus.ids), candidate_pool_size=result.candidate_pool_size,
            select_seconds=result.select_seconds, train_seconds=result.train_seconds)
        self.last_pool_choice, self.last_strategy = choice, (get_strategy(strategy).name, strategy_reason)
        self.last_learner = learner
        return round_id, result

    def _check_static_round(self, strategy: str, candidate_pool: str) -> None:
        """Raise ConfigError for a round a static first pass cannot run without embedding the whole pool."""
        from textsel.strategies import get_strategy

        if "density" in get_strategy(strategy).needs:
            raise ConfigError(f"the {strategy!r} strategy needs density over the whole pool, which the static first "
                              f"pass does not offer (the static and transformer spaces would mix); use a model-based "
                              f"strategy such as entropy")
        if candidate_pool == "all" and self.config.features != "static":  # static features: a scan of the vectors
            self.vectors.refuse_static("the 'all' candidate pool (scoring every text)",
                               "select from the static index's neighbours with the 'auto' or 'seals' pool")

    def choose_candidate_pool(self, requested: str, labeled_ids: np.ndarray):  # noqa: ANN201 - PoolChoice
        """Resolve "auto" (or a pool name) for this project's size, labels and saved SEALS state.

        Over a static first pass "auto" is SEALS in static space with k = static_k (scanning would need the
        transformer embedding of every text), which needs a labeled text to start from; with static features a scan
        reads only the static vectors, so the cost model chooses, at that k and the static vectors' scan cost.
        """
        from textsel.candidates import SCAN_S_PER_DOC, STATIC_SCAN_S_PER_DOC, PoolChoice, choose_pool

        static_features = self.vectors.is_static and self.config.features == "static"
        if self.vectors.is_static and requested == "auto" and not static_features:
            if not len(labeled_ids):
                raise ConfigError("the static first pass selects among the neighbours of labeled texts and nothing "
                                  "is labeled yet; search for a few positives and label them first")
            k = self.vectors.auto_k(len(self.corpus.ids))
            return PoolChoice("seals", k, f"static first pass: SEALS in static space with k={k} (3x the automatic "
                                          f"k; a scan would need the transformer embedding of every text)")
        record = self.store.get_meta(self._candidate_state_key(self.vectors.auto_k(len(self.corpus.ids)))) or {}
        known, seen = int(record.get("candidates", 0)), int(record.get("seen", 0))
        return choose_pool(requested, n_docs=len(self.corpus.ids), n_labeled=len(labeled_ids),
                           n_new_labels=max(len(labeled_ids) - seen, 0), n_known_candidates=known, k=self.config.k,
                           neighbours="table" if self.vectors.neighbour_table() is not None else
                           "loaded" if self.vectors.index_loaded else "index",
                           seals_k=self.vectors.auto_k(len(self.corpus.ids)),
                           scan_s_per_doc=STATIC_SCAN_S_PER_DOC if static_features else SCAN_S_PER_DOC)

    def candidate_state_path(self, k: int) -> Path:
        """The saved SEALS state for ``k`` (one per k, so rounds with different k do not undo each other's); over a
        static first pass ``candidates.static.k<k>.npz``, never mistaken for a state in transformer space."""
        return self.cache_dir / f"candidates{'.static' if self.vectors.is_static else ''}.k{int(k)}.npz"

    def _candidate_state_key(self, k: int) -> str:
        return f"candidate_state{'_static' if self.vectors.is_static else ''}_k{int(k)}"

    def _candidate_source(self, k: int) -> dict:
        from textsel.index import saved_index_digest

        source = {"index": saved_index_digest(self.vectors.index_path), "k": int(k), "ef": None}
        if self.vectors.is_static:
            source["space"] = "static"
        restores = self.corpus.restore_count()
        return {**source, "restores": restores} if restores else source  # a restored text may be a candidate again

    def _seals_candidates(self, neighbours, k: int, labeled_ids: np.ndarray):  # noqa: ANN001, ANN202
        """The SEALS pool over ``neighbours`` (the index or its NeighbourTable) restored from the project (or empty,
        to be rebuilt from every label in one batched query) and how: "restored", "new" or "rebuilt: <why>"."""
        from textsel.candidate_state import load_candidate_state

        return load_candidate_state(self.candidate_state_path(k), self.store.get_meta(self._candidate_state_key(k)),
                                    neighbours, k=k, ef=None, source=self._candidate_source(k),
                                    labeled_ids=labeled_ids, removed_ids=self.corpus.removed_ids())

    def _candidate_rows_files(self) -> tuple[Path, str, dict]:
        """The saved float32 rows of SEALS candidates (one file per feature space), their store key and source."""
        static = ".static" if self.vectors.is_static else ""
        return (self.cache_dir / f"candidate_rows{static}.f32", f"candidate_rows{static.replace('.', '_')}",
                self.model.features_source())

    def _load_candidate_rows(self):  # noqa: ANN202 - (textsel.candidate_rows.CandidateRows, how)
        from textsel.candidate_rows import load_candidate_rows

        path, key, source = self._candidate_rows_files()
        return load_candidate_rows(path, self.store.get_meta(key), source)

    def _save_candidate_rows(self, rows) -> None:  # noqa: ANN001 - textsel.candidate_rows.CandidateRows
        from textsel.candidate_rows import save_candidate_rows

        if not len(rows):  # the round scored its candidates otherwise (most of the pool): nothing to keep
            return
        path, key, source = self._candidate_rows_files()
        self.store.set_meta(key, save_candidate_rows(path, rows, self.store.get_meta(key), source))

    def _save_candidate_state(self, pool) -> None:  # noqa: ANN001 - SEALSCandidates
        from textsel.candidate_state import save_candidate_state

        record = save_candidate_state(self.candidate_state_path(pool.k), pool, self._candidate_source(pool.k),
                                      self.corpus.removed_ids())
        self.store.set_meta(self._candidate_state_key(pool.k),
                            {**record, "seen": len(pool.seen_), "candidates": len(pool.neighbours_)})

