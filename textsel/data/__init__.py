"""Loading text pools: generic files and the real corpora the recipes use."""

from textsel.data._pool import Pool

__all__ = ["Pool"]
