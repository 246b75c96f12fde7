"""Text from data on a terminal: control characters shown visibly, rich markup escaped, long texts cut.

A pool is data from anywhere. Printed raw, an ``ESC ]0;...BEL`` retitles the terminal, ``ESC [2J`` wipes it, a
carriage return overwrites the line, and ``[/x]`` in a text is read as rich markup (and crashes on a closing tag
nothing opened). Every command that prints a text, a label or a query from data goes through this module.
"""

from __future__ import annotations

import re

from rich.markup import escape

# C0 controls except tab and newline, DEL, C1 controls, and the invisible format characters that reorder or
# hide text (bidi overrides and isolates, zero-width characters, the BOM).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]")


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every control or invisible format character written out (ESC as ``\\x1b``); newlines and
    tabs stay."""
    return _CONTROL.sub(_visible, text)


def safe(text: object) -> str:
    """A short string from data (an id, a label, a name) made safe to print on one line with rich markup on:
    controls visible, newlines and tabs too (``\\n``, ``\\t``), markup escaped."""
    return escape(visible(str(text)).replace("\n", "\\n").replace("\t", "\\t"))


def one_line(text: str, width: int = 100) -> str:
    """One line of at most ``width`` characters (whitespace runs become one space), safe for rich markup."""
    text = visible(" ".join(text.split()))
    return escape(text if len(text) <= width else text[:width - 1] + "…")


def head(text: str, limit: int = 2_000) -> tuple[str, int]:
    """The first ``limit`` characters of ``text`` (controls made visible) and how many characters were left out."""
    hidden = max(len(text) - limit, 0)
    return visible(text[:limit] if hidden else text), hidden
