"""Manuals as documentation generators write them: headings kept, navigation left out.

The pages are generated in the shapes of texinfo, DocBook, Sphinx and Node's API docs
(tests/support/html_pages.py); the article extractor reads them as it reads the real ones.
"""

from __future__ import annotations

import pytest
from support.documents import block_texts, load_bytes, source_line_of
from support.html_pages import docbook_page, manual, node_api_page, prose, sphinx_page, texinfo_page

from index.loaders import html

SECTIONS = manual(6, code_in=2)
ESM = ["import dns from 'node:dns';", "dns.lookup('example.org');"]
CJS = ["const dns = require('node:dns');", "dns.lookup('example.org');"]
NODE_PAGE = node_api_page("DNS", SECTIONS[:3], ESM, CJS)


def _headings(page: str) -> list[str]:
    doc = load_bytes("manual.html", page)
    return [doc.text[b.start:b.end] for b in doc.blocks if b.kind == "heading"]


def test_texinfo_section_headings_are_kept_though_the_contents_repeat_them() -> None:
    doc = load_bytes("manual.html", texinfo_page(SECTIONS))
    offset = doc.text.index(SECTIONS[2].paragraphs[1])
    assert doc.heading_path_at(offset) == ["Tally Manual", "1 Measuring Resources",
                                           "1.2 The Format String"]


def test_texinfo_navigation_lines_and_contents_are_left_out() -> None:
    doc = load_bytes("manual.html", texinfo_page(SECTIONS))
    assert "Next:" not in doc.text and "Previous:" not in doc.text
    assert "[Contents]" not in doc.text and "Table of Contents" not in doc.text
    assert doc.text.count("The Format String") == 1  # the heading, not its contents entry


def test_kept_headings_keep_their_source_lines() -> None:
    page = texinfo_page(SECTIONS)
    doc = load_bytes("manual.html", page)
    for section in SECTIONS:
        line = source_line_of(doc, section.heading)
        assert f">{section.heading}</h" in page.split("\n")[line - 1]


def test_docbook_section_headings_are_kept() -> None:
    assert _headings(docbook_page(SECTIONS)) == (
        ["4. Tally: a resource counter"] + [s.heading for s in SECTIONS])


def test_docbook_navigation_tables_and_contents_are_left_out() -> None:
    doc = load_bytes("manual.html", docbook_page(SECTIONS))
    for furniture in ("3. The core", "Cachegrind", "Home", "Up", "Table of Contents"):
        assert furniture not in doc.text
    assert doc.text.count("The Format String") == 1


def test_a_chapter_heading_above_a_captioned_table_of_contents_is_kept() -> None:
    doc = load_bytes("manual.html", docbook_page(SECTIONS, title="Chapter 4. Tally",
                                                 page_title="Tally User Manual"))
    offset = doc.text.index(SECTIONS[2].paragraphs[0])
    assert doc.heading_path_at(offset) == ["Chapter 4. Tally", "1.2 The Format String"]


def _guide(toc_entry: str) -> str:
    """A guide whose article opens with a table of contents: `toc_entry` formats an entry."""
    toc = "".join(toc_entry.format(n=n + 1, anchor=s.anchor, title=s.title)
                  for n, s in enumerate(SECTIONS[:4]))
    body = "".join(f'<h2 id="{s.anchor}">{n + 1}. {s.title}</h2>' + "".join(
        f"<p>{p}</p>" for p in s.paragraphs) for n, s in enumerate(SECTIONS[:4]))
    return (f"<html><head><title>Tally guide</title></head><body><article><h1>Tally guide</h1>"
            f"<p>{prose(50)}</p><ul>{toc}</ul>{body}</article></body></html>")


@pytest.mark.parametrize("entry", [
    '<li><a href="#{anchor}">{title}</a></li>',
    '<li>{n}. <a href="#{anchor}">{title}</a></li>'], ids=["link", "number-outside-link"])
def test_an_in_page_table_of_contents_is_left_out(entry: str) -> None:
    doc = load_bytes("guide.html", _guide(entry))
    for section in SECTIONS[:4]:
        assert doc.text.count(section.title) == 1, section.title


def test_an_element_with_the_navigation_role_is_chrome_to_its_end(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(html, "_article_runs", lambda source: None)  # the fallback: all blocks
    page = ('<div class="related" role="navigation"><div class="inner"><a href="/">Home</a></div>'
            "<p>Browse the previous chapter</p></div><p>Buy milk.</p>")
    assert load_bytes("page.html", page).text == "Buy milk."


def test_a_code_listing_is_kept_whole_braces_and_all() -> None:
    doc = load_bytes("manual.html", texinfo_page(SECTIONS))
    assert "int main(void)\n{\ntally_start();\nreturn 0;\n}" in doc.text
    assert "{" in block_texts(doc) and "}" in block_texts(doc)


@pytest.mark.parametrize("page", [
    sphinx_page([("Abstract", SECTIONS[:1]), ("Contents", SECTIONS[1:3])]), NODE_PAGE],
    ids=["sphinx", "node"])
def test_permalink_anchors_are_not_part_of_headings(page: str) -> None:
    for heading in _headings(page):
        assert heading[-1].isalnum() or heading.endswith(")"), heading


def test_a_page_of_several_h1_parts_is_named_by_its_title_tag() -> None:
    doc = load_bytes("policy.html", sphinx_page(
        [("Abstract", SECTIONS[:1]), ("Contents", SECTIONS[1:3])], title="Tally Policy 1.0"))
    assert doc.title == "Tally Policy 1.0"


def test_the_one_h1_of_a_page_is_still_its_title() -> None:
    page = ("<html><head><title>Barrier opens | Daily Example</title></head><body><article>"
            f"<h1>Flood barrier opens</h1><p>{SECTIONS[0].paragraphs[0]}</p></article></body>"
            "</html>")
    assert load_bytes("page.html", page).title == "Flood barrier opens"


def test_a_button_label_is_not_text() -> None:
    doc = load_bytes("dns.html", NODE_PAGE)
    assert "copy" not in doc.text
    assert doc.text.count("dns.lookup('example.org');") == 2


def test_two_code_listings_in_one_pre_are_two_blocks() -> None:
    texts = block_texts(load_bytes("dns.html", NODE_PAGE))
    start = texts.index(ESM[0])
    assert texts[start:start + 4] == [*ESM, *CJS]


def test_a_permalink_in_prose_goes_but_a_fragment_link_with_words_stays() -> None:
    page = ("<article><h1>Counters</h1>"
            f'<p>{SECTIONS[0].paragraphs[0]} <a href="#counters">¶</a></p>'
            f'<p>{SECTIONS[1].paragraphs[0]} See <a href="#limits">the limits</a>.</p></article>')
    doc = load_bytes("page.html", page)
    assert "¶" not in doc.text
    assert "See the limits." in doc.text


def test_a_teaser_heading_that_is_a_link_stays_out() -> None:
    page = ("<html><head><title>Tally</title></head><body><article><h1>Tally released</h1>"
            f"<p>{SECTIONS[0].paragraphs[0]}</p><div class=\"related\"><a href=\"/story/2\">"
            "<h3>Another story about counters</h3></a></div>"
            + "".join(f"<p>{p}</p>" for p in SECTIONS[1].paragraphs + SECTIONS[2].paragraphs)
            + "</article></body></html>")
    doc = load_bytes("page.html", page)
    assert SECTIONS[1].paragraphs[0] in doc.text
    assert "Another story" not in doc.text


def test_a_heading_that_heads_no_kept_text_stays_out() -> None:
    related = "".join(f'<li><a href="/story/{n}">Headline number {n} of another story</a></li>'
                      for n in range(6))
    page = ("<html><head><title>Tally</title></head><body><article><h1>Tally released</h1>"
            + "".join(f"<p>{p}</p>" for p in SECTIONS[0].paragraphs + SECTIONS[1].paragraphs)
            + f"<h2>Related stories</h2><ul>{related}</ul></article>"
            "<footer><p>Contact the newsroom</p></footer></body></html>")
    doc = load_bytes("page.html", page)
    assert SECTIONS[1].paragraphs[2] in doc.text
    assert "Related stories" not in doc.text
