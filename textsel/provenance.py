"""Where a result came from: every results file that benchmarks, recipes and simulations write carries this.

A figure is only worth what its provenance lets a reader check: the exact code (git commit, and whether the tree
had uncommitted changes), the exact command, package versions, the machine, the seeds, the wall time and the date.
``results_with_provenance`` wraps a payload; ``check_provenance`` is what the tests run over committed results.
"""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

SCHEMA_VERSION = 1
PACKAGES = ("textsel", "numpy", "torch", "sentence-transformers", "transformers", "hnswlib", "fasttext-wheel",
            "scikit-learn")
RESULT_FOLDERS = ("benchmarks/results", "recipes/results")
REQUIRED_KEYS = ("schema_version", "git_commit", "git_dirty", "command", "packages", "machine", "seeds",
                 "wall_seconds", "date")


def git_state(folder: str | Path | None = None) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the git checkout holding ``folder`` (default: this package); (None, None) outside git.

    Dirty means tracked code or documents differ from the commit; changed files under :data:`RESULT_FOLDERS` do not
    count."""
    folder = Path(folder) if folder is not None else Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True,
                                check=True, timeout=10).stdout.strip()
        # Results files are outputs, not code: a run that saves its results in stages must not call itself dirty.
        changes = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ":/",
                                  *(f":(exclude,top){folder}" for folder in RESULT_FOLDERS)], cwd=folder,
                                 capture_output=True, text=True, check=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit, bool(changes.strip())


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Installed version of each distribution (None when it is not installed)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def machine() -> dict:
    """CPU model and cores, memory, OS, Python, and the GPU when torch is already imported and sees one."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        memory_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        memory_gb = None
    gpu = None
    torch = sys.modules.get("torch")  # never import torch just to describe the machine
    if torch is not None and torch.cuda.is_available():
        gpu = torch.cuda.get_device_name(0)
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": memory_gb, "gpu": gpu,
            "os": platform.platform(), "python": platform.python_version()}


def provenance(*, seeds: list[int] | None, started: float, command: list[str] | None = None) -> dict:
    """The provenance block: commit, dirty flag, command, packages, machine, seeds, wall time since ``started``
    (a ``time.perf_counter()`` reading taken when the run began) and the UTC date."""
    commit, dirty = git_state()
    return {"schema_version": SCHEMA_VERSION, "git_commit": commit, "git_dirty": dirty,
            "command": shlex.join(command if command is not None else [Path(sys.executable).name, *sys.argv]),
            "packages": package_versions(), "machine": machine(), "seeds": list(seeds) if seeds is not None else [],
            "wall_seconds": round(time.perf_counter() - started, 3),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def results_with_provenance(payload: dict, *, seeds: list[int] | None, started: float,
                            command: list[str] | None = None) -> dict:
    """``payload`` with a ``provenance`` block added (the payload's own keys are left as they are)."""
    return {**payload, "provenance": provenance(seeds=seeds, started=started, command=command)}


def check_provenance(results: dict) -> list[str]:
    """What is missing or outdated in a results document's provenance; an empty list when it is complete."""
    block = results.get("provenance")
    if not isinstance(block, dict):
        return ["no 'provenance' block"]
    problems = [f"provenance lacks {key!r}" for key in REQUIRED_KEYS if key not in block]
    if "schema_version" in block and block["schema_version"] != SCHEMA_VERSION:
        problems.append(f"provenance schema {block['schema_version']} is not the current {SCHEMA_VERSION}; rerun")
    if "git_commit" in block and not block["git_commit"]:
        problems.append("provenance has no git commit")
    return problems
