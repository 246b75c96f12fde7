"""The README's Python API example (SEALS and Selection via Proxy through one loop: RoundEngine + the learner and
strategy registries), run as written on the demo's data with the packaged MiniLM.

The test runs the README's own code block; the demo's parquet is stood in for by a small table with the same
columns (``Review Text`` with some missing, ``Rating``, no id column) through ``TEXTSEL_DEMO_PARQUET``, so nothing is
fetched.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import REPO


def _example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    shown = [block for block in blocks if "make_learner(\"fasttext\"" in block]
    assert shown, "the README lost its Python API example"
    return shown[0]


@pytest.mark.usefixtures("one_torch_thread")
def test_seals_and_svp_through_one_api(tmp_path, monkeypatch):
    from textsel.models import TransformerClassifier

    subjects = ["the seams split after one wash, awful", "lovely soft dress, fits perfectly", "runs small, size up",
                "colour exactly as pictured", "returned it, the worst purchase"]
    n = 360
    texts = [None if i % 29 == 5 else f"{subjects[i % len(subjects)]} ({i})" for i in range(n)]  # some missing
    ratings = [1 if i % 5 in (0, 4) else 5 for i in range(n)]
    demo = tmp_path / "womens_clothing_reviews.parquet"
    pq.write_table(pa.table({"Clothing ID": list(range(n)), "Title": ["t"] * n, "Review Text": texts,
                             "Rating": ratings}), demo)
    monkeypatch.setenv("TEXTSEL_DEMO_PARQUET", str(demo))
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(_example(), "README.md", "exec"), namespace)
    labeled, pool = set(namespace["labels"]), namespace["pool"]
    assert len(pool.ids) == n - texts.count(None) and len(labeled) == 300  # reviews without text are skipped
    assert sum(label == "one_star" for label in namespace["labels"].values()) > 50  # from the Rating column
    texts = pool.texts
    batch, proxy_batch = namespace["batch"], namespace["proxy_batch"]
    unlabeled = len(pool.ids) - len(labeled)
    assert len(batch.ids) == 20 and not set(batch.ids.tolist()) & labeled
    assert 0 < batch.candidate_pool_size <= unlabeled
    assert len(proxy_batch.ids) == 20 and not set(proxy_batch.ids.tolist()) & labeled
    assert proxy_batch.candidate_pool_size == unlabeled  # the proxy ranked every unlabeled text
    assert namespace["proxy"].learner_.input == "texts" and namespace["seals"].learner_.input == "embeddings"
    saved = TransformerClassifier.load(tmp_path / "one-star-model", device="cpu")
    assert saved.classes_.tolist() == ["one_star", "other"]
    assert (tmp_path / "one-star-model" / "model.safetensors").exists()
    np.testing.assert_allclose(saved.predict_proba(texts[:5]), namespace["target"].learner_.predict_proba(texts[:5]),
                               atol=1e-5)

