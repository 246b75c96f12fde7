"""The scale benchmarks' command timer (issue 22): each command's peak RSS is its own, not the largest of every
child the benchmark ran before it; a failing command raises with its stderr."""

from __future__ import annotations

import sys

import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
from review_sentences import Concept, timed  # noqa: E402


def test_each_command_reports_its_own_peak_rss():
    _, big, _ = timed([sys.executable, "-c", "b = bytearray(300 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])"])
    _, small, out = timed([sys.executable, "-c", "print('small')"])
    assert big > 300 and small < 100 and out.strip() == "small"


def test_a_failing_command_raises_with_its_stderr():
    with pytest.raises(RuntimeError, match="boom"):
        timed([sys.executable, "-c", "import sys; sys.exit('boom')"])


def test_concepts_are_column_equals_value():
    concept = Concept.parse("domain=office_products")
    assert (concept.column, concept.value, concept.label) == ("domain", "office_products", "office_products")
    with pytest.raises(ValueError):
        Concept.parse("office_products")
