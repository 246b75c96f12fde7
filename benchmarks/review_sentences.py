"""The real million-text pool of the scale benchmarks (issue 22): ``../shared/data/review_sentences``.

1,100,664 distinct real sentences from the Amazon multi-domain, Amazon (Blitzer) and IMDB reviews, shuffled, with
the columns of their source review (no vectors: the benchmarks embed them). A benchmark takes the whole file or its
first N rows (``pool_file``: a prefix is written once under the benchmark's work folder; the full file is used as
it is) and a rare sentence-level concept from a column (``Concept``: e.g. ``domain=office_products``, 0.19% of the
sentences), stated with its prevalence in the pool it ran on. No pool is built by copying texts.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "review_sentences" / "data.parquet"
POOL_NAME = "review_sentences"
# Rare sentence-level concepts (share of the 1.1M sentences): a rare Amazon product category each.
DEFAULT_CONCEPTS = ("domain=office_products", "domain=automotive", "domain=musical_instruments")


@dataclass(frozen=True)
class Concept:
    """Sentences whose source review has ``column`` == ``value`` (parsed from ``column=value``)."""

    column: str
    value: str

    @classmethod
    def parse(cls, spec: str) -> Concept:
        column, _, value = spec.partition("=")
        if not column or not value:
            raise ValueError(f"a concept is column=value, got {spec!r}")
        return cls(column, value)

    @property
    def name(self) -> str:
        return f"{self.column}={self.value}"

    @property
    def label(self) -> str:
        """A class name for ``textsel init --labels`` (letters, digits and underscores)."""
        return "".join(ch if ch.isalnum() else "_" for ch in self.value)

    def oracle(self, pool: Path) -> np.ndarray:
        """Whether each row of ``pool`` is positive (numeric columns compare as numbers)."""
        import pyarrow.parquet as pq

        values = pq.read_table(pool, columns=[self.column]).column(self.column).to_numpy(zero_copy_only=False)
        if values.dtype.kind in "fiu":
            return values == float(self.value)
        return values == self.value


def pool_file(n_docs: int, folder: Path, data: Path = DATA) -> tuple[Path, int]:
    """The pool to run on and its row count: ``data`` itself when ``n_docs`` covers it, else its first ``n_docs``
    rows written once to ``folder/pool.parquet`` (kept; it stands in for the user's file and is not timed)."""
    import pyarrow.parquet as pq

    rows = pq.ParquetFile(data).metadata.num_rows
    if n_docs >= rows:
        return data, rows
    path = folder / "pool.parquet"
    if path.exists() and pq.ParquetFile(path).metadata.num_rows == n_docs:
        return path, n_docs
    folder.mkdir(parents=True, exist_ok=True)
    table = pq.read_table(data).slice(0, n_docs)
    partial = path.with_name(path.name + ".partial")
    pq.write_table(table, partial, row_group_size=65_536)
    partial.replace(path)
    return path, n_docs


def concept_record(concept: Concept, is_positive: np.ndarray) -> dict:
    return {"concept": concept.name, "positives": int(is_positive.sum()),
            "prevalence": round(float(is_positive.mean()), 6)}


# Runs the command in a grandchild forked from this small interpreter and prints the grandchild's own peak RSS.
# A child forked straight from the benchmark would carry the benchmark's resident memory into its ru_maxrss (Linux
# keeps the high-water mark of the memory a process had before it called exec), so every command would weigh at
# least as much as the benchmark itself.
_PEAK_RSS = ("import os, sys\npid = os.fork()\nif pid == 0:\n    os.execvp(sys.argv[1], sys.argv[1:])\n"
             "_, status, usage = os.wait4(pid, 0)\nsys.stderr.write(f'\\n__peak_rss_kb__ {usage.ru_maxrss}\\n')\n"
             "sys.exit(os.waitstatus_to_exitcode(status))")


def command_env(env: dict | None = None) -> dict:
    """The environment of a timed command: this one, offline, 200 columns, without ``PYTHONDONTWRITEBYTECODE``
    (see :func:`timed`), plus ``env``."""
    inherited = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    return {**inherited, "HF_HUB_OFFLINE": "1", "COLUMNS": "200", **(env or {})}


def timed(command: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB of the command's own process, stdout) of one subprocess.

    The peak is the command's own ``ru_maxrss`` from ``os.wait4`` in a small wrapper process (see ``_PEAK_RSS``),
    not the running maximum over every child this process ever had (``RUSAGE_CHILDREN``), nor a high-water mark
    inherited from this process. A failure raises with its stderr. The wall time includes the wrapper's start
    (tens of milliseconds). The command runs as an installed package does, with Python's bytecode cache:
    ``PYTHONDONTWRITEBYTECODE`` (set in some development shells) is dropped, or every command would compile
    textsel's modules from source again (about 0.1 s)."""
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", _PEAK_RSS, *command], capture_output=True, text=True,
                            env=command_env(env))
    wall = time.perf_counter() - start
    stderr, peak_mb = wrapped_peak(result.stderr)
    if result.returncode:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}): {stderr.strip()[-2000:]}")
    return wall, peak_mb, result.stdout


def wrapped_peak(stderr: str) -> tuple[str, float]:
    """The command's own stderr and its peak RSS in MB, split from what ``_PEAK_RSS`` wrote after it (NaN when the
    wrapper itself failed: the caller's exit-status check then raises with that stderr)."""
    rest, found, peak = stderr.rpartition("__peak_rss_kb__ ")
    if not found:
        return stderr, float("nan")
    return rest, int(peak) / (1024 * 1024 if sys.platform == "darwin" else 1024)  # ru_maxrss: bytes / KB


def step(name: str, command: list[str], steps: dict, env: dict | None = None) -> str:
    """Run one timed command and keep ``{wall_s, peak_rss_mb}`` under ``steps[name]``; return its stdout."""
    wall, rss, out = timed(command, env)
    steps[name] = {"wall_s": round(wall, 3), "peak_rss_mb": round(rss, 1)}
    print(json.dumps({name: steps[name]}), flush=True)
    return out


def first_output(command: list[str], marker: str, answer: str = "q\n") -> tuple[float, float]:
    """(wall seconds until ``marker`` first appears in the command's output, peak RSS in MB of the command) of an
    interactive command fed from a pipe: once the marker is seen, ``answer`` is typed and the command left to end.

    The command runs under :func:`timed`'s wrapper and environment, so the peak is its own process's (not this
    benchmark's memory carried across exec) and the wall time includes the wrapper's start, as there."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", _PEAK_RSS, *command], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=command_env())
    wall = None
    for line in process.stdout:
        if marker in line:
            wall = time.perf_counter() - start
            break
    with contextlib.suppress(BrokenPipeError):  # a command that ended without the marker reads nothing more
        process.stdin.write(answer)
        process.stdin.close()
    process.stdout.read()
    stderr, peak_mb = wrapped_peak(process.stderr.read())
    if process.wait() or wall is None:
        raise RuntimeError(f"{' '.join(command)} ended ({process.returncode}) without printing {marker!r}: "
                           f"{stderr.strip()[-2000:]}")
    return wall, peak_mb
