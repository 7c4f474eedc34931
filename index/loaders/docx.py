"""docx: one block per paragraph (its line breaks follow the plain-text rules); "Title" and
"Heading N" styles are headings; table cells, content controls and text boxes (after the
paragraph that anchors them) are paragraphs too. Text is what Word shows: tracked insertions
in, tracked deletions and field codes out. Headers, footers, footnotes and comments are not
read.

A docx is a zip: before python-docx sees it, its directory is checked (members, total and
per-member uncompressed size, compression ratio) and its paragraphs counted while streaming,
so a decompression bomb is refused in milliseconds instead of taking hours and gigabytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator

import docx
from docx.text.paragraph import Paragraph
from lxml.etree import _Element as Element

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
    """(text, heading level or 0) of every paragraph, table cells, content controls and text
    boxes included, and the core title."""
    check_archive(data)
    try:
        document = docx.Document(io.BytesIO(data))
        body = document._body
        levels: dict[str | None, int] = {}  # python-docx resolves a style in O(styles)
        paragraphs = []
        for p in _paragraph_elements(document.element.body):
            style_id = p.style  # the pStyle id, None for the default style
            if style_id not in levels:
                levels[style_id] = _docx_heading_level(Paragraph(p, body))
            paragraphs.append((_paragraph_text(p), levels[style_id]))
        return paragraphs, document.core_properties.title or ""
    except SkipFile:
        raise
    except Exception as exc:
        raise SkipFile(f"corrupt docx: {short(exc)}") from exc


# What Word shows, which python-docx's `Paragraph.text` and `iter_inner_content` miss: they
# read only `w:r`/`w:hyperlink` of a paragraph and `w:p`/`w:tbl` of the body, losing tracked
# insertions, content controls (`w:sdt`), smart tags, simple fields and text boxes.
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_ALTERNATE = "{http://schemas.openxmlformats.org/markup-compatibility/2006}AlternateContent"
_PARAGRAPH, _RUN, _TEXT, _BOX = f"{_W}p", f"{_W}r", f"{_W}t", f"{_W}txbxContent"
_NO_BOXES = {_PARAGRAPH, f"{_W}del", f"{_W}moveFrom"}  # not searched for a paragraph's boxes
# Block containers whose paragraphs are shown (a deleted paragraph's runs are in `w:del`).
_BLOCK_PARENTS = {f"{_W}{tag}" for tag in (
    "tbl", "tr", "tc", "sdt", "sdtContent", "customXml", "ins", "moveTo")}
# Inline containers whose runs are shown; `w:del`, `w:moveFrom` and `w:sdtPr` are not.
_INLINE_PARENTS = {f"{_W}{tag}" for tag in (
    "hyperlink", "ins", "moveTo", "sdt", "sdtContent", "smartTag", "fldSimple", "customXml",
    "dir", "bdo")}
# Run content shown as text; field codes (`w:instrText`) and deleted text are not.
_RUN_CHARACTERS = {f"{_W}tab": "\t", f"{_W}ptab": "\t", f"{_W}br": "\n", f"{_W}cr": "\n",
                   f"{_W}noBreakHyphen": "-"}


def _paragraph_elements(container: Element) -> Iterator[Element]:
    """Every `w:p` shown in `container`, in reading order; a paragraph's text boxes follow it."""
    for child in container:
        if child.tag == _PARAGRAPH:
            yield child
            for box in _text_boxes(child):
                yield from _paragraph_elements(box)
        elif child.tag in _BLOCK_PARENTS:
            yield from _paragraph_elements(child)


def _text_boxes(element: Element) -> Iterator[Element]:
    """The outermost `w:txbxContent` in `element`, once each: of `mc:AlternateContent` (a
    drawing and its VML fallback hold the same box) only the first choice is read."""
    for child in element:
        if child.tag == _BOX:
            yield child
        elif child.tag == _ALTERNATE:
            if len(child):
                yield from _text_boxes(child[0])
        elif child.tag not in _NO_BOXES:
            yield from _text_boxes(child)


def _paragraph_text(paragraph: Element) -> str:
    """The text Word shows of a paragraph (its text boxes aside)."""
    parts: list[str] = []
    for child in paragraph:
        if child.tag == _RUN:
            for item in child:
                if item.tag == _TEXT:
                    parts.append(item.text or "")
                elif item.tag in _RUN_CHARACTERS:
                    parts.append(_RUN_CHARACTERS[item.tag])
        elif child.tag in _INLINE_PARENTS:
            parts.append(_paragraph_text(child))
    return "".join(parts)


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


