"""What every format loader shares: reading a file within limits, decoding bytes to text,
and the plain-text block rules (paragraphs, list items, hard-wrapped lines).

Block rules, shared by txt, md and the lines of a docx paragraph:
- paragraphs are separated by blank lines; a list item (`- `, `* `, `+ `, `• ` or another
  bullet glyph, `1. `, `1) `) starts a new segment of its paragraph, the block starting
  after the marker;
- a segment of two or more lines is hard-wrapped prose (ONE block) when every line is at most
  `WRAP_MAX` characters, every line but the last at least `WRAP_MIN`, and at most half of the
  lines but the last end with sentence-final punctuation; otherwise each line is its own block
  (photo credits, headlines, one-sentence-per-line files).
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from charset_normalizer import from_bytes

from quotebot.documents import BULLETS, Block


class SkipFile(Exception):
    """A file that cannot be indexed; str(exc) is a one-line reason for the build report."""


WRAP_MIN = 40  # a wrapped line (all but a paragraph's last) is at least this long...
WRAP_MAX = 100  # ...and no line of a wrapped paragraph is longer than this
BINARY_CONTROL_RATIO = 0.1  # share of control characters above which decoded text is binary

_NEWLINES = re.compile(r"\r\n?")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all but \t and \n (\r is gone)
_BINARY_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")  # also spares \r and \f
# What no Document may hold (see `valid_text`): C0/C1 controls but \t and \n, lone
# surrogates (pypdf decodes a ToUnicode map to U+D800 into one; tokenizers and SQLite then
# fail), and Unicode non-characters (U+FDD0..U+FDEF and the last two of every plane).
_INVALID = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef" + "".join(
    f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(17)) + "]")
WHITESPACE = re.compile(r"\s+")
SENTENCE_END = re.compile(r"[.!?:;…][\"'”’)\]»]*$")
TXT_ITEM = re.compile(rf"[ \t]*(?:[-*+{BULLETS}]|\d{{1,3}}[.)])[ \t]+(?=\S)")


@dataclass
class Loaded:
    """What a format loader extracts; `load_document` adds the file's identity."""

    text: str
    blocks: list[Block]
    title: str = ""
    line_anchors: list[tuple[int, int]] = field(default_factory=list)
    page_starts: list[int] | None = None
    notes: list[str] = field(default_factory=list)  # for the build report (e.g. OCR skipped)


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


# --- decoding ----------------------------------------------------------------------------------

def normalise(text: str) -> str:
    """`\\r\\n`/`\\r` to `\\n`, control characters but `\\t` to spaces: same length lines."""
    return _CONTROLS.sub(" ", _NEWLINES.sub("\n", text))


def valid_text(text: str) -> str:
    """`text` with every invalid character replaced one for one (offsets stay put):
    controls (but \\t and \\n) become spaces, lone surrogates and non-characters U+FFFD.

    Applied once, to everything a loader returns, so nothing downstream (tokenizers,
    SQLite, Telegram) ever sees text it cannot encode.
    """
    if _INVALID.search(text) is None:
        return text
    return _INVALID.sub(lambda m: " " if m.group() <= "\x9f" else "\ufffd", text)


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
    if declared and _is_charset(declared):
        yield declared
    guess = _guess_encoding(data)
    if guess:
        yield guess
    yield "cp1252"


# Python codecs that are no character set a page can be written in: they rewrite escapes
# ("\\u202e" in a page named unicode_escape became a real right-to-left override, so the
# quote no longer matched the file) or are not in the web's Encoding Standard.
_NOT_CHARSETS = frozenset(("unicode-escape", "raw-unicode-escape", "punycode", "idna",
                           "utf-7", "undefined", "palmos", "mbcs", "oem"))


def _is_charset(name: str) -> bool:
    """Whether a declared charset names a character set (a text codec of bytes)."""
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return False
    return (getattr(info, "_is_text_encoding", True)
            and info.name.replace("_", "-") not in _NOT_CHARSETS)


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


# --- lines and plain-text blocks ---------------------------------------------------------------

def line_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of each line of text[start:end], newline excluded."""
    spans = []
    for line in text[start:end].split("\n"):
        spans.append((start, start + len(line)))
        start += len(line) + 1
    return spans


def trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span without surrounding whitespace, or None when nothing is left."""
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return None
    lead = len(piece) - len(piece.lstrip())
    return start + lead, start + lead + len(stripped)


def paragraphs(text: str, lines: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Runs of non-blank lines, each line trimmed."""
    paragraphs: list[list[tuple[int, int]]] = [[]]
    for start, end in lines:
        span = trim(text, start, end)
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
    return 2 * sum(1 for line in body if SENTENCE_END.search(line)) <= len(body)


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


def paragraph_blocks(text: str, paragraph: list[tuple[int, int]],
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



# --- shared ------------------------------------------------------------------------------------

def short(exc: Exception) -> str:
    """A one-line, bounded description of a parser's exception."""
    message = WHITESPACE.sub(" ", str(exc)).strip()
    return (message or type(exc).__name__)[:120]

