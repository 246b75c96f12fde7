"""What both recipes share: where the data is, loading a labeled embedded corpus, SEALS vs All, and output files.

Everything here calls the public textsel API; nothing re-implements selection, indexing or metrics.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from textsel._atomic import atomic_path, write_text_atomic
from textsel.candidates import AllCandidates, SEALSCandidates
from textsel.index import build_index
from textsel.learner import LogisticLearner
from textsel.simulate import HeldOut, run_simulation

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))  # the one results writer, shared with the benchmarks
from _results import Run, add_run_options, start_run  # noqa: E402

__all__ = ["Run", "add_run_options", "start_run"]
SHARED_DATA = REPO.parent / "shared" / "data"
RESULTS = REPO / "recipes" / "results"


@dataclass
class Corpus:
    """A pool to select from and a held-out test set, with row-aligned texts, embeddings and one label column.

    ``pool_values`` / ``test_values`` hold the raw label column (e.g. the Amazon domain); a concept is a
    boolean view of it (see :meth:`concept`).
    """

    name: str
    pool_ids: np.ndarray
    pool_texts: list[str]
    pool_features: np.ndarray
    pool_values: np.ndarray
    test_features: np.ndarray
    test_values: np.ndarray

    def concept(self, positive: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(pool labels, test labels) as 0/1 ints for the concept ``positive(values) -> bool mask``."""
        return positive(self.pool_values).astype(int), positive(self.test_values).astype(int)


def load_parquet_corpus(folder: Path, label_col: str, *, test: Callable[[dict], np.ndarray],
                        rows: Callable[[dict], np.ndarray] | None = None, name: str | None = None) -> Corpus:
    """A shared data set folder (data.parquet + minilm.f16.npy) as a Corpus.

    ``test(columns)`` marks the test rows; ``rows(columns)`` optionally picks which rows to use at all (e.g. to
    subsample the positives). Embeddings are the shared precomputed all-MiniLM-L6-v2 vectors.
    """
    from textsel.data import load_pool
    from textsel.embed import load_embeddings

    pool = load_pool(folder / "data.parquet", label_col=label_col)  # ids = file row numbers, as the embeddings
    vectors = load_embeddings(folder / "minilm.f16.npy")[pool.ids]
    keep = rows(pool.columns) if rows is not None else np.ones(len(pool), dtype=bool)
    in_test = test(pool.columns)
    pool_at, test_at = np.flatnonzero(keep & ~in_test), np.flatnonzero(keep & in_test)
    values = np.asarray(pool.column(label_col))
    return Corpus(name or folder.name, pool.ids[pool_at], [pool.texts[i] for i in pool_at],
                  np.asarray(vectors[pool_at], dtype=np.float32), values[pool_at],
                  np.asarray(vectors[test_at], dtype=np.float32), values[test_at])


def subsample_positives(is_positive: np.ndarray, rate: float, seed: int) -> np.ndarray:
    """Mask keeping every negative and a seeded random share of the positives, so positives make ``rate``."""
    rng = np.random.default_rng(seed)
    positives = np.flatnonzero(is_positive)
    n_keep = min(len(positives), int(round(rate * (~is_positive).sum() / (1 - rate))))
    keep = ~is_positive.copy()
    keep[rng.choice(positives, n_keep, replace=False)] = True
    return keep


def timed_index(features: np.ndarray, ids: np.ndarray, backend: str):
    """Build the pool's index; return it with the seconds it took."""
    start = time.perf_counter()
    index = build_index(features, ids, backend=backend)
    return index, time.perf_counter() - start


def seals_and_all(corpus: Corpus, labels: np.ndarray, test_labels: np.ndarray, index, *, strategy: str,
                  budget: int, batch_size: int, k: int, seed: int) -> dict[str, list[dict]]:
    """One SEALS session and its full-scan twin (same seed labels, strategy and budget); per-round records."""
    runs = {}
    for pool_name in ("seals", "all"):
        candidate_pool = SEALSCandidates(index, k=k) if pool_name == "seals" else AllCandidates()
        runs[pool_name] = run_simulation(
            corpus.pool_ids, labels, features=corpus.pool_features, heldout=HeldOut(test_labels, corpus.test_features),
            strategy=strategy, candidate_pool=candidate_pool, learner=LogisticLearner(), batch_size=batch_size,
            budget=budget, seed=seed, index=index, keep_labeled_ids=True)
    return runs


def run_figures(records: list[dict]) -> dict:
    """The headline numbers of one simulated session: final recall and AP, pool fraction and selection time."""
    final = records[-1]
    selecting = [r for r in records if r["candidate_pool_size"] is not None]
    return {"labels": final["labels"], "positives_found": final["positives_found"], "recall": final["recall"],
            "average_precision": final["average_precision"],
            "pool_fraction": float(np.mean([r["pool_fraction"] for r in selecting])),
            "max_pool_fraction": float(np.max([r["pool_fraction"] for r in selecting])),
            "select_seconds_per_round": float(np.mean([r["select_seconds"] for r in selecting])),
            "labels_to_10_positives": final["labels_to_10_positives"]}


def mean(values: Sequence) -> float | None:
    """Mean of the values that are not None (None when there are none)."""
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def fmt(value, spec: str = ".3f") -> str:
    """A number for a table cell; '-' for None."""
    return "-" if value is None else format(value, spec)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    """A GitHub markdown table (the same text is printed to the terminal)."""
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines)


def run_info(seeds: Sequence[int], record: Run, argv: Sequence[str] | None = None) -> dict:
    """The exact command, seeds, runtime and machine of a recipe run, for the markdown; the full provenance block
    (commit, dirty flag, load, packages, machine) is added when ``write_results`` writes the JSON through
    ``record`` (the one results writer, benchmarks/_results.py)."""
    argv = sys.argv if argv is None else argv
    script = Path(argv[0]).resolve()
    try:
        script = script.relative_to(REPO)
    except ValueError:
        pass
    command = [".venv/bin/python", str(script), *argv[1:]]
    record.command = command
    return {"command": " ".join(command), "seeds": list(seeds),
            "runtime_seconds": round(time.perf_counter() - record.started, 1), "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "finished_utc": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def commit_note(record: Run) -> str:
    """'Commit: <sha>' of the run (with a warning when the tree had uncommitted changes), for the markdown."""
    dirty = " (with uncommitted changes: not quotable)" if record.dirty else ""
    return f"Commit: {record.commit or 'unknown'}{dirty}"


def write_results(out_dir: Path, stem: str, markdown: str, payload: dict, figure, record: Run) -> list[Path]:
    """``<stem>.md``, ``<stem>.json`` (``payload`` with provenance, through ``record``) and ``<stem>.png`` (from the
    matplotlib ``figure``), each written atomically through a unique temporary name (:mod:`textsel._atomic`)."""
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{stem}.md", out_dir / f"{stem}.json", out_dir / f"{stem}.png"]
    record.write(payload, payload.get("seeds"), paths[1])
    write_text_atomic(paths[0], markdown)
    figure.tight_layout()
    with atomic_path(paths[2]) as temp_png:
        figure.savefig(temp_png, format="png", dpi=100)
    plt.close(figure)
    return paths


def new_figure(columns: int, size: tuple[float, float]):
    """A row of ``columns`` matplotlib axes, drawn off-screen."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(1, columns, figsize=size)
