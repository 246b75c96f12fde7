"""Load a text pool from CSV/TSV, JSON lines, Parquet, fastText files or a Hugging Face dataset.

Every format is read into plain columns (name -> values) first; :func:`build_pool` then turns columns into a
:class:`Pool` with one set of rules: the text column must exist, empty or missing texts are skipped and counted
(or raise with ``strict=True``), ids come from the id column or are 0-based row numbers, and ids must be unique.
Errors are :class:`DataError` naming the file, the row (data rows count from 1) and the column.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import json
import re
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TextIO

from textsel.data._columns import build_pool
from textsel.data._pool import Pool
from textsel.errors import DataError, check_param

FORMATS = ("csv", "tsv", "jsonl", "parquet", "fasttext", "hf")
_SUFFIX_FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".json": "jsonl",
                   ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet", ".txt": "fasttext",
                   ".ft": "fasttext"}
_OPENERS = {".gz": gzip.open, ".bz2": bz2.open}
_HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
_LABEL_PREFIX = "__label__"


def load_pool(source: str | Path, *, text_col: str = "text", id_col: str | None = None,
              label_col: str | None = None, format: str | None = None, split: str | None = None,
              strict: bool = False, dedupe: str | None = None) -> Pool:
    """Load a pool of texts from a file, a saved Hugging Face dataset directory or a hub dataset name.

    Parameters
    ----------
    source : str or Path
        A ``.csv``/``.tsv``/``.jsonl``/``.json``/``.parquet``/``.txt``/``.ft`` file (the text formats may be
        ``.gz`` or ``.bz2`` compressed), a directory written by ``datasets.Dataset.save_to_disk``, or a
        Hugging Face hub name.
    text_col : str, default="text"
        Column holding the texts. fastText files always have ``text`` and ``label``.
    id_col : str, optional
        Column of unique ids, integers or strings. Without it, ids are 0-based row numbers, stable across runs.
    label_col : str, optional
        Column of labels; it must exist and is kept under its own name, like every other column.
    format : {"csv", "tsv", "jsonl", "parquet", "fasttext", "hf"}, optional
        Inferred from the suffix when omitted; a directory or a name without a known suffix means "hf".
    split : str, optional
        Split of a Hugging Face dataset (needed when it has several).
    strict : bool, default=False
        Raise on empty or missing texts instead of skipping them with a logged warning.
    dedupe : {"id", "text"}, optional
        Keep the first row of each id (or of each text) and drop later repeats; ``Pool.dedupe_report`` says
        which. Without it a repeated id raises, naming how many rows repeat one and the first of them.

    Returns
    -------
    Pool
        Texts, ids, and every column other than text and id as numpy arrays.
    """
    check_param("load_pool", "format", format, format is None or format in FORMATS, f"one of {FORMATS} or None")
    chosen = format or infer_format(source)
    check_param("load_pool", "split", split, split is None or chosen == "hf",
                "None for files (it selects a split of a Hugging Face dataset)")
    if chosen == "hf":
        columns = hf_columns(source, split=split)
    else:
        path = existing_file(source)
        columns = _FILE_READERS[chosen](path)
    return build_pool(columns, text_col=text_col, id_col=id_col, label_col=label_col, source=str(source),
                      strict=strict, parse_strings=chosen in ("csv", "tsv", "fasttext"), dedupe=dedupe)


def infer_format(source: str | Path) -> str:
    """The format named by the suffix (``.gz``/``.bz2`` skipped); a directory or a hub-like name means ``hf``."""
    path = Path(source)
    if path.is_dir():
        return "hf"
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if suffixes and suffixes[-1] in _OPENERS:
        suffixes.pop()
    if suffixes and suffixes[-1] in _SUFFIX_FORMATS:
        return _SUFFIX_FORMATS[suffixes[-1]]
    if path.exists() or not _HUB_NAME.match(str(source)):
        known = ", ".join(sorted(_SUFFIX_FORMATS))
        raise DataError(f"unknown file type; name a suffix ({known}) or pass format=", file=str(source))
    return "hf"


def existing_file(source: str | Path) -> Path:
    """``source`` as a Path, or a DataError when it is missing or not a regular file."""
    path = Path(source)
    if not path.exists():
        raise DataError("no such file", file=str(source))
    if not path.is_file():
        raise DataError("is not a regular file", file=str(source))
    return path


@contextmanager
def open_text(path: Path) -> Iterator[TextIO]:
    """Open a UTF-8 file (``.gz``/``.bz2`` decompressed) for reading; lines end at ``\\n`` only.

    Decoding runs in C; only when it fails is the file scanned again, line by line, to name the bad line.
    """
    opener = _OPENERS.get(path.suffix.lower(), open)
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="\n") as handle:
            yield handle
    except UnicodeDecodeError:
        raise _undecodable(path, opener) from None
    except (OSError, EOFError) as error:
        raise DataError(f"could not read: {error}", file=str(path)) from error


def _undecodable(path: Path, opener) -> DataError:
    """A DataError naming the first line of ``path`` that is not UTF-8."""
    with opener(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as error:
                bad = raw[error.start:error.start + 4]
                return DataError(f"undecodable bytes at line {number}, byte {error.start + 1} of the line: "
                                 f"{bad!r} is not UTF-8", file=str(path))
    return DataError("undecodable bytes: the file is not UTF-8", file=str(path))


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Stream ``(line_number, text)`` from a UTF-8 text file, numbered from 1."""
    with open_text(path) as handle:
        yield from enumerate(handle, start=1)


# The csv module refuses fields over 128 KiB by default; a long review or article is a legitimate text. 2**31 - 1
# is the largest limit every platform accepts (sys.maxsize overflows a C long on Windows).
CSV_FIELD_LIMIT = 2**31 - 1


def allow_long_csv_fields() -> None:
    """Raise the csv module's per-field size limit (process-wide, never lowered) so long texts load."""
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)


def iter_csv_rows(path: Path, delimiter: str = ",") -> Iterator[list[str]]:
    """Stream the records of a CSV/TSV file (quoted fields may span lines, and may be longer than 128 KiB)."""
    allow_long_csv_fields()
    with open_text(path) as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            yield from reader
        except csv.Error as error:
            raise DataError(f"malformed {'TSV' if delimiter == chr(9) else 'CSV'} near line {reader.line_num}: "
                            f"{error}", file=str(path)) from error


def iter_json_lines(path: Path) -> Iterator[tuple[int, dict | None]]:
    """Stream ``(line_number, object)`` from a JSON-lines file; a blank line gives ``None``."""
    for number, line in iter_lines(path):
        if not line.strip():
            yield number, None
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"invalid JSON at character {error.colno}: {error.msg}", file=str(path),
                            row=number) from None
        if not isinstance(record, dict):
            hint = " (a JSON array file? textsel reads one object per line)" if number == 1 else ""
            raise DataError(f"expected a JSON object, got {type(record).__name__}{hint}", file=str(path),
                            row=number)
        yield number, record


def parse_fasttext_line(line: str) -> tuple[list[str], str]:
    """Split a fastText line into its leading ``__label__X`` labels and the text after them."""
    rest = line.strip()
    labels = []
    while rest.startswith(_LABEL_PREFIX):
        head, _, rest = rest.partition(" ")
        labels.append(head[len(_LABEL_PREFIX):])
        rest = rest.lstrip()
    return labels, rest


def read_delimited(path: Path, delimiter: str = ",") -> dict[str, list]:
    """Columns of a CSV/TSV file with a header line; every value is a string (None for a blank line).

    pyarrow's CSV reader reads the file (in C++, on every core); the csv module reads it instead whenever pyarrow
    cannot give exactly what it would (see :func:`_arrow_delimited`), and it alone names a bad row in errors.
    """
    with closing(iter_csv_rows(path, delimiter)) as rows:
        header = next(rows, None)
    if not header:
        raise DataError("empty file: expected a header line naming the columns", file=str(path), row=1)
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise DataError(f"the header repeats column names {repeated}", file=str(path), column=repeated[0])
    columns = _arrow_delimited(path, header, delimiter)
    return columns if columns is not None else _python_delimited(path, header, delimiter)


_ARROW_BLOCK = 1 << 26  # bytes pyarrow parses at a time: a row longer than this is read by the csv module


def _arrow_delimited(path: Path, header: list[str], delimiter: str) -> dict[str, list] | None:
    """The columns of a CSV/TSV file read with pyarrow (every value a string, as the csv module gives), or None
    where that could differ from the csv module: any file pyarrow refuses (a row with the wrong number of fields,
    bytes that are not UTF-8, a row longer than a block) and any file with a row whose every field is empty (it
    may be a blank line, which the csv module reads as a row of None)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pa_csv

    try:
        table = pa_csv.read_csv(
            path, read_options=pa_csv.ReadOptions(block_size=_ARROW_BLOCK),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(column_types={name: pa.string() for name in header},
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowException, OSError):
        return None
    if table.column_names != header:
        return None
    if table.num_rows:
        all_empty = pc.equal(table.column(0), "")
        for name in header[1:]:
            all_empty = pc.and_(all_empty, pc.equal(table.column(name), ""))
        if pc.any(all_empty).as_py():
            return None
    return {name: table.column(name).to_pylist() for name in header}


def _python_delimited(path: Path, header: list[str], delimiter: str) -> dict[str, list]:
    """The columns of a CSV/TSV file read record by record with the csv module, naming the first bad row."""
    rows = iter_csv_rows(path, delimiter)
    next(rows, None)  # the header, checked by the caller
    columns: dict[str, list] = {name: [] for name in header}
    values = list(columns.values())
    for number, fields in enumerate(rows, start=1):
        if not fields:
            fields = [None] * len(header)
        elif len(fields) != len(header):
            raise DataError(f"has {len(fields)} fields but the header names {len(header)} columns",
                            file=str(path), row=number)
        for column, field in zip(values, fields, strict=True):
            column.append(field)
    return columns


def read_json_lines(path: Path) -> dict[str, list]:
    """Columns of a JSON-lines file: the union of keys in first-seen order, None where a record lacks one.

    Read line by line, not with pyarrow's JSON reader: that refuses a column whose type changes between lines (ids
    ``1`` then ``"x2"``, which this reader keeps as given) and numbers rows within a block, not the file's lines.
    """
    return records_to_columns(record for _, record in iter_json_lines(path))


def records_to_columns(records: Iterator[dict | None]) -> dict[str, list]:
    """Turn records (dicts, None for an empty one) into aligned column lists; only blank records give ``{}``."""
    columns: dict[str, list] = {}
    count = 0
    for record in records:
        record = record or {}
        for name in record:
            if name not in columns:
                columns[name] = [None] * count
        for name, values in columns.items():
            values.append(record.get(name))
        count += 1
    return columns


def read_fasttext(path: Path) -> dict[str, list]:
    """Columns ``label`` (space-joined when a line has several labels) and ``text`` of a fastText file."""
    labels, texts = [], []
    for _, line in iter_lines(path):
        line_labels, text = parse_fasttext_line(line)
        labels.append(" ".join(line_labels) or None)
        texts.append(text)
    if not texts:
        return {}
    return {"label": labels, "text": texts} if any(labels) else {"text": texts}


def read_parquet(path: Path) -> dict[str, Sequence]:
    """Columns of a Parquet file (numpy arrays; strings as object arrays)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as error:
        raise DataError(f"not a readable Parquet file: {error}", file=str(path)) from error
    return arrow_columns(table)


def arrow_columns(table) -> dict[str, Sequence]:
    """Columns of a pyarrow Table: string columns as lists of str, the rest as numpy arrays."""
    import pyarrow as pa

    columns = {}
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            columns[name] = column.to_pylist()
        else:
            columns[name] = column.to_numpy()
    return columns


def hf_columns(source: str | Path, *, split: str | None) -> dict[str, Sequence]:
    """Columns of a saved Hugging Face dataset directory or of a hub dataset name."""
    return arrow_columns(hf_table(source, split=split))


def hf_table(source: str | Path, *, split: str | None):
    """The pyarrow Table of one split of a Hugging Face dataset (directory via load_from_disk, else the hub)."""
    import datasets

    path = Path(source)
    try:
        if path.is_dir():
            loaded = datasets.load_from_disk(str(path))
        else:
            loaded = datasets.load_dataset(str(source), split=split)
    except Exception as error:  # the hub raises many types (offline, not found, auth); report them as one
        what = "a saved Hugging Face dataset" if path.is_dir() else "a file or a Hugging Face dataset"
        raise DataError(f"could not load as {what}: {type(error).__name__}: {error}", file=str(source)) from error
    if isinstance(loaded, datasets.DatasetDict):
        splits = sorted(loaded)
        if split is None and len(splits) == 1:
            split = splits[0]
        if split not in loaded:
            raise DataError(f"split {split!r} not found; available splits: {', '.join(splits)} (pass split=)",
                            file=str(source))
        loaded = loaded[split]
    return loaded.with_format("arrow")[:]


_FILE_READERS = {
    "csv": read_delimited,
    "tsv": lambda path: read_delimited(path, "\t"),
    "jsonl": read_json_lines,
    "parquet": read_parquet,
    "fasttext": read_fasttext,
}
