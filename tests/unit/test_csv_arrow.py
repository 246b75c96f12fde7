"""CSV/TSV files are read with pyarrow (issue 20) and give exactly what the csv module gives: the same strings,
None rows for blank lines, and the csv module's errors naming file and row where pyarrow refuses a file."""

from __future__ import annotations

import csv
import random

import pytest

from textsel.data import _loaders
from textsel.data._loaders import _arrow_delimited, _python_delimited, read_delimited
from textsel.errors import DataError

PIECES = ["plain", "with, comma", 'a "quoted" word', "two\nlines", "crlf\r\nline", "", " padded ", "ünïcödé",
          "tab\there", "emoji 🙂", "'single'", "x" * 300]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_pyarrow_reads_what_the_csv_module_reads(tmp_path, seed, delimiter):
    rng = random.Random(seed)
    rows = [[str(i), rng.choice(PIECES), rng.choice(PIECES)] for i in range(200)]
    path = tmp_path / ("pool.csv" if delimiter == "," else "pool.tsv")
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=delimiter, lineterminator=rng.choice(["\n", "\r\n"])).writerows(
            [["id", "text", "note"], *rows])
    header = ["id", "text", "note"]
    arrow = _arrow_delimited(path, header, delimiter)
    assert arrow is not None and arrow == _python_delimited(path, header, delimiter)
    assert arrow["text"] == [row[1] for row in rows]


def test_a_normal_file_is_read_by_pyarrow_alone(tmp_path, monkeypatch):
    path = tmp_path / "pool.csv"
    path.write_text("id,text\n1,first\n2,\"second, quoted\"\n")
    monkeypatch.setattr(_loaders, "_python_delimited", lambda *args: pytest.fail("the csv module read it"))
    assert read_delimited(path) == {"id": ["1", "2"], "text": ["first", "second, quoted"]}


def test_blank_lines_and_bad_rows_take_the_csv_modules_path(tmp_path):
    blank = tmp_path / "blank.csv"
    blank.write_text("id,text\n1,a\n\n2,b\n")
    assert _arrow_delimited(blank, ["id", "text"], ",") is None  # a blank line and ",": pyarrow reads both alike
    assert read_delimited(blank) == {"id": ["1", None, "2"], "text": ["a", None, "b"]}
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text\n1,a\n2,b,extra\n")
    with pytest.raises(DataError, match=r"bad\.csv.*row 2|row 2.*bad\.csv"):
        read_delimited(bad)
    undecodable = tmp_path / "latin.csv"
    undecodable.write_bytes(b"id,text\n1,caf\xe9\n")
    with pytest.raises(DataError, match="not UTF-8"):
        read_delimited(undecodable)
