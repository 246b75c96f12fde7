"""Connect to Ray with bounded waiting and errors that say what failed.

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
