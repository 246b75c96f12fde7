"""CSV fields longer than the csv module's 128 KiB default (a long review or article) load, in pools and in
label files alike."""

from __future__ import annotations

import csv

from textsel.data import Pool, load_pool
from textsel.importing import read_labels

LONG = "a very long review " * 11_000  # 209,000 characters, over the 131,072 default limit


def test_a_pool_with_a_200_kib_text_loads(tmp_path):
    path = tmp_path / "pool.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([["id", "text"], [1, "short"], [2, LONG], [3, "after it"]])
    pool = load_pool(path, id_col="id")
    assert len(LONG) > 200 * 1024 and pool.texts[1] == LONG and list(pool.ids) == [1, 2, 3]


def test_a_label_file_with_a_200_kib_field_loads(tmp_path):
    path = tmp_path / "labels.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([["id", "label", "text"], [2, "broken", LONG], [3, "fine", "ok"]])
    pool = Pool(ids=[2, 3], texts=[LONG, "ok"])
    read = read_labels(path, pool, ["broken", "fine"])
    assert (read.doc_ids, read.labels) == ([2, 3], ["broken", "fine"])
