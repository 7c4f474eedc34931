"""Page chrome is recognised; information-bearing sentences are not."""

from __future__ import annotations

import time

import pytest

from index.boilerplate import is_boilerplate, is_contents_line


@pytest.mark.parametrize("sentence", [
    "Sign up for more newsletters here",
    "Thank you for signing up!",
    "Get Today's Headlines in your inbox:",
    "The day's top stories delivered every morning.",
    "Bulent Kilic/AFP/Getty Images",
    "/ AFP PHOTO / BULENT KILIC",
    "Photo: Jane Doe",
    "Follow us on Twitter.",
    "Advertisement",
])
def test_chrome_is_boilerplate(sentence: str) -> None:
    assert is_boilerplate(sentence)


@pytest.mark.parametrize("sentence", [
    "The United Nations estimates 8,000 people are trapped in Raqqa.",
    "The company said its newsletter business grew by 40% last year, driven by new "
    "subscribers who sign up for paid email editions in large numbers across Europe and Asia.",
    "He told the Associated Press that the talks had failed.",
    "The image sensor captures 12 megapixels.",
])
def test_prose_is_not_boilerplate(sentence: str) -> None:
    assert not is_boilerplate(sentence)


def test_a_long_run_of_prompt_words_is_judged_in_linear_time() -> None:
    # One "word" to split(), 20k prompt words: O(n^2) before (1.2 s at 10 KB, hours at 1 MB).
    sentence = "subscribe." * 20_000
    started = time.perf_counter()
    assert not is_boilerplate(sentence)
    assert time.perf_counter() - started < 2.0  # generous: it now stops at MAX_CHARS


@pytest.mark.parametrize("line", [
    "2.4. OPTIONS . . . . . . . . . . . . . . . . . . 4",
    "Function and Data Index. . . . . . . . . . 33",
    "Introduction ........................ 5",
    "Preface . . . . . . . . . . vii",
    "Appendix\u2026\u2026\u2026 12",
])
def test_table_of_contents_line_is_contents(line: str) -> None:
    assert is_contents_line(line)


@pytest.mark.parametrize("line", [
    "and so on. . . 5",  # an ellipsis
    "bzip2 and libbzip2, version 1.0.8",
    "The default priority value is 50.",
    "Wait.... what happened next",
    "Table of Contents",
])
def test_other_lines_are_not_contents(line: str) -> None:
    assert not is_contents_line(line)


def test_a_long_line_of_dots_is_judged_in_linear_time() -> None:
    started = time.perf_counter()
    assert is_contents_line(". " * 200_000 + "9")
    assert not is_contents_line("." * 200_000 + "z")
    assert time.perf_counter() - started < 2.0
