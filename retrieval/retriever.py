"""The Python API: open the index once, then `ask` questions and get quoted, cited answers.

    from quotebot.config import load_config
    from retrieval import Retriever

    retriever = Retriever.open(load_config())
    answer = retriever.ask("How many civilians are trapped in Raqqa?")
    for hit in answer.hits:
        print(hit.excerpt, "--", hit.citation.label())
"""

from __future__ import annotations

import re
import sys
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from index.lexical import (
    K1,
    chunk_lexical_tokens,
    is_question_word,
    question_tokens,
    tokenize,
)
from index.runtime import load_embedder
from quotebot.config import Config, ConfigError, RetrievalConfig
from quotebot.documents import Document
from quotebot.errors import StoreError
from retrieval.answer import Answer, Citation, Hit
from retrieval.confidence import load_model, signals
from retrieval.conversation import Turn, prefer_documents, resolve
from retrieval.excerpts import (
    DATE,
    REASON,
    SentenceScore,
    answer_type,
    asked_term,
    best_excerpts,
    defines,
    favour_span,
    question_weights,
    quotable,
    quotable_at,
    score_sentences,
    sentence_context,
)
from retrieval.generations import Generations
from retrieval.keyterms import key_terms
from retrieval.search import MODES, Candidate, minmax, search
from store.factory import open_reader
from store.generations import CURRENT, current_generation, generation_number
from store.protocol import Reader, StoredChunk

MAX_QUESTION_CHARS = 2000  # the model reads ~256 word pieces; more text only slows search
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


DOC_CACHE_BYTES = 64 * 2**20  # the documents kept for quoting (an LRU), by their text's memory


def _doc_bytes(doc: Document) -> int:
    """Memory a cached document holds: its text and its line/page maps, roughly."""
    return (sys.getsizeof(doc.text) + 64 * len(doc.line_anchors)
            + 32 * len(doc.page_starts or ()))


@dataclass
class Settings:
    """Ranking knobs, chosen by `quotebot eval` on the public sets (see BENCHMARKS.md)."""

    mode: str = RetrievalConfig.mode  # config.toml [retrieval] sets mode and min_confidence
    depth: int = 100  # candidates taken from each of dense and BM25
    dense_weight: float = 0.5  # share of the dense score in the fused score
    doc_weight: float = 0.5  # weight of the document's cosine added to a chunk's (hybrid)
    lexical_weight: float = 0.5  # weight of word overlap when scoring sentences to quote
    # Below this score of the best quotable sentence (cosine + lexical_weight x share of
    # the question's words it holds), nothing answers: calibrated on SQuAD (BENCHMARKS.md).
    min_confidence: float = RetrievalConfig.min_confidence
    # Added to the fused score of a follow-up's passages from the documents the last
    # answer quoted (scores span 0-1): a soft preference, not a filter (BENCHMARKS.md).
    followup_bias: float = 0.1
    # A second quote from the first passage must score this close to its best; 0.1 (was
    # 0.05) offers the passage's runner-up sentence more often (benchmarks/quote_choice.py).
    excerpt_margin: float = 0.1
    # A neighbour of the quoted sentence that scores this close to it is quoted with it
    # (the answer is often in the sentence after the one that names the subject); 0.2
    # (was 0.1) by benchmarks/quote_choice.py, at most 3 sentences still.
    join_margin: float = 0.2
    duplicate_jaccard: float = 0.8  # passages of different documents this alike are one
    # Exact matches on the question's numbers, years and names (retrieval/keyterms.py)
    # add this much to a passage's fused score and to a sentence's score, times the share
    # held (benchmarks/number_name_pairs.py).
    key_weight: float = 0.1
    # Whole-answer rules of retrieval/excerpts.py in use. "subject" (take the sentence
    # before when it names the question's subject) is off: it is not yet measured by
    # benchmarks/quote_rules.py and it moved a page-2 quote's citation to page 1. "count"
    # (a "How many" quote without a number runs on to the next sentence that has one)
    # gained real-pdfs @3, changed nothing else (BENCHMARKS.md, stop 15). "describe" and
    # "explain" (stop 19) gained on SQuAD dev's "What is" and why/how questions, lost none.
    quote_rules: tuple[str, ...] = ("announce", "remedy", "count", "describe", "explain")
    # Quote choice (retrieval/excerpts.py `score_sentences`): a sentence gains this x the
    # previous sentence's word overlap (benchmarks/quote_choice.py).
    window_weight: float = 0.1
    # Added to the score of sentences in the passage's best-ranked chunk (passages merge
    # overlapping chunks; the one that ranked is where the match is): 0.05 and 0.1
    # measured alike (benchmarks/quote_choice.py), the smaller kept.
    ranked_chunk_weight: float = 0.05
    # Passages to quote are re-ordered by (1 - w) x their fused score + w x the score of
    # their best quotable sentence (each min-max scaled over the passages): a passage
    # whose single sentence answers outranks one that only shares many words with the
    # question. 0.5 (equal shares, as the fusion's own blend) held on every question set
    # and SQuAD; 0.25 gained less, 0.75 lost on Markdown (benchmarks/quote_choice.py).
    sentence_rank_weight: float = 0.5
    # In that re-ordering, a passage also gains this x the share of the question's words
    # (by IDF) its section headings hold: a section titled "Exit status" or "Timeouts" is
    # what a question using those words asks about, however its sentences word it (BM25
    # sees a heading as one more line of the chunk). 0.4 gained on real-markdown and the
    # machine's docs (0.2 less, 0.8 lost Markdown questions), lost none elsewhere
    # (BENCHMARKS.md "Section headings that name the question's words").
    heading_weight: float = 0.4
    # A sentence holding what the question's answer type expects (a number for "How
    # many...": retrieval/excerpts.py `answer_type`) gains this; dates and reasons have
    # their own weights below. Off: 0.05 and 0.1 lost on the real PDFs
    # (benchmarks/quote_choice.py, when "When..." still expected any time word).
    answer_type_weight: float = 0.0
    # A sentence opening a list item that defines a term the question names ("• html -
    # Run in HTML mode." for "What does the html option do?") gains this x the share of
    # the term's words the question holds (retrieval/excerpts.py `defined_term`): 0.1 and
    # 0.2 measured alike (benchmarks/quote_choice.py), the smaller kept.
    item_weight: float = 0.1
    # A sentence defining the term a "What is X?" question asks about ("A stable property
    # is one that persists") gains this in quote choice (retrieval/excerpts.py `defines`);
    # chunks holding one are read even when they rank low (`_defining`), and their
    # passages come first (0 turns all three off). 0.3, so that the definition is the
    # quote of its passage (BENCHMARKS.md, "What is X?").
    definition_weight: float = 0.3
    # A sentence giving a reason ("because", "due to", "in order to": retrieval/excerpts.py
    # `REASON`) gains this for "Why ...?", instead of `answer_type_weight`. On SQuAD dev's
    # 158 why-questions first quotes right 119 -> 125 (6 gained, none lost; 0.2 lost 3),
    # no question set moved (BENCHMARKS.md, stop 16).
    reason_weight: float = 0.1
    # A sentence holding a date (retrieval/excerpts.py `DATE`) gains this for "When ...?".
    # On SQuAD dev's when-questions first quotes right 745 -> 762 (18 gained, 1 lost; 0.1
    # lost 5), no question set moved (BENCHMARKS.md, stop 16).
    date_weight: float = 0.05
    # In quote choice a sentence is read under its document's title and section headings
    # (retrieval/excerpts.py `sentence_context`): the question's words it lacks but they
    # hold count this x their share (xargs's "Use at most max-args arguments per command
    # line" for "How do I limit the arguments xargs passes?"). It weighs in choosing and
    # ordering quotes, not in the confidence. 1 (as if the sentence said them) gained on
    # five sets and SQuAD and lost one real-pdfs question net (BENCHMARKS.md, "A sentence
    # is read under its title and headings"). Headings thus count twice in passage order:
    # here, and in `heading_weight`, which was chosen before this; both were measured
    # together.
    context_weight: float = 1.0


@dataclass
class Passage:
    """Overlapping chunks of one document that ranked, merged into one span."""

    doc_id: str
    start: int
    end: int
    score: float
    dense: float
    chunks: list[StoredChunk] = field(default_factory=list)
    agreement: float = 0.0  # how high both dense and BM25 rank its first chunk (0-1]
    lexical: float = 0.0  # BM25 score of its first chunk
    dense_z: float = 0.0  # its first chunk's cosine as a z-score among all candidates'
    lexical_z: float = 0.0  # its first chunk's BM25 score, likewise


def valid_text(text: str) -> str:
    """`text` with lone surrogates (bytes that were not UTF-8, kept by Python's
    surrogateescape in argv, stdin and file names) replaced by U+FFFD: the tokenizer and
    any UTF-8 output refuse them."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        raw = text.encode("utf-8", "surrogateescape")  # back to the bytes they stand for
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogatepass")  # other lone surrogates
    return raw.decode("utf-8", "replace")


def clean_question(question: str) -> str:
    """Invalid characters and control characters out, compatibility forms folded (NFKC,
    as documents are: "Ｔｏｒ", "𝕋𝕠𝕣" and "ﬁle" are Tor and file), whitespace collapsed,
    length capped (`ask` refuses a longer question; a follow-up's rewrite may add a little)."""
    text = unicodedata.normalize("NFKC", _CONTROL.sub(" ", valid_text(question)))
    return " ".join(text.split())[:MAX_QUESTION_CHARS]


def _close_reader(reader: Reader) -> None:
    """Close a generation's reader once its last question has ended."""
    reader.close()


class Retriever:
    """Answers questions from one store; safe to share between threads.

    It follows the store's live generation by itself: before a question, a cheap check
    (one stat of `CURRENT`, at most every `retrieval.reload_check_s` seconds) switches to a
    generation a build has published since. A question that started on the old generation
    finishes on it; the old reader is closed when its last question ends.
    """

    def __init__(self, config: Config, settings: Settings | None = None) -> None:
        self.config = config
        if config.retrieval.mode not in MODES:
            raise ConfigError(f"retrieval.mode must be one of {', '.join(MODES)}, "
                              f"not {config.retrieval.mode!r}")
        self.settings = settings or replace(Settings(), mode=config.retrieval.mode,
                                            min_confidence=config.retrieval.min_confidence)
        # Questions are encoded with onnxruntime when the store has the model's export (no
        # torch import: seconds and hundreds of MB), else with sentence-transformers.
        self.embedder, _ = load_embedder(
            config.model.name, store=config.store, runtime=config.model.runtime,
            threads=config.model.query_threads, batch_size=config.model.batch_size,
            allow_download=config.model.allow_download)
        self._lock = threading.Lock()
        self._docs: OrderedDict[tuple[str, str], Document] = OrderedDict()
        self._docs_bytes = 0
        # Evaluation only (`ask(exclude=...)`): chunk ids by path, and hidden word counts.
        self._paths: dict[str, dict[str, list[int]]] = {}
        self._hidden: dict[tuple[str, tuple[str, ...]], tuple[int, dict[str, int]]] = {}
        store = Path(config.store)
        if current_generation(store) is None:
            raise StoreError(f"no index in {store}: build one with `quotebot index`")
        self.generations: Generations[Reader] = Generations(
            store / CURRENT, lambda: current_generation(store), self._open, _close_reader,
            interval=config.retrieval.reload_check_s)

    @classmethod
    def open(cls, config: Config, settings: Settings | None = None) -> Retriever:
        """Open the live index of `config.store`; raises StoreError with advice if unusable."""
        return cls(config, settings)

    def _open(self, folder: Path) -> Reader:
        """Open one generation for answering (checked: files, model)."""
        reader = open_reader(self.config, folder)
        try:
            reader.check_model(self.config.model.name, self.embedder.fingerprint)
        except BaseException:
            reader.close()
            raise
        return reader

    @property
    def reader(self) -> Reader:
        """The live generation's reader (for inspection; `ask` holds its own for each question)."""
        return self.generations.current.reader

    @property
    def generation(self) -> int:
        """Number of the generation new questions are answered from."""
        return generation_number(self.generations.current.folder)

    def refresh(self) -> bool:
        """Switch now (no waiting for the next check) if a build published a newer
        generation; True when it did. `ask` does this by itself at most once a second."""
        return self.generations.check(force=True)

    def counts(self) -> dict[str, int]:
        return self.reader.counts()

    def titles(self, limit: int = 3) -> list[str]:
        """A few document titles (file names for untitled ones), to say what the corpus holds."""
        return self.reader.titles(limit)

    def encode(self, question: str) -> np.ndarray:
        return self.embedder.encode_queries([question])[0]

    def candidates(self, question: str, *, mode: str | None = None, depth: int | None = None,
                   within: Sequence[str] | None = None) -> tuple[np.ndarray, list[Candidate]]:
        """The question's vector and its ranked chunk candidates (for `ask` and evaluation).

        `within`: only chunks of documents under these folders or paths (scoped questions).
        """
        with self.generations.use() as generation:
            return self._candidates(generation.reader, question, mode=mode, depth=depth,
                                    within=within)

    def _candidates(self, reader: Reader, question: str, *, mode: str | None = None,
                    depth: int | None = None, within: Sequence[str] | None = None,
                    ) -> tuple[np.ndarray, list[Candidate]]:
        mode = mode or self.settings.mode
        vector = (self.encode(question) if mode != "bm25"
                  else np.zeros(reader.dimension, np.float32))
        return vector, search(reader, vector, question_tokens(question), mode=mode,
                              depth=depth or self.settings.depth,
                              dense_weight=self.settings.dense_weight,
                              doc_weight=self.settings.doc_weight, within=within,
                              keys=key_terms(question), key_weight=self.settings.key_weight)

    def ranked_documents(self, question: str, *, mode: str | None = None,
                         depth: int = 100) -> list[str]:
        """Up to `depth` document paths, best first, each ranked by its best chunk.

        The order is the fused one `ask` starts from (same candidates, same fusion; `ask`
        may then re-order its first few passages by their best sentence,
        `Settings.sentence_rank_weight`); when those hold fewer than `depth` documents, a
        deeper search fills the tail (for Recall@100).
        """
        text = clean_question(question)
        with self.generations.use() as generation:
            reader = generation.reader
            _, candidates = self._candidates(reader, text, mode=mode)
            paths = reader.chunk_paths([c.chunk_id for c in candidates])
            ranked = dict.fromkeys(paths[c.chunk_id] for c in candidates)
            if len(ranked) < depth:
                _, deeper = self._candidates(reader, text, mode=mode, depth=3 * depth)
                more = reader.chunk_paths([c.chunk_id for c in deeper])
                ranked.update(dict.fromkeys(more[c.chunk_id] for c in deeper))
        return list(ranked)[:depth]

    def ask(self, question: str, k: int | None = None, *, mode: str | None = None,
            abstain: bool = True, exclude: Callable[[str], bool] | None = None,
            history: Iterable[Turn] | None = None,
            prefer: Sequence[str] = (), within: Sequence[str] | None = None) -> Answer:
        """The best passages for `question`, each with a verbatim quote and its citation.

        `found` is False when the best quotable sentence is not close enough to the
        question (`Settings.min_confidence`). With `abstain=False` the best passages are
        returned anyway (evaluation of ranking alone); `exclude` drops documents whose
        path it accepts, as if they were not indexed (evaluation of abstention).
        `history` (a `retrieval.conversation.Conversation`, or its turns) reads a
        follow-up ("What is it intended for?") in the light of the last turn; the answer's
        `interpreted_as` then says how. `prefer` ranks these documents' passages higher.
        `within` answers only from documents under these folders or paths (relative to
        the corpus, e.g. ["reports/2024"]): nothing outside them is ever quoted.
        """
        words = len(" ".join(_CONTROL.sub(" ", valid_text(question)).split()))
        if words > MAX_QUESTION_CHARS:  # a pasted document, not a question: say so
            return Answer(valid_text(question), False,
                          reason=f"The question is too long ({words:,} characters; at most "
                          f"{MAX_QUESTION_CHARS:,}). Ask it in a sentence or two.")
        if history is not None:
            rewrite = resolve(clean_question(valid_text(question)), history, self.reader.idf)
            if rewrite.followup:  # its rewrite may be a little longer than what was typed
                read_as = rewrite.text
                answer = self._answer(read_as, k, mode, abstain, exclude, rewrite.prefer,
                                      within)
                if not answer.found and rewrite.short:
                    second = self._answer(rewrite.short, k, mode, abstain, exclude,
                                          rewrite.prefer, within)
                    if second.found:
                        answer, read_as = second, rewrite.short
                answer.question, answer.interpreted_as = valid_text(question), read_as
                return answer
        return self._answer(question, k, mode, abstain, exclude, prefer, within)

    def _answer(self, question: str, k: int | None, mode: str | None, abstain: bool,
                exclude: Callable[[str], bool] | None, prefer: Sequence[str],
                within: Sequence[str] | None) -> Answer:
        """`ask` for a question whose length and conversation are dealt with."""
        k = k or self.config.retrieval.k
        question = valid_text(question)  # the Answer repeats it: printable as UTF-8
        text = clean_question(question)
        if not any(ch.isalnum() for ch in text):
            return Answer(question, False, reason="The question has no words to search for.")
        within = normalise_scope(within)
        if within == []:
            return Answer(question, False, reason="No folder to search in.")
        with self.generations.use() as generation:  # the whole answer from one generation
            answer = self._ask(generation.reader, question, text, k, mode, abstain, exclude,
                               prefer, within)
        answer.generation = generation_number(generation.folder)
        return answer

    def _ask(self, reader: Reader, question: str, text: str, k: int, mode: str | None,
             abstain: bool, exclude: Callable[[str], bool] | None,
             prefer: Sequence[str] = (), within: Sequence[str] | None = None) -> Answer:
        vector, candidates = self._candidates(reader, text, mode=mode, within=within)
        if prefer:
            candidates = prefer_documents(candidates, reader.chunk_paths(
                [c.chunk_id for c in candidates]), prefer, self.settings.followup_bias)
        if exclude is not None:
            paths = reader.chunk_paths([c.chunk_id for c in candidates])
            candidates = [c for c in candidates if not exclude(paths[c.chunk_id])]
        if not candidates:
            if within:
                return Answer(question, False, reason="No indexed document is under "
                              + ", ".join(repr(w.lstrip(UNSTORABLE)) for w in within) + ".")
            return Answer(question, False, reason="The index is empty.")
        hidden = self._hidden_counts(reader, exclude) if exclude is not None else None
        terms = _terms(reader, text, hidden)
        # The first POOL candidates' passages (and those defining the asked term) are
        # ranked by their best sentence and read by the confidence, whatever k: more hits
        # asked for only add passages after them, never reorder or reshape these.
        core_cands = candidates[:POOL]
        if terms.asked and self.settings.definition_weight:
            core_cands = core_cands + _defining(reader, candidates[POOL:], terms.asked)
        core = self._passages(reader, core_cands, candidates)
        taken = {c.chunk_id for c in core_cands}
        # Each further candidate is a passage of its own chunk, dropped when it overlaps
        # one before it: merged, a larger k would reshape the passages a smaller k quoted.
        rest = self._passages(reader, [c for c in candidates[POOL:max(POOL, 3 * k + 2)]
                                       if c.chunk_id not in taken], candidates,
                              merge=False, after=core)
        scored: dict[int, list[SentenceScore]] = {}
        if self.settings.sentence_rank_weight:
            core = self._by_best_sentence(reader, vector, core, terms, scored)
        hits = self._hits(reader, text, vector, core + rest, k, terms, pool_z(candidates),
                          scored, peers=core)
        if not hits:
            return Answer(question, False, reason="No passage has a sentence to quote.")
        confidence = hits[0].confidence  # the first quote: the one a reader sees
        if abstain and (mode or self.settings.mode) != "bm25" \
                and confidence < self.settings.min_confidence \
                and not holds_every_word(terms, hits[0].excerpt):
            return Answer(question, False, hits, confidence=confidence,
                          reason="No passage is close enough to the question.")
        return Answer(question, True, hits, confidence=confidence)

    def _passages(self, reader: Reader, candidates: list[Candidate],
                  pool: list[Candidate], *, merge: bool = True,
                  after: Sequence[Passage] = ()) -> list[Passage]:
        """Group candidate chunks by document and merge the ones that overlap (with
        `merge` False, a chunk overlapping an earlier passage, or one of `after`, is left
        out instead); each passage notes how both rankings of `pool` (all candidates)
        place its first chunk."""
        chunks = reader.chunks([c.chunk_id for c in candidates])
        dense = np.sort(np.array([c.dense for c in pool], np.float64))
        lexical = np.sort(np.array([c.lexical for c in pool], np.float64))
        z, z_lexical = pool_z(pool), pool_z(pool, "lexical")
        passages: list[Passage] = []
        for cand in candidates:
            chunk = chunks.get(cand.chunk_id)
            if chunk is None:
                continue
            if not merge and any(p.doc_id == chunk.doc_id and chunk.start < p.end
                                 and p.start < chunk.end for p in [*after, *passages]):
                continue
            for p in passages if merge else ():
                if p.doc_id == chunk.doc_id and chunk.start <= p.end and p.start <= chunk.end:
                    p.start, p.end = min(p.start, chunk.start), max(p.end, chunk.end)
                    p.chunks.append(chunk)
                    break
            else:
                above = (len(dense) - np.searchsorted(dense, cand.dense, side="right"),
                         len(lexical) - np.searchsorted(lexical, cand.lexical, side="right"))
                passages.append(Passage(chunk.doc_id, chunk.start, chunk.end, cand.score,
                                        cand.dense, [chunk],
                                        (1 / (1 + above[0]) + 1 / (1 + above[1])) / 2,
                                        cand.lexical, z(cand.dense),
                                        z_lexical(cand.lexical)))
        return passages

    def _document(self, reader: Reader, doc_id: str) -> Document:
        """A stored document's text and line/page maps (a small LRU keeps hot ones)."""
        key = (reader.folder.name, doc_id)  # each generation has its own documents
        with self._lock:
            if key in self._docs:
                self._docs.move_to_end(key)
                return self._docs[key]
        doc = reader.document(doc_id)
        with self._lock:
            if key not in self._docs:
                self._docs[key] = doc
                self._docs_bytes += _doc_bytes(doc)
            # Bounded by memory, not by count: 64 documents of 50 MB would be gigabytes.
            while len(self._docs) > 1 and self._docs_bytes > DOC_CACHE_BYTES:
                _, old = self._docs.popitem(last=False)
                self._docs_bytes -= _doc_bytes(old)
        return doc

    def _hidden_counts(self, reader: Reader, exclude: Callable[[str], bool],
                       ) -> tuple[int, dict[str, int]]:
        """(chunks, chunks holding each token) of the documents `exclude` accepts, so that
        word statistics too are as if those documents were not indexed (evaluation)."""
        key = reader.folder.name
        with self._lock:
            by_path = self._paths.get(key)
        if by_path is None:
            by_path = {}
            for chunk_id, path in reader.chunk_paths(list(reader.chunk_ids())).items():
                by_path.setdefault(path, []).append(int(chunk_id))
            with self._lock:
                self._paths = {key: by_path}  # one generation's map is enough
        hidden = sorted(p for p in by_path if exclude(p))
        memo = (key, tuple(hidden))
        with self._lock:
            if memo in self._hidden:
                return self._hidden[memo]
        ids = [i for p in hidden for i in by_path[p]]
        df: dict[str, int] = {}
        for chunk in reader.chunks(ids).values():
            title = self._document(reader, chunk.doc_id).title
            for token in set(chunk_lexical_tokens(title, chunk.heading_path, chunk.text)):
                df[token] = df.get(token, 0) + 1
        with self._lock:
            if len(self._hidden) > 64:
                self._hidden.clear()
            self._hidden[memo] = (len(ids), df)
        return len(ids), df

    def _score_sentences(self, doc: Document, passage: Passage, vector: np.ndarray,
                         terms: _Terms) -> list[SentenceScore]:
        """The question's score of each sentence of `passage` (quote choice's weights)."""
        spans, vectors = _sentences(passage)
        return score_sentences(
            doc.text, spans, vectors, vector, terms.weights, self.settings.lexical_weight,
            terms.numbers, self.settings.key_weight, self.settings.window_weight,
            terms.expects, self._type_weight(terms.expects), self.settings.item_weight,
            total=terms.quote_total, asked=terms.asked,
            definition_weight=self.settings.definition_weight,
            context=sentence_context(doc.title, passage.chunks[0].heading_path),
            context_weight=self.settings.context_weight)

    def _type_weight(self, expects: re.Pattern[str] | None) -> float:
        """What a sentence holding the question's answer type gains in quote choice."""
        if expects is REASON:
            return self.settings.reason_weight
        if expects is DATE:
            return self.settings.date_weight
        return self.settings.answer_type_weight

    def _by_best_sentence(self, reader: Reader, vector: np.ndarray,
                          passages: list[Passage], terms: _Terms,
                          scored: dict[int, list[SentenceScore]]) -> list[Passage]:
        """`passages` re-ordered by their fused score blended with their best quotable
        sentence's score (`Settings.sentence_rank_weight`) plus the share of the question
        its headings hold (`Settings.heading_weight`); each passage's sentence scores are
        left in `scored` (by `id(passage)`) for `_hits`."""
        if len(passages) < 2:
            return passages
        best, defining = [], []
        for passage in passages:
            doc = self._document(reader, passage.doc_id)
            scores = scored[id(passage)] = self._score_sentences(doc, passage, vector, terms)
            strict = doc.format == "pdf"
            defining.append(any(s.defining and quotable(doc.text[s.start:s.end], strict=strict)
                                for s in scores))
            top = next((s.score for s in sorted(scores, key=lambda s: -s.score)
                        if quotable_at(doc.text, scores, s.index,
                                       lambda t, strict=strict: quotable(t, strict=strict))),
                       0.0)
            best.append(top + self.settings.heading_weight * heading_share(
                passage.chunks[0].heading_path, terms.weights))
        w = self.settings.sentence_rank_weight
        blended = ((1 - w) * minmax(np.array([p.score for p in passages], np.float64))
                   + w * minmax(np.array(best, np.float64)))
        # "What is X?": a passage that defines X comes before those that only mention it
        blended += np.array(defining, np.float64)
        return [passages[i] for i in np.argsort(-blended, kind="stable")]

    def _hits(self, reader: Reader, question: str,
              vector: np.ndarray, passages: list[Passage], k: int, terms: _Terms,
              z: Callable[[float], float] = lambda cosine: 0.0,
              scored: dict[int, list[SentenceScore]] | None = None,
              peers: list[Passage] | None = None) -> list[Hit]:
        """Hits quoted from `passages` in order, up to `k`; a passage's confidence compares
        it with `peers` (default: all of `passages`)."""
        peers = passages if peers is None else peers
        content, weights, keys = terms.content, terms.weights, terms.keys
        model = load_model()
        hits: list[Hit] = []
        kept_words: list[set[str]] = []
        for passage in passages:
            if len(hits) >= k:
                break
            doc = self._document(reader, passage.doc_id)
            text = doc.text[passage.start:passage.end]
            words = set(text.lower().split())
            duplicate = next((i for i, seen in enumerate(kept_words)
                              if len(words & seen) / max(len(words | seen), 1)
                              >= self.settings.duplicate_jaccard), None)
            if duplicate is not None:
                citation = self._citation(doc, passage.start, passage.end, passage)
                hits[duplicate].also_in.append(citation)
                continue
            scores = (scored or {}).get(id(passage)) or self._score_sentences(
                doc, passage, vector, terms)
            favour_span(scores, passage.chunks[0].start, passage.chunks[0].end,
                        self.settings.ranked_chunk_weight if len(passage.chunks) > 1 else 0.0)
            limit = 2 if not hits else 1
            total = sum(weights.values()) or 1.0
            ceiling = (K1 + 1) * total  # BM25 can score at most this (every word saturated)
            held = set(tokenize(text))
            passage_overlap = sum(w for t, w in weights.items() if t in held) / total
            margin = passage.score - max((p.score for p in peers if p is not passage),
                                         default=0.0)
            others = [p for p in peers if p.doc_id != passage.doc_id]  # other documents
            strict = doc.format == "pdf"  # PDF layouts scatter figure and table labels
            for excerpt in best_excerpts(doc.text, scores, limit=limit,
                                         margin=self.settings.excerpt_margin,
                                         join_margin=self.settings.join_margin,
                                         can_quote=lambda s, strict=strict: quotable(
                                             s, strict=strict),
                                         question=question,
                                         rules=self.settings.quote_rules,
                                         pages=doc.page_starts or (), footnotes=strict):
                if len(hits) >= k:
                    break
                quote = doc.text[excerpt.start:excerpt.end]
                # The confidence reads the quote's share of the content words alone.
                why = signals(question=question, quote=quote, cosine=excerpt.cosine,
                              overlap=excerpt.overlap * terms.quote_total / total,
                              passage_overlap=passage_overlap,
                              content=content, weights=weights, keys=keys,
                              passage_tokens=held, passage_cosine=passage.dense,
                              lexical=passage.lexical / ceiling,
                              agreement=passage.agreement, margin=margin,
                              dense_z=passage.dense_z, cosine_z=z(excerpt.cosine),
                              lexical_z=passage.lexical_z,
                              dense_gap=passage.dense_z - max(
                                  (p.dense_z for p in others), default=passage.dense_z),
                              lexical_gap=passage.lexical_z - max(
                                  (p.lexical_z for p in others), default=passage.lexical_z),
                              n_chunks=terms.n_chunks)
                hits.append(Hit(
                    rank=len(hits) + 1, score=round(passage.score, 4), text=text,
                    excerpt=doc.text[excerpt.start:excerpt.end], excerpt_start=excerpt.start,
                    excerpt_end=excerpt.end, excerpt_score=round(excerpt.score, 4),
                    citation=self._citation(doc, excerpt.start, excerpt.end, passage),
                    passage_start=passage.start, passage_end=passage.end,
                    confidence=round(model(why), 4), signals=why.to_dict()))
                kept_words.append(words)
        return hits

    @staticmethod
    def _citation(doc: Document, start: int, end: int, passage: Passage) -> Citation:
        last = max(start, end - 1)
        return Citation(doc_id=doc.doc_id, title=doc.title, path=doc.path,
                        line_start=doc.line_at(start), line_end=doc.line_at(last),
                        page=doc.page_at(start), heading_path=passage.chunks[0].heading_path,
                        page_end=doc.page_at(last), content_hash=doc.content_hash)

    def close(self) -> None:
        self.generations.close()

    def __enter__(self) -> Retriever:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class _Terms:
    """A question's words as ranking and quoting weigh them, worked out once per `ask`."""

    content: list[str]  # its content tokens
    weights: dict[str, float]  # their IDF, for those the corpus holds
    keys: list[str]  # its numbers and names
    numbers: list[str]  # of those, the numbers: quote choice weighs exact numbers only (a
    # name is usually the subject, said in the sentence before the one that answers)
    expects: re.Pattern[str] | None  # what its answer type asks a sentence to hold
    n_chunks: int  # chunks of the corpus the weights are over
    # What a sentence's word share in quote choice is of: the weights' sum plus the IDF
    # of the question's asking words ("what", "how", and the "does" and "many" that
    # `index.lexical.without_asking` leaves out), which no sentence gains by holding ("in
    # what follows") but which keep the share on the scale quote choice was tuned on
    # (leaving them out of the sum as well lost 4 real-markdown questions; BENCHMARKS.md).
    quote_total: float
    asked: str = ""  # the term a "What is X?" question asks to define (`asked_term`)


def _terms(reader: Reader, question: str, hidden: tuple[int, dict[str, int]] | None,
           ) -> _Terms:
    """The question's `_Terms`; with `hidden` (evaluation), as if those chunks were not
    indexed."""
    content = question_tokens(question)
    idf = reader.idf(tokenize(question))  # the asking words' too, for `quote_total`
    n_chunks = reader.counts()["chunks"]
    if hidden is not None:
        idf = idf_without(idf, n_chunks, *hidden)
        n_chunks -= hidden[0]
    keys = key_terms(question)
    weights = question_weights(question, idf)
    asking = sum(w for t, w in idf.items() if t not in weights)
    return _Terms(content, weights, keys, [key for key in keys if key[:1].isdigit()],
                  answer_type(question), n_chunks, sum(weights.values()) + asking or 1.0,
                  asked_term(question))


# Candidates whose passages `ask` re-orders by their best sentence and whose scores the
# confidence compares, for any number of hits asked (11 is what the default k = 3 read
# when the pool was 3k + 2: a k of 1 or 5 gave another first answer and confidence).
POOL = 11
DEFINING_DEPTH = 200  # candidates searched for a sentence defining the asked term
MAX_DEFINING = 2  # of those, added to the passages a "What is X?" question considers


def _defining(reader: Reader, candidates: Sequence[Candidate], term: str) -> list[Candidate]:
    """The first few of `candidates` (below the passages `ask` considers) whose chunk
    holds a sentence defining `term` ("Chain replication is a new approach to ..."):
    a paper's subject is in every chunk of it, so the chunk that defines it need not
    rank near the top for "What is chain replication?"."""
    chosen = candidates[:DEFINING_DEPTH]
    chunks = reader.chunks([c.chunk_id for c in chosen])
    found = []
    for cand in chosen:
        chunk = chunks.get(cand.chunk_id)
        if chunk is not None and any(
                defines(chunk.text, s - chunk.start, e - chunk.start, term)
                for s, e in chunk.sentences):
            found.append(cand)
            if len(found) == MAX_DEFINING:
                break
    return found


def heading_share(heading_path: Sequence[str], weights: dict[str, float]) -> float:
    """Share of the question's word weight (`weights`: its content words' IDF) that the
    section headings of a chunk hold ("exit status" under "EXIT STATUS": 0.5 of a
    question weighing those two words as much as the rest)."""
    total = sum(weights.values())
    if not heading_path or not total:
        return 0.0
    held = set(tokenize(" ".join(heading_path)))
    return sum(w for t, w in weights.items() if t in held) / total


def holds_every_word(terms: _Terms, quote: str) -> bool:
    """Whether the quote holds every content word of the question ("Who is Ryan
    Dillon?", "Who is the coalition spokesman?" answered by "...coalition spokesman,
    Colonel Ryan Dillon, ...").

    Such a quote is what the corpus says of what was asked, however low its cosine: a
    short question naming a subject is close in meaning to no long sentence, and the
    confidence model, fitted on corpora of thousands of passages, reads that low cosine
    as a miss (BENCHMARKS.md: on the fit's held-out rows this accepts no more absent
    questions)."""
    content = {t for t in terms.content if not is_question_word(t)}  # "Who? When?" asks nothing
    return bool(content) and content <= set(tokenize(quote))


# Cosines of one question's candidates spread by a few hundredths: a floor on their
# standard deviation keeps a tiny corpus (a handful of chunks) from giving huge z-scores.
MIN_SPREAD = 0.02
Z_LIMIT = 6.0


def pool_z(pool: Sequence[Candidate], score: str = "dense") -> Callable[[float], float]:
    """cosine (or BM25 score, `score="lexical"`) -> its z-score among the candidates'
    (how far above this question's usual score it lies: the same scale on any corpus and
    for any question)."""
    dense = np.array([getattr(c, score) for c in pool], np.float64)
    if not len(dense):
        return lambda cosine: 0.0
    mean, spread = float(dense.mean()), max(float(dense.std()), MIN_SPREAD)
    return lambda cosine: max(-Z_LIMIT, min(Z_LIMIT, (cosine - mean) / spread))


def idf_without(idf: dict[str, float], n: int, hidden_n: int,
                hidden_df: dict[str, int]) -> dict[str, float]:
    """`idf` (Lucene's, over `n` chunks) recomputed as if `hidden_n` chunks, holding the
    tokens counted in `hidden_df`, were not indexed; tokens only they hold are dropped."""
    kept = max(n - hidden_n, 1)
    out = {}
    for token, value in idf.items():
        df = round((n + 1) / float(np.exp(value)) - 0.5) - hidden_df.get(token, 0)
        if df > 0:
            out[token] = float(np.log(1 + (kept - df + 0.5) / (df + 0.5)))
    return out


def normalise_scope(within: Sequence[str] | None) -> list[str] | None:
    """Scope folders as the store names paths: "/"-separated, no leading "./" or slashes.

    None is no scope (the whole corpus); an empty list (or only blank names) is a scope
    that holds nothing. A name that climbs out ("..") is refused (ValueError). A name
    that is not valid UTF-8 (undecodable bytes of a command line) names no stored path,
    as builds refuse such names: it becomes one that matches nothing (`UNSTORABLE`).
    """
    if within is None:
        return None
    if isinstance(within, str):
        within = [within]
    out = []
    for name in within:
        parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
        if ".." in parts:
            raise ValueError(f"scope {name!r} climbs out of the corpus")
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:  # no stored path is this: keep it matching nothing
            out.append(UNSTORABLE + name.encode("utf-8", "backslashreplace").decode("utf-8"))
            continue
        if parts:
            out.append("/".join(parts))
    return out


# Marks a scope no stored path can match (NUL is in no file name).
UNSTORABLE = "\x00"


def _sentences(passage: Passage) -> tuple[list[tuple[int, int]], np.ndarray]:
    """The distinct sentences of a passage's chunks, in order, with their stored vectors."""
    seen: dict[tuple[int, int], Any] = {}
    for chunk in passage.chunks:
        for span, vec in zip(chunk.sentences, chunk.sentence_vectors, strict=True):
            seen.setdefault(tuple(span), vec)
    spans = sorted(seen)
    return spans, np.array([seen[s] for s in spans], dtype=np.float32).reshape(len(spans), -1)
