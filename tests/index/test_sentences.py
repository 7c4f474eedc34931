"""The sentence splitter: boundaries where a reader sees them, exact offsets."""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st

from index.sentences import split_sentences


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_splits_at_terminal_punctuation_before_a_capital() -> None:
    assert sentences("It rained. We stayed in! Did you? Yes.") == [
        "It rained.", "We stayed in!", "Did you?", "Yes."]


def test_titles_initials_and_acronyms_do_not_end_sentences() -> None:
    text = "Dr. Smith met J. R. R. Tolkien in the U.K. last year. It went well."
    assert sentences(text) == ["Dr. Smith met J. R. R. Tolkien in the U.K. last year.",
                               "It went well."]


def test_abbreviation_before_a_number_does_not_end_a_sentence() -> None:
    assert sentences("See No. 5 and pp. 12 for details. Then stop.") == [
        "See No. 5 and pp. 12 for details.", "Then stop."]


def test_lowercase_after_a_period_continues_the_sentence() -> None:
    assert sentences('"Why?" he asked. e.g. this is one.') == ['"Why?" he asked. e.g. this is one.']


def test_closing_quote_stays_with_its_sentence() -> None:
    assert sentences('He said "stop." Then he left.') == ['He said "stop."', "Then he left."]


def test_decimal_numbers_are_not_boundaries() -> None:
    assert sentences("It is 1.5 miles long. Yes.") == ["It is 1.5 miles long.", "Yes."]


def test_a_footnote_mark_after_a_period_ends_the_sentence() -> None:
    assert sentences("Every request must result in a response.4 That is, it never hangs.") == [
        "Every request must result in a response.4", "That is, it never hangs."]
    assert sentences("Cells are padded.\u2020 Then they move.") == [
        "Cells are padded.\u2020", "Then they move."]


def test_a_number_after_an_abbreviation_a_letter_or_a_digit_is_not_a_footnote_mark() -> None:
    for text in ("See fig.3 Shows the rest.", "Results in Eq.1 Then hold.",
                 "It is in version 2.10 The next.", "Options are a.1 Open the file."):
        assert sentences(text) == [text]


def test_an_abbreviation_inside_closing_quotes_or_brackets_still_ends_a_sentence() -> None:
    assert sentences('He said "I work at Acme Co." Then he left.') == [
        'He said "I work at Acme Co."', "Then he left."]
    assert sentences("It was made in the U.S.) The next one was not.") == [
        "It was made in the U.S.)", "The next one was not."]
    assert sentences("We had a plan B... Then it rained.") == [
        "We had a plan B...", "Then it rained."]


def test_offsets_are_relative_to_the_whole_text_within_the_block() -> None:
    text = "HEAD\n  First one. Second one.  \nTAIL"
    spans = split_sentences(text, 5, len(text) - 5)
    assert [text[s:e] for s, e in spans] == ["First one.", "Second one."]


@given(st.text(alphabet=st.sampled_from("ab .!?\n\"'A1"), max_size=80))
def test_spans_are_ordered_trimmed_and_cover_every_word(text: str) -> None:
    spans = split_sentences(text)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
    for s, e in spans:
        assert text[s:e] == text[s:e].strip() and e > s
    assert "".join(text[s:e] for s, e in spans).split() == "".join(text.split()).split() or \
        "".join("".join(text[s:e] for s, e in spans).split()) == "".join(text.split())


# Hostile inputs (issue 14): each took O(n^2) before, i.e. hours at these sizes (a 40 KB run
# of dots took 28 s). The bound is generous: linear code does 200 KB in milliseconds.
HOSTILE_SECONDS = 5.0


def _timed_split(text: str) -> tuple[list[tuple[int, int]], float]:
    started = time.perf_counter()
    spans = split_sentences(text)
    return spans, time.perf_counter() - started


def test_a_long_run_of_dots_splits_in_linear_time() -> None:
    spans, seconds = _timed_split("." * 200_000)
    assert seconds < HOSTILE_SECONDS
    assert spans == [(0, 200_000)]


def test_a_long_author_list_splits_in_linear_time() -> None:
    text = "J. Smith, " * 20_000 + "and K. Jones. The end."
    spans, seconds = _timed_split(text)
    assert seconds < HOSTILE_SECONDS
    assert [text[s:e] for s, e in spans][-1] == "The end."  # the initials did not split


def test_a_long_word_before_a_period_is_not_an_abbreviation() -> None:
    word = "J" + "x" * 100  # longer than any abbreviation: the period ends the sentence
    assert sentences(f"See {word}. Then stop.") == [f"See {word}.", "Then stop."]
