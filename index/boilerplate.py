"""Recognise page chrome that must never be quoted as an answer.

Newsletter sign-up prompts, photo credits, share/follow prompts and the like. The rules are
deliberately conservative: they only look at short sentences, and each pattern names a
phrase that real prose rarely uses, so a sentence that carries information is kept.

A table of contents' line ("2.4. OPTIONS . . . . . . 4", "Preface ........ vii") is chrome
too: a dot leader (at least `MIN_LEADER_DOTS` dots, spaced or not) and a page number end it.
The sentence splitter cuts such a line at every ". ", so it is judged by whole lines.
"""

from __future__ import annotations

import re

MAX_WORDS = 20  # longer sentences are prose, whatever words they contain
# ...and so are longer ones in characters: the prompt patterns ("subscribe ... newsletter")
# scan the rest of the sentence from each match, O(n^2) on "subscribe.subscribe...." (one
# "word" to split()), so a sentence is never searched past this length.
MAX_CHARS = 400
CREDIT_MAX_WORDS = 12
MIN_LEADER_DOTS = 4  # "and so on. . ." is an ellipsis; four dots before a number, a leader

_PROMPTS = [re.compile(p, re.IGNORECASE) for p in (
    r"\b(sign(ed|ing)?[ -]?up|subscribe|subscribing|unsubscribe)\b.*"
    r"\b(newsletters?|e-?mails?|inbox|alerts?|updates)\b",
    r"\bnewsletters?\b.*\b(sign(ed|ing)?[ -]?up|subscribe|here|inbox|delivered)\b",
    r"\bthanks? (you )?for (signing up|subscribing)\b",
    r"\b(in|to) your inbox\b",
    r"\bdelivered (to you )?(every|each) (morning|day|week|evening)\b",
    r"\bfollow us on\b",
    r"\ball rights reserved\b",
    r"\b(share|email|tweet) this (article|story|page)\b",
    r"^\W*(advertisement|sponsored content|related (articles|stories|coverage)|read more|"
    r"click here|skip to (main )?content|back to top)\b\W*$",
)]
_CREDIT_WORD = re.compile(r"getty images|shutterstock|\bphoto(graph)?s?\b|\bimages?\b|"
                          r"\bcredit\b|©", re.IGNORECASE)
_CREDIT_SHAPE = re.compile(r"/|^\W*(photo|image|picture|credit)s?\b|"
                           r"(getty images|shutterstock)\W*$", re.IGNORECASE)


def is_boilerplate(sentence: str) -> bool:
    """Whether a sentence is page chrome (sign-up prompt, photo credit, share prompt)."""
    if len(sentence) > MAX_CHARS:
        return False
    words = len(sentence.split())
    if words > MAX_WORDS:
        return False
    if any(pattern.search(sentence) for pattern in _PROMPTS):
        return True
    return (words <= CREDIT_MAX_WORDS and _CREDIT_WORD.search(sentence) is not None
            and _CREDIT_SHAPE.search(sentence) is not None)


_PAGE_AT_END = re.compile(r"(?<!\w)(?:\d{1,4}|[ivxlcdm]{1,7})[ \t]*$", re.IGNORECASE)
_LEADER = ". \t\u00a0\u2026\u00b7"  # dots, spaces, "…" and "·" (leaders are set with either)


def is_contents_line(line: str) -> bool:
    """Whether a line is a table of contents' entry: text, a dot leader, a page number."""
    number = _PAGE_AT_END.search(line)
    if number is None:
        return False
    before = line[:number.start()]
    leader = before[len(before.rstrip(_LEADER)):]
    return leader.count(".") + leader.count("\u00b7") + 3 * leader.count("\u2026") \
        >= MIN_LEADER_DOTS


def contents_lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of each table-of-contents line (`is_contents_line`) in text[start:end]."""
    found: list[tuple[int, int]] = []
    piece = text[start:end]
    if "..." in piece or ". ." in piece or "\u2026" in piece:
        at = start
        while at < end:
            stop = text.find("\n", at, end)
            stop = end if stop < 0 else stop
            if is_contents_line(text[at:stop]):
                found.append((at, stop))
            at = stop + 1
    return found
