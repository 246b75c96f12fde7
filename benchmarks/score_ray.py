"""Full-pool scoring with Ray Data (``textsel.score_ray.score_pool_ray``) against the local path, on one machine.

``--learner logistic`` (default): the pool is ``--rows`` synthetic unit vectors of 384 dimensions (seeded; no
model), saved as a float16 ``.npy`` in a temporary folder and memory-mapped, as a project's embedding cache is;
``LogisticLearner`` is fitted on 2,000 of the rows with a linear rule for the labels (binary).
``--learner fasttext``: the pool is ``--rows`` synthetic texts of 12 words drawn from a 5,000-word vocabulary
(seeded), the learner ``FastTextProxy(threads=1)`` fitted on 2,000 of them (label: whether word 0-99 occurs).
Both contenders return the same (rows, 2) array.

- ``local``: what ``RoundEngine.predict_proba`` and ``Project.predict`` do in-process: 65,536-row chunks (of the
  memory map converted to float32, or of the texts) scored and stacked. The timer holds that loop.
- ``ray``: one ``score_pool_ray(learner, embeddings=memmap | texts=texts, workers=--workers)`` call on the running
  local Ray (``--cpus`` CPUs). The timer holds the whole call: putting the learner in the object store, (texts:
  staging them as parquet and removing them), starting the actor pool, every actor reading its row ranges from
  the file (or the parquet files), and gathering the probabilities in pool order.
- ``ray_small``: the same call on the first ``--small-rows`` rows, to separate the fixed cost of a call (actor
  start-up, scheduling) from the per-row rate: ``marginal`` = (ray seconds - ray_small seconds) over the extra
  rows.

One-time costs outside every timer, reported apart: ``ray_start_seconds`` (``ray.init``), writing the file. After one
warm-up call of each contender, ``--repeats`` rounds run local, ray and ray_small in an order rotating every round;
each figure is the median over rounds. ``max_abs_difference`` is between the local and Ray probabilities.

    .venv/bin/python benchmarks/score_ray.py [--learner logistic|fasttext] [--rows 200000] [--workers 2] \\
        [--cpus 2] [--repeats 3] [--out benchmarks/results/score_ray.json]

The last line printed is one JSON object: ``local``, ``ray``, ``ray_small`` (seconds, rows_per_s,
seconds_per_million), ``ray_over_local`` (ray seconds / local seconds), ``ray_marginal_seconds_per_million``,
``ray_start_seconds``, ``max_abs_difference``, with provenance.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import add_run_options, start_run  # noqa: E402 - the benchmarks folder is not a package


def make_pool(folder: Path, rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A float16 cache of unit vectors (written in blocks) and its memory map; binary labels of the first 2,000."""
    rng = np.random.default_rng(seed)
    path = folder / "embeddings.npy"
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=(rows, 384))
    for start in range(0, rows, 65_536):
        block = rng.normal(size=(min(65_536, rows - start), 384)).astype(np.float32)
        out[start:start + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    out.flush()
    del out
    vectors = np.load(path, mmap_mode="r")
    train = np.asarray(vectors[:2000], dtype=np.float32)
    return vectors, (train[:, :8].sum(axis=1) > 0).astype(int)


def make_texts(rows: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """Synthetic texts of 12 words from a 5,000-word vocabulary; labels of the first 2,000 (a word below 100)."""
    words = np.random.default_rng(seed).integers(0, 5000, size=(rows, 12))
    texts = [" ".join(f"w{word}" for word in row) for row in words]
    return texts, (words[:2000] < 100).any(axis=1).astype(int)


def score_local(learner, inputs) -> np.ndarray:  # noqa: ANN001 - a fitted learner; a memmap or texts
    def rows(start: int):  # noqa: ANN202
        part = inputs[start:start + 65_536]
        return part if isinstance(part, list) else np.asarray(part, dtype=np.float32)

    return np.vstack([learner.predict_proba(rows(start)) for start in range(0, len(inputs), 65_536)])


def rates(seconds: list[float], rows: int) -> dict:
    median = statistics.median(seconds)
    return {"seconds": median, "all_seconds": seconds, "rows": rows, "rows_per_s": rows / median,
            "seconds_per_million": median * 1e6 / rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learner", choices=("logistic", "fasttext"), default="logistic")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--small-rows", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = add_run_options(parser).parse_args()
    run = start_run(args)

    import ray

    from textsel.learner import LogisticLearner
    from textsel.proxy import FastTextProxy
    from textsel.score_ray import score_pool_ray

    with tempfile.TemporaryDirectory(prefix="score-ray-bench-") as folder:
        if args.learner == "logistic":
            inputs, labels = make_pool(Path(folder), args.rows)
            learner = LogisticLearner().fit(np.asarray(inputs[:2000], dtype=np.float32), labels)
            small, key = inputs[:args.small_rows].copy(), "embeddings"
        else:
            inputs, labels = make_texts(args.rows)
            learner = FastTextProxy(threads=1).fit(inputs[:2000], labels)
            small, key = inputs[:args.small_rows], "texts"
        start = time.perf_counter()
        ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False, configure_logging=False)
        ray_start = time.perf_counter() - start
        options = {"workers": args.workers, "staging_dir": folder}
        contenders = {
            "local": lambda: score_local(learner, inputs),
            "ray": lambda: score_pool_ray(learner, **{key: inputs}, **options),
            "ray_small": lambda: score_pool_ray(learner, **{key: small}, **options),
        }
        outputs = {name: run() for name, run in contenders.items()}  # warm-up, and the probabilities to compare
        seconds = {name: [] for name in contenders}
        order = list(contenders)
        for round_number in range(args.repeats):
            for name in order[round_number % 3:] + order[:round_number % 3]:
                start = time.perf_counter()
                contenders[name]()
                seconds[name].append(time.perf_counter() - start)
        ray.shutdown()
        difference = float(np.abs(outputs["ray"] - outputs["local"]).max())
    results = {name: rates(values, args.small_rows if name == "ray_small" else args.rows)
               for name, values in seconds.items()}
    marginal = ((results["ray"]["seconds"] - results["ray_small"]["seconds"]) * 1e6
                / (args.rows - args.small_rows))
    pool = ({"dim": 384, "storage": "float16 memmap"} if args.learner == "logistic"
            else {"texts": "12 synthetic words each"})
    run.finish({"benchmark": "score_ray", "rows": args.rows, **pool, "learner": f"{args.learner} (binary)",
            "ray_cpus": args.cpus, "ray_workers": args.workers, **results,
            "ray_over_local": results["ray"]["seconds"] / results["local"]["seconds"],
            "ray_marginal_seconds_per_million": marginal, "ray_start_seconds": ray_start,
            "max_abs_difference": difference}, seeds=[0], out=args.out)


if __name__ == "__main__":
    main()
