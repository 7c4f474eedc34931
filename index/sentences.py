"""Sentence boundaries inside a block of text, as exact document offsets.

A rule-based splitter: a sentence ends at `.`, `!`, `?` or `…` (with any closing quotes or
brackets, or a word's footnote mark: "response.4 That") when whitespace and a character
that is not lowercase follow, unless the word before the period is a known abbreviation,
an initial or a dotted acronym. Rules, not a
model: fast, predictable, and the offsets are exact, which quoting needs.
"""

from __future__ import annotations

import re

# Words that end with a period but rarely end a sentence.
_ALWAYS = frozenset({
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "ft", "gen", "col", "lt", "sgt",
    "capt", "cmdr", "gov", "sen", "rep", "rev", "hon", "pres", "e.g", "i.e", "cf", "vs", "al",
    "fig", "figs", "approx", "ca", "dept", "univ", "corp", "inc", "ltd", "co",
})
# Abbreviations that precede a number: "No. 5", "pp. 12", "Jan. 3".
_BEFORE_NUMBER = frozenset({
    "no", "nos", "vol", "vols", "pp", "p", "eq", "eqs", "ref", "refs", "sec", "art", "ch",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
})
# Linear on any input: the lookbehind starts a match only at the first mark of a run, and
# possessive quantifiers never give back what they took (a run of n dots was O(n^2)).
# The second form: a footnote mark right after a word's period ("... a response.4 That
# is ..."), which papers print as a superscript and PDF text runs on.
_BOUNDARY = re.compile(r"(?<![.!?…])[.!?…]++[\"'”’»)\]]*+(?=\s++\S)"
                       r"|(?<=[a-z]{2})\.(?P<mark>\d{1,2}|[*\u2020\u2021])(?=\s++[A-Z])")
_NEXT = re.compile(r"\s++(\S)")
# The word before a period is looked for this far back at most: abbreviations are short,
# and scanning from the sentence's start made an author list ("J. Smith, ...") O(n^2).
MAX_WORD = 64
_ACRONYM = re.compile(r"(?:[a-z]\.)+[a-z]")


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of each sentence of text[start:end], trimmed of surrounding whitespace."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _BOUNDARY.finditer(text, start, end):
        following = _NEXT.match(text, match.end(), end)
        if following is None or following.group(1).islower():
            continue
        mark = match.group("mark") or ""
        if (match.group() == "." or mark) and _is_abbreviation(
                text, cursor, match.start(), mark[:1] or following.group(1)):
            continue  # "Fig.3 Shows": the abbreviation's number, not a footnote
        _add(text, cursor, match.end(), spans)
        cursor = match.end()
    _add(text, cursor, end, spans)
    return spans


def _is_abbreviation(text: str, start: int, period: int, next_char: str) -> bool:
    """Whether the period at `period` closes an abbreviation rather than a sentence."""
    word = _last_word(text, start, period).lstrip("([\"'“‘")
    if not word:
        return False
    if len(word) == 1 and word.isupper():
        return True  # an initial: "J. R. R. Tolkien"
    lower = word.lower()
    if lower in _ALWAYS or _ACRONYM.fullmatch(lower):
        return True
    return lower in _BEFORE_NUMBER and next_char.isdigit()


def _last_word(text: str, start: int, period: int) -> str:
    """The non-space run ending at `period` (within text[start:period]); "" when there is
    none or it is longer than MAX_WORD characters (no abbreviation is that long)."""
    low = max(start, period - MAX_WORD - 1)
    piece = text[low:period]
    if not piece or piece[-1].isspace():
        return ""
    word = piece.split()[-1]
    return "" if len(word) > MAX_WORD else word


def _add(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    """Append text[start:end] trimmed, when anything is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))
