"""Loaders for the real corpora the recipes use: Amazon reviews in three layouts, McAuley reviews, Goodreads spoilers.

Amazon polarity keeps the original labels (1 = negative, 2 = positive) in every layout, and the text is
``title: body`` as in the fastText release, so the three layouts give the same pool. Every loader streams its
file line by line and reports bad input as a DataError naming the file, row and column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from textsel.data._columns import build_pool, require_columns
from textsel.data._loaders import (
    arrow_columns,
    existing_file,
    hf_table,
    iter_csv_rows,
    iter_json_lines,
    iter_lines,
    parse_fasttext_line,
    read_json_lines,
)
from textsel.data._pool import Pool
from textsel.errors import DataError, check_param

AMAZON_SCHEMES = {"polarity": (1, 2), "full": (1, 2, 3, 4, 5)}
# (title, body, rating) field names: McAuley et al. 2014/2018 releases, then Amazon Reviews 2023.
_MCAULEY_LAYOUTS = (("summary", "reviewText", "overall"), ("title", "text", "rating"))


def join_title_body(title: object, body: object) -> str:
    """``"title: body"``, or whichever part is non-blank (the layout of the fastText Amazon release)."""
    return ": ".join(part.strip() for part in (title, body) if isinstance(part, str) and part.strip())


def load_amazon_zhang_csv(path: str | Path, *, scheme: str = "polarity", strict: bool = False) -> Pool:
    """Load Amazon Review Polarity or Full in the Zhang et al. (2015) CSV layout.

    Each record is ``"label","title","body"`` with no header. Labels are kept as written: 1/2 for
    ``scheme="polarity"`` (1 = negative) and 1-5 stars for ``scheme="full"``. Text is ``title: body``; ids are
    0-based record numbers. Columns: ``label``, ``title``.
    """
    check_param("load_amazon_zhang_csv", "scheme", scheme, scheme in AMAZON_SCHEMES, f"one of {list(AMAZON_SCHEMES)}")
    path = existing_file(path)
    labels, titles, texts = [], [], []
    for row, fields in enumerate(iter_csv_rows(path), start=1):
        if len(fields) != 3:
            raise DataError(f'has {len(fields)} fields; the Zhang et al. layout is "label","title","body"',
                            file=str(path), row=row)
        labels.append(_amazon_label(fields[0], AMAZON_SCHEMES[scheme], str(path), row))
        titles.append(fields[1])
        texts.append(join_title_body(fields[1], fields[2]))
    return build_pool({"text": texts, "label": labels, "title": titles}, label_col="label", source=str(path),
                      strict=strict)


def load_amazon_fasttext(path: str | Path, *, strict: bool = False) -> Pool:
    """Load Amazon Review Polarity in fastText format: ``__label__1|2 title: body`` per line.

    Labels are kept as 1/2 (1 = negative) in column ``label``; the text after the label is kept as written;
    ids are 0-based line numbers.
    """
    path = existing_file(path)
    labels, texts = [], []
    for row, line in iter_lines(path):
        line_labels, text = parse_fasttext_line(line)
        if len(line_labels) != 1:
            raise DataError(f"expected one label (__label__1 or __label__2), found {len(line_labels)}",
                            file=str(path), row=row, column="label")
        labels.append(_amazon_label(line_labels[0], AMAZON_SCHEMES["polarity"], str(path), row))
        texts.append(text)
    return build_pool({"text": texts, "label": labels}, label_col="label", source=str(path), strict=strict)


def load_amazon_polarity_hf(name: str | Path = "amazon_polarity", split: str = "test", *,
                            strict: bool = False) -> Pool:
    """Load the Hugging Face ``amazon_polarity`` dataset (columns label, title, content).

    ``name`` is a hub name (loaded with ``datasets.load_dataset(name, split=split)``) or a directory written by
    ``save_to_disk``. The hub's labels 0/1 are shifted to the original 1/2 (1 = negative) so every Amazon
    polarity loader agrees; text is ``title: content``; ids are 0-based row numbers of the split.
    """
    source = str(name)
    columns = arrow_columns(hf_table(name, split=split))
    require_columns(columns, ["label", "title", "content"], source)
    labels = np.asarray(columns["label"])
    bad = np.flatnonzero(~np.isin(labels, (0, 1)))
    if len(bad):
        raise DataError(f"label must be 0 or 1, got {labels[bad[:1]].tolist()[0]!r}", file=source, row=int(bad[0]) + 1,
                        column="label")
    texts = [join_title_body(title, body) for title, body in zip(columns["title"], columns["content"], strict=True)]
    return build_pool({"text": texts, "label": labels.astype(np.int64) + 1, "title": columns["title"]},
                      label_col="label", source=source, strict=strict)


def load_mcauley_jsonl(path: str | Path, *, strict: bool = False) -> Pool:
    """Load McAuley-style Amazon reviews: JSON lines, optionally gzipped.

    Reads the 2014/2018 fields (``summary``, ``reviewText``, ``overall``) or the 2023 ones (``title``, ``text``,
    ``rating``). Text is ``summary: reviewText``; ``label`` is the star rating as an int 1-5; every other field
    is kept as a column; ids are 0-based line numbers.
    """
    path = existing_file(path)
    file = str(path)
    columns = read_json_lines(path)
    if not columns:
        raise DataError("empty file: no data rows", file=file, row=1)
    title, body, rating = next((names for names in _MCAULEY_LAYOUTS if set(names[1:]) <= columns.keys()),
                               _MCAULEY_LAYOUTS[0])
    require_columns(columns, [body, rating], file)
    titles = columns.get(title, [None] * len(columns[body]))
    texts = [join_title_body(head, text) for head, text in zip(titles, columns[body], strict=True)]
    labels = [_star_rating(value, text, file, row, rating)
              for row, (value, text) in enumerate(zip(columns[rating], texts, strict=True), start=1)]
    kept = {name: values for name, values in columns.items() if name != body}
    return build_pool({"text": texts, "label": labels, **kept}, label_col="label", source=file, strict=strict)


def load_goodreads_spoilers(path: str | Path, *, level: str = "sentence", strict: bool = False) -> Pool:
    """Load the Goodreads spoiler corpus (Wan et al., 2019): ``goodreads_reviews_spoiler.json(.gz)``.

    ``level="sentence"``: one row per sentence, ``label`` = is_spoiler (0/1), ids numbered 0, 1, 2 ... over all
    sentences in file order (empty sentences keep their number), with ``review_row`` (0-based line of the
    review) and ``sentence_index``. ``level="review"``: one row per review, text = sentences joined by spaces,
    ``label`` = has_spoiler (0/1), ids = 0-based line numbers. Both keep ``review_id``, ``book_id``,
    ``user_id``, ``rating`` and ``has_spoiler``. At sentence level, rows in messages about empty texts count
    sentences; malformed reviews are reported by line.
    """
    check_param("load_goodreads_spoilers", "level", level, level in ("sentence", "review"),
                "'sentence' or 'review'")
    path = existing_file(path)
    file = str(path)
    columns: dict[str, list] = {name: [] for name in ("text", "label", "review_id", "book_id", "user_id",
                                                      "rating", "has_spoiler", "review_row", "sentence_index")}
    for line, record in iter_json_lines(path):
        if record is None:
            continue
        sentences = _review_sentences(record, file, line)
        review = _review_fields(record, file, line)
        if level == "review":
            rows = [(" ".join(sentence for _, sentence in sentences), review["has_spoiler"], 0)]
        else:
            rows = [(sentence, int(bool(flag)), index) for index, (flag, sentence) in enumerate(sentences)]
        for text, label, index in rows:
            for name, value in review.items():
                columns[name].append(value)
            columns["text"].append(text)
            columns["label"].append(label)
            columns["sentence_index"].append(index)
    if level == "review":
        del columns["sentence_index"]
        return build_pool(columns, id_col="review_row", label_col="label", source=file, strict=strict)
    return build_pool(columns, label_col="label", source=file, strict=strict)


def _amazon_label(value: str, allowed: tuple[int, ...], file: str, row: int) -> int:
    """An Amazon label as an int in ``allowed``, or a DataError (row 1 hints at a stray header line)."""
    try:
        label = int(value)
    except (TypeError, ValueError):
        label = None
    if label not in allowed:
        hint = "; these files have no header line" if row == 1 else ""
        raise DataError(f"label must be one of {list(allowed)}, got {value!r}{hint}", file=file, row=row,
                        column="label")
    return label


def _star_rating(value: object, text: str, file: str, row: int, column: str) -> int | None:
    """A 1-5 star rating as an int; rows without text (skipped later) may lack one."""
    if value is None and not text:
        return None
    if isinstance(value, str):
        value = value.strip()
    try:
        stars = float(value)
    except (TypeError, ValueError):
        stars = None
    if stars is None or not stars.is_integer() or not 1 <= stars <= 5:
        raise DataError(f"rating must be a number of stars from 1 to 5, got {value!r}", file=file, row=row,
                        column=column)
    return int(stars)


def _field(record: dict, key: str, file: str, row: int) -> object:
    if key not in record:
        raise DataError(f"missing field; the record has {', '.join(record) or 'no fields'}", file=file, row=row,
                        column=key)
    return record[key]


def _review_fields(record: dict, file: str, row: int) -> dict:
    """The per-review columns of a Goodreads record; review_row is its 0-based line."""
    return {"review_id": _field(record, "review_id", file, row), "book_id": _field(record, "book_id", file, row),
            "user_id": record.get("user_id"), "rating": record.get("rating"),
            "has_spoiler": int(bool(_field(record, "has_spoiler", file, row))), "review_row": row - 1}


def _review_sentences(record: dict, file: str, row: int) -> list:
    """The ``[is_spoiler, sentence]`` pairs of a Goodreads review, checked."""
    sentences = _field(record, "review_sentences", file, row)
    ok = isinstance(sentences, list) and all(
        isinstance(pair, list) and len(pair) == 2 and isinstance(pair[1], str) for pair in sentences)
    if not ok:
        raise DataError("review_sentences must be a list of [is_spoiler, sentence] pairs", file=file, row=row,
                        column="review_sentences")
    return sentences
