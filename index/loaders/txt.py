"""Plain text: the file's lines one for one, blocks read off the layout as a reader does.

Lines are normalised in place (index/loaders/normalise.py): compatibility forms such as
ligatures folded and words hyphenated across a line break joined; each line keeps its
spacing, so line numbers and layout stay the file's, and every block is a span of it.

Blocks. Paragraphs are runs of non-blank lines; inside one, indentation gives the structure
(man pages, RFCs, README files and e-mails are laid out so):
- a paragraph splits into runs of lines of one indentation; a list item (`- `, `1. `) starts
  a run of its own, which takes the lines under it indented deeper or flush with it;
- a line directly above a deeper run heads it. A title-like head (short, a capital first, no
  final punctuation, no code characters: `EXIT STATUS`, `Pattern Syntax`, `1.1 Purpose`)
  standing left of the document's prose is a heading. Any other head is the term of a
  definition (`-L, --location`, `GREP_COLOR`, an RFC's `connection`, a hanging tag
  `-P     Never follow...`): one `item` block with the first paragraph of its description
  when that reads as prose. A short head that opens code (`if x:`, `f() {`, `a =`) heads
  nothing;
- an ALL CAPS title-like line starting a run no deeper than the prose, a line underlined
  with `===` or `---`, and a title-like line alone above a deeper paragraph (left of the
  prose) are headings too;
- the rest is prose: a run whose lines all read as wrapped (`looks_wrapped`) is one block;
  otherwise a line continues on the next only when it is full (at least `WRAP_MIN`
  characters, or the next line's first word would not have fitted) and does not end a
  sentence or open code. So poems, addresses, code and one-sentence-per-line files keep a
  block per line. A one-line run indented deeper than the run below is joined with it when
  the two read as one wrapped paragraph (a first-line indent);
- heading levels follow indentation (shallower is higher), then section numbering depth
  (`1.1` under `1`), then underline (`---` under `===`).

A first line repeating one token at both ends with wide gaps (`GREP(1)  User Commands
GREP(1)`) is a running header: not a block, nor the title; the last line is a running footer
when it ends with that token or repeats one at both ends. The token holds a letter or digit:
`=====  Harbour Rules  =====` is a framed title, and text. A man page's title is its name and
section (`grep(1)`), spelled as its NAME section spells the name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.loaders.common import (
    SENTENCE_END,
    TXT_ITEM,
    WRAP_MAX,
    WRAP_MIN,
    Loaded,
    decode_text,
    line_spans,
    looks_wrapped,
    normalise,
    paragraphs,
)
from index.loaders.normalise import normalise_lines
from quotebot.documents import Block

HEADING_MAX = 72  # characters of a heading line at most...
HEADING_WORDS = 10  # ...and words
SHORT_HEADING_WORDS = 4  # a heading in sentence case ("Operation modifiers") has at most this many
TERM_WORDS = 1  # a head of more words is a term only when it starts with a mark ("-v, --verbose")
PROSE_WORDS = 0.6  # share of a line's words made of letters for a reader to carry it on
PROSE_SHARE = 0.1  # an indent holding less of the wrapped lines is not where the prose is
_SECTION_NUMBER = re.compile(r"(\d{1,3}(?:\.\d{1,3})*)\.?[ \t]+(?=\S)")
_UNDERLINE = re.compile(r"([=\-~^*#+])\1{2,}")
_CODE_CHARS = re.compile(r"[_=<>{}\[\]$;:@#*~\\\"]")
_OPENS_CODE = re.compile(r"[:;{(\[,\\=&|+]$")  # a short head ending so goes on as code
_CODE_END = re.compile(r"[{(\[\\=&|]$")  # a line ending so goes on as code, not as prose
_OPTION = re.compile(r"[-+]{1,2}[^\W_]")  # "-v", "--verbose", "+n"
_PROSE_END = re.compile(r"[.!?…][\"'”’)\]»]*$")
_COLUMN_GAP = re.compile(r"\S {12,}\S")  # wider than justified text ever spaces its words
_WIDE_GAP = re.compile(r"\S[ \t]{2,}\S")
_MAN_HEADER = re.compile(r"(.+)\(([0-9][A-Za-z0-9+]*)\)")
_WORD = re.compile(r"[^\W\d_]+[,.;:!?)\"'”’]*")


@dataclass
class _Line:
    start: int  # trimmed span in the document text
    end: int
    indent: int  # columns before the text, tabs to multiples of 8


@dataclass
class _Run:
    lines: list[_Line]
    item: bool = False  # a list item: its first line starts with a marker
    rule: bool = False  # an underline (`=====`)

    @property
    def indent(self) -> int:
        return self.lines[0].indent


def load_txt(data: bytes) -> Loaded:
    """Plain text: the file's lines, blocks by the layout rules (module docstring)."""
    text = "\n".join(normalise_lines(normalise(decode_text(data)).split("\n"), collapse=False))
    paras = [[_line(text, s, e) for s, e in p] for p in paragraphs(text, line_spans(text))]
    header = _running_header(text, paras)
    if header is not None:
        paras = _without_running_lines(text, paras, header)
    runs = [_runs(text, para) for para in paras]
    reader = _Reader(text, _prose_indent(text, runs))
    for i, para_runs in enumerate(runs):
        reader.paragraph(para_runs, paras[i + 1][0].indent if i + 1 < len(paras) else None)
    blocks = reader.finish()
    return Loaded(text, blocks, title=_man_title(text, blocks, header) if header else "")


def _line(text: str, start: int, end: int) -> _Line:
    line_start = text.rfind("\n", 0, start) + 1
    return _Line(start, end, len(text[line_start:start].expandtabs(8)))


def _runs(text: str, lines: list[_Line]) -> list[_Run]:
    """A paragraph's runs: lines of one indentation; a list item takes the lines under it
    (deeper, or flush with its marker); an underline is a run of its own."""
    runs: list[_Run] = []
    for line in lines:
        content = text[line.start:line.end]
        if _UNDERLINE.fullmatch(content):
            runs.append(_Run([line], rule=True))
            continue
        if TXT_ITEM.match(content):
            runs.append(_Run([line], item=True))
            continue
        last = runs[-1] if runs else None
        if last is not None and not last.rule and (
                line.indent == last.indent or last.item and line.indent > last.indent):
            last.lines.append(line)
        else:
            runs.append(_Run([line]))
    return runs


def _prose_indent(text: str, runs: list[list[_Run]]) -> float:
    """The indent of the document's prose: the least indent holding at least `PROSE_SHARE`
    of the lines of wrapped runs (infinite when there are none)."""
    counts: dict[int, int] = {}
    for para in runs:
        for run in para:
            if (not run.item and not run.rule and len(run.lines) > 1
                    and _wrapped([text[x.start:x.end] for x in run.lines])):
                counts[run.indent] = counts.get(run.indent, 0) + len(run.lines)
    total = sum(counts.values())
    return min((i for i, n in counts.items() if n >= PROSE_SHARE * total), default=float("inf"))


# --- running header and title ------------------------------------------------------------------

def _running_header(text: str, paras: list[list[_Line]]) -> str | None:
    """The token a first line repeats at both ends with wide gaps between ("GREP(1)"), if any."""
    if len(paras) < 2 or len(paras[0]) != 1:
        return None
    first = text[paras[0][0].start:paras[0][0].end]
    return first.split()[0] if _repeats_token(first) else None


def _repeats_token(line: str) -> bool:
    """Whether a line repeats one token at both ends with wide gaps ("GREP(1)  ...  GREP(1)").
    The token holds a letter or digit: "=====  Harbour Rules  =====" is a framed title."""
    words = line.split()
    return (len(words) >= 2 and words[0] == words[-1] and any(c.isalnum() for c in words[0])
            and bool(_WIDE_GAP.search(line)))


def _without_running_lines(text: str, paras: list[list[_Line]],
                           header: str) -> list[list[_Line]]:
    """The paragraphs without the running header, and without the running footer: a last line
    that is the header's token, or is laid out with wide gaps and ends with that token or
    repeats one at both ends."""
    paras = paras[1:]
    last = paras[-1][-1]
    line = text[last.start:last.end]
    words = line.split()
    footer = words == [header] or bool(_WIDE_GAP.search(line)) and header in (words[-1], words[0])
    footer = footer or _repeats_token(line)
    return paras[:-1] if footer and len(paras) > 1 and len(paras[-1]) == 1 else paras


def _man_title(text: str, blocks: list[Block], header: str) -> str:
    """A man page's name and section, "grep(1)", spelled as the NAME section spells the name;
    "" when the header is not NAME(SECTION)."""
    match = _MAN_HEADER.fullmatch(header)
    if match is None:
        return ""
    name, section = match.groups()
    for i, block in enumerate(blocks[:-1]):
        if block.kind == "heading" and text[block.start:block.end].upper() == "NAME":
            words = text[blocks[i + 1].start:blocks[i + 1].end].split()
            spelled = words[0].rstrip(",") if words else ""
            if spelled.lower() == name.lower():
                return f"{spelled}({section})"
            break
    return f"{name.lower() if name.isupper() else name}({section})"


# --- reading the layout ------------------------------------------------------------------------

class _Reader:
    """Turns paragraphs into blocks; headings get their levels once all are known."""

    def __init__(self, text: str, prose_indent: float) -> None:
        self.text = text
        self.prose_indent = prose_indent  # headings over indented text stand left of it
        self.blocks: list[Block] = []
        self.heading_keys: dict[int, tuple[int, int, int]] = {}  # block index -> level key

    def finish(self) -> list[Block]:
        """The blocks, each heading's level from its key among the document's headings."""
        indents = sorted({key[0] for key in self.heading_keys.values()})
        blocks = list(self.blocks)
        for i, (indent, depth, underline) in self.heading_keys.items():
            level = 1 + indents.index(indent) + max(depth - 1, 0) + underline
            blocks[i] = Block(blocks[i].start, blocks[i].end, "heading", level)
        return blocks

    def paragraph(self, runs: list[_Run], following_indent: int | None) -> None:
        """The blocks of one paragraph; `following_indent` is the next paragraph's indent."""
        first = runs[0].lines[0]
        if (len(runs) == 1 and len(runs[0].lines) == 1 and not runs[0].rule
                and following_indent is not None and following_indent > first.indent
                and self._outdented(first) and self._title_like(first)):
            self._heading(first)  # "1.1 Purpose", a blank line, then the indented text
            return
        i = 0
        while i < len(runs):
            i += self._run(runs, i)

    def _run(self, runs: list[_Run], i: int) -> int:
        """Blocks for runs[i] (and the run it heads, when it does): how many runs were used."""
        run = runs[i]
        below = runs[i + 1] if i + 1 < len(runs) else None
        if run.rule:
            self._lines(run.lines)
            return 1
        if run.item and len(run.lines) == 1 and self._caps_heading(run.lines[0]):
            self._heading(run.lines[0])  # "1.  INTRODUCTION"
            return 1
        if run.item:
            self._item(run.lines)
            return 1
        if below is not None and below.rule and self._underlined(run.lines[-1], below.lines[0]):
            self._prose(run.lines[:-1])
            self._heading(run.lines[-1], underline=self._text(below.lines[0])[0] != "=")
            return 1
        if below is not None and not below.rule and below.indent > run.indent:
            return self._head(runs, i)
        if (below is not None and len(run.lines) == 1 and below.indent < run.indent
                and not below.item and not below.rule
                and _wrapped([self._text(x) for x in run.lines + below.lines])):
            self._block(run.lines + below.lines, "para")  # a first-line indent
            return 2
        lines = run.lines
        if (self._caps_heading(lines[0]) and lines[0].indent <= self.prose_indent
                and (len(lines) == 1 or not _is_caps(self._text(lines[1])))):
            self._heading(lines[0])
            lines = lines[1:]
        self._prose(lines)
        return 1

    def _head(self, runs: list[_Run], i: int) -> int:
        """runs[i] is followed by a deeper run: its last line heads it, as a heading, as the
        term of a definition, or not at all (prose, then an indented quote or code)."""
        run, below = runs[i], runs[i + 1]
        head = run.lines[-1]
        heading = self._heading_over(head, runs, i + 1)
        if len(run.lines) > 1 and not heading and _wrapped(
                [self._text(x) for x in run.lines]):
            self._prose(run.lines)
            return 1
        self._prose(run.lines[:-1])
        if heading:
            self._heading(head)
            return 1
        head_text = self._text(head)
        code = len(head_text) < WRAP_MIN and _OPENS_CODE.search(head_text)
        if below.item or code and not _OPTION.match(head_text):
            self._lines([head])
            return 1
        segments = self._segments(below.lines)
        description = segments[0]
        texts = [self._text(x) for x in description]
        hanging = len(head_text) >= WRAP_MIN and _soft_break(head_text, texts[0], WRAP_MAX)
        if hanging or len(description) > 1 or _term_shaped(head_text) and (
                _PROSE_END.search(texts[0]) or _wordy(texts[0])):
            self._block([head, *description], "item")
            for segment in segments[1:]:
                self._segment(segment)
            return 2
        self._lines([head])
        return 1

    def _heading_over(self, head: _Line, runs: list[_Run], j: int) -> bool:
        """Whether `head` heads runs[j] as a heading: title-like and left of the document's
        prose (at the prose's indent or deeper it is a term: `TMPDIR`, `Actions`). In a
        document without wrapped prose, only over a list, more structure or a sentence (a
        poem's indented line is not headed)."""
        if not self._outdented(head) or not self._title_like(head):
            return False
        if self._caps_heading(head) or self.prose_indent != float("inf"):
            return True
        below = runs[j]
        deeper = j + 1 < len(runs) and runs[j + 1].indent > below.indent
        texts = [self._text(x) for x in below.lines]
        return below.item or deeper or _wrapped(texts) or all(
            _PROSE_END.search(t) for t in texts)

    def _item(self, lines: list[_Line]) -> None:
        """A list item: the text after its marker and the lines under it."""
        first = lines[0]
        marker = TXT_ITEM.match(self.text, first.start, first.end)
        start = marker.end() if marker else first.start
        texts = [self.text[start:first.end]] + [self._text(x) for x in lines[1:]]
        if len(lines) == 1 or _wrapped(texts):
            self.blocks.append(Block(start, lines[-1].end, "item"))
            return
        merged = _Line(start, first.end, first.indent)
        segments = self._segments([merged, *lines[1:]])
        self.blocks.append(Block(start, segments[0][-1].end, "item"))
        for segment in segments[1:]:
            self._segment(segment)

    def _prose(self, lines: list[_Line]) -> None:
        """Blocks of prose lines: each segment of wrapped lines one block (`_segments`)."""
        segments = self._segments(lines) if lines else []
        if len(segments) == 1:
            self._block(lines, "para")
            return
        for segment in segments:
            self._segment(segment)

    def _segments(self, lines: list[_Line]) -> list[list[_Line]]:
        """Lines grouped as a reader joins them: all of them when they look wrapped, else a
        line continues on the next only when it is full and ends no sentence."""
        texts = [self._text(x) for x in lines]
        if len(lines) == 1 or _wrapped(texts):
            return [lines]
        width = max(len(t) for t in texts)
        segments = [[lines[0]]]
        for k in range(1, len(lines)):
            if _soft_break(texts[k - 1], texts[k], width):
                segments[-1].append(lines[k])
            else:
                segments.append([lines[k]])
        return segments

    def _segment(self, lines: list[_Line]) -> None:
        if len(lines) == 1:
            self.blocks.append(Block(lines[0].start, lines[0].end, "line"))
        else:
            self._block(lines, "para")

    def _lines(self, lines: list[_Line]) -> None:
        for line in lines:
            self.blocks.append(Block(line.start, line.end, "line"))

    def _block(self, lines: list[_Line], kind: str) -> None:
        self.blocks.append(Block(lines[0].start, lines[-1].end, kind))

    def _heading(self, line: _Line, underline: bool = False) -> None:
        number = _SECTION_NUMBER.match(self._text(line))
        depth = number.group(1).count(".") + 1 if number else 0
        self.heading_keys[len(self.blocks)] = (line.indent, depth, int(underline))
        self.blocks.append(Block(line.start, line.end, "heading", 1))

    def _text(self, line: _Line) -> str:
        return self.text[line.start:line.end]

    def _underlined(self, line: _Line, rule: _Line) -> bool:
        """A line of at most HEADING_MAX characters, ending no sentence, with a rule under it
        at least half as long ("Installation" over "============")."""
        text = self._text(line)
        return (len(text) <= HEADING_MAX and not _PROSE_END.search(text)
                and 2 * (rule.end - rule.start) >= len(text) and any(c.isalpha() for c in text))

    def _outdented(self, line: _Line) -> bool:
        return line.indent < self.prose_indent

    def _caps_heading(self, line: _Line) -> bool:
        return _is_caps(self._text(line)) and self._title_like(line)

    def _title_like(self, line: _Line) -> bool:
        """Short, no final punctuation, no code characters, a capital first (after a section
        number); when the document has no prose to stand left of, also in title case, ALL
        CAPS or of a few words."""
        text = self._text(line)
        number = _SECTION_NUMBER.match(text)
        if len(text) > HEADING_MAX or TXT_ITEM.match(text) and not number:
            return False
        words_text = text[number.end():] if number else text
        if (not words_text[0].isupper() or _CODE_CHARS.search(words_text)
                or not (words_text[-1].isalnum() or words_text[-1] == ")")):
            return False
        words = words_text.split()
        if len(words) > HEADING_WORDS or sum(c.isalpha() for c in words_text) < 2:
            return False
        if (self.prose_indent != float("inf") or _is_caps(words_text)
                or len(words) <= SHORT_HEADING_WORDS):
            return True
        long_words = [w for w in words if len(w) >= 4 and w[0].isalpha()]
        return 2 * sum(w[0].isupper() for w in long_words) >= len(long_words)


def _wrapped(texts: list[str]) -> bool:
    """`looks_wrapped`, and reading as prose: no tab-aligned columns, and a line of words
    (`_wordy`) among them."""
    return (looks_wrapped(texts) and not any("\t" in t for t in texts)
            and any(_wordy(t, PROSE_WORDS, least=1) for t in texts))


def _soft_break(line: str, following: str, width: int) -> bool:
    """Whether a reader carries `line` on to `following`: it is full (at least WRAP_MIN long,
    or the next word would not have fitted in the run's width), ends no sentence, opens no
    code, both are words rather than code (`_wordy`), and neither is longer than a wrapped
    line can be."""
    if len(line) > WRAP_MAX or len(following) > WRAP_MAX or TXT_ITEM.match(following):
        return False
    if SENTENCE_END.search(line) or _CODE_END.search(line):
        return False
    if not _wordy(line, PROSE_WORDS, least=1):
        return False  # code, tables, configuration: not prose a reader joins
    full = len(line) >= WRAP_MIN or width >= WRAP_MIN and (
        len(line) + 1 + len(following.split()[0]) > width)
    return full


def _term_shaped(text: str) -> bool:
    """A defined term: a mark first (`-v`, `%s`, `[opts]`) or at most TERM_WORDS words (a
    poem's line above an indented one is neither)."""
    return not text[0].isalnum() or len(text.split()) <= TERM_WORDS


def _wordy(text: str, share: float = 0.8, least: int = 3) -> bool:
    """A line of words (at least `least`, at least `share` of them letters, no tab, table
    bar or column gap between them): prose, not code, a table, a memo's header block or a
    configuration line."""
    words = text.split()
    return (len(words) >= least and "\t" not in text and "|" not in words
            and not _COLUMN_GAP.search(text)
            and sum(bool(_WORD.fullmatch(w)) for w in words) >= share * len(words))


def _is_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)
