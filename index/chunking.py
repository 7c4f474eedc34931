"""Cut a document into chunks of whole sentences that fit the embedding model's window.

Rules, in order:
- sentences come from each text block (`index.sentences`); headings are not sentences,
  they start a new chunk and give the chunks below them their heading path; a heading
  longer than `MAX_HEADING_CHARS` (a page of text marked up as one) is read as text: every
  chunk below would otherwise carry it, stored and tokenized once per chunk;
- sentences that are page chrome (`index.boilerplate`), that repeat an earlier sentence of
  the document (exactly or nearly: a caption printed twice), or that only repeat the
  document's title are left out, and so are the lines of a table of contents (whole lines:
  "2.4. OPTIONS . . . . 4" would split into sentences at each ". "), and so is a PDF's
  list of references (`references_span`: an entry is no answer, and its names and
  titles matched questions they have nothing to do with); a left-out sentence
  ends the chunk it interrupts, so
  `document.text[chunk.start:chunk.end] == chunk.text` always holds;
- a chunk holds up to `max_tokens` word pieces and never more than the model's window
  minus its two special tokens: the model never truncates a chunk silently; a sentence
  that alone is too long is cut at line ends (code), else at whitespace;
- a chunk also holds at most `MAX_CHUNK_CHARS` characters: a "word" of a megabyte
  without spaces is one [UNK] word piece, and a chunk of it would make every later step
  (excerpts, the bot's rendering) work on a megabyte; such words are cut by characters;
- consecutive chunks share `overlap_sentences` whole sentences, so a fact on a boundary is
  whole in one of them.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.boilerplate import contents_lines, is_boilerplate
from index.sentences import split_sentences
from quotebot.documents import Chunk, Document

NEAR_DUPLICATE_JACCARD = 0.85  # word-set overlap above which a sentence is a repeat
NEAR_DUPLICATE_MIN_WORDS = 6  # shorter sentences only count as repeats when identical
# Near repeats are looked for among the last this-many sentences sharing a first or last three
# words: bounded work per sentence, where comparing with all of them made a long document of
# alike sentences (a log, a ledger: "... of the ledger.") quadratic (minutes for 1 MB).
NEAR_DUPLICATE_WINDOW = 32
# Characters of a chunk at most (200 word pieces of English prose are ~1,200), and of a
# "word" before it is cut by characters.
MAX_CHUNK_CHARS = 6000
MAX_WORD_CHARS = 1000
# A heading longer than this is read as text (no heading path holds it): a 500 KB <h2> over
# 500 KB of text was copied into each of ~300 chunks, 150 MB to store and tokenize.
MAX_HEADING_CHARS = 300
# A list item at least this long (an option or a parameter with its description) starts a
# chunk of its own, so its vector is not shared with its neighbours'.
ITEM_CHUNK_CHARS = 120
_WORD = re.compile(r"\w+")
_NON_SPACE = re.compile(r"\S+")
_LINE = re.compile(r"\S(?:[^\n]*\S)?")  # a line's text, first to last visible character
# A references section's heading, on a line of its own ("References", "9. REFERENCES"),
# and an appendix after it, which is text again.
_REFERENCES = re.compile(r"^[ \t]*(?:\d+\.?[ \t]+|[IVX]+\.[ \t]+)?(?:references|bibliography"
                         r"|works cited|literature cited)[ \t]*$", re.I | re.M)
# The first entry of a list of references: "[1] ...", "[BP] ...", "1. CHANDY, K. M. ...",
# "Attiya, H., ..." (the evidence that the heading heads a list, not a body section).
_ENTRY = re.compile(r"[ \t]*(?:\[[^\]\n]{1,24}\]|\d{1,3}\.[ \t]"
                    r"|(?:(?:van|von|de|di|da|du|del|le|la)[ \t]+)?[^\W\d_][\w'’-]*,?[ \t]+"
                    r"[A-Z](?:[A-Z]?\b|\.|[a-z]+,))")
_NUMBERED = re.compile(r"[ \t]*(?:\[[^\]\n]{1,24}\]|\d{1,3}\.[ \t])")  # "[12] ..", "12. .."
_BLANK = re.compile(r"\s*")
# What ends the list: an appendix or any section heading after it ("A Proof of Theorem 1",
# "B.2 Setup", "Supplementary material"): a short line, numbered or lettered, without
# the commas and periods of an entry.
_AFTER_LIST = re.compile(r"^[ \t]*(?:(?i:appendix|appendices|supplementary)\b"
                         r"|(?:[A-Z]|\d{1,2})(?:\.\d{1,2})*\.?[ \t]+[A-Z][A-Za-z0-9 \t-]{1,60}$)",
                         re.M)
REFERENCES_AFTER = 0.5  # a references heading in the first half is a contents line, a quote

Span = tuple[int, int]


class TokenCounter:
    """Counts word pieces the way the embedding model's tokenizer does, without special tokens."""

    def __init__(self, tokenizer: Any) -> None:
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self._tokenizer = tokenizer

    def __call__(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def batch(self, texts: Sequence[str]) -> list[int]:
        """Counts for many texts at once (the Rust tokenizer runs them in parallel)."""
        if not texts:
            return []
        encoded = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encoded]


def load_token_counter(location: str) -> TokenCounter:
    """The tokenizer of the model at `location` (a folder or a hub id), as a token counter."""
    from tokenizers import Tokenizer

    path = Path(location) / "tokenizer.json"
    if path.is_file():
        return TokenCounter(Tokenizer.from_file(str(path)))
    from transformers import AutoTokenizer  # slower path: folders without tokenizer.json

    return TokenCounter(AutoTokenizer.from_pretrained(location).backend_tokenizer)


def count_many(count_tokens: Callable[[str], int], texts: Sequence[str]) -> list[int]:
    """Token counts of many texts, batched when the counter can."""
    batch = getattr(count_tokens, "batch", None)
    return batch(texts) if batch else [count_tokens(t) for t in texts]


@dataclass
class _Run:
    """Consecutive kept sentences under one heading path: chunks never cross a run."""

    heading_path: list[str]
    sentences: list[Span]


def chunk_document(doc: Document, count_tokens: Callable[[str], int], max_tokens: int = 200,
                   overlap_sentences: int = 1, window: int = 256) -> list[Chunk]:
    """The document's chunks, in document order."""
    limit = max(8, min(max_tokens, window - 2))
    runs = _sentence_runs(doc)
    flat = [span for run in runs for span in run.sentences]
    # Texts over MAX_CHUNK_CHARS are not counted (the tokenizer is slow on a megabyte of
    # one "word"): they are cut by _split_long whatever their count.
    counted = count_many(count_tokens, [doc.text[s:e] if e - s <= MAX_CHUNK_CHARS else ""
                                        for s, e in flat])
    counts = {span: n if span[1] - span[0] <= MAX_CHUNK_CHARS else limit + 1
              for span, n in zip(flat, counted, strict=True)}
    chunks: list[Chunk] = []
    for run in runs:
        pieces: list[Span] = []
        for span in run.sentences:
            if counts[span] <= limit and span[1] - span[0] <= MAX_CHUNK_CHARS:
                pieces.append(span)
            else:
                for piece in _split_long(doc.text, span, limit, count_tokens):
                    counts[piece] = limit  # an upper bound is all packing needs
                    pieces.append(piece)
        for group in _pack(pieces, counts, limit, overlap_sentences, MAX_CHUNK_CHARS):
            for part in _fit(doc.text, group, window - 2, count_tokens):
                chunks.append(_make_chunk(doc, len(chunks), part, run.heading_path))
    return chunks


def left_out_sentences(doc: Document) -> list[tuple[int, int, str]]:
    """(start, end, reason) of each sentence the chunker leaves out: page chrome or a repeat."""
    left_out: list[tuple[int, int, str]] = []
    _sentence_runs(doc, left_out)
    return left_out


def _sentence_runs(doc: Document,
                   left_out: list[tuple[int, int, str]] | None = None) -> list[_Run]:
    """Kept sentences grouped into runs; headings and left-out sentences end a run.

    Left-out sentences are appended to `left_out` when given, with the reason.
    """
    runs: list[_Run] = []
    headings: list[tuple[int, str]] = []
    current: _Run | None = None
    repeats = _RepeatFilter(doc.title)
    references = references_span(doc) or (0, 0)
    for block in doc.blocks:
        if block.kind == "heading" and block.end - block.start <= MAX_HEADING_CHARS:
            while headings and headings[-1][0] >= block.level:
                headings.pop()
            title = doc.text[block.start:block.end].strip().lstrip("#").strip()
            headings.append((block.level, title))
            current = None
            continue
        if (block.kind == "item" and doc.format != "pdf"
                and block.end - block.start >= ITEM_CHUNK_CHARS):
            # A substantial list item (an option, a parameter) starts a chunk. Not in PDFs:
            # their items are bullets drawn on the page, and the text cannot show where
            # the last item ends and the next paragraph begins.
            current = None
        for start, end, contents in _block_sentences(doc.text, block.start, block.end):
            sentence = doc.text[start:end]
            cited = references[0] <= start < references[1]
            chrome = not contents and not cited and is_boilerplate(sentence)
            if contents or cited or chrome or repeats.seen(sentence):
                if left_out is not None:
                    reason = ("contents" if contents else "references" if cited
                              else "page chrome" if chrome else "repeat")
                    left_out.append((start, end, reason))
                current = None
                continue
            if current is None:
                current = _Run([title for _, title in headings], [])
                runs.append(current)
            current.sentences.append((start, end))
    return runs


def references_span(doc: Document) -> tuple[int, int] | None:
    """(start, end) of a PDF's list of references: from its heading, in the second half
    of the text and followed by an entry, to an appendix, the next heading or the end.
    None for other formats and without one."""
    if doc.format != "pdf":
        return None
    text = doc.text
    headings = [m for m in _REFERENCES.finditer(text, int(len(text) * REFERENCES_AFTER))
                if _ENTRY.match(text, _BLANK.match(text, m.end()).end())]  # an entry next
    if not headings:
        return None
    found = headings[-1]  # a table of references in the text may come before the list
    for after in _AFTER_LIST.finditer(text, found.end() + 1):
        # A wrapped entry's line may look like a heading ("A Crash Recovery Protocol"):
        # the list goes on while numbered entries follow within a few lines.
        lines = text[after.end():].lstrip("\n").split("\n", 4)[:3]
        if not any(_NUMBERED.match(line) for line in lines):
            return found.start(), after.start()
    return found.start(), len(text)


def _block_sentences(text: str, start: int, end: int) -> list[tuple[int, int, bool]]:
    """(start, end, is a contents line) of a block's sentences, in order; a table of
    contents' line is one span, and the sentences around it are split without it."""
    spans: list[tuple[int, int, bool]] = []
    for line_start, line_end in [*contents_lines(text, start, end), (end, end)]:
        spans += [(s, e, False) for s, e in split_sentences(text, start, line_start)]
        if line_end > line_start:
            spans.append((line_start, line_end, True))
        start = line_end
    return spans


class _RepeatFilter:
    """Remembers a document's sentences to spot exact and near repeats (a caption twice)."""

    def __init__(self, title: str) -> None:
        self._exact: set[tuple[str, ...]] = set()
        self._by_edge: dict[tuple[str, ...], deque[frozenset[str]]] = {}
        self._title = tuple(_WORD.findall(title.lower()))

    def seen(self, sentence: str) -> bool:
        """Whether the sentence repeats an earlier one; remembers it when it does not."""
        words = tuple(_WORD.findall(sentence.lower()))
        if not words:
            return True  # punctuation only ("***", "---"): nothing to quote
        if words in self._exact:
            return True
        if words == self._title and not sentence.rstrip().endswith((".", "!", "?")):
            return True  # the title line: kept as the document's title, not as a quote
        self._exact.add(words)
        if len(words) < NEAR_DUPLICATE_MIN_WORDS:
            return False
        bag = frozenset(words)
        edges = (words[:3], words[-3:])
        for edge in edges:
            for other in self._by_edge.get(edge, ()):
                if len(bag & other) >= NEAR_DUPLICATE_JACCARD * len(bag | other):
                    return True
        for edge in edges:
            self._by_edge.setdefault(edge, deque(maxlen=NEAR_DUPLICATE_WINDOW)).append(bag)
        return False


def _split_long(text: str, span: Span, limit: int,
                count_tokens: Callable[[str], int]) -> list[Span]:
    """Cut a sentence longer than `limit` word pieces into pieces that fit: at line ends
    when it has lines (a code block, a table: a piece never ends mid-statement), else, and
    for a line too long itself, at whitespace."""
    lines = [(m.start(), m.end()) for m in _LINE.finditer(text, span[0], span[1])]
    if len(lines) <= 1:
        return _split_words(text, span, limit, count_tokens)
    return _greedy(text, lines, limit, count_tokens, MAX_CHUNK_CHARS,
                   lambda line: _split_words(text, line, limit, count_tokens))


def _split_words(text: str, span: Span, limit: int,
                 count_tokens: Callable[[str], int]) -> list[Span]:
    """Cut a span longer than `limit` word pieces at whitespace into pieces that fit."""
    # finditer(text, pos, endpos) gives offsets into the whole text already.
    words = [(m.start(), m.end()) for m in _NON_SPACE.finditer(text, span[0], span[1])]

    def by_characters(word: Span) -> list[Span]:
        # one "word" longer than MAX_WORD_CHARS (not counted), or than the window (a URL,
        # base64): cut by characters
        s, e = word
        step = MAX_WORD_CHARS if e - s > MAX_WORD_CHARS else limit
        return [(p, min(p + step, e)) for p in range(s, e, step)]

    return _greedy(text, words, limit, count_tokens, MAX_WORD_CHARS, by_characters)


def _greedy(text: str, units: list[Span], limit: int, count_tokens: Callable[[str], int],
            max_unit: int, cut: Callable[[Span], list[Span]]) -> list[Span]:
    """Consecutive `units` (lines, words) packed into spans of at most `limit` word pieces
    and `MAX_CHUNK_CHARS` characters; a unit too long alone (over `max_unit` characters,
    not counted, or over `limit` word pieces) stands apart, cut by `cut`."""
    pieces: list[Span] = []
    start: int | None = None
    used, prev_end = 0, 0
    counted = count_many(count_tokens, [text[s:e] if e - s <= max_unit else ""
                                        for s, e in units])
    for (s, e), n in zip(units, counted, strict=True):
        if e - s > max_unit or n > limit:
            if start is not None:
                pieces.append((start, prev_end))
                start, used = None, 0
            pieces += cut((s, e))
            continue
        if start is not None and (used + n > limit or e - start > MAX_CHUNK_CHARS):
            pieces.append((start, prev_end))
            start, used = None, 0
        if start is None:
            start = s
        used += n
        prev_end = e
    if start is not None:
        pieces.append((start, prev_end))
    return pieces


def _pack(pieces: list[Span], counts: dict[Span, int], limit: int,
          overlap: int, max_chars: int = MAX_CHUNK_CHARS) -> list[list[Span]]:
    """Greedy packing of sentences into groups of at most `limit` tokens and `max_chars`
    characters, with overlap."""
    groups: list[list[Span]] = []
    current: list[Span] = []
    used = 0

    def too_big(span: Span) -> bool:
        return used + counts[span] > limit or span[1] - current[0][0] > max_chars

    for span in pieces:
        n = counts[span]
        if current and too_big(span):
            groups.append(current)
            current = current[len(current) - overlap:] if overlap > 0 else []
            used = sum(counts[s] for s in current)
            while current and too_big(span):
                used -= counts[current.pop(0)]
        current.append(span)
        used += n
    if current:
        groups.append(current)
    return groups


def _fit(text: str, group: list[Span], budget: int,
         count_tokens: Callable[[str], int]) -> list[list[Span]]:
    """The group, halved until each part's exact token count is within `budget`."""
    if len(group) == 1 or count_tokens(text[group[0][0]:group[-1][1]]) <= budget:
        return [group]
    middle = len(group) // 2
    return (_fit(text, group[:middle], budget, count_tokens)
            + _fit(text, group[middle:], budget, count_tokens))


def _make_chunk(doc: Document, ordinal: int, spans: list[Span],
                heading_path: list[str]) -> Chunk:
    """A chunk over the given sentences, with its citation fields."""
    start, end = spans[0][0], spans[-1][1]
    return Chunk(
        doc_id=doc.doc_id, ordinal=ordinal, start=start, end=end, text=doc.text[start:end],
        sentences=list(spans), line_start=doc.line_at(start), line_end=doc.line_at(end - 1),
        page_start=doc.page_at(start), page_end=doc.page_at(end - 1),
        heading_path=list(heading_path),
    )
