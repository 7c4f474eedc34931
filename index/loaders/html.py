"""HTML: the article, not the page furniture; a block per block element, source line anchors.

Two readers work together:
- a linear-time tokenizer (`html.parser`) collects every visible block of the page with its
  source lines: script/style/head/svg/... and hidden elements (`hidden`, `aria-hidden`,
  `display:none`, `visibility:hidden`) are dropped; nav/aside/form, and header/footer outside
  <article>/<main>, are marked as page chrome; `<br>` and newlines inside `<pre>` end a line;
  list items are written after a "• " or "2. " marker; a `<h2>`..`<h6>` that is a whole
  sentence (a news standfirst, "X said on Monday that ...") is a paragraph, not a heading;
  a data table's row is a line, its cells joined by " | " (as in Markdown), and a short cell
  is kept with its row whenever another cell of the row is article text;
- trafilatura (`favor_recall=True`) says which text is the article. A block of the page is
  kept when its text is in trafilatura's: most of its word trigrams for a block of three
  words or more, the whole of one of trafilatura's text runs for a shorter one (a heading,
  a list item). Structure and line numbers come from the tokenizer, so trafilatura's lost
  positions never matter.

When trafilatura finds nothing (a bare page with no article markup, a page over
`MAX_ELEMENTS` elements, a parse error), every block outside page chrome is kept: the
fallback.

Documentation generators (texinfo, DocBook, Sphinx, MkDocs, Doxygen, API docs) need rules of
their own, on both paths, for what trafilatura reads as an article and a reader does not:
- navigation is page chrome: a block with a `rel=next/prev/up/...` or `accesskey` link whose
  words are mostly link text ("Next: X, Previous: Y, Up: Z [Contents]", DocBook's footer),
  `role=navigation/search` elements, and a block that is only a link repeating one of the
  page's headings (a table of contents entry, a section menu);
- a heading is never furniture when it heads kept text (trafilatura drops headings a table
  of contents repeats): it is kept when the next block outside chrome is kept text or a
  kept heading of a lower level, unless it is all link text (a teaser's title); so is the
  first `<h1>` when it repeats `<title>`;
- a `<pre>` (each listing of it) is kept or left out as a whole, so `}` goes with its code;
- permalink anchors (a fragment or `headerlink` link without a letter or digit: Sphinx's "¶",
  Node's "#") and `<button>` labels ("copy") are not text; two `<code>` listings in one
  `<pre>` (a page's ESM and CJS variants) are two blocks.
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser

from index.loaders.common import Loaded, SkipFile, decode_text, normalise, short
from index.loaders.textbuilder import CELL, LINE, PARAGRAPH, Piece, TextBuilder

# Pages with more elements than this skip trafilatura (its lxml tree and XPath passes grow
# with the page) and keep the fallback's text: real articles have a few thousand elements.
MAX_ELEMENTS = 10_000
ARTICLE_SHARE = 0.5  # share of a block's word trigrams found in the article to keep it
SHORT_BLOCK = 3  # blocks of fewer words must equal one of the article's text runs
# A table cell of one block this short is kept with its row when another cell of the row is
# article text: trafilatura empties a cell that is all link ("Netflix" naming a row of
# figures) and drops parts of one ("February 28, 1998; 18 years ago" loses its noprint span).
ROW_CELL_WORDS = 6
# A <h2>..<h6> of at least this many words that ends like a statement is the article's
# standfirst (news sites mark "X said on Monday that ..." up as <h2>): a paragraph, since
# indexing never quotes a heading, only files the text below under it. A bare "?" ends a
# section title ("So, where do people learn how to fix these issues?"); a quoted one
# ('... asking if there were "any un-angry Trump supporters?"') ends a statement.
SENTENCE_HEADING_WORDS = 12
_SENTENCE_END = re.compile(r"(?:[.!…][\"'”’)\]]*|\?[\"'”’]+[)\]]*)\s*$")

_META_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)
_DROPPED = frozenset({"script", "style", "noscript", "template", "svg", "math", "head",
                      "iframe", "object", "button"})
_CHROME = frozenset({"nav", "aside", "form"})
_CHROME_ROLES = frozenset({"navigation", "search"})  # ARIA roles of page chrome, on any element
# Links that move between a manual's pages and sections (texinfo, DocBook, Sphinx headers).
_NAV_RELS = frozenset({"next", "prev", "previous", "up", "contents", "toc", "index", "home",
                       "start", "first", "last", "top"})
NAV_LINK_SHARE = 0.5  # a block with a navigation link and this share of link words is chrome
CAPTION_WORDS = 4  # a block this short just before a table of contents entry is its caption
# Leading words of a heading that a table of contents may leave out: "4.2.1.", "Chapter 3".
_NUMBERING = re.compile(r"\d+|chapter|section|part|appendix")
_CHROME_OUTSIDE_CONTENT = frozenset({"header", "footer"})  # chrome outside <article>/<main>
_BLOCKS = frozenset({
    "address", "article", "blockquote", "body", "caption", "center", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4",
    "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li", "main", "menu", "ol", "p",
    "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    "nav", "aside", "form"})
# Elements without an end tag (or whose end tag is often left out): not tracked as hidden,
# but for <p>, which the next block closes.
_NO_END = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                     "param", "source", "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th",
                     "option", "thead", "tbody", "tfoot", "colgroup", "rp", "rt"})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_WORD = re.compile(r"\w+")
# A tag as a browser would read it: quoted attribute values may hold < and >.
_TAG = re.compile(r"</?[A-Za-z][^<>\"']*(?:(?:\"[^\"]*\"|'[^']*')[^<>\"']*)*>"
                  r"|<[!?][^<>]*>")


@dataclass
class _RawBlock:
    """A block as the tokenizer saw it: pieces of raw text with their source lines."""

    kind: str
    level: int
    pieces: list[Piece]
    separator: str  # owed before it: "\n" after <br>, else a blank line
    prefix: str = ""  # a list item's marker
    chrome: bool = False
    words: list[str] = field(default_factory=list)
    link_words: int = 0  # words inside <a href> links
    nav: bool = False  # holds a navigation link (rel=next/prev/..., accesskey)
    group: int = 0  # the <pre> listing the block is a line of (0: none)
    table: int = 0  # the innermost <table>, row and cell the block is in (0: none)
    row: int = 0
    cell: int = 0
    lone: bool = False  # the only block of its table cell (a data table's cell, not a layout's)


def _chrome_role(attrs: list[tuple[str, str | None]]) -> bool:
    """Whether an element's ARIA role marks it as navigation or search."""
    return any(name == "role" and (value or "").strip().lower() in _CHROME_ROLES
               for name, value in attrs)


# MediaWiki's reference lists (`<ol class="references">`, `<div class="reflist">`): entries
# such as '"Mozilla.org WHOIS". DomainTools. Retrieved 1 May 2016.' are where a fact came
# from, not the article, and a question about the fact found them first.
_REFERENCE_CLASSES = frozenset({"references", "reflist"})
# ... and its citation marks in the text ("free.[3] One day later"): `<sup class="reference">`.
_CITATION_MARK_CLASSES = frozenset({"reference"})


def _classes(attrs: list[tuple[str, str | None]]) -> set[str]:
    return {c for name, value in attrs if name == "class" for c in (value or "").split()}


def _hidden(attrs: list[tuple[str, str | None]]) -> bool:
    """Whether an element's attributes hide it from a reader."""
    for name, value in attrs:
        if name == "hidden" or (name == "aria-hidden" and (value or "").lower() == "true"):
            return True
        if name == "style" and value and _HIDDEN_STYLE.search(value):
            return True
    return False


class _PageBlocks(HTMLParser):
    """Collects the visible blocks of a page in one linear pass, marking page chrome.

    Open dropped and chrome elements are kept on a stack with a count per tag, so checking
    whether an end tag closes one is O(1): a page of 20,000 unclosed <nav> stays linear.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[_RawBlock] = []
        self.title: list[str] = []
        self.in_title = False
        self.elements = 0
        self.stack: list[tuple[str, bool]] = []  # open (tag, dropped?) regions, innermost last
        self.open: Counter[str] = Counter()  # tags on the stack
        self.dropping = 0  # dropped regions open
        self.chrome = 0  # chrome regions open
        self.content_depth = 0  # open <article>/<main> elements
        self.pre_depth = 0
        self.lists: list[int] = []  # per open list: -1 for <ul>, else the last item number
        self.kind, self.level, self.prefix = "para", 0, ""
        self.pending: list[Piece] = []
        self.separator = PARAGRAPH
        self.in_link = False  # inside <a href>
        self.link_text: list[str] = []  # the pending block's link text
        self.nav_link = False  # the pending block holds a navigation link
        self.permalink: int | None = None  # where an open permalink-like <a> began in pending
        self.group, self.groups = 0, 0  # the open <pre> listing, listings so far
        self.tables: list[list[int]] = []  # per open <table>: [table, row, cell] ids
        self.ids = 0  # table, row and cell ids handed out so far
        self.code_closed = False  # a <code> just closed inside <pre>, nothing written since

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open a block, a dropped or chrome region, or the title; `<br>` ends a line."""
        self.elements += 1
        if self.open["head"] and tag in _BLOCKS:
            self._close("head")  # <head> left unclosed: body content ends it
        if self.stack and self.stack[-1] == ("p", True) and tag in _BLOCKS:
            self._close("p")  # a hidden <p> left unclosed: the next block ends it
        if tag == "title" and self.dropping == self.open["head"]:
            self.in_title = True
        elif self.dropping:
            if self.open[tag] and tag not in _NO_END:
                self._push(tag, dropped=True)  # nested like the element that hides: balance it
            elif tag in _DROPPED:
                self._push(tag, dropped=True)
        elif (tag in _DROPPED or ((tag == "p" or tag not in _NO_END) and _hidden(attrs))
              or (tag == "sup" and _classes(attrs) & _CITATION_MARK_CLASSES)):
            self._push(tag, dropped=True)
        elif (tag in _CHROME or (tag in _CHROME_OUTSIDE_CONTENT and not self.content_depth)
              or (tag not in _NO_END and (_chrome_role(attrs) or self.chrome and self.open[tag]
                                          or _classes(attrs) & _REFERENCE_CLASSES))):
            # (the last: nested like the chrome element it is in, so its end tag balances)
            self._end_block(PARAGRAPH)
            self._push(tag, dropped=False)
        elif tag == "br":
            self._end_block(LINE)
        elif tag in _BLOCKS:
            self._start_block(tag)
        elif tag == "a":
            self._open_link(dict(attrs))
        elif tag == "code" and self.pre_depth and self.code_closed:
            self._end_block(PARAGRAPH)  # a second listing in the same <pre>
            self.groups += 1
            self.group = self.groups

    def handle_endtag(self, tag: str) -> None:
        """Close a block, a dropped or chrome region, or the title."""
        if tag == "title":
            self.in_title = False
        elif self.open[tag]:
            self._close(tag)
        elif self.dropping:
            return
        elif tag == "a":
            self._close_link()
        elif tag == "code" and self.pre_depth:
            self.code_closed = True
        elif tag in _BLOCKS:
            self._end_block(LINE if tag == "li" else PARAGRAPH)
            if tag in ("article", "main"):
                self.content_depth = max(0, self.content_depth - 1)
            elif tag == "pre":
                self.pre_depth = max(0, self.pre_depth - 1)
                self.group = self.group if self.pre_depth else 0
            elif tag in ("ul", "ol") and self.lists:
                self.lists.pop()
            elif tag == "table" and self.tables:
                self.tables.pop()
            elif tag in ("tr", "thead", "tbody", "tfoot") and self.tables:
                self.tables[-1][1] = 0  # a cell after it, with no <tr> of its own, opens a row
            self.kind, self.level, self.prefix = "para", 0, ""

    def handle_data(self, data: str) -> None:
        """Queue visible text with its source line; inside `<pre>` newlines end lines."""
        if self.in_title:
            self.title.append(data)
            return
        if self.dropping:
            return
        if self.in_link:
            self.link_text.append(data)
        if data.strip():
            self.code_closed = False
        line = self.getpos()[0]
        pieces = data.split("\n")
        for offset, piece in enumerate(pieces):
            if self.pre_depth and offset:
                self._end_block(LINE)
            raw = piece if self.pre_depth or offset == len(pieces) - 1 else piece + " "
            if raw:
                self.pending.append((line + offset, raw))

    def finish(self) -> list[_RawBlock]:
        """Close the parser and return the blocks."""
        self.close()
        self._end_block(PARAGRAPH)
        return self.blocks

    def _start_block(self, tag: str) -> None:
        """Open a block element: a heading, a list item (with its marker) or a paragraph."""
        if tag in ("p", "div") and self.kind == "item" and not self.pending:
            return  # <li><p>...: the paragraph is the item
        self._end_block(LINE if tag == "li" else PARAGRAPH)
        if tag in ("article", "main"):
            self.content_depth += 1
        elif tag == "pre":
            self.pre_depth += 1
            if self.pre_depth == 1:
                self.groups += 1
                self.group, self.code_closed = self.groups, False
        elif tag in ("ul", "ol"):
            self.lists.append(-1 if tag == "ul" else 0)
        elif tag == "table":
            self.tables.append([self._new_id(), 0, 0])
        elif tag in ("tr", "td", "th") and self.tables:
            frame = self.tables[-1]
            if tag == "tr" or not frame[1]:  # a cell outside any <tr> opens a row
                frame[1], frame[2] = self._new_id(), 0
            if tag != "tr":
                frame[2] = self._new_id()
        if tag in _HEADINGS:
            self.kind, self.level = "heading", _HEADINGS[tag]
        elif tag == "li":
            self.kind, self.level = "item", 0
            if self.lists and self.lists[-1] >= 0:
                self.lists[-1] += 1
                self.prefix = f"{self.lists[-1]}. "
            else:
                self.prefix = "• "
        else:
            self.kind, self.level = "para", 0

    def _new_id(self) -> int:
        self.ids += 1
        return self.ids

    def _open_link(self, attrs: dict[str, str | None]) -> None:
        """Start a link's text (an `<a>` ends any open one, as in browsers); note what it is."""
        href = attrs.get("href")
        self.in_link = href is not None
        self.permalink = None
        if href is None:
            return
        rels = set((attrs.get("rel") or "").lower().split())
        if rels & _NAV_RELS or attrs.get("accesskey"):
            self.nav_link = True
        if href.startswith("#") or "headerlink" in (attrs.get("class") or "").split():
            self.permalink = len(self.pending)

    def _close_link(self) -> None:
        """End a link; a permalink-like one with no letter or digit ("¶", "#") is not text."""
        if self.permalink is not None:
            text = "".join(raw for _, raw in self.pending[self.permalink:])
            if text.strip() and not _WORD.search(text):
                line = self.pending[self.permalink][0]
                del self.pending[self.permalink:]
                if text != text.strip():
                    self.pending.append((line, " "))  # the space around it still separates
        self.in_link, self.permalink = False, None

    def _push(self, tag: str, *, dropped: bool) -> None:
        self.stack.append((tag, dropped))
        self.open[tag] += 1
        self.dropping += dropped
        self.chrome += not dropped

    def _close(self, tag: str) -> None:
        """Pop open regions up to and including the innermost `tag`."""
        while self.stack:
            popped, dropped = self.stack.pop()
            if not dropped:
                self._end_block(PARAGRAPH)  # its text is chrome: end it before leaving
                self.chrome -= 1
            self.open[popped] -= 1
            self.dropping -= dropped
            if popped == tag:
                return

    def _end_block(self, separator: str) -> None:
        """Keep the pending text as a block; owe `separator` (the strongest asked) next."""
        pieces, self.pending = self.pending, []
        link_text, self.link_text = self.link_text, []
        nav, self.nav_link = self.nav_link, False
        self.permalink = None
        if any(raw.strip() for _, raw in pieces):
            table, row, cell = self.tables[-1] if self.tables else (0, 0, 0)
            self.blocks.append(_RawBlock(
                self.kind, self.level, pieces, self.separator,
                self.prefix if self.kind == "item" else "", self.chrome > 0,
                link_words=len(_words(" ".join(link_text))), nav=nav,
                group=self.group if self.pre_depth else 0, table=table, row=row, cell=cell))
            self.prefix = "" if self.kind == "item" else self.prefix
            self.separator = separator
        elif separator == PARAGRAPH:
            self.separator = PARAGRAPH


def _article_runs(source: str) -> tuple[set[tuple[str, ...]], set[tuple[str, ...]]] | None:
    """trafilatura's article as word trigrams and short text runs, or None if it finds none."""
    import lxml.etree
    import trafilatura

    try:
        xml = trafilatura.extract(source, favor_recall=True, include_comments=False,
                                  include_tables=True, output_format="xml")
        if not xml:
            return None
        main = lxml.etree.fromstring(xml.encode("utf-8")).find("main")
    except Exception:  # trafilatura is a heuristic helper: any failure means the fallback
        return None
    if main is None:
        return None
    words = _words(" ".join(main.itertext()))
    if not words:
        return None
    trigrams = set(zip(words, words[1:], words[2:], strict=False))
    runs: set[tuple[str, ...]] = set()
    for element in main.iter():
        for text in (element.text, element.tail, " ".join(element.itertext())):
            run = tuple(_words(text or ""))
            if 0 < len(run) < SHORT_BLOCK + 2:
                runs.add(run)
    return trigrams, runs


def _article_blocks(blocks: list[_RawBlock], trigrams: set[tuple[str, ...]],
                    runs: set[tuple[str, ...]]) -> list[_RawBlock]:
    """The page blocks whose words belong to the article trafilatura found.

    A block is read with the two words before it, and again with the two words after it: a
    short block (a heading, a list item) counts as article when it reads in sequence with
    the article on either side, even where trafilatura flattened the page into one run. The
    lines of one `<pre>` listing are read, and kept or left out, together.
    """
    units: list[list[_RawBlock]] = []
    for block in blocks:
        if units and block.group and units[-1][-1].group == block.group:
            units[-1].append(block)
        else:
            units.append([block])
    unit_words = [[word for block in unit for word in block.words] for unit in units]
    kept = []
    for index, (unit, words) in enumerate(zip(units, unit_words, strict=True)):
        if not words:
            continue
        before = unit_words[index - 1][-2:] if index else []
        after = unit_words[index + 1][:2] if index + 1 < len(units) else []
        if (len(words) < SHORT_BLOCK and tuple(words) in runs) or any(
                _share(side, trigrams) >= ARTICLE_SHARE
                for side in ([*before, *words], [*words, *after])):
            kept += unit
    return kept


def _share(words: list[str], trigrams: set[tuple[str, ...]]) -> float:
    """The share of the word trigrams of `words` that are in `trigrams` (0 for none)."""
    grams = list(zip(words, words[1:], words[2:], strict=False))
    return sum(gram in trigrams for gram in grams) / len(grams) if grams else 0.0


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _write(blocks: list[_RawBlock]) -> TextBuilder:
    """The text of the kept blocks, with their separators, markers and line anchors.

    A data table is written as Markdown's are: the cells of a row joined by " | ", a row a
    line. Cells of several blocks (a page laid out in a table) keep their own separators.
    """
    out = TextBuilder()
    previous: _RawBlock | None = None
    for block in blocks:
        if previous and block.lone and previous.lone and block.table == previous.table:
            out.owe(CELL if block.row == previous.row else LINE)
        else:
            out.owe(block.separator)
        previous = block
        out.block(block.pieces, block.kind, block.level, prefix=block.prefix,
                  verbatim=False)
    return out


@dataclass
class _Page:
    """A page split into the blocks kept as its text and the furniture left out."""

    kept: list[_RawBlock]
    dropped: list[_RawBlock]
    title: str


def _read_page(data: bytes) -> _Page:
    """Tokenize the page, ask trafilatura for its article, and split the blocks."""
    source = well_formed_markup(normalise(decode_text(data, _html_charset(data))))
    parser = _PageBlocks()
    try:
        parser.feed(source)
        blocks = parser.finish()
    except Exception as exc:  # HTMLParser is lenient; this guards against its rare asserts
        raise SkipFile(f"HTML could not be parsed: {short(exc)}") from exc
    cell_blocks = Counter(block.cell for block in blocks)
    for block in blocks:
        block.words = _words(" ".join(raw for _, raw in block.pieces))
        block.lone = bool(block.cell) and cell_blocks[block.cell] == 1
        if _sentence_heading(block):
            block.kind, block.level = "para", 0
    _mark_navigation(blocks)
    article = _article_runs(source) if parser.elements <= MAX_ELEMENTS and blocks else None
    kept: list[_RawBlock] = []
    if article:
        kept = _with_rows([b for b in _article_blocks(blocks, *article) if not b.chrome],
                          blocks)
    if not kept:
        kept = [b for b in blocks if not b.chrome] or blocks
    chosen = {id(b) for b in kept} | _headings_of(blocks, {id(b) for b in kept})
    title = "".join(parser.title)
    first_h1 = next((b for b in blocks if b.kind == "heading" and b.level == 1
                     and not b.chrome), None)
    if first_h1 and first_h1.words == _words(title):  # it names the page: never furniture
        chosen.add(id(first_h1))
    return _Page([b for b in blocks if id(b) in chosen],
                 [b for b in blocks if id(b) not in chosen], title)


def _with_rows(kept: list[_RawBlock], blocks: list[_RawBlock]) -> list[_RawBlock]:
    """`kept` with the short lone cells (outside chrome) of the table rows it holds a cell of:
    a row is read whole, its label with its figures."""
    rows = {b.row for b in kept if b.lone}
    chosen = {id(b) for b in kept}
    return [b for b in blocks if id(b) in chosen or (
        b.lone and b.row in rows and not b.chrome and len(b.words) <= ROW_CELL_WORDS)]


def _sentence_heading(block: _RawBlock) -> bool:
    """Whether a heading below the page's title is a sentence: a standfirst, not a title."""
    return (block.kind == "heading" and block.level >= 2
            and len(block.words) >= SENTENCE_HEADING_WORDS
            and bool(_SENTENCE_END.search("".join(raw for _, raw in block.pieces))))


def _mark_navigation(blocks: list[_RawBlock]) -> None:
    """Mark as chrome the blocks that move around the manual rather than say something.

    A block with a navigation link whose words are mostly link text ("Next: Basic Elements,
    Previous: Top [Contents]"); a block that is nothing but link text (and its numbering)
    repeating one of the page's headings (a table of contents entry, a texinfo menu, an
    index entry's section);
    and a short block just before such an entry, the caption of its table ("Table of
    Contents", "Contents:").
    """
    headings = {_title_key(b.words) for b in blocks if b.kind == "heading" and not b.chrome}
    headings.discard(())
    entry_follows = False
    for block in reversed(blocks):
        if not block.words:
            continue
        navigation = block.nav and block.link_words >= NAV_LINK_SHARE * len(block.words)
        key = _title_key(block.words)  # all link text but its numbering ("1.  <a>Background")
        toc_entry = block.kind != "heading" and block.link_words >= len(key) and key in headings
        caption = entry_follows and block.kind != "heading" and len(block.words) <= CAPTION_WORDS
        block.chrome = block.chrome or navigation or toc_entry or caption
        entry_follows = toc_entry


def _title_key(words: list[str]) -> tuple[str, ...]:
    """A heading's words without the numbering a table of contents may leave out."""
    start = 0
    while start < len(words) and _NUMBERING.fullmatch(words[start]):
        start += 1
    return tuple(words[start:])


def _headings_of(blocks: list[_RawBlock], kept: set[int]) -> set[int]:
    """The ids of the headings (outside chrome) that head kept text and are not kept yet.

    A heading heads kept text when the next block outside chrome is kept text, or a kept
    heading of a lower level (read from the end, so a chapter's heading follows its first
    section's). A heading that is all link text is a teaser's title (a related story).
    """
    found: set[int] = set()
    # The next block outside chrome: 7 kept text, 1-6 a kept heading's level, 0 anything else.
    level = 0
    for block in reversed(blocks):
        if block.chrome:
            continue
        if block.kind != "heading":
            level = 7 if id(block) in kept else 0
        elif id(block) in kept:
            level = block.level
        elif level > block.level and block.link_words < len(block.words):
            found.add(id(block))
            level = block.level
        else:
            level = 0
    return found


def load_html(data: bytes) -> Loaded:
    """HTML: the article's blocks (or every block outside page chrome), source line anchors."""
    page = _read_page(data)
    out = _write(page.kept)
    text = out.text
    h1 = [text[b.start:b.end] for b in out.blocks if b.kind == "heading" and b.level == 1]
    return Loaded(text, out.blocks, _title(h1, " ".join(page.title.split())), out.anchors)


def _title(h1: list[str], page_title: str) -> str:
    """The page's one `<h1>`, or the first when `<title>` holds it; else `<title>`.

    A page of several `<h1>` sections (a one-page Sphinx or DocBook manual) is named by its
    `<title>` unless the first `<h1>` is that name too ("Abstract" is not the title).
    """
    if not h1:
        return page_title
    first = " ".join(_words(h1[0]))
    inside = bool(first) and f" {first} " in f" {' '.join(_words(page_title))} "
    return h1[0] if len(h1) == 1 or not page_title or inside else page_title


def page_furniture(data: bytes) -> list[tuple[int, str]]:
    """(source line, text) of each block of a page left out as furniture (for `extract`)."""
    try:
        dropped = _read_page(data).dropped
    except SkipFile:
        return []
    return [(b.pieces[0][0], " ".join(" ".join(raw for _, raw in b.pieces).split()))
            for b in dropped]


def well_formed_markup(source: str) -> str:
    """`source` with every `<` that opens no complete tag or comment written as `&lt;`.

    html.parser rescans to the end of the input for each `<` that starts a tag it cannot
    finish (`<a<a<a...`: minutes for 200 KB); what it is fed here always finishes. Linear:
    a tag match stops at the next `<` or `>` outside quotes, a quoted value at the next
    quote of its kind (so two matches never scan the same value to its end), and once a
    comment is found unclosed, no later one is looked for.
    """
    out: list[str] = []
    cursor, comments_close = 0, True
    while (found := source.find("<", cursor)) >= 0:
        out.append(source[cursor:found])
        if source.startswith("<!--", found):
            end = source.find("-->", found + 4) if comments_close else -1
            comments_close = end >= 0
            if comments_close:
                out.append(source[found:end + 3])
                cursor = end + 3
                continue
        tag = _TAG.match(source, found)
        if tag:
            out.append(tag.group())
            cursor = tag.end()
        else:
            out.append("&lt;")
            cursor = found + 1
    out.append(source[cursor:])
    return "".join(out)


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
