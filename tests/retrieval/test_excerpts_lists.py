"""Quotes around lists and announced blocks: an introducing sentence takes what it introduces."""

from __future__ import annotations

import pytest
from support.documents import load_bytes
from support.lists import INTRO, PDF_LINES, list_file, quote_of
from support.pdfs import PdfSpec, pdf_bytes

from retrieval.excerpts import SentenceScore, excerpt_around

TEXT = ("First, let's take a look at the ownership rules. Keep them in mind.\n\n"
        "• Each value in Rust has an owner.\n"
        "• There can only be one owner at a time.\n"
        "• When the owner goes out of scope, the value will be dropped.")


def sentence_scores(text: str, sentences: list[str], best: int) -> list[SentenceScore]:
    """Scores for these sentences of `text`, the one at `best` scoring highest."""
    scores, cursor = [], 0
    for i, sentence in enumerate(sentences):
        start = text.index(sentence, cursor)
        cursor = start + len(sentence)
        scores.append(SentenceScore(i, start, cursor, 1.0 if i == best else 0.1))
    return scores


SENTENCES = ["First, let's take a look at the ownership rules.", "Keep them in mind.",
             "Each value in Rust has an owner.", "There can only be one owner at a time.",
             "When the owner goes out of scope, the value will be dropped."]


def test_the_sentence_before_a_short_list_takes_all_its_items() -> None:
    scores = sentence_scores(TEXT, SENTENCES, best=1)
    excerpt = excerpt_around(TEXT, scores, 1)
    assert excerpt.sentences == (1, 4)
    assert TEXT[excerpt.start:excerpt.end] == (
        "Keep them in mind.\n\n• Each value in Rust has an owner.\n"
        "• There can only be one owner at a time.\n"
        "• When the owner goes out of scope, the value will be dropped.")


def test_the_sentence_before_a_long_list_takes_its_first_items_up_to_three_sentences(
        ) -> None:
    items = [f"Rule {n} says that every value has exactly one owner, and that the owner "
             f"drops the value when it goes out of scope, whatever happens." for n in range(4)]
    text = "Keep them in mind.\n\n" + "\n".join(f"• {item}" for item in items)
    scores = sentence_scores(text, ["Keep them in mind.", *items], best=0)
    assert excerpt_around(text, scores, 0).sentences == (0, 2)


def test_a_list_item_that_answers_is_quoted_alone() -> None:
    scores = sentence_scores(TEXT, SENTENCES, best=2)
    assert excerpt_around(TEXT, scores, 2).sentences == (2, 2)


def test_a_sentence_in_the_middle_of_a_paragraph_takes_no_list() -> None:
    scores = sentence_scores(TEXT, SENTENCES, best=0)
    assert excerpt_around(TEXT, scores, 0).sentences == (0, 0)


def test_a_list_item_is_quoted_whole_when_it_fits() -> None:
    text = ("Arguments:\n\n• max_age - Sets how long browsers cache responses. Defaults to 600.\n"
            "• path - The path of the cookie.")
    sentences = ["Arguments:", "max_age - Sets how long browsers cache responses.",
                 "Defaults to 600.", "path - The path of the cookie."]
    scores = sentence_scores(text, sentences, best=1)
    assert excerpt_around(text, scores, 1).sentences == (1, 2)


def test_a_sentence_ending_in_an_ellipsis_takes_what_follows() -> None:
    text = ("You can do so by first installing the optional HTTP/2 dependencies...\n\n"
            "$ pip install httpx[http2]")
    sentences = ["You can do so by first installing the optional HTTP/2 dependencies...",
                 "$ pip install httpx[http2]"]
    scores = sentence_scores(text, sentences, best=0)
    assert excerpt_around(text, scores, 0).sentences == (0, 1)


def test_a_quote_from_a_list_item_never_runs_into_the_next_item() -> None:
    scores = sentence_scores(TEXT, SENTENCES, best=2)
    scores[3].score = 0.95  # the next item scores nearly as well
    assert excerpt_around(TEXT, scores, 2, join_margin=0.1).sentences == (2, 2)


@pytest.mark.parametrize(("fmt", "marker"), [
    ("pdf", "•"), ("docx", "•"), ("html", "•"), ("md", "•"), ("txt", "-")])
def test_a_sentence_introducing_a_short_list_takes_its_items_in_every_format(
        fmt: str, marker: str) -> None:
    doc = load_bytes(*list_file(fmt))
    excerpt = quote_of(doc, "conjecture:")
    quote = doc.text[excerpt.start:excerpt.end]
    assert " ".join(quote.split()) == (f"{INTRO} {marker} Consistency {marker} Availability "
                                       f"{marker} Partition-tolerance")


@pytest.mark.parametrize("marker", ["* ", "1. ", "◦ "])
def test_a_txt_list_of_any_marker_is_taken_by_its_introduction(marker: str) -> None:
    doc = load_bytes(*list_file("txt", marker))
    quote = doc.text[(excerpt := quote_of(doc, "conjecture:")).start:excerpt.end]
    assert quote.endswith("Partition-tolerance") and "All three" not in quote


def test_a_pdf_quote_taking_a_list_cites_the_list_page_and_lines() -> None:
    doc = load_bytes("paper.pdf", pdf_bytes(PdfSpec([
        ["A first page that says something else entirely, at some length."], PDF_LINES])))
    excerpt = quote_of(doc, "conjecture:")
    assert doc.text[excerpt.start:excerpt.end].endswith(
        "• Consistency\n• Availability\n• Partition-tolerance")
    assert doc.page_at(excerpt.start) == 2
    assert (doc.line_at(excerpt.start), doc.line_at(excerpt.end - 1)) == (1, 6)


def test_an_item_after_another_bullet_glyph_is_taken_by_its_introduction() -> None:
    text = "The master does three things:\n◦ It detects failures.\n◦ It informs clients."
    scores = sentence_scores(text, ["The master does three things:", "It detects failures.",
                                    "It informs clients."], best=0)
    assert excerpt_around(text, scores, 0).sentences == (0, 2)


def test_a_list_item_wrapping_over_lines_is_quoted_whole_when_it_fits() -> None:
    text = ("There are three cases to consider:\n"
            "• Head Failure. Query processing continues uninterrupted.\n"
            "Update processing is unavailable for two message delays.\n"
            "• Tail Failure. Both are unavailable for two message delays.")
    sentences = ["There are three cases to consider:", "Head Failure.",
                 "Query processing continues uninterrupted.",
                 "Update processing is unavailable for two message delays.",
                 "Tail Failure.", "Both are unavailable for two message delays."]
    scores = sentence_scores(text, sentences, best=1)
    assert excerpt_around(text, scores, 1).sentences == (1, 3)
