"""Markdown: the source text, blocks from its structure.

ATX and setext headings (block = the heading text, kind "heading"), table rows (one "line"
block each, delimiter rows skipped), thematic breaks and YAML front matter (no block), fenced
code (the code between the fences is one "para" block); a setext underline makes a heading of
the one line above it.
"""

from __future__ import annotations

import re

from index.documents import Block
from index.loaders.common import (
    Loaded,
    decode_text,
    line_spans,
    normalise,
    paragraph_blocks,
    paragraphs,
    trim,
)

_MD_ITEM = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+(?=\S)")
_MD_QUOTE = re.compile(r"(?:[ \t]*>)*")
_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r" {0,3}(=+|-+)[ \t]*$")
_THEMATIC_BREAK = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_FENCE = re.compile(r"[ \t]{0,3}(`{3,}|~{3,})")
_TABLE_ROW = re.compile(r"[ \t]*\|")
_TABLE_RULE = re.compile(r"[ \t|:-]*-[ \t|:-]*$")
_FRONT_MATTER_TITLE = re.compile(r"title:[ \t]*(.+?)[ \t]*$")
_YAML_LINE = re.compile(r"[ \t]|[\w.-]+[ \t]*:|-[ \t]|#|$")  # key:, nested, list, comment


def _front_matter(text: str, lines: list[tuple[int, int]]) -> tuple[int, str]:
    """Index of the first line after YAML front matter (0 if none), and its `title:`.

    Every line up to the closing `---`/`...` must look like YAML, so a document that merely
    starts with a thematic break keeps its first section.
    """
    if not lines or text[slice(*lines[0])].rstrip() != "---":
        return 0, ""
    title = ""
    for index, (start, end) in enumerate(lines[1:], start=1):
        line = text[start:end]
        if line.rstrip() in ("---", "..."):
            return index + 1, title
        if not _YAML_LINE.match(line):
            break
        found = _FRONT_MATTER_TITLE.match(line)
        if found and not title:
            title = found.group(1).strip("\"'")
    return 0, ""


class _MarkdownBlocks:
    """Walks markdown lines, collecting paragraphs and emitting blocks in order."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.blocks: list[Block] = []
        self.paragraph: list[tuple[int, int]] = []
        self.fence = ""  # the opening fence while inside fenced code
        self.code: list[tuple[int, int]] = []  # the code lines of the open fence

    def run(self, lines: list[tuple[int, int]]) -> list[Block]:
        """Blocks of the given lines (front matter already left out)."""
        for start, end in lines:
            if self.fence:
                self._code_line(start, end)
            else:
                self._line(_MD_QUOTE.match(self.text, start, end).end(), end)
        self._end_paragraph()
        self._end_code()
        return self.blocks

    def _line(self, start: int, end: int) -> None:
        """Route one line (blockquote markers dropped) outside fenced code."""
        text = self.text
        fence = _FENCE.match(text, start, end)
        if not text[start:end].strip() or fence:
            self._end_paragraph()
            self.fence = fence.group(1) if fence else ""
        elif heading := _ATX.match(text, start, end):
            self._end_paragraph()
            if heading.group(2):
                self._add(heading.start(2), heading.end(2), "heading", len(heading.group(1)))
        elif _SETEXT.match(text, start, end) and self._setext_candidate():
            level = 1 if text[start:end].strip().startswith("=") else 2
            title = self.paragraph.pop()
            self._end_paragraph()
            self._add(*title, "heading", level)
        elif _SETEXT.match(text, start, end) or _THEMATIC_BREAK.match(text, start, end):
            self._end_paragraph()
        elif _TABLE_ROW.match(text, start, end):
            self._end_paragraph()
            if not _TABLE_RULE.match(text, start, end):
                self._add(start, end, "line")
        else:
            self.paragraph.append((start, end))

    def _setext_candidate(self) -> bool:
        """Whether the paragraph's last line can be underlined into a heading."""
        return bool(self.paragraph) and not _MD_ITEM.match(self.text, *self.paragraph[-1])

    def _code_line(self, start: int, end: int) -> None:
        """A line inside fenced code: code, or the closing fence."""
        line = self.text[start:end].strip()
        if line.startswith(self.fence) and not line.strip(self.fence[0]):
            self._end_code()
        else:
            self.code.append((start, end))

    def _end_code(self) -> None:
        """Emit the collected code lines as one block."""
        if self.code:
            self._add(self.code[0][0], self.code[-1][1], "para")
        self.fence, self.code = "", []

    def _end_paragraph(self) -> None:
        """Emit the collected paragraph by the plain-text rules."""
        for paragraph in paragraphs(self.text, self.paragraph):
            self.blocks.extend(paragraph_blocks(self.text, paragraph, _MD_ITEM))
        self.paragraph = []

    def _add(self, start: int, end: int, kind: str, level: int = 0) -> None:
        """Append a trimmed block unless it is empty."""
        span = trim(self.text, start, end)
        if span:
            self.blocks.append(Block(*span, kind, level))


def _markdown_title(text: str, blocks: list[Block], front_matter_title: str) -> str:
    """Front matter title, else the first level-1 heading, else the first heading."""
    headings = [b for b in blocks if b.kind == "heading"]
    top = [b for b in headings if b.level == 1] or headings
    if front_matter_title or not top:
        return front_matter_title
    return text[top[0].start:top[0].end]


def load_md(data: bytes) -> Loaded:
    """Markdown: the source text, blocks from its structure."""
    text = normalise(decode_text(data))
    lines = line_spans(text)
    body, front_title = _front_matter(text, lines)
    blocks = _MarkdownBlocks(text).run(lines[body:])
    return Loaded(text, blocks, _markdown_title(text, blocks, front_title))

