"""The model of a project: training on the labels, the saved model, prediction and scoring the pool on Ray.

Owns, in the project folder (or a concept's cache folder): ``model.npz``/``model.json`` and ``model-<learner>/``,
and the staging files of Ray scoring; in its store the estimated prevalence. It reads the corpus and the vectors
through their public methods only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from textsel._atomic import write_text_atomic
from textsel._integrity import file_sha256
from textsel._setops import isin
from textsel.errors import ConfigError, DataError, TooFewClassesError, check_param
from textsel.features import take_rows
from textsel.project.corpus import Corpus
from textsel.project.types import TrainedModel
from textsel.project.vectors import Vectors
from textsel.project_config import ProjectConfig
from textsel.store import Store

SAVED_LEARNERS = ("logistic", "transformer")  # learners a project can train, save (no pickle) and load


def round_learner(name: str, seed: int = 0, features=None, **params):  # noqa: ANN001, ANN201 - a Learner
    """A registered learner for this project's rounds: seeded, and repeatable where the learner allows it.

    ``features`` are the rows it will read: the relevance-feedback learner reads hybrid rows and learns from them
    where the embeddings block ends."""
    from textsel.features import HybridRows
    from textsel.learner import make_learner

    if name == "relevance-feedback":
        if not isinstance(features, HybridRows):
            raise ConfigError("the relevance-feedback learner reads hybrid features (the embeddings and the TF-IDF "
                              "side by side); this project's classifier reads other features")
        params.setdefault("dense_dims", int(np.shape(features.dense)[1]))
    elif name != "logistic":  # both above are deterministic
        params.setdefault("seed", seed)
    if name == "fasttext":
        params.setdefault("threads", 1)  # fastText is repeatable only on one thread
    return make_learner(name, **params)


class Model:
    """Train, save, load and apply the project's model."""

    def __init__(self, config: ProjectConfig, store: Store, cache_dir: Path, corpus: Corpus, vectors: Vectors, *,
                 project_dir: Path, show_progress: bool = False) -> None:
        self.config = config
        self.project_dir = Path(project_dir)  # outputs are never written in or over it
        self.store = store
        self.cache_dir = Path(cache_dir)
        self.corpus = corpus
        self.vectors = vectors
        self.show_progress = show_progress
        self._last_ray_scores = None  # (learner, probabilities of every pool row) of the last Ray scan
        self._classifier_features = None  # (pool record, matrix) of classifier_features

    def learner_features(self):  # noqa: ANN202 - an array, or EmbeddedOnDemand over a static first pass
        """What an embedding learner reads: the embeddings, or over a static first pass the transformer vectors
        embedded on demand (labeled texts and candidates only)."""
        return self.vectors.transformer_features() if self.vectors.is_static else self.vectors.embeddings()

    def reads_embedding_rows(self, reads: str) -> bool:
        """Whether a learner on ``reads`` ("embeddings" or "texts") needs :meth:`learner_features`: not with the
        static features, whose rows :meth:`classifier_features` gives (so no transformer is loaded)."""
        return reads == "embeddings" and self.config.features != "static"

    def classifier_features(self, reads: str = "embeddings"):  # noqa: ANN201 - CSR, HybridRows or None
        """What a learner on feature rows reads when the project's ``[features] kind`` is not dense: the pool's
        TF-IDF matrix (built once and cached, :func:`textsel.features.lexical_matrix`), it beside the embeddings,
        or the static first pass's vectors (their float32 memory map); None for dense features or a learner on
        texts. Loaded once per process and pool."""
        if reads != "embeddings" or self.config.features == "dense":
            return None
        from textsel.features import classifier_matrix

        source = self.corpus.pool_record()  # rows and fingerprint; `add` changes it, so the matrix is rebuilt
        if self._classifier_features is None or self._classifier_features[0] != source:
            static = self.config.features == "static"
            matrix = classifier_matrix(self.config.features, lexical=self.lexical_matrix,
                                       dense=self.vectors.static_vectors_float32() if static else
                                       self.vectors.embeddings())
            self._classifier_features = (source, matrix)
        return self._classifier_features[1]

    def lexical_matrix(self):  # noqa: ANN201 - a CSR matrix
        """The pool's TF-IDF matrix of words and word pairs, built once and cached with the pool in the project's
        cache (:mod:`textsel.features`): a concept's view reads the same matrix."""
        from textsel.features import lexical_matrix

        return lexical_matrix(self.corpus.cache_dir, lambda: self.corpus.pool.texts,
                              source=self.corpus.pool_record() or None)

    def round_engine(self, learner: str = "logistic", **params):  # noqa: ANN202 - textsel.rounds.RoundEngine
        """A round engine over the whole pool with the named learner, given the embeddings or texts it reads."""
        from textsel.candidates import AllCandidates
        from textsel.learner import learner_spec
        from textsel.rounds import RoundEngine

        reads = learner_spec(learner).input
        return RoundEngine(self.corpus.ids, AllCandidates(),
                           features=self.learner_features() if self.reads_embedding_rows(reads) else None,
                           texts=self.corpus.pool.texts if reads == "texts" else None,
                           learner=round_learner(learner, features=self.classifier_features(reads), **params),
                           positive_label=self.config.positive, classes=self.config.labels,
                           learner_features=self.classifier_features(reads))

    def train(self, target: str = "logistic", *, engine: str = "local", address: str | None = None,
              workers: int | None = None, **params) -> TrainedModel:
        """Fit the named learner on every label, save it, and estimate prevalence as the share predicted positive.

        ``target`` is a learner in :data:`textsel.learner.LEARNERS` that can be saved: "logistic" (the default,
        on the embeddings) or "transformer" (a Hugging Face model fine-tuned on the labeled texts, saved as
        safetensors). Selecting with a cheap learner and training an expensive target on the labels is Selection
        via Proxy. ``params`` go to the learner (e.g. ``epochs=1``). ``engine`` "ray" makes the prevalence
        estimate's pass over the pool on Ray Data (``address`` and ``workers`` as in :meth:`predict`).

        Over a static first pass the logistic model trains on the transformer vectors of the labeled texts only
        (embedded on demand), or on their static vectors with the static features, and no prevalence is estimated
        (None).
        """
        from textsel.learner import learner_spec
        from textsel.score_ray import check_engine

        check_param("Project.train", "target", target, target in SAVED_LEARNERS, f"one of {SAVED_LEARNERS}")
        check_engine("Project.train", engine, address, workers)
        labels = self.store.current_labels()
        label_rows = self.store.label_count()
        rounds = self.round_engine(target, **params)
        if engine == "ray" and not self.vectors.is_static:
            rounds.scorer = self.ray_scorer(rounds.features, learner_spec(target).input, address, workers)
        seconds = rounds.fit(labels)
        classes = [str(name) for name in rounds.learner_.classes_]
        prevalence = None
        if self.config.positive in classes and not self.vectors.is_static:
            # Share of the pool the model predicts positive: a rough estimate (balanced class weights and actively
            # chosen labels both bias it); status prefers random rounds when there are any.
            probabilities = rounds.predict_proba(np.flatnonzero(~isin(self.corpus.ids, self.corpus.removed_ids())))
            prevalence = float(np.mean(probabilities.argmax(axis=1) == classes.index(self.config.positive)))
        model = TrainedModel(rounds.learner_, classes, len(labels), label_rows, seconds, prevalence,
                             self._model_source(target), target, self._learner_parameters(rounds.learner_))
        self._save_model(model)
        self.store.set_meta("estimated_prevalence", prevalence)
        return model

    MODEL_FORMAT = 1

    @property
    def model_path(self) -> Path:
        """The saved logistic model's weights: plain arrays (.npz, read without pickle); ``model_info_path``
        describes them. A transformer target is saved to ``cache/model-transformer/`` instead."""
        return self.cache_dir / "model.npz"

    @property
    def model_info_path(self) -> Path:
        return self.cache_dir / "model.json"

    def _weights_path(self, learner: str) -> Path:
        """Where a saved learner's weights live: model.npz, or a folder such as cache/model-transformer/."""
        return self.model_path if learner == "logistic" else self.cache_dir / f"model-{learner}"

    @staticmethod
    def _weights_sha256(path: Path) -> str | None:
        """SHA-256 of a weights file, or of every file's name and SHA-256 in a weights folder; None when missing."""
        if path.is_file():
            return file_sha256(path)
        if not path.is_dir():
            return None
        import hashlib

        listing = [[str(file.relative_to(path)), file_sha256(file)] for file in sorted(path.rglob("*"))
                   if file.is_file()]
        return hashlib.sha256(json.dumps(listing).encode()).hexdigest()

    def _model_source(self, learner: str = "logistic") -> dict:
        """What a saved model must have been trained on to be used now: the embedding model and its vectors, or
        (for a learner on texts) the pool's texts."""
        from textsel.learner import learner_spec

        if learner_spec(learner).input == "texts":
            return {"texts": self.corpus.pool.fingerprint()}
        if self.config.features == "static":  # the static vectors the store recorded (model, pool, checksum)
            return {"model": self.config.model, "first_pass": "static", "features": "static",
                    "static_vectors": self.store.get_meta("static_embeddings")}
        if self.vectors.is_static:  # transformer vectors by text (the per-text cache's settings), not a pool file
            from textsel.text_cache import encoder_settings

            return {"model": self.config.model, "first_pass": "static",
                    "vectors": encoder_settings(self.vectors.embedder())}
        recorded = self.store.get_meta("embeddings") or {}
        source = {"model": self.config.model, "fingerprint": recorded.get("fingerprint"), "dim": recorded.get("dim")}
        if self.config.features != "dense":  # a model on TF-IDF columns fits only the matrix it was trained on
            source.update(features=self.config.features, pool=self.corpus.pool_record() or None)
        return source

    def features_source(self) -> dict:
        """What an embedding learner's feature rows are gathered from (caches of those rows are checked by it)."""
        return self._model_source("logistic")

    @staticmethod
    def _learner_parameters(learner) -> dict:  # noqa: ANN001 - a fitted learner
        """Its constructor parameters (public attributes without a trailing underscore), to retrain it alike."""
        return {name: value for name, value in vars(learner).items() if not name.startswith("_")
                and not name.endswith("_") and isinstance(value, str | int | float | bool | type(None))}

    def _save_model(self, model: TrainedModel) -> None:
        """Weights (model.npz, or save_pretrained's safetensors), then what they are and were trained on (with the
        weights' SHA-256) to model.json."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        saved_to = self._weights_path(model.learner_name)
        model.learner.save(saved_to)
        info = {"format": self.MODEL_FORMAT, "learner": model.learner_name, "classes": model.classes,
                "parameters": model.parameters,
                "embeddings": model.embeddings, "n_labels": model.n_labels, "label_rows": model.label_rows,
                "train_seconds": model.train_seconds, "estimated_prevalence": model.estimated_prevalence,
                "sha256": self._weights_sha256(saved_to)}
        write_text_atomic(self.model_info_path, json.dumps(info, indent=2) + "\n")

    def saved_model(self) -> TrainedModel | None:
        """The model saved by the last ``train``, verified against its checksum; None when there is none.

        A leftover ``model.pkl`` from older versions is never read (unpickling can run code). A garbled or
        tampered file raises DataError that says to retrain.
        """
        if not self.model_info_path.exists():  # never trained, or a save cut short before its description
            return None
        from textsel.learner import make_learner

        try:
            try:
                info = json.loads(self.model_info_path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
                raise DataError(f"cannot read {self.model_info_path.name}: {error}") from error
            if not isinstance(info, dict) or info.get("format") != self.MODEL_FORMAT:
                raise DataError(f"{self.model_info_path.name} is not a textsel model description")
            name = info.get("learner", "logistic")
            if name not in SAVED_LEARNERS:
                raise DataError(f"{self.model_info_path.name} names an unknown learner {name!r}")
            saved_to = self._weights_path(name)
            digest = self._weights_sha256(saved_to)
            if digest is None or digest != info.get("sha256"):
                raise DataError(f"{saved_to.name} does not match the checksum in {self.model_info_path.name}")
            learner = type(make_learner(name)).load(saved_to)
            classes = [str(label) for label in learner.classes_]
            if classes != info.get("classes"):
                raise DataError(f"the classes in {saved_to.name} differ from {self.model_info_path.name}")
            return TrainedModel(learner, classes, int(info["n_labels"]), int(info["label_rows"]),
                                float(info["train_seconds"]), info.get("estimated_prevalence"), info.get("embeddings"),
                                name, dict(info.get("parameters") or {}))
        except (DataError, KeyError, TypeError, ValueError) as error:
            raise DataError(f"the saved model in {self.cache_dir} is corrupt ({error}); retrain the model to "
                            f"replace it") from error

    def trained_model(self, *, engine: str = "local", address: str | None = None,
                      workers: int | None = None) -> TrainedModel:
        """The saved model, retrained first (the same learner, the same parameters; ``engine`` as in :meth:`train`)
        when labels or the data it was trained on changed since."""
        model = self.saved_model()
        name = model.learner_name if model is not None else "logistic"
        if model is not None and model.label_rows == self.store.label_count():
            if name == "logistic" and not self.vectors.is_static:
                self.vectors.embeddings()  # records which vectors the model is checked against
            if model.embeddings == self._model_source(name):
                return model
        return self.train(name, engine=engine, address=address, workers=workers,
                          **(model.parameters if model is not None else {}))

    def positive_probabilities(self, doc_ids: Sequence[int]) -> list[float | None]:
        """The trained model's P(positive class) of each document (internal ids); all None before two classes
        are labeled. The model is retrained first when labels changed since it was saved (see trained_model)."""
        try:
            model = self.trained_model()
        except TooFewClassesError:  # nothing to predict with yet; a damaged cache is still an error
            return [None] * len(doc_ids)
        if self.config.positive not in model.classes or not len(doc_ids):
            return [None] * len(doc_ids)
        if getattr(model.learner, "input", "embeddings") == "texts":
            inputs = self.corpus.texts(doc_ids)  # only these rows, from the pool cache when it is valid
        else:  # positions from the pool cache's ids: the pool itself is not loaded
            inputs = self.classifier_rows(self.corpus.positions(np.asarray(doc_ids, dtype=np.int64)))
        column = model.classes.index(self.config.positive)
        return [float(p) for p in model.learner.predict_proba(inputs)[:, column]]

    def _model_inputs(self, learner, start: int, stop: int):  # noqa: ANN001, ANN202 - a learner; rows it reads
        """Pool rows ``start:stop`` as the learner reads them: embedding rows or texts."""
        if getattr(learner, "input", "embeddings") == "texts":
            return self.corpus.pool.texts[start:stop]
        return self.classifier_rows(slice(start, stop))

    def classifier_rows(self, rows):  # noqa: ANN001, ANN201 - positions or a slice; float32 array or CSR
        """Pool ``rows`` as a classifier on feature rows reads them: the project's classifier features when they
        are not dense (:meth:`classifier_features`), else the embedding rows (:meth:`learner_features`)."""
        classifier = self.classifier_features()
        return take_rows(self.learner_features() if classifier is None else classifier, rows)

    def ray_scorer(self, features: np.ndarray | None, reads: str, address: str | None,
                    workers: int | None):  # noqa: ANN202 - scorer(learner) -> probabilities of every pool row
        """Scores every pool row on Ray Data: the embeddings (read by the workers from the cache file) or the texts
        (staged under the project's cache). A learner with a torch model (the transformer target) gets one GPU per
        scoring actor when the project's device is CUDA, as embedding does; the others score on CPUs.

        The last learner scored and its probabilities are kept for the process, so ``predict`` after a retrain
        (whose prevalence estimate scored the pool with the same fitted learner) makes one pass over the pool, not
        two."""
        from textsel.score_ray import runs_on_gpu, score_pool_ray

        if reads == "embeddings" and self.config.features != "dense":
            raise ConfigError(f"scoring on Ray reads the embeddings, but this project's classifier reads "
                              f"{self.config.features} features; score it locally")
        on_cuda = self.vectors.embedder().device_class == "cuda"

        def scorer(learner):  # noqa: ANN001, ANN202 - a fitted learner -> probabilities of every pool row
            if self._last_ray_scores is not None and self._last_ray_scores[0] is learner:
                return self._last_ray_scores[1]
            probabilities = score_pool_ray(learner, embeddings=features if reads == "embeddings" else None,
                                           texts=self.corpus.pool.texts if reads == "texts" else None,
                                           staging_dir=self.cache_dir, address=address, workers=workers,
                                           gpus_per_worker=1.0 if on_cuda and runs_on_gpu(learner) else 0.0,
                                           show_progress=self.show_progress)
            self._last_ray_scores = (learner, probabilities)
            return probabilities

        return scorer

    def predict(self, out: str | Path, *, engine: str = "local", address: str | None = None,
                workers: int | None = None, force: bool = False) -> int:
        """Write id, text, predicted label and one probability column per class (``p_<label>``, see
        ``probability_columns``) for every text not removed from the corpus; return how many. The format is
        ``out``'s suffix: ``.parquet``, ``.csv`` or ``.jsonl`` (:mod:`textsel.tables`).

        ``engine`` "ray" scores the pool on Ray Data (a local Ray, or the cluster at ``address``, with ``workers``
        scoring actors; see :func:`textsel.score_ray.score_pool_ray`) instead of in this process. ``out`` is checked
        first (:func:`textsel.outputs.check_output_file`: never in or over the project, an existing file only with
        ``force``).
        """
        from textsel.outputs import check_output_file
        from textsel.score_ray import check_engine
        from textsel.tables import table_format, write_table

        check_engine("Project.predict", engine, address, workers)
        check_output_file(out, force=force, project_dir=self.project_dir)
        table_format(out)
        if self.config.features != "static" or engine == "ray":  # static features: every text has its vectors
            self.vectors.refuse_static("predicting every text", "select likely positives among the candidates with "
                                       "the most-likely-positive strategy, use the static features "
                                       "([features] kind = \"static\"), or remove first_pass from [embeddings] in "
                                       "textsel.toml and embed the whole pool to predict it")
        model = self.trained_model(engine=engine, address=address, workers=workers)
        if engine == "ray":
            reads = getattr(model.learner, "input", "embeddings")
            features = self.vectors.embeddings() if reads == "embeddings" else None
            probabilities = self.ray_scorer(features, reads, address, workers)(model.learner)
        else:
            learner, chunk = model.learner, 65_536
            probabilities = np.vstack([learner.predict_proba(self._model_inputs(learner, start, start + chunk))
                                       for start in range(0, len(self.corpus.ids), chunk)])
        kept = np.flatnonzero(~isin(self.corpus.ids, self.corpus.removed_ids()))
        probabilities = probabilities[kept]
        pool = self.corpus.pool
        ids = np.asarray(pool.keys, dtype=object)[kept].tolist() if pool.has_string_ids else self.corpus.ids[kept]
        columns = {"id": ids, "text": [self.corpus.pool.texts[i] for i in kept],
                   "predicted": np.asarray(model.classes, dtype=object)[probabilities.argmax(axis=1)].astype(str)}
        ordered = [name for name in self.config.labels if name in model.classes]  # the project's label order
        columns.update({column: probabilities[:, model.classes.index(name)]
                        for column, name in zip(probability_columns(ordered), ordered, strict=True)})
        write_table(columns, out)
        return len(kept)


def probability_columns(classes: Sequence[str]) -> list[str]:
    """Clean column names ``p_<label>`` for class probabilities: lower case, runs of anything but letters, digits
    and ``_`` made one ``_``; a name that would repeat another (or a fixed column) gets ``_2``, ``_3`` ..."""
    import re

    taken = {"id", "text", "predicted"}
    names = []
    for label in classes:
        base = "p_" + (re.sub(r"[^0-9a-z]+", "_", str(label).lower()).strip("_") or "class")
        name, number = base, 2
        while name in taken:
            name, number = f"{base}_{number}", number + 1
        taken.add(name)
        names.append(name)
    return names

