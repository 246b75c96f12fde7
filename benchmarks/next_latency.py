"""Wall time of whole `textsel next` and `textsel label --ids` commands on a real CLI project of N texts.

The project is built once per N under --workdir (phase ``build``, a one-time cost reported apart): the shared
Amazon multi-domain reviews (88,300 texts with all-MiniLM-L6-v2 float16 embeddings) are repeated up to N rows;
each copy's vector gets Gaussian noise (sigma --noise per dimension) and is renormalised, so every text has a
realistic kNN neighbourhood (its own copies plus its real neighbours). Then ``textsel init --embeddings`` and
``textsel index`` run; ``index_build_s`` is the wall time of ``textsel index`` alone (the HNSW graph and the
neighbour table SEALS reads instead of the graph). Phase ``table`` runs ``textsel index`` again on a project built
before the table existed; its wall time is ``neighbour_table_s``.

Phase ``run`` labels a seed of 5 texts of a rare category (--category) and 95 others, then runs --rounds rounds.
In each round every pool mode in --modes runs in turn (interleaved, so the modes share machine load):
``textsel next --n 20 --pool MODE --out batch.csv`` then ``textsel label --ids ... --label`` once per class, the
labels coming from the category column (an oracle). After those rounds, random texts are imported with their
oracle labels (``textsel import``, not timed) until 2,000 texts are labeled, and the rounds run again.

Before the rounds, one step outside the medians opens the embeddings and the pool cache once
(``first_embeddings_open_s``: their checksums are verified and recorded, a pool cache from an older textsel is
written again; later commands memory-map them). Each timer is the wall time of one whole
command in a subprocess (interpreter start, imports, project checks,
index or state load, training, selection, writing the round); peak RSS is the largest ``ru_maxrss`` of any
timed command of this textsel (``peak_rss_mb_baseline``: of the baseline's). --baseline names another ``textsel``
executable (e.g. this branch's base) whose ``next --pool seals`` is timed in the same rounds, interleaved, as the
mode ``seals_baseline``, on its own copy of the project (a newer textsel may upgrade the database past what the
baseline reads); it imports the same seed labels and labels its own batches, timed as
``label_wall_s_median_baseline``.

    .venv/bin/python benchmarks/next_latency.py --phase build --n-docs 100000 --workdir /tmp/next_latency
    .venv/bin/python benchmarks/next_latency.py --phase table --n-docs 100000 --workdir /tmp/next_latency  # if needed
    .venv/bin/python benchmarks/next_latency.py --phase run --n-docs 100000 --workdir /tmp/next_latency \
        --baseline /work/main/.venv/bin/textsel --out benchmarks/results/next_latency.json

The last line printed is one JSON object (also written to --out with provenance).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _results import add_run_options, start_run

DATA = Path("/work/shared/data/amazon_multidomain")
TEXTSEL = str(Path(sys.executable).with_name("textsel"))
LABELS_GOAL = 2_000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phase", choices=("build", "table", "run", "all"), default="all")
    parser.add_argument("--n-docs", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, required=True, help="Projects are built and kept here, per N.")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--category", default="tools_hardware", help="The rare class (a value of 'domain').")
    parser.add_argument("--noise", type=float, default=0.01)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--modes", default="seals,all,auto")
    parser.add_argument("--baseline", default=None, help="Another textsel executable timed as seals_baseline.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    return add_run_options(parser).parse_args(argv)


def timed(command: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB, stdout) of one subprocess; a failure raises with its stderr."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200"})
    out, err = process.communicate()
    wall = time.perf_counter() - start
    rss_mb = 0.0
    try:
        rss_mb = os.wait4(process.pid, 0)[2].ru_maxrss / 1024
    except ChildProcessError:  # already reaped by communicate(); fall back to the children's maximum
        import resource

        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if process.returncode:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}): {err.strip()[-2000:]}")
    return wall, rss_mb, out


def build(args: argparse.Namespace, folder: Path) -> dict:
    """Data file, embeddings, project and index for N texts; the timings of init and index."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    table = pq.read_table(args.data / "data.parquet", columns=["text", "domain"])
    base = np.load(args.data / "minilm.f16.npy", mmap_mode="r")
    rows = np.arange(args.n_docs) % len(base)
    rng = np.random.default_rng(args.seed)
    vectors = np.lib.format.open_memmap(folder / "embeddings.npy", mode="w+", dtype=np.float16,
                                        shape=(args.n_docs, base.shape[1]))
    for start in range(0, args.n_docs, 100_000):
        part = np.asarray(base[rows[start:start + 100_000]], dtype=np.float32)
        part += rng.normal(0.0, args.noise, part.shape).astype(np.float32)
        vectors[start:start + 100_000] = part / np.linalg.norm(part, axis=1, keepdims=True)
    vectors.flush()
    del vectors
    data = pa.table({"id": pa.array(np.arange(args.n_docs, dtype=np.int64)),
                     "text": table.column("text").take(pa.array(rows)),
                     "domain": table.column("domain").take(pa.array(rows))})
    pq.write_table(data, folder / "data.parquet", row_group_size=65_536)
    project = folder / "project"
    if project.exists():
        shutil.rmtree(project)
    init_s, _, _ = timed([TEXTSEL, "init", str(project), "--data", str(folder / "data.parquet"), "--id-col", "id",
                          "--labels", f"{args.category},other", "--embeddings", str(folder / "embeddings.npy")])
    index_s, index_rss, _ = timed([TEXTSEL, "index", "-p", str(project), "-q"])
    record = {"n_docs": args.n_docs, "init_s": round(init_s, 3), "index_build_s": round(index_s, 3),
              "index_build_peak_rss_mb": round(index_rss, 1), "index_build_includes_neighbour_table": True}
    (folder / "build.json").write_text(json.dumps(record))
    print(json.dumps(record), flush=True)
    return record


def build_table(folder: Path) -> dict:
    """For a project whose index was built without the neighbour table: ``textsel index`` again (loads the verified
    index, computes the table); its wall time is ``neighbour_table_s``."""
    record = json.loads((folder / "build.json").read_text())
    table_s, table_rss, _ = timed([TEXTSEL, "index", "-p", str(folder / "project"), "-q"])
    record.update(neighbour_table_s=round(table_s, 3), neighbour_table_peak_rss_mb=round(table_rss, 1),
                  index_build_includes_neighbour_table=False)
    (folder / "build.json").write_text(json.dumps(record))
    print(json.dumps(record), flush=True)
    return record


def oracle(folder: Path, category: str) -> np.ndarray:
    import pyarrow.parquet as pq

    return np.asarray(pq.read_table(folder / "data.parquet", columns=["domain"]).column("domain").to_pylist()) \
        == category


def label_ids(executable: str, project: Path, ids: list[int], is_positive: np.ndarray, category: str
              ) -> list[tuple[float, float]]:
    """Label ``ids`` with their oracle classes, one ``label --ids`` command per class present."""
    timings = []
    for value, name in ((True, category), (False, "other")):
        chosen = [doc_id for doc_id in ids if bool(is_positive[doc_id]) == value]
        if chosen:
            wall, rss, _ = timed([executable, "label", "-p", str(project), "--ids", ",".join(map(str, chosen)),
                                  "--label", name])
            timings.append((wall, rss))
    return timings


def run_rounds(args: argparse.Namespace, projects: dict[str, Path], is_positive: np.ndarray,
               modes: dict[str, list[str]], times: dict[str, list[float]], label_times: dict[str, list[float]],
               rss: dict[str, list[float]]) -> None:
    for _ in range(args.rounds):
        for mode, command in modes.items():
            project = projects[command[0]]
            batch = project.parent / "batch.csv"
            wall, peak, _ = timed([*command, "-p", str(project), "--out", str(batch), "--force", "-q"])
            times.setdefault(mode, []).append(wall)
            who = "baseline" if command[0] != TEXTSEL else "textsel"
            rss.setdefault(who, []).append(peak)
            with open(batch, newline="", encoding="utf-8") as handle:
                ids = [int(row["id"]) for row in csv.DictReader(handle)]
            executable = command[0]  # the baseline labels its own batches, so its label time is measured too
            for wall, peak in label_ids(executable, project, ids, is_positive, args.category):
                label_times.setdefault(who, []).append(wall)
                rss.setdefault(who, []).append(peak)


def seed_labels(args: argparse.Namespace, project: Path, is_positive: np.ndarray, count: int,
                executable: str = TEXTSEL) -> None:
    """Import ``count`` more random labels (5 positives first when nothing is labeled) with ``executable``,
    untimed."""
    import sqlite3

    with sqlite3.connect(project / "textsel.db") as connection:
        labeled = {row[0] for row in connection.execute("SELECT doc_id FROM labels")}
        selected = {row[0] for row in connection.execute("SELECT doc_id FROM selections")}
    rng = np.random.default_rng([args.seed, len(labeled)])
    free = np.setdiff1d(np.arange(len(is_positive)), np.fromiter(labeled | selected, dtype=np.int64))
    chosen = []
    if not labeled:
        chosen = list(rng.choice(free[is_positive[free]], 5, replace=False))
        count -= 5
    rest = free[~np.isin(free, chosen)]
    chosen += list(rng.choice(rest[~is_positive[rest]], count, replace=False))
    path = project.parent / "seed.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "label"])
        writer.writerows([int(i), args.category if is_positive[i] else "other"] for i in chosen)
    timed([executable, "import", str(path), "-p", str(project)])


def summary(times: dict[str, list[float]]) -> dict:
    return {mode: {"next_wall_s_median": round(float(np.median(values)), 3),
                   "next_wall_s_p95": round(float(np.percentile(values, 95)), 3), "calls": len(values)}
            for mode, values in times.items()}


def run(args: argparse.Namespace, folder: Path) -> dict:
    project = folder / "project"
    run_copy = folder / "run"
    if run_copy.exists():
        shutil.rmtree(run_copy)
    run_copy.mkdir()
    shutil.copytree(project, run_copy / "project")  # each run starts from the freshly built project
    projects = {TEXTSEL: run_copy / "project"}
    if args.baseline:  # its own copy: a newer textsel may upgrade the database past what the baseline reads
        (run_copy / "baseline").mkdir()
        projects[args.baseline] = shutil.copytree(project, run_copy / "baseline" / "project")
    project = projects[TEXTSEL]
    is_positive = oracle(folder, args.category)
    modes = {mode: [TEXTSEL, "next", "--n", "20", "--pool", mode] for mode in args.modes.split(",")}
    if args.baseline:
        modes["seals_baseline"] = [args.baseline, "next", "--n", "20", "--pool", "seals"]
    for executable, copy in projects.items():
        seed_labels(args, copy, is_positive, 100, executable)
    load_start = os.getloadavg()[0]  # the machine may be shared: the 1-minute load average, before and after
    # One-time: the first open verifies the embeddings file (sha256) and records it; later commands memory-map it.
    first_open_s, _, _ = timed([sys.executable, "-c", "import sys; from textsel.project import Project; "
                                "project = Project(sys.argv[1]); project.embeddings(); project.external_ids([0])",
                                str(project)])
    phases, label_times, rss = {"first_embeddings_open_s": round(first_open_s, 3)}, {}, {}
    for name in ("after_100_labels", f"after_{LABELS_GOAL}_labels"):
        if name != "after_100_labels":
            import sqlite3

            for executable, copy in projects.items():
                with sqlite3.connect(copy / "textsel.db") as connection:
                    have = connection.execute("SELECT COUNT(DISTINCT doc_id) FROM labels").fetchone()[0]
                seed_labels(args, copy, is_positive, max(LABELS_GOAL - have, 0), executable)
        times: dict[str, list[float]] = {}
        run_rounds(args, projects, is_positive, modes, times, label_times, rss)
        phases[name] = summary(times)
        print(json.dumps({name: phases[name]}), flush=True)
    built = json.loads((folder / "build.json").read_text())
    return {"benchmark": "next_latency", "n_docs": args.n_docs, "category": args.category, "rounds": args.rounds,
            "batch": 20, **{key: value for key, value in built.items() if key != "n_docs"}, **phases,
            "label_wall_s_median": round(float(np.median(label_times["textsel"])), 3),
            "label_wall_s_p95": round(float(np.percentile(label_times["textsel"], 95)), 3),
            **({"label_wall_s_median_baseline": round(float(np.median(label_times["baseline"])), 3)}
               if "baseline" in label_times else {}),
            "peak_rss_mb": round(max(rss["textsel"]), 1),
            "load_average_1m": [round(load_start, 2), round(os.getloadavg()[0], 2)], "cpus": os.cpu_count(),
            **({"peak_rss_mb_baseline": round(max(rss["baseline"]), 1)} if "baseline" in rss else {})}


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    record = start_run(args) if args.phase in ("run", "all") else None
    folder = args.workdir / f"n{args.n_docs}"
    if args.phase in ("build", "all"):
        build(args, folder)
    if args.phase == "table":
        build_table(folder)
    if args.phase in ("build", "table"):
        return {}
    result = run(args, folder)
    return record.finish(result, seeds=[args.seed], out=args.out)


if __name__ == "__main__":
    main()
