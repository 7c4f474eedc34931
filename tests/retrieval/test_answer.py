"""How a citation words where its quote stands."""

from __future__ import annotations

from retrieval.answer import Citation


def test_quote_over_a_page_break_names_the_page_of_each_line() -> None:
    # Line numbers count within each page: "page 32, lines 29-5" read as a range backwards.
    citation = Citation("d", "Manual", "manual.pdf", 29, 5, page=32, page_end=33)
    assert citation.label() == "Manual (manual.pdf), page 32, line 29 to page 33, line 5"


def test_quote_on_one_page_keeps_the_short_form() -> None:
    citation = Citation("d", "Manual", "manual.pdf", 29, 31, page=32, page_end=32)
    assert citation.location() == ["page 32", "lines 29-31"]
