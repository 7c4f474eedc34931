"""Quotes around lists and announced blocks: an introducing sentence takes what it introduces."""

from __future__ import annotations

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


def test_the_sentence_before_a_list_takes_its_first_items_up_to_three_sentences() -> None:
    scores = sentence_scores(TEXT, SENTENCES, best=1)
    excerpt = excerpt_around(TEXT, scores, 1)
    assert excerpt.sentences == (1, 3)
    assert TEXT[excerpt.start:excerpt.end] == (
        "Keep them in mind.\n\n• Each value in Rust has an owner.\n"
        "• There can only be one owner at a time.")


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
