"""Which sentence(s) of a passage to quote, and the exact span of the quote.

Each sentence is scored against the question with its stored sentence vector (cosine)
plus the share of the question's informative words (IDF-weighted) that it contains.
The best sentence is quoted; its neighbour joins when the sentence cannot stand alone
(it opens with a pronoun or connective, or is a fragment) or when it scores nearly as
well (the sentence naming the subject and the one giving the fact). Quotes are always spans of
the stored document text, so a citation never points at text that is not there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.lexical import tokenize

# Words that make a sentence lean on the one before it.
_ANAPHORA = re.compile(
    r"^[\"'“‘(]*(it|its|this|that|these|those|he|she|they|his|her|their|them|such|"
    r"however|but|also|thus|therefore|moreover|meanwhile|instead|then|there|here|"
    r"the latter|the former|both|another|other|which)\b",
    re.IGNORECASE)
_MIN_WORDS = 6  # a shorter best sentence takes its follower for context
# A second quote from one passage must hold this share of the question's words, nearly as
# many as the best quote, and be nearly as close in meaning (an article giving two
# figures for one fact: both are quoted).
SECOND_MIN_OVERLAP = 0.5
SECOND_OVERLAP_GAP = 0.25
SECOND_COSINE_GAP = 0.15


@dataclass
class SentenceScore:
    index: int  # position within the passage's sentences
    start: int
    end: int
    score: float
    cosine: float = 0.0  # dense similarity to the question
    overlap: float = 0.0  # IDF-weighted share of the question's words it holds


@dataclass
class Excerpt:
    start: int  # document offsets of the quote
    end: int
    score: float
    sentences: tuple[int, int]  # first and last sentence index within the passage
    cosine: float = 0.0  # of the best sentence (the one the quote is built around)
    overlap: float = 0.0


def question_weights(question: str, idf: dict[str, float]) -> dict[str, float]:
    """The question's stemmed content words with their IDF (unknown words weigh nothing)."""
    return {t: idf[t] for t in dict.fromkeys(tokenize(question)) if t in idf}


def score_sentences(text: str, spans: Sequence[tuple[int, int]], vectors: np.ndarray,
                    query_vector: np.ndarray, weights: dict[str, float],
                    lexical_weight: float = 0.5) -> list[SentenceScore]:
    """Score each sentence span of `text` (document offsets) against the question."""
    cosine = vectors.astype(np.float32) @ query_vector if len(spans) else np.empty(0)
    total = sum(weights.values()) or 1.0
    scores = []
    for i, (s, e) in enumerate(spans):
        words = set(tokenize(text[s:e]))
        overlap = sum(w for t, w in weights.items() if t in words) / total
        cos = float(cosine[i])
        scores.append(SentenceScore(i, s, e, cos + lexical_weight * overlap, cos, overlap))
    return scores


def needs_neighbour(sentence: str) -> str:
    """'before' when the sentence leans on the previous one, 'after' when it is a fragment."""
    if _ANAPHORA.match(sentence.strip()):
        return "before"
    if len(sentence.split()) < _MIN_WORDS or sentence.rstrip().endswith(":"):
        return "after"
    return ""


def excerpt_around(text: str, scores: Sequence[SentenceScore], best: int,
                   max_sentences: int = 3, join_margin: float = 0.0) -> Excerpt:
    """The best sentence, widened by one neighbour when it cannot stand alone, and by a
    neighbour that answers nearly as well (within `join_margin`)."""
    first = last = best
    want = needs_neighbour(text[scores[best].start:scores[best].end])
    if want == "before" and best > 0:
        first = best - 1
    elif want == "after" and best + 1 < len(scores):
        last = best + 1
    elif want == "before" and best + 1 < len(scores):
        last = best + 1  # nothing before it in this passage: give the reader what follows
    if join_margin > 0:
        floor = scores[best].score - join_margin
        for j in sorted((first - 1, last + 1), key=lambda j: -_score_at(scores, j)):
            if last - first + 1 < max_sentences and _score_at(scores, j) >= floor:
                first, last = min(first, j), max(last, j)
    if last - first + 1 > max_sentences:
        first, last = best, best
    return Excerpt(scores[first].start, scores[last].end, scores[best].score, (first, last),
                   scores[best].cosine, scores[best].overlap)


def _score_at(scores: Sequence[SentenceScore], i: int) -> float:
    return scores[i].score if 0 <= i < len(scores) else float("-inf")


def best_excerpts(text: str, scores: Sequence[SentenceScore], *, limit: int,
                  margin: float, join_margin: float = 0.0) -> list[Excerpt]:
    """The best excerpt, and up to `limit - 1` more non-touching ones that also answer.

    Another sentence is quoted too when it scores within `margin` of the best, or when it
    matches the question's words and meaning nearly as well as the best does.
    """
    if not scores:
        return []
    ranked = sorted(range(len(scores)), key=lambda i: -scores[i].score)
    best = scores[ranked[0]]
    chosen: list[Excerpt] = []
    for i in ranked:
        if len(chosen) >= limit:
            break
        s = scores[i]
        close = s.score >= best.score - margin
        also = (s.overlap >= SECOND_MIN_OVERLAP
                and s.overlap >= best.overlap - SECOND_OVERLAP_GAP
                and s.cosine >= best.cosine - SECOND_COSINE_GAP)
        if not (close or also):
            continue
        excerpt = excerpt_around(text, scores, i, join_margin=join_margin)
        first, last = excerpt.sentences
        if all(last + 1 < c.sentences[0] or c.sentences[1] + 1 < first for c in chosen):
            chosen.append(excerpt)
    return chosen
