"""Document ids typed by people are parsed strictly: every malformed id is one DataError, never a traceback."""

from __future__ import annotations

import pytest

from textsel.errors import DataError
from textsel.ids import parse_doc_id, parse_doc_ids


@pytest.mark.parametrize("text, expected", [("17", 17), (" 204 ", 204), ("-5", -5), ("0", 0),
                                            (str(2**63 - 1), 2**63 - 1)])
def test_valid_ids_parse(text, expected):
    assert parse_doc_id(text) == expected


@pytest.mark.parametrize("text", ["--5", "²", "99999999999999999999999", "", "1e3", "1.0", "abc", "+", "-"])
def test_malformed_ids_are_one_data_error_naming_the_place(text):
    with pytest.raises(DataError) as error:
        parse_doc_id(text, file="labels.csv", row=3)
    assert "labels.csv" in str(error.value) and "row 3" in str(error.value)


def test_id_lists_skip_empty_items_and_name_the_bad_one():
    assert parse_doc_ids("17, 204,,311") == [17, 204, 311]
    with pytest.raises(DataError, match="'²'"):
        parse_doc_ids("17,²")
    with pytest.raises(DataError, match="no ids"):
        parse_doc_ids(" , ")
