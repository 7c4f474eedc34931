"""Follow-up questions read in the conversation they belong to, by rules (no language model).

A conversation is the last few turns: what was asked, how it was read, and which
documents the answer quoted. `resolve(question, history)` decides whether a question
leans on the previous turn and, if it does, writes it out in full:

- **pronoun**: "it", "they", "its", "his"... (or a demonstrative: "this", "that one",
  "these results") with no name or number before it in the question: the pronoun is
  replaced by the antecedent, the most salient phrase of the previous question (or,
  when that has none, of its answer). "What is it intended for?" after "What is
  Chubby?" becomes "What is Chubby intended for?".
- **ellipsis**: "what about Bigtable?", "and the second?", "and in 2010?": the previous
  question with its antecedent (or its ordinal, for "the second") replaced by the new
  words, so "what about Bigtable?" becomes "What is Bigtable intended for?".
- **bare**: "why?", "how so?", "when?", a question with no word of content: the
  previous question's salient words are added to it.
- **short**: at most three words, one of them of content, no name or number ("the
  price?"): the antecedent is added.

Salience is IDF (from the store's BM25 statistics) weighted by position: names (runs
of capitalised words) first, earlier phrases before later ones. A question that
matches no rule is returned exactly as it was asked (`Rewrite.followup` is False), and
then nothing about its ranking changes; a follow-up also ranks the documents quoted in
the last answer a little higher (`Rewrite.prefer`). BENCHMARKS.md ("Follow-up
questions") measures both: follow-ups answered, and standalone questions untouched.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from index.lexical import tokenize
from retrieval.answer import Answer
from retrieval.search import Candidate

# Documents of the last answer that a follow-up prefers (its best quotes' documents).
PREFER_DOCUMENTS = 1
MAX_TURNS = 3  # turns a conversation keeps; only the last one is read, older ones explain


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that carry no subject of their own: question words, auxiliaries, articles,
# prepositions, pronouns. A pronoun preceded by nothing but these has no antecedent in
# its question.
FUNCTION_WORDS = _words("""
a an the and or but nor so yet if then than as of in on at by for from to into onto
with without within about above below over under after before during since until
between among through across against along around behind beyond near off out up down
what which who whom whose when where why how whether
is are was were be been being am do does did doing done have has had having
can could may might must shall should will would
it its itself they them their theirs themselves he him his himself she her hers herself
this that these those there here one ones
not no also just only even still else more most much many some any all each every
other another such very too really
i me my we us our you your
""")
# A request's opening verb ("Tell me about bilbies", "Please explain ..."): never the
# subject a follow-up leans on. Only as the question's first word: "William Tell" is a name.
REQUEST_VERBS = _words("tell explain describe summarise summarize please show give list")
PRONOUNS = _words("it its itself they them their theirs themselves he him his himself "
                 "she her hers herself")
PERSONAL = _words("he him his himself she her hers herself")
POSSESSIVES = _words("its their theirs his her hers")
DEMONSTRATIVES = _words("this that these those")
WH_WORDS = _words("what which who whom whose when where why how")
ORDINALS = _words("first second third fourth fifth sixth seventh eighth ninth tenth "
                 "last next previous other former latter")
PREPOSITIONS = _words("on in at for with without from by during after before under over "
                      "about into inside outside within")
DETERMINERS = _words("the a an his her its their our your my which what whose each every")
PLURAL_PRONOUNS = _words("they them their theirs themselves")
# "it" before these is the empty "it" of "what is it called when...", "how long did it
# take to...": it stands for nothing.
EXPLETIVE_AFTER_IT = _words("""called take takes took taken mean means meant said say thought
believed suggested held preferred known possible likely unlikely important necessary true
estimated expected rumored claimed reported decided agreed hoped considered that easy hard
difficult common rare usual""")
# "those who...", "these with...": the pronoun points to what follows, not back.
CATAPHORIC_AFTER = _words("that who whom which with in of whose")
# Nouns that name an attribute of something, not the thing: "the name of it".
ATTRIBUTES = _words("""name names number year years date type kind part percentage amount
size purpose cause result role use value price cost population capital title term word
time age length height area goal reason meaning function job""")
# Connectors allowed inside a name: "Bank of England", "Leonardo da Vinci".
NAME_JOINERS = _words("of the de da di del von van du le la and for")

_WORD = re.compile(r"\w+(?:['’.\-]\w+)*")
_ELLIPSIS = re.compile(
    r"^(?:(?:and|but|so)\s+)?(?:what|how)\s+about\s+(?P<x>.+)$"
    r"|^(?:and|but)\s+(?:what\s+of\s+)?(?P<y>(?:\S+\s+){0,3}\S+)$"
    r"|^what\s+of\s+(?P<z>.+)$",
    re.IGNORECASE)

Idf = Callable[[Sequence[str]], dict[str, float]]


@dataclass
class Turn:
    """One question of a conversation and what answered it."""

    question: str  # as asked
    interpreted: str  # as it was read (the question itself when it stood alone)
    paths: list[str] = field(default_factory=list)  # documents quoted, best first
    excerpt: str = ""  # the start of the best quote (antecedents when the question has none)

    @classmethod
    def of(cls, answer: Answer) -> Turn:
        """The turn an answer ends: its question, how it was read, what it quoted."""
        paths = list(dict.fromkeys(h.citation.path for h in answer.hits))[:3]
        excerpt = answer.hits[0].excerpt[:300] if answer.found and answer.hits else ""
        return cls(answer.question, answer.interpreted_as or answer.question, paths, excerpt)


@dataclass
class Conversation:
    """The last few turns of one chat (or user, or topic), and when it was last used.

    Pass it to `Retriever.ask(question, history=conversation)`, then `add` the answer.
    """

    turns: deque[Turn] = field(default_factory=lambda: deque(maxlen=MAX_TURNS))
    updated: float = field(default_factory=time.monotonic)

    def add(self, answer: Answer, now: float | None = None) -> Turn:
        turn = Turn.of(answer)
        self.turns.append(turn)
        self.updated = time.monotonic() if now is None else now
        return turn

    def clear(self) -> None:
        self.turns.clear()

    def __iter__(self):  # noqa: ANN204 - an iterator of Turn
        return iter(self.turns)

    def __len__(self) -> int:
        return len(self.turns)


@dataclass
class Rewrite:
    """How a question was read. `text` is the question itself unless a rule fired."""

    question: str
    text: str
    rule: str = ""  # "", "pronoun", "ellipsis", "bare", "short"
    antecedent: str = ""  # what "it" (or the ellipsis) was taken to stand for
    prefer: list[str] = field(default_factory=list)  # documents to rank a little higher
    # A second reading to try when `text` finds nothing: a person by their last name, as
    # a text names them after the first time ("... does Dillon say ...").
    short: str = ""

    @property
    def followup(self) -> bool:
        return bool(self.rule)


@dataclass
class _Token:
    text: str
    start: int
    end: int

    @property
    def low(self) -> str:
        return self.text.lower()

    @property
    def function(self) -> bool:
        return self.low in FUNCTION_WORDS

    def capitalised(self, first: bool) -> bool:
        """A name-like word: capitalised (not just as the question's first word) or a
        word with a capital or digit inside ("iPhone", "COVID-19", "S3")."""
        t = self.text
        if self.function:
            return False  # "I", and "The" or "What" opening a question
        if any(c.isupper() for c in t[1:]) or "_" in t or (
                any(c.isdigit() for c in t) and any(c.isalpha() for c in t)):
            return True  # "iPhone", "max_connections", "COVID-19"
        return t[:1].isupper()


def _tokens(text: str) -> list[_Token]:
    return [_Token(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]


def _adjacent(text: str, a: _Token, b: _Token) -> bool:
    """Only spaces between two words: a name never runs across a comma or a line."""
    return text[a.end:b.start] == " "


def _is_number(token: _Token) -> bool:
    return any(c.isdigit() for c in token.text)


@dataclass
class _Phrase:
    text: str
    name: bool
    position: int  # order among the phrases of its text


def phrases(text: str) -> list[_Phrase]:
    """Candidate antecedents of `text`, in order: names (capitalised runs, numbers
    attached) and runs of content words outside them."""
    tokens = _tokens(text)
    found: list[_Phrase] = []
    i = 0
    while i < len(tokens) and tokens[i].low in REQUEST_VERBS:  # "Please tell me ..."
        i += 1
    while i < len(tokens):
        tok = tokens[i]
        if tok.capitalised(first=i == 0):
            j = i + 1
            while j < len(tokens) and _adjacent(text, tokens[j - 1], tokens[j]):
                nxt = tokens[j]
                if nxt.capitalised(first=False) or (_is_number(nxt) and not nxt.function):
                    j += 1
                elif (nxt.low in NAME_JOINERS and j + 1 < len(tokens)
                      and _adjacent(text, nxt, tokens[j + 1])
                      and tokens[j + 1].capitalised(first=False)):
                    j += 2
                else:
                    break
            name = re.sub(r"['’]s$", "", text[tok.start:tokens[j - 1].end])  # "Tesla's"
            found.append(_Phrase(name, True, len(found)))
            i = j
        elif not tok.function and not _is_number(tok):
            j = i + 1
            while (j < len(tokens) and not tokens[j].function
                   and not tokens[j].capitalised(first=False)):
                j += 1
            found.append(_Phrase(re.sub(r"['’]s$", "", text[tok.start:tokens[j - 1].end]),
                                 False, len(found)))
            i = j
        else:
            i += 1
    return found


def salience(phrase: _Phrase, idf: Idf | None) -> float:
    """IDF of the phrase's words (their sum, the rarest counting fully), a name counting
    half again, an earlier phrase more than a later one."""
    words = tokenize(phrase.text)
    weights = idf(words) if idf is not None else {}
    values = sorted((weights.get(w, 1.0) for w in words), reverse=True) or [0.0]
    score = values[0] + 0.5 * sum(values[1:])
    if phrase.name:
        score *= 1.5
    return score * 0.85 ** phrase.position


def antecedent(turn: Turn, idf: Idf | None = None, *, person: bool = False,
               plural: bool = False) -> str:
    """The most salient phrase of the turn's question as read (a name if it has one),
    else of its answer. For "he" or "she" after a "who" question, the name its answer
    gave ("Who is the spokesman?" ... "What did he say?"); for "they", a plural phrase
    of the question if it has one ("How many militants ...?" ... "Where are they?")."""
    if plural:
        many = [p for p in phrases(turn.interpreted)
                if p.text.lower().endswith("s") and not p.text.lower().endswith("ss")]
        if many:
            return max(many, key=lambda p: salience(p, idf)).text
    topic = "" if person or plural else _topic(turn)
    if topic:  # "What is chain replication?" "what does it coordinate?" "who proposed it?"
        return topic
    if person and turn.interpreted.lower().startswith("who") and turn.excerpt:
        asked = turn.interpreted.lower()
        named = [p for p in phrases(turn.excerpt) if p.name and p.text.lower() not in asked]
        if named:
            return max(named, key=lambda p: salience(p, idf)).text
    for source in (turn.interpreted, turn.excerpt):
        found = _things(source)
        names = [p for p in found if p.name]
        if names or found:
            return max(names or found, key=lambda p: salience(p, idf)).text
    return ""


def _only_attributes(text: str) -> bool:
    """A phrase of attribute nouns alone ("kind" of "what kind of servers"): it names an
    attribute of the thing asked about, never a thing a pronoun can stand for."""
    return all(t.low in ATTRIBUTES for t in _tokens(text))


def _things(text: str) -> list[_Phrase]:
    """`phrases(text)` without those of attribute nouns alone; the phrase after one and
    "of" takes its place ("What kind of hashing ...": "hashing" is what was asked about)."""
    found = phrases(text)
    out = []
    for i, phrase in enumerate(found):
        if not _only_attributes(phrase.text):
            out.append(phrase)
            continue
        at = text.find(phrase.text)
        if i + 1 < len(found) and re.match(r"\s+of\s+(?:the\s+|an?\s+)?" + re.escape(
                found[i + 1].text), text[at + len(phrase.text):]):
            found[i + 1] = _Phrase(found[i + 1].text, found[i + 1].name, phrase.position)
    return out


def _topic(turn: Turn) -> str:
    """What a follow-up turn's reading put in place of its pronoun ("chain replication"
    when "what does it coordinate?" was read as "what does chain replication
    coordinate?"), or "": the subject a conversation keeps until a question names
    another (a follow-up that names something, "When did it write the Large Catechism?",
    keeps none: its next pronoun may mean either)."""
    if turn.interpreted == turn.question or any(p.name for p in phrases(turn.question)):
        return ""  # a name the follow-up brought in may be what the next pronoun means
    asked = [t.text for t in _tokens(turn.question)]
    read = _tokens(turn.interpreted)
    changed = [(i1, i2, j1, j2) for tag, i1, i2, j1, j2 in
               SequenceMatcher(None, asked, [t.text for t in read]).get_opcodes()
               if tag in ("replace", "insert")]
    if len(changed) != 1:  # several changes, or none: not one pronoun replaced
        return ""
    i1, i2, j1, j2 = changed[0]
    if i2 - i1 != 1 or asked[i1].lower() not in PRONOUNS | DEMONSTRATIVES:
        return ""  # another rule's reading ("the price of X", "why (X, Y)?", an ellipsis)
    text = re.sub(r"['’]s$", "", turn.interpreted[read[j1].start:read[j2 - 1].end])
    return "" if "(" in text or _only_attributes(text) else text


def _unresolved_pronoun(tokens: list[_Token]) -> int | None:
    """Index of the first pronoun or demonstrative that nothing before it in the question
    can stand for, or None. Not counted: "that" as a conjunction or relative ("claimed
    that ...", only "that" at the end or "that one" count), "those who ...", the empty
    "it" of "what is it called when ...". Something before it can be its antecedent:
    a name or number; a noun after an article or question word ("the company", "which
    player"; attribute nouns such as "the name of it" do not count); for they/their,
    any word of content ("teachers ... their students")."""
    for i, tok in enumerate(tokens):
        if tok.low not in PRONOUNS and tok.low not in DEMONSTRATIVES:
            continue
        nxt = tokens[i + 1].low if i + 1 < len(tokens) else ""
        if tok.low == "that" and nxt not in ("", "one", "ones"):
            continue
        if tok.low in ("these", "those") and nxt in CATAPHORIC_AFTER:
            continue
        if tok.low == "it" and nxt in EXPLETIVE_AFTER_IT:
            continue
        if nxt == "" and tok.low in ("it", "them"):
            # "Where was the first settlement in it?": a pronoun that ends the question
            # points back at the conversation unless a name comes before it.
            blockers = [t for j, t in enumerate(tokens[:i])
                        if t.capitalised(first=j == 0) or _is_number(t)]
            if blockers:
                return None
            return i
        if any(_has_antecedent(tokens, j, plural=tok.low in PLURAL_PRONOUNS)
               for j in range(i)):
            return None
        return i
    return None


def _has_antecedent(tokens: list[_Token], j: int, *, plural: bool = False) -> bool:
    """Could tokens[j] be what a later pronoun stands for?"""
    tok = tokens[j]
    if tok.function:
        return False
    if tok.capitalised(first=j == 0) or _is_number(tok) or plural:
        return True
    if tok.low in ATTRIBUTES:
        return False
    k = j - 1
    while k >= 0 and not tokens[k].function:
        k -= 1  # "which video gaming company": back to the word that opens the phrase
    return k >= 0 and tokens[k].low in DETERMINERS


def _counterpart(previous: str, new: str) -> str:
    """For "what about X?" with X a name: the name of the previous question that X
    stands in for, the most like it (as many words; "the" before it if X has one; most
    alike in spelling)."""
    if not any(p.name for p in phrases(new)):
        return ""
    bare = new[4:] if new.lower().startswith("the ") else new
    size = len(_tokens(bare))

    def likeness(name: str) -> tuple[int, bool, float]:
        article = previous[:previous.index(name)].lower().endswith("the ")
        return (-abs(len(_tokens(name)) - size), article == (bare != new),
                SequenceMatcher(None, name.lower(), bare.lower()).ratio())

    return max((p.text for p in phrases(previous) if p.name), default="", key=likeness)


def _strip(question: str) -> str:
    return question.strip().rstrip("?!. ").strip()


_NAME_SUFFIXES = _words("jr jr. sr sr. ii iii iv v vi vii viii")


def surname(name: str) -> str:
    """How a text may name a person after introducing them: "Colonel Ryan Dillon" ->
    "Dillon" ("Dillon said ..."). A name with a suffix ("Elizabeth II", "... Jr."), a
    particle ("Van Gogh") or not wholly capitalised is kept whole. Only a second try
    (`Rewrite.short`): a surname-first name or an organisation would come out wrong."""
    words = name.split()
    if (len(words) < 2 or not all(w[:1].isupper() for w in words)
            or words[-1].lower() in _NAME_SUFFIXES
            or words[-2].lower() in ("van", "von", "de", "da", "di", "du", "del", "le", "la")):
        return name
    return words[-1]


def _substitute_pronoun(question: str, tokens: list[_Token], i: int, ante: str) -> str:
    tok = tokens[i]
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    content_next = nxt is not None and not nxt.function
    if tok.low in DEMONSTRATIVES:
        if nxt is not None and nxt.low in ("one", "ones"):
            return question[:tok.start] + ante + question[nxt.end:]
        replacement = f"the {ante}" if content_next else ante
    elif tok.low in POSSESSIVES and (tok.low != "her" or content_next):
        replacement = f"{ante}'s" if tok.low not in ("theirs", "hers") else ante
    else:
        replacement = ante
    if tok.start == 0 and replacement[:1].islower():
        replacement = replacement[0].upper() + replacement[1:]
    return question[:tok.start] + replacement + question[tok.end:]


def _replace_ordinal(previous: str, new: str) -> str | None:
    """"Who wrote the first paper?" + "the second" -> "Who wrote the second paper?"."""
    ordinal = next((t for t in _tokens(new) if t.low in ORDINALS), None)
    if ordinal is None:
        return None
    old = next((t for t in _tokens(previous) if t.low in ORDINALS), None)
    if old is None:
        return None
    return previous[:old.start] + ordinal.text + previous[old.end:]


def resolve(question: str, history: Iterable[Turn] | None, idf: Idf | None = None) -> Rewrite:
    """How to read `question` after `history` (oldest turn first; only the last is used).

    `idf(stemmed_words)` gives word rarity (`LexicalIndex.idf`); without it all words
    weigh the same. Returns the question unchanged unless a follow-up rule fires.
    """
    turns = list(history or [])
    asked = question
    unchanged = Rewrite(question, question)
    if not turns:
        return unchanged
    last = turns[-1]
    tokens = _tokens(question)
    if not tokens:
        return unchanged
    if len(tokens) > 1 and tokens[0].low in ("and", "but", "so") and tokens[1].low in WH_WORDS:
        # "And who wrote it?": the connective only says a follow-up may come.
        question = question[tokens[1].start:]
        tokens = _tokens(question)
    prefer = last.paths[:PREFER_DOCUMENTS]
    names = [t for i, t in enumerate(tokens) if t.capitalised(first=i == 0) or _is_number(t)]
    content = [t for t in tokens if not t.function]

    ellipsis = _ELLIPSIS.match(_strip(question))
    if ellipsis and tokens[0].low not in WH_WORDS | {"and", "but", "so"}:
        ellipsis = None
    if ellipsis and not (ellipsis.group("y") and tokens[1].low in WH_WORDS):
        new = next(g for g in ellipsis.groups() if g)
        previous = _strip(last.interpreted)
        text = _replace_ordinal(previous, new)
        if text is None and _tokens(new)[0].low in PREPOSITIONS:
            text = f"{previous} {new}"  # "and on a client?": the previous question, there
        ante = _counterpart(previous, new) or antecedent(last, idf)
        if text is None and ante and ante in previous:
            body = new
            at = previous.index(ante)
            if body.lower().startswith("the ") and previous[:at].lower().endswith("the "):
                body = body[4:]
            text = previous[:at] + body + previous[at + len(ante):]
        if text is None:
            text = f"{previous} ({new})"
        return Rewrite(asked, text + "?", "ellipsis", ante or new, prefer)

    i = _unresolved_pronoun(tokens)
    if i is not None and (content or tokens[i].low not in DEMONSTRATIVES):  # not "why is that?"
        ante = antecedent(last, idf, person=tokens[i].low in PERSONAL,
                          plural=tokens[i].low in PLURAL_PRONOUNS)
        if ante:
            text = _substitute_pronoun(question, tokens, i, ante)
            short = surname(ante) if tokens[i].low in PERSONAL else ante
            return Rewrite(asked, text, "pronoun", ante, prefer,
                           _substitute_pronoun(question, tokens, i, short)
                           if short != ante else "")

    if not content:  # "why?", "how so?", "when?"
        terms = [p.text for p in phrases(last.interpreted)]
        if terms:
            return Rewrite(asked, f"{_strip(question)} ({', '.join(terms)})?", "bare",
                           ", ".join(terms), prefer)
        return unchanged

    if len(tokens) <= 3 and len(content) <= 1 and not names \
            and tokens[0].low not in WH_WORDS:  # "the price?", not "What is photosynthesis?"
        ante = antecedent(last, idf)
        if ante and ante.lower() not in question.lower():
            return Rewrite(asked, f"{_strip(question)} of {ante}?", "short", ante, prefer)
    return unchanged


def prefer_documents(candidates: list[Candidate], paths: dict[int, str],
                     prefer: Sequence[str], bias: float) -> list[Candidate]:
    """`candidates` re-ranked with `bias` added to the score of those in `prefer`'s
    documents (`paths`: chunk id -> document path)."""
    wanted = set(prefer)
    for cand in candidates:
        if paths.get(cand.chunk_id) in wanted:
            cand.score += bias
    return sorted(candidates, key=lambda c: -c.score)
