"""Per-round metrics of a labeling run, their summary over repeats, and writing them as JSON lines."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from textsel._atomic import atomic_path, write_text_atomic
from textsel.errors import DataError

POSITIVE_TARGETS = (10, 50, 100)


def heldout_scores(probabilities: np.ndarray, test_labels: np.ndarray, classes: np.ndarray,
                positive_label=None) -> dict[str, float | None]:
    """Average precision and ROC-AUC on a held-out set: of the positive class, or macro one-vs-rest.

    Undefined values (a test set with one class) are None, not an error.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    test_labels = np.asarray(test_labels)
    classes = list(np.asarray(classes).tolist())
    if not len(test_labels):
        return {"average_precision": None, "roc_auc": None}
    if positive_label is not None:
        truth = test_labels == positive_label
        if truth.all() or not truth.any():
            return {"average_precision": None, "roc_auc": None}
        column = probabilities[:, classes.index(positive_label)] if positive_label in classes else \
            np.zeros(len(test_labels))
        return {"average_precision": float(average_precision_score(truth, column)),
                "roc_auc": float(roc_auc_score(truth, column))}
    present = [c for c in classes if (test_labels == c).any() and not (test_labels == c).all()]
    if not present:
        return {"average_precision": None, "roc_auc": None}
    aps = [average_precision_score(test_labels == c, probabilities[:, classes.index(c)]) for c in present]
    aucs = [roc_auc_score(test_labels == c, probabilities[:, classes.index(c)]) for c in present]
    return {"average_precision": float(np.mean(aps)), "roc_auc": float(np.mean(aucs))}


def labels_to_reach(is_positive: Sequence[bool], targets: Iterable[int] = POSITIVE_TARGETS) -> dict[str, int | None]:
    """Labels needed (in labeling order) to reach the first N positives; None when never reached."""
    cumulative = np.cumsum(np.asarray(is_positive, dtype=bool))
    out = {}
    for target in targets:
        reached = np.flatnonzero(cumulative >= target)
        out[f"labels_to_{target}_positives"] = int(reached[0]) + 1 if len(reached) else None
    return out


def _mean_sd(values: list) -> dict[str, float | None]:
    values = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not values:
        return {"mean": None, "sd": None, "n": 0}
    array = np.asarray(values, dtype=np.float64)
    return {"mean": float(array.mean()), "sd": float(array.std(ddof=1)) if len(array) > 1 else 0.0,
            "n": len(array)}


def summarize(records: list[dict], group_by: Sequence[str] = ("concept", "strategy", "pool")) -> list[dict]:
    """Mean and sd over repeats of each run's final metrics, per group (e.g. concept x strategy x pool).

    Reports final AP / ROC-AUC / positives found / recall, and per-round means of pool fraction, selection
    and training seconds, and labels needed to reach 10/50/100 positives.
    """
    runs: dict[tuple, dict[int, list[dict]]] = {}
    for record in records:
        key = tuple(record.get(name) for name in group_by)
        runs.setdefault(key, {}).setdefault(record["repeat"], []).append(record)
    summary = []
    for key, repeats in runs.items():
        finals = [max(rows, key=lambda r: r["labels"]) for rows in repeats.values()]
        selecting = [[r for r in rows if r.get("candidate_pool_size") is not None] for rows in repeats.values()]
        row = dict(zip(group_by, key, strict=True))
        row["repeats"] = len(repeats)
        for name in ("average_precision", "roc_auc", "positives_found", "recall", "labels",
                     *(f"labels_to_{t}_positives" for t in POSITIVE_TARGETS)):
            row[f"final_{name}" if not name.startswith("labels_to") else name] = _mean_sd([f.get(name) for f in finals])
        for name in ("pool_fraction", "select_seconds", "train_seconds", "density_seconds"):
            per_run = [float(np.mean([r[name] for r in rows])) for rows in selecting if rows]
            row[f"mean_{name}"] = _mean_sd(per_run)
        summary.append(row)
    return summary


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def write_jsonl(path: str | Path, records: Iterable[dict]) -> None:
    """Write one JSON object per line, atomically (temp file + rename)."""
    write_text_atomic(path, "".join(json.dumps(r, default=_jsonable) + "\n" for r in records))


def write_json(path: str | Path, value) -> None:
    """Write one JSON document, atomically."""
    write_text_atomic(path, json.dumps(value, indent=2, default=_jsonable) + "\n")


def read_jsonl(path: str | Path) -> list[dict]:
    """Read JSON lines; a malformed line raises DataError naming the file and row."""
    records = []
    for row, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise DataError(f"not valid JSON ({error.msg})", file=str(path), row=row) from error
    return records


def plot_runs(records: list[dict], path: str | Path, group_by: Sequence[str] = ("strategy", "pool")) -> None:
    """PNG comparing runs: test AP and positives found vs labels, and pool fraction vs round (mean over repeats)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    groups: dict[str, list[dict]] = {}
    for record in records:
        groups.setdefault(" / ".join(str(record.get(n)) for n in group_by), []).append(record)
    for name, rows in sorted(groups.items()):
        for axis, x_name, y_name in ((axes[0], "labels", "average_precision"), (axes[1], "labels", "positives_found"),
                                     (axes[2], "round", "pool_fraction")):
            points: dict[int, list[float]] = {}
            for r in rows:
                if r.get(y_name) is not None:
                    points.setdefault(r[x_name], []).append(r[y_name])
            if points:
                xs = sorted(points)
                axis.plot(xs, [np.mean(points[x]) for x in xs], marker=".", label=name)
    for axis, title, xlabel in ((axes[0], "test average precision", "labels"),
                                (axes[1], "positives found", "labels"),
                                (axes[2], "fraction of unlabeled pool scored", "round")):
        axis.set_title(title)
        axis.set_xlabel(xlabel)
        axis.grid(alpha=0.3)
    if axes[0].get_legend_handles_labels()[0]:
        axes[0].legend(fontsize=8)
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=100)
    plt.close(figure)
