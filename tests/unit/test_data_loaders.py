"""load_pool: every plain format, id and column rules, and the errors bad input must give."""

from __future__ import annotations

import gzip
import importlib.util
import json
import logging

import numpy as np
import pytest
from conftest import FIXTURES

from textsel.data import Pool, load_pool
from textsel.errors import ConfigError, DataError


def expected_pool() -> list[dict]:
    """The fixture pool read independently of textsel, from its JSON lines."""
    return [json.loads(line) for line in (FIXTURES / "pool.jsonl").read_text("utf-8").splitlines()]


def test_fixtures_match_their_script():
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, data in module.fixtures().items():
        if name.endswith((".parquet", ".gz")):  # binary encodings may differ across library versions
            continue
        assert (FIXTURES / name).read_bytes() == data, f"{name} is stale: run data/fixtures/make_fixtures.py"


@pytest.mark.parametrize("name", ["pool.csv", "pool.jsonl", "pool.parquet"])
def test_plain_formats_load_texts_ids_and_columns(name):
    records = expected_pool()
    pool = load_pool(FIXTURES / name, id_col="id", label_col="label")
    assert isinstance(pool, Pool)
    assert pool.ids.tolist() == [record["id"] for record in records]
    assert pool.texts == [record["text"] for record in records]
    assert pool.column("label").tolist() == [record["label"] for record in records]
    assert pool.column("label").dtype == np.int64
    assert pool.column("split").tolist() == [record["split"] for record in records]
    assert sorted(pool.columns) == ["label", "split"]
    assert pool.source == str(FIXTURES / name)


def test_tsv_matches_csv_except_the_newline_tsv_cannot_hold():
    csv_pool = load_pool(FIXTURES / "pool.csv", id_col="id")
    tsv_pool = load_pool(FIXTURES / "pool.tsv", id_col="id")
    assert tsv_pool.texts == [text.replace("\n", " ") for text in csv_pool.texts]
    assert tsv_pool.ids.tolist() == csv_pool.ids.tolist()


def test_without_id_column_ids_are_row_numbers_and_stable():
    first = load_pool(FIXTURES / "pool.csv")
    second = load_pool(FIXTURES / "pool.csv")
    assert first.ids.tolist() == list(range(len(expected_pool())))
    assert first.column("id").tolist() == [record["id"] for record in expected_pool()]
    assert first.fingerprint() == second.fingerprint()


def test_skipped_rows_keep_their_row_number_as_id(tmp_path, caplog):
    path = tmp_path / "pool.csv"
    path.write_text("text,label\nfirst,0\n,1\n   ,0\nfourth,1\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="textsel"):
        pool = load_pool(path, label_col="label")
    assert pool.ids.tolist() == [0, 3]
    assert pool.texts == ["first", "fourth"]
    assert pool.column("label").tolist() == [0, 1]
    message = caplog.text
    assert "skipped 2 of 4 rows" in message and "first at row 2" in message and str(path) in message


def test_strict_raises_on_the_first_empty_text(tmp_path):
    path = tmp_path / "pool.jsonl"
    path.write_text('{"text": "ok"}\n{"text": null}\n{"text": ""}\n', encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_pool(path, strict=True)
    assert (caught.value.file, caught.value.row, caught.value.column) == (str(path), 2, "text")


def test_missing_text_in_parquet_is_skipped(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "pool.parquet"
    pq.write_table(pa.table({"text": ["a", None, "c"], "score": [0.5, 1.5, None]}), path)
    pool = load_pool(path)
    assert pool.ids.tolist() == [0, 2]
    assert pool.column("score")[0] == 0.5 and np.isnan(pool.column("score")[1])


def test_fasttext_labels_and_unlabeled_lines(tmp_path):
    pool = load_pool(FIXTURES / "pool.ft.txt")
    assert pool.column("label").tolist() == [record["label"] for record in expected_pool()]
    assert pool.texts[1] == expected_pool()[1]["text"]
    path = tmp_path / "multi.ft"
    path.write_text("__label__a __label__b  two labels\nno label at all\n", encoding="utf-8")
    pool = load_pool(path)
    assert pool.texts == ["two labels", "no label at all"]
    assert pool.column("label").tolist() == ["a b", None]
    path.write_text("plain text only\n", encoding="utf-8")
    assert load_pool(path).columns == {}


def test_gzipped_json_lines_and_explicit_format(tmp_path):
    path = tmp_path / "pool.data"
    path.write_bytes(gzip.compress((FIXTURES / "pool.jsonl").read_bytes()))
    with pytest.raises(DataError, match="unknown file type"):
        load_pool(path)
    gz_path = tmp_path / "pool.jsonl.gz"
    gz_path.write_bytes(path.read_bytes())
    assert load_pool(gz_path, id_col="id").texts == [record["text"] for record in expected_pool()]
    csv_as_text = tmp_path / "pool.dat"
    csv_as_text.write_bytes((FIXTURES / "pool.csv").read_bytes())
    assert len(load_pool(csv_as_text, format="csv")) == len(expected_pool())


def test_parameters_are_checked():
    with pytest.raises(ConfigError, match="'format' parameter of load_pool"):
        load_pool(FIXTURES / "pool.csv", format="xlsx")
    with pytest.raises(ConfigError, match="'split' parameter of load_pool"):
        load_pool(FIXTURES / "pool.csv", split="train")


def test_saved_hugging_face_dataset_directory(tmp_path):
    datasets = pytest.importorskip("datasets")
    records = expected_pool()
    train = datasets.Dataset.from_list(records[:4])
    train.save_to_disk(str(tmp_path / "single"))
    pool = load_pool(tmp_path / "single", id_col="id", label_col="label")
    assert pool.texts == [record["text"] for record in records[:4]]
    assert pool.column("split").tolist() == ["train", "train", "train", "dev"]
    both = datasets.DatasetDict({"train": train, "test": datasets.Dataset.from_list(records[4:])})
    both.save_to_disk(str(tmp_path / "both"))
    assert load_pool(tmp_path / "both", split="test", id_col="id").ids.tolist() == [21, 35]
    with pytest.raises(DataError, match="available splits: test, train"):
        load_pool(tmp_path / "both")


def test_hub_names_go_to_load_dataset(monkeypatch):
    datasets = pytest.importorskip("datasets")
    calls = []

    def fake_load_dataset(name, split=None):
        calls.append((name, split))
        return datasets.Dataset.from_dict({"sentence": ["hello", "world"], "label": [0, 1]})

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    pool = load_pool("someone/some_set", text_col="sentence", split="validation")
    assert calls == [("someone/some_set", "validation")]
    assert pool.texts == ["hello", "world"] and pool.column("label").tolist() == [0, 1]


def test_a_hub_failure_is_a_data_error(monkeypatch):
    datasets = pytest.importorskip("datasets")

    def offline(name, split=None):
        raise ConnectionError("offline")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(DataError, match="could not load as a file or a Hugging Face dataset.*offline"):
        load_pool("no_such_set")


def test_missing_file_names_it(tmp_path):
    with pytest.raises(DataError, match="no such file") as caught:
        load_pool(tmp_path / "absent.csv")
    assert caught.value.file == str(tmp_path / "absent.csv")


@pytest.mark.parametrize("options, missing", [({"text_col": "body"}, "body"), ({"id_col": "doc"}, "doc"),
                                              ({"label_col": "gold"}, "gold")])
def test_missing_column_lists_the_available_ones(options, missing):
    with pytest.raises(DataError, match="available columns: id, text, label, split") as caught:
        load_pool(FIXTURES / "pool.csv", **options)
    assert caught.value.column == missing


def test_undecodable_bytes_name_file_and_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("text\nfine\ncaf\u00e9 cr\u00e8me\n".encode("latin-1"))
    with pytest.raises(DataError, match="undecodable bytes at line 3") as caught:
        load_pool(path)
    assert caught.value.file == str(path)
    jsonl = tmp_path / "latin1.jsonl"
    jsonl.write_bytes(b'{"text": "ok"}\n{"text": "caf\xe9"}\n')
    with pytest.raises(DataError, match="line 2"):
        load_pool(jsonl)


def test_duplicate_ids_name_the_repeating_row(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("id,text\n5,a\n6,b\n7,c\n6,d\n", encoding="utf-8")
    with pytest.raises(DataError, match="duplicate id 6 .first used on row 2") as caught:
        load_pool(path, id_col="id")
    assert (caught.value.row, caught.value.column) == (4, "id")


def test_ids_must_be_integers_or_strings(tmp_path):
    path = tmp_path / "ids.jsonl"
    path.write_text('{"id": "x7", "text": "a"}\n{"id": 1.5, "text": "b"}\n', encoding="utf-8")
    with pytest.raises(DataError, match="id must be an integer or a string, got 1.5") as caught:
        load_pool(path, id_col="id")
    assert (caught.value.row, caught.value.column) == (2, "id")
    path.write_text('{"id": "x7", "text": "a"}\n{"id": null, "text": "b"}\n', encoding="utf-8")
    with pytest.raises(DataError, match="missing id") as caught:
        load_pool(path, id_col="id")
    assert (caught.value.row, caught.value.column) == (2, "id")


@pytest.mark.parametrize("name, content", [("empty.csv", ""), ("header_only.csv", "id,text\n"),
                                           ("empty.jsonl", ""), ("blank.jsonl", "\n\n"), ("empty.ft.txt", "")])
def test_empty_files_are_data_errors(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match="empty file") as caught:
        load_pool(path)
    assert caught.value.file == str(path)


def test_empty_parquet_is_a_data_error(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"text": pa.array([], type=pa.string())}), path)
    with pytest.raises(DataError, match="empty file"):
        load_pool(path)


def test_malformed_rows_are_located(tmp_path):
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("id,text\n1,a\n2,b,extra\n", encoding="utf-8")
    with pytest.raises(DataError, match="3 fields but the header names 2") as caught:
        load_pool(ragged)
    assert caught.value.row == 2
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "a"}\n{"text": "b"\n', encoding="utf-8")
    with pytest.raises(DataError, match="invalid JSON") as caught:
        load_pool(broken)
    assert caught.value.row == 2
    array = tmp_path / "array.json"
    array.write_text('[{"text": "a"}]\n', encoding="utf-8")
    with pytest.raises(DataError, match="one object per line"):
        load_pool(array)


def test_no_text_at_all_and_non_string_text(tmp_path):
    blank = tmp_path / "blank.csv"
    blank.write_text("text\n\n \n", encoding="utf-8")
    with pytest.raises(DataError, match="no row has text"):
        load_pool(blank)
    numbers = tmp_path / "numbers.jsonl"
    numbers.write_text('{"text": "a"}\n{"text": 7}\n', encoding="utf-8")
    with pytest.raises(DataError, match="text must be a string, got int 7") as caught:
        load_pool(numbers)
    assert caught.value.row == 2


def test_failed_loads_write_nothing(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("id,text\n1,a\n1,b\n", encoding="utf-8")
    before = sorted(tmp_path.iterdir())
    with pytest.raises(DataError):
        load_pool(path, id_col="id")
    assert sorted(tmp_path.iterdir()) == before


def test_byte_order_mark_and_windows_line_endings(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffid,text\r\n1,\"two\r\nlines\"\r\n2,plain\r\n".encode())
    pool = load_pool(path, id_col="id")
    assert pool.ids.tolist() == [1, 2]
    assert pool.texts == ["two\r\nlines", "plain"]


def test_undecodable_bytes_in_a_gzipped_file(tmp_path):
    path = tmp_path / "pool.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"text": "ok"}\n{"text": "ok"}\n{"text": "\xff"}\n'))
    with pytest.raises(DataError, match="undecodable bytes at line 3"):
        load_pool(path)


def test_a_directory_that_is_not_a_saved_dataset(tmp_path):
    pytest.importorskip("datasets")
    (tmp_path / "notes.txt").write_text("not a dataset", encoding="utf-8")
    with pytest.raises(DataError, match="could not load as a saved Hugging Face dataset") as caught:
        load_pool(tmp_path)
    assert caught.value.file == str(tmp_path)
