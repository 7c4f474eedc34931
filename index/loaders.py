"""Turn corpus files into Documents: decoded, normalised text, blocks and maps back to the source.

Every loader keeps `Document.text` as close to the file as it can so quotes stay verbatim:
txt and md keep the file's lines one for one (only `\\r\\n`/`\\r` become `\\n` and control
characters become spaces), HTML keeps the visible text with whitespace collapsed inside each
block, PDF and docx keep what their parsers extract. Blocks are the spans no sentence may cross.

Block rules, shared by txt, md and the lines of a docx paragraph:
- paragraphs are separated by blank lines; a list item (`- `, `* `, `+ `, `• `, `1. `, `1) `)
  starts a new segment of its paragraph, the block starting after the marker;
- a segment of two or more lines is hard-wrapped prose (ONE block) when every line is at most
  `WRAP_MAX` characters, every line but the last at least `WRAP_MIN`, and at most half of the
  lines but the last end with sentence-final punctuation; otherwise each line is its own block
  (photo credits, headlines, one-sentence-per-line files).
Markdown adds: ATX and setext headings (block = the heading text, kind "heading"), table rows
(one "line" block each, delimiter rows skipped), thematic breaks and YAML front matter
(no block), fenced code (the code between the fences is one "para" block); a setext
underline makes a heading of the one line above it.
HTML: script/style/head/svg/... are dropped, and nav/aside/form always, header/footer outside
<article>/<main> (page chrome); each block element ends a block, `<br>` and newlines inside
`<pre>` end a line. Line anchors mark every place the source line changes, mid-line included.
PDF: paragraphs split at blank lines and after any line shorter than `PDF_SHORT_LINE` times the
paragraph's longest line (the end of a paragraph or a heading). docx: one block per paragraph
(its line breaks follow the plain-text rules), "Title"/"Heading N" styles are headings, table
cells are paragraphs too.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

import docx
from charset_normalizer import from_bytes
from docx.table import Table
from docx.text.paragraph import Paragraph
from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError

from index.documents import Block, Document, doc_id_for


class SkipFile(Exception):
    """A file that cannot be indexed; str(exc) is a one-line reason for the build report."""


SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"})

WRAP_MIN = 40  # a wrapped line (all but a paragraph's last) is at least this long...
WRAP_MAX = 100  # ...and no line of a wrapped paragraph is longer than this
PDF_SHORT_LINE = 0.6  # a PDF line this much shorter than its paragraph's widest ends a block
MAX_TITLE = 200
BINARY_CONTROL_RATIO = 0.1  # share of control characters above which decoded text is binary

_NEWLINES = re.compile(r"\r\n?")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all but \t and \n (\r is gone)
_BINARY_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")  # also spares \r and \f
_WHITESPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"[.!?:;…][\"'”’)\]»]*$")
_TXT_ITEM = re.compile(r"[ \t]*(?:[-*+•]|\d{1,3}[.)])[ \t]+(?=\S)")
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
_META_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)
_PLACEHOLDER_TITLE = re.compile(r"\s*(untitled\S*|document\s*\d*|anonymous|\W*)\s*$", re.I)
_DOCX_HEADING = re.compile(r"heading\s*(\d)$", re.I)


@dataclass
class _Loaded:
    """What a format loader extracts; `load_document` adds the file's identity."""

    text: str
    blocks: list[Block]
    title: str = ""
    line_anchors: list[tuple[int, int]] = field(default_factory=list)
    page_starts: list[int] | None = None


# --- reading -----------------------------------------------------------------------------------

def read_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most `max_bytes`; SkipFile says why not otherwise."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise SkipFile("not a regular file")
        if info.st_size > max_bytes:
            raise SkipFile(_too_large(info.st_size, max_bytes))
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)  # the file may have grown since stat
    except FileNotFoundError as exc:
        raise SkipFile("file not found") from exc
    except PermissionError as exc:
        raise SkipFile("permission denied") from exc
    except OSError as exc:
        raise SkipFile(f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise SkipFile(_too_large(len(data), max_bytes))
    return data


def _too_large(size: int, max_bytes: int) -> str:
    """The skip reason for a file over the size limit."""
    return f"too large: {size:,} bytes (limit {max_bytes:,} bytes)"


# --- dispatch ----------------------------------------------------------------------------------

def load_document(rel_path: str, data: bytes, *, mtime: float = 0.0) -> Document:
    """Parse `data`, the content of the corpus file `rel_path`, into a Document."""
    path = rel_path.replace(os.sep, "/")
    suffix = PurePosixPath(path).suffix.lower()
    if suffix not in _LOADERS:
        raise SkipFile(f"unsupported file type: {suffix or '(no suffix)'}")
    if not data:
        raise SkipFile("empty file")
    fmt, loader, empty_reason = _LOADERS[suffix]
    loaded = loader(data)
    if not loaded.blocks:
        raise SkipFile(empty_reason)
    title = _clean_title(loaded.title) or _clean_title(_first_line(loaded.text, loaded.blocks[0]))
    return Document(
        doc_id=doc_id_for(path), path=path, title=title, text=loaded.text,
        format=fmt, blocks=loaded.blocks, line_anchors=loaded.line_anchors,
        page_starts=loaded.page_starts, content_hash=hashlib.sha256(data).hexdigest(),
        size=len(data), mtime=mtime)


def _first_line(text: str, block: Block) -> str:
    """The first line of a block: the title of last resort."""
    return text[block.start:block.end].split("\n", 1)[0]


def _clean_title(title: str) -> str:
    """A title on one line, without markdown `#`, at most MAX_TITLE characters."""
    return _WHITESPACE.sub(" ", title).strip().lstrip("#").strip()[:MAX_TITLE].rstrip()


# --- decoding ----------------------------------------------------------------------------------

def normalise(text: str) -> str:
    """`\\r\\n`/`\\r` to `\\n`, control characters but `\\t` to spaces: same length lines."""
    return _CONTROLS.sub(" ", _NEWLINES.sub("\n", text))


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Bytes of a text file as str: BOM, UTF-8, the declared charset, a guess, then cp1252."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return _reject_binary(data.decode("utf-16"))
        except UnicodeDecodeError as exc:
            raise SkipFile("invalid UTF-16 text") from exc
    if b"\x00" in data:
        raise SkipFile("binary content (NUL bytes)")
    for encoding in _encodings(data, declared):
        try:
            return _reject_binary(data.decode(encoding))
        except (UnicodeDecodeError, LookupError):
            continue
    return _reject_binary(data.decode("latin-1"))


def _encodings(data: bytes, declared: str | None) -> Iterator[str]:
    """Encodings to try, best first; the slow guess only runs when UTF-8 fails."""
    yield "utf-8-sig"
    if declared:
        yield declared
    guess = _guess_encoding(data)
    if guess:
        yield guess
    yield "cp1252"


def _reject_binary(text: str) -> str:
    """`text` unless it is mostly control characters (a binary file in disguise)."""
    sample = text[:65536]
    if len(_BINARY_CONTROLS.findall(sample)) > BINARY_CONTROL_RATIO * len(sample):
        raise SkipFile("binary content (control characters)")
    return text


def _guess_encoding(data: bytes) -> str | None:
    """charset-normalizer's best guess, preferring cp1252 among equally good Western guesses.

    Short Latin-1 text is ambiguous: charset-normalizer ranks cp1250 (or even UTF-16) first,
    turning "naïve" into "naďve". UTF-16 cannot be right here (the data has no NUL bytes).
    """
    matches = [m for m in from_bytes(data) if not m.encoding.startswith(("utf_16", "utf_32"))]
    if not matches:
        return None
    best = matches[0]
    for match in matches:
        same_score = (match.chaos, match.coherence) == (best.chaos, best.coherence)
        if same_score and "cp1252" in match.could_be_from_charset:
            return "cp1252"
    return best.encoding


def _html_charset(data: bytes) -> str | None:
    """The charset a `<meta>` tag declares; ISO-8859-1/ASCII mean cp1252, as browsers read it."""
    found = _META_CHARSET.search(data[:4096])
    if not found:
        return None
    try:
        name = codecs.lookup(found.group(1).decode("ascii")).name
    except LookupError:
        return None
    if name.startswith(("utf-16", "utf-32")):
        return None  # impossible without NUL bytes: a wrong declaration
    return "cp1252" if name in ("iso8859-1", "ascii") else name


# --- lines and plain-text blocks ---------------------------------------------------------------

def _line_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of each line of text[start:end], newline excluded."""
    spans = []
    for line in text[start:end].split("\n"):
        spans.append((start, start + len(line)))
        start += len(line) + 1
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span without surrounding whitespace, or None when nothing is left."""
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return None
    lead = len(piece) - len(piece.lstrip())
    return start + lead, start + lead + len(stripped)


def _paragraphs(text: str, lines: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Runs of non-blank lines, each line trimmed."""
    paragraphs: list[list[tuple[int, int]]] = [[]]
    for start, end in lines:
        span = _trim(text, start, end)
        if span:
            paragraphs[-1].append(span)
        elif paragraphs[-1]:
            paragraphs.append([])
    return [p for p in paragraphs if p]


def looks_wrapped(lines: list[str]) -> bool:
    """Whether trimmed lines are hard-wrapped prose (one block) rather than separate lines."""
    if len(lines) < 2 or any(len(line) > WRAP_MAX for line in lines):
        return False
    body = lines[:-1]
    if any(len(line) < WRAP_MIN for line in body):
        return False
    return 2 * sum(1 for line in body if _SENTENCE_END.search(line)) <= len(body)


def _segments(text: str, paragraph: list[tuple[int, int]],
              item: re.Pattern[str]) -> list[tuple[bool, list[tuple[int, int]]]]:
    """Split a paragraph where list items start: (is_item, trimmed line spans) for each part."""
    segments: list[tuple[bool, list[tuple[int, int]]]] = []
    for start, end in paragraph:
        marker = item.match(text, start, end)
        if marker:
            segments.append((True, [(marker.end(), end)]))
        elif segments:
            segments[-1][1].append((start, end))
        else:
            segments.append((False, [(start, end)]))
    return segments


def _paragraph_blocks(text: str, paragraph: list[tuple[int, int]],
                      item: re.Pattern[str]) -> list[Block]:
    """The blocks of one paragraph: a block per wrapped segment, else a block per line."""
    blocks = []
    for is_item, spans in _segments(text, paragraph, item):
        first_kind = "item" if is_item else "para"
        if len(spans) == 1 or looks_wrapped([text[s:e] for s, e in spans]):
            blocks.append(Block(spans[0][0], spans[-1][1], first_kind))
        else:
            blocks.append(Block(*spans[0], "item" if is_item else "line"))
            blocks.extend(Block(s, e, "line") for s, e in spans[1:])
    return blocks


def _load_txt(data: bytes) -> _Loaded:
    """Plain text: the file's lines, blocks by the paragraph rules."""
    text = normalise(decode_text(data))
    blocks = [block for paragraph in _paragraphs(text, _line_spans(text))
              for block in _paragraph_blocks(text, paragraph, _TXT_ITEM)]
    return _Loaded(text, blocks)


# --- markdown ----------------------------------------------------------------------------------

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
        for paragraph in _paragraphs(self.text, self.paragraph):
            self.blocks.extend(_paragraph_blocks(self.text, paragraph, _MD_ITEM))
        self.paragraph = []

    def _add(self, start: int, end: int, kind: str, level: int = 0) -> None:
        """Append a trimmed block unless it is empty."""
        span = _trim(self.text, start, end)
        if span:
            self.blocks.append(Block(*span, kind, level))


def _markdown_title(text: str, blocks: list[Block], front_matter_title: str) -> str:
    """Front matter title, else the first level-1 heading, else the first heading."""
    headings = [b for b in blocks if b.kind == "heading"]
    top = [b for b in headings if b.level == 1] or headings
    if front_matter_title or not top:
        return front_matter_title
    return text[top[0].start:top[0].end]


def _load_md(data: bytes) -> _Loaded:
    """Markdown: the source text, blocks from its structure."""
    text = normalise(decode_text(data))
    lines = _line_spans(text)
    body, front_title = _front_matter(text, lines)
    blocks = _MarkdownBlocks(text).run(lines[body:])
    return _Loaded(text, blocks, _markdown_title(text, blocks, front_title))


# --- html --------------------------------------------------------------------------------------

_HTML_DROPPED = frozenset({"script", "style", "noscript", "template", "svg", "math", "head",
                           "iframe", "object", "nav", "aside", "form"})
_HTML_PAGE_CHROME = frozenset({"header", "footer"})  # dropped outside <article>/<main>
_HTML_BLOCKS = frozenset({
    "address", "article", "blockquote", "body", "caption", "center", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4",
    "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li", "main", "menu", "ol", "p",
    "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul"})
_HTML_SKIPPABLE = _HTML_DROPPED | _HTML_PAGE_CHROME
_HTML_HEADINGS = {f"h{n}": n for n in range(1, 7)}


def _html_kind(tag: str) -> tuple[str, int]:
    """Block kind and heading level of a block element."""
    if tag in _HTML_HEADINGS:
        return "heading", _HTML_HEADINGS[tag]
    return ("item" if tag == "li" else "para"), 0


class _HtmlText(HTMLParser):
    """Collects the visible text of an HTML page as blocks, with source line anchors.

    Text of a block is gathered as (source line, raw text) pieces and whitespace-collapsed
    when the block ends; an anchor is recorded wherever the source line changes, so
    `Document.line_at` points into the middle of long paragraphs too.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.length = 0
        self.blocks: list[Block] = []
        self.anchors: list[tuple[int, int]] = []
        self.title: list[str] = []
        self.in_title = False
        self.skipping: list[str] = []  # open dropped elements, innermost last
        self.content_depth = 0  # open <article>/<main> elements
        self.pre_depth = 0
        self.kind, self.level = "para", 0
        self.pending: list[tuple[int, str]] = []
        self.separator = ""  # owed before the next block: "\n" after <br>, else "\n\n"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open a block, a dropped region or the title; `<br>` ends a line."""
        if tag in ("article", "main"):
            self.content_depth += 1
        elif tag in _HTML_BLOCKS and "head" in self.skipping:
            self.skipping.remove("head")  # <head> left unclosed: body content ends it
        if tag == "title" and set(self.skipping) <= {"head"}:
            self.in_title = True
        elif self.skipping or tag in _HTML_DROPPED or self._is_chrome(tag):
            if tag in _HTML_SKIPPABLE:  # tracked so its end tag ends the skip
                self.skipping.append(tag)
        elif tag == "br":
            self._end_block("\n")
        elif tag in _HTML_BLOCKS:
            self._end_block("\n\n")
            self.pre_depth += tag == "pre"
            self.kind, self.level = _html_kind(tag)

    def handle_endtag(self, tag: str) -> None:
        """Close a block, a dropped region or the title."""
        if tag in ("article", "main"):
            self.content_depth = max(0, self.content_depth - 1)
        if tag == "title":
            self.in_title = False
        elif tag in self.skipping:
            while self.skipping.pop() != tag:
                pass
        elif not self.skipping and tag in _HTML_BLOCKS:
            self._end_block("\n\n")
            self.pre_depth = max(0, self.pre_depth - (tag == "pre"))
            self.kind, self.level = "para", 0

    def handle_data(self, data: str) -> None:
        """Queue visible text with its source line; inside `<pre>` newlines end lines."""
        if self.in_title:
            self.title.append(data)
            return
        if self.skipping:
            return
        line = self.getpos()[0]
        pieces = data.split("\n")
        for offset, piece in enumerate(pieces):
            if self.pre_depth and offset:
                self._end_block("\n")
            raw = piece if self.pre_depth or offset == len(pieces) - 1 else piece + " "
            if raw:
                self.pending.append((line + offset, raw))

    def finish(self) -> str:
        """Close the parser and return the text."""
        self.close()
        self._end_block("")
        return "".join(self.parts)

    def _is_chrome(self, tag: str) -> bool:
        """A site header/footer: outside any <article> or <main>."""
        return tag in _HTML_PAGE_CHROME and not self.content_depth

    def _end_block(self, separator: str) -> None:
        """Emit the pending text as a block; owe `separator` (the longest asked) before the next."""
        text, anchors = _collapse(self.pending)
        self.pending = []
        if text:
            start = self.length + (len(self.separator) if self.blocks else 0)
            self.parts += [self.separator if self.blocks else "", text]
            self.blocks.append(Block(start, start + len(text), self.kind, self.level))
            self.anchors += [(start + offset, line) for offset, line in anchors]
            self.length = start + len(text)
            self.separator = ""
        if len(separator) > len(self.separator):
            self.separator = separator


def _collapse(pieces: list[tuple[int, str]]) -> tuple[str, list[tuple[int, int]]]:
    """Join (line, raw text) pieces with whitespace runs collapsed and ends trimmed.

    Returns the text and an anchor (offset, line) wherever text from a new source line starts.
    """
    out: list[str] = []
    anchors: list[tuple[int, int]] = []
    length, after_space = 0, True
    for line, raw in pieces:
        chunk = _WHITESPACE.sub(" ", raw)
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


def _load_html(data: bytes) -> _Loaded:
    """HTML: visible text outside page chrome, a block per block element, source line anchors."""
    source = normalise(decode_text(data, _html_charset(data)))
    parser = _HtmlText()
    try:
        parser.feed(source)
        text = parser.finish()
    except Exception as exc:  # HTMLParser is lenient; this guards against its rare asserts
        raise SkipFile(f"HTML could not be parsed: {_short(exc)}") from exc
    h1 = [b for b in parser.blocks if b.kind == "heading" and b.level == 1]
    title = text[h1[0].start:h1[0].end] if h1 else "".join(parser.title)
    return _Loaded(text, parser.blocks, title, parser.anchors)


# --- pdf ---------------------------------------------------------------------------------------

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
        raise SkipFile(f"PDF is encrypted: {_short(exc)}") from exc
    except Exception as exc:
        raise SkipFile(f"PDF could not be parsed: {_short(exc)}") from exc
    return pages, str(title)


def _pdf_paragraph_blocks(text: str, paragraph: list[tuple[int, int]]) -> list[Block]:
    """Wrapped PDF lines as blocks, ending a block after each noticeably short line."""
    widest = max(end - start for start, end in paragraph)
    blocks, first = [], paragraph[0][0]
    for index, (start, end) in enumerate(paragraph):
        if end - start < PDF_SHORT_LINE * widest or index == len(paragraph) - 1:
            standalone = first == start and not _SENTENCE_END.search(text[start:end])
            blocks.append(Block(first, end, "line" if standalone else "para"))
            if index + 1 < len(paragraph):
                first = paragraph[index + 1][0]
    return blocks


def _load_pdf(data: bytes) -> _Loaded:
    """PDF: pages joined by a blank line, line numbers counted within each page."""
    pages, title = _pdf_pages(data)
    text = "\n\n".join(pages)
    page_starts, anchors, blocks, start = [], [], [], 0
    for page in pages:
        page_starts.append(start)
        lines = _line_spans(text, start, start + len(page))
        anchors += [(line_start, number) for number, (line_start, _) in enumerate(lines, 1)]
        for paragraph in _paragraphs(text, lines):
            blocks += _pdf_paragraph_blocks(text, paragraph)
        start += len(page) + 2
    return _Loaded(text, blocks, _pdf_title(title), anchors, page_starts)


def _pdf_title(title: str) -> str:
    """The metadata title, or "" for tools' placeholders ("untitled", "Microsoft Word - x")."""
    title = title.strip().removeprefix("Microsoft Word - ")
    return "" if _PLACEHOLDER_TITLE.match(title) else title


# --- docx --------------------------------------------------------------------------------------

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
        raise SkipFile(f"corrupt docx: {_short(exc)}") from exc


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
        span = _trim(text, lines[0][0], lines[-1][1])
        return [Block(*span, "heading", level)] if span else []
    return [block for paragraph in _paragraphs(text, lines)
            for block in _paragraph_blocks(text, paragraph, _TXT_ITEM)]


def _load_docx(data: bytes) -> _Loaded:
    """docx: non-empty paragraphs joined by a blank line; the paragraph number is the "line"."""
    paragraphs, title = _docx_paragraphs(data)
    kept = [(number, body, level) for number, (raw, level) in enumerate(paragraphs, 1)
            if (body := normalise(raw)).strip()]
    text = "\n\n".join(body for _, body, _ in kept)
    anchors, blocks, start = [], [], 0
    for number, body, level in kept:
        lines = _line_spans(text, start, start + len(body))
        anchors += [(line_start, number) for line_start, _ in lines]
        blocks += _docx_blocks(text, lines, level)
        start += len(body) + 2
    headings = [b for b in blocks if b.kind == "heading"]
    if not title.strip() and headings:
        title = text[headings[0].start:headings[0].end]
    return _Loaded(text, blocks, title, anchors)


# --- shared ------------------------------------------------------------------------------------

def _short(exc: Exception) -> str:
    """A one-line, bounded description of a parser's exception."""
    message = _WHITESPACE.sub(" ", str(exc)).strip()
    return (message or type(exc).__name__)[:120]


_LOADERS: dict[str, tuple[str, Callable[[bytes], _Loaded], str]] = {
    ".txt": ("txt", _load_txt, "no text (empty or whitespace only)"),
    ".md": ("md", _load_md, "no text (empty, whitespace or markup only)"),
    ".markdown": ("md", _load_md, "no text (empty, whitespace or markup only)"),
    ".html": ("html", _load_html, "no visible text"),
    ".htm": ("html", _load_html, "no visible text"),
    ".pdf": ("pdf", _load_pdf, "no text layer (scanned?)"),
    ".docx": ("docx", _load_docx, "no text"),
}
