"""The words BM25 sees: one tokenizer for chunks and questions, on every store backend.

The FAISS backend's BM25 index (store/bm25.py) and the Qdrant backend's sparse vectors
(store/qdrant.py) are both built from these tokens, and questions are tokenized the
same way, so lexical scores mean the same on both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from store import meta
from store.bm25 import BM25_DIR, BM25_IDS, K1, B, LexicalIndex, bm25_matrix, build_lexical_tokens

__all__ = ["BM25_DIR", "BM25_IDS", "K1", "B", "LexicalIndex", "bm25_matrix",
           "build_lexical_tokens", "tokenize", "lexical_text", "chunk_lexical_tokens",
           "chunk_tokens", "build_lexical", "QUESTION_WORDS", "is_question_word",
           "question_tokens", "without_asking"]
# Bump when `tokenize` or `lexical_text` change: tokens kept in the store are then redone.
TOKENS_VERSION = 2

# Letters and digits: underscores split words too, so `_Boxes_` (Markdown emphasis) and
# `max_connections` (an identifier) give the words a question uses.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@lru_cache(maxsize=1)
def _stemmer_and_stopwords() -> tuple[object, frozenset[str]]:
    import Stemmer
    from bm25s.stopwords import STOPWORDS_EN

    return Stemmer.Stemmer("english"), frozenset(STOPWORDS_EN)


def tokenize(text: str) -> list[str]:
    """Lowercased, stop words dropped, Snowball-stemmed word tokens (split at any non-letter
    but digits: `_Boxes_` gives `box`)."""
    stemmer, stopwords = _stemmer_and_stopwords()
    words = [w for w in _WORD.findall(text.lower()) if w not in stopwords]
    return stemmer.stemWords(words)  # type: ignore[attr-defined]


# Words that only ask ("What...", "How..."): they name no content. In documents that
# rarely ask questions they are rare, so BM25 weighs them much, and "in what follows"
# would match "What kind of servers...". Auxiliaries ("does", "can") are kept: in how-to
# prose they match ("How can I..." / "You can..."), measured (BENCHMARKS.md).
QUESTION_WORDS = "what who whom whose when where why how"


@lru_cache(maxsize=1)
def _question_words() -> frozenset[str]:
    return frozenset(tokenize(QUESTION_WORDS))


def is_question_word(token: str) -> bool:
    """Whether an index token is one of `QUESTION_WORDS`."""
    return token in _question_words()


# The auxiliary of a question's inversion: "What does TAO favor...?", "How do I...?",
# "What kind of servers does chain replication coordinate?", "Does X support Y?". It only
# asks; in papers "does" is rare (IDF 2.5), and "TAO does not provide ..." outranked the
# sentence that answers. Only right after the question word's phrase (after a lead-in
# phrase and its comma, if any: "In Gilbert and Lynch's model, what does ..."), when that
# phrase has no verb or clause of its own ("What happens when the server does nothing?"),
# lowercase or capitalised (the acronyms DO and DID are words), and not before "not"
# ("... host does not validate?"). A subject question's main verb goes too ("Who did the
# analysis?"): "did" says little there either.
_INVERTED = re.compile(
    r"^\W*(?:[^,?.!]{1,60},\s*)?(?:(?:what|who|whom|whose|when|where|why|how|which)\b"
    r"(?:(?!\s(?:is|are|was|were|am|be|been|has|have|had|can|could|will|would|shall|"
    r"should|may|might|must|do|does|did|if|when|where|while|whether|that|because|after|"
    r"before|unless|until)\b)[^?.!])*?\s)?"
    r"(?-i:([Dd]o|[Dd]oes|[Dd]id))\s+(?!not\b)\w", re.IGNORECASE)
# The quantity word of "how many/much": it asks for an amount, which the answer gives as
# a number ("even with only one faulty process"), as the confidence's own asking words
# have it. Not "how large/old/far": those name what is asked (size, age, distance), and a
# corpus that never says it is one that cannot answer.
_DEGREE = re.compile(r"\bhow\s+(many|much)\b", re.IGNORECASE)
# The "kind of" of "What kind of servers ...?" (type, sort): it asks for a kind, as "what"
# asks for a thing, and "kind" is rare in papers (IDF 4.2, the question's heaviest word).
# Only opening the question: "Is it kind of slow?" and "a new kind of store" keep it. Not
# the plural: "What types of timeouts ...?" is answered by "There are four different types
# of timeouts ...". On the 317 such questions of SQuAD dev, first quotes right 263 -> 266
# (BENCHMARKS.md).
_KIND = re.compile(r"^(\W*(?:what|which)\s+)(?:kind|type|sort)\s+of\s+", re.IGNORECASE)


def without_asking(question: str) -> str:
    """The question without the words that only ask besides `QUESTION_WORDS`: the
    do/does/did of its inversion (`_INVERTED`), the "many/much" of "how many/much"
    (`_DEGREE`) and the "kind of" of "what kind of" (`_KIND`)."""
    found = _INVERTED.match(question)
    if found:
        question = question[:found.start(1)] + question[found.end(1):]
    return _KIND.sub(r"\1", _DEGREE.sub("how", question))


def question_tokens(question: str) -> list[str]:
    """A question's BM25 tokens without `QUESTION_WORDS` or the other words that only ask
    (`without_asking`); when that leaves none, without `QUESTION_WORDS` alone ("How
    many?"); all of them when even that leaves none ("Who? When?")."""
    narrowed = [t for t in tokenize(without_asking(question)) if not is_question_word(t)]
    if narrowed:
        return narrowed
    tokens = tokenize(question)
    return [t for t in tokens if not is_question_word(t)] or tokens


def lexical_text(title: str, heading_path: Sequence[str], text: str) -> str:
    """What BM25 sees for a chunk: its document's title and headings, then its text."""
    return "\n".join([title, *heading_path, text])


def chunk_lexical_tokens(title: str, heading_path: Sequence[str], text: str) -> list[str]:
    """The BM25 tokens of a chunk: of its title, headings and text."""
    return tokenize(lexical_text(title, heading_path, text))


def chunk_tokens(db: object) -> tuple[list[int], list[list[str]]]:
    """Chunk ids and BM25 tokens of a generation being built (see `store.meta.chunk_tokens`)."""
    return meta.chunk_tokens(db, chunk_lexical_tokens, TOKENS_VERSION)  # type: ignore[arg-type]


def build_lexical(folder: Path, ids: Sequence[int], texts: Sequence[str]) -> None:
    """Write the BM25 index of `texts` (rows in the order of `ids`) into a generation folder."""
    build_lexical_tokens(folder, ids, [tokenize(t) for t in texts])
