"""Score every row of a pool with a fitted learner on Ray Data (one machine or a cluster), in pool order.

The full-pool scans (``--pool all`` rounds and ``predict``) are, after embedding, the only passes over every row
of a pool; on a cluster they run where the vectors are encoded. :func:`score_pool_ray` returns exactly what
``learner.predict_proba`` returns over the whole pool, chunk by chunk on this machine:

- The fitted learner is put in the object store once; one scoring actor per worker (``_ScoringActor``) fetches
  it once and keeps it for every batch. A fastText model cannot be pickled, so it travels as its saved model bytes.
- Embedding learners: the pool is cut into row ranges of ``chunk_rows``; each actor reads its ranges from the
  memory-mapped ``.npy`` file behind the embeddings (the project's cache; on a cluster it must be on storage
  every node can read) and converts them to float32, as the local path does. Embeddings that are no whole-file
  memory map (computed in memory) are put in the object store once instead.
- Text learners (fastText, the transformer): the texts are staged as parquet files (row, text) in a private
  folder under ``staging_dir``, read with ``ray.data.read_parquet``, and the folder is removed afterwards.
- GPU actors (``gpus_per_worker`` > 0) serve learners with a torch model (the transformer target, VDCNN: see
  :func:`runs_on_gpu`): each actor reserves that share of a GPU and moves the model there once. The cluster must
  hold the GPUs asked for; otherwise the run is refused before anything is staged (Ray would wait forever).

Every batch comes back with its row numbers, so the result is in pool order whatever order Ray finishes in.
Ray is the optional extra ``textsel[ray]``; nothing here imports it until a scan runs.
"""

from __future__ import annotations

import copy
import mmap
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from textsel import errors
from textsel.errors import ConfigError, DataError, TextselError, check_param
from textsel.ray_connect import check_client, fitting_workers, init_ray, ray_module

ENGINES = ("local", "ray")


def check_engine(owner: str, engine: str, address: str | None = None, workers: int | None = None, *,
                 purpose: str = "scoring") -> None:
    """Raise before any work unless ``engine`` is "local" or "ray" (with the ray extra installed; ``purpose`` says
    what needs it), ``address`` is None or a non-empty string, ``workers`` None or an int >= 1, and address and
    workers come only with Ray."""
    check_param(owner, "engine", engine, engine in ENGINES, f"one of {ENGINES}")
    check_param(owner, "address", address, address is None or (isinstance(address, str) and bool(address.strip())),
                "None or a Ray cluster address such as 'auto' or 'ray://head:10001'")
    check_param(owner, "workers", workers, workers is None or (isinstance(workers, int | np.integer)
                                                               and not isinstance(workers, bool) and workers >= 1),
                "None or an int >= 1")
    if engine == "local" and (address is not None or workers is not None):
        raise ConfigError(f"address and workers of {owner} apply only to engine='ray'")
    if engine == "ray":
        ray_module(purpose)  # the missing extra is an error now, not after a model was trained
        if address is not None:
            check_client(address)  # so is a ray:// address without Ray Client


def runs_on_gpu(learner: Any) -> bool:
    """Whether a fitted learner holds a torch model that a GPU actor can run (``model_`` with ``.to`` and a
    ``device_``): the transformer target and VDCNN do; logistic regression and fastText do not."""
    return hasattr(getattr(learner, "model_", None), "to") and hasattr(learner, "device_")


def score_pool_ray(learner: Any, *, embeddings: np.ndarray | None = None, texts: Sequence[str] | None = None,
                   staging_dir: str | os.PathLike | None = None, chunk_rows: int = 65_536,
                   address: str | None = None, workers: int | None = None, cpus_per_worker: float = 1.0,
                   gpus_per_worker: float = 0.0, show_progress: bool = False) -> np.ndarray:
    """``learner.predict_proba`` of every pool row, computed with Ray Data; shape (n_rows, n_classes).

    Parameters
    ----------
    learner : a fitted Learner
        Its ``input`` says what it reads: "embeddings" rows or "texts".
    embeddings : array (n_rows, dim), optional
        Needed by embedding learners; a memory map of a whole ``.npy`` file (as ``Project.embeddings()`` returns
        for a cached pool) is read by the workers from that file, any other array is put in the object store.
    texts : sequence of str, optional
        Needed by text learners.
    staging_dir : path, optional
        Where the texts are staged as parquet for a text learner (default: the system's temporary folder). On a
        cluster, a folder every node can read.
    chunk_rows : int, default=65_536
        Rows per range (embeddings) or per batch (texts): the unit of work of one actor call.
    address : str or None, default=None
        A running cluster's address ("auto", "ray://head:10001", "head:6379"); None starts Ray on this machine
        unless it is already running in this process.
    workers : int or None, default=None
        Scoring actors (each holds the learner); None: as many as the cluster's CPUs fit (less one for a text
        learner: Ray Data's parquet reads need one); more than fit is a ConfigError (the run would wait forever).
    cpus_per_worker : float, default=1.0
    gpus_per_worker : float, default=0.0
        > 0 runs each scoring actor on that share of a GPU, the learner's torch model moved to ``cuda``; only for a
        learner that :func:`runs_on_gpu`. More GPU actors than the cluster's GPUs fit is a ConfigError (a cluster
        without GPUs fits none); None workers: as many as fit both the GPUs and the CPUs.
    show_progress : bool, default=False
        Ray Data's progress bars.
    """
    check_param("score_pool_ray", "chunk_rows", chunk_rows,
                isinstance(chunk_rows, int | np.integer) and chunk_rows >= 1, "an int >= 1")
    check_param("score_pool_ray", "cpus_per_worker", cpus_per_worker,
                isinstance(cpus_per_worker, int | float) and cpus_per_worker > 0, "a number > 0")
    check_param("score_pool_ray", "gpus_per_worker", gpus_per_worker,
                isinstance(gpus_per_worker, int | float) and not isinstance(gpus_per_worker, bool)
                and gpus_per_worker >= 0, "a number >= 0")
    check_engine("score_pool_ray", "ray", address, workers)
    n_classes = len(learner.classes_)  # NotFittedError before Ray starts
    if gpus_per_worker and not runs_on_gpu(learner):
        raise ConfigError(f"GPU scoring actors run learners with a torch model (the transformer, VDCNN); "
                          f"{type(learner).__name__} scores on CPUs: set gpus_per_worker to 0")
    reads_texts = getattr(learner, "input", "embeddings") == "texts"
    inputs = texts if reads_texts else embeddings
    if inputs is None:
        raise ConfigError(f"score_pool_ray needs '{'texts' if reads_texts else 'embeddings'}' for this learner")
    if not reads_texts and np.ndim(embeddings) != 2:
        raise DataError(f"embeddings must be 2-D (rows, dim); got shape {np.shape(embeddings)}")
    if not len(inputs):
        return np.zeros((0, n_classes))
    ray = ray_module("scoring")
    init_ray(ray, address, show_progress=show_progress)  # bounded wait, says what failed
    ray.data.DataContext.get_current().enable_progress_bars = show_progress
    # Parquet reads need a CPU of their own: text-learner actors holding every CPU would wait for them forever.
    spare = 1 if reads_texts else 0
    workers = fitting_workers(ray.cluster_resources(), workers, spare=spare, cpus_per_worker=cpus_per_worker,
                              gpus_per_worker=gpus_per_worker)
    payload = {"learner": [ray.put(_shippable(learner))],  # in a list: the actor fetches it, Ray does not inline it
               "device": "cuda" if gpus_per_worker else None}
    if reads_texts:
        if staging_dir is not None:
            Path(staging_dir).mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="textsel-scoring-", dir=staging_dir))
        try:
            dataset = ray.data.read_parquet(_stage_texts(texts, folder, chunk_rows))
            return _run(ray, dataset, payload, len(texts), batch_size=int(chunk_rows), workers=workers,
                        cpus_per_worker=cpus_per_worker, gpus_per_worker=gpus_per_worker)
        finally:
            _remove_staged(folder)
    payload["vectors"] = _vector_source(ray, embeddings)
    ranges = [{"start": start, "stop": min(start + int(chunk_rows), len(embeddings))}
              for start in range(0, len(embeddings), int(chunk_rows))]
    return _run(ray, ray.data.from_items(ranges), payload, len(embeddings), batch_size=1, workers=min(workers,
                len(ranges)), cpus_per_worker=cpus_per_worker, gpus_per_worker=gpus_per_worker)


def _run(ray: Any, dataset: Any, payload: dict, n_rows: int, *, batch_size: int, workers: int,
         cpus_per_worker: float, gpus_per_worker: float = 0.0) -> np.ndarray:
    """Score ``dataset`` with the actor pool (each actor reserving ``gpus_per_worker`` of a GPU when > 0); place
    every returned batch at its rows."""
    scored = dataset.map_batches(_ScoringActor, fn_constructor_kwargs={"payload": payload}, batch_size=batch_size,
                                 batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=workers),
                                 num_cpus=cpus_per_worker, num_gpus=gpus_per_worker or None)
    probabilities, seen = None, np.zeros(n_rows, dtype=bool)
    try:
        for batch in scored.iter_batches(batch_format="numpy", batch_size=None):
            rows, values = np.asarray(batch["row"], dtype=np.int64), np.asarray(batch["probabilities"])
            if probabilities is None:
                probabilities = np.zeros((n_rows, values.shape[1]), dtype=values.dtype)
            probabilities[rows], seen[rows] = values, True
    except ray.exceptions.RayError as error:
        raise _worker_error(error) from None
    if probabilities is None or not seen.all():
        raise DataError(f"Ray returned no probabilities for {int((~seen).sum())} of {n_rows} rows; score again")
    return probabilities


def _worker_error(error: Exception) -> TextselError:
    """One line for an error a Ray worker raised (Ray passes a multi-line traceback with colour codes): the worker's
    own textsel error as it was, anything else with what to check."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in str(error).splitlines()] or [repr(error)]
    for line in reversed(lines):
        ours = re.match(r"textsel\.errors\.(\w+): (.+)", line)
        kind = getattr(errors, ours.group(1), None) if ours else None
        if isinstance(kind, type) and issubclass(kind, TextselError):
            return kind(ours.group(2))
    cause = next((line for line in reversed(lines) if re.match(r"[\w.]+(Error|Exception): ", line)), lines[-1])
    return DataError(f"a Ray worker could not score the pool ({cause}); on a cluster every node needs textsel and "
                     f"storage that can read the project's cache folder")


def _vector_source(ray: Any, embeddings: np.ndarray) -> dict:
    """Where the actors read the vectors: the ``.npy`` file behind a whole-file memory map, else the object store."""
    if isinstance(embeddings, np.memmap) and isinstance(embeddings.base, mmap.mmap) and embeddings.filename:
        path = str(Path(embeddings.filename).resolve())
        try:
            on_disk = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError):
            on_disk = None
        if on_disk is not None and (on_disk.shape, on_disk.dtype, on_disk.offset) == (
                embeddings.shape, embeddings.dtype, embeddings.offset):
            return {"path": path, "shape": embeddings.shape, "dtype": str(embeddings.dtype)}
    return {"array": [ray.put(np.asarray(embeddings))]}


def _stage_texts(texts: Sequence[str], folder: Path, chunk_rows: int) -> list[str]:
    """Write the texts as parquet files of ``chunk_rows`` rows (row number, text) into ``folder``; return them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = []
    for start in range(0, len(texts), chunk_rows):
        part = [str(text) for text in texts[start:start + chunk_rows]]
        path = folder / f"texts-{start // chunk_rows:06d}.parquet"
        pq.write_table(pa.table({"row": np.arange(start, start + len(part), dtype=np.int64), "text": part}), path)
        files.append(str(path))
    return files


def _remove_staged(folder: Path) -> None:
    """Delete the parquet files this module staged, then their (private, temporary) folder."""
    for path in folder.glob("texts-*.parquet"):
        path.unlink(missing_ok=True)
    try:
        folder.rmdir()
    except OSError:
        pass


def _shippable(learner: Any) -> Any:
    """The learner as Ray can pickle it: a fastText model (a C++ object) is replaced by its saved model bytes."""
    model = getattr(learner, "model_", None)
    if model is None or not hasattr(model, "save_model"):
        return learner
    handle, path = tempfile.mkstemp(prefix="textsel-fasttext-", suffix=".bin")
    os.close(handle)
    try:
        model.save_model(path)
        shipped = copy.copy(learner)
        del shipped.model_
        shipped.fasttext_model_bytes_ = Path(path).read_bytes()
        return shipped
    finally:
        os.remove(path)


def _unshipped(learner: Any) -> Any:
    """Undo :func:`_shippable` on a worker: load the fastText model from its bytes."""
    saved = vars(learner).pop("fasttext_model_bytes_", None)
    if saved is None:
        return learner
    import fasttext

    handle, path = tempfile.mkstemp(prefix="textsel-fasttext-", suffix=".bin")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(saved)
        learner.model_ = fasttext.load_model(path)
    finally:
        os.remove(path)
    return learner


def _on_device(learner: Any, device: str | None) -> Any:
    """The learner with its torch model moved to ``device`` (a GPU actor's "cuda"); unchanged for None."""
    if device is None:
        return learner
    import torch

    learner.model_ = learner.model_.to(device)
    learner.device_ = torch.device(device)
    return learner


class _ScoringActor:
    """One per Ray worker: fetches the learner (and the vectors' source) once, then scores batches of rows.

    A batch is either texts with their row numbers (a text learner) or row ranges of the embeddings.
    """

    def __init__(self, payload: dict) -> None:
        ray = ray_module("scoring")
        self.learner = _on_device(_unshipped(ray.get(payload["learner"][0])), payload.get("device"))
        source = payload.get("vectors")
        self.vectors = None
        if source is not None and "path" in source:
            self.vectors = np.load(source["path"], mmap_mode="r", allow_pickle=False)
            if (self.vectors.shape, str(self.vectors.dtype)) != (tuple(source["shape"]), source["dtype"]):
                raise DataError("the embeddings file changed while the pool was scored; score again",
                                file=source["path"])
        elif source is not None:
            self.vectors = ray.get(source["array"][0])

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if "text" in batch:
            texts = [str(text) for text in batch["text"]]
            return {"row": np.asarray(batch["row"], dtype=np.int64),
                    "probabilities": np.asarray(self.learner.predict_proba(texts))}
        rows, parts = [], []
        for start, stop in zip(batch["start"].tolist(), batch["stop"].tolist(), strict=True):
            rows.append(np.arange(start, stop, dtype=np.int64))
            parts.append(np.asarray(self.learner.predict_proba(np.asarray(self.vectors[start:stop],
                                                                          dtype=np.float32))))
        return {"row": np.concatenate(rows), "probabilities": np.vstack(parts)}
