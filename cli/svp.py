"""`textsel svp active` and `textsel svp coreset`: Selection via Proxy on a labeled data set."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

svp_app = typer.Typer(help="Selection via Proxy: a fastText proxy selects the data an expensive target trains on.",
                      no_args_is_help=True)

Data = Annotated[str, typer.Argument(help="Data file (.parquet/.csv/.jsonl ...), a folder with data.parquet, or a "
                                          "data set name in $TEXTSEL_DATA (default ../shared/data).")]
Out = Annotated[Path, typer.Option("--out", "-o", help="Output folder for <command>.json and <command>.png.")]
TextCol = Annotated[str, typer.Option(help="Column holding the texts.")]
IdCol = Annotated[str | None, typer.Option(help="Column of unique ids: integers or strings (default: row numbers).")]
LabelCol = Annotated[str, typer.Option(help="Column holding the labels (rows without one are skipped).")]
TestSplit = Annotated[str | None, typer.Option(help="Held-out rows: 'column=value' (split=test) or a fraction "
                                                    "(0.2). Default: split=test if present, else 0.2.")]
Selector = Annotated[str, typer.Option(help="Selector: fasttext (the proxy), or transformer / vdcnn9 / vdcnn17 / "
                                            "vdcnn29 (the target as its own selector, the baseline).")]
Target = Annotated[str, typer.Option(help="Target trained on the selection: transformer, vdcnn9, vdcnn17, vdcnn29, "
                                          "fasttext, or none.")]
Epochs = Annotated[int | None, typer.Option(help="Target epochs (default: 3 transformer, 15 VDCNN).")]
MaxLength = Annotated[int | None, typer.Option(help="Target max length (default: 128 tokens, 1014 characters).")]
ModelPath = Annotated[str | None, typer.Option("--model", help="Transformer name or path (default: offline "
                                                               "MiniLM).")]
Device = Annotated[str | None, typer.Option(help="Target device: cpu, cuda ... (default: cuda when available).")]
SelectorEpochs = Annotated[int | None, typer.Option(
    "--selector-epochs", min=1, help="Selector epochs (default: the paper's, 5 for fastText). With a few hundred "
                                     "labels fastText needs more, e.g. 25.")]
SelectorLearningRate = Annotated[float | None, typer.Option(
    "--selector-lr", help="Selector learning rate (default: the paper's, 0.05 for fastText; "
                                                "fastText's tutorial uses 0.5-1.0 on small data).")]
Seed = Annotated[int, typer.Option(help="Random seed.")]


def _setup(data: str, text_col: str, label_col: str, id_col: str | None, test_split: str | None, selector: str,
           target: str, epochs: int | None, max_length: int | None, device: str | None, model_path: str | None,
           seed: int, selector_epochs: int | None = None, selector_lr: float | None = None) -> tuple:
    """(train pool, test pool, selector, target or None) from the shared options."""
    from textsel.svp_experiments import load_labeled_pools, make_model

    if selector_lr is not None and not selector_lr > 0:
        raise typer.BadParameter(f"must be a number > 0; got {selector_lr}", param_hint="--selector-lr")

    if model_path is not None:  # a model that cannot load fails now, not after the data and the selection
        from textsel.embed import check_model_loads

        check_model_loads(model_path)
    train, test = load_labeled_pools(data, text_col=text_col, label_col=label_col, id_col=id_col,
                                     test_split=test_split, seed=seed)
    target_model = None if target == "none" else make_model(target, seed=seed, epochs=epochs, max_length=max_length,
                                                            device=device, model_path=model_path)
    selector_model = make_model(selector, seed=seed, epochs=selector_epochs, learning_rate=selector_lr,
                                model_path=model_path, device=device)
    return train, test, selector_model, target_model


def _echo_error(what: str, error: float, majority: float) -> None:
    """One target's test error beside the majority-class error, with a warning when it does not beat it."""
    typer.echo(f"  {what}: test error {error:.2%} (majority class: {majority:.2%})")
    if error >= majority:
        typer.echo(f"  warning: {what} is at or below the majority class ({error:.2%} >= {majority:.2%}): the target "
                   "did not learn, so its errors say nothing about the selection", err=True)


@svp_app.command()
def active(
    data: Data, out: Out, text_col: TextCol = "text", label_col: LabelCol = "label", id_col: IdCol = None,
    test_split: TestSplit = None,
    initial: Annotated[str, typer.Option(help="Random initial subset: a count (200) or a pool fraction (0.1).")]
    = "0.1",
    round_size: Annotated[list[str] | None, typer.Option(help="Labels added in one round, count or fraction; repeat "
                                                              "for several rounds. Default: 0.1 twice.")] = None,
    strategy: Annotated[str, typer.Option(help="least-confidence, entropy, random or kcenter.")] = "least-confidence",
    selector: Selector = "fasttext", target: Target = "transformer",
    target_size: Annotated[list[int] | None, typer.Option(help="Labeled sizes at which the target is trained; "
                                                               "repeat. Default: the final size.")] = None,
    epochs: Epochs = None, max_length: MaxLength = None, model_path: ModelPath = None, device: Device = None,
    selector_epochs: SelectorEpochs = None, selector_lr: SelectorLearningRate = None, seed: Seed = 0,
) -> None:
    """SVP active learning: the selector is retrained each round; the target trains only on the final selection."""
    from textsel.svp_experiments import check_results_folder, parse_sizes, run_active_experiment, write_results

    check_results_folder(out, "active")  # before any training: a file there, or a folder in a project, is refused
    train, test, selector_model, target_model = _setup(data, text_col, label_col, id_col, test_split, selector,
                                                       target, epochs, max_length, device, model_path, seed,
                                                       selector_epochs, selector_lr)
    report = run_active_experiment(
        train, test, label_col=label_col, selector=selector_model, target=target_model, strategy=strategy,
        initial_size=parse_sizes([initial])[0], round_sizes=parse_sizes(round_size or ["0.1", "0.1"]),
        target_sizes=target_size or (), seed=seed, show_progress=True)
    json_path, png_path = write_results(report, out)
    typer.echo(f"{report['selector']} selected {report['round_ends'][-1]} of {report['pool_size']} texts in "
               f"{report['selection_seconds']:.2f} s of selection")
    if report["flat_rounds"]:
        spreads = ", ".join(f"{report['score_spreads'][r - 1]:.4f}" for r in report["flat_rounds"])
        typer.echo(f"  warning: in round(s) {', '.join(map(str, report['flat_rounds']))} the selector gave every "
                   f"text nearly the same confidence (score spread {spreads}), as an untrained model does: it chose "
                   f"close to at random. Train it longer or faster (--selector-epochs, --selector-lr).", err=True)
    for name in ("target_selected", "target_random"):
        for size, values in report.get(name, {}).items():
            _echo_error(f"{report['target']} on {size} {name.split('_')[1]} texts", values["error"],
                        report["majority_error"])
    typer.echo(f"Wrote {json_path} and {png_path}")


@svp_app.command()
def coreset(
    data: Data, out: Out, text_col: TextCol = "text", label_col: LabelCol = "label", id_col: IdCol = None,
    test_split: TestSplit = None,
    keep: Annotated[str, typer.Option(help="Texts kept: a count or a fraction of the pool.")] = "0.5",
    strategy: Annotated[str, typer.Option(help="entropy, least-confidence, forgetting, kcenter or random.")]
    = "entropy",
    selector: Selector = "fasttext", target: Target = "transformer",
    compare_all: Annotated[bool, typer.Option(help="Also train the target on every labeled text.")] = True,
    epochs: Epochs = None, max_length: MaxLength = None, model_path: ModelPath = None, device: Device = None,
    selector_epochs: SelectorEpochs = None, selector_lr: SelectorLearningRate = None, seed: Seed = 0,
) -> None:
    """SVP core-set selection: the selector trains once on all labels; the target trains on the kept subset."""
    from textsel.svp_experiments import check_results_folder, parse_sizes, run_coreset_experiment, write_results

    check_results_folder(out, "coreset")  # before any training: a file there, or a folder in a project, is refused
    train, test, selector_model, target_model = _setup(data, text_col, label_col, id_col, test_split, selector,
                                                       target, epochs, max_length, device, model_path, seed,
                                                       selector_epochs, selector_lr)
    report = run_coreset_experiment(train, test, label_col=label_col, selector=selector_model, target=target_model,
                                    strategy=strategy, keep=parse_sizes([keep])[0], compare_all=compare_all,
                                    seed=seed)
    json_path, png_path = write_results(report, out)
    typer.echo(f"{report['selector']} kept {report['kept_size']} of {report['pool_size']} texts ({strategy}) in "
               f"{report['selection_seconds']:.2f} s")
    for name in ("target_kept", "target_all"):
        if name in report:
            _echo_error(f"{report['target']} trained on {name.split('_')[1]}", report[name]["error"],
                        report["majority_error"])
    typer.echo(f"Wrote {json_path} and {png_path}")
