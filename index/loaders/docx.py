"""docx: one block per paragraph (its line breaks follow the plain-text rules); "Title" and
"Heading N" styles are headings; table cells are paragraphs too."""

from __future__ import annotations

import io
import re

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from index.documents import Block
from index.loaders.common import (
    TXT_ITEM,
    Loaded,
    SkipFile,
    line_spans,
    normalise,
    paragraph_blocks,
    paragraphs,
    short,
    trim,
)

_DOCX_HEADING = re.compile(r"heading\s*(\d)$", re.I)


def _docx_paragraphs(data: bytes) -> tuple[list[tuple[str, int]], str]:
    """(text, heading level or 0) of every paragraph, table cells included, and the core title."""
    try:
        document = docx.Document(io.BytesIO(data))
        paragraphs = []
        for item in document.iter_inner_content():
            cells = _unique_cells(item) if isinstance(item, Table) else [[item]]
            for cell in cells:
                paragraphs += [(p.text, _docx_heading_level(p)) for p in cell]
        return paragraphs, document.core_properties.title or ""
    except Exception as exc:
        raise SkipFile(f"corrupt docx: {short(exc)}") from exc


def _unique_cells(table: Table) -> list[list[Paragraph]]:
    """The paragraphs of each distinct cell of a table (merged cells repeat in python-docx)."""
    seen: set[int] = set()
    cells = []
    for row in table.rows:
        for cell in row.cells:
            if id(cell._tc) not in seen:
                seen.add(id(cell._tc))
                cells.append(cell.paragraphs)
    return cells


def _docx_heading_level(paragraph: Paragraph) -> int:
    """1-9 for "Heading N" styles, 1 for "Title", else 0."""
    style = paragraph.style
    if style is None:
        return 0
    if style.name == "Title":
        return 1
    found = _DOCX_HEADING.search(style.name or "") or _DOCX_HEADING.search(style.style_id or "")
    return int(found.group(1)) if found else 0


def _docx_blocks(text: str, lines: list[tuple[int, int]], level: int) -> list[Block]:
    """A heading paragraph is one heading block; others follow the plain-text rules."""
    if level:
        span = trim(text, lines[0][0], lines[-1][1])
        return [Block(*span, "heading", level)] if span else []
    return [block for paragraph in paragraphs(text, lines)
            for block in paragraph_blocks(text, paragraph, TXT_ITEM)]


def load_docx(data: bytes) -> Loaded:
    """docx: non-empty paragraphs joined by a blank line; the paragraph number is the "line"."""
    paragraphs, title = _docx_paragraphs(data)
    kept = [(number, body, level) for number, (raw, level) in enumerate(paragraphs, 1)
            if (body := normalise(raw)).strip()]
    text = "\n\n".join(body for _, body, _ in kept)
    anchors, blocks, start = [], [], 0
    for number, body, level in kept:
        lines = line_spans(text, start, start + len(body))
        anchors += [(line_start, number) for line_start, _ in lines]
        blocks += _docx_blocks(text, lines, level)
        start += len(body) + 2
    headings = [b for b in blocks if b.kind == "heading"]
    if not title.strip() and headings:
        title = text[headings[0].start:headings[0].end]
    return Loaded(text, blocks, title, anchors)


