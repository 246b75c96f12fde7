"""Ray, only when used: the module (or an error naming the extra), how many actors a cluster fits, and a
connection with bounded waiting and errors that say what failed.

Embedding (:mod:`textsel.embed_ray`) and scoring (:mod:`textsel.score_ray`) both ask :func:`fitting_workers` how
many actors to start, so both refuse what does not fit instead of waiting forever for resources that never come.

``ray.init(address=...)`` on an address where no cluster answers retries for minutes before it gives up, and a
``ray://`` address without the client extra raises a bare ValueError. :func:`init_ray` checks first: a ``ray://``
address needs the ``grpc`` package of ``ray[client]``; a ``host:port`` (or ``ray://host:port``) must accept a TCP
connection within ``timeout`` seconds (default 30, ``$TEXTSEL_RAY_TIMEOUT``). Anything else ``ray.init`` raises
becomes one ConfigError naming the address.
"""

from __future__ import annotations

import importlib.util
import os
import socket
from typing import Any

from textsel.errors import ConfigError, MissingDependencyError

DEFAULT_TIMEOUT = 30.0
TIMEOUT_ENV = "TEXTSEL_RAY_TIMEOUT"


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


def connect_timeout() -> float:
    """Seconds to wait for a Ray cluster to answer: ``$TEXTSEL_RAY_TIMEOUT``, else 30."""
    try:
        value = float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT))
    except ValueError:
        raise ConfigError(f"{TIMEOUT_ENV} must be a number of seconds; got {os.environ[TIMEOUT_ENV]!r}") from None
    return value if value > 0 else DEFAULT_TIMEOUT


def init_ray(ray: Any, address: str | None, *, show_progress: bool, timeout: float | None = None) -> None:
    """``ray.init`` at ``address`` (None: a local Ray) unless Ray is running in this process; check the address
    first (see the module docstring)."""
    if ray.is_initialized():
        return
    if address is not None:
        check_address(address, connect_timeout() if timeout is None else timeout)
    try:
        ray.init(address=address, log_to_driver=show_progress, configure_logging=show_progress)
    except (ConnectionError, TimeoutError, ValueError, RuntimeError) as error:
        raise ConfigError(f"cannot start or join Ray at {address or 'a local instance'}: "
                          f"{str(error).splitlines()[0] if str(error) else type(error).__name__}") from error


def check_client(address: str) -> None:
    """Raise MissingDependencyError when ``address`` is a ``ray://`` address and Ray Client is not installed."""
    if address.startswith("ray://") and importlib.util.find_spec("grpc") is None:
        raise MissingDependencyError(f"the Ray address {address} uses Ray Client, which needs the client extra: "
                                     f"pip install 'ray[client]'")


def check_address(address: str, timeout: float) -> None:
    """Raise unless ``address`` can be used: the client extra for ``ray://``, a listening ``host:port``."""
    check_client(address)
    target = address.removeprefix("ray://")
    if target in ("auto", "local") or ":" not in target:
        return  # ray finds the cluster itself (a local one; it fails fast when there is none)
    host, _, port = target.rpartition(":")
    if not port.isdigit():
        raise ConfigError(f"the Ray address {address!r} is not host:port")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as error:
        reason = "no answer" if isinstance(error, TimeoutError) else (error.strerror or str(error))
        raise ConfigError(f"cannot reach the Ray cluster at {address} ({reason} within {timeout:g} s); check the "
                          f"address and that the cluster is running") from error
