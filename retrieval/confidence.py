"""How sure is an answer? A small logistic model over a few signals of the best quote.

One raw score with one threshold declined too many answerable questions where it was
fitted and too few elsewhere. The confidence is instead a probability-like number from 0
to 1: a logistic regression over signals that mean the same on any corpus (cosines,
shares of the question's words, ranks, whether the quote holds the kind of answer the
question asks for). Its coefficients are fitted by `benchmarks/fit_confidence.py` on
training questions only and shipped in `confidence_model.json` beside this file.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from index.lexical import tokenize

MODEL_FILE = Path(__file__).with_name("confidence_model.json")

# What kind of answer a question asks for, from its first words.
_COUNT_Q = re.compile(r"\b(how (many|much|long|old|far|tall|big|large|often|high)|"
                      r"what (percentage|proportion|number|amount|size))\b|"
                      # "What is the (retail) price of ...?", "What was the population ...?"
                      r"^\W*what\s+(is|was|are|were)\s+the\s+(\w+\s+)?(price|cost|population|"
                      r"salary|fee|budget|revenue|number|amount|size|length|height|weight|age|"
                      r"speed|rate|percentage|share|total)\b", re.I)
_DATE_Q = re.compile(r"\b(when|what (year|date|day|month|century|decade)|"
                     r"which (year|date|day|month|century|decade))\b", re.I)
_WHO_Q = re.compile(r"\b(who|whom|whose)\b", re.I)
_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
                     r"twelve|twenty|thirty|forty|fifty|hundred|thousand|million|billion|"
                     r"dozen|half|several)\b", re.I)
_DATE = re.compile(r"\b(1\d{3}|20\d{2}|\d{1,2}(st|nd|rd|th)?|january|february|march|april|"
                   r"may|june|july|august|september|october|november|december|century|"
                   r"decade|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
                   re.I)
# Words that only ask ("why does", "how many"), as index tokens.
_ASKING = frozenset(tokenize("why does did do how many much what which when where who whom "
                             "whose"))
# A capitalised word that is not the first word of a sentence: a name.
_NAME = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][a-z]+")


def question_type(question: str) -> str:
    """'count', 'date', 'who' or '' (no expected answer type)."""
    if _COUNT_Q.search(question):
        return "count"
    if _DATE_Q.search(question):
        return "date"
    if _WHO_Q.search(question):
        return "who"
    return ""


def holds_type(text: str, kind: str) -> bool:
    """Whether `text` holds an answer of the kind the question asks for."""
    if kind == "count":
        return bool(_NUMBER.search(text))
    if kind == "date":
        return bool(_DATE.search(text))
    if kind == "who":
        return bool(_NAME.search(text.strip()))
    return True


@dataclass
class Signals:
    """What the confidence is computed from; each means the same on any corpus."""

    cosine: float  # the best quoted sentence's cosine with the question
    # IDF-weighted share of the question's known words the quote holds, times the share of
    # its words the corpus knows (a word it never uses is one the quote lacks)
    overlap: float
    passage_overlap: float  # the same share for the whole passage
    unknown: float  # share of the question's content words the corpus never uses
    agreement: float  # mean reciprocal rank of the first passage in dense and in BM25 order
    margin: float  # fused score of the first passage minus the second's
    type_missing: float  # 1 when the question asks for a number/date/name the quote lacks
    passage_cosine: float = 0.0  # the passage's (first chunk's) cosine with the question
    lexical: float = 0.0  # its BM25 score over the most the question's words could score
    key_missing: float = 0.0  # share of the question's numbers and names the passage lacks
    rare_missing: float = 0.0  # IDF of the rarest question word the passage lacks / the max
    # (1 when the corpus never uses one of the question's words)
    dense_z: float = 0.0  # the passage's cosine as a z-score among this question's candidates
    cosine_z: float = 0.0  # the quoted sentence's cosine on the same scale
    # Share of the question's IDF mass in words the corpus never uses (such a word counts
    # as rare as a word can be in this corpus: in no chunk)
    unknown_mass: float = 0.0
    key_unknown: float = 0.0  # share of the question's numbers and names the corpus never uses
    lexical_z: float = 0.0  # the passage's BM25 score as a z-score among the candidates'
    # How far (in those z units) the passage stands above the best passage of any other
    # document: a present source stands out, an absent one leaves several alike
    dense_gap: float = 0.0
    lexical_gap: float = 0.0

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in asdict(self).items()}


@dataclass
class ConfidenceModel:
    """A logistic regression: confidence = 1 / (1 + exp(-(bias + sum(w_i x_i))))."""

    bias: float
    weights: dict[str, float]

    def __call__(self, signals: Signals) -> float:
        values = asdict(signals)
        z = self.bias + sum(w * values[name] for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_FILE) -> ConfidenceModel:
    """The shipped model (`confidence_model.json`)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return ConfidenceModel(float(data["bias"]), {k: float(v) for k, v in data["weights"].items()})


def signals(*, question: str, quote: str, cosine: float, overlap: float,
            passage_overlap: float, content: Sequence[str], weights: dict[str, float],
            keys: Sequence[str], passage_tokens: set[str], agreement: float,
            margin: float, passage_cosine: float = 0.0, lexical: float = 0.0,
            dense_z: float = 0.0, cosine_z: float = 0.0, n_chunks: int = 1,
            lexical_z: float = 0.0, dense_gap: float = 0.0,
            lexical_gap: float = 0.0) -> Signals:
    """Gather the signals of the best quote (`content`: the question's content tokens;
    `weights`: the IDF of those the corpus has; `keys`: its numbers and names)."""
    kind = question_type(question)
    unknown = 1 - len(weights) / len(set(content)) if content else 0.0
    key_missing = (sum(k not in passage_tokens for k in keys) / len(keys)) if keys else 0.0
    top = max(weights.values(), default=0.0)
    absent = max((w for t, w in weights.items() if t not in passage_tokens), default=0.0)
    # A word the corpus never uses is the rarest of all, and the passage lacks it.
    rare_missing = 1.0 if unknown > 0 else absent / top if top > 0 else 0.0
    known = 1 - unknown  # words the corpus never uses are words the quote lacks
    # Lucene's IDF of a word in no chunk: ln(1 + (n + 0.5) / 0.5). The question's own
    # asking words ("why", "does") say nothing of the corpus (a small one may lack them).
    never = math.log(1 + (max(n_chunks, 1) + 0.5) / 0.5)
    missing = len(set(content) - set(weights) - _ASKING) * never
    unknown_mass = missing / (missing + sum(weights.values())) if missing else 0.0
    key_unknown = (sum(k not in weights for k in keys) / len(keys)) if keys else 0.0
    return Signals(cosine=cosine, overlap=overlap * known,
                   passage_overlap=passage_overlap * known, unknown=unknown,
                   agreement=agreement, margin=margin,
                   type_missing=float(bool(kind) and not holds_type(quote, kind)),
                   key_missing=key_missing, rare_missing=rare_missing,
                   passage_cosine=passage_cosine, lexical=lexical, dense_z=dense_z,
                   cosine_z=cosine_z, unknown_mass=unknown_mass, key_unknown=key_unknown,
                   lexical_z=lexical_z, dense_gap=dense_gap, lexical_gap=lexical_gap)
