"""Measure retrieval on public sets: BEIR-layout folders and SQuAD-layout files.

The evaluation corpus is written out as plain text files (title on the first line)
and indexed by the normal `quotebot index` pipeline, so what is measured is the
product itself. The index is kept under the evaluation store and reused.

Metrics follow the usual definitions (as in pytrec_eval / BEIR):
  nDCG@k     sum(rel_i / log2(i + 1)) over the top k, divided by the ideal ordering's
  Recall@k   relevant documents found in the top k / relevant documents
  MRR@k      1 / rank of the first relevant document in the top k (0 if none)
SQuAD (the corpus is its paragraphs): hit@k = one of the top k passages contains a gold
answer string; excerpt_hit@1 = the first quoted excerpt contains one. Abstention is
measured by hiding each question's own article: the product should then say that
nothing answers (precision/recall of "not found").
"""

from __future__ import annotations

import json
import math
import re
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quotebot.config import ConfigError
from retrieval.retriever import Retriever

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


# ---- metrics --------------------------------------------------------------------------

def ndcg_at(ranked: Sequence[str], relevant: dict[str, int], k: int) -> float:
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranked: Sequence[str], relevant: dict[str, int], k: int) -> float:
    wanted = {d for d, r in relevant.items() if r > 0}
    return len(wanted & set(ranked[:k])) / len(wanted) if wanted else 0.0


def mrr_at(ranked: Sequence[str], relevant: dict[str, int], k: int) -> float:
    for i, d in enumerate(ranked[:k]):
        if relevant.get(d, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    """SQuAD-style containment: case- and whitespace-insensitive."""
    norm = " ".join(text.lower().split())
    return any(" ".join(a.lower().split()) in norm for a in answers if a.strip())


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


# ---- data sets ------------------------------------------------------------------------

@dataclass


class EvalSet:
    """A corpus (id -> (title, text)), questions, and what answers each."""

    name: str
    kind: str  # "beir" | "squad"
    corpus: dict[str, tuple[str, str]]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]] = field(default_factory=dict)  # BEIR
    answers: dict[str, list[str]] = field(default_factory=dict)  # SQuAD
    groups: dict[str, str] = field(default_factory=dict)  # doc id -> article (SQuAD)
    query_group: dict[str, str] = field(default_factory=dict)  # question -> article
    impossible: set[str] = field(default_factory=set)  # SQuAD v2.0: should be declined


def load_beir(folder: Path, split: str = "test") -> EvalSet:
    """corpus.jsonl, queries.jsonl and qrels/<split>.tsv; queries without qrels are left out."""
    corpus = {}
    with open(folder / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            corpus[str(row["_id"])] = (row.get("title", ""), row.get("text", ""))
    qrels: dict[str, dict[str, int]] = {}
    with open(folder / "qrels" / f"{split}.tsv", encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or not parts[2].lstrip("-").isdigit():
                continue  # header
            qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    queries = {}
    with open(folder / "queries.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if str(row["_id"]) in qrels:
                queries[str(row["_id"])] = row["text"]
    return EvalSet(folder.name, "beir", corpus, queries, qrels=qrels)


class EvalDataError(ValueError):
    """An evaluation file that cannot be read as its format; the message names where and why."""


def _need(value: Any, kind: type, where: str, what: str) -> Any:
    if not isinstance(value, kind):
        found = "missing" if value is None else f"a {type(value).__name__}"
        raise EvalDataError(f"{where}: {what} should be a {kind.__name__}, found {found}")
    return value


def load_squad(path: Path) -> EvalSet:
    """SQuAD v1.1 or v2.0 JSON: every paragraph is a document titled by its article.

    `title` is optional and keys this reader does not use are ignored. v2.0 questions
    marked `is_impossible` (or with no answers) go to `impossible`: the product should
    decline them. Raises EvalDataError, naming the file and the entry, when the file is
    not in this format.
    """
    name = path.name
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise EvalDataError(f"{name}: not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise EvalDataError(f"{name}: not valid JSON (line {exc.lineno}, column "
                            f"{exc.colno}: {exc.msg})") from None
    data = _need(raw.get("data") if isinstance(raw, dict) else None, list, name,
                 "the top-level object's \"data\"")
    corpus, queries, answers, groups, query_group = {}, {}, {}, {}, {}
    impossible: set[str] = set()
    for a, article in enumerate(data):
        where = f"{name}: data[{a}]"
        _need(article, dict, where, "the article")
        title = article.get("title")
        title = title.replace("_", " ") if isinstance(title, str) else ""
        paragraphs = _need(article.get("paragraphs"), list, where, "\"paragraphs\"")
        for p, para in enumerate(paragraphs):
            at = f"{where}.paragraphs[{p}]"
            _need(para, dict, at, "the paragraph")
            doc_id = f"{a:03d}_{p:03d}"
            corpus[doc_id] = (title, _need(para.get("context"), str, at, "\"context\""))
            groups[doc_id] = str(a)
            for q, qa in enumerate(_need(para.get("qas", []), list, at, "\"qas\"")):
                qat = f"{at}.qas[{q}]"
                _need(qa, dict, qat, "the question entry")
                qid = str(qa.get("id", f"{doc_id}_{q:03d}"))
                queries[qid] = _need(qa.get("question"), str, qat, "\"question\"")
                gold = _need(qa.get("answers", []), list, qat, "\"answers\"")
                texts = []
                for g in gold:
                    text = g.get("text") if isinstance(g, dict) else g
                    texts.append(_need(text, str, qat, "each answer's \"text\""))
                answers[qid] = texts
                query_group[qid] = str(a)
                if qa.get("is_impossible") is True or not texts:
                    impossible.add(qid)
    if not queries:
        raise EvalDataError(f"{name}: no questions (\"qas\") in any paragraph")
    return EvalSet(path.parent.name or path.stem, "squad", corpus, queries, answers=answers,
                   groups=groups, query_group=query_group, impossible=impossible)


def materialise(evalset: EvalSet, folder: Path, *, prune: bool = False) -> None:
    """Write the corpus as `<id>.txt` files (title, blank line, text); unchanged files stay.
    A folder that is not evaluation's own (`prune` False) must hold nothing else: a
    `--corpus ~/docs` would have had its files replaced by the set's (ConfigError).

    `prune` (a folder only evaluation writes) removes the `.txt` files of other sets: two
    SQuAD files of one folder share it, and one's paragraphs must not answer the other's.
    """
    files = {f"{_SAFE.sub('_', doc_id)}.txt": f"{title}\n\n{text}\n" if title else f"{text}\n"
             for doc_id, (title, text) in evalset.corpus.items()}
    others = sorted(p.name for p in folder.iterdir() if p.name not in files) \
        if folder.is_dir() and not prune else []
    if others:  # someone's documents: never written over, nor measured with the set
        raise ConfigError(
            f"{folder} holds files that are not {evalset.name}'s ({others[0]!r}"
            + (f" and {len(others) - 1} more" if len(others) > 1 else "") + "): evaluation "
            "writes its corpus there; give --corpus an empty folder, or leave it out to use "
            "evaluation's own folder under .quotebot/eval/")
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")
    if prune:
        for stale in folder.glob("*.txt"):
            if stale.name not in files:
                stale.unlink()


def doc_key(path: str) -> str:
    """The evaluation id of an indexed file (`<id>.txt`)."""
    return Path(path).stem


# ---- runs ---------------------------------------------------------------------------

def evaluate_beir(retriever: Retriever, evalset: EvalSet, *, mode: str,
                  limit: int | None = None,
                  details: list[dict[str, Any]] | None = None) -> dict[str, float]:
    """nDCG@10, Recall@10/100 and MRR@10 over the first `limit` queries (all by default).

    Pass `details` to receive each query's own figures (one dict per query, in order).
    """
    ids = list(evalset.queries)[:limit]
    rows: dict[str, list[float]] = {"nDCG@10": [], "Recall@10": [], "Recall@100": [],
                                    "MRR@10": []}
    for qid in ids:
        ranked = retriever.ranked_documents(evalset.queries[qid], mode=mode, depth=100)
        docs = [doc_key(p) for p in ranked]
        rel = evalset.qrels[qid]
        rows["nDCG@10"].append(ndcg_at(docs, rel, 10))
        rows["Recall@10"].append(recall_at(docs, rel, 10))
        rows["Recall@100"].append(recall_at(docs, rel, 100))
        rows["MRR@10"].append(mrr_at(docs, rel, 10))
        if details is not None:
            details.append({"id": qid, "mode": mode,
                            **{name: v[-1] for name, v in rows.items()}})
    return {name: round(mean(v), 4) for name, v in rows.items()}


def evaluate_squad(retriever: Retriever, evalset: EvalSet, *, mode: str,
                   limit: int | None = None,
                   confidences: dict[str, list[float]] | None = None,
                   details: list[dict[str, Any]] | None = None) -> dict[str, float]:
    """Passage hit@k, excerpt hit@1 and abstention on a SQuAD-layout set.

    hit@k counts distinct passages (two quotes from one passage are one passage).
    Abstention: each question is asked again as if its own article were not indexed;
    the product should then say nothing answers. Pass `confidences` to receive the raw
    confidence of every answerable and hidden-article question (for calibration), and
    `details` to receive each question's own figures (one dict per question, in order).
    """
    ids = list(evalset.queries)
    if limit:
        step = max(1, len(ids) // limit)  # spread over all articles, not the first few
        ids = ids[::step][:limit]
    impossible = [q for q in ids if q in evalset.impossible]
    ids = [q for q in ids if q not in evalset.impossible]
    hit: dict[int, list[float]] = {1: [], 5: [], 10: []}
    excerpt_hit: list[float] = []
    seen = confidences if confidences is not None else {}
    seen.setdefault("answerable", [])
    seen.setdefault("hidden", [])
    for qid in ids:
        question, gold = evalset.queries[qid], evalset.answers[qid]
        answer = retriever.ask(question, k=10, mode=mode, abstain=False)
        texts = list(dict.fromkeys(h.text for h in answer.hits))
        for k in hit:
            hit[k].append(float(any(contains_answer(t, gold) for t in texts[:k])))
        excerpt_hit.append(float(bool(answer.hits) and contains_answer(answer.hits[0].excerpt,
                                                                       gold)))
        if mode != "bm25":
            own = evalset.query_group[qid]
            hidden = retriever.ask(question, k=3, mode=mode, abstain=False, exclude=lambda
                                   path, own=own: evalset.groups.get(doc_key(path)) == own)
            seen["answerable"].append(answer.confidence)
            seen["hidden"].append(hidden.confidence)
        if details is not None:
            row = {"id": qid, "mode": mode, **{f"hit@{k}": v[-1] for k, v in hit.items()},
                   "excerpt_hit@1": excerpt_hit[-1], "confidence": answer.confidence}
            if mode != "bm25":
                row["hidden_confidence"] = hidden.confidence
            details.append(row)
    metrics = {f"hit@{k}": round(mean(v), 4) for k, v in hit.items()}
    metrics["excerpt_hit@1"] = round(mean(excerpt_hit), 4)
    threshold = retriever.settings.min_confidence
    if seen["answerable"]:
        precision, recall = abstention(seen["answerable"], seen["hidden"], threshold)
        metrics["abstain_precision"], metrics["abstain_recall"] = precision, recall
    if impossible and mode != "bm25":
        # SQuAD v2.0: questions written to have no answer in the corpus, asked of it all.
        seen["impossible"] = [retriever.ask(evalset.queries[q], k=3, mode=mode,
                                            abstain=False).confidence for q in impossible]
        precision, recall = abstention(seen["answerable"], seen["impossible"], threshold)
        metrics["impossible_abstain_precision"] = precision
        metrics["impossible_abstain_recall"] = recall
    return metrics


def abstention(answerable: Sequence[float], hidden: Sequence[float],
               threshold: float) -> tuple[float, float]:
    """Precision and recall of "nothing answers" (confidence below `threshold`).

    Precision: of the questions the product declined, the share whose answer was truly
    absent. Recall: of the questions whose answer was absent, the share it declined.
    """
    right = sum(c < threshold for c in hidden)
    wrong = sum(c < threshold for c in answerable)
    return round(right / max(right + wrong, 1), 4), round(right / max(len(hidden), 1), 4)


def run(retriever: Retriever, evalset: EvalSet, *, mode: str, limit: int | None = None,
        details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """One mode's metrics on `evalset`; `details` receives each question's own figures."""
    started = time.monotonic()
    if evalset.kind == "beir":
        metrics = evaluate_beir(retriever, evalset, mode=mode, limit=limit, details=details)
    else:
        metrics = evaluate_squad(retriever, evalset, mode=mode, limit=limit, details=details)
    n = min(limit or len(evalset.queries), len(evalset.queries))
    result = {"dataset": evalset.name, "mode": mode, "questions": n, "metrics": metrics,
            "seconds": round(time.monotonic() - started, 1)}
    if evalset.impossible:
        result["impossible_questions"] = len(evalset.impossible)
    return result


# ---- question files over a folder of real documents ----------------------------------

@dataclass


class Question:
    """One line of a question file: what to ask, phrases that answer it, and optionally where.

    No answers (`"answers": []`) makes it an absent question: nothing in the corpus
    answers it, so it should be declined.
    """

    question: str
    answers: list[str]
    # When given, a hit must also come from one of these files (corpus-relative): more
    # than one when several documents say the same answer (an install command on two pages).
    paths: tuple[str, ...] = ()

    @property
    def absent(self) -> bool:
        return not self.answers


def load_questions(path: Path) -> list[Question]:
    """A JSONL question file: `{"question": ..., "answers": [...], "path": "x.pdf"}` per line
    (`"path"` may be a list: any of those files); `"answers": []` for a question the
    corpus does not answer (it should be declined).

    Blank lines and lines starting with `#` are ignored; a malformed line is a ValueError
    naming its line number, so a typo is found before the corpus is indexed.
    """
    questions = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                row = json.loads(line)
                question, answers = row["question"], row["answers"]
                if isinstance(answers, str):
                    answers = [answers]
                if not isinstance(answers, list):
                    raise ValueError("answers must be a list of phrases")
                if not str(question).strip():
                    raise ValueError("empty question")
                if answers and not all(str(a).strip() for a in answers):
                    raise ValueError("an empty answer phrase")
                paths = _question_paths(row.get("path"))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{path}:{number}: not a question line ({exc})") from exc
            questions.append(Question(str(question), [str(a) for a in answers], paths))
    return questions


def _question_paths(given: Any) -> tuple[str, ...]:
    """A question line's `"path"`: none (any file), a file name, or a non-empty list of
    them; anything else (0, [], [""], "/") is a ValueError."""
    if given is None or given == "":
        return ()
    paths = [given] if isinstance(given, str) else given
    if (not isinstance(paths, list) or not paths
            or not all(isinstance(p, str) and p.strip(" /.") for p in paths)):
        raise ValueError("path must be a file name or a non-empty list of them")
    return tuple(paths)


def folded(text: str) -> str:
    """Text as answers are matched: NFKC, case-folded, whitespace runs collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def answers_in(text: str, answers: Iterable[str]) -> bool:
    """Whether `text` contains any of `answers` (both folded)."""
    norm = folded(text)
    return any(folded(a) in norm for a in answers if a.strip())


def same_file(hit_path: str, wanted: Sequence[str]) -> bool:
    """Whether a hit's corpus-relative path is one of the question's files (any when none
    is given)."""
    if not wanted:
        return True
    hit_path = hit_path.replace("\\", "/")
    for path in wanted:
        path = path.replace("\\", "/")
        while path.startswith("./"):  # a prefix, not the characters: ".github/x.md" stays
            path = path[2:]
        path = path.lstrip("/")
        if hit_path == path or hit_path.endswith("/" + path):
            return True
    return False


def evaluate_questions(retriever: Retriever, questions: Sequence[Question], *,
                       mode: str | None = None, k: int = 3,
                       hide_sources: bool = False) -> dict[str, Any]:
    """Excerpt and passage hits at 1 and `k` for a question file, with every miss listed;
    and how often questions are declined ("nothing answers").

    An excerpt hits when it contains an answer (folded) and, when the question names a
    file, comes from that file; a passage likewise. Hits are ranked as if nothing were
    declined. `answerable_declined` is the share of answerable questions declined (lower
    is better); `absent_declined`, when the file has absent questions (`"answers": []`),
    the share of those declined (higher is better).

    `hide_sources`: each answerable question that names its file is asked again as if
    that file were not indexed, which makes an absent question of it for free;
    `hidden_declined` is the share of those declined (higher is better). One whose answer
    another file still gives is not counted. Its confidence is in the details
    (`hidden_confidence`).
    """
    rows: dict[str, list[float]] = {"excerpt_hit@1": [], f"excerpt_hit@{k}": [],
                                    "passage_hit@1": [], f"passage_hit@{k}": [],
                                    "answerable_declined": [], "absent_declined": [],
                                    "hidden_declined": []}
    details = []
    for q in questions:
        answer = retriever.ask(q.question, k=k, mode=mode)  # hits come even when declined
        hits = answer.hits[:k]
        where = q.paths[0] if len(q.paths) == 1 else list(q.paths) or None
        detail: dict[str, Any] = {"question": q.question, "answers": q.answers,
                                  "path": where, "declined": not answer.found,
                                  "confidence": answer.confidence}
        if q.absent:
            rows["absent_declined"].append(float(not answer.found))
        else:
            excerpt_ok = [answers_in(h.excerpt, q.answers)
                          and same_file(h.citation.path, q.paths) for h in hits]
            passage_ok = [answers_in(h.text, q.answers) and same_file(h.citation.path, q.paths)
                          for h in hits]
            rows["excerpt_hit@1"].append(float(excerpt_ok[:1] == [True]))
            rows[f"excerpt_hit@{k}"].append(float(any(excerpt_ok)))
            rows["passage_hit@1"].append(float(passage_ok[:1] == [True]))
            rows[f"passage_hit@{k}"].append(float(any(passage_ok)))
            rows["answerable_declined"].append(float(not answer.found))
            detail["excerpt_rank"] = excerpt_ok.index(True) + 1 if any(excerpt_ok) else None
            detail["passage_rank"] = passage_ok.index(True) + 1 if any(passage_ok) else None
            if hide_sources and q.paths:
                hidden = retriever.ask(q.question, k=k, mode=mode,
                                       exclude=lambda path, q=q: same_file(path, q.paths))
                if not any(answers_in(h.text, q.answers) for h in hidden.hits):
                    detail["hidden_confidence"] = hidden.confidence
                    rows["hidden_declined"].append(float(not hidden.found))
        detail["top"] = [{"excerpt": h.excerpt, "path": h.citation.path,
                          "page": h.citation.page} for h in hits]
        details.append(detail)
    metrics = {name: round(mean(v), 4) for name, v in rows.items() if v}
    return {"questions": len(questions), "metrics": metrics, "details": details}
