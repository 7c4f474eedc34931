"""Does splitting BM25 words at underscores cost anything on prose? SciFact and SQuAD, BM25 alone.

Issue 12 changed `index.lexical.tokenize` from `\\w+` words to letters-and-digits words, so
that `_Boxes_` gives `box`. This compares the two word patterns with everything else equal
(lowercase, bm25s English stop words, Snowball stemming, bm25s with k1 0.9, b 0.4), over whole
documents (title + text), without the rest of the pipeline (no chunking, no embedding): the
tokenizer's own effect, in seconds rather than an indexing run.

    python benchmarks/bm25_tokenizer.py            # SciFact test nDCG@10, SQuAD dev hit@1/5
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SCIFACT, SQUAD  # noqa: E402

PATTERNS = {"before (\\w+)": re.compile(r"\w+"),
            "after (letters and digits)": re.compile(r"[^\W_]+")}


def tokenizer(pattern: re.Pattern[str]) -> Callable[[str], list[str]]:
    """index.lexical.tokenize with another word pattern."""
    import Stemmer
    from bm25s.stopwords import STOPWORDS_EN

    stemmer, stop = Stemmer.Stemmer("english"), frozenset(STOPWORDS_EN)
    return lambda text: stemmer.stemWords([w for w in pattern.findall(text.lower())
                                           if w not in stop])


def ranked(tokenize: Callable[[str], list[str]], docs: list[str], queries: list[str],
           k: int) -> list[list[int]]:
    """Top-k document rows for each query under BM25 (bm25s, k1 0.9, b 0.4)."""
    import bm25s

    index = bm25s.BM25(k1=0.9, b=0.4)
    index.index([tokenize(d) for d in docs], show_progress=False)
    rows, _ = index.retrieve([tokenize(q) or [""] for q in queries], k=k, show_progress=False,
                             n_threads=1)
    return rows.tolist()


def scifact(tokenize: Callable[[str], list[str]]) -> float:
    """nDCG@10 on SciFact's 300 test claims."""
    corpus = [json.loads(line) for line in (SCIFACT / "corpus.jsonl").open()]
    queries = {q["_id"]: q["text"] for q in map(json.loads, (SCIFACT / "queries.jsonl").open())}
    qrels: dict[str, set[str]] = {}
    for line in list((SCIFACT / "qrels" / "test.tsv").open())[1:]:
        qid, doc, score = line.split()
        if int(score) > 0:
            qrels.setdefault(qid, set()).add(doc)
    ids = [d["_id"] for d in corpus]
    order = sorted(qrels)
    results = ranked(tokenize, [f"{d['title']}\n{d['text']}" for d in corpus],
                     [queries[q] for q in order], 10)
    total = 0.0
    for qid, rows in zip(order, results, strict=True):
        gains = [1.0 if ids[r] in qrels[qid] else 0.0 for r in rows]
        dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
        ideal = sum(1 / math.log2(i + 2) for i in range(min(10, len(qrels[qid]))))
        total += dcg / ideal
    return total / len(order)


def squad(tokenize: Callable[[str], list[str]]) -> tuple[float, float]:
    """Paragraph hit@1 and hit@5 on SQuAD v1.1 dev (the gold paragraph among 2,067)."""
    data = json.loads(SQUAD.read_text())["data"]
    paragraphs, questions, gold = [], [], []
    for article in data:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                questions.append(qa["question"])
                gold.append(len(paragraphs))
            paragraphs.append(f"{article['title'].replace('_', ' ')}\n{paragraph['context']}")
    results = ranked(tokenize, paragraphs, questions, 5)
    hit1 = sum(rows[0] == g for rows, g in zip(results, gold, strict=True)) / len(gold)
    hit5 = sum(g in rows for rows, g in zip(results, gold, strict=True)) / len(gold)
    return hit1, hit5


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    for name, pattern in PATTERNS.items():
        tokenize = tokenizer(pattern)
        hit1, hit5 = squad(tokenize)
        print(f"{name:28s} SciFact nDCG@10 {scifact(tokenize):.4f}   "
              f"SQuAD hit@1 {hit1:.4f}  hit@5 {hit5:.4f}", flush=True)


if __name__ == "__main__":
    main()
