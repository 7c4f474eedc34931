"""Could a fitted model choose the sentence to quote better than the hand-set score?

Quote choice scores each sentence as cosine + 0.5 x word share + small bonuses
(retrieval/excerpts.py `score_sentences`, weights chosen by hand on SQuAD). This fits a
logistic regression ("this sentence holds the answer") over those signals and a few more
(the next sentence's word share, length, novel words, a leading pronoun, first sentence)
on SQuAD dev questions of even-numbered articles, and compares which sentence each
would quote in the first passage, on odd-numbered articles (held out). Uses the SQuAD
index `quotebot eval --squad` builds (.quotebot/eval/squad-v1.1/store by default).

    python benchmarks/learned_quote_choice.py [--store DIR] [--fit 1500] [--test 1000]

Needs scikit-learn. A negative result is kept here (BENCHMARKS.md, stop 13).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import spread  # noqa: E402

from index.lexical import tokenize  # noqa: E402
from quotebot.config import load_config  # noqa: E402
from quotebot.evalstore import EVAL_ROOT  # noqa: E402
from retrieval import Retriever  # noqa: E402
from retrieval.evaluation import contains_answer, load_squad  # noqa: E402
from retrieval.excerpts import _ANAPHORA, defined_term, quotable, term_share  # noqa: E402
from retrieval.retriever import _sentences, _terms  # noqa: E402

SQUAD = ROOT.parent / "shared" / "data" / "squad-v1.1" / "dev-v1.1.json"
FEATURES = ["cos", "ov", "prev", "nxt", "keys", "item", "loglen", "novel", "anaph", "first"]
SETS = {"hand-set signals": ["cos", "ov", "prev", "keys", "item"],
        "+ next sentence's share": ["cos", "ov", "prev", "nxt", "keys", "item"],
        "+ length": ["cos", "ov", "prev", "nxt", "keys", "item", "loglen"],
        "all": FEATURES}


def sentence_rows(retriever: Retriever, question: str, answers: list[str]) -> list[dict]:
    """The first passage's sentences (as `ask` orders passages), with their signals."""
    reader = retriever.reader
    vector, candidates = retriever.candidates(question)
    passages = retriever._passages(reader, candidates[:11], candidates)
    terms = _terms(reader, question, None)
    scored: dict = {}
    passage = retriever._by_best_sentence(reader, vector, passages, terms, scored)[0]
    doc = retriever._document(reader, passage.doc_id)
    scores = scored.get(id(passage)) or retriever._score_sentences(doc, passage, vector, terms)
    _, vectors = _sentences(passage)
    cosines = vectors @ vector
    shares = []
    for s in scores:
        words = set(tokenize(doc.text[s.start:s.end]))
        shares.append((sum(w for t, w in terms.weights.items() if t in words)
                       / terms.quote_total, words))
    rows = []
    for i, s in enumerate(scores):
        text = doc.text[s.start:s.end]
        share, words = shares[i]
        term = defined_term(doc.text, s.start)
        rows.append({
            "label": int(contains_answer(text, answers)), "score": s.score,
            "quotable": quotable(text, strict=False), "cos": float(cosines[i]), "ov": share,
            "prev": shares[i - 1][0] if i else 0.0,
            "nxt": shares[i + 1][0] if i + 1 < len(shares) else 0.0,
            "keys": (sum(k in words for k in terms.numbers) / len(terms.numbers)
                     if terms.numbers else 0.0),
            "item": term_share(term, terms.weights) if term else 0.0,
            "loglen": float(np.log(max(len(tokenize(text)), 1))),
            "novel": len(words - set(terms.weights)) / max(len(words), 1),
            "anaph": int(bool(_ANAPHORA.match(text.strip()))), "first": int(i == 0)})
    return rows


def hit_rate(questions: list[list[dict]], score) -> float:
    """Share of questions whose best-scored quotable sentence holds the answer."""
    chosen = [max((r for r in rows if r["quotable"]), key=score)["label"]
              for rows in questions if any(r["quotable"] for r in rows)]
    return sum(chosen) / len(chosen)


def main() -> None:
    from sklearn.linear_model import LogisticRegression

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=EVAL_ROOT / "squad-v1.1" / "store")
    parser.add_argument("--fit", type=int, default=1500, help="even-article questions")
    parser.add_argument("--test", type=int, default=1000, help="odd-article questions")
    args = parser.parse_args()
    config = load_config()
    config = replace(config, store=args.store)
    evalset = load_squad(SQUAD)
    with Retriever.open(config) as retriever:
        data = {}
        for parity, limit in ((0, args.fit), (1, args.test)):
            ids = [q for q in evalset.queries if int(evalset.query_group[q]) % 2 == parity]
            ids = spread(ids, limit)
            data[parity] = [sentence_rows(retriever, evalset.queries[q], evalset.answers[q])
                            for q in ids]
    train = [r for rows in data[0] for r in rows]
    y = np.array([r["label"] for r in train])
    print("| scorer | weights (cosine = 1) | even (fit) | odd (held out) |")
    print("|---|---|---|---|")
    def shipped(r: dict) -> float:
        return r["score"]
    print(f"| hand-set (shipped) | cos 1, share 0.5, ... | {hit_rate(data[0], shipped):.4f} "
          f"| {hit_rate(data[1], shipped):.4f} |")
    for label, features in SETS.items():
        x = np.array([[r[f] for f in features] for r in train])
        model = LogisticRegression(max_iter=2000).fit(x, y)
        w = dict(zip(features, model.coef_[0], strict=True))
        def score(r, w=w, features=features):
            return sum(w[f] * r[f] for f in features)
        shown = ", ".join(f"{f} {w[f] / w['cos']:.2f}" for f in features)
        print(f"| {label} | {shown} | {hit_rate(data[0], score):.4f} | "
              f"{hit_rate(data[1], score):.4f} |")


if __name__ == "__main__":
    main()
