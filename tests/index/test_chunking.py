"""Chunking: whole sentences, sized to the model's window, exact offsets, no repeats."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from index.chunking import TokenCounter, chunk_document, left_out_sentences, load_token_counter
from index.embedding import resolve_model
from index.loaders import SkipFile, load_document


@pytest.fixture(scope="module")
def count() -> TokenCounter:
    return load_token_counter(resolve_model("all-MiniLM-L6-v2").location)


def doc(text: str, name: str = "doc.txt"):
    return load_document(name, text.encode("utf-8"))


PROSE = " ".join(f"Sentence number {i} talks about topic {i} at some length here."
                 for i in range(60))


def test_chunks_round_trip_to_document_text(count: TokenCounter) -> None:
    d = doc(PROSE)
    chunks = chunk_document(d, count, max_tokens=60)
    assert len(chunks) > 3
    for c in chunks:
        assert d.text[c.start:c.end] == c.text
        assert all(d.text[s:e].endswith(".") for s, e in c.sentences)


def test_chunks_respect_the_token_budget(count: TokenCounter) -> None:
    d = doc(PROSE)
    for c in chunk_document(d, count, max_tokens=60):
        assert count(c.text) <= 60


def test_consecutive_chunks_share_the_overlap_sentence(count: TokenCounter) -> None:
    chunks = chunk_document(doc(PROSE), count, max_tokens=60, overlap_sentences=1)
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert a.sentences[-1] == b.sentences[0]


def test_no_overlap_when_disabled(count: TokenCounter) -> None:
    chunks = chunk_document(doc(PROSE), count, max_tokens=60, overlap_sentences=0)
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert a.end < b.start


def test_overlong_sentence_is_cut_to_fit_the_window(count: TokenCounter) -> None:
    long_sentence = " ".join(["antidisestablishmentarianism"] * 300) + "."
    d = doc(f"Short start. {long_sentence} Short end.")
    chunks = chunk_document(d, count, max_tokens=200, window=256)
    assert all(count(c.text) <= 254 for c in chunks)
    covered = "".join(d.text[s:e] for c in chunks for s, e in c.sentences)
    assert covered.count("antidisestablishmentarianism") >= 300


def test_overlong_sentence_after_others_is_cut_where_it_stands(count: TokenCounter) -> None:
    long_sentence = "Then " + " ".join(f"word{i}" for i in range(400))  # no full stop
    d = doc("A short first sentence. " + long_sentence)
    chunks = chunk_document(d, count, max_tokens=50, overlap_sentences=0)
    assert len(chunks) > 4
    assert " ".join(c.text for c in chunks) == d.text  # every word once, in order


def test_headings_start_chunks_and_give_their_path(count: TokenCounter) -> None:
    d = doc("# Guide\n\n## Install\n\nRun the installer. It takes a minute.\n\n"
            "## Use\n\nAsk a question. Read the quote.\n", "guide.md")
    chunks = chunk_document(d, count)
    assert [c.heading_path for c in chunks] == [["Guide", "Install"], ["Guide", "Use"]]
    assert chunks[1].text == "Ask a question. Read the quote."


CONTENTS = """bzip2 manual

Table of Contents
1. Introduction . . . . . . . . . . . . . 1
2. How to use bzip2 . . . . . . . . . . . . 2
2.1. NAME . . . . . . . . . . . . . . . . . 2

Introduction

bzip2 compresses files using the Burrows-Wheeler block-sorting algorithm.
"""


def test_table_of_contents_lines_are_left_out_whole(count: TokenCounter) -> None:
    d = doc(CONTENTS)
    indexed = " ".join(c.text for c in chunk_document(d, count))
    assert ". ." not in indexed and "NAME" not in indexed
    assert "block-sorting algorithm." in indexed and "Table of Contents" in indexed
    contents = [d.text[s:e] for s, e, why in left_out_sentences(d) if why == "contents"]
    assert contents == ["Introduction . . . . . . . . . . . . . 1",
                        "How to use bzip2 . . . . . . . . . . . . 2",
                        "2.1. NAME . . . . . . . . . . . . . . . . . 2"]


def test_repeated_caption_is_indexed_once(count: TokenCounter) -> None:
    caption = "Rescue teams search the rubble of the collapsed bridge near the river."
    d = doc(f"Bridge collapse\n\n{caption}\n\nThe bridge fell at noon. {caption}\n")
    texts = [d.text[s:e] for c in chunk_document(d, count) for s, e in c.sentences]
    assert texts.count(caption) == 1


def test_near_duplicate_caption_is_indexed_once(count: TokenCounter) -> None:
    d = doc("Talks are taking place on the safe exit of civilians trapped in the city.\n\n"
            "Talks are taking place about the safe exit of civilians trapped in the city.\n")
    texts = [d.text[s:e] for c in chunk_document(d, count) for s, e in c.sentences]
    assert len(texts) == 1


def test_newsletter_and_credit_lines_are_not_indexed(count: TokenCounter) -> None:
    d = doc("Storm hits coast\n\nThe storm reached the coast on Monday.\n"
            "Jane Doe/Reuters/Getty Images\n\nGet Today's Headlines in your inbox:\n"
            "Thank you for signing up! Sign up for more newsletters here\n\n"
            "Power was restored by Tuesday.\n")
    texts = [d.text[s:e] for c in chunk_document(d, count) for s, e in c.sentences]
    assert texts == ["The storm reached the coast on Monday.", "Power was restored by Tuesday."]


def test_dropped_sentence_splits_the_chunk(count: TokenCounter) -> None:
    d = doc("Alpha beta gamma delta. Follow us on Twitter. Epsilon zeta eta theta.")
    chunks = chunk_document(d, count)
    assert [c.text for c in chunks] == ["Alpha beta gamma delta.", "Epsilon zeta eta theta."]


def test_pdf_chunks_carry_pages(tmp_path, count: TokenCounter) -> None:
    from support.corpus import write_pdf

    write_pdf(tmp_path / "a.pdf", ["Page one says hello to all readers.",
                                   "Page two says goodbye to all readers."])
    d = load_document("a.pdf", (tmp_path / "a.pdf").read_bytes())
    chunks = chunk_document(d, count, overlap_sentences=0)
    assert (chunks[0].page_start, chunks[-1].page_end) == (1, 2)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("abc xyz.!?\n"), min_size=1, max_size=60),
                min_size=1, max_size=8),
       st.integers(min_value=8, max_value=40), st.integers(min_value=0, max_value=2))
def test_any_text_chunks_exactly_within_budget(count: TokenCounter, paragraphs: list[str],
                                               budget: int, overlap: int) -> None:
    assume(any(p.strip() for p in paragraphs))
    d = doc("\n\n".join(paragraphs))
    for c in chunk_document(d, count, max_tokens=budget, overlap_sentences=overlap):
        assert d.text[c.start:c.end] == c.text
        assert count(c.text) <= budget
        assert c.sentences[0][0] == c.start and c.sentences[-1][1] == c.end


@settings(deadline=None)  # examples: the profile in tests/conftest.py (more in the soak)
@given(text=st.text(max_size=3000), name=st.sampled_from(["u.txt", "u.md", "u.html"]),
       budget=st.integers(min_value=8, max_value=254), overlap=st.integers(0, 2))
def test_any_unicode_text_chunks_exactly_within_the_window(count: TokenCounter, text: str,
                                                           name: str, budget: int,
                                                           overlap: int) -> None:
    try:
        d = doc(text, name)
    except SkipFile:
        return
    chunks = chunk_document(d, count, max_tokens=budget, overlap_sentences=overlap)
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    for c in chunks:
        assert d.text[c.start:c.end] == c.text
        assert count(c.text) <= 254  # the model's window minus its two special tokens
        assert c.sentences == sorted(c.sentences)
        assert c.sentences[0][0] == c.start and c.sentences[-1][1] == c.end
        assert all(c.start <= s < e <= c.end <= len(d.text) for s, e in c.sentences)
        assert all(d.text[s:e] == d.text[s:e].strip() for s, e in c.sentences)
        assert 1 <= c.line_start <= c.line_end


def test_near_repeat_search_is_bounded_for_alike_sentences(count: TokenCounter) -> None:
    from index.chunking import NEAR_DUPLICATE_WINDOW, _RepeatFilter

    repeats = _RepeatFilter("Ledger")
    for i in range(5 * NEAR_DUPLICATE_WINDOW):  # same last three words: one bucket
        assert not repeats.seen(f"Entry {i} records a payment made to the harbour master.")
    assert max(len(bag) for bag in repeats._by_edge.values()) == NEAR_DUPLICATE_WINDOW
    assert repeats.seen("Entry 1 records a payment made to the harbour master.")  # exact
    assert repeats.seen(f"Entry {5 * NEAR_DUPLICATE_WINDOW - 1} records a payment made to "
                        "the harbour master today.")  # near, and recent


OPTIONS = ("# Options\n\n"
           "- `timeout` - How long to wait for the server before giving up on the request, "
           "in seconds; the default is five seconds, and None waits forever.\n"
           "- `verify` - Whether to check the server's TLS certificate against the trusted "
           "authorities; turn it off only for testing on your own machine.\n"
           "- `proxy` - A proxy server that every request of this client is sent through, "
           "given as a URL with its scheme, user name and password.\n")


def test_a_long_list_item_starts_a_chunk_of_its_own(count: TokenCounter) -> None:
    d = doc(OPTIONS, "options.md")
    chunks = chunk_document(d, count, overlap_sentences=0)
    assert [c.text.split(" - ")[0] for c in chunks] == ["timeout", "verify", "proxy"]


def test_short_list_items_still_share_a_chunk(count: TokenCounter) -> None:
    d = doc("# Guarantees\n\nThe service gives three:\n\n- Consistency\n- Availability\n"
            "- Partition tolerance\n", "short.md")
    assert len(chunk_document(d, count)) == 1


@pytest.mark.parametrize("name, template", [
    ("long.md", "# {heading}\n\n{body}\n"),
    ("long.html", "<h2>{heading}</h2><p>{body}</p>"),
])
def test_an_overlong_heading_is_read_as_text_not_copied_into_every_chunk(
        count: TokenCounter, name: str, template: str) -> None:
    from index.chunking import MAX_HEADING_CHARS

    heading = " ".join(f"heading{i}" for i in range(2000))  # a whole page as one heading
    body = " ".join(f"Sentence {i} of the body says something about item {i}." for i in range(80))
    d = doc(template.format(heading=heading, body=body), name)
    chunks = chunk_document(d, count)
    assert len(chunks) > 3
    assert all(len(title) <= MAX_HEADING_CHARS for c in chunks for title in c.heading_path)
    indexed = " ".join(c.text for c in chunks)
    assert "heading0 " in indexed and "heading1999" in indexed  # its text is not lost
    assert all(d.text[c.start:c.end] == c.text for c in chunks)


def test_a_long_code_block_is_cut_at_line_ends_never_mid_statement(count: TokenCounter) -> None:
    code = "\n".join(f"    Route('/items/{n}', endpoint=item_{n}, methods=['GET', 'POST']),"
                     for n in range(40))
    d = doc(f"# Routing\n\nRoutes are listed in order.\n\n```python\nroutes = [\n{code}\n]\n"
            "app = Starlette(routes=routes)\n```\n", "routing.md")
    chunks = chunk_document(d, count, max_tokens=60)
    assert len(chunks) > 3
    for c in chunks:
        assert d.text[c.end:c.end + 1] in ("", "\n"), repr(c.text[-40:])  # ends a line
        assert d.text[c.start - 1:c.start] in ("", "\n", " "), repr(c.text[:40])
    assert any(c.text.endswith("app = Starlette(routes=routes)") for c in chunks)


@pytest.mark.parametrize("appendix", ["Appendix A", "A Proof of Theorem 1",
                                      "B.2 Supplementary Experiments"])
def test_a_pdfs_list_of_references_is_left_out_and_an_appendix_after_it_kept(
        count: TokenCounter, tmp_path, appendix: str) -> None:
    from support.files import write_pdf

    words = ["harbour", "pier", "boat", "tide", "rope", "anchor", "gull", "storm", "fog",
             "bell", "mast", "sail", "wave", "rock", "dune", "reef", "shell", "net", "crab",
             "buoy"]
    body = [f"Section {n} explains the {a} and the {b} near the {c}."
            for n, (a, b, c) in enumerate(zip(words, words[7:] + words[:7],
                                              words[13:] + words[:13], strict=True))]
    pdf = write_pdf(tmp_path / "paper.pdf", [
        body[:10], body[10:],
        ["References", "[1] A. Keeper. Lamps of the coast. In Proc. of France, 1990.",
         "[2] B. Keeper. Dusk and dawn in Brittany. 1991.",
         appendix, "The lamp holds four litres of oil, the appendix says."]])
    d = load_document("paper.pdf", pdf.read_bytes())
    text = " ".join(c.text for c in chunk_document(d, count, max_tokens=60))
    assert "Lamps of the coast" not in text and "Brittany" not in text
    assert "four litres of oil" in text and "Section 19 explains" in text
    reasons = {d.text[s:e]: why for s, e, why in left_out_sentences(d)}
    assert any(why == "references" and "Lamps of the coast" in s for s, why in reasons.items())


def test_a_references_line_early_in_a_pdf_is_text(count: TokenCounter, tmp_path) -> None:
    from support.files import write_pdf

    pdf = write_pdf(tmp_path / "notes.pdf", [
        ["References", "The keeper's log lists every ship that passed the lamp."],
        [f"Entry {n}: a ship passed the lighthouse at dusk." for n in range(20)]])
    d = load_document("notes.pdf", pdf.read_bytes())
    text = " ".join(c.text for c in chunk_document(d, count, max_tokens=60))
    assert "every ship that passed" in text


def test_a_references_section_of_prose_late_in_a_pdf_is_text(count: TokenCounter,
                                                             tmp_path) -> None:
    from support.files import write_pdf

    pdf = write_pdf(tmp_path / "guide.pdf", [
        [f"Part {n}: pointers hold addresses of objects on the heap." for n in range(12)],
        ["3. References", "A reference is an alias: it must be bound when it is made.",
         "4. Pointers", "The walrus limit for pointers is eight levels of indirection."]])
    d = load_document("guide.pdf", pdf.read_bytes())
    text = " ".join(c.text for c in chunk_document(d, count, max_tokens=60))
    assert "must be bound when it is made" in text and "walrus limit" in text


@pytest.mark.parametrize("entries", [
    ["", "[1] L. Lamport. Time, clocks. CACM, 1978.", "[2] B. Lampson. Hints. 1983."],
    ["Lamport L (1978) Time, clocks and the ordering of events.",
     "Abadi M, Barham P (2016) A system for learning."],
    ["van Renesse, R. and Schneider, F. Chain replication. OSDI, 2004.",
     "\u00d6lveczky, P. A study of something. 2001."],
], ids=["blank line first", "author-year", "particles and accents"])
def test_a_references_list_is_found_in_other_layouts(tmp_path, entries: list[str]) -> None:
    from support.files import write_pdf

    from index.chunking import references_span

    body = [f"Line {n} of the body says the lamp at station {n} was lit." for n in range(30)]
    pdf = write_pdf(tmp_path / "p.pdf", [body, ["References", *entries]])
    d = load_document("p.pdf", pdf.read_bytes())
    span = references_span(d)
    assert span is not None and d.text[span[0]:].startswith("References")
    assert entries[-1].split()[0] in d.text[span[0]:span[1]]


def test_a_wrapped_entry_that_looks_like_a_heading_does_not_end_the_list(tmp_path) -> None:
    from support.files import write_pdf

    from index.chunking import references_span

    body = [f"Line {n} of the body says the lamp at station {n} was lit." for n in range(30)]
    pdf = write_pdf(tmp_path / "p.pdf", [body, [
        "References", "[1] B. Lampson and H. Sturgis.", "A Crash Recovery Protocol for Storage",
        "Xerox report, 1979.", "[2] L. Lamport. Paxos made simple. 2001."]])
    d = load_document("p.pdf", pdf.read_bytes())
    start, end = references_span(d)
    assert "Paxos made simple" in d.text[start:end]
