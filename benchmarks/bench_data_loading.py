"""Loader throughput against plain baselines in the same process; the last line printed is one JSON object.

- Parquet: ``load_pool(amazon_multidomain/data.parquet, id_col="id")`` (88,300 rows) vs ``pyarrow.parquet.read_table``.
- fastText and Zhang CSV: the real Amazon polarity sample repeated ``--repeat`` times into a temporary folder,
  loaded with ``load_amazon_fasttext`` / ``load_amazon_zhang_csv`` vs counting lines / ``csv.reader`` records.

Run: ``.venv/bin/python benchmarks/bench_data_loading.py [--repeat 31] [--out results.json]`` (needs
../shared/data). Each timer holds one loader call; the parquet file is read once before timing so both sides
find it in the file cache. The JSON carries its provenance.
"""

from __future__ import annotations

import argparse
import csv
import resource
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq
from _results import add_run_options, start_run

from textsel.data import load_amazon_fasttext, load_amazon_zhang_csv, load_pool

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def timed(function, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def write_copies(sample: Path, folder: Path, repeat: int) -> tuple[Path, Path]:
    """The sample as fastText and as Zhang CSV (title and body split at the first ': '), ``repeat`` times over."""
    lines = sample.read_text(encoding="utf-8").splitlines()
    fasttext_path, csv_path = folder / "polarity.ft.txt", folder / "polarity.csv"
    with open(fasttext_path, "w", encoding="utf-8") as fasttext, open(csv_path, "w", encoding="utf-8",
                                                                       newline="") as table:
        writer = csv.writer(table, quoting=csv.QUOTE_ALL, lineterminator="\n")
        for _ in range(repeat):
            for line in lines:
                fasttext.write(line + "\n")
                label, rest = line.split(" ", 1)
                title, _, body = rest.partition(": ")
                writer.writerow([label.removeprefix("__label__"), title, body])
    return fasttext_path, csv_path


def count_records(path: Path) -> int:
    with open(path, encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.reader(handle))


def count_lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for _ in handle)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=31)
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = add_run_options(parser).parse_args()
    run = start_run(args)
    parquet = SHARED / "amazon_multidomain" / "data.parquet"
    sample = SHARED / "amazon_polarity_sample" / "amazon_polarity_test_head.ft.txt"
    if not parquet.exists() or not sample.exists():
        sys.exit(f"needs {parquet} and {sample}")
    pq.read_table(parquet)  # warm the file cache and the import for both sides
    arrow_seconds, _ = timed(pq.read_table, parquet)
    parquet_seconds, pool = timed(load_pool, parquet, id_col="id")
    with tempfile.TemporaryDirectory() as folder:
        fasttext_path, csv_path = write_copies(sample, Path(folder), args.repeat)
        lines_seconds, lines = timed(count_lines, fasttext_path)
        fasttext_seconds, fasttext_pool = timed(load_amazon_fasttext, fasttext_path)
        records_seconds, records = timed(count_records, csv_path)
        zhang_seconds, zhang_pool = timed(load_amazon_zhang_csv, csv_path)
    assert len(fasttext_pool) == lines and len(zhang_pool) == records
    figures = {
        "benchmark": "data_loading",
        "parquet_rows": len(pool), "parquet_seconds": round(parquet_seconds, 3),
        "parquet_vs_read_table": round(parquet_seconds / arrow_seconds, 2),
        "fasttext_rows": lines, "fasttext_seconds": round(fasttext_seconds, 3),
        "fasttext_rows_per_second": round(lines / fasttext_seconds),
        "fasttext_vs_line_count": round(fasttext_seconds / lines_seconds, 1),
        "zhang_rows": records, "zhang_seconds": round(zhang_seconds, 3),
        "zhang_rows_per_second": round(records / zhang_seconds),
        "zhang_vs_csv_reader": round(zhang_seconds / records_seconds, 2),
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    run.finish(figures, seeds=None, out=args.out)


if __name__ == "__main__":
    main()
