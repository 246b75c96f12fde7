"""Creating a project folder: ``init_project`` checks everything it can before it writes anything."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from textsel._atomic import write_text_atomic
from textsel._integrity import file_record
from textsel.errors import StoreError
from textsel.project.corpus import _record_pool, _record_pool_cache
from textsel.project.facade import Project
from textsel.project_config import CONFIG_NAME, DB_NAME, DEFAULT_LABELS, DEFAULT_MODEL, ProjectConfig, default_features
from textsel.store import Store


def init_project(directory: str | Path, *, data: str, text_col: str = "text", id_col: str | None = None,
                 label_col: str | None = None, format: str | None = None, labels: Sequence[str] | None = None,
                 positive: str | None = None, model: str | None = None, embeddings: str | None = None,
                 backend: str = "hnsw", first_pass: str | None = None, dedupe: str | None = None,
                 features: str | None = None, goal: str = "find-all") -> Project:
    """Create a project folder: check the model loads, the data loads (and precomputed embeddings fit), then write
    the database (with what the data file and embeddings were) and the config. Nothing is written on failure.

    ``first_pass`` "static" makes a static first-pass project (see :attr:`Project.is_static`): model2vec must be
    installed and the model must be a local folder (the static model is distilled from it offline). ``dedupe``
    "id" or "text" keeps the first row of each id or text (recorded in textsel.toml; the returned project's
    ``pool.dedupe_report`` says what was dropped). ``features`` is what the classifier reads
    (:mod:`textsel.features`: dense, lexical or hybrid; None: :func:`textsel.project_config.default_features` of
    the goal); ``goal`` picks the default strategy, learner and batch of rounds ("find-all" or "train-classifier",
    :func:`textsel.rounds.strategy_for_goal`).
    """
    from textsel.outputs import check_new_project, creating_project

    directory = check_new_project(directory)  # a named folder, not a file, not inside another project, writable
    if (directory / CONFIG_NAME).exists():
        raise StoreError(f"{directory.resolve()} is already a textsel project ({CONFIG_NAME} exists)")
    if (directory / DB_NAME).exists():
        raise StoreError(f"{directory.resolve()} already holds a {DB_NAME} (without {CONFIG_NAME}); move it away or "
                         f"choose another folder")
    source = str(Path(data).resolve()) if Path(data).exists() else data
    features = default_features(goal, first_pass) if features is None else features
    config = ProjectConfig(source=source, text_col=text_col, id_col=id_col, label_col=label_col, format=format,
                           labels=list(labels or DEFAULT_LABELS), positive=positive, model=model or DEFAULT_MODEL,
                           precomputed=str(Path(embeddings).resolve()) if embeddings else None, backend=backend,
                           first_pass=first_pass, dedupe=dedupe, features=features, goal=goal)
    if first_pass is not None:
        from textsel.static import check_static_available

        check_static_available(config.model)
    if model is not None:
        from textsel.embed import check_model_loads

        check_model_loads(model)
    from textsel.data import load_pool

    pool = load_pool(config.source, text_col=text_col, id_col=id_col, label_col=label_col, format=format,
                     dedupe=dedupe)
    precomputed = None
    if config.precomputed:
        from textsel.embed import load_embeddings

        load_embeddings(config.precomputed, len(pool))
        precomputed = file_record(config.precomputed)
    with creating_project(directory, (DB_NAME, CONFIG_NAME, "cache")):  # an error removes what was made here
        directory.mkdir(parents=True, exist_ok=True)
        with Store(directory / DB_NAME, create=True) as store:
            store.set_meta("pool_size", len(pool))
            _record_pool(store, pool, config.source)
            _record_pool_cache(store, pool, directory / "cache", config)
            if precomputed is not None:
                store.set_meta("precomputed_file", precomputed)
        write_text_atomic(directory / CONFIG_NAME, config.to_toml(directory))
    project = Project(directory)
    project.__dict__["pool"] = pool
    return project
