"""A table row is quoted whole: its cells are sentences of their own, and a cell of figures
("1.2 MB (-92%)") is no quote alone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.indexes import indexed

from retrieval import Retriever
from retrieval.excerpts import (
    SentenceScore,
    best_excerpts,
    excerpt_around,
    quotable,
    table_row,
)

ROWS = "Sizes we measured.\nGmail | 17.8 MB | 7.3 MB\nNetflix | 16.2 MB | 1.2 MB\nThe end."


def cells(text: str) -> list[SentenceScore]:
    """Each line a sentence, each cell of a row a sentence of its own."""
    out, at = [], 0
    for line in text.split("\n"):
        for part in line.split(" | "):
            start = text.index(part, at)
            out.append(SentenceScore(len(out), start, start + len(part), 0.1))
            at = start + len(part)
    return out


def test_table_row_spans_the_cells_of_one_line() -> None:
    scores = cells(ROWS)
    assert table_row(ROWS, scores, 6) == (4, 6)  # "1.2 MB" -> Netflix's row
    assert table_row(ROWS, scores, 0) == (0, 0)  # a sentence is no cell


def test_a_cell_of_figures_is_quoted_with_its_row() -> None:
    scores = cells(ROWS)
    scores[6].score = 0.9  # "1.2 MB" answers
    excerpts = best_excerpts(ROWS, scores, limit=1, margin=0.1,
                             can_quote=lambda s: quotable(s, strict=False))
    assert [ROWS[e.start:e.end] for e in excerpts] == ["Netflix | 16.2 MB | 1.2 MB"]


NOTES = ("Releases.\n2.0 | March 3, 2001 | Dr. Smith rewrote the parser. Memory use dropped "
         "by half.\n2.1 | A bug fix release\nAfter that it was retired.")


def test_a_cells_sentence_is_not_joined_to_the_next_row() -> None:
    # A cell of several sentences: its last is no cell (a space, not " | ", before it),
    # and its neighbour across the line break, "2.1", is the next row's first cell.
    cuts = ["Releases.", "2.0", "March 3, 2001", "Dr. Smith rewrote the parser.",
            "Memory use dropped by half.", "2.1", "A bug fix release", "After that it was retired."]
    scores, at = [], 0
    for i, cut in enumerate(cuts):
        start = NOTES.index(cut, at)
        at = start + len(cut)
        scores.append(SentenceScore(i, start, at, 0.9 if i in (4, 5) else 0.1))
    excerpt = excerpt_around(NOTES, scores, 4, join_margin=0.1)
    assert NOTES[excerpt.start:excerpt.end] == "Memory use dropped by half."
    scores[0].score = scores[1].score = 0.9  # nor a paragraph to the row after it
    excerpt = excerpt_around(NOTES, scores, 0, join_margin=0.1)
    assert NOTES[excerpt.start:excerpt.end] == "Releases."


SIZES = """# Update sizes

File-by-file patching makes app updates smaller. These are the sizes we measured.

| Application | Original size | Patch size |
|---|---|---|
| Google Maps | 32.7 MB | 9.6 MB |
| Gmail | 17.8 MB | 7.3 MB |
| Netflix | 16.2 MB | 1.2 MB |

Smaller updates save data for every user.
"""


@pytest.fixture(scope="module")
def sizes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Retriever]:
    with indexed(tmp_path_factory.mktemp("sizes"), {"sizes.md": SIZES}) as opened:
        yield opened


def test_a_markdown_table_row_that_answers_is_quoted_whole(sizes: Retriever) -> None:
    quotes = [h.excerpt for h in sizes.ask("How big is the Netflix patch?",
                                           abstain=False).hits]
    assert "Netflix | 16.2 MB | 1.2 MB" in quotes
