"""Loaders on the real files in ../shared/data (skipped when absent)."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from conftest import SHARED_DATA, shared_dataset

from textsel.data import load_amazon_fasttext, load_pool

pytestmark = pytest.mark.real_data


def test_amazon_polarity_fasttext_sample():
    path = shared_dataset("amazon_polarity_sample") / "amazon_polarity_test_head.ft.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    pool = load_amazon_fasttext(path)
    assert len(pool) == len(lines) == 6459
    assert pool.ids.tolist() == list(range(len(lines)))
    labels = pool.column("label")
    assert set(np.unique(labels).tolist()) == {1, 2}
    assert int((labels == 1).sum()) == sum(line.startswith("__label__1 ") for line in lines)
    assert pool.texts[0] == lines[0].removeprefix("__label__2 ").strip()
    generic = load_pool(path)
    assert generic.texts == pool.texts
    assert generic.column("label").tolist() == labels.tolist()


def test_amazon_multidomain_parquet_with_its_ids():
    import pyarrow.parquet as pq

    path = shared_dataset("amazon_multidomain") / "data.parquet"
    started = time.perf_counter()
    pool = load_pool(path, id_col="id", label_col="domain")
    seconds = time.perf_counter() - started
    assert len(pool) == 88_300
    table = pq.read_table(path, columns=["id", "domain"])
    assert pool.ids.tolist() == table.column("id").to_pylist()
    assert pool.column("domain").tolist() == table.column("domain").to_pylist()
    assert len(np.unique(pool.column("domain"))) == 25
    assert {"split", "label_t2", "label_t4", "label_t5"} <= set(pool.columns)
    assert seconds < 5, f"loading 88,300 rows took {seconds:.1f} s"


@pytest.mark.parametrize("name", ["amazon_blitzer", "tv_spoilers", "hotel_tips", "sms_spam", "imdb"])
def test_every_shared_parquet_loads_with_its_manifest_rows(name):
    path = shared_dataset(name) / "data.parquet"
    manifest = json.loads((SHARED_DATA / "MANIFEST.json").read_text(encoding="utf-8"))[name]
    pool = load_pool(path, id_col="id")
    assert len(pool) == manifest["rows"]
    assert sorted(pool.columns) == sorted(set(manifest["columns"]) - {"id", "text"})
