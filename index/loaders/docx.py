"""docx: one block per paragraph (its line breaks follow the plain-text rules); "Title" and
"Heading N" styles are headings; table cells, content controls and text boxes (after the
paragraph that anchors them) are paragraphs too. Text is what Word shows: tracked insertions
in, tracked deletions and field codes out. Headers, footers, footnotes and comments are not
read.

A paragraph of a Word list (numbering of its own or of its style, "List Bullet", "List
Number") is a list item, written after the marker Word shows, outside its block: "• " for
bullets, "3. " for decimal lists (counted per list and level, a deeper level restarting
after a shallower item), "• " for other formats (letters, roman numerals); consecutive
items are separated by a line break, as Markdown's are.

A docx is a zip: before python-docx sees it, its directory is checked (members, total and
per-member uncompressed size, compression ratio) and its paragraphs counted while streaming,
so a decompression bomb is refused in milliseconds instead of taking hours and gigabytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
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


def _docx_paragraphs(data: bytes) -> tuple[list[tuple[str, int, str]], str]:
    """(text, heading level or 0, list marker or "") of every paragraph, table cells,
    content controls and text boxes included, and the core title."""
    check_archive(data)
    try:
        document = docx.Document(io.BytesIO(data))
        body = document._body
        levels: dict[str | None, int] = {}  # python-docx resolves a style in O(styles)
        lists = _Lists.of(document)
        paragraphs = []
        for p in _paragraph_elements(document.element.body):
            style_id = p.style  # the pStyle id, None for the default style
            if style_id not in levels:
                levels[style_id] = _docx_heading_level(Paragraph(p, body))
            level = levels[style_id]
            paragraphs.append((_paragraph_text(p), level, "" if level else lists.marker(p)))
        return paragraphs, document.core_properties.title or ""
    except SkipFile:
        raise
    except Exception as exc:
        raise SkipFile(f"corrupt docx: {short(exc)}") from exc


_VAL = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}val"
_MAX_BASED_ON = 20  # a style's ancestors looked at for its numbering (a cycle ends there)


@dataclass
class _Lists:
    """Word's list numbering, as far as writing each list paragraph's marker needs."""

    styles: dict[str, Element] = field(default_factory=dict)  # styleId: w:style
    nums: dict[str, Element] = field(default_factory=dict)  # numId: w:num
    abstracts: dict[str, Element] = field(default_factory=dict)  # abstractNumId: w:abstractNum
    counters: dict[str, list[int]] = field(default_factory=dict)  # numId: count per level

    @classmethod
    def of(cls, document: docx.document.Document) -> _Lists:
        """The document's styles and numbering definitions (none when it has no part)."""
        lists = cls()
        for style in _part(document, RT.STYLES):
            if style.tag == f"{_W}style" and style.get(f"{_W}styleId"):
                lists.styles[style.get(f"{_W}styleId")] = style
        for child in _part(document, RT.NUMBERING):
            if child.tag == f"{_W}num":
                lists.nums[child.get(f"{_W}numId", "")] = child
            elif child.tag == f"{_W}abstractNum":
                lists.abstracts[child.get(f"{_W}abstractNumId", "")] = child
        return lists

    def marker(self, paragraph: Element) -> str:
        """The marker Word shows before `paragraph` ("• ", "2. "), "" when it is no list item."""
        num_id, level = self._numbering(paragraph)
        if not num_id or num_id == "0":
            return ""
        number_format, start = self._format(num_id, level)
        if number_format == "none":
            return ""
        counts = self.counters.setdefault(num_id, [])
        del counts[level + 1:]
        counts.extend([start - 1] * (level + 1 - len(counts)))
        counts[level] += 1
        return f"{counts[level]}. " if number_format.startswith("decimal") else "• "

    def _numbering(self, paragraph: Element) -> tuple[str, int]:
        """(numId, level) of the paragraph's own numbering, else of its style's."""
        num_id, level = _num_pr(paragraph.find(f"{_W}pPr"))
        style = paragraph.style
        for _ in range(_MAX_BASED_ON):
            if num_id or style not in self.styles:
                break
            element = self.styles[style]
            num_id, style_level = _num_pr(element.find(f"{_W}pPr"))
            level = level if level is not None else style_level
            based_on = element.find(f"{_W}basedOn")
            style = based_on.get(_VAL) if based_on is not None else None
        return num_id, min(max(level or 0, 0), 8)

    def _format(self, num_id: str, level: int) -> tuple[str, int]:
        """(numFmt, start) of a list's level: "bullet" when the definitions do not say."""
        num = self.nums.get(num_id)
        if num is None:
            return "bullet", 1
        definition = None
        for override in num.iterfind(f"{_W}lvlOverride"):
            if override.get(f"{_W}ilvl") == str(level):
                definition = override.find(f"{_W}lvl")
        abstract_id = num.find(f"{_W}abstractNumId")
        abstract = self.abstracts.get(abstract_id.get(_VAL, "") if abstract_id is not None
                                      else "")
        if definition is None and abstract is not None:
            definition = next((lvl for lvl in abstract.iterfind(f"{_W}lvl")
                               if lvl.get(f"{_W}ilvl") == str(level)), None)
        if definition is None:
            return "bullet", 1
        number_format = definition.find(f"{_W}numFmt")
        start = definition.find(f"{_W}start")
        return ((number_format.get(_VAL, "bullet") if number_format is not None else "bullet"),
                _int(start.get(_VAL) if start is not None else None, 1))


def _num_pr(properties: Element | None) -> tuple[str, int | None]:
    """(numId, level) of a `w:pPr`'s `w:numPr`; ("", None) when it has none."""
    num_pr = properties.find(f"{_W}numPr") if properties is not None else None
    if num_pr is None:
        return "", None
    num_id, level = num_pr.find(f"{_W}numId"), num_pr.find(f"{_W}ilvl")
    return (num_id.get(_VAL, "") if num_id is not None else "",
            _int(level.get(_VAL) if level is not None else None, None))


def _int(value: str | None, default: int | None) -> int | None:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _part(document: docx.document.Document, relationship: str) -> list[Element]:
    """The children of the document's styles or numbering part; none when it has none
    (python-docx would make one)."""
    try:
        return list(document.part.part_related_by(relationship).element)
    except KeyError:
        return []


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
    """docx: non-empty paragraphs joined by a blank line (list items by a line break, each
    after its marker); the paragraph number is the "line"."""
    paragraphs, title = _docx_paragraphs(data)
    kept = [(number, body, level, marker)
            for number, (raw, level, marker) in enumerate(paragraphs, 1)
            if (body := normalise(raw)).strip()]
    pieces: list[str] = []
    spans = []  # (paragraph number, level, marker start, body start, body end)
    start, after_item = 0, False
    for number, body, level, marker in kept:
        if pieces:
            pieces.append("\n" if after_item and marker else "\n\n")
            start += len(pieces[-1])
        pieces += [marker, body]
        spans.append((number, level, start, start + len(marker), start + len(marker) + len(body)))
        start = spans[-1][-1]
        after_item = bool(marker)
    text = "".join(pieces)
    anchors, blocks = [], []
    for number, level, first, body, end in spans:
        anchors += [(line_start, number) for line_start, _ in line_spans(text, first, end)]
        found = _docx_blocks(text, line_spans(text, body, end), level)
        blocks += [replace(found[0], kind="item"), *found[1:]] if body > first and found \
            else found
    headings = [b for b in blocks if b.kind == "heading"]
    if not title.strip() and headings:
        title = text[headings[0].start:headings[0].end]
    return Loaded(text, blocks, title, anchors)


