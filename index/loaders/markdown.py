"""Markdown: the text a reader of the rendered page sees, parsed with markdown-it-py.

CommonMark plus GFM tables and strikethrough, YAML front matter, footnotes, definition lists
and MkDocs admonitions (`!!! note "Title"`, mdit-py-plugins). What is indexed and quoted is
the rendered text: no emphasis or code marks, no `>` markers, no link or reference syntax
(link text stays), no HTML comments or tags, no admonition markers (an explicit admonition
title stays), no images (their alt text stays inside a sentence; a paragraph of images only,
such as a row of badges, is dropped; a heading drops its images: "# Name [![build](...)]").

Blocks: headings (kind "heading"), paragraphs, each list item (kind "item", written after a
"• " or "3. " marker that stays outside the block), each table cell (kind "line"; cells of a
row are joined by " | ", rows by a newline), code (verbatim, without fences, one block).
Soft line breaks become spaces; every character keeps a line anchor back to its source line.
Headings are the document's own: a raw HTML block that is one `<h1>`..`<h6>` element is one
(GitHub READMEs centre their title so); a `#` line inside a block quote is not (it is quoted,
or a doctest comment, `>>> # Normal matching.`) and stays a line of text; a setext heading's
first line made of one repeated mark is an overline (reStructuredText `===` over a title),
not part of its text.

Title: the front matter's `title:`, else the document's first heading when it is its title
rather than its first section: near the top (`HEADS_WITHIN`, `HEADS_SHARE`), of the top
level, and the only heading of that level, or one whose next heading is a level below it
(a `#` heading, or one among few of its level): `# Name` over `## Install`; not `Key
Features` over `Online demo`, nor a `# Changelog` after the README's `##` sections, nor
the first of a hundred `## 0.47.3` releases. Otherwise none: the file's name stands in
(index/loaders/__init__.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.admon import admon_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

from index.loaders.common import Loaded, decode_text, normalise
from index.loaders.textbuilder import CELL, LINE, PARAGRAPH, Piece, TextBuilder
from quotebot.documents import Block

MAX_NESTING = 20  # markdown-it's CommonMark default: deeper nesting is read as plain text
# The value is taken whole and stripped after: "(.+?)[ \t]*$" tried every split of a
# long run of spaces, time quadratic in the line's length.
_FRONT_MATTER_TITLE = re.compile(r"^title:(.*)$", re.M)
_HTML_TAG = re.compile(r"<!--.*?(?:-->|$)|<[^>]*>?", re.S)
_BREAK_TAG = re.compile(r"<br\b", re.I)
# A raw HTML block that is one heading element and nothing else.
_HTML_HEADING = re.compile(r"\s*<h([1-6])\b[^>]*>(?:(?!</?h[1-6]\b).)*</h\1\s*>\s*$", re.S | re.I)
# A reStructuredText adornment line: one punctuation mark repeated ("=====", "-----").
_OVERLINE = re.compile(r"([=\-~^*+#`:.'\"_])\1{2,}")
_BLOCK_SCALAR = re.compile(r"[>|][-+0-9]*")  # a YAML block's indicator: the text is below
_SOURCE_LINE = re.compile(r"[^\n]*\n|[^\n]+")  # a line of the file with its newline


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    """The shared markdown-it parser (building one costs more than parsing a small page)."""
    return (MarkdownIt("commonmark", {"maxNesting": MAX_NESTING})
            .enable(["table", "strikethrough"])
            .use(front_matter_plugin).use(footnote_plugin).use(deflist_plugin)
            .use(admon_plugin))


def _inline_pieces(token: Token, images: bool = True) -> Iterator[Piece]:
    """The visible text of an inline token, piece by piece, with 1-based source lines
    (images' alt text too, when `images` and the token is not images alone)."""
    line = (token.map[0] if token.map else 0) + 1
    children = token.children or []
    only_images = all(c.type in ("image", "link_open", "link_close", "softbreak")
                      or (c.type == "text" and not c.content.strip()) for c in children)
    for child in children:
        kind = child.type
        if kind in ("text", "code_inline"):
            yield line, child.content
        elif kind in ("softbreak", "hardbreak"):
            yield line, " "
            line += 1
        elif kind == "image" and images and not only_images:
            yield line, "".join(c.content for c in child.children or [])
        elif kind == "html_inline":
            if _BREAK_TAG.match(child.content):
                yield line, " "
            line += child.content.count("\n")


class _MarkdownText:
    """Walks markdown-it's block tokens, writing each visible block with its source lines."""

    def __init__(self, tokens: Sequence[Token]) -> None:
        self.tokens = tokens
        self.out = TextBuilder()
        self.title = ""
        self.markers: list[str] = []  # the marker owed by each open list item ("" once used)
        self.quotes = 0  # block quotes open around the current token

    def run(self) -> TextBuilder:
        """Write every block of the document."""
        for index, token in enumerate(self.tokens):
            self._token(index, token)
        return self.out

    def _token(self, index: int, token: Token) -> None:
        kind, out = token.type, self.out
        if kind == "front_matter":
            self.title = _front_matter_title(token.content)
        elif kind == "inline":
            self._inline(index, token)
        elif kind in ("fence", "code_block"):
            self._code(token)
        elif kind == "html_block":
            self._html(token)
        elif kind == "blockquote_open":
            self.quotes += 1
            out.owe(PARAGRAPH)
        elif kind == "blockquote_close":
            self.quotes -= 1
        elif kind in ("bullet_list_open", "ordered_list_open"):
            out.owe(PARAGRAPH if not self.markers else LINE)
        elif kind == "list_item_open":
            out.owe(LINE)
            self.markers.append(f"{token.info}{token.markup} " if token.info else "• ")
        elif kind == "list_item_close":
            self.markers.pop()
        elif kind == "tr_open":
            out.owe(LINE)
        elif kind in ("th_open", "td_open"):
            out.owe(CELL)
        elif kind in ("thead_open", "tbody_open"):
            pass
        elif kind.endswith("_open") or kind == "hr":
            out.owe(LINE if self.markers and kind == "paragraph_open" else PARAGRAPH)

    def _inline(self, index: int, token: Token) -> None:
        """A heading, a paragraph, a list item's paragraph, a cell, a term or a title."""
        opener = self.tokens[index - 1]
        if opener.type == "heading_open":
            pieces = _without_overline(list(_inline_pieces(token, images=False)))
            if self.quotes:
                self.out.block(pieces, "line")
            else:
                self.out.block(pieces, "heading", int(opener.tag[1:]))
            return
        pieces = list(_inline_pieces(token))
        if opener.type in ("th_open", "td_open", "dt_open"):
            self.out.block(pieces, "line")
        elif opener.type == "admonition_title_open":
            admonition = self.tokens[index - 2]  # admonition_open, then its title
            if admonition.type == "admonition_open" and '"' in admonition.info:
                self.out.block(pieces, "line")  # an explicit title, not just "Note"
        elif self.markers and self.markers[-1]:
            if self.out.block(pieces, "item", prefix=self.markers[-1]):
                self.markers[-1] = ""
        else:
            self.out.block(pieces, "para")

    def _code(self, token: Token) -> None:
        """Fenced or indented code: its lines verbatim, one block, no fences."""
        first = (token.map[0] if token.map else 0) + 1 + (token.type == "fence")
        # split at "\n" only: splitlines() also breaks at U+2028, U+2029 and U+0085, which
        # are no line of the file, and every line below them took the next one's number
        lines = _SOURCE_LINE.findall(token.content)
        block = self.out.block([(first + i, line) for i, line in enumerate(lines)],
                               "item" if self.markers and self.markers[-1] else "para",
                               prefix=self.markers[-1] if self.markers else "",
                               verbatim=True)
        if block and self.markers:
            self.markers[-1] = ""

    def _html(self, token: Token) -> None:
        """A raw HTML block: its text without tags or comments, when any is left."""
        first = (token.map[0] if token.map else 0) + 1
        visible = _HTML_TAG.sub(_blank_tag, token.content)
        pieces = [(first + i, line + " ") for i, line in enumerate(visible.split("\n"))]
        heading = _HTML_HEADING.match(token.content)
        if heading and not self.quotes:
            self.out.block(pieces, "heading", int(heading.group(1)))
        else:
            self.out.block(pieces)


def _front_matter_title(content: str) -> str:
    """The front matter's `title:`; a YAML block (`title: >`, `|-`, or the value on the
    lines below) is its indented lines joined, not the block's indicator."""
    found = _FRONT_MATTER_TITLE.search(content)
    if found is None:
        return ""
    value = found.group(1).strip()
    if not value or _BLOCK_SCALAR.fullmatch(value):
        below = []
        for line in content[found.end() + 1:].split("\n"):
            if not line[:1].isspace():
                break
            below.append(line.strip())
        value = " ".join(w for w in below if w)
    return value.strip("\"' ")


def _without_overline(pieces: list[Piece]) -> list[Piece]:
    """A heading's pieces without its first line when that is an overline over more lines."""
    first = pieces[0][0] if pieces else 0
    head = "".join(text for line, text in pieces if line == first).strip()
    rest = [(line, text) for line, text in pieces if line != first]
    if _OVERLINE.fullmatch(head) and "".join(text for _, text in rest).strip():
        return rest
    return pieces


def _blank_tag(match: re.Match[str]) -> str:
    """A tag or comment replaced by its newlines (lines keep their numbers), or a space."""
    return "\n" * match.group().count("\n") or " "


def _markdown_title(text: str, blocks: list[Block], front_matter_title: str) -> str:
    """Front matter title, else the first heading when it heads the document: of the top
    level, and the only one of it or followed by a heading a level below (see the module)."""
    if front_matter_title:
        return front_matter_title
    headings = [b for b in blocks if b.kind == "heading"]
    if not headings or headings[0].level > min(b.level for b in headings):
        return ""
    first = headings[0]
    above = len(text[:first.start].strip())
    if above > max(HEADS_WITHIN, HEADS_SHARE * len(text)):  # a section far down the page
        return ""
    tops = [text[b.start:b.end] for b in headings if b.level == first.level]
    peers = len(tops)
    releases = sum(bool(_RELEASE.match(t)) for t in tops)  # "# 30.0.0 (2024-04-01)" ...
    over_sections = (len(headings) > 1 and headings[1].level > first.level
                     and (first.level == 1 or peers <= MAX_TITLE_PEERS)
                     and (peers <= MAX_TITLE_PEERS or releases * 2 <= peers))
    if peers == 1 or over_sections:
        return text[first.start:first.end]
    return ""


# A title heads its document: above it at most a line of text (a tagline, badges' alt
# text), or an introduction shorter than a quarter of the page.
HEADS_WITHIN = 200
HEADS_SHARE = 0.25
# A `# Name` over `## ...` sections is the title however many `#` sections follow it
# (`# Usage`, `# License`); a lower heading over sections only among a few of its level:
# `## 0.47.3` over `### Fixed` among a hundred releases is the first entry, not a title.
MAX_TITLE_PEERS = 3
# A release's heading in a changelog: "1.2.0", "v2.0 (2024-01-01)", "[0.3.1] - 2023-05-02".
# Many of them at the top level make a changelog, whose first entry is no title.
_RELEASE = re.compile(r"\[?v?\d+(?:\.\d+)+")


def load_md(data: bytes) -> Loaded:
    """Markdown: the rendered text, blocks from its structure, anchors to source lines."""
    source = normalise(decode_text(data))
    walker = _MarkdownText(_parser().parse(source))
    out = walker.run()
    text = out.text
    return Loaded(text, out.blocks, _markdown_title(text, out.blocks, walker.title), out.anchors)
