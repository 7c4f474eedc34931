"""Quote choice on real documents: the sentence after the one naming the subject can win,
and a neighbour nearly as good is quoted with the best sentence (benchmarks/quote_choice.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support.indexes import indexed, settings_changed

from retrieval import Retriever
from retrieval.excerpts import (
    DATE,
    REASON,
    SentenceScore,
    answer_type,
    asked_term,
    best_excerpts,
    defined_term,
    defines,
    excerpt_around,
    favour_span,
    question_weights,
    quotable,
    score_sentences,
    sentence_context,
    term_share,
)
from retrieval.retriever import Settings, heading_share

TEXT = ("The Eiffel Tower is a landmark in Paris. It stands 330 metres tall today. "
        "Tourists visit it every year.")


def spans(text: str) -> list[tuple[int, int]]:
    """Offsets of the sentences of `text` (each ends in '. ')."""
    out, at = [], 0
    for part in text.split(". "):
        end = at + len(part) + (0 if part.endswith(".") else 1)
        out.append((at, end))
        at = end + 1
    return out


def scored(window_weight: float) -> list[SentenceScore]:
    """The subject's sentence and the one giving the height hold as many of the question's
    words and are about as close to it in meaning; the third is unrelated."""
    query = np.array([1.0, 0.0], np.float32)
    vectors = np.array([[0.6, 0.8], [0.57, np.sqrt(1 - 0.57**2)], [0.0, 1.0]], np.float32)
    weights = {"tower": 1.0, "tall": 1.0}
    return score_sentences(TEXT, spans(TEXT), vectors, query, weights,
                           window_weight=window_weight)


def test_window_adds_the_previous_sentences_overlap() -> None:
    scores = scored(window_weight=0.5)
    plain = scored(window_weight=0.0)
    assert scores[1].score - plain[1].score == pytest.approx(0.5 * plain[0].overlap)


def test_window_lets_the_sentence_after_the_subject_win() -> None:
    assert max(scored(0.0), key=lambda s: s.score).index == 0
    assert max(scored(Settings().window_weight), key=lambda s: s.score).index == 1


def test_window_gives_the_first_sentence_nothing() -> None:
    assert scored(0.5)[0].score == scored(0.0)[0].score


def test_asking_words_are_not_words_a_sentence_can_hold() -> None:
    idf = {"what": 3.0, "server": 1.0, "chain": 1.0}
    assert question_weights("What servers does the chain have?", idf) == {
        "server": 1.0, "chain": 1.0}


CELLS = "Each Tor node relays many cells per week. Each cell is 512 bytes."


def cell_scores(context: frozenset[str], context_weight: float) -> list[SentenceScore]:
    """ "How large is each Tor cell?" in the Tor paper: the first sentence holds every word
    of the question but is about nodes; the second, closer in meaning, lacks "tor"."""
    query = np.array([1.0, 0.0], np.float32)
    vectors = np.array([[0.5, np.sqrt(0.75)], [0.6, 0.8]], np.float32)
    weights = {"each": 1.0, "tor": 2.0, "cell": 3.0, "node": 0.0}
    return score_sentences(CELLS, spans(CELLS), vectors, query, weights,
                           context=context, context_weight=context_weight)


def test_a_sentence_is_read_under_its_title() -> None:
    tor = sentence_context("Tor: the second-generation onion router", [])
    assert "tor" in tor
    assert max(cell_scores(frozenset(), 1.0), key=lambda s: s.score).index == 0
    assert max(cell_scores(tor, 1.0), key=lambda s: s.score).index == 1


def test_words_the_context_holds_weigh_in_the_score_not_the_overlap() -> None:
    tor = sentence_context("Tor", ["Cells"])
    with_context, without = cell_scores(tor, 0.5), cell_scores(tor, 0.0)
    assert with_context[1].overlap == without[1].overlap
    assert with_context[1].score - without[1].score == pytest.approx(0.5 * 0.5 * 2.0 / 6.0)
    assert with_context[0].score == without[0].score  # it says every word itself


def test_a_title_that_is_running_text_is_no_context() -> None:
    caption = ("In this photo dated Tuesday the rocket is installed on a launch pad. "
               "The unmanned cargo ship Pr")
    assert sentence_context(caption, []) == frozenset()
    assert "rocket" in sentence_context("The rocket: a history, vol. 2", [])
    assert "strangelov" in sentence_context("Dr. Strangelove", [])
    assert "tolkien" in sentence_context("J. R. R. Tolkien", [])


def test_section_headings_are_context_too() -> None:
    assert {"exit", "status"} <= sentence_context("grep(1)", ["grep", "Exit status"])


def test_word_share_is_of_the_total_given() -> None:
    text = "In what follows, we describe servers. Chain replication coordinates servers."
    query = np.array([1.0, 0.0], np.float32)
    vectors = np.array([[1.0, 0.0], [1.0, 0.0]], np.float32)
    weights = {"server": 1.0, "chain": 1.0}
    first, second = score_sentences(text, spans(text), vectors, query, weights, total=5.0)
    assert first.overlap == pytest.approx(1 / 5)
    assert second.overlap == pytest.approx(2 / 5)


def test_identifier_asked_as_one_word_is_the_defined_term() -> None:
    weights = {"samesit": 2.0, "session": 1.0, "cooki": 1.0}  # "SameSite ... session cookie"
    assert term_share("same_site", weights) == 1.0
    assert term_share("session_cookie", weights) == 1.0
    assert term_share("max_age", weights) == 0.0
    assert term_share("session_max", weights) == 0.5


MEETING = ("The committee met in the old town hall on Monday morning. "
           "The committee approved the new budget of four million euros. "
           "Members later went home to their families in the evening.")


def test_default_join_margin_quotes_a_neighbour_nearly_as_good() -> None:
    scores = [SentenceScore(i, s, e, score) for i, ((s, e), score)
              in enumerate(zip(spans(MEETING), (0.62, 0.8, 0.1), strict=True))]
    excerpt = excerpt_around(MEETING, scores, 1, join_margin=Settings().join_margin)
    assert excerpt.sentences == (0, 1)


def test_default_excerpt_margin_offers_the_passages_runner_up() -> None:
    text = MEETING + " " + " ".join(f"Filler sentence number {n} says nothing at all here."
                                    for n in range(3)) + (" The committee also approved "
                                                          "the new budget for the schools.")
    scores = [SentenceScore(i, s, e, score) for i, ((s, e), score)
              in enumerate(zip(spans(text), (0.1, 0.8, 0.1, 0.1, 0.1, 0.1, 0.72), strict=True))]
    excerpts = best_excerpts(text, scores, limit=2, margin=Settings().excerpt_margin)
    assert [e.sentences for e in excerpts] == [(1, 1), (6, 6)]


def test_neighbour_on_another_page_is_not_joined_for_its_score() -> None:
    scores = [SentenceScore(i, s, e, score) for i, ((s, e), score)
              in enumerate(zip(spans(MEETING), (0.75, 0.8, 0.1), strict=True))]
    page_two = scores[1].start
    excerpt = excerpt_around(MEETING, scores, 1, join_margin=Settings().join_margin,
                             pages=[0, page_two])
    assert excerpt.sentences == (1, 1)


def test_a_section_label_before_the_quote_is_not_joined_for_its_score() -> None:
    text = "5.1 Raft basics\nA Raft cluster contains several servers. Each is a leader."
    label, first = text.index("\n"), text.index("Each")
    scores = [SentenceScore(0, 0, label, 0.78), SentenceScore(1, label + 1, first - 1, 0.8),
              SentenceScore(2, first, len(text), 0.1)]
    excerpt = excerpt_around(text, scores, 1, join_margin=Settings().join_margin,
                             can_quote=lambda s: quotable(s, strict=True))
    assert excerpt.sentences == (1, 1)
    assert excerpt_around(text, scores, 1, join_margin=Settings().join_margin
                          ).sentences == (0, 1)


def test_a_section_label_after_the_quote_is_not_joined_for_its_score() -> None:
    text = "Raft was evaluated for clarity on real clusters of servers.\n9.1 Clarity"
    label = text.index("\n")
    scores = [SentenceScore(0, 0, label, 0.8), SentenceScore(1, label + 1, len(text), 0.78)]
    excerpt = excerpt_around(text, scores, 0, join_margin=Settings().join_margin,
                             can_quote=lambda s: quotable(s, strict=True))
    assert excerpt.sentences == (0, 0)
    assert excerpt_around(text, scores, 0, join_margin=Settings().join_margin
                          ).sentences == (0, 1)


def test_a_when_question_gives_a_dated_sentence_the_date_weight(tmp_path: Path) -> None:
    question = "When did the old river bridge close?"
    text = ("The old river bridge\n\n"
            "The old river bridge closed after the old river bridge inspection found rust. "
            "Traffic now crosses downstream. The closure came in March 1998.\n")
    with indexed(tmp_path, {"bridge.txt": text}) as retriever:
        plain = first_quote(retriever, question, date_weight=0.0)
        dated = first_quote(retriever, question, date_weight=0.5)
    assert "1998" not in plain
    assert "1998" in dated
    assert Settings().date_weight > 0


def test_sentences_of_the_ranked_chunk_are_favoured() -> None:
    scores = [SentenceScore(i, s, e, 0.5) for i, (s, e) in enumerate(spans(MEETING))]
    favour_span(scores, scores[1].start, scores[2].end, Settings().ranked_chunk_weight)
    assert [s.score > 0.5 for s in scores] == [False, True, True]


# --- answer types and defined terms (benchmarks/quote_choice.py, "type" and "item") ---

PARAMETERS = ("The following arguments are supported:\n"
              "• minimum_size - Do not compress responses smaller than this. Defaults to 500.\n"
              "• html - Run in HTML mode. Automatically loads index.html for directories.\n")


def test_quantity_question_expects_a_number() -> None:
    expects = answer_type("How big is the default thread pool?")
    assert expects is not None
    assert expects.search("The default pool size is only 40 tokens.")
    assert not expects.search("Starlette runs your code in a thread pool.")


def test_when_question_expects_a_date() -> None:
    assert answer_type("When was the bridge opened?") is DATE
    assert DATE.search("It opened in March 1932.")
    assert not DATE.search("Called after the response is fetched, every time.")


def test_other_questions_expect_nothing() -> None:
    assert answer_type("What does the html option do?") is None


def test_list_item_names_the_term_it_defines() -> None:
    assert defined_term(PARAMETERS, PARAMETERS.index("html -")) == "html"
    assert defined_term(PARAMETERS, PARAMETERS.index("minimum_size")) == "minimum_size"
    assert defined_term(PARAMETERS, PARAMETERS.index("Automatically")) == ""
    assert defined_term(PARAMETERS, 0) == ""


def test_item_defining_the_asked_term_gains_its_weight() -> None:
    starts = [0, PARAMETERS.index("minimum_size"), PARAMETERS.index("html -")]
    ends = [PARAMETERS.index(":") + 1, PARAMETERS.index("500.") + 4,
            PARAMETERS.index("HTML mode.") + 10]
    vectors = np.zeros((3, 2), np.float32)
    weights = {"html": 1.0, "option": 1.0}
    sentence_spans = list(zip(starts, ends, strict=True))
    query = np.array([1.0, 0.0], np.float32)
    plain = score_sentences(PARAMETERS, sentence_spans, vectors, query, weights)
    scored = score_sentences(PARAMETERS, sentence_spans, vectors, query, weights,
                             item_weight=0.2)
    gains = [s.score - p.score for s, p in zip(scored, plain, strict=True)]
    assert gains == pytest.approx([0, 0, 0.2])


def first_quote_per_passage(answer: Any) -> list[Any]:
    """The first hit of each passage, in order (a passage may give two quotes)."""
    seen: set[tuple[str, int]] = set()
    out = []
    for hit in answer.hits:
        key = (hit.citation.path, hit.passage_start)
        if key not in seen:
            seen.add(key)
            out.append(hit)
    return out


def test_full_sentence_rank_weight_orders_passages_by_their_best_sentence(
        retriever: Retriever) -> None:
    default = retriever.settings
    retriever.settings = replace(default, sentence_rank_weight=1.0)
    try:
        answer = retriever.ask("Which planet has two small moons?", k=6, abstain=False)
    finally:
        retriever.settings = default
    scores = [h.excerpt_score for h in first_quote_per_passage(answer)]
    assert len(scores) > 2
    # Ordered by the best sentence; a quote's score may also hold the ranked chunk's bonus.
    assert all(a >= b - default.ranked_chunk_weight - 1e-6
               for a, b in zip(scores, scores[1:], strict=False))


MANUAL = """# frob

frob reads lines and prints the ones that match its pattern.

## Options

- `--quiet`: print nothing, and stop at the first match.
- `--count`: print how many lines match instead of the lines themselves.
- `--invert`: select the lines that do not match, so that nothing matching is printed.

## Exit status

The value is 0 when a line was selected and 1 when no line was selected.
A value of 2 means that an error occurred.

## Bugs

Report bugs to the mailing list.
"""
EXIT_QUESTION = "What exit status does frob return when nothing matches?"


def test_heading_share_is_the_share_of_the_question_weight_its_headings_hold() -> None:
    weights = {"exit": 2.0, "status": 2.0, "frob": 1.0, "match": 3.0}
    assert heading_share(["frob", "EXIT STATUS"], weights) == pytest.approx(5 / 8)
    assert heading_share([], weights) == 0.0
    assert heading_share(["Exit status"], {}) == 0.0


@pytest.fixture(scope="module")
def manual(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Retriever]:
    """A manual page in Markdown whose exit status section words its answer without the
    question's words, while an option's item holds "nothing" and "match"."""
    with indexed(tmp_path_factory.mktemp("manual"), {"frob.md": MANUAL}) as opened:
        yield opened


def first_section(retriever: Retriever, heading_weight: float) -> list[str]:
    with settings_changed(retriever, heading_weight=heading_weight):
        return retriever.ask(EXIT_QUESTION, abstain=False).hits[0].citation.heading_path


def test_a_section_whose_heading_holds_the_question_words_ranks_higher(
        manual: Retriever) -> None:
    assert first_section(manual, 0.0)[-1:] != ["Exit status"]
    assert first_section(manual, 1.0)[-1:] == ["Exit status"]


@pytest.mark.parametrize(("question", "term"), [
    ("What is a stable property?", "stable property"),
    ("What are consistent hash functions, roughly speaking?", "consistent hash functions"),
    ("What is a quorum in a council?", "quorum"),
    ("What is PageRank compared to?", ""),
    ("What is the largest file that tar can store?", ""),
    ("What is Microsoft's blogging service called?", ""),
    ("Who is the chairman?", ""),
])
def test_asked_term_is_the_x_of_what_is_x(question: str, term: str) -> None:
    assert asked_term(question) == term


@pytest.mark.parametrize(("sentence", "expected"), [
    ("A stable property is one that persists.", True),
    ("Roughly speaking, a consistent hash function is one which changes minimally.", True),
    ("Stable properties are predicates that stay true.", True),
    ("A user study shows that a stable property is easy.", False),
    ("A stable property is similar to an invariant.", False),
    ("We present stable property, a predicate that stays true.", True),
    ("Stable property, a predicate that stays true, is easy to detect.", True),
    ("Stable property, however, is hard to detect.", False),
])
def test_a_sentence_defines_a_term_it_opens_with_before_is_a(sentence: str,
                                                               expected: bool) -> None:
    term = "consistent hash function" if "hash" in sentence else "stable property"
    assert defines(sentence, 0, len(sentence), term) is expected


@pytest.mark.parametrize(("sentence", "term"), [
    ("The loop forms a sort of trap which we call a rank sink.", "rank sink"),
    ("This is done through a new abstraction, called a resource offer, which encapsulates "
     "a bundle of resources.", "resource offer"),
    ("We call such a run a deciding run.", "deciding run"),
    ("This state is known as a split brain.", "split brain"),
    ("To measure the applicability of these rules, we implemented Aspirator, a simple "
     "static checker.", "Aspirator"),
    ("Since then, we built Chubby, a lock service for loosely coupled systems.", "Chubby"),
    ("The underlying system call is called fadvise64().", "fadvise64"),
    ("In addition, the Hadoop master, known as the JobTracker, fits the model.", "JobTracker"),
])
def test_a_sentence_that_names_a_term_defines_it(sentence: str, term: str) -> None:
    assert defines(sentence, 0, len(sentence), term)


@pytest.mark.parametrize(("sentence", "term"), [
    ("A rank sink is mentioned in the appendix.", "rank sink"),
    ("We call the resource offer handler twice.", "resource offer"),
    ("Aspirator found 121 new bugs.", "Aspirator"),
    # from a second review: man pages call functions; a clause's object is no apposition
    ("The child process is created with a single thread, the one that called fork().", "fork"),
    ("EINVAL CLONE_NEWPID was given, but the process has previously called unshare() with "
     "the CLONE_NEWPID flag.", "unshare"),
    ("This may not be the thread that called mbind().", "mbind"),
    ("When we designed Raft, the primary goal was understandability.", "Raft"),
    ("After we built TAO, the load on the MySQL tier fell by half.", "TAO"),
])
def test_a_sentence_that_only_mentions_a_term_does_not_define_it(sentence: str,
                                                                  term: str) -> None:
    assert not defines(sentence, 0, len(sentence), term)


def test_a_sentence_opening_with_a_long_run_of_non_word_characters_is_read_quickly() -> None:
    sentence = "\u200b" * 6000 + " Mesos cluster scheduler note."
    started = time.perf_counter()
    for _ in range(200):  # a "What is X?" question reads up to 200 chunks for a definition
        defines(sentence, 0, len(sentence), "Mesos")
    assert time.perf_counter() - started < 1.5  # 6.2 s before


@pytest.mark.parametrize(("sentence", "term", "expected"), [
    ("Servers are always in one of three states.", "servers", False),
    ("Logs are as long as they need to be.", "logs", False),
    ("Hash functions are sometimes used to spread keys.", "hash functions", False),
    ("Servers are stateless.", "servers", False),
    ("Servers are numerous in the cluster.", "servers", False),
    ("Logs are thus kept short.", "logs", False),
    ("Servers are machines that answer requests.", "servers", True),
    ("Servers are processes that answer requests.", "servers", True),
])
def test_are_before_a_word_in_s_that_is_no_plural_noun_does_not_define(
        sentence: str, term: str, expected: bool) -> None:
    assert defines(sentence, 0, len(sentence), term) is expected


COUNCIL = """Meetings of the council

The council meets every month in the town hall, and a quorum must be present before any \
vote is taken. When the quorum is lost during a meeting, the chair adjourns it. Members who \
arrive late still count towards the quorum for the votes that remain.

A quorum is the minimum number of members who must be present for the council to act. For \
this council it is seven members.

Minutes of every meeting record whether the quorum was present at each vote. Votes taken \
without a quorum are void and must be taken again at the next meeting.
"""


@pytest.fixture(scope="module")
def council(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Retriever]:
    """Council rules whose every sentence names the quorum; one defines it."""
    with indexed(tmp_path_factory.mktemp("council"), {"council.txt": COUNCIL}) as opened:
        yield opened


def first_quote(retriever: Retriever, question: str, **settings: float) -> str:
    """The first hit's quote for `question` with these `Settings` fields changed."""
    with settings_changed(retriever, **settings):
        return retriever.ask(question, abstain=False).hits[0].excerpt


def test_what_is_x_quotes_the_sentence_defining_x(council: Retriever) -> None:
    definition = "A quorum is the minimum number"
    assert definition not in first_quote(council, "What is a quorum?", definition_weight=0.0)
    assert definition in first_quote(council, "What is a quorum?")


FESTIVAL = {  # every document names the festival; one, about the town, defines it
    "programme.txt": "The harbour festival programme\n\nThe harbour festival opens on Friday "
    "with a parade along the quay. The harbour festival closes on Sunday with fireworks over "
    "the water. Tickets for the harbour festival are sold at the harbour office.",
    "history.txt": "History of the town\n\nThe town grew around its harbour in the "
    "eighteenth century. Fishing boats still land their catch there every morning. The "
    "harbour festival is a three-day summer fair held on the quay since 1998, with music, "
    "food stalls and boat races.",
    "traffic.txt": "Traffic during the harbour festival\n\nRoads near the harbour festival "
    "are closed to cars all weekend. Buses to the harbour festival leave the station every "
    "ten minutes. Parking for the harbour festival is on the school field.",
    "volunteers.txt": "Volunteers\n\nThe harbour festival needs two hundred volunteers each "
    "year. Volunteers for the harbour festival get a free T-shirt and a meal. Sign up for "
    "the harbour festival at the library.",
}


@pytest.fixture(scope="module")
def festival(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Retriever]:
    files = {name: text + "\n" for name, text in FESTIVAL.items()}
    with indexed(tmp_path_factory.mktemp("festival"), files) as opened:
        yield opened


def test_the_passage_defining_x_comes_first_though_others_name_x_more(
        festival: Retriever) -> None:
    definition = "The harbour festival is a three-day summer fair"
    question = "What is the harbour festival?"
    assert not first_quote(festival, question, definition_weight=0.0).startswith(definition)
    assert first_quote(festival, question).startswith(definition)


def test_the_noun_of_what_kind_of_weighs_more() -> None:
    idf = {"kind": 4.0, "server": 1.5, "chain": 2.0}
    weights = question_weights("What kind of servers does the chain coordinate?", idf)
    assert weights["server"] == 2 * 1.5
    assert weights["chain"] == 2.0


def test_a_hedging_kind_of_doubles_nothing() -> None:
    idf = {"kind": 4.0, "slow": 1.5, "chain": 2.0}
    assert question_weights("Is the chain kind of slow?", idf)["slow"] == 1.5


def test_why_question_expects_a_reason() -> None:
    assert answer_type("Why did the old bridge close?") is REASON
    assert REASON.search("It closed because its cables had rusted.")


def test_why_question_quotes_the_sentence_giving_a_reason(tmp_path: Path) -> None:
    question = "Why did the old river bridge close in 2020?"
    text = ("The old river bridge\n\n"
            "The old river bridge closed in 2020, the year the old river bridge turned 90. "
            "Traffic now crosses downstream. Engineers shut it because its cables had "
            "rusted through.\n")
    with indexed(tmp_path, {"bridge.txt": text}) as retriever:
        plain = first_quote(retriever, question, reason_weight=0.0)
        reason = first_quote(retriever, question, reason_weight=0.5)
    assert "because" not in plain
    assert "because" in reason
    assert Settings().reason_weight > 0


class _Idf:
    """A reader's word statistics, without an index: every token weighs its length."""

    def idf(self, tokens: list[str]) -> dict[str, float]:
        return {t: float(len(t)) for t in tokens}

    def counts(self) -> dict[str, int]:
        return {"chunks": 100}


def test_words_that_only_ask_weigh_in_the_total_not_in_the_weights() -> None:
    from retrieval.retriever import _terms

    terms = _terms(_Idf(), "How many nodes did the Tor network have?", None)  # type: ignore[arg-type]
    assert set(terms.weights) == {"node", "tor", "network", "have"}
    # "how", "mani" and "did" weigh in the whole a sentence's share is of
    asking = len("how") + len("mani") + len("did")
    assert terms.quote_total == sum(terms.weights.values()) + asking
