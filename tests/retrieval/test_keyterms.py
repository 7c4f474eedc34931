"""Questions that differ by a number or a name get different quotes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.indexes import indexed

from retrieval import Retriever
from retrieval.keyterms import key_terms

HARBOUR = """The Harbour Festival

The harbour festival has changed a lot over the years.
In 1998 the festival moved to the old fish market after a fire destroyed the pier.
Local bands played every night and the town council paid for new lights.
In 2004 the festival was cancelled because a storm flooded the harbour front.
Many traders lost their stalls and the council promised money for repairs.
"""


def test_key_terms_are_numbers_and_names_not_the_first_word() -> None:
    assert key_terms("What happened in 1998?") == ["1998"]
    assert key_terms("Who is Ryan Dillon?") == ["ryan", "dillon"]
    assert key_terms("Why is the sky blue?") == []


def test_a_question_in_capitals_has_no_names_only_its_numbers() -> None:
    assert key_terms("WHAT HAPPENED TO THE FESTIVAL IN 1998?") == ["1998"]


@pytest.fixture(scope="module")
def harbour(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Retriever]:
    with indexed(tmp_path_factory.mktemp("harbour"), {"festival.txt": HARBOUR}) as opened:
        yield opened


@pytest.mark.parametrize(("year", "other"), [("1998", "2004"), ("2004", "1998")])
def test_question_quotes_the_sentence_with_its_own_year(harbour: Retriever, year: str,
                                                        other: str) -> None:
    quote = harbour.ask(f"What happened to the festival in {year}?", abstain=False).hits[0]
    assert year in quote.excerpt and other not in quote.excerpt
