"""The renderer: escaping, quotes and citations, pages, and splitting long HTML safely."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from support.html_check import well_formed

from bot.render import (
    MESSAGE_LIMIT,
    PLAIN,
    paginate,
    plain_text,
    render_context,
    render_page,
    split_html,
)
from retrieval.answer import Answer, Citation, Hit


def hit(excerpt: str, text: str | None = None, rank: int = 1, title: str = "Doc",
        page: int | None = None) -> Hit:
    text = excerpt if text is None else text
    start = text.find(excerpt)
    return Hit(rank=rank, score=0.9, text=text, excerpt=excerpt, excerpt_start=start,
               excerpt_end=start + len(excerpt),
               citation=Citation("d1", title, "folder/doc.txt", 3, 4, page, ["Top", "Sub"]),
               passage_start=0, passage_end=len(text))


def test_a_code_quote_from_markdown_keeps_its_lines_on_the_page() -> None:
    code = hit("Set it on the client:\nclient = httpx.Client(timeout=10.0)\nclient.get(url)")
    code.citation.path = "docs/timeouts.md"
    page = render_page(Answer("q?", True, [code]))
    assert ("<blockquote>Set it on the client:\nclient = httpx.Client(timeout=10.0)\n"
            "client.get(url)</blockquote>") in page
    assert well_formed(page)


def test_page_quotes_the_excerpt_and_cites_title_and_lines() -> None:
    answer = Answer("q?", True, [hit("The first coffeehouse in London opened in 1652.",
                                     title="A Short History of Coffee")])
    text = render_page(answer)
    assert text.startswith("<blockquote>The first coffeehouse in London opened in 1652."
                           "</blockquote>")
    assert "<b>A Short History of Coffee</b> (folder/doc.txt)" in text
    assert "lines 3-4" in text and "Top › Sub" in text
    assert well_formed(text)


def test_page_cites_pdf_page() -> None:
    text = render_page(Answer("q", True, [hit("Tall tower.", page=2)]))
    assert "page 2" in text


def test_corpus_markup_is_escaped() -> None:
    nasty = "Fish & chips <b>bold</b> </blockquote><a href='x'>link</a> &amp;"
    answer = Answer("q", True, [hit(nasty, title="<i>T&C</i>")])
    for text in (render_page(answer), render_context(answer.hits[0])):
        assert well_formed(text), text
        assert "&lt;b&gt;bold&lt;/b&gt;" in text
        assert "&lt;/blockquote&gt;" in text
        assert "&amp;amp;" in text
        assert "&lt;i&gt;T&amp;C&lt;/i&gt;" in text
    assert nasty in plain_text(render_page(answer))


def test_first_page_has_three_hits_then_more_pages() -> None:
    hits = [hit(f"Sentence number {i}.", rank=i + 1) for i in range(7)]
    answer = Answer("q", True, hits)
    assert paginate(answer) == [[0, 1, 2], [3, 4, 5], [6]]
    assert render_page(answer, 0).count("<blockquote>") == 3
    second = render_page(answer, 1)
    assert "Sentence number 3." in second and "(4–6 of 7)" in second
    assert "(7 of 7)" in render_page(answer, 2)


def test_long_quotes_shortened_so_a_page_fits_one_message() -> None:
    long = "word " * 3000
    answer = Answer("q", True, [hit(long.strip(), rank=i + 1) for i in range(3)])
    for page in range(len(paginate(answer))):
        text = render_page(answer, page)
        assert len(text) < MESSAGE_LIMIT and well_formed(text)
        assert "…" in text


def test_no_answer_says_so_and_suggests_rephrasing() -> None:
    text = render_page(Answer("q", False, reason="Nothing <close> enough."))
    assert "could not find" in text and "rephras" in text
    assert "&lt;close&gt;" in text


def test_low_confidence_shows_closest_quote_marked_not_sure() -> None:
    answer = Answer("q", False, [hit("The closest <one>.", rank=1), hit("Another.", rank=2)],
                    reason="No passage is close enough to the question.")
    text = render_page(answer)
    assert text.startswith("<i>Not sure this answers it — the closest passage is:</i>")
    assert "The closest &lt;one&gt;." in text and "Another." not in text
    assert well_formed(text)


def test_an_uncertain_follow_up_still_says_how_it_was_read() -> None:
    answer = Answer("How many surrendered?", False, [hit("The closest one.")],
                    reason="No passage is close enough to the question.",
                    interpreted_as="How many militants have surrendered?")
    text = render_page(answer)
    reading, not_sure = text.splitlines()[:2]
    assert reading == "<i>(reading this as: How many militants have surrendered?)</i>"
    assert not_sure.startswith("<i>Not sure this answers it")
    assert well_formed(text)


def test_low_confidence_without_show_closest_is_a_plain_no_answer() -> None:
    answer = Answer("q", False, [hit("The closest one.", rank=1)], reason="Too far.")
    text = render_page(answer, closest=False)
    assert "could not find" in text and "The closest one." not in text


def test_context_marks_the_quote_inside_the_passage() -> None:
    passage = "Before it. The quoted sentence. After it."
    text = render_context(hit("The quoted sentence.", passage))
    assert "Before it. <u>The quoted sentence.</u> After it." in text


def test_plain_markup_has_no_tags() -> None:
    answer = Answer("q", True, [hit("A <b> & c.", title="T")])
    text = render_page(answer, m=PLAIN)
    assert "A <b> & c." in text and "<blockquote>" not in text


def test_long_context_split_on_paragraphs_without_breaking_tags() -> None:
    paragraphs = [f"Paragraph {i} " + "has some words & <tags> " * 30 for i in range(40)]
    passage = "\n\n".join(paragraphs)
    text = render_context(hit(paragraphs[5], passage))
    assert len(text) > MESSAGE_LIMIT
    parts = split_html(text)
    assert len(parts) > 1
    for part in parts:
        assert len(part) <= MESSAGE_LIMIT
        assert well_formed(part), part[:200]
    # cuts fall between paragraphs: every paragraph is whole inside one part
    shown = [" ".join(plain_text(part).split()) for part in parts]
    for paragraph in paragraphs:
        assert any(" ".join(paragraph.split()) in text for text in shown), paragraph


def test_split_keeps_short_text_whole() -> None:
    assert split_html("<b>hi</b>") == ["<b>hi</b>"]


fragments = st.lists(st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=300),
    st.sampled_from(["\n\n", "\n", " ", "<&>", "</blockquote>", "😀"]),
    st.text(alphabet="ab ", min_size=500, max_size=3000),
), max_size=12)


@settings(max_examples=60, deadline=None)
@given(fragments, st.integers(min_value=80, max_value=4096))
def test_split_parts_fit_and_are_well_formed(pieces: list[str], limit: int) -> None:
    passage = "".join(pieces)
    if not passage.strip():
        return
    text = render_context(hit(passage[: len(passage) // 2] or passage, passage))
    parts = split_html(text, limit)
    for part in parts:
        assert len(part.encode("utf-16-le")) // 2 <= limit
        assert well_formed(part), part
    assert "".join(plain_text("".join(parts)).split()) == "".join(plain_text(text).split())


def test_citation_stays_a_line_whatever_the_document_holds() -> None:
    from bot.render import citation_line

    citation = Citation("d", "Title <x> " * 4000, "a/" * 3000 + "f.pdf", 1, 2, 7,
                        [f"Heading {i} " + "words " * 900 for i in range(50)])
    line = citation_line(citation)
    assert len(plain_text(line)) < 800 and well_formed(line)
    assert "Heading 49" in line and "Heading 46" not in line  # the innermost headings
    assert "page 7" in line and "lines 1-2" in line


def test_a_page_of_huge_citations_fits_one_message() -> None:
    hits = [hit(f"Quote {i}.", rank=i + 1, title="T" * 40_000) for i in range(9)]
    for h in hits:
        h.citation.heading_path = ["H" * 5000] * 30
    answer = Answer("q", True, hits)
    for page in range(len(paginate(answer))):
        assert len(render_page(answer, page)) <= MESSAGE_LIMIT
