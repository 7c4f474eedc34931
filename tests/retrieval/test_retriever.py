"""Retrieval on the session's tiny corpus with the real model, FAISS and BM25 indexes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.corpus import write_pdf
from support.indexes import indexed

from index.loaders import load_document
from quotebot.config import Config
from retrieval import Retriever
from retrieval.retriever import Passage
from store.faiss import FaissReader


def doc_text(config: Config, doc_id: str) -> str:
    reader = FaissReader(config.store)
    try:
        return reader.document_text(doc_id)
    finally:
        reader.close()


@pytest.mark.parametrize(("question", "path", "words"), [
    ("When did the first coffeehouse in London open?", "food/coffee.html", "1652"),
    ("How tall is the Eiffel Tower?", "landmarks/eiffel.pdf", "330 metres"),
    ("What colour jersey does the leader of the Tour de France wear?", "sport/cycling.txt",
     "yellow jersey"),
    ("Which towns did Vesuvius bury?", "geology/volcanoes.txt", "Pompeii"),
])
def test_plain_question_quotes_the_answering_sentence(retriever: Retriever, question: str,
                                                      path: str, words: str) -> None:
    answer = retriever.ask(question)
    assert answer.found
    top = answer.hits[0]
    assert top.citation.path == path
    assert words in top.excerpt


def test_quotes_are_exact_spans_of_the_stored_document(retriever: Retriever,
                                                       session_config: Config) -> None:
    for question in ("Who designed the Eiffel Tower?", "Why is Mars red?",
                     "How many civilians are trapped in Raqqa?"):
        for hit in retriever.ask(question, k=5).hits:
            text = doc_text(session_config, hit.citation.doc_id)
            assert text[hit.excerpt_start:hit.excerpt_end] == hit.excerpt
            assert text[hit.passage_start:hit.passage_end] == hit.text
            assert hit.excerpt in hit.text


def test_pdf_citation_gives_the_page(retriever: Retriever) -> None:
    hit = retriever.ask("How tall is the Eiffel Tower?").hits[0]
    assert hit.citation.page == 2


def test_citation_of_a_span_over_a_page_break_gives_the_page_of_its_last_line(
        tmp_path: Path) -> None:
    write_pdf(tmp_path / "two.pdf", ["First page words " * 30, "Second page words " * 30])
    doc = load_document("two.pdf", (tmp_path / "two.pdf").read_bytes())
    start, end = doc.page_starts[1] - 20, doc.page_starts[1] + 20  # the end of page 1 on
    passage = Passage(doc.doc_id, start, end, 1.0, 1.0, [SimpleNamespace(heading_path=[])])
    citation = Retriever._citation(doc, start, end, passage)
    assert (citation.page, citation.page_end) == (1, 2)
    assert (citation.line_start, citation.line_end) == (doc.line_at(start), 1)


def test_markdown_citation_gives_the_heading_path(retriever: Retriever) -> None:
    hit = retriever.ask("How long does light from the Sun take to reach the Earth?").hits[0]
    assert hit.citation.heading_path == ["The Solar System", "The Sun"]
    assert "eight minutes" in hit.excerpt


def test_citation_lines_point_at_the_quote(retriever: Retriever, session_config: Config) -> None:
    hit = retriever.ask("How many people does the United Nations say are trapped in Raqqa?").hits[0]
    text = doc_text(session_config, hit.citation.doc_id)
    assert text.count("\n", 0, hit.excerpt_start) + 1 == hit.citation.line_start == 14


def test_both_figures_of_the_seed_article_are_quoted(retriever: Retriever) -> None:
    excerpts = " ".join(h.excerpt for h in retriever.ask("How many civilians are trapped in "
                                                         "Raqqa?").hits)
    assert "4,000" in excerpts and "8,000" in excerpts


def test_answer_spread_over_two_documents_cites_both(retriever: Retriever) -> None:
    answer = retriever.ask("What are the names of the moons of Mars, and what is the largest "
                           "volcano on Mars?", k=3)
    paths = {h.citation.path for h in answer.hits}
    assert {"astronomy/solar.md", "geology/volcanoes.txt"} <= paths


def test_syndicated_copy_is_cited_not_repeated(retriever: Retriever) -> None:
    hits = retriever.ask("How many civilians are trapped in Raqqa?", k=5).hits
    shown = [(h.citation.path, h.passage_start) for h in hits]
    assert not ({"news/raqqa.txt", "news/raqqa-wire.txt"} <= {p for p, _ in shown})
    also = {c.path for h in hits for c in h.also_in}
    assert also & {"news/raqqa.txt", "news/raqqa-wire.txt"}


def test_overlapping_chunks_are_merged_into_one_passage(retriever: Retriever) -> None:
    hits = retriever.ask("What did Dillon say about the militants in Raqqa?", k=5).hits
    spans = [(h.citation.doc_id, h.passage_start, h.passage_end) for h in hits]
    for i, (doc_a, start_a, end_a) in enumerate(spans):
        for doc_b, start_b, end_b in spans[i + 1:]:
            same = (start_a, end_a) == (start_b, end_b)
            assert doc_a != doc_b or same or end_a < start_b or end_b < start_a


@pytest.mark.parametrize("question", [
    "How do I reset my router password?",
    "What is the best recipe for chocolate cake?",
])
def test_unrelated_question_abstains(retriever: Retriever, question: str) -> None:
    answer = retriever.ask(question)
    assert not answer.found and answer.reason
    assert answer.confidence < retriever.settings.min_confidence


def test_min_confidence_from_config_sets_when_to_abstain(session_config: Config) -> None:
    import copy

    config = copy.deepcopy(session_config)
    config.override("retrieval.min_confidence", "0")  # as QUOTEBOT_RETRIEVAL_MIN_CONFIDENCE=0
    with Retriever.open(config) as never_abstains:
        answer = never_abstains.ask("What is the capital of France?")
    assert answer.found and answer.hits


def test_unknown_ranking_mode_in_config_is_a_clear_error(session_config: Config) -> None:
    import copy

    from quotebot.config import ConfigError

    config = copy.deepcopy(session_config)
    config.override("retrieval.mode", "semantic")
    with pytest.raises(ConfigError, match="retrieval.mode must be one of hybrid"):
        Retriever.open(config)


def test_question_without_words_is_not_searched(retriever: Retriever) -> None:
    answer = retriever.ask("?!  ...")
    assert not answer.found and answer.reason


def test_a_pasted_document_is_refused_as_too_long_not_answered(retriever: Retriever) -> None:
    answer = retriever.ask("How tall is the Eiffel Tower? " + "word " * 20_000)
    assert not answer.found and not answer.hits
    assert answer.reason.startswith("The question is too long (100,029 characters")


def test_boilerplate_is_never_quoted(retriever: Retriever) -> None:
    for question in ("How do I sign up for the newsletter?", "Who took the photo?"):
        for hit in retriever.ask(question, k=5).hits:
            assert "newsletter" not in hit.excerpt.lower()
            assert "Getty Images" not in hit.excerpt


def test_json_keeps_the_documented_keys(retriever: Retriever) -> None:
    data: dict[str, Any] = json.loads(json.dumps(retriever.ask("Who designed the Eiffel "
                                                               "Tower?").to_dict()))
    assert {"question", "found", "hits"} <= set(data)
    hit = data["hits"][0]
    assert {"rank", "score", "excerpt", "excerpt_start", "excerpt_end", "text",
            "citation"} <= set(hit)
    assert {"doc_id", "title", "path", "line_start", "line_end", "page"} <= set(hit["citation"])
    assert [h["rank"] for h in data["hits"]] == list(range(1, len(data["hits"]) + 1))


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_every_mode_finds_the_plain_answer(retriever: Retriever, mode: str) -> None:
    answer = retriever.ask("When did the first coffeehouse in London open?", mode=mode)
    assert answer.hits[0].citation.path == "food/coffee.html"


HOSTILE_QUESTIONS = {
    "empty": "",
    "whitespace": " \n\t ",
    "10,000 characters": ("When did the first coffeehouse in London open? " * 250)[:10_000],
    "only punctuation": "?!...;:—«»¿¡",
    "Chinese": "伦敦第一家咖啡馆是什么时候开的？",
    "Arabic": "متى افتتح أول مقهى في لندن؟",
    "Russian": "Когда открылась первая кофейня в Лондоне?",
    "emoji": "☕🏰❓",
    "control characters": "\x00\x07\x1b[31mWhen\x08 did\x7f the coffeehouse open?\r\n",
    "HTML": "<b>When</b> did the <a href='https://x.example'>coffeehouse</a> open?<script>",
    "zero-width and bidi": "\u200b\u202eWhen did the coffeehouse open?\u202c",
    "bytes that are not UTF-8": "caf\udce9 in London?",  # as sys.argv gives them
}


def assert_sensible(answer: Any, question: str) -> None:
    """An answer with quotes that are exact spans, or no answer and a reason; printable."""
    assert isinstance(answer.found, bool)
    assert answer.hits or not answer.found
    assert answer.found or answer.reason  # not found: closest hits (if any) and a reason
    for hit in answer.hits:
        assert hit.text[hit.excerpt_start - hit.passage_start:
                        hit.excerpt_end - hit.passage_start] == hit.excerpt
    json.dumps(answer.to_dict(), ensure_ascii=False).encode("utf-8")  # as `ask --json` does


@pytest.mark.parametrize("kind", HOSTILE_QUESTIONS)
def test_hostile_question_gets_an_answer_or_a_reason(retriever: Retriever, kind: str) -> None:
    assert_sensible(retriever.ask(HOSTILE_QUESTIONS[kind]), HOSTILE_QUESTIONS[kind])


# Each example runs the model: a fifth of the profile's count (tests/conftest.py).
@settings(deadline=None, max_examples=max(10, settings.default.max_examples // 5))
@given(question=st.text(max_size=300))
def test_any_question_gets_an_answer_or_a_reason(retriever: Retriever, question: str) -> None:
    assert_sensible(retriever.ask(question), question)


def test_retriever_used_as_context_manager_closes_its_store(session_config: Config) -> None:
    import sqlite3

    with Retriever.open(session_config) as retriever:
        assert retriever.ask("Why is Mars red?").found
    with pytest.raises(sqlite3.ProgrammingError):
        retriever.reader.db.execute("SELECT 1")


def test_document_cache_is_bounded_by_bytes_not_by_count(retriever: Retriever,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from retrieval import retriever as module

    questions = ["When did the first coffeehouse in London open?",
                 "How many moons does Mars have?", "How tall is the Eiffel Tower?",
                 "Which towns did Vesuvius bury?"]
    monkeypatch.setattr(module, "DOC_CACHE_BYTES", 1)  # smaller than any one document
    with retriever._lock:  # the session's retriever: start from an empty cache
        retriever._docs.clear()
        retriever._docs_bytes = 0
    for question in questions:
        assert retriever.ask(question).found  # quoting still works: the latest stays
        assert len(retriever._docs) == 1
    assert retriever._docs_bytes == module._doc_bytes(next(iter(retriever._docs.values())))



@pytest.fixture(scope="module")
def project_docs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The project's own README and RELIABILITY as a corpus: real Markdown, long enough
    (a few hundred chunks) for the passages a question reads to depend on how many."""
    root = Path(__file__).resolve().parents[2]
    files = {name: (root / name).read_text(encoding="utf-8")
             for name in ("README.md", "RELIABILITY.md")}
    with indexed(tmp_path_factory.mktemp("project-docs"), files) as opened:
        yield opened


@pytest.mark.parametrize("question", [
    "How do I rebuild the index?", "What happens when a build is killed?",
    "How do I run the tests?", "Which file formats are supported?"])
def test_first_answer_and_its_confidence_do_not_depend_on_k(project_docs: Any,
                                                             question: str) -> None:
    firsts = set()
    for k in (1, 2, 3, 5, 8):
        hit = project_docs.ask(question, k=k, abstain=False).hits[0]
        firsts.add((hit.citation.path, hit.excerpt_start, hit.excerpt_end, hit.confidence))
    assert len(firsts) == 1


@pytest.fixture(scope="module")
def one_subject(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A long text naming its subject in every sentence: dozens of overlapping chunks all
    match, so the passages read past the first few touch each other."""
    things = ["lamp", "stair", "keeper", "gallery", "lens", "fog bell", "door", "window",
              "roof", "cellar", "boat", "rope", "map", "clock", "stove", "bed"]
    verbs = ["was painted", "was repaired", "was cleaned", "was replaced", "was measured"]
    text = "\n\n".join(" ".join(
        f"In {1900 + 7 * n + i} the {things[(n + i) % 16]} of the lighthouse "
        f"{verbs[(n * i) % 5]} by crew {n}-{i}." for i in range(6)) for n in range(40))
    with indexed(tmp_path_factory.mktemp("one-subject"),
                 {"lighthouse.txt": "The Lighthouse\n\n" + text + "\n"}) as opened:
        yield opened


@pytest.mark.parametrize("question", [
    "What is quotebot?", "What is a generation?", "What is BM25?", "What is the soak?",
    "How do I rebuild the index?", "Which file formats are supported?",
    "What happened to the lighthouse?", "When was the lamp of the lighthouse repaired?"])
def test_more_hits_asked_only_add_hits_after_the_fewer(project_docs: Any, one_subject: Any,
                                                       question: str) -> None:
    retriever = one_subject if "lighthouse" in question else project_docs

    def hits(k: int) -> list[tuple[str, int, int, int, int, float]]:
        return [(h.citation.path, h.excerpt_start, h.excerpt_end, h.passage_start,
                 h.passage_end, h.confidence)
                for h in retriever.ask(question, k=k, abstain=False).hits]

    most = hits(30)
    for k in (1, 3, 5, 10, 20):
        assert hits(k) == most[:k]


def test_a_scope_that_is_not_utf8_names_no_stored_path() -> None:
    from retrieval.retriever import UNSTORABLE, normalise_scope

    # Escaped and split at its backslash, "x\xff" had become the folder "x/udcff".
    assert normalise_scope(["x\udcff"]) == [UNSTORABLE + "x\\udcff"]
    assert normalise_scope(["./reports//2024/", "a\\b"]) == ["reports/2024", "a/b"]



@pytest.mark.parametrize("question", ["\uff37\uff48\uff41\uff54 \uff49\uff53 \uff54\uff48\uff45 "
                                      "\uff4c\uff41\uff52\uff47\uff45\uff53\uff54 "
                                      "\uff56\uff4f\uff4c\uff43\uff41\uff4e\uff4f?",
                                      "What is the largest \U0001d567\U0001d560\U0001d55d"
                                      "\U0001d554\U0001d552\U0001d55f\U0001d560?"])
def test_a_question_in_compatibility_characters_is_read_as_plain_letters(
        retriever: Retriever, question: str) -> None:
    plain = retriever.ask("What is the largest volcano?")
    folded = retriever.ask(question)
    assert folded.hits[0].excerpt == plain.hits[0].excerpt
    assert folded.confidence == plain.confidence
