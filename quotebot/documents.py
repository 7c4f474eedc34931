"""The things that flow through indexing: a loaded document, its blocks, its chunks.

Every offset is a character offset into `Document.text`, the document's normalised
text. Quotes and citations are checked against it: `doc.text[c.start:c.end] == c.text`.
"""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass, field
from functools import cached_property

# Bullet glyphs that mark a list item, besides "-", "*", "+" and numbers ("1.", "1)"). An
# "item" block starts after its marker, which stays in the text just before it ("• ", "2. ":
# the source's, or one the loader writes, as Markdown, HTML and docx loaders do), so quoting
# (retrieval/excerpts.py) sees where items start.
BULLETS = "•◦▪▫‣⁃●○■□►▸➢"
# A footnote's first characters: ∗ † ‡ § ¶, or its number glued to a capitalised word
# ("1Eric Brewer is a professor ..."). The PDF loader ends a block before one; a quote
# never runs on into one (it sits between a page's last sentence and its continuation).
FOOTNOTE_MARK = r"[*\u2217\u2020\u2021\u00a7\u00b6]|\d{1,2}(?=[A-Z][a-z])"


@dataclass(frozen=True)
class Block:
    """A span of text that no sentence crosses: a paragraph, a line, a heading, a cell."""

    start: int
    end: int
    kind: str = "para"  # "para" | "heading" | "line" | "item" (a list item, after its marker)
    level: int = 0  # heading level (1 = top) for kind == "heading"


@dataclass
class Document:
    """A loaded document: normalised text plus the maps back to where it came from."""

    doc_id: str
    path: str  # relative to the corpus folder, with "/" separators
    title: str
    text: str
    format: str  # "txt" | "md" | "html" | "pdf" | "docx"
    blocks: list[Block]
    # (offset in text, original line number) at the start of each line of text, sorted.
    line_anchors: list[tuple[int, int]] = field(default_factory=list)
    # Offset in text where each page begins (PDF only); page numbers count from 1.
    page_starts: list[int] | None = None
    content_hash: str = ""
    size: int = 0
    mtime: float = 0.0
    notes: list[str] = field(default_factory=list)  # what the loader could not read, and why

    def line_at(self, offset: int) -> int:
        """The original line number of the character at `offset` (1-based)."""
        if not self.line_anchors:  # the newlines before `offset`, found by bisection
            return bisect.bisect_left(self._newlines, offset) + 1
        i = bisect.bisect_right(self.line_anchors, (offset, float("inf"))) - 1
        if i < 0:
            return self.line_anchors[0][1]
        anchor_offset, line = self.line_anchors[i]
        return line + self.text.count("\n", anchor_offset, offset)

    @cached_property
    def _newlines(self) -> list[int]:
        """Offsets of every newline of the text (counting them from the start for each
        chunk made a document of many chunks O(n^2))."""
        found, at = [], self.text.find("\n")
        while at >= 0:
            found.append(at)
            at = self.text.find("\n", at + 1)
        return found

    def page_at(self, offset: int) -> int | None:
        """The page (1-based) holding `offset`, or None for formats without pages."""
        if self.page_starts is None:
            return None
        return max(1, bisect.bisect_right(self.page_starts, offset))

    def heading_path_at(self, offset: int) -> list[str]:
        """Titles of the headings above `offset`, outermost first."""
        path: list[tuple[int, str]] = []
        for block in self.blocks:
            if block.start > offset:
                break
            if block.kind == "heading":
                while path and path[-1][0] >= block.level:
                    path.pop()
                title = self.text[block.start:block.end].strip().lstrip("#").strip()
                path.append((block.level, title))
        return [title for _, title in path]


@dataclass
class Chunk:
    """A run of whole sentences of one document, sized to the embedding model's window."""

    doc_id: str
    ordinal: int  # position among the document's chunks
    start: int
    end: int
    text: str
    sentences: list[tuple[int, int]]  # (start, end) of each sentence, document offsets
    line_start: int
    line_end: int
    page_start: int | None = None
    page_end: int | None = None
    heading_path: list[str] = field(default_factory=list)

    @property
    def text_hash(self) -> str:
        """Key of the embedding cache: the text and where its sentences break."""
        spans = ",".join(f"{s - self.start}:{e - self.start}" for s, e in self.sentences)
        return hashlib.sha256(f"{self.text}\x00{spans}".encode()).hexdigest()

    @property
    def chunk_id(self) -> int:
        """Stable 63-bit id: the same document, place and text give the same id in every build."""
        key = f"{self.doc_id}\x00{self.start}\x00{self.text}".encode()
        return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") >> 1


def doc_id_for(path: str) -> str:
    """A document's id: stable across edits of its content, derived from its path."""
    return hashlib.sha1(path.encode("utf-8")).hexdigest()[:16]
