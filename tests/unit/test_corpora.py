"""Corpus loaders: Amazon (Zhang CSV, fastText, Hugging Face), McAuley JSON lines, Goodreads spoilers."""

from __future__ import annotations

import bz2
import csv
import gzip
import json

import pytest
from conftest import FIXTURES

from textsel.data import (
    load_amazon_fasttext,
    load_amazon_polarity_hf,
    load_amazon_zhang_csv,
    load_goodreads_spoilers,
    load_mcauley_jsonl,
)
from textsel.errors import ConfigError, DataError


def zhang_records(name: str = "amazon_polarity.csv") -> list[list[str]]:
    with open(FIXTURES / name, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def goodreads_records() -> list[dict]:
    lines = (FIXTURES / "goodreads_reviews_spoiler.json").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_zhang_polarity_keeps_labels_and_joins_title_and_body():
    records = zhang_records()
    pool = load_amazon_zhang_csv(FIXTURES / "amazon_polarity.csv")
    assert pool.ids.tolist() == list(range(len(records)))
    assert pool.column("label").tolist() == [int(label) for label, _, _ in records]
    assert pool.column("title").tolist() == [title for _, title, _ in records]
    for text, (_, title, body) in zip(pool.texts, records, strict=True):
        assert text == (f"{title}: {body}" if title else body)


def test_zhang_full_scheme_reads_star_ratings():
    pool = load_amazon_zhang_csv(FIXTURES / "amazon_full.csv", scheme="full")
    assert pool.column("label").tolist() == [int(label) for label, _, _ in zhang_records("amazon_full.csv")]
    assert load_amazon_zhang_csv(FIXTURES / "amazon_full.csv", scheme="full").texts == pool.texts


def test_zhang_labels_outside_the_scheme_are_located():
    with pytest.raises(DataError, match=r"label must be one of \[1, 2\], got '5'") as caught:
        load_amazon_zhang_csv(FIXTURES / "amazon_full.csv", scheme="polarity")
    assert (caught.value.row, caught.value.column) == (1, "label")
    with pytest.raises(ConfigError, match="'scheme' parameter"):
        load_amazon_zhang_csv(FIXTURES / "amazon_full.csv", scheme="stars")


def test_zhang_header_and_ragged_rows(tmp_path):
    path = tmp_path / "with_header.csv"
    path.write_text('"label","title","body"\n"1","t","b"\n', encoding="utf-8")
    with pytest.raises(DataError, match="no header line"):
        load_amazon_zhang_csv(path)
    path.write_text('"1","t","b"\n"2","only two"\n', encoding="utf-8")
    with pytest.raises(DataError, match="has 2 fields") as caught:
        load_amazon_zhang_csv(path)
    assert caught.value.row == 2


def test_fasttext_and_zhang_layouts_give_the_same_pool():
    from_fasttext = load_amazon_fasttext(FIXTURES / "amazon_polarity.ft.txt")
    from_csv = load_amazon_zhang_csv(FIXTURES / "amazon_polarity.csv")
    assert from_fasttext.texts == from_csv.texts
    assert from_fasttext.column("label").tolist() == from_csv.column("label").tolist()
    assert from_fasttext.ids.tolist() == from_csv.ids.tolist()


def test_fasttext_release_compressed_with_bz2(tmp_path):
    path = tmp_path / "test.ft.txt.bz2"
    path.write_bytes(bz2.compress((FIXTURES / "amazon_polarity.ft.txt").read_bytes()))
    pool = load_amazon_fasttext(path)
    assert pool.fingerprint() == load_amazon_fasttext(FIXTURES / "amazon_polarity.ft.txt").fingerprint()
    path.write_bytes(b"truncated")
    with pytest.raises(DataError, match="could not read"):
        load_amazon_fasttext(path)


def test_fasttext_needs_exactly_one_known_label(tmp_path):
    path = tmp_path / "bad.ft.txt"
    path.write_text("__label__1 fine: text\nno label here\n", encoding="utf-8")
    with pytest.raises(DataError, match="expected one label") as caught:
        load_amazon_fasttext(path)
    assert (caught.value.row, caught.value.column) == (2, "label")
    path.write_text("__label__3 unknown: label\n", encoding="utf-8")
    with pytest.raises(DataError, match="got '3'"):
        load_amazon_fasttext(path)


def test_fasttext_skips_empty_texts_and_counts_them(tmp_path, caplog):
    path = tmp_path / "gaps.ft.txt"
    path.write_text("__label__1 a: b\n__label__2 \n__label__2 c: d\n", encoding="utf-8")
    pool = load_amazon_fasttext(path)
    assert pool.ids.tolist() == [0, 2]
    assert "skipped 1 of 3 rows" in caplog.text
    with pytest.raises(DataError) as caught:
        load_amazon_fasttext(path, strict=True)
    assert caught.value.row == 2


@pytest.fixture
def saved_amazon_polarity(tmp_path):
    """The fixture reviews as the hub's amazon_polarity: labels 0/1 (ClassLabel), title, content."""
    datasets = pytest.importorskip("datasets")
    features = datasets.Features({"label": datasets.ClassLabel(names=["negative", "positive"]),
                                  "title": datasets.Value("string"), "content": datasets.Value("string")})
    records = zhang_records()
    dataset = datasets.Dataset.from_dict({"label": [int(label) - 1 for label, _, _ in records],
                                          "title": [title for _, title, _ in records],
                                          "content": [body for _, _, body in records]}, features=features)
    datasets.DatasetDict({"test": dataset}).save_to_disk(str(tmp_path / "amazon_polarity"))
    return tmp_path / "amazon_polarity", dataset


def test_hf_amazon_polarity_shifts_labels_to_the_original(saved_amazon_polarity):
    directory, _ = saved_amazon_polarity
    pool = load_amazon_polarity_hf(directory, split="test")
    reference = load_amazon_zhang_csv(FIXTURES / "amazon_polarity.csv")
    assert pool.texts == reference.texts
    assert pool.column("label").tolist() == reference.column("label").tolist()
    assert pool.column("title").tolist() == reference.column("title").tolist()
    with pytest.raises(DataError, match="split 'train' not found; available splits: test"):
        load_amazon_polarity_hf(directory, split="train")


def test_hf_amazon_polarity_calls_the_hub_with_name_and_split(monkeypatch, saved_amazon_polarity):
    import datasets

    _, dataset = saved_amazon_polarity
    calls = []

    def fake_load_dataset(name, split=None):
        calls.append((name, split))
        return dataset

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    pool = load_amazon_polarity_hf()
    assert calls == [("amazon_polarity", "test")]
    assert pool.source == "amazon_polarity" and len(pool) == len(dataset)


def test_hf_amazon_polarity_checks_columns_and_labels(monkeypatch):
    datasets = pytest.importorskip("datasets")
    tables = iter([{"label": [0], "text": ["no title"]}, {"label": [0, 4], "title": ["a", "b"], "content": ["c", "d"]}])
    monkeypatch.setattr(datasets, "load_dataset", lambda name, split=None: datasets.Dataset.from_dict(next(tables)))
    with pytest.raises(DataError, match="no column 'title'; available columns: label, text"):
        load_amazon_polarity_hf()
    with pytest.raises(DataError, match="label must be 0 or 1, got 4") as caught:
        load_amazon_polarity_hf()
    assert caught.value.row == 2


def test_mcauley_json_lines_plain_and_gzipped():
    records = [json.loads(line) for line in (FIXTURES / "mcauley_reviews.jsonl").read_text("utf-8").splitlines()]
    pool = load_mcauley_jsonl(FIXTURES / "mcauley_reviews.jsonl")
    assert pool.texts == [f"{record['summary']}: {record['reviewText']}" for record in records]
    assert pool.column("label").tolist() == [int(record["overall"]) for record in records]
    assert pool.column("asin").tolist() == [record["asin"] for record in records]
    assert "reviewText" not in pool.columns and "summary" in pool.columns
    gzipped = load_mcauley_jsonl(FIXTURES / "mcauley_reviews.jsonl.gz")
    assert gzipped.fingerprint() == pool.fingerprint()


def test_mcauley_2023_layout(tmp_path):
    path = tmp_path / "reviews.jsonl"
    path.write_text('{"rating": 3.0, "title": "Okay", "text": "Does the job.", "asin": "B01"}\n', encoding="utf-8")
    pool = load_mcauley_jsonl(path)
    assert pool.texts == ["Okay: Does the job."]
    assert pool.column("label").tolist() == [3]


def test_mcauley_errors_are_located(tmp_path):
    path = tmp_path / "reviews.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"summary": "s", "reviewText": "r", "overall": 5.0}\n'
                                   b'{"summary": "s", "reviewText": "r", "overall": 7}\n'))
    with pytest.raises(DataError, match="rating must be a number of stars from 1 to 5, got 7") as caught:
        load_mcauley_jsonl(path)
    assert (caught.value.row, caught.value.column) == (2, "overall")
    path.write_bytes(gzip.compress(b'{"summary": "s", "body": "r", "overall": 5.0}\n'))
    with pytest.raises(DataError, match="no column 'reviewText'; available columns: summary, body, overall"):
        load_mcauley_jsonl(path)
    path.write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="could not read"):
        load_mcauley_jsonl(path)


def test_goodreads_sentences_have_sequential_ids_and_review_keys():
    records = goodreads_records()
    pool = load_goodreads_spoilers(FIXTURES / "goodreads_reviews_spoiler.json")
    sentences = [(row, index, record, flag, text) for row, record in enumerate(records)
                 for index, (flag, text) in enumerate(record["review_sentences"])]
    assert pool.ids.tolist() == list(range(len(sentences)))
    assert pool.texts == [text for *_, text in sentences]
    assert pool.column("label").tolist() == [flag for *_, flag, _ in sentences]
    assert pool.column("review_row").tolist() == [row for row, *_ in sentences]
    assert pool.column("sentence_index").tolist() == [index for _, index, *_ in sentences]
    assert pool.column("review_id").tolist() == [record["review_id"] for _, _, record, *_ in sentences]
    assert pool.column("book_id").tolist() == [record["book_id"] for _, _, record, *_ in sentences]


def test_goodreads_reviews_and_gzip():
    records = goodreads_records()
    pool = load_goodreads_spoilers(FIXTURES / "goodreads_reviews_spoiler.json.gz", level="review")
    assert pool.ids.tolist() == list(range(len(records)))
    assert pool.texts == [" ".join(text for _, text in record["review_sentences"]) for record in records]
    assert pool.column("label").tolist() == [int(record["has_spoiler"]) for record in records]
    assert pool.column("rating").tolist() == [record["rating"] for record in records]
    plain = load_goodreads_spoilers(FIXTURES / "goodreads_reviews_spoiler.json")
    gzipped = load_goodreads_spoilers(FIXTURES / "goodreads_reviews_spoiler.json.gz")
    assert plain.fingerprint() == gzipped.fingerprint()


def test_goodreads_empty_sentences_keep_the_numbering(tmp_path):
    review = {"review_sentences": [[0, "one"], [0, " "], [1, "three"]], "has_spoiler": True, "book_id": "1",
              "review_id": "r1"}
    path = tmp_path / "goodreads_reviews_spoiler.json"
    path.write_text(json.dumps(review) + "\n", encoding="utf-8")
    pool = load_goodreads_spoilers(path)
    assert pool.ids.tolist() == [0, 2]
    assert pool.column("sentence_index").tolist() == [0, 2]


@pytest.mark.parametrize("review, column", [
    ({"review_sentences": "not a list", "has_spoiler": False, "book_id": "1", "review_id": "r"}, "review_sentences"),
    ({"review_sentences": [[0]], "has_spoiler": False, "book_id": "1", "review_id": "r"}, "review_sentences"),
    ({"review_sentences": [[0, "a"]], "has_spoiler": False, "book_id": "1"}, "review_id"),
])
def test_goodreads_malformed_reviews_are_located(tmp_path, review, column):
    good = {"review_sentences": [[0, "fine"]], "has_spoiler": False, "book_id": "1", "review_id": "r0"}
    path = tmp_path / "goodreads_reviews_spoiler.json"
    path.write_text(json.dumps(good) + "\n" + json.dumps(review) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_goodreads_spoilers(path)
    assert (caught.value.file, caught.value.row, caught.value.column) == (str(path), 2, column)


def test_goodreads_level_is_checked():
    with pytest.raises(ConfigError, match="'level' parameter of load_goodreads_spoilers"):
        load_goodreads_spoilers(FIXTURES / "goodreads_reviews_spoiler.json", level="book")


@pytest.mark.parametrize("loader", [load_amazon_zhang_csv, load_amazon_fasttext, load_mcauley_jsonl,
                                    load_goodreads_spoilers])
def test_missing_and_empty_files(tmp_path, loader):
    with pytest.raises(DataError, match="no such file"):
        loader(tmp_path / "absent.txt")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="empty file") as caught:
        loader(empty)
    assert caught.value.file == str(empty)
