"""docx: one block per paragraph (its line breaks follow the plain-text rules); "Title" and
"Heading N" styles are headings; table cells are paragraphs too.

A docx is a zip: before python-docx sees it, its directory is checked (members, total and
per-member uncompressed size, compression ratio) and its paragraphs counted while streaming,
so a decompression bomb is refused in milliseconds instead of taking hours and gigabytes.
"""

from __future__ import annotations

import io
import re
import zipfile

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

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
from quotebot.documents import Block

_DOCX_HEADING = re.compile(r"heading\s*(\d)$", re.I)
# Bounds on what a docx may unpack to. Real documents stay far below them: a 1,000-page
# report is ~20k paragraphs and ~10 MB of XML, compressed 5-20 times.
MAX_MEMBERS = 10_000
MAX_UNCOMPRESSED = 200 * 2**20  # all members together
MAX_RATIO = 200  # uncompressed/compressed of a member larger than RATIO_FROM
RATIO_FROM = 2**20
MAX_PARAGRAPHS = 100_000
_PARAGRAPH_TAG = re.compile(rb"<w:p[\s/>]")
_BODY = "word/document.xml"


def check_archive(data: bytes) -> None:
    """SkipFile unless the docx's zip is within bounds (see MAX_*); reads no member but
    the body, and that one streamed, to count its paragraphs."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise SkipFile(f"corrupt docx: {short(exc)}") from exc
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise SkipFile(f"docx has {len(members):,} parts (limit {MAX_MEMBERS:,}): "
                           "not a document")
        total = sum(m.file_size for m in members)
        if total > MAX_UNCOMPRESSED:
            raise SkipFile(f"docx unpacks to {total:,} bytes (limit {MAX_UNCOMPRESSED:,}): "
                           "a decompression bomb?")
        for m in members:
            if m.file_size > RATIO_FROM and m.file_size > MAX_RATIO * max(1, m.compress_size):
                raise SkipFile(f"docx part {m.filename[:60]} is compressed "
                               f"{m.file_size // max(1, m.compress_size):,} times "
                               f"(limit {MAX_RATIO}): a decompression bomb?")
        if _BODY in archive.namelist():
            count = _count_paragraphs(archive)
            if count > MAX_PARAGRAPHS:
                raise SkipFile(f"docx has over {MAX_PARAGRAPHS:,} paragraphs: "
                               "too many to index")


def _count_paragraphs(archive: zipfile.ZipFile) -> int:
    """`<w:p>` elements in the body, counted in 1 MB pieces (stops past MAX_PARAGRAPHS)."""
    count, tail = 0, b""
    try:
        with archive.open(_BODY) as body:
            while piece := body.read(2**20):
                window = tail + piece
                count += len(_PARAGRAPH_TAG.findall(window))
                tail = window[-5:]  # a tag cut by the piece boundary is counted once:
                count -= len(_PARAGRAPH_TAG.findall(tail))  # it is counted with the next
                if count > MAX_PARAGRAPHS:
                    break
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError) as exc:
        raise SkipFile(f"corrupt docx: {short(exc)}") from exc
    return count


def _docx_paragraphs(data: bytes) -> tuple[list[tuple[str, int]], str]:
    """(text, heading level or 0) of every paragraph, table cells included, and the core title."""
    check_archive(data)
    try:
        document = docx.Document(io.BytesIO(data))
        levels: dict[str | None, int] = {}  # python-docx resolves a style in O(styles)
        paragraphs = []
        for item in document.iter_inner_content():
            cells = _unique_cells(item) if isinstance(item, Table) else [[item]]
            for cell in cells:
                for p in cell:
                    style_id = p._p.style  # the pStyle id, None for the default style
                    if style_id not in levels:
                        levels[style_id] = _docx_heading_level(p)
                    paragraphs.append((p.text, levels[style_id]))
        return paragraphs, document.core_properties.title or ""
    except SkipFile:
        raise
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


