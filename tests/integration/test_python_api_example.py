"""The Python API example for the README: SEALS and Selection via Proxy through one loop (RoundEngine + the learner
and strategy registries), run as written on a small generated pool with the packaged MiniLM.

The test runs the README's own code block (the copy below only stands in if the README ever loses it).
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import REPO

EXAMPLE = '''
import textsel

pool = textsel.load_pool("reviews.parquet", text_col="text", id_col="id")      # stable integer ids
vectors = textsel.embed_pool(pool, cache_dir=".cache")                           # packaged MiniLM, resumable
index = textsel.build_index(vectors, pool.ids, backend="hnsw")                   # kNN keyed by document id
labels = {17: "spoiler", 204: "clean", 311: "clean"}                             # {id: label} so far

# SEALS: logistic regression on the embeddings scores only the kNN neighbourhood of the labeled texts
seals = textsel.RoundEngine(pool.ids, textsel.SEALSCandidates(index, k=100), features=vectors,
                            learner=textsel.make_learner("logistic"), strategy="entropy", batch_size=20,
                            positive_label="spoiler", classes=["clean", "spoiler"])
batch = seals.select_batch(labels)         # .ids to label next, .scores, .candidate_pool_size, .select_seconds

# Selection via Proxy, the same loop: the fastText proxy reads the texts and ranks the whole pool ...
proxy = textsel.RoundEngine(pool.ids, textsel.AllCandidates(), texts=pool.texts,
                            learner=textsel.make_learner("fasttext", threads=1), strategy="least-confidence",
                            batch_size=20, classes=["clean", "spoiler"])
proxy_batch = proxy.select_batch(labels)
# ... and the expensive target trains on what was labeled (any registered learner: "transformer", "vdcnn")
target = textsel.RoundEngine(pool.ids, textsel.AllCandidates(), texts=pool.texts,
                             learner=textsel.make_learner("transformer", epochs=1))
target.fit(labels)                         # fine-tunes MiniLM with Hugging Face Trainer
target.learner_.save("spoiler-model")      # save_pretrained: safetensors, no pickle
'''


def _example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    shown = [block for block in blocks if "make_learner(\"fasttext\"" in block]
    return shown[0] if shown else EXAMPLE


@pytest.mark.usefixtures("one_torch_thread")
def test_seals_and_svp_through_one_api(tmp_path, monkeypatch):
    from textsel.models import TransformerClassifier

    subjects = ["the ending reveals the killer", "great pacing and characters", "slow middle chapters",
                "the hero dies in the last chapter", "lovely cover and print quality"]
    texts = [f"{subjects[i % len(subjects)]} ({i})" for i in range(320)]
    pq.write_table(pa.table({"id": list(range(320)), "text": texts}), tmp_path / "reviews.parquet")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(_example(), "README.md", "exec"), namespace)
    labeled = {17, 204, 311}
    batch, proxy_batch = namespace["batch"], namespace["proxy_batch"]
    assert len(batch.ids) == 20 and not set(batch.ids.tolist()) & labeled and 0 < batch.candidate_pool_size <= 317
    assert len(proxy_batch.ids) == 20 and not set(proxy_batch.ids.tolist()) & labeled
    assert proxy_batch.candidate_pool_size == 317  # the proxy ranked every unlabeled text
    assert namespace["proxy"].learner_.input == "texts" and namespace["seals"].learner_.input == "embeddings"
    saved = TransformerClassifier.load(tmp_path / "spoiler-model", device="cpu")
    assert saved.classes_.tolist() == ["clean", "spoiler"]
    assert (tmp_path / "spoiler-model" / "model.safetensors").exists()
    np.testing.assert_allclose(saved.predict_proba(texts[:5]), namespace["target"].learner_.predict_proba(texts[:5]),
                               atol=1e-5)

