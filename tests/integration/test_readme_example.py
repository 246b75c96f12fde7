"""The README's Python API example runs as written (on a small generated pool, with the packaged MiniLM)."""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.parquet as pq
from conftest import REPO


def test_readme_python_example_runs(tmp_path, monkeypatch):
    code = re.search(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S).group(1)
    subjects = ["the ending reveals the killer", "great pacing and characters", "slow middle chapters",
                "the hero dies in the last chapter", "lovely cover and print quality"]
    texts = [f"{subjects[i % len(subjects)]} ({i})" for i in range(400)]
    pq.write_table(pa.table({"id": list(range(400)), "text": texts}), tmp_path / "reviews.parquet")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    batch = namespace["batch"]
    assert len(batch.ids) == 20
    assert not set(batch.ids.tolist()) & {17, 204, 311}
    assert 0 < batch.candidate_pool_size <= 300
