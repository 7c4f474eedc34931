"""PDF: pages joined by a blank line, line numbers counted within each page.

Paragraphs split at blank lines and after any line shorter than `PDF_SHORT_LINE` times the
paragraph's longest line (the end of a paragraph or a heading).
"""

from __future__ import annotations

import io
import re

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError

from index.documents import Block
from index.loaders.common import (
    SENTENCE_END,
    Loaded,
    SkipFile,
    line_spans,
    normalise,
    paragraphs,
    short,
)

PDF_SHORT_LINE = 0.6  # a PDF line this much shorter than its paragraph's widest ends a block
_PLACEHOLDER_TITLE = re.compile(r"\s*(untitled\S*|document\s*\d*|anonymous|\W*)\s*$", re.I)


def _pdf_pages(data: bytes) -> tuple[list[str], str]:
    """The extracted text of each page and the metadata title; SkipFile if unreadable."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise SkipFile("PDF is encrypted")
        pages = [normalise(page.extract_text() or "") for page in reader.pages]
        metadata = reader.metadata
        title = (metadata.title if metadata else None) or ""
    except SkipFile:
        raise
    except (DependencyError, FileNotDecryptedError) as exc:  # e.g. AES without `cryptography`
        raise SkipFile(f"PDF is encrypted: {short(exc)}") from exc
    except Exception as exc:
        raise SkipFile(f"PDF could not be parsed: {short(exc)}") from exc
    return pages, str(title)


def _pdf_paragraph_blocks(text: str, paragraph: list[tuple[int, int]]) -> list[Block]:
    """Wrapped PDF lines as blocks, ending a block after each noticeably short line."""
    widest = max(end - start for start, end in paragraph)
    blocks, first = [], paragraph[0][0]
    for index, (start, end) in enumerate(paragraph):
        if end - start < PDF_SHORT_LINE * widest or index == len(paragraph) - 1:
            standalone = first == start and not SENTENCE_END.search(text[start:end])
            blocks.append(Block(first, end, "line" if standalone else "para"))
            if index + 1 < len(paragraph):
                first = paragraph[index + 1][0]
    return blocks


def load_pdf(data: bytes) -> Loaded:
    """PDF: pages joined by a blank line, line numbers counted within each page."""
    pages, title = _pdf_pages(data)
    text = "\n\n".join(pages)
    page_starts, anchors, blocks, start = [], [], [], 0
    for page in pages:
        page_starts.append(start)
        lines = line_spans(text, start, start + len(page))
        anchors += [(line_start, number) for number, (line_start, _) in enumerate(lines, 1)]
        for paragraph in paragraphs(text, lines):
            blocks += _pdf_paragraph_blocks(text, paragraph)
        start += len(page) + 2
    return Loaded(text, blocks, _pdf_title(title), anchors, page_starts)


def _pdf_title(title: str) -> str:
    """The metadata title, or "" for tools' placeholders ("untitled", "Microsoft Word - x")."""
    title = title.strip().removeprefix("Microsoft Word - ")
    return "" if _PLACEHOLDER_TITLE.match(title) else title


