"""Which sentence(s) of a passage to quote, and the exact span of the quote.

Each sentence is scored against the question with its stored sentence vector (cosine)
plus the share of the question's informative words (IDF-weighted) that it contains.
The best sentence is quoted; its neighbour joins when the sentence cannot stand alone
(it opens with a pronoun or connective, or is a fragment) or when it scores nearly as
well (the sentence naming the subject and the one giving the fact). Quotes are always spans of
the stored document text, so a citation never points at text that is not there.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from index.boilerplate import contents_lines
from index.lexical import question_tokens, tokenize
from index.sentences import split_sentences
from quotebot.documents import BULLETS, FOOTNOTE_MARK

# Words that make a sentence lean on the one before it.
_ANAPHORA = re.compile(
    r"^[\"'“‘(]*(it|its|this|that|these|those|he|she|they|his|her|their|them|such|"
    r"however|but|also|thus|therefore|moreover|meanwhile|instead|then|there|here|"
    r"the latter|the former|both|another|other|which)\b",
    re.IGNORECASE)
_MIN_WORDS = 6  # a shorter best sentence takes its follower for context
_FOOTNOTE = re.compile(FOOTNOTE_MARK)
# What lies between a sentence and a list item after it: a line break and the item's marker
# (loaders write "• " or "2. " before each list item, or keep the source's, outside its block).
_MARKER = rf"(?:[-*+{BULLETS}]|\d{{1,9}}[.)])[ \t]+"
_ITEM_GAP = re.compile(rf"\s*\n\s*{_MARKER}")
_ITEM_MARKER = re.compile(rf"[ \t]*{_MARKER}")
# A second quote from one passage must hold this share of the question's words, nearly as
# many as the best quote, and be nearly as close in meaning (an article giving two
# figures for one fact: both are quoted).
SECOND_MIN_OVERLAP = 0.5
SECOND_OVERLAP_GAP = 0.25
SECOND_COSINE_GAP = 0.15

# Quotable sentences (figure and table label fragments are indexed but never quoted).
MIN_LETTER_SHARE = 0.5  # below this share of letters among non-space characters: symbols
_VERB_LIST = """
am is are was were be been being has have had having do does did can could may might must
shall should will would need needs let lets get gets got make makes made take takes took
give gives gave use uses show shows shown provide provides allow allows require requires
contain contains mean means become becomes became keep keeps kept run runs ran see sees
seen find finds found know knows knew say says said go goes went come comes came hold
holds held work works call calls called depend depends consist consists remain remains
include includes exist exists appear appears occur occurs lead leads cause causes
"""
# A sentence about the document's own layout ("Section 2 describes ...", "This paper is
# organized as follows.", "We survey related work in Section 7.", "Figure 5 shows ..."): it
# names what a part is about, so it shares the question's words, but the answer is in that
# part, not here. Only an outline: an author's "we" or a part's number with an outline verb
# in the present or future (a statute's "Section 21 gives landlords ...", "In Chapter 2, we
# defined ...", "In this paper, we will use the term ..." are the text itself), "this" or
# "our" paper ("The remainder of the note is payable ..."), and never a sentence that says
# its own content: a list after a colon, a "that" clause (`_OWN_CONTENT`). Possessive
# quantifiers keep it linear on "§§§..." and "1-1-1-...".
_PART = (r"(?:sections?|§++|chapters?|appendi(?:x|ces))\s*+(?:\d[\d.]*+|(?-i:[A-Z])\b)"
         r"(?:\s*+(?:,|and|&|-|–)\s*+\d[\d.]*+)*+")
_DOCUMENT = r"(?:paper|note|article|report|chapter|section|thesis|document)"
_OUTLINE = (r"(?:describes?|presents?|discuss(?:es)?|reviews?|surveys?|outlines?|evaluates?|"
            r"concludes?|summari[sz]es?|details?|explains?|shows?|analy[sz]es?|examines?|"
            r"reports?|sketches?|formali[sz]es?|proves?|lists?|illustrates?|depicts?|plots?)")
_ROADMAP = re.compile(
    rf"^[^\w§]*+in\s+{_PART},?\s+we\s+(?:will\s+|then\s+|first\s+|briefly\s+)?{_OUTLINE}\b"
    rf"|^[^\w§]*+{_PART},?\s+(?:then\s+|briefly\s+|will\s+)?{_OUTLINE}\b"
    rf"|^\W*(?:figures?|fig\.|tables?)\s*\d+[a-z]?\s+{_OUTLINE}\s+(?!that\b)"
    rf"|^\W*(?:this|our)\s+{_DOCUMENT}\s+is\s+(?:organi[sz]ed|structured)\s+as\s+follows"
    rf"|^\W*(?:the\s+)?(?:rest|remainder)\s+of\s+(?:this|our)\s+{_DOCUMENT}\s+(?:is\s+"
    rf"(?:organi[sz]ed|structured)|{_OUTLINE}\b)"
    rf"|^\W*in\s+this\s+{_DOCUMENT},?\s+we\s+(?:will|shall)\s+(?:first\s+|then\s+|"
    rf"briefly\s+)?{_OUTLINE}\b"
    rf"|^\W*(?:(?:first|then|next|finally|lastly),?\s+)?we\s+(?:will\s+|shall\s+)?"
    rf"(?:(?:first|then|next|finally|briefly)\s+)?{_OUTLINE}\b[^.;:]*"
    rf"\bin\s+{_PART}\W*$", re.IGNORECASE)
_OWN_CONTENT = re.compile(r":\s*\S.{10}|\bthat\b", re.IGNORECASE | re.DOTALL)
_SENTENCE_FINAL = re.compile(r"[.!?…][\"'”’)\]]*$")
_WORDS = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_VERBS = frozenset(_VERB_LIST.split())


def outline(sentence: str) -> bool:
    """Whether a sentence only says what a part of its document is about (`_ROADMAP`)."""
    return _ROADMAP.search(sentence) is not None and _OWN_CONTENT.search(sentence) is None


def quotable(sentence: str, *, strict: bool = True) -> bool:
    """Whether a sentence may be quoted: mostly letters, not a table of contents' line
    ("2.4. OPTIONS . . . . 4"), and (when `strict`, for layouts that scatter labels like
    PDF) it reads as a sentence: it ends like one or has a verb.

    "Application (file name, chunk index) (chunk handle," and "0.2 0.4 0.6" are not.
    """
    visible = "".join(sentence.split())
    if not visible or sum(c.isalpha() for c in visible) < MIN_LETTER_SHARE * len(visible):
        return False
    if contents_lines(sentence, 0, len(sentence)) or outline(sentence):
        return False
    if not strict:
        return True
    words = [w.lower() for w in _WORDS.findall(sentence)]
    if len(words) >= 4 and _SENTENCE_FINAL.search(sentence.rstrip()):
        return True
    return any(w in _VERBS or (len(w) > 4 and w.endswith("ed")) for w in words)


@dataclass
class SentenceScore:
    index: int  # position within the passage's sentences
    start: int
    end: int
    score: float
    cosine: float = 0.0  # dense similarity to the question
    overlap: float = 0.0  # IDF-weighted share of the question's words it holds
    defining: bool = False  # it defines the term a "What is X?" question asks (`defines`)


@dataclass
class Excerpt:
    start: int  # document offsets of the quote
    end: int
    score: float
    sentences: tuple[int, int]  # first and last sentence index within the passage
    cosine: float = 0.0  # of the best sentence (the one the quote is built around)
    overlap: float = 0.0


# Answer types: a question asking for a quantity ("How many...", "How long...") is answered
# by a sentence that holds a number; one asking "When..." by one that holds a time.
_QUANTITY_Q = re.compile(
    r"\bhow (many|much|long|big|large|old|far|often|tall|high|wide|deep|fast|heavy|small|"
    r"frequently)\b|\bwhat (size|number|percentage|proportion|fraction|amount|share)\b",
    re.IGNORECASE)
_TIME_Q = re.compile(r"^\W*(when|in what year|what year|since when)\b", re.IGNORECASE)
_WHY_Q = re.compile(r"^\W*why\b", re.IGNORECASE)  # not "Who explained why ...?"
# What gives a reason, for "Why ...?" (`answer_type`; weighed by `Settings.reason_weight`);
# not "since", as often a time ("since 2001") as a cause
REASON = re.compile(r"\b(because|due to|owing to|as a result|so that|in order to|"
                    r"so as to|thanks to|caused by|result of|reason)\b", re.IGNORECASE)
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"forty|fifty|hundred|hundreds|thousand|thousands|million|millions|billion|billions|"
    r"dozen|dozens|half|twice|single|once)\b", re.IGNORECASE)
# What dates a sentence, for "When ...?" (`answer_type`; weighed by `Settings.date_weight`):
# a year, a month, a weekday, a century or decade ("the 4th" alone is as often a rank or an
# edition as a day). Not "after", "then", "every": a paper's "When are X justified?" asks
# for a condition, and those words are in most of its sentences.
DATE = re.compile(
    r"\b(1\d{3}|20\d{2})s?\b|\b(january|february|march|april|june|july|august|september|"
    r"october|november|december|century|centuries|decade|decades|monday|tuesday|"
    r"wednesday|thursday|friday|saturday|sunday)\b", re.IGNORECASE)


# A list item that defines a term: "• html - Run in HTML mode.", "2. timeout: seconds to wait"
# (the parameter lists of API documentation, glossaries).
_DEFINES = re.compile(rf"[ \t]*{_MARKER}" r"[`'\"]?([^\W_][\w.]*(?:[ _][\w.]+){0,2})"
                      r"[`'\"]?[ \t]*(?:-|–|—|:)[ \t]")


_JOINERS = re.compile(r"[\W_]+")  # what separates the words of an identifier


def defined_term(text: str, start: int) -> str:
    """The term a list item defines when the sentence at `start` opens that item
    ("html" for "• html - Run in HTML mode."), else ""."""
    line = text.rfind("\n", 0, start) + 1
    match = _DEFINES.match(text, line)
    return match.group(1) if match and match.start(1) <= start < match.end() + 1 else ""


def term_share(term: str, weights: dict[str, float]) -> float:
    """Share of a defined term's words that the question (its `weights`) holds; 1 when
    the question writes the term as one word (`same_site` asked as "SameSite")."""
    words = tokenize(term)
    if not words:
        return 0.0
    whole = tokenize(_JOINERS.sub("", term))
    if len(words) > 1 and len(whole) == 1 and whole[0] in weights:
        return 1.0
    return sum(t in weights for t in words) / len(words)


# "What is a stable property?", "What are consistent hash functions, roughly speaking?":
# the question asks what a term is, and a sentence with that term as its subject, before
# "is" or "are", defines it.
_DEFINITION_Q = re.compile(
    r"^\W*what(?:'s|’s|\s+is|\s+are)\s+(?:an?\s+|the\s+)?(?P<term>[^?,;]+?)\s*"
    r"(?:,[^?]*)?\?*\s*$", re.IGNORECASE)
_TERM_TAIL = re.compile(r"\s+(?:in|within|according to)\s+.*$", re.IGNORECASE)
# "is a/an/the/one ...", "are (the) <plural noun> ...", "refers to", "means", "denotes", "is
# defined as": a copula before an adjective ("Raft is similar") or an adverb ("are often
# applied") describes, it does not define. Words ending in -s that are no plural noun
# ("are always", "are as long", "are stateless", "are numerous") are not one.
_NOT_PLURAL = (r"(?!(?:always|sometimes|perhaps|thus|as|is|was|has|does|its|this|his|"
               r"nevertheless|nonetheless|besides|across|towards|afterwards|whereas|"
               r"nowadays|plus)\b)(?![^\W\d]*(?:ous|ss)\b)")
_DEFINES_VERB = (r"\s+(?:is\s+(?:an?|the|one|any|defined\s+as)|are\s+(?:an?|the|those|ones|"
                 + _NOT_PLURAL + r"[^\W\d]+s)|refers?\s+to|means|denotes)\b")
_PRESENTS = (r"(?:present|describ|introduc|propos|implement|develop|design|creat)\w*|"
             r"buil(?:d|ds|t)")
# A term named where the sentence defines it, anywhere in it: "a sort of trap which we
# call a rank sink", "a new abstraction, called a resource offer, which ...", "is known as".
# Not "we call the handler twice": a "we call" names only with its object ("we call this",
# "which we call").
# Nor "the one that called fork()", "has previously called unshare()": "called" names only
# when it is no main verb (man pages and API docs call functions in every other sentence).
_CALLED = ("".join(rf"(?<!\b{w}\s)" for w in ("that", "which", "who", "one", "has", "have",
                                              "had", "then", "also", "and", "it", "they"))
           + r"(?<!previously\s)(?<!already\s)(?<!first\s)")
_NAMES = (r"\b(?:(?:which|that)\s+we\s+(?:call|term|name|dub)(?:ed)?|"
          r"we\s+(?:call|term|name|dub)(?:ed)?\s+(?:this|it|them|these|those|"
          r"such\s+(?:an?\s+)?[^\W\d]+)|" + _CALLED + r"(?:called|termed|dubbed)|known\s+as|"
          r"referred\s+to\s+as)\s+")
_TERM_ENDS = frozenset(("to", "for", "of", "with", "by", "from", "about", "like", "on", "at",
                        "as", "into"))
MAX_TERM_WORDS = 6
LEAD_IN_CHARS = 30  # "Roughly speaking, ", "In short, ": a short phrase may open the sentence


def asked_term(question: str) -> str:
    """The term a "What is X?" question asks to define ("stable property"), or "": the
    question has another shape, or its X holds a verb ("the file size that tar can
    store")."""
    match = _DEFINITION_Q.match(question.strip())
    if not match:
        return ""
    term = _TERM_TAIL.sub("", match.group("term")).strip()
    words = [w.lower() for w in _WORDS.findall(term)]
    if (not words or len(words) > MAX_TERM_WORDS or any(w in _VERBS for w in words)
            or words[-1] in _TERM_ENDS or words[-1].endswith("ed")):
        return ""  # "What is PageRank compared to?", "What is it used for?"
    return term


def defines(text: str, start: int, end: int, term: str) -> bool:
    """Whether the sentence text[start:end] opens with `term` as its subject ("A stable
    property is ...", "Roughly speaking, a consistent hash function is one ..."): at most
    a short phrase and a comma, then an article, the term (a plural -s allowed), an
    aside in brackets, and "is a/the/one", "are <plural noun>", "refers to", "means" or
    "denotes" (`_DEFINES_VERB`); or that presents it in apposition, "We present Mesos, a
    platform for ...", "... we implemented Aspirator, a simple static checker",
    "Chubby, a lock service, ..."; or that names it anywhere (`_NAMES`): "a sort of trap
    which we call a rank sink", "a new abstraction, called a resource offer, ..."."""
    if not (patterns := _definition_patterns(term)):
        return False
    opens, presented, named = patterns
    return (opens.match(text, start, end) is not None
            or presented.match(text, start, end) is not None
            or named.search(text, start, end) is not None)


@lru_cache(maxsize=64)
def _definition_patterns(term: str) -> tuple[re.Pattern[str], ...]:
    """The patterns of `defines` for one term, compiled once: one question's term is
    matched against every sentence of up to 200 chunks."""
    words = [re.escape(w) for w in term.split()]
    if not words:
        return ()
    last = term.split()[-1]
    if len(last) > 2 and last.endswith("y") and last[-2] not in "aeiou":  # property(-ies)
        words[-1] = re.escape(last[:-1]) + "(?:y|ie)"
    lead_in = rf"(?:[^\W\d][\w ]{{0,{LEAD_IN_CHARS}}},\s+)?"
    subject = (r"(?:(?:an?|the)\s+)?" + r"\s+".join(words)
               + r"(?:e?s)?(?:\s*\([^)]{0,80}\))?")
    pattern = re.compile(r"\W*" + lead_in + subject + _DEFINES_VERB, re.IGNORECASE)
    # ... or presents it in apposition, after at most a clause: "We present Mesos, a
    # platform for sharing ...", "To measure ..., we implemented Aspirator, a simple static
    # checker.", "Chubby, a lock service for loosely coupled systems, ..."
    # (not a subordinate clause's object: "When we designed Raft, the goal was ...")
    presented = re.compile(r"\W*+(?:(?!(?:when|whenever|before|after|once|if|while|until|"
                           r"because|although|though|unless)\s+we\b)"
                           r"[^.;!?]{0,150}?\b(?:we|this\s+paper)\s+(?:"
                           + _PRESENTS + r")\s+)?" + subject
                           + r"\s*,\s+(?:an?|the)\s+[^\W\d]", re.IGNORECASE)
    named = re.compile(_NAMES + subject + r"\b", re.IGNORECASE)
    return pattern, presented, named


def answer_type(question: str) -> re.Pattern[str] | None:
    """What a sentence answering `question` must hold, when the question says: a number
    for a quantity, a date for "When..." (`DATE`), a reason for "Why..." (`REASON`).
    None for other questions."""
    if _QUANTITY_Q.search(question):
        return _NUMBER
    if _TIME_Q.search(question):
        return DATE
    if _WHY_Q.search(question):
        return REASON
    return None


# "What kind of servers ...?": the answer is a kind of server, and the sentence giving it
# names servers ("... clusters of fail-stop storage servers"). The noun weighs this many
# times its IDF: on SQuAD dev's 479 such questions, excerpt @1 394 -> 402 (11 gained, 3
# lost; 1.5 gave +2, 3 gave +6), no question set moved (BENCHMARKS.md, stop 16).
HEAD_NOUN_FACTOR = 2.0
_KIND_OF = re.compile(r"^\W*(?:what|which)\s+(?:kinds?|types?|sorts?)\s+of\s+(\w+)",
                      re.IGNORECASE)  # not the hedge of "Is it kind of slow?"


def question_weights(question: str, idf: dict[str, float]) -> dict[str, float]:
    """The question's stemmed content words with their IDF (unknown words weigh nothing);
    its asking words ("what", "how": `index.lexical.QUESTION_WORDS`) are not content, and
    the noun of "what kind of X" weighs `HEAD_NOUN_FACTOR` times its IDF."""
    weights = {t: idf[t] for t in dict.fromkeys(question_tokens(question)) if t in idf}
    if found := _KIND_OF.search(question):
        for token in tokenize(found.group(1)):
            if token in weights:
                weights[token] *= HEAD_NOUN_FACTOR
    return weights


def score_sentences(text: str, spans: Sequence[tuple[int, int]], vectors: np.ndarray,
                    query_vector: np.ndarray, weights: dict[str, float],
                    lexical_weight: float = 0.5, keys: Sequence[str] = (),
                    key_weight: float = 0.0, window_weight: float = 0.0,
                    expects: re.Pattern[str] | None = None, type_weight: float = 0.0,
                    item_weight: float = 0.0, total: float = 0.0, asked: str = "",
                    definition_weight: float = 0.0, context: frozenset[str] = frozenset(),
                    context_weight: float = 0.0) -> list[SentenceScore]:
    """Score each sentence span of `text` (document offsets) against the question; a
    sentence holding the question's numbers and names (`keys`) gains `key_weight` x
    the share it holds. `window_weight` x the previous sentence's word overlap is added
    (the sentence after the one naming the subject often gives the answer). A sentence
    holding what the question's answer type `expects` (`answer_type`) gains `type_weight`;
    one opening a list item that defines a term the question names gains `item_weight` x
    the share of the term's words the question holds; one that defines `asked`, the term
    a "What is X?" question asks about (`asked_term`, `defines`), gains
    `definition_weight`. A sentence's word share is of `total` (default: the sum of
    `weights`). The question's words it lacks but its `context` holds (the tokens of its
    document's title and section headings, `sentence_context`) count `context_weight` x
    their share in its score, not in its `overlap`."""
    cosine = vectors.astype(np.float32) @ query_vector if len(spans) else np.empty(0)
    total = total or sum(weights.values()) or 1.0
    scores = []
    previous = 0.0
    for i, (s, e) in enumerate(spans):
        tokens = tokenize(text[s:e])
        words = set(tokens)
        overlap = sum(w for t, w in weights.items() if t in words) / total
        implied = sum(w for t, w in weights.items() if t not in words and t in context) / total
        cos = float(cosine[i])
        bonus = key_weight * sum(k in words for k in keys) / len(keys) if keys else 0.0
        bonus += window_weight * previous
        if expects is not None and type_weight and expects.search(text, s, e):
            bonus += type_weight
        if item_weight and (term := defined_term(text, s)):
            bonus += item_weight * term_share(term, weights)
        defining = bool(definition_weight and asked) and defines(text, s, e, asked)
        if defining:
            bonus += definition_weight
        lexical = overlap + context_weight * implied
        scores.append(SentenceScore(i, s, e, cos + lexical_weight * lexical + bonus, cos,
                                    overlap, defining))
        previous = overlap
    return scores


def sentence_context(title: str, heading_path: Sequence[str]) -> frozenset[str]:
    """The index tokens a reader has in mind for every sentence under `title` and
    `heading_path`: "Use at most max-args arguments per command line." in the xargs manual
    is about xargs, and a sentence under "Exit status" is about the exit status. A
    "title" of more than one sentence is running text taken for one (a photo caption, a
    plain-text file whose first line is a paragraph) and is left out; "Dr. Strangelove"
    is one sentence."""
    return _title_tokens(title) | frozenset(tokenize("\n".join(heading_path)))


@lru_cache(maxsize=1024)
def _title_tokens(title: str) -> frozenset[str]:
    """`sentence_context`'s share of a title, worked out once per document title (every
    passage of the document asks for it, on every question)."""
    return frozenset() if len(split_sentences(title)) > 1 else frozenset(tokenize(title))


def favour_span(scores: Sequence[SentenceScore], start: int, end: int,
                weight: float) -> None:
    """Add `weight` to the sentences lying within document offsets [start, end): the
    chunk of a merged passage that ranked, where the question's match is."""
    for s in scores:
        if start <= s.start and s.end <= end:
            s.score += weight


def needs_neighbour(sentence: str) -> str:
    """'before' when the sentence leans on the previous one, 'after' when it is a fragment."""
    if _ANAPHORA.match(sentence.strip()):
        return "before"
    if len(sentence.split()) < _MIN_WORDS or sentence.rstrip().endswith((":", "...", "…")):
        return "after"
    return ""


# --- whole answers: a quote that announces more, or lacks its subject, takes a neighbour ---

# "two basic guarantees.", "three cases", "the following steps": the items follow. The
# noun must be a generic one (a count of people or things is an answer, not an announcement).
_ANNOUNCES = re.compile(
    r"\b(two|three|four|five|six|seven|eight|nine|ten|several|a few|a number of|"
    r"the following)\s+([\w-]+\s+){0,2}?(guarantees?|properties|propert(y|ies)|reasons|ways|"
    r"steps|stages|phases|types|kinds|classes|categories|cases|parts|components|elements|"
    r"goals|requirements|rules|conditions|principles|features|advantages|benefits|"
    r"problems|issues|challenges|questions|options|approaches|strategies|methods|"
    r"techniques|mechanisms|functions|levels|states|modes|things|points|lessons|"
    r"observations|assumptions|limitations|differences|changes|criteria)\b[^.;]{0,40}"
    r"[.:]?\s*$|\bas follows\b", re.IGNORECASE)
# A question asking how a problem is remedied ...
_REMEDY_Q = re.compile(
    r"\b(how\b.*\b(avoid|prevent|fix|solve|solved|handle|handled|deal|address|overcome|"
    r"mitigate|resolve|cope|remedy|cure|work around|recover)|"
    r"what\b.*\b(solution|remedy|fix|workaround|cure|mitigation|prevents|solves|avoids))",
    re.IGNORECASE)
# ... and a sentence that names a problem (the remedy is often the next sentence).
_PROBLEM = re.compile(
    r"\b(problems?|issues?|challenges?|difficult(y|ies)|drawbacks?|limitations?|bottlenecks?|"
    r"risks?|conflicts?|deadlocks?|bugs?|fails?|failures?|vulnerab\w*|attacks?|"
    r"suffers?|inefficien\w*|overhead)\b", re.IGNORECASE)
# A named subject: a capitalised word past the first, or an identifier (snake_case,
# CamelCase, dotted.name, call()).
_NAMED = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][\w-]*[A-Za-z0-9]|\b\w+(?:[_.]\w+)+(?:\(\))?|"
                    r"\b\w+\(\)|\b[a-z]+[A-Z]\w*")


def announces_more(sentence: str) -> bool:
    """The sentence ends in a colon or announces a list or a count ("two basic
    guarantees.", "as follows"): its items are in the next sentence."""
    stripped = sentence.rstrip()
    if stripped.endswith(":"):
        return True
    return bool(_ANNOUNCES.search(stripped))


def names_problem_for_remedy(question: str, sentence: str) -> bool:
    """The question asks for a remedy and the sentence describes a problem."""
    return bool(_REMEDY_Q.search(question)) and bool(_PROBLEM.search(sentence))


def named_subjects(question: str) -> set[str]:
    """Names the question asks about: capitalised words (not the first) and identifiers."""
    return {m.group(0).lower() for m in _NAMED.finditer(question.strip())}


def holds_missing_subject(question: str, previous: str, sentence: str) -> bool:
    """The previous sentence names the question's subject and the quoted one does not."""
    subjects = named_subjects(question)
    if not subjects:
        return False
    here, there = sentence.lower(), previous.lower()
    return any(s in there and s not in here for s in subjects)


def describes_next(question: str, quoted: SentenceScore, text: str,
                   following: SentenceScore) -> bool:
    """A "What is X?" quote that mentions X without defining it ("We also support the
    notion of a witness replica.") and is followed by a sentence that opens with X
    ("Witnesses vote in Paxos rounds ...": X's first word among its first three, not
    "Read-only replicas are ..."): that sentence says what X is."""
    term = asked_term(question)
    if not term or quoted.defining:
        return False
    first = tokenize(term)[:1]  # a compound's modifier names it: "witness", not "replica"
    words = _WORDS.findall(text[following.start:min(following.end, following.start + 80)])
    return bool(first) and first[0] in tokenize(" ".join(words[:3]))


# "Why ...?", "How does X do Y?": an explanation, which a paper or a manual gives over
# more than one sentence (the first often restates the question: "Megastore supports
# two-phase commit ...", then "Since these transactions have much higher latency ...").
# Not "How many/long/big ...?" (`_QUANTITY_Q`), whose answer is one number, nor a how-to's
# "How do I ...?", answered by one instruction. The question may open with a sentence of
# its own ("The leader crashes before replying. How does Raft avoid ...?").
_EXPLAIN_Q = re.compile(r"(?:^|[.!?]\s)\W*(?:why\b|how\s+(?!(?:do|can|could|should|would|"
                        r"will|shall|may|might|must|to)\s+(?:i|we|you|one)\b)(?!to\b))",
                        re.IGNORECASE)


def asks_explanation(question: str) -> bool:
    """A "Why ...?" or "How ...?" question that asks no quantity."""
    return bool(_EXPLAIN_Q.search(question)) and not _QUANTITY_Q.search(question)


# Which whole-answer rules apply (all, by default).
RULES = ("announce", "remedy", "subject", "count", "describe", "explain")


def whole_answer(text: str, scores: Sequence[SentenceScore], first: int, last: int,
                 best: int, question: str, rules: Sequence[str] = RULES,
                 max_sentences: int = 3) -> tuple[int, int]:
    """Widen [first, last] to a whole answer: up to the next sentence holding a number when
    a "How many" quote holds none; the next sentence when the quote announces more or
    names the problem whose remedy is asked; the previous one when it names the
    question's subject. Verbatim and contiguous, at most `max_sentences`."""
    def sentence(i: int) -> str:
        return text[scores[i].start:scores[i].end]

    def room() -> bool:
        return last - first + 1 < max_sentences

    if "count" in rules and question and _QUANTITY_Q.search(question) and not any(
            _NUMBER.search(sentence(i)) for i in range(first, last + 1)):
        # "How many ...?" quoted by a sentence without a number: the next sentences up to
        # the quote's limit, when one of them holds a number, are the rest of the answer
        ahead = next((j for j in range(last + 1, min(len(scores), first + max_sentences))
                      if _NUMBER.search(sentence(j))), None)
        if ahead is not None:
            last = ahead
    quoted = sentence(last)
    if room() and last + 1 < len(scores) and (
            ("announce" in rules and announces_more(quoted))
            or ("remedy" in rules and names_problem_for_remedy(question, sentence(best)))
            or ("describe" in rules and first == last == best
                and describes_next(question, scores[best], text, scores[last + 1]))
            or ("explain" in rules and first == last == best and asks_explanation(question)
                and not _BLANK_LINE.search(text, scores[last].end, scores[last + 1].start))):
        last += 1
    if room() and first > 0 and "subject" in rules and question and holds_missing_subject(
            question, sentence(first - 1), text[scores[first].start:scores[last].end]):
        first -= 1
    return first, last


def excerpt_around(text: str, scores: Sequence[SentenceScore], best: int,
                   max_sentences: int = 3, join_margin: float = 0.0, question: str = "",
                   rules: Sequence[str] = RULES, pages: Sequence[int] = (),
                   can_quote: Callable[[str], bool] | None = None,
                   whole_lists: bool = True, footnotes: bool = False) -> Excerpt:
    """The best sentence, widened by one neighbour when it cannot stand alone, by a
    neighbour that answers nearly as well (within `join_margin`, on the same page: `pages`
    are the document's page starts; only if `can_quote` accepts it: a PDF section label
    such as "5.1 Raft basics" matches the question's words but is no part of the answer),
    and to a whole answer (`whole_answer`). A sentence introducing a list
    takes its first items, or (`whole_lists`) all its short items that fit. With
    `footnotes` (a PDF's text), no neighbour is a footnote (`_is_footnote`)."""
    row = table_row(text, scores, best)
    if row != (best, best):  # a table cell is quoted with its row, and nothing else
        return Excerpt(scores[row[0]].start, scores[row[1]].end, scores[best].score, row,
                       scores[best].cosine, scores[best].overlap)
    first = last = best
    want = needs_neighbour(text[scores[best].start:scores[best].end])
    if want == "before" and best > 0:
        first = best - 1
    elif want == "after" and best + 1 < len(scores):
        last = best + 1
    elif want == "before" and best + 1 < len(scores):
        last = best + 1  # nothing before it in this passage: give the reader what follows
    low, high = 0, len(scores) - 1  # the sentences a quote may take
    if _in_item(text, scores[best].start):  # a list item is quoted whole when it fits
        low, high = _item_sentences(text, scores, best)
        first, last = (low, high) if high - low < max_sentences else (max(first, low),
                                                                      min(last, high))
    else:  # a sentence introducing a list takes its first items; short items, all of them
        # that fit in LIST_QUOTE_CHARS ("three guarantees: • Consistency • Availability
        # • Partition-tolerance" is one answer, not three sentences)
        while (last + 1 < len(scores) and _opens_item(text, scores, last + 1)
               and (last - first + 1 < max_sentences
                    or (whole_lists and last - first < MAX_LIST_ITEMS
                        and scores[last + 1].end - scores[first].start <= LIST_QUOTE_CHARS))):
            last += 1
    if join_margin > 0:
        floor = scores[best].score - join_margin
        for j in sorted((first - 1, last + 1), key=lambda j: -_score_at(scores, j)):
            if (last - first + 1 < max_sentences and low <= j <= high
                    and _score_at(scores, j) >= floor
                    and (can_quote is None
                         or can_quote(text[scores[j].start:scores[j].end]))
                    and not _other_page(pages, scores, min(j, first), max(j, last))):
                first, last = min(first, j), max(last, j)
    if last - first + 1 > max_sentences and not _opens_item(text, scores, last):
        first, last = best, best
    first, last = whole_answer(text, scores, first, last, best, question, rules,
                               max_sentences)
    for j in range(best, first, -1):  # no neighbour from another line of a table, nor a footnote
        if _row_edge(text, scores, j - 1) or (footnotes and _is_footnote(text, scores[j - 1])):
            first = j
            break
    for j in range(best, last):  # nor one after a page's footnote begins
        if _row_edge(text, scores, j) or (footnotes and _is_footnote(text, scores[j + 1])):
            last = j
            break
    return Excerpt(scores[first].start, scores[last].end, scores[best].score, (first, last),
                   scores[best].cosine, scores[best].overlap)


def _is_footnote(text: str, sentence: SentenceScore) -> bool:
    """Whether a PDF sentence opens a footnote: at the start of a line, with a footnote
    mark ("∗Laboratory for ...", "1Eric Brewer is ..."), and not a list item."""
    at = sentence.start
    return ((at == 0 or text[at - 1] == "\n") and not _in_item(text, at)
            and bool(_FOOTNOTE.match(text, at)))


def _other_page(pages: Sequence[int], scores: Sequence[SentenceScore], i: int,
                j: int) -> bool:
    """Whether sentences `i` and `j` start on different pages (`pages`: the document
    offsets where pages start, empty when it has none): a neighbour joined for its score
    stays on the quote's page, so the citation's page is the answer's."""
    if not pages or not (0 <= i < len(scores) and 0 <= j < len(scores)):
        return False
    return bisect.bisect_right(pages, scores[i].start) != bisect.bisect_right(
        pages, scores[j].start)


def _opens_item(text: str, scores: Sequence[SentenceScore], i: int) -> bool:
    """Whether sentence `i` starts a list item (a marker on a new line right before it)."""
    return i > 0 and _ITEM_GAP.fullmatch(text, scores[i - 1].end, scores[i].start) is not None


_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def _item_sentences(text: str, scores: Sequence[SentenceScore], i: int) -> tuple[int, int]:
    """First and last sentence of the list item whose marker line holds sentence `i`: back
    to the marker, on to the next item or a blank line (an item wraps over lines in a PDF,
    and a Markdown item's second paragraph is on the next line)."""
    low = high = i
    while low > 0 and "\n" not in text[scores[low - 1].end:scores[low].start]:
        low -= 1
    while (high + 1 < len(scores) and not _opens_item(text, scores, high + 1)
           and not _BLANK_LINE.search(text, scores[high].end, scores[high + 1].start)):
        high += 1
    return low, high


def _in_item(text: str, offset: int) -> bool:
    """Whether `offset` lies on a line that starts with a list item's marker."""
    return _ITEM_MARKER.match(text, text.rfind("\n", 0, offset) + 1, offset) is not None


def _score_at(scores: Sequence[SentenceScore], i: int) -> float:
    return scores[i].score if 0 <= i < len(scores) else float("-inf")


# A list of short items is quoted whole with the sentence introducing it when the quote
# stays this short (the usual quote is about 270 characters), up to this many items.
LIST_QUOTE_CHARS = 400
MAX_LIST_ITEMS = 8
CELL = " | "  # what loaders write between the cells of a table row (index/loaders)
MAX_ROW_CHARS = 400  # a table row longer than this is not quoted whole


def _joined(text: str, scores: Sequence[SentenceScore], a: int) -> bool:
    """Whether sentences `a` and `a + 1` are cells of one table row."""
    return text[scores[a].end:scores[a + 1].start] == CELL


def table_row(text: str, scores: Sequence[SentenceScore], i: int) -> tuple[int, int]:
    """First and last sentence of the table row whose cell is sentence `i` (cells are
    sentences of their own, written with " | " between them); (i, i) when it is no cell
    or its row is too long to quote whole."""
    def too_long() -> bool:  # checked as the walk goes: a long row costs no more
        return scores[last].end - scores[first].start > MAX_ROW_CHARS

    first = last = i
    while first > 0 and _joined(text, scores, first - 1) and not too_long():
        first -= 1
    while last + 1 < len(scores) and _joined(text, scores, last) and not too_long():
        last += 1
    return (i, i) if too_long() else (first, last)


def _row_edge(text: str, scores: Sequence[SentenceScore], a: int) -> bool:
    """Whether a line break between sentences `a` and `a + 1` ends or starts a table row
    (either is a cell): a quote may not run from a row into the next one ("Memory use
    dropped by half." and the next row's "2.1") or from a paragraph into a row."""
    def cell(i: int) -> bool:
        return ((i > 0 and _joined(text, scores, i - 1))
                or (i + 1 < len(scores) and _joined(text, scores, i)))

    return "\n" in text[scores[a].end:scores[a + 1].start] and (cell(a) or cell(a + 1))


def quotable_at(text: str, scores: Sequence[SentenceScore], i: int,
                can_quote: Callable[[str], bool] | None) -> bool:
    """Whether sentence `i` may be chosen for a quote: `can_quote` accepts it, or, for a
    table cell ("1.2 MB (-92%)"), its whole row ("Netflix | 16.2 MB | 1.2 MB (-92%)")."""
    if can_quote is None:
        return True
    first, last = table_row(text, scores, i)
    return can_quote(text[scores[first].start:scores[last].end])


def best_excerpts(text: str, scores: Sequence[SentenceScore], *, limit: int,
                  margin: float, join_margin: float = 0.0,
                  can_quote: Callable[[str], bool] | None = None, question: str = "",
                  rules: Sequence[str] = RULES, pages: Sequence[int] = (),
                  footnotes: bool = False) -> list[Excerpt]:
    """The best excerpt, and up to `limit - 1` more non-touching ones that also answer.

    Only sentences `can_quote` accepts are chosen (their neighbours may still join them;
    a table cell is judged, and quoted, with its row: `quotable_at`).

    Another sentence is quoted too when it scores within `margin` of the best, or when it
    matches the question's words and meaning nearly as well as the best does.
    """
    ranked = sorted((i for i in range(len(scores)) if quotable_at(text, scores, i, can_quote)),
                    key=lambda i: -scores[i].score)
    if not ranked:
        return []
    best = scores[ranked[0]]
    chosen: list[Excerpt] = []

    def apart(excerpt: Excerpt) -> bool:
        first, last = excerpt.sentences
        return all(last + 1 < c.sentences[0] or c.sentences[1] + 1 < first for c in chosen)

    options = dict(join_margin=join_margin, question=question, rules=rules, pages=pages,
                   can_quote=can_quote, footnotes=footnotes)
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
        excerpt = excerpt_around(text, scores, i, **options)
        if not apart(excerpt):  # its whole list may run into a quote already chosen
            excerpt = excerpt_around(text, scores, i, whole_lists=False, **options)
        if apart(excerpt):
            chosen.append(excerpt)
    return chosen
