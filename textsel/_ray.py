"""Ray, only when used: the module (or an error naming the extra) and how many actors a cluster fits.

Embedding (:mod:`textsel.embed_ray`) and scoring (:mod:`textsel.score_ray`) both ask here how many actors to
start, so both refuse what does not fit instead of waiting forever for resources that never come.
"""

from __future__ import annotations

from typing import Any

from textsel.errors import ConfigError, MissingDependencyError


def ray_module(purpose: str) -> Any:
    """The ray module with Ray Data, or MissingDependencyError naming the extra (``purpose``: what needs it)."""
    try:
        import ray
        import ray.data  # noqa: F401 - the Data library is the part used
    except ImportError as error:
        raise MissingDependencyError(f"{purpose} with Ray needs the ray extra: pip install 'textsel[ray]'") from error
    return ray


def fitting_workers(resources: dict, workers: int | None, *, spare: int, cpus_per_worker: float,
                    gpus_per_worker: float, work: str = "scoring") -> int:
    """Actors for a cluster with ``resources`` (``ray.cluster_resources()``): ``workers`` when they fit, else
    ConfigError; None: as many as fit the CPUs (less ``spare``, e.g. one for Ray Data's parquet reads) and, for
    GPU actors, the GPUs. A GPU actor on a cluster without GPUs is refused (Ray would wait for one forever).
    ``work`` names the actors in messages ("scoring", "embedding")."""
    reads = " and one CPU left to the parquet reads" if spare else ""
    cpu_fits = max(1, int((resources.get("CPU", 1) - spare) // cpus_per_worker))
    gpu_fits = int(resources.get("GPU", 0) // gpus_per_worker) if gpus_per_worker else cpu_fits
    if gpus_per_worker and (gpu_fits < 1 or (workers is not None and workers > gpu_fits)):
        raise ConfigError(f"the Ray cluster has {resources.get('GPU', 0):g} GPUs, too few for {workers or 1} GPU "
                          f"{work} worker(s) at {gpus_per_worker:g} GPU each; run the {work} on CPUs or add GPU "
                          f"nodes")
    if workers is not None and workers > cpu_fits:
        raise ConfigError(f"{workers} {work} workers do not fit the Ray cluster: at most {cpu_fits} with "
                          f"{cpus_per_worker} CPUs each{reads}")
    return min(cpu_fits, gpu_fits) if workers is None else workers
