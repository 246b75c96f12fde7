"""Simulated labeling: replay SEALS (or any candidate pool x strategy) against oracle labels and measure it.

``run_simulation`` runs one labeling session on arrays already in memory (what benchmarks call in a loop);
``simulate`` loads a data set and its embeddings, runs every strategy x pool x repeat, and writes
``results.jsonl`` (one line per round), ``summary.json`` (mean and sd over repeats, with the run's provenance:
commit, command, packages, machine, seeds, wall time) and ``plot.png``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from textsel._home import shared_embedding_cache
from textsel.candidates import POOLS, make_candidate_pool
from textsel.data import resolve_data, split_test
from textsel.errors import ConfigError, DataError, NotFittedError, check_param
from textsel.learner import make_learner
from textsel.metrics import heldout_scores, labels_to_reach, plot_runs, summarize, write_json, write_jsonl
from textsel.outputs import check_output_folder, writing
from textsel.provenance import results_with_provenance
from textsel.rounds import NeighbourDensity, RoundEngine
from textsel.strategies import STRATEGIES, get_strategy

RESULT_FILES = ("results.jsonl", "summary.json", "plot.png")  # what simulate writes into its output folder

logger = logging.getLogger("textsel.simulate")


@dataclass
class HeldOut:
    """The test documents: labels plus whichever inputs the learner reads."""

    labels: np.ndarray
    features: np.ndarray | None = None
    texts: Sequence[str] | None = None


def draw_seed(labels: np.ndarray, pool_ids: np.ndarray, positive_label, n_positives: int, n_negatives: int,
              rng: np.random.Generator) -> np.ndarray:
    """Seed ids drawn from oracle labels: k positives + m negatives (binary), or k per class + m more."""
    labels = np.asarray(labels)
    if positive_label is not None:
        positives = np.flatnonzero(labels == positive_label)
        negatives = np.flatnonzero(labels != positive_label)
        if len(positives) < n_positives or len(negatives) < n_negatives:
            raise DataError(f"the pool has {len(positives)} positives and {len(negatives)} negatives; the seed "
                            f"asks for {n_positives} + {n_negatives}")
        chosen = np.concatenate([rng.choice(positives, n_positives, replace=False),
                                 rng.choice(negatives, n_negatives, replace=False)])
    else:
        per_class = [rng.choice(np.flatnonzero(labels == c), min(n_positives, int((labels == c).sum())),
                                replace=False) for c in np.unique(labels)]
        chosen = np.concatenate(per_class)
        rest = np.setdiff1d(np.arange(len(labels)), chosen)
        chosen = np.concatenate([chosen, rng.choice(rest, min(n_negatives, len(rest)), replace=False)])
    return pool_ids[chosen]


def _is_fitted(learner) -> bool:  # noqa: ANN001 - any textsel.learner.Learner
    try:
        learner.classes_  # noqa: B018 - set by fit (LogisticLearner raises NotFittedError before)
    except (NotFittedError, AttributeError):
        return False
    return True


def run_simulation(pool_ids, labels, *, features=None, texts=None, heldout: HeldOut | None = None,
                   strategy: str = "entropy", candidate_pool=None, learner=None, batch_size: int = 100,
                   budget: int = 2000, seed_positives: int = 5, seed_negatives: int = 95, positive_label=1,
                   seed: int = 0, index=None, density: NeighbourDensity | None = None,
                   keep_labeled_ids: bool = False) -> list[dict]:
    """One simulated labeling session; returns one metrics record per round (the last has the final model).

    ``labels`` are the oracle labels row-aligned with ``pool_ids``; ``positive_label=None`` means multi-class.
    Round records hold: labels used, positives found and recall, held-out AP and ROC-AUC, candidate-pool size
    and fraction of the unlabeled pool scored, selection/training/density seconds, labels to 10/50/100 positives.
    With ``keep_labeled_ids=True`` the last record also holds ``labeled_ids``, every labeled id in labeling order
    (seed first), e.g. to run :func:`textsel.diagnose.diagnose` on the labels the session collected.
    """
    pool_ids = np.asarray(pool_ids, dtype=np.int64)
    labels = np.asarray(labels)
    if not len(pool_ids):
        raise DataError("the pool is empty: no documents to select from")
    check_param("run_simulation", "budget", budget, isinstance(budget, int | np.integer) and budget >= 1,
                "an int >= 1")
    rng = np.random.default_rng(seed)
    seed_ids = draw_seed(labels, pool_ids, positive_label, seed_positives, seed_negatives, rng)
    if budget < len(seed_ids):
        raise ConfigError(f"The 'budget' parameter of run_simulation must be at least the seed size "
                          f"({len(seed_ids)} labels). Got {budget}.")
    engine = RoundEngine(pool_ids, candidate_pool if candidate_pool is not None else make_candidate_pool("all"),
                         features=features, texts=texts, strategy=strategy,
                         learner=learner if learner is not None else make_learner(), batch_size=batch_size,
                         positive_label=positive_label, classes=np.unique(labels), index=index, density=density,
                         seed=seed)
    order = list(seed_ids.tolist())
    labeled = dict(zip(order, labels[engine.positions(seed_ids)].tolist(), strict=True))
    total_positives = int((labels == positive_label).sum()) if positive_label is not None else None
    records = []
    while True:
        room = budget - len(labeled)
        engine.batch_size = min(batch_size, room) if room > 0 else batch_size
        result = engine.select_batch(labeled) if room > 0 else None
        train_seconds = result.train_seconds if result is not None else engine.fit(labeled)
        records.append(_round_record(len(records), order, labeled, positive_label, total_positives, engine,
                                     heldout, result, train_seconds))
        if result is None:
            if keep_labeled_ids:
                records[-1]["labeled_ids"] = list(order)
            return records
        order.extend(result.ids.tolist())
        labeled.update(zip(result.ids.tolist(), labels[engine.positions(result.ids)].tolist(), strict=True))


def _round_record(round_number, order, labeled, positive_label, total_positives, engine, heldout, result,
                  train_seconds) -> dict:
    record = {"round": round_number, "labels": len(order)}
    if positive_label is not None:
        is_positive = [labeled[i] == positive_label for i in order]
        record["positives_found"] = int(sum(is_positive))
        record["recall"] = record["positives_found"] / max(total_positives, 1)
        record.update(labels_to_reach(is_positive))
    else:
        record["positives_found"] = record["recall"] = None
    if heldout is not None and _is_fitted(engine.learner_):
        inputs = heldout.texts if getattr(engine.learner_, "input", "embeddings") == "texts" else heldout.features
        probabilities = engine.learner_.predict_proba(inputs)
        record.update(heldout_scores(probabilities, heldout.labels, engine.learner_.classes_, positive_label))
    else:
        record.update(average_precision=None, roc_auc=None)
    record["train_seconds"] = train_seconds
    if result is not None:
        record.update(candidate_pool_size=result.candidate_pool_size, unlabeled_size=result.unlabeled_size,
                      pool_fraction=result.pool_fraction, select_seconds=result.select_seconds,
                      density_seconds=result.density_seconds)
    else:
        record.update(candidate_pool_size=None, unlabeled_size=None, pool_fraction=None, select_seconds=None,
                      density_seconds=None)
    return record


# --- loading a data set --------------------------------------------------------------------------------------

def _load_rows(path: Path, text_col: str, label_col: str):
    """(texts, columns, row numbers) of the data file; row numbers index the row-aligned embeddings."""
    from textsel.data import load_pool

    pool = load_pool(path, text_col=text_col, label_col=label_col)  # no id_col: ids are file row numbers
    return pool, pool.texts, pool.columns, pool.ids


def _load_embeddings(data_path: Path, embeddings: str | Path | None, pool, cache_dir: Path,
                     show_progress: bool) -> np.ndarray:
    """Precomputed vectors (given, or minilm.f16.npy next to the data) for the pool's rows, else embed_pool
    with its content-keyed cache in ``cache_dir``."""
    from textsel.embed import embed_pool, load_embeddings

    default = data_path.parent / "minilm.f16.npy"
    if embeddings is None and default.exists():
        embeddings = default
    if embeddings is None:
        return embed_pool(pool, cache_dir=cache_dir, show_progress=show_progress)
    matrix = load_embeddings(embeddings)
    if len(matrix) <= int(pool.ids.max()):
        raise DataError(f"has {len(matrix)} embedding rows but the data has {int(pool.ids.max()) + 1} rows; "
                        "embeddings must be row-aligned with the data file", file=str(embeddings))
    return matrix[pool.ids]


def _oracle(columns: dict, label_col: str, positive: Sequence[str] | None) -> tuple[np.ndarray, object, str]:
    if label_col not in columns:
        raise DataError(f"no label column {label_col!r}; available: {', '.join(sorted(columns))}", column=label_col)
    values = np.asarray(columns[label_col])
    if not positive:
        return values.astype(str), None, "multiclass"
    present = set(values.astype(str).tolist())
    missing = [p for p in positive if p not in present]
    if missing:
        raise DataError(f"positive value {missing[0]!r} does not occur; values: {', '.join(sorted(present)[:30])}",
                        column=label_col)
    return np.isin(values.astype(str), list(positive)).astype(np.int64), 1, "+".join(positive)


def simulate(data: str | Path, *, out: str | Path, embeddings: str | Path | None = None, text_col: str = "text",
             label_col: str = "label", positive: Sequence[str] | None = None,
             strategies: Sequence[str] = ("entropy",), pools: Sequence[str] = ("seals",), k: int = 100,
             random_pool_size: int = 10_000, seed_positives: int = 5, seed_negatives: int = 95,
             batch_size: int = 100, budget: int = 2000, repeats: int = 1, test_split: str | float | None = None,
             learner: str = "logistic", C: float = 1.0, index_backend: str = "hnsw", seed: int = 0,
             cache_dir: str | Path | None = None, show_progress: bool = False,
             known_vectors: tuple[list[str], np.ndarray] | None = None) -> dict:
    """Simulate labeling on a data set; write results.jsonl, summary.json and plot.png under ``out``.

    ``positive`` values of ``label_col`` make the rare class (binary); without them the run is multi-class.
    Without precomputed ``embeddings`` the texts are embedded once into a content-keyed cache in ``cache_dir``
    (default: the shared cache under the textsel home, ``$TEXTSEL_HOME/embeddings``), so runs with different
    ``out`` folders reuse it; ``show_progress`` draws the embedding progress bar. ``known_vectors`` (texts, their
    vectors), e.g. a project's, supplies every text's vector by its text, so nothing is embedded.
    Returns the summary (also written to summary.json); its runs hold mean and sd over repeats.
    """
    from textsel.index import build_index

    started = time.perf_counter()
    for name in strategies:
        check_param("simulate", "strategy", name, name in STRATEGIES, f"one of {sorted(STRATEGIES)}")
    for name in pools:
        check_param("simulate", "pool", name, name in POOLS, f"one of {POOLS}")
    check_param("simulate", "repeats", repeats, isinstance(repeats, int) and repeats >= 1, "an int >= 1")
    check_param("simulate", "budget", budget, isinstance(budget, int) and budget >= seed_positives + seed_negatives,
                f"an int >= the seed size ({seed_positives} + {seed_negatives})")
    out = check_output_folder(out, names=RESULT_FILES)
    path = resolve_data(data)
    data_pool, texts, columns, rows = _load_rows(path, text_col, label_col)
    oracle, positive_label, concept = _oracle(columns, label_col, positive)
    test_mask, test_rule = split_test(columns, len(rows), test_split, seed)
    if known_vectors is not None:
        from textsel.vectors_export import vectors_by_text

        features = vectors_by_text(list(texts), *known_vectors)
    else:
        features = _load_embeddings(path, embeddings, data_pool, Path(cache_dir) if cache_dir is not None
                                    else shared_embedding_cache(), show_progress)
    pool_at, test_at = np.flatnonzero(~test_mask), np.flatnonzero(test_mask)
    if not len(pool_at):
        raise DataError("the pool is empty: every row is in the test split", file=str(path))
    pool_ids = rows[pool_at]
    pool_features = features[pool_at]
    heldout = HeldOut(oracle[test_at], features[test_at], [texts[i] for i in test_at]) if len(test_at) else None
    pool_texts = [texts[i] for i in pool_at]
    needs_density = any("density" in get_strategy(strategy).needs for strategy in strategies)
    index = build_index(pool_features, pool_ids, backend=index_backend) if "seals" in pools or needs_density else None
    # Density is data, not state: All runs share one cache (its one-time cost lands in the first ID-All run's
    # density_seconds); each SEALS/random run starts empty and pays for the candidates it sees, as in real use.
    shared_density = NeighbourDensity(index) if index is not None else None
    records = []
    for strategy in strategies:
        for pool in pools:
            for repeat in range(repeats):
                run_seed = seed + repeat
                rows_of_run = run_simulation(
                    pool_ids, oracle[pool_at], features=pool_features, texts=pool_texts, heldout=heldout,
                    strategy=strategy, candidate_pool=make_candidate_pool(pool, index=index, k=k,
                                                                          m=random_pool_size, seed=run_seed),
                    learner=make_learner(learner, C=C), batch_size=batch_size, budget=budget,
                    seed_positives=seed_positives, seed_negatives=seed_negatives, positive_label=positive_label,
                    seed=run_seed, index=index,
                    density=shared_density if pool == "all" or index is None else NeighbourDensity(index))
                meta = {"concept": concept, "strategy": strategy, "pool": pool, "repeat": repeat, "seed": run_seed}
                records.extend({**meta, **r} for r in rows_of_run)
                logger.info("%s %s repeat %d: final AP %s", strategy, pool, repeat,
                            rows_of_run[-1]["average_precision"])
    summary = {"data": str(path), "concept": concept, "label_col": label_col, "test_split": test_rule,
               "pool_size": int(len(pool_ids)), "test_size": int(len(test_at)), "k": k, "batch_size": batch_size,
               "budget": budget, "seed": [seed_positives, seed_negatives], "repeats": repeats, "learner": learner,
               "runs": summarize(records)}
    summary = results_with_provenance(summary, seeds=[seed + repeat for repeat in range(repeats)], started=started)
    with writing(out):
        out.mkdir(parents=True, exist_ok=True)
        write_jsonl(out / "results.jsonl", records)
        write_json(out / "summary.json", summary)
        plot_runs(records, out / "plot.png")
    return summary
