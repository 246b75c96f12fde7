"""Loading text pools: generic files, the real corpora the recipes use, data set names and test splits."""

from textsel.data._corpora import (
    load_amazon_fasttext,
    load_amazon_polarity_hf,
    load_amazon_zhang_csv,
    load_goodreads_spoilers,
    load_mcauley_jsonl,
)
from textsel.data._loaders import load_pool
from textsel.data._pool import Pool
from textsel.data._resolve import DATA_DIR_VARIABLE, resolve_data, split_test

__all__ = [
    "DATA_DIR_VARIABLE",
    "Pool",
    "load_amazon_fasttext",
    "load_amazon_polarity_hf",
    "load_amazon_zhang_csv",
    "load_goodreads_spoilers",
    "load_mcauley_jsonl",
    "load_pool",
    "resolve_data",
    "split_test",
]
