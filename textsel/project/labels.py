"""The labels of a project: labeling and importing, audit samples, and search for seeds.

Owns, in its store (the project's, or a concept's): the labels, the string ids of labeled texts and the audit
rounds. It reads the corpus and the vectors through their public methods only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from textsel._setops import isin, union
from textsel.errors import ConfigError, DataError, PendingBatchError, StoreError, check_param
from textsel.project.corpus import Corpus
from textsel.project.types import Hit, ImportReport, Relabel
from textsel.project.vectors import Vectors
from textsel.project_config import CONFIG_NAME, ProjectConfig
from textsel.store import Store


class Labels:
    """Labels, imports, audits and search over one store's labels."""

    _query_embedder = None  # the embedder search() loads on its first query and keeps (set per instance)

    def __init__(self, config: ProjectConfig, store: Store, corpus: Corpus, vectors: Vectors) -> None:
        self.config = config
        self.store = store
        self.corpus = corpus
        self.vectors = vectors

    def check_labels(self, labels: Sequence[str]) -> None:
        """Raise DataError naming the first label that is not one of the project's classes."""
        for label in labels:
            if label not in self.config.labels:
                raise DataError(f"unknown label {label!r}; this project's labels are {', '.join(self.config.labels)}")

    def remember_keys(self, doc_ids: Sequence[int]) -> None:
        """Record the string ids of internal ``doc_ids`` in the store (nothing for a pool with integer ids)."""
        if self.corpus.integer_ids_without_loading():
            return
        if self.corpus.pool.has_string_ids and len(doc_ids):
            self.store.remember_keys(dict(zip(map(int, doc_ids), self.corpus.external_ids(doc_ids), strict=True)))

    def add_labels(self, doc_ids: Sequence[int | str], labels: Sequence[str], *, source: str,
                   round_id: int | None = None) -> list[Relabel]:
        """Validate every id (as users know it) and label, then record them all in one transaction.

        Returns the labels that replaced a different current label, so a caller can say what changed.
        """
        self.check_labels(labels)
        internal = self.corpus.resolve_ids(doc_ids)
        replaced = self._relabels(internal, labels)
        self.remember_keys(internal)
        self.store.add_labels(internal, list(labels), source=source, round_id=round_id)
        return replaced

    def _relabels(self, doc_ids: Sequence[int], labels: Sequence[str]) -> list[Relabel]:
        current = self.store.current_labels()
        latest = dict(zip(doc_ids, labels, strict=True))  # a text named many times: its last label, once
        changed = [(doc_id, label) for doc_id, label in latest.items() if current.get(doc_id, label) != label]
        shown = self.corpus.external_ids([doc_id for doc_id, _ in changed])
        return [Relabel(name, current[doc_id], label) for name, (doc_id, label) in zip(shown, changed, strict=True)]

    def import_labels(self, path: str | Path, *, format: str | None = None, keep_newer: bool = False
                      ) -> ImportReport:
        """Read a label file whole (textsel's csv/jsonl/hf exports, an ``id,label`` CSV, a Label Studio JSON
        export), validate every row, then record the labels in one transaction.

        A label in the project made after the file's label for the same text (by the annotation's time, else the
        file's modification time) is replaced, or kept when ``keep_newer``; either way the report names them.
        """
        from textsel.importing import read_labels

        path = Path(path)
        read = read_labels(path, self.corpus.pool, self.config.labels, format=format, id_col=self.config.id_col)
        current = self.store.current_labels_with_times()
        newer = [position for position, (doc_id, label, when) in enumerate(
                 zip(read.doc_ids, read.labels, read.labeled_at, strict=True))
                 if doc_id in current and current[doc_id][0] != label and current[doc_id][1] > when]
        skipped = set(newer) if keep_newer else set()
        keep = [position for position in range(len(read.doc_ids)) if position not in skipped]
        doc_ids = [read.doc_ids[position] for position in keep]
        labels = [read.labels[position] for position in keep]
        relabeled = self._relabels(doc_ids, labels)
        if doc_ids:
            self.remember_keys(doc_ids)
            self.store.add_labels(doc_ids, labels, source=f"import:{path.name}")
        return ImportReport(len(doc_ids), read.unlabeled, relabeled,
                            self.corpus.external_ids([read.doc_ids[position] for position in newer]), keep_newer,
                            read.format)

    def labeled(self) -> tuple[np.ndarray, np.ndarray]:
        """(doc ids, labels) of every labeled document, latest label per document."""
        current = self.store.current_labels()
        return np.fromiter(current.keys(), dtype=np.int64, count=len(current)), np.asarray(
            list(current.values()), dtype=object)

    def diagnose(self):  # noqa: ANN201 - textsel.diagnose.Diagnosis
        """Does the embedding capture the positive class? The labeled positives (those of audit samples once there
        are enough) against a random sample of the pool (textsel.diagnose). Over a static first pass this measures
        the static space, with advice about the first pass when it does not cluster the class
        (:func:`textsel.diagnose.diagnose_static_space`)."""
        from textsel.diagnose import diagnose, diagnose_static_space

        doc_ids, labels = self.labeled()
        measure = diagnose_static_space if self.vectors.is_static else diagnose
        return measure(self.vectors.index(), doc_ids, labels == self.config.positive, random_ids=self.audited_ids())

    def audited_ids(self) -> np.ndarray:
        """Ids drawn by audit rounds (at random from the unlabeled texts)."""
        return np.asarray([doc_id for record in self.store.rounds() if record.strategy == "audit"
                           for doc_id in record.doc_ids], dtype=np.int64)

    def audit_batch(self, n: int = 20, *, seed: int | None = None, discard_pending: bool = False,
                    design: str = "uniform", scorer: Callable[[list[int]], list[float | None]] | None = None
                    ) -> tuple[int, np.ndarray]:
        """Draw ``n`` texts at random from every unlabeled text and record them as an "audit" round.

        ``design`` "uniform" draws a simple random sample; "stratified" samples the texts ``scorer`` (the model's
        P(positive) of ids) ranks highest more often (textsel.audit_sampling); each audited text's inclusion
        probability is recorded with the round.

        Audit samples are what the estimates of positives remaining, prevalence and recall, and the stopping rule,
        rest on (textsel.estimate). Without ``seed`` a fresh one is drawn, so repeated audits are independent;
        the seed and the number of unlabeled texts drawn from are recorded with the round. Returns (round id, ids).
        Like ``next_batch``, it raises PendingBatchError while the latest round still has texts to label, unless
        ``discard_pending`` (those texts are then recorded as discarded).
        """
        import time

        from textsel.audit_sampling import DESIGNS, draw_audit
        from textsel.errors import PoolExhaustedError

        check_param("Project.audit_batch", "design", design, design in DESIGNS, f"one of {', '.join(DESIGNS)}")
        check_param("Project.audit_batch", "n", n, isinstance(n, int) and n >= 1, "an int >= 1")
        check_param("Project.audit_batch", "seed", seed, seed is None or isinstance(seed, int) and seed >= 0,
                    "None or an int >= 0")
        pending_round, pending = self.store.pending()
        if pending and not discard_pending:
            raise PendingBatchError(f"round {pending_round} still has {len(pending)} texts to label; label them "
                                    f"first, or discard them to draw an audit sample")
        start = time.perf_counter()
        labeled = np.fromiter(self.store.current_labels(), dtype=np.int64)
        ids = self.corpus.ids
        unlabeled = ids[~isin(ids, union(labeled, self.corpus.removed_ids()))]  # removed: not drawn
        if not len(unlabeled):
            raise PoolExhaustedError("every text is labeled: there is nothing left to audit")
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % 2**31)
        scores = (np.asarray(scorer(unlabeled.tolist()), dtype=np.float64)
                  if design == "stratified" and scorer is not None else None)
        if design == "stratified" and (scores is None or np.isnan(scores).any()):
            raise StoreError("a stratified audit ranks texts by the model's score: label both classes first")
        sample = draw_audit(np.random.default_rng(seed), unlabeled, n, design=design, scores=scores)
        chosen = sample.ids
        params = {"n": n, **sample.params, "population": "every unlabeled text not removed from the corpus"}
        if pending:
            self.store.discard_pending()
        round_id = self.store.add_round(strategy="audit", params=params, seed=seed, doc_ids=chosen.tolist(),
                                        scores=None, pool_size=len(self.corpus.ids), candidate_pool_size=len(unlabeled),
                                        select_seconds=time.perf_counter() - start, train_seconds=0.0)
        return round_id, chosen


    # -- seeding ---------------------------------------------------------------------------------------------

    def search(self, query: str, n: int = 20) -> list[Hit]:
        """The ``n`` texts nearest to ``query`` through the index, with their current labels.

        The embedding model is loaded on the first query and kept, so a prompt of many queries loads it once. Over a
        static first pass the query is embedded with the static model and searched in the static index.
        """
        check_param("Project.search", "n", n, isinstance(n, int) and n >= 1, "an int >= 1")
        vectors = self.vectors.index_vectors()
        if self._query_embedder is None:
            self._query_embedder = self.vectors.static_embedder() if self.vectors.is_static else self.vectors.embedder()
        query_vector = np.asarray(self._query_embedder.encode([query]), dtype=np.float32).reshape(1, -1)
        if query_vector.shape[1] != vectors.shape[1]:
            raise ConfigError(f"the model {self.config.model!r} makes {query_vector.shape[1]}-dimensional vectors "
                              f"but the project's embeddings have {vectors.shape[1]} dimensions; set the model "
                              f"that made them in {CONFIG_NAME}")
        ids, sims = self.vectors.index().search(query_vector, min(n, len(self.corpus.ids)))
        found = ids[0][ids[0] >= 0]
        return self._hits(found, sims[0][ids[0] >= 0])

    def _hits(self, doc_ids: np.ndarray, scores: Sequence[float]) -> list[Hit]:
        labels = self.store.current_labels()
        return [Hit(name, float(score), text, labels.get(int(doc_id)))
                for doc_id, name, score, text in zip(doc_ids, self.corpus.external_ids(doc_ids), scores,
                                                     self.corpus.texts(doc_ids), strict=True)]

    def find_texts(self, pattern: str, *, regex: bool = False, n: int = 20, ignore_case: bool = True
                   ) -> tuple[list[Hit], int]:
        """Texts containing a keyword (or matching a regular expression), for seeding where the embedding does not
        help; return (the ``n`` with most matches, pool order breaking ties; how many texts match in all).

        A Hit's score is the number of matches in the text; texts removed from the corpus are left out. A malformed
        regular expression raises DataError.
        """
        import re

        check_param("Project.find_texts", "n", n, isinstance(n, int) and n >= 1, "an int >= 1")
        if not pattern:
            raise DataError("the search pattern is empty")
        try:
            compiled = re.compile(pattern if regex else re.escape(pattern), re.IGNORECASE if ignore_case else 0)
        except re.error as error:
            raise DataError(f"{pattern!r} is not a valid regular expression: {error}") from error
        counts = np.fromiter((len(compiled.findall(text)) for text in self.corpus.pool.texts), dtype=np.int64,
                             count=len(self.corpus.pool))
        counts[isin(self.corpus.pool.ids, self.corpus.removed_ids())] = 0  # removed: not found (nor by the index)
        matching = np.flatnonzero(counts)
        best = matching[np.argsort(-counts[matching], kind="stable")[:n]]
        return self._hits(self.corpus.pool.ids[best], counts[best].astype(float).tolist()), len(matching)

    # -- rounds and the model --------------------------------------------------------------------------------
