"""HTML: the visible text outside page chrome, a block per block element, source line anchors.

script/style/head/svg/... are dropped, and nav/aside/form always, header/footer outside
<article>/<main> (page chrome); each block element ends a block, `<br>` and newlines inside
`<pre>` end a line. Line anchors mark every place the source line changes, mid-line included.
"""

from __future__ import annotations

import codecs
import re
from html.parser import HTMLParser

from index.documents import Block
from index.loaders.common import WHITESPACE, Loaded, SkipFile, decode_text, normalise, short

_META_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)
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
        chunk = WHITESPACE.sub(" ", raw)
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


def load_html(data: bytes) -> Loaded:
    """HTML: visible text outside page chrome, a block per block element, source line anchors."""
    source = normalise(decode_text(data, _html_charset(data)))
    parser = _HtmlText()
    try:
        parser.feed(source)
        text = parser.finish()
    except Exception as exc:  # HTMLParser is lenient; this guards against its rare asserts
        raise SkipFile(f"HTML could not be parsed: {short(exc)}") from exc
    h1 = [b for b in parser.blocks if b.kind == "heading" and b.level == 1]
    title = text[h1[0].start:h1[0].end] if h1 else "".join(parser.title)
    return Loaded(text, parser.blocks, title, parser.anchors)



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

