"""What a question gets back: an Answer with ranked Hits, each quoting stored text with a Citation.

These dataclasses are the stable interface of `quotebot ask --json`, the Python API
and the bot. Keys named in the README keep their names; new keys may be added.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import PurePosixPath
from typing import Any

# Formats whose line breaks are the document's own: the loaders write a Markdown, web or
# Word paragraph on one line, so a line break there ends a paragraph, an item or a line of
# code. A PDF's or a plain-text file's line breaks are where its page wrapped.
OWN_LINES = frozenset((".md", ".markdown", ".html", ".htm", ".xhtml", ".docx"))


@dataclass
class Citation:
    """Where a quote stands: enough for a person to open the document and check it."""

    doc_id: str
    title: str
    path: str  # relative to the corpus folder
    line_start: int
    line_end: int
    page: int | None = None
    heading_path: list[str] = field(default_factory=list)
    # The page of the last line (PDF), when the quote runs onto the next page: line
    # numbers count within each page, so line_end is then a line of page_end, not of page.
    page_end: int | None = None
    # SHA-256 of the file's bytes when it was indexed: tells whether it has changed since
    # (a page picture of another version would show what was never quoted).
    content_hash: str = ""

    def location(self) -> list[str]:
        """Where in the document: ['page 3', 'lines 10-12'] (every renderer words it so);
        a quote running over a page break: ['page 3, line 40 to page 4, line 2']."""
        if self.page is not None and self.page_end is not None and self.page_end != self.page:
            return [f"page {self.page}, line {self.line_start} "
                    f"to page {self.page_end}, line {self.line_end}"]
        where = [] if self.page is None else [f"page {self.page}"]
        if self.line_start == self.line_end:
            where.append(f"line {self.line_start}")
        else:
            where.append(f"lines {self.line_start}-{self.line_end}")
        return where

    def label(self) -> str:
        """A short human citation: 'Title (path), page 3, lines 10-12'."""
        return ", ".join([f"{self.title} ({self.path})" if self.title else self.path,
                          *self.location()])


@dataclass
class Hit:
    """One ranked passage and the sentence(s) quoted from it."""

    rank: int
    score: float
    text: str  # the passage, verbatim from the stored document
    excerpt: str  # 1-3 contiguous sentences, verbatim: document_text[excerpt_start:excerpt_end]
    excerpt_start: int
    excerpt_end: int
    citation: Citation
    passage_start: int = 0
    passage_end: int = 0
    also_in: list[Citation] = field(default_factory=list)  # near-duplicates in other documents
    excerpt_score: float = 0.0  # how well the quote matches the question (cosine + overlap)
    confidence: float = 0.0  # 0-1: how likely this quote answers the question (calibrated)
    signals: dict[str, float] = field(default_factory=dict)  # what `confidence` came from

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def display_excerpt(self) -> str:
        """The quote as a reader should see it: from a PDF or plain text, one run of words
        (its line breaks are layout); from Markdown, a web page or Word, its own lines
        kept, so code reads as code ("client = httpx.Client()" on its own line, indented
        as written), without blank lines or trailing spaces."""
        if PurePosixPath(self.citation.path).suffix.lower() not in OWN_LINES:
            return " ".join(self.excerpt.split())
        lines = (line.rstrip() for line in self.excerpt.strip().split("\n"))
        return "\n".join(line for line in lines if line.strip())


@dataclass
class Answer:
    """The reply to one question. `found` is False when nothing in the corpus answers it
    surely enough; `hits` then still holds the closest passages when there are any."""

    question: str
    found: bool
    hits: list[Hit] = field(default_factory=list)
    reason: str = ""  # why nothing was found, in plain words, when found is False
    # 0-1, the best hit's calibrated confidence (retrieval/confidence.py); below
    # `retrieval.min_confidence` the answer is not found (hits may still be given)
    confidence: float = 0.0
    # A follow-up question written out from its conversation ("What is Chubby intended
    # for?" for "What is it intended for?"); None when the question was read as asked.
    interpreted_as: str | None = None
    # The index generation every hit comes from (0: none was read). Not in to_dict: the
    # JSON of an answer stays the same across rebuilds that change nothing it shows.
    generation: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "found": self.found,
            "reason": self.reason,
            "confidence": self.confidence,
            "interpreted_as": self.interpreted_as,
            "hits": [hit.to_dict() for hit in self.hits],
        }
