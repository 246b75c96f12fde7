"""SVP experiments on labeled pools: build the models by name, run a loop, train the target, write JSON and a PNG.

This is what ``textsel svp active`` and ``textsel svp coreset`` call; each returns a JSON-ready report.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from textsel._atomic import atomic_path, write_text_atomic
from textsel.data import Pool, load_pool, resolve_data, split_test
from textsel.errors import DataError, check_param
from textsel.learner import make_learner
from textsel.outputs import check_output_folder, writing
from textsel.provenance import results_with_provenance
from textsel.svp import majority_error, resolve_size, select_active, select_coreset, target_error, train_on_selection

MODELS = ("fasttext", "transformer", "vdcnn9", "vdcnn17", "vdcnn29")


def make_model(name: str, *, seed: int = 0, epochs: int | None = None, max_length: int | None = None,
               learning_rate: float | None = None, device: str | None = None,
               model_path: str | None = None):  # noqa: ANN201 - a learner
    """:func:`textsel.learner.make_learner` under the SVP commands' model names and options: ``vdcnn9``,
    ``vdcnn17`` and ``vdcnn29`` are the "vdcnn" learner at that depth; ``epochs`` and ``learning_rate`` are
    fastText's ``epoch`` and ``lr``; an option left None (or one the model does not take) keeps the learner's
    default, which is the paper's (fastText: 5 epochs at learning rate 0.05; transformer: 3 epochs at 5e-5;
    VDCNN: 15 epochs at 0.01)."""
    check_param("make_model", "name", name, name in MODELS, f"one of {MODELS}")
    if name == "fasttext":
        learner, params, options = "fasttext", {}, {"epoch": epochs, "lr": learning_rate}
    else:
        learner, params = ("transformer", {}) if name == "transformer" else ("vdcnn", {"depth": int(name[5:])})
        options = {"epochs": epochs, "learning_rate": learning_rate, "max_length": max_length, "device": device}
        if name == "transformer":
            options["model_name_or_path"] = model_path
    params.update({option: value for option, value in options.items() if value is not None})
    return make_learner(learner, seed=seed, **params)


def load_labeled_pools(data: str | Path, *, text_col: str = "text", label_col: str = "label",
                       id_col: str | None = None, test_split: str | float | None = None,
                       seed: int = 0) -> tuple[Pool, Pool]:
    """(train, test) pools of the rows that have a label; ``test_split`` as in ``textsel simulate``:
    "column=value", a fraction, or None (split=test when present, else 20% at random). Without ``id_col``
    ids are row numbers."""

    path = resolve_data(data)
    pool = load_pool(path, text_col=text_col, id_col=id_col, label_col=label_col)
    values = pool.column(label_col)
    labeled = np.asarray([value is not None and value == value and str(value) != "" for value in values])
    if not labeled.any():
        raise DataError("no row has a label", file=str(path), column=label_col)
    pool = pool.subset(np.flatnonzero(labeled))
    test, _ = split_test(pool.columns, len(pool), test_split, seed)
    if test.all():
        raise DataError("the test split takes every labeled row; nothing is left to select from", file=str(path))
    return pool.subset(np.flatnonzero(~test)), pool.subset(np.flatnonzero(test))


def _texts_labels(pool: Pool, label_col: str) -> tuple[list[str], np.ndarray]:
    return pool.texts, pool.column(label_col)


def run_active_experiment(train: Pool, test: Pool | None, *, label_col: str, selector, target=None,
                          strategy: str = "least-confidence", initial_size: int | float = 0.1,
                          round_sizes: Sequence[int | float] = (0.1,), target_sizes: Sequence[int] = (),
                          seed: int = 0, show_progress: bool = False) -> dict:
    """SVP active learning on ``train``; the target trains only at ``target_sizes`` (default: the final size)
    on the proxy's selection and on a random subset of the same size, and is scored on ``test``. The report carries
    its provenance (textsel.provenance)."""
    started = time.perf_counter()
    texts, labels = _texts_labels(train, label_col)
    result = select_active(selector, texts, labels, initial_size=initial_size, round_sizes=round_sizes,
                           strategy=strategy, seed=seed, show_progress=show_progress)
    report = {
        "kind": "active", "strategy": strategy, "selector": type(selector).__name__, "seed": seed,
        "pool_size": len(train), "round_ends": result.round_ends, "round_seconds": result.round_seconds,
        "selection_seconds": result.selection_seconds, "selected_ids": train.ids[result.order].tolist(),
        "score_spreads": result.score_spreads(), "flat_rounds": result.flat_rounds(),
    }
    if target is not None and test is not None:
        sizes = [int(size) for size in target_sizes] or [result.round_ends[-1]]
        test_texts, test_labels = _texts_labels(test, label_col)
        random_order = np.random.default_rng(seed + 1).permutation(len(train))
        report["target"] = type(target).__name__
        report["majority_error"] = majority_error(labels, test_labels)
        report["target_selected"] = _by_size(train_on_selection(target, texts, labels, result.order, sizes,
                                                                test_texts, test_labels))
        report["target_random"] = _by_size(train_on_selection(target, texts, labels, random_order, sizes,
                                                              test_texts, test_labels))
    return results_with_provenance(report, seeds=[seed], started=started)


def run_coreset_experiment(train: Pool, test: Pool | None, *, label_col: str, selector, target=None,
                           strategy: str = "entropy", keep: int | float = 0.5, compare_all: bool = True,
                           seed: int = 0) -> dict:
    """SVP core-set selection on ``train``; the target trains on the kept subset (and on all data)."""
    started = time.perf_counter()
    texts, labels = _texts_labels(train, label_col)
    result = select_coreset(selector, texts, labels, keep=keep, strategy=strategy, seed=seed)
    report = {
        "kind": "coreset", "strategy": strategy, "selector": type(selector).__name__, "seed": seed,
        "pool_size": len(train), "kept_size": len(result.kept), "selection_seconds": result.selection_seconds,
        "kept_ids": train.ids[result.kept].tolist(),
    }
    if target is not None and test is not None:
        test_texts, test_labels = _texts_labels(test, label_col)
        report["target"] = type(target).__name__
        report["majority_error"] = majority_error(labels, test_labels)
        report["target_kept"] = target_error(target, [texts[i] for i in result.kept], labels[result.kept],
                                             test_texts, test_labels)
        if compare_all:
            report["target_all"] = target_error(target, texts, labels, test_texts, test_labels)
    return results_with_provenance(report, seeds=[seed], started=started)


def _by_size(results: dict[int, dict]) -> dict[str, dict]:
    return {str(size): values for size, values in results.items()}


def parse_sizes(values: Sequence[str], pool_size: int | None = None) -> list[int | float]:
    """Sizes from text: "200" is a count, "0.1" a fraction of the pool (resolved when ``pool_size`` is given)."""
    sizes: list[int | float] = [float(value) if "." in value else int(value) for value in values]
    return [resolve_size(size, pool_size) for size in sizes] if pool_size is not None else sizes


def write_results(report: dict, output_dir: str | Path) -> tuple[Path, Path]:
    """Write ``<kind>.json`` and ``<kind>.png`` into ``output_dir`` atomically (temp file, then rename)."""
    output_dir = check_results_folder(output_dir, report["kind"])
    json_path, png_path = output_dir / f"{report['kind']}.json", output_dir / f"{report['kind']}.png"
    with writing(output_dir):
        output_dir.mkdir(parents=True, exist_ok=True)
        write_text_atomic(json_path, json.dumps(report, indent=2) + "\n")
        with atomic_path(png_path) as tmp:
            _plot(report, tmp)
    return json_path, png_path


def check_results_folder(output_dir: str | Path, kind: str) -> Path:
    """Check where :func:`write_results` will write an experiment ``kind``'s ``<kind>.json`` and ``<kind>.png``
    (:func:`textsel.outputs.check_output_folder`), before the experiment runs."""
    return check_output_folder(output_dir, names=(f"{kind}.json", f"{kind}.png"))


def _plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    if report["kind"] == "active":
        left.bar([str(end) for end in report["round_ends"][:-1]], report["round_seconds"])
        left.set(xlabel="labeled texts when the round starts", ylabel="selection seconds",
                 title=f"{report['selector']} selection runtime per round")
        for name in ("target_selected", "target_random"):
            sizes = sorted(report.get(name, {}), key=int)
            right.plot([int(size) for size in sizes], [100 * report[name][size]["error"] for size in sizes],
                       marker="o", label=name.replace("target_", ""))
    else:
        bars = {name: report[name]["error"] * 100 for name in ("target_kept", "target_all") if name in report}
        right.bar(list(bars), list(bars.values()))
        left.bar(["selection"], [report["selection_seconds"]])
        left.set(ylabel="seconds", title=f"{report['selector']} core-set selection ({report['strategy']})")
    right.set(ylabel="target test error (%)", title=report.get("target", "no target trained"))
    if right.get_legend_handles_labels()[0]:
        right.legend()
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=100)
    plt.close(figure)
