"""HTML: the article, not the page furniture; a block per block element, source line anchors.

Two readers work together:
- a linear-time tokenizer (`html.parser`) collects every visible block of the page with its
  source lines: script/style/head/svg/... and hidden elements (`hidden`, `aria-hidden`,
  `display:none`, `visibility:hidden`) are dropped; nav/aside/form, and header/footer outside
  <article>/<main>, are marked as page chrome; `<br>` and newlines inside `<pre>` end a line;
  list items are written after a "• " or "2. " marker;
- trafilatura (`favor_recall=True`) says which text is the article. A block of the page is
  kept when its text is in trafilatura's: most of its word trigrams for a block of three
  words or more, the whole of one of trafilatura's text runs for a shorter one (a heading,
  a list item). Structure and line numbers come from the tokenizer, so trafilatura's lost
  positions never matter.

When trafilatura finds nothing (a bare page with no article markup, a page over
`MAX_ELEMENTS` elements, a parse error), every block outside page chrome is kept: the
fallback.
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser

from index.loaders.common import Loaded, SkipFile, decode_text, normalise, short
from index.loaders.textbuilder import LINE, PARAGRAPH, Piece, TextBuilder

# Pages with more elements than this skip trafilatura (its lxml tree and XPath passes grow
# with the page) and keep the fallback's text: real articles have a few thousand elements.
MAX_ELEMENTS = 10_000
ARTICLE_SHARE = 0.5  # share of a block's word trigrams found in the article to keep it
SHORT_BLOCK = 3  # blocks of fewer words must equal one of the article's text runs

_META_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)
_DROPPED = frozenset({"script", "style", "noscript", "template", "svg", "math", "head",
                      "iframe", "object"})
_CHROME = frozenset({"nav", "aside", "form"})
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
        elif tag in _DROPPED or ((tag == "p" or tag not in _NO_END) and _hidden(attrs)):
            self._push(tag, dropped=True)
        elif tag in _CHROME or (tag in _CHROME_OUTSIDE_CONTENT and not self.content_depth):
            self._end_block(PARAGRAPH)
            self._push(tag, dropped=False)
        elif tag == "br":
            self._end_block(LINE)
        elif tag in _BLOCKS:
            self._start_block(tag)

    def handle_endtag(self, tag: str) -> None:
        """Close a block, a dropped or chrome region, or the title."""
        if tag == "title":
            self.in_title = False
        elif self.open[tag]:
            self._close(tag)
        elif not self.dropping and tag in _BLOCKS:
            self._end_block(LINE if tag == "li" else PARAGRAPH)
            if tag in ("article", "main"):
                self.content_depth = max(0, self.content_depth - 1)
            elif tag == "pre":
                self.pre_depth = max(0, self.pre_depth - 1)
            elif tag in ("ul", "ol") and self.lists:
                self.lists.pop()
            self.kind, self.level, self.prefix = "para", 0, ""

    def handle_data(self, data: str) -> None:
        """Queue visible text with its source line; inside `<pre>` newlines end lines."""
        if self.in_title:
            self.title.append(data)
            return
        if self.dropping:
            return
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
        elif tag in ("ul", "ol"):
            self.lists.append(-1 if tag == "ul" else 0)
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
        if any(raw.strip() for _, raw in pieces):
            self.blocks.append(_RawBlock(self.kind, self.level, pieces, self.separator,
                                         self.prefix if self.kind == "item" else "",
                                         self.chrome > 0))
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
    the article on either side, even where trafilatura flattened the page into one run.
    """
    kept = []
    for index, block in enumerate(blocks):
        words = block.words
        if not words:
            continue
        before = blocks[index - 1].words[-2:] if index else []
        after = blocks[index + 1].words[:2] if index + 1 < len(blocks) else []
        if (len(words) < SHORT_BLOCK and tuple(words) in runs) or any(
                _share(side, trigrams) >= ARTICLE_SHARE
                for side in ([*before, *words], [*words, *after])):
            kept.append(block)
    return kept


def _share(words: list[str], trigrams: set[tuple[str, ...]]) -> float:
    """The share of the word trigrams of `words` that are in `trigrams` (0 for none)."""
    grams = list(zip(words, words[1:], words[2:], strict=False))
    return sum(gram in trigrams for gram in grams) / len(grams) if grams else 0.0


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _write(blocks: list[_RawBlock]) -> TextBuilder:
    """The text of the kept blocks, with their separators, markers and line anchors."""
    out = TextBuilder()
    for block in blocks:
        out.owe(block.separator)
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
    article = _article_runs(source) if parser.elements <= MAX_ELEMENTS and blocks else None
    kept: list[_RawBlock] = []
    if article:
        for block in blocks:
            block.words = _words(" ".join(raw for _, raw in block.pieces))
        kept = [b for b in _article_blocks(blocks, *article) if not b.chrome]
    if not kept:
        kept = [b for b in blocks if not b.chrome] or blocks
    chosen = {id(b) for b in kept}
    return _Page(kept, [b for b in blocks if id(b) not in chosen], "".join(parser.title))


def load_html(data: bytes) -> Loaded:
    """HTML: the article's blocks (or every block outside page chrome), source line anchors."""
    page = _read_page(data)
    out = _write(page.kept)
    text = out.text
    h1 = [b for b in out.blocks if b.kind == "heading" and b.level == 1]
    title = text[h1[0].start:h1[0].end] if h1 else page.title
    return Loaded(text, out.blocks, title, out.anchors)


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
