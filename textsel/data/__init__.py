"""Loading text pools: generic files and the real corpora the recipes use."""

from textsel.data._corpora import (
    load_amazon_fasttext,
    load_amazon_polarity_hf,
    load_amazon_zhang_csv,
    load_goodreads_spoilers,
    load_mcauley_jsonl,
)
from textsel.data._loaders import load_pool
from textsel.data._pool import Pool

__all__ = [
    "Pool",
    "load_amazon_fasttext",
    "load_amazon_polarity_hf",
    "load_amazon_zhang_csv",
    "load_goodreads_spoilers",
    "load_mcauley_jsonl",
    "load_pool",
]
