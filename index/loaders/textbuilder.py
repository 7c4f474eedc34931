"""Write a document's text block by block from (source line, text) pieces, keeping line anchors.

The Markdown and HTML loaders rebuild the text a reader sees from a parser's output, so the
text is no longer the file's lines one for one. Each block is written from pieces tagged with
the source line they came from; an anchor `(offset, line)` is recorded wherever the source
line changes, so `Document.line_at` still gives the original line of any character.

Between blocks the writer puts the strongest separator owed since the last block: a blank
line between paragraphs, a newline between list items and table rows, " | " between cells.
A list item's marker ("• ", "2. ") is written before its block, outside it, so a quote of the
item is the item alone while a quote running from the sentence before a list into its items
shows the bullets as a reader sees them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from quotebot.documents import Block

PARAGRAPH, LINE, CELL = "\n\n", "\n", " | "
_STRENGTH = {"": 0, CELL: 1, LINE: 2, PARAGRAPH: 3}
_SPACES = re.compile(r"\s+")

Piece = tuple[int, str]  # (1-based source line, raw text)


@dataclass
class TextBuilder:
    """The document text, its blocks and line anchors, written block by block."""

    parts: list[str] = field(default_factory=list)
    length: int = 0
    blocks: list[Block] = field(default_factory=list)
    anchors: list[tuple[int, int]] = field(default_factory=list)
    _owed: str = ""

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def owe(self, separator: str) -> None:
        """Ask for `separator` before the next block (the strongest asked for wins)."""
        if _STRENGTH[separator] > _STRENGTH[self._owed]:
            self._owed = separator

    def block(self, pieces: Iterable[Piece], kind: str = "para", level: int = 0, *,
              prefix: str = "", verbatim: bool = False) -> Block | None:
        """Write one block from its pieces (whitespace collapsed unless `verbatim`).

        Returns the block, or None when the pieces hold no visible text (nothing is written).
        """
        text, anchors = _verbatim(pieces) if verbatim else _collapse(pieces)
        if not text:
            return None
        if self.blocks:
            self._write(self._owed or PARAGRAPH)
        self._owed = ""
        if prefix:
            self.anchors.append((self.length, anchors[0][1]))
            self._write(prefix)
        start = self.length
        self.anchors += [(start + offset, line) for offset, line in anchors]
        self._write(text)
        block = Block(start, self.length, kind, level)
        self.blocks.append(block)
        return block

    def _write(self, piece: str) -> None:
        self.parts.append(piece)
        self.length += len(piece)


def _collapse(pieces: Iterable[Piece]) -> tuple[str, list[tuple[int, int]]]:
    """Join pieces with whitespace runs collapsed to one space and the ends trimmed.

    Returns the text and an anchor (offset, line) wherever text from a new source line starts.
    """
    out: list[str] = []
    anchors: list[tuple[int, int]] = []
    length, after_space = 0, True
    for line, raw in pieces:
        chunk = _SPACES.sub(" ", raw)
        if after_space and chunk.startswith(" "):
            chunk = chunk[1:]
        lead = 1 if chunk.startswith(" ") else 0
        if len(chunk) > lead and (not anchors or anchors[-1][1] != line):
            anchors.append((length + lead, line))
        if chunk:
            out.append(chunk)
            length += len(chunk)
            after_space = chunk.endswith(" ")
    return "".join(out).rstrip(" "), anchors


def _verbatim(pieces: Iterable[Piece]) -> tuple[str, list[tuple[int, int]]]:
    """Join pieces as they are (code), trimming blank lines and trailing whitespace at the ends."""
    out: list[str] = []
    anchors: list[tuple[int, int]] = []
    length = 0
    for line, raw in pieces:
        if not out and not raw.strip():
            continue  # leading blank lines
        if not anchors or anchors[-1][1] != line:
            anchors.append((length, line))
        out.append(raw)
        length += len(raw)
    text = "".join(out).rstrip()
    lead = len(text) - len(text.lstrip())  # a block starts at its first visible character
    return text[lead:], [(max(0, offset - lead), line) for offset, line in anchors
                         if lead <= offset < len(text) or offset == 0]
