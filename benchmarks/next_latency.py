"""Wall time and peak RSS of whole textsel commands on the real million (issue 22): from a fresh file to the first
selection, then `textsel next` and `textsel label --ids` after 100 and after 2,000 labels.

The pool is ``../shared/data/review_sentences`` (1,100,664 distinct real sentences, no vectors) or its first
--n-docs rows (see benchmarks/review_sentences.py); the rare class is a sentence-level concept from its columns
(--concept, e.g. ``domain=office_products``), reported with its prevalence. Nothing is copied or extrapolated.

Phase ``build`` runs the path a user takes at this size, each step a timed subprocess (wall seconds and the peak
RSS of that command alone, from ``os.wait4`` on its own process): ``init --first-pass static`` (the static first
pass: every text gets static vectors, the transformer embeds only labeled texts and candidates), ``embed`` (static
vectors and the static index), ``index``, ``import`` of a seed (5 positives + 95 others, drawn from the oracle as a
user's seed search would find them), and the first ``next``. ``fresh_to_first_selection_s`` is their sum, measured.
With ``--features static`` the project classifies on the static vectors: ``embed`` writes their float32 copy instead
of the index, and there is no ``index`` step, since the first selection (``auto``) scans the static vectors; SEALS
would need ``textsel index`` later, a cost this path does not include.
With ``--backend exact`` the static index is the normalised static vectors (no HNSW graph) and ``index`` builds no
neighbour table: SEALS searches the vectors for each new label, a pass over them per label.
Distilling the static model is a one-time cost per machine, timed apart (``steps.distill``). The build's own load
averages are ``build_load_average_1min``; the results file's end load is read after the 1-minute average fell back
to the core count once the last command ended (``end_load_settle_s``, at most 60 s), so it shows other work. The
commands run with a textsel home of their own under --workdir (``TEXTSEL_HOME``), emptied by each build: no
transformer vector of a text is cached from an earlier run.

Phase ``run`` (on a copy of the built project, prepared by one ``textsel embed`` timed apart as the one-time cost
``run_one_time``) runs --rounds rounds per phase, after 100 labels and after 2,000
(random oracle labels imported, untimed, up to 2,000): in each round every mode of --modes in turn (interleaved,
so they share the machine's load) ``textsel next --n 20 --pool MODE --out batch.csv`` and then ``textsel label
--ids ... --label`` once per class. A round leaves no batch pending. ``next_pending`` times ``textsel next`` while
a batch is pending (it shows the batch again: its cost must depend on the batch, not the pool);
``label_first_card`` times interactive ``textsel label`` fed from a pipe, from its start until its first card and key
legend are printed (it then reads ``q`` and quits, labeling nothing). --baseline names
another ``textsel`` executable (e.g. main's) timed as the mode ``seals_baseline`` on its own copy, with the same
features, relinked and prepared by that executable (its ``embed`` is ``run_one_time.embed_on_baseline_copy``);
--baseline-label says what it is (recorded as ``baseline.label``).

The results file (through benchmarks/_results.py) carries the load averages at start and end, the core count and
``quotable``. Runs on a busy machine are not quotable; the exact commands for the 1.1M run are in docs/scale.md.

    HF_HUB_OFFLINE=1 nice .venv/bin/python benchmarks/next_latency.py --n-docs 20000 --workdir /tmp/nl --rounds 2
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/next_latency.py --n-docs 1100664 --workdir /data/nl \
        --out benchmarks/results/next_latency_review_sentences.json

The last line printed is one JSON object (also written to --out with provenance).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np
from _results import add_run_options, load_average, start_run
from review_sentences import DATA, POOL_NAME, Concept, concept_record, first_output, pool_file, step, timed

TEXTSEL = str(Path(sys.executable).with_name("textsel"))
LABELS_GOAL = 2_000
BATCH = 20


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phase", choices=("build", "run", "all"), default="all")
    parser.add_argument("--n-docs", type=int, default=1_100_664, help="The first N sentences (all: 1,100,664).")
    parser.add_argument("--workdir", type=Path, required=True, help="Projects are built and kept here, per N.")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--concept", default="domain=office_products", help="The rare class: column=value.")
    parser.add_argument("--rounds", type=int, default=10, help="Rounds per phase (after 100 and 2,000 labels).")
    parser.add_argument("--modes", default="seals,auto")
    parser.add_argument("--phases", default=f"after_100_labels,after_{LABELS_GOAL}_labels",
                        help="Which phases of the run to time (over a static first pass at 1.1M the phase after "
                             "2,000 labels first embeds every new candidate of 1,900 imported labels with the "
                             "transformer: hours on 2 cores).")
    parser.add_argument("--features", default=None, choices=("dense", "static"),
                        help="The [features] kind: of the built project (phase build; static skips the index step, "
                             "as a scan of the static vectors needs none) or of the run's copies (phase run; "
                             "default: the build's). static: the classifier reads the static vectors, so a round "
                             "runs no transformer.")
    parser.add_argument("--backend", default="hnsw", choices=("hnsw", "exact"),
                        help="The [index] backend of the built project (phase build): hnsw builds the graph and its "
                             "neighbour table; exact keeps normalised vectors that SEALS searches per new label.")
    parser.add_argument("--baseline", default=None, help="Another textsel executable timed as seals_baseline.")
    parser.add_argument("--baseline-label", default=None,
                        help="What the baseline is (e.g. 'main at ce3fa84'), recorded with the results.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    return add_run_options(parser).parse_args(argv)


def seed_file(path: Path, is_positive: np.ndarray, label: str, count: int, seed: int,
              exclude: set[int] = frozenset(), positives: int = 5) -> Path:
    """A label file of ``count`` random texts not in ``exclude``: ``positives`` of the rare class, the rest not."""
    rng = np.random.default_rng([seed, len(exclude)])
    free = np.setdiff1d(np.arange(len(is_positive)), np.fromiter(exclude, dtype=np.int64, count=len(exclude)))
    chosen = list(rng.choice(free[is_positive[free]], positives, replace=False)) if positives else []
    rest = free[~is_positive[free]]
    chosen += list(rng.choice(rest, count - len(chosen), replace=False))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "label"])
        writer.writerows([int(i), label if is_positive[i] else "other"] for i in chosen)
    return path


def settle_own_load(limit_s: float = 60.0) -> float:
    """Seconds waited, after the build's last command ended, for the 1-minute load average to fall to the core count
    (at most ``limit_s``). The build's own commands use every core (the transformer embeds the first candidates on
    both), which lifts the load average read at the end above the core count although nothing else ran; the results
    file's end load, read after this wait, then shows other work. The build's own loads are kept apart
    (``build_load_average_1min``); a machine that stays loaded stays busy."""
    cores, start = os.cpu_count() or 1, time.perf_counter()
    while (load := load_average()) is not None and load > cores and time.perf_counter() - start < limit_s:
        time.sleep(1.0)
    return round(time.perf_counter() - start, 1)


def build(args: argparse.Namespace, folder: Path, concept: Concept) -> dict:
    """Fresh file -> first selection, every step a timed command; written to ``folder/build.json``."""
    pool, n_docs = pool_file(args.n_docs, folder, args.data)
    is_positive = concept.oracle(pool)
    project = folder / "project"
    for own in (project, folder / "home"):  # the benchmark's own project and textsel home, built afresh
        if own.exists():
            shutil.rmtree(own)
    loads = {"start": load_average()}
    steps: dict = {}
    step("distill", [sys.executable, "-c", "from textsel.static import distill_static_model; "
                     "distill_static_model()"], steps)
    features = ["--features", args.features] if args.features else []
    step("init", [TEXTSEL, "init", str(project), "--data", str(pool), "--id-col", "id", "--labels",
                  f"{concept.label},other", "--first-pass", "static", "--backend", args.backend, *features], steps)
    step("embed", [TEXTSEL, "embed", "-p", str(project), "-q"], steps)
    if args.features != "static":  # static features: the first selection scans the static vectors, no index
        step("index", [TEXTSEL, "index", "-p", str(project), "-q"], steps)
    seed = seed_file(folder / "seed.csv", is_positive, concept.label, 100, args.seed)
    step("import_seed", [TEXTSEL, "import", str(seed), "-p", str(project)], steps)
    step("first_next", [TEXTSEL, "next", "--n", str(BATCH), "-p", str(project), "-q"], steps)
    loads["end"] = load_average()
    settle_s = settle_own_load()
    fresh = sum(steps[name]["wall_s"] for name in ("init", "embed", "index", "import_seed", "first_next")
                if name in steps)
    record = {"n_docs": n_docs, "pool": POOL_NAME, "pool_file": str(pool), **concept_record(concept, is_positive),
              "first_pass": "static", "features": args.features or "dense", "index_backend": args.backend,
              "steps": steps,
              "fresh_to_first_selection_s": round(fresh, 3),
              "fresh_to_first_selection_with_distill_s": round(fresh + steps["distill"]["wall_s"], 3),
              "build_load_average_1min": loads, "end_load_settle_s": settle_s}
    (folder / "build.json").write_text(json.dumps(record, indent=1))
    return record


def labeled_and_selected(project: Path) -> set[int]:
    with sqlite3.connect(project / "textsel.db") as connection:
        return {row[0] for row in connection.execute("SELECT doc_id FROM labels UNION SELECT doc_id FROM selections")}


def label_count(project: Path) -> int:
    with sqlite3.connect(project / "textsel.db") as connection:
        return connection.execute("SELECT COUNT(DISTINCT doc_id) FROM labels").fetchone()[0]


def label_batch(executable: str, project: Path, ids: list[int], is_positive: np.ndarray, label: str,
                timings: dict, who: str) -> None:
    """Label ``ids`` with their oracle classes, one timed ``label --ids`` command per class present."""
    for value, name in ((True, label), (False, "other")):
        chosen = [doc_id for doc_id in ids if bool(is_positive[doc_id]) == value]
        if chosen:
            wall, rss, _ = timed([executable, "label", "-p", str(project), "--ids", ",".join(map(str, chosen)),
                                  "--label", name])
            timings.setdefault(f"label_{who}", []).append((wall, rss))


def run_rounds(args: argparse.Namespace, projects: dict[str, Path], is_positive: np.ndarray, label: str,
               modes: dict[str, list[str]]) -> dict:
    """--rounds rounds of every mode, interleaved; ``{timer: [(wall, rss), ...]}``."""
    timings: dict[str, list[tuple[float, float]]] = {}
    for _ in range(args.rounds):
        for mode, command in modes.items():
            project = projects[command[0]]
            batch = project.parent / "batch.csv"
            wall, rss, _ = timed([*command, "-p", str(project), "--out", str(batch), "--force", "-q"])
            timings.setdefault(mode, []).append((wall, rss))
            with open(batch, newline="", encoding="utf-8") as handle:
                ids = [int(row["id"]) for row in csv.DictReader(handle)]
            who = "baseline" if command[0] != TEXTSEL else "textsel"
            if who == "textsel" and mode == next(iter(modes)):  # the batch pending: shown again, not selected
                wall, rss, _ = timed([TEXTSEL, "next", "-p", str(project), "-q"])
                timings.setdefault("next_pending", []).append((wall, rss))
                wall, rss = first_output([TEXTSEL, "label", "-p", str(project)], marker="q=quit")
                timings.setdefault("label_first_card", []).append((wall, rss))
            label_batch(command[0], project, ids, is_positive, label, timings, who)
    return timings


def summary(timings: dict[str, list[tuple[float, float]]]) -> dict:
    result = {}
    for name, values in timings.items():
        walls = [wall for wall, _ in values]
        result[name] = {"wall_s_median": round(float(np.median(walls)), 3),
                        "wall_s_p95": round(float(np.percentile(walls, 95)), 3),
                        "peak_rss_mb_max": round(max(rss for _, rss in values), 1), "calls": len(values)}
    return result


def copy_project(folder: Path, into: Path, pool: Path, features: str | None = None,
                 executable: str = TEXTSEL) -> Path:
    """A copy of the built project in ``into``, pointed at the same data file with ``executable relink`` (untimed),
    as a user does after moving a project: the project names its data file relative to itself. ``features`` sets
    its ``[features] kind`` in textsel.toml, as a user edits it."""
    from dataclasses import replace

    from textsel.project_config import CONFIG_NAME, ProjectConfig

    project = shutil.copytree(folder / "project", into / "project")
    timed([executable, "relink", "--data", str(pool.resolve()), "-p", str(project)])
    if features is not None:
        config = ProjectConfig.from_toml(project / CONFIG_NAME)
        (project / CONFIG_NAME).write_text(replace(config, features=features).to_toml(project), encoding="utf-8")
    return project


def prepare_copy(project: Path, executable: str = TEXTSEL) -> dict:
    """``textsel embed`` on a copy, timed apart as a one-time cost: it verifies the copied caches (new mtimes, so
    their checksums are computed again) and, with static features, writes the float32 rows the classifier reads,
    as a user's ``embed`` does; the rounds then time what every round costs."""
    wall, rss, _ = timed([executable, "embed", "-p", str(project), "-q"])
    return {"wall_s": round(wall, 3), "peak_rss_mb": round(rss, 1)}


def run(args: argparse.Namespace, folder: Path, concept: Concept) -> dict:
    built = json.loads((folder / "build.json").read_text())
    pool = Path(built["pool_file"])
    is_positive = concept.oracle(pool)
    run_copy = folder / "run"
    if run_copy.exists():
        shutil.rmtree(run_copy)  # the benchmark's own copy under --workdir
    run_copy.mkdir()
    projects = {TEXTSEL: copy_project(folder, run_copy / "textsel", pool, args.features)}
    one_time = {"embed_on_copy": prepare_copy(projects[TEXTSEL])}
    modes = {mode: [TEXTSEL, "next", "--n", str(BATCH), "--pool", mode] for mode in args.modes.split(",")}
    if args.baseline:  # its own copy (a newer textsel may upgrade the database past what the baseline reads), with
        # the same features and prepared by the baseline itself
        projects[args.baseline] = copy_project(folder, run_copy / "baseline", pool, args.features, args.baseline)
        one_time["embed_on_baseline_copy"] = prepare_copy(projects[args.baseline], args.baseline)
        modes["seals_baseline"] = [args.baseline, "next", "--n", str(BATCH), "--pool", "seals"]
    for executable, project in projects.items():  # the build's first batch is labeled: no batch is pending
        batch = project.parent / "batch.csv"
        timed([executable, "next", "-p", str(project), "--out", str(batch), "--force", "-q"])  # shows it again
        with open(batch, newline="", encoding="utf-8") as handle:
            label_batch(executable, project, [int(row["id"]) for row in csv.DictReader(handle)], is_positive,
                        concept.label, {}, "untimed")
    phases = {}
    for name in args.phases.split(","):
        if name not in ("after_100_labels", f"after_{LABELS_GOAL}_labels"):
            raise SystemExit(f"unknown phase {name!r}")
        for executable, project in projects.items():
            have = label_count(project)
            if have < LABELS_GOAL and name != "after_100_labels":
                more = seed_file(project.parent / "more.csv", is_positive, concept.label, LABELS_GOAL - have,
                                 args.seed, labeled_and_selected(project), positives=0)
                timed([executable, "import", str(more), "-p", str(project)])
        phases[name] = {"labels_at_start": label_count(projects[TEXTSEL]),
                        **summary(run_rounds(args, projects, is_positive, concept.label, modes))}
        print(json.dumps({name: phases[name]}), flush=True)
    baseline = {"baseline": {"executable": args.baseline, "label": args.baseline_label}} if args.baseline else {}
    return {"benchmark": "next_latency", **built, **baseline, "rounds": args.rounds, "batch": BATCH,
            "run_features": args.features or "as built", "run_one_time": one_time, **phases}


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    concept = Concept.parse(args.concept)
    record = start_run(args)
    folder = args.workdir / f"n{args.n_docs}"
    # A textsel home of its own (distilled static model, per-text transformer cache): the build starts with nothing
    # cached, as on a fresh machine, and the run's commands share what the build cached, as a user's would.
    os.environ["TEXTSEL_HOME"] = str(folder / "home")
    if args.phase in ("build", "all"):
        built = build(args, folder, concept)
        if args.phase == "build":
            return record.finish({"benchmark": "next_latency", **built}, seeds=[args.seed], out=args.out)
    return record.finish(run(args, folder, concept), seeds=[args.seed], out=args.out)


if __name__ == "__main__":
    main()
