"""How a citation words where its quote stands."""

from __future__ import annotations

from retrieval.answer import Citation, Hit


def test_quote_over_a_page_break_names_the_page_of_each_line() -> None:
    # Line numbers count within each page: "page 32, lines 29-5" read as a range backwards.
    citation = Citation("d", "Manual", "manual.pdf", 29, 5, page=32, page_end=33)
    assert citation.label() == "Manual (manual.pdf), page 32, line 29 to page 33, line 5"


def test_quote_on_one_page_keeps_the_short_form() -> None:
    citation = Citation("d", "Manual", "manual.pdf", 29, 31, page=32, page_end=32)
    assert citation.location() == ["page 32", "lines 29-31"]


def _hit(excerpt: str, path: str) -> Hit:
    return Hit(rank=1, score=1.0, text=excerpt, excerpt=excerpt, excerpt_start=0,
               excerpt_end=len(excerpt), citation=Citation("d", "Doc", path, 1, 3))


CODE_QUOTE = ("You can set a timeout on a client instance:\n\n"
              "client = httpx.Client()  # a default 5s timeout\n"
              "with client:\n    client.get(url)  \n")


def test_a_markdown_quote_keeps_its_code_lines_and_their_indentation() -> None:
    assert _hit(CODE_QUOTE, "docs/timeouts.md").display_excerpt() == (
        "You can set a timeout on a client instance:\n"
        "client = httpx.Client()  # a default 5s timeout\nwith client:\n    client.get(url)")


def test_a_pdf_quote_reads_as_one_run_of_words() -> None:
    quote = "Chain replication keeps\nreplicas on a chain\n\nof servers."
    assert _hit(quote, "papers/chain.pdf").display_excerpt() == (
        "Chain replication keeps replicas on a chain of servers.")


def test_a_plain_text_quote_reads_as_one_run_of_words() -> None:
    assert _hit("wrapped at\n   72 columns", "notes.txt").display_excerpt() == (
        "wrapped at 72 columns")
