"""Markdown: the text a reader of the rendered page sees, parsed with markdown-it-py.

CommonMark plus GFM tables and strikethrough, YAML front matter, footnotes, definition lists
and MkDocs admonitions (`!!! note "Title"`, mdit-py-plugins). What is indexed and quoted is
the rendered text: no emphasis or code marks, no `>` markers, no link or reference syntax
(link text stays), no HTML comments or tags, no admonition markers (an explicit admonition
title stays), no images (their alt text stays inside a sentence; a paragraph of images only,
such as a row of badges, is dropped).

Blocks: headings (kind "heading"), paragraphs, each list item (kind "item", written after a
"• " or "3. " marker that stays outside the block), each table cell (kind "line"; cells of a
row are joined by " | ", rows by a newline), code (verbatim, without fences, one block).
Soft line breaks become spaces; every character keeps a line anchor back to its source line.
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
_FRONT_MATTER_TITLE = re.compile(r"^title:[ \t]*(.+?)[ \t]*$", re.M)
_HTML_TAG = re.compile(r"<!--.*?(?:-->|$)|<[^>]*>?", re.S)
_BREAK_TAG = re.compile(r"<br\b", re.I)


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    """The shared markdown-it parser (building one costs more than parsing a small page)."""
    return (MarkdownIt("commonmark", {"maxNesting": MAX_NESTING})
            .enable(["table", "strikethrough"])
            .use(front_matter_plugin).use(footnote_plugin).use(deflist_plugin)
            .use(admon_plugin))


def _inline_pieces(token: Token) -> Iterator[Piece]:
    """The visible text of an inline token, piece by piece, with 1-based source lines."""
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
        elif kind == "image" and not only_images:
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

    def run(self) -> TextBuilder:
        """Write every block of the document."""
        for index, token in enumerate(self.tokens):
            self._token(index, token)
        return self.out

    def _token(self, index: int, token: Token) -> None:
        kind, out = token.type, self.out
        if kind == "front_matter":
            found = _FRONT_MATTER_TITLE.search(token.content)
            self.title = found.group(1).strip("\"' ") if found else ""
        elif kind == "inline":
            self._inline(index, token)
        elif kind in ("fence", "code_block"):
            self._code(token)
        elif kind == "html_block":
            self._html(token)
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
        pieces = list(_inline_pieces(token))
        if opener.type == "heading_open":
            self.out.block(pieces, "heading", int(opener.tag[1:]))
        elif opener.type in ("th_open", "td_open", "dt_open"):
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
        lines = token.content.splitlines(keepends=True)
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
        self.out.block([(first + i, line + " ") for i, line in enumerate(visible.split("\n"))])


def _blank_tag(match: re.Match[str]) -> str:
    """A tag or comment replaced by its newlines (lines keep their numbers), or a space."""
    return "\n" * match.group().count("\n") or " "


def _markdown_title(text: str, blocks: list[Block], front_matter_title: str) -> str:
    """Front matter title, else the first level-1 heading, else the first heading."""
    headings = [b for b in blocks if b.kind == "heading"]
    top = [b for b in headings if b.level == 1] or headings
    if front_matter_title or not top:
        return front_matter_title
    return text[top[0].start:top[0].end]


def load_md(data: bytes) -> Loaded:
    """Markdown: the rendered text, blocks from its structure, anchors to source lines."""
    source = normalise(decode_text(data))
    walker = _MarkdownText(_parser().parse(source))
    out = walker.run()
    text = out.text
    return Loaded(text, out.blocks, _markdown_title(text, out.blocks, walker.title), out.anchors)
