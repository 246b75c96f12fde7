"""Command start-up stays light (issue 22): the CLI imports no numerical library until a command needs it, and
`textsel next` with a pending batch (a command whose cost depends on the batch, not the pool) imports none of the
libraries that read, index, embed or train on the pool."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from conftest import precomputed_project

from textsel.project import Project

POOL_LIBRARIES = ("pyarrow", "pandas", "scipy", "sklearn", "torch", "sentence_transformers", "transformers",
                  "hnswlib", "fasttext", "ray")


def _loaded_after(code: str, modules: tuple[str, ...]) -> list[str]:
    """The ``modules`` a fresh interpreter has imported after running ``code``."""
    check = f"{code}\nimport sys\nprint('LOADED:' + ','.join(m for m in {modules!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    loaded = result.stdout.rsplit("LOADED:", 1)[1].strip()
    return [name for name in loaded.split(",") if name]


def test_importing_the_cli_loads_no_numerical_library():
    assert _loaded_after("import textsel.cli.app", ("numpy", *POOL_LIBRARIES)) == []


def test_next_with_a_pending_batch_imports_nothing_that_reads_the_pool(tmp_path: Path):
    texts = [f"review {i}: {'squeaky hinge' if i % 9 == 0 else 'nice shirt'}" for i in range(300)]
    folder, _ = precomputed_project(tmp_path, texts, list(range(300)), ["hinge", "other"], dtype=np.float16)
    with Project(folder) as project:
        project.add_labels(list(range(0, 100, 10)), ["hinge", "other"] * 5, source="seed")
        project.next_batch(5)  # leaves a pending round
    run = ("import sys\nfrom textsel.cli.app import main\nsys.argv = ['textsel', 'next', '-p', "
           f"{str(folder)!r}]\ntry:\n    main()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code")
    assert _loaded_after(run, POOL_LIBRARIES) == []


def test_next_selecting_a_batch_does_not_import_numpy_ma(tmp_path: Path):
    """numpy >= 2.3 imports numpy.ma on the first np.unique (~50 ms of a round's start-up): the round path uses
    textsel._setops instead."""
    texts = [f"review {i}: {'squeaky hinge' if i % 9 == 0 else 'nice shirt'}" for i in range(300)]
    folder, _ = precomputed_project(tmp_path, texts, list(range(300)), ["hinge", "other"], dtype=np.float16)
    for pool in ("all", "seals"):
        with Project(folder) as project:  # a project in use: its caches and SEALS state exist, no batch is pending
            if not project.store.current_labels():
                project.add_labels(list(range(0, 100, 10)), ["hinge", "other"] * 5, source="seed")
            _, result = project.next_batch(5, candidate_pool=pool, discard_pending=True)
            project.add_labels(result.ids.tolist(), ["other"] * 5, source="test")
        run = ("import sys\nfrom textsel.cli.app import main\nsys.argv = ['textsel', 'next', '--pool', "
               f"{pool!r}, '-p', {str(folder)!r}]\ntry:\n    main()\nexcept SystemExit as exit:\n"
               "    assert not exit.code, exit.code")
        assert _loaded_after(run, ("numpy.ma",)) == [], pool
