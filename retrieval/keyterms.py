"""The question's key terms: numbers, years and names, which must match exactly.

"What happened in 1998?" and "What happened in 2004?" mean almost the same to an
embedding model; only the year tells them apart. Ranking and quote choice give passages
and sentences holding these exact tokens extra weight (`Settings.key_weight`).
"""

from __future__ import annotations

import re

from index.lexical import tokenize

_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)*\b")
# A capitalised word that does not open the question (or a sentence in it): a name.
_NAME = re.compile(r"(?<=[\w,;:)\"'’] )[A-Z][\w'’-]*")


def key_terms(question: str) -> list[str]:
    """The question's numbers and names as index tokens (stemmed, lowercased), in order."""
    found = [m.group(0) for m in _NUMBER.finditer(question)]
    if any(ch.islower() for ch in question):  # in a question typed in capitals ("WHAT
        # DOES TAO STAND FOR?") every word looks like a name: none can be told apart
        found += [m.group(0) for m in _NAME.finditer(question)]
    return list(dict.fromkeys(t for word in found for t in tokenize(word)))
