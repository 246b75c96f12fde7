"""SEALS on real Amazon reviews: as good as scoring everything, while scoring a fraction of the pool."""

import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import shared_dataset

from textsel.candidates import AllCandidates, SEALSCandidates
from textsel.index import build_index
from textsel.simulate import HeldOut, run_simulation

pytestmark = pytest.mark.real_data


def test_seals_matches_all_on_a_rare_amazon_domain():
    folder = shared_dataset("amazon_multidomain")
    table = pq.read_table(folder / "data.parquet", columns=["id", "domain", "split"])
    ids = table.column("id").to_numpy()
    domain = table.column("domain").to_numpy(zero_copy_only=False)
    test = table.column("split").to_numpy(zero_copy_only=False) == "test"
    vectors = np.load(folder / "minilm.f16.npy", mmap_mode="r")
    pool = np.flatnonzero(~test)[::2]  # half the pool keeps the test quick
    features = np.asarray(vectors[pool], dtype=np.float32)
    labels = (domain[pool] == "office_products").astype(int)
    heldout = HeldOut((domain[test] == "office_products").astype(int), np.asarray(vectors[test], dtype=np.float32))
    index = build_index(features, ids[pool], backend="hnsw", M=16, ef_construction=100)
    runs = {}
    for name, candidate_pool in (("seals", SEALSCandidates(index, k=100)), ("all", AllCandidates())):
        runs[name] = run_simulation(ids[pool], labels, features=features, heldout=heldout, strategy="mlp",
                                    candidate_pool=candidate_pool, batch_size=50, budget=400, seed=0)
    seals, everything = runs["seals"][-1], runs["all"][-1]
    assert seals["positives_found"] >= 0.9 * everything["positives_found"]
    assert seals["average_precision"] >= 0.9 * everything["average_precision"]
    assert max(r["pool_fraction"] for r in runs["seals"][:-1]) < 0.5
    assert everything["positives_found"] > 5 * 5  # far more than the 5 seed positives
