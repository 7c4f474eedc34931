"""Sweep ranking choices (fusion, its weight, candidate depth, document aggregation) offline.

The question vectors and the dense and BM25 scores of every chunk are computed once per
question through the product's own index; every fusion is then replayed in numpy, so a
sweep of dozens of settings costs seconds. The settings the product ships with
(`retrieval.retriever.Settings`) were chosen from this table on SciFact and SQuAD together;
`quotebot eval` then measures the product itself. Run from the repository root:

    python benchmarks/tune_retrieval.py --beir ../shared/data/scifact
    python benchmarks/tune_retrieval.py --squad ../shared/data/squad-v1.1/dev-v1.1.json --limit 3000

The evaluation index is the one `quotebot eval` keeps (built on first use).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.lexical import tokenize  # noqa: E402
from quotebot.config import load_config  # noqa: E402
from quotebot.evalstore import prepare  # noqa: E402
from retrieval import Retriever  # noqa: E402
from retrieval.evaluation import (  # noqa: E402
    EvalSet,
    contains_answer,
    doc_key,
    load_beir,
    load_squad,
    mean,
    mrr_at,
    ndcg_at,
    recall_at,
)
from retrieval.search import minmax  # noqa: E402 - the shipped normaliser, tuned as it ships


@dataclass
class Scores:
    """Every chunk's dense and BM25 score for every question (rows: questions)."""

    qids: list[str]
    dense: np.ndarray  # (questions, chunks) cosine
    bm25: np.ndarray  # (questions, chunks)
    chunk_doc: np.ndarray  # chunk row -> document index
    docs: list[str]  # document keys (evaluation ids)
    vectors: np.ndarray  # (chunks, dim) stored chunk vectors
    queries: np.ndarray  # (questions, dim) question vectors
    doc_cosine: np.ndarray  # (questions, chunks) cosine of each chunk's document vector


def collect(retriever: Retriever, evalset: EvalSet, qids: list[str]) -> Scores:
    reader = retriever.reader  # the store interface (store.protocol.Reader): any backend
    ids = reader.chunk_ids()
    paths = reader.chunk_paths(ids.tolist())
    docs = sorted({doc_key(p) for p in paths.values()})
    doc_index = {d: i for i, d in enumerate(docs)}
    chunk_doc = np.array([doc_index[doc_key(paths[int(i)])] for i in ids])
    vectors = reader.vectors(ids)
    questions = [evalset.queries[q] for q in qids]
    qv = retriever.embedder.encode_queries(questions)
    dense = qv @ vectors.T
    bm25 = np.vstack([reader.lexical_scores(tokenize(q), ids) for q in questions])
    doc_cosine = qv @ reader.document_vectors(ids).T
    return Scores(qids, dense.astype(np.float32), bm25.astype(np.float32), chunk_doc, docs,
                  vectors, qv, doc_cosine.astype(np.float32))


# ---- fusions: (dense row, bm25 row, depth) -> fused score per chunk (-inf: not a candidate)

def candidates(dense: np.ndarray, bm25: np.ndarray, depth: int) -> np.ndarray:
    top_d = np.argpartition(-dense, depth)[:depth]
    positive = np.flatnonzero(bm25 > 0)
    top_b = positive[np.argsort(-bm25[positive])[:depth]]
    return np.union1d(top_d, top_b)


def zscore(x: np.ndarray) -> np.ndarray:
    sd = x.std()
    return (x - x.mean()) / sd if sd > 1e-9 else np.zeros_like(x)


def blend(norm: Callable[[np.ndarray], np.ndarray], w: float) -> Callable[..., np.ndarray]:
    def fuse(dense: np.ndarray, bm25: np.ndarray, depth: int) -> np.ndarray:
        cand = candidates(dense, bm25, depth)
        out = np.full(len(dense), -np.inf, np.float32)
        out[cand] = w * norm(dense[cand]) + (1 - w) * norm(bm25[cand])
        return out
    return fuse


def rrf(k: int, w: float) -> Callable[..., np.ndarray]:
    def fuse(dense: np.ndarray, bm25: np.ndarray, depth: int) -> np.ndarray:
        cand = candidates(dense, bm25, depth)
        out = np.full(len(dense), -np.inf, np.float32)
        rd = np.empty(len(cand))
        rd[np.argsort(-dense[cand])] = np.arange(len(cand))
        rb = np.empty(len(cand))
        rb[np.argsort(-bm25[cand])] = np.arange(len(cand))
        out[cand] = w / (k + rd + 1) + (1 - w) / (k + rb + 1)
        return out
    return fuse


def single(which: str) -> Callable[..., np.ndarray]:
    def fuse(dense: np.ndarray, bm25: np.ndarray, depth: int) -> np.ndarray:
        return (dense if which == "dense" else bm25).copy()
    return fuse


def dense_prf(fuse: Callable[..., np.ndarray], beta: float, m: int,
              scores: Scores) -> Callable[..., np.ndarray]:
    """Rocchio feedback on the dense side: the question vector moved toward the top m chunks."""
    def fused(i: int, depth: int) -> np.ndarray:
        first = fuse(scores.dense[i], scores.bm25[i], depth)
        top = np.argsort(-first)[:m]
        q = scores.queries[i] + beta * scores.vectors[top].mean(axis=0)
        q = q / np.linalg.norm(q)
        return fuse(scores.vectors @ q, scores.bm25[i], depth)
    return fused


def doc_level(w: float, scores: Scores, beta: float = 0.0,
              m: int = 3) -> Callable[..., np.ndarray]:
    """Fuse per document: its best dense chunk and its best BM25 chunk, normalised over docs.

    Returns chunk scores where each document's first chunk carries the document's score
    (so `doc_ranking` by max gives the document order)."""
    n_docs = len(scores.docs)

    def fused(i: int, depth: int) -> np.ndarray:
        dense = scores.dense[i]
        if beta:
            first = blend(minmax, w)(dense, scores.bm25[i], depth)
            top = np.argsort(-first)[:m]
            q = scores.queries[i] + beta * scores.vectors[top].mean(axis=0)
            dense = scores.vectors @ (q / np.linalg.norm(q))
        cand = candidates(dense, scores.bm25[i], depth)
        docs = np.unique(scores.chunk_doc[cand])
        d_best = np.full(n_docs, -np.inf)
        b_best = np.full(n_docs, 0.0)
        np.maximum.at(d_best, scores.chunk_doc, dense)
        np.maximum.at(b_best, scores.chunk_doc, scores.bm25[i])
        doc_score = np.full(n_docs, -np.inf)
        doc_score[docs] = w * minmax(d_best[docs]) + (1 - w) * minmax(b_best[docs])
        out = doc_score[scores.chunk_doc].astype(np.float32)
        return out
    return fused


def doc_ranking(fused: np.ndarray, chunk_doc: np.ndarray, n_docs: int, depth: int = 100,
                rest: float = 0.0) -> list[int]:
    """Documents by their best chunk (+ `rest` x the sum of their other chunks' excess)."""
    order = np.argsort(-fused)[: depth * 4]
    order = order[np.isfinite(fused[order])]
    best: dict[int, float] = {}
    extra: dict[int, float] = {}
    for i in order:
        d = int(chunk_doc[i])
        if d not in best:
            best[d] = float(fused[i])
        else:
            extra[d] = extra.get(d, 0.0) + float(fused[i])
    score = {d: s + rest * extra.get(d, 0.0) for d, s in best.items()} if rest else best
    return sorted(score, key=lambda d: -score[d])[:depth]


# ---- the sweep ------------------------------------------------------------------------

def fusions() -> dict[str, Callable[..., np.ndarray]]:
    table: dict[str, Callable[..., np.ndarray]] = {"bm25": single("bm25"),
                                                   "dense": single("dense")}
    for w in (0.3, 0.4, 0.5, 0.6, 0.7):
        table[f"minmax w={w}"] = blend(minmax, w)
        table[f"zscore w={w}"] = blend(zscore, w)
    for w in (0.4, 0.5, 0.6):
        table[f"rrf60 w={w}"] = rrf(60, w)
    return table


def settings(scores: Scores, depths: list[int]) -> list[tuple[str, int, float, Callable]]:
    """(name, depth, aggregation rest weight, fused(i, depth)) for every setting to try."""
    out: list[tuple[str, int, float, Callable]] = []
    for name, fuse in fusions().items():
        for depth in (depths if name not in ("bm25", "dense") else [depths[0]]):
            out.append((name, depth, 0.0,
                        lambda i, d, f=fuse: f(scores.dense[i], scores.bm25[i], d)))
    for w in (0.5, 0.6):
        fuse = blend(minmax, w)
        for a in (0.3, 0.5, 1.0):
            out.append((f"minmax w={w} doc_weight={a}", depths[0], 0.0,
                        lambda i, d, f=fuse, a=a: f(scores.dense[i] + a * scores.doc_cosine[i],
                                                    scores.bm25[i], d)))
        for rest in (0.05, 0.1, 0.2):
            out.append((f"minmax w={w}", depths[0], rest,
                        lambda i, d, f=fuse: f(scores.dense[i], scores.bm25[i], d)))
        out.append((f"doc-level w={w}", depths[0], 0.0, doc_level(w, scores)))
        out.append((f"doc-level w={w} prf b=0.5 m=3", depths[0], 0.0,
                    doc_level(w, scores, 0.5, 3)))
        for beta, m in ((0.5, 3), (1.0, 3), (0.5, 5), (1.0, 5)):
            out.append((f"minmax w={w} prf b={beta} m={m}", depths[0], 0.0,
                        dense_prf(fuse, beta, m, scores)))
    return out


def sweep_beir(scores: Scores, evalset: EvalSet, depths: list[int]) -> list[dict]:
    results = []
    for name, depth, rest, fused_of in settings(scores, depths):
        rows: dict[str, list[float]] = {"nDCG@10": [], "Recall@10": [], "Recall@100": [],
                                        "MRR@10": []}
        for i, qid in enumerate(scores.qids):
            fused = fused_of(i, depth)
            ranked = [scores.docs[d] for d in
                      doc_ranking(fused, scores.chunk_doc, len(scores.docs), rest=rest)]
            rel = evalset.qrels[qid]
            rows["nDCG@10"].append(ndcg_at(ranked, rel, 10))
            rows["Recall@10"].append(recall_at(ranked, rel, 10))
            rows["Recall@100"].append(recall_at(ranked, rel, 100))
            rows["MRR@10"].append(mrr_at(ranked, rel, 10))
        results.append({"fusion": name, "depth": depth, "rest": rest,
                        **{k: round(mean(v), 4) for k, v in rows.items()}})
    return results


def sweep_squad(scores: Scores, evalset: EvalSet, depths: list[int]) -> list[dict]:
    # A paragraph "answers" when it contains a gold answer string.
    answers = np.zeros((len(scores.qids), len(scores.docs)), dtype=bool)
    doc_row = {d: i for i, d in enumerate(scores.docs)}
    texts = {d: evalset.corpus[d][1] for d in scores.docs}
    for i, qid in enumerate(scores.qids):
        for d, text in texts.items():
            if contains_answer(text, evalset.answers[qid]):
                answers[i, doc_row[d]] = True
    results = []
    for name, depth, rest, fused_of in settings(scores, depths):
        hits = {1: [], 5: [], 10: []}
        for i in range(len(scores.qids)):
            fused = fused_of(i, depth)
            ranked = doc_ranking(fused, scores.chunk_doc, len(scores.docs), depth=10,
                                 rest=rest)
            for k in hits:
                hits[k].append(float(answers[i, ranked[:k]].any()))
        results.append({"fusion": name, "depth": depth, "rest": rest,
                        **{f"hit@{k}": round(mean(v), 4) for k, v in hits.items()}})
    return results


def sweep_excerpts(retriever: Retriever, scores: Scores, evalset: EvalSet,
                   fuse: Callable[..., np.ndarray], depth: int) -> list[dict]:
    """Which sentence of the top passage to quote: cosine + lexical_weight x word overlap."""
    from index.lexical import tokenize
    from retrieval.excerpts import best_excerpts, question_weights, score_sentences

    reader = retriever.reader
    lexical = reader.lexical
    ids = np.array(sorted(r[0] for r in reader.db.execute("SELECT chunk_id FROM chunks")))
    qv = retriever.embedder.encode_queries([evalset.queries[q] for q in scores.qids])
    grid = [(w, 0.0) for w in (0.0, 0.25, 0.5, 0.75, 1.0, 1.5)]
    grid += [(w, j) for w in (0.5, 1.0) for j in (0.05, 0.1, 0.15, 0.2)]
    found: dict[tuple[float, float], list[float]] = {g: [] for g in grid}
    single: dict[tuple[float, float], list[float]] = {g: [] for g in grid}
    length: dict[tuple[float, float], list[float]] = {g: [] for g in grid}
    for i, qid in enumerate(scores.qids):
        fused = fuse(scores.dense[i], scores.bm25[i], depth)
        top = int(ids[int(np.argmax(fused))])
        chunk = reader.chunks([top])[top]
        text = reader.document_text(chunk.doc_id)
        question = evalset.queries[qid]
        weights = question_weights(question, lexical.idf(tokenize(question)))
        for w, join in grid:
            ranked = score_sentences(text, chunk.sentences, chunk.sentence_vectors, qv[i],
                                     weights, w)
            excerpt = best_excerpts(text, ranked, limit=1, margin=0.0, join_margin=join)[0]
            best = max(ranked, key=lambda r: r.score)
            gold = evalset.answers[qid]
            found[w, join].append(float(contains_answer(text[excerpt.start:excerpt.end], gold)))
            single[w, join].append(float(contains_answer(text[best.start:best.end], gold)))
            length[w, join].append(excerpt.sentences[1] - excerpt.sentences[0] + 1)
    return [{"lexical_weight": w, "join_margin": j, "excerpt_hit@1": round(mean(found[w, j]), 4),
             "best_sentence_hit@1": round(mean(single[w, j]), 4),
             "sentences_quoted": round(mean(length[w, j]), 2)} for w, j in grid]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--beir", type=Path, metavar="DIR", help="BEIR folder")
    source.add_argument("--squad", type=Path, metavar="FILE", help="SQuAD v1.1 JSON")
    parser.add_argument("--split", default="test", help="BEIR qrels split (default: test)")
    parser.add_argument("--limit", type=int, help="questions (spread evenly)")
    parser.add_argument("--depths", default="50,100", help="candidate depths to try")
    parser.add_argument("--store", type=Path, help="evaluation index folder")
    parser.add_argument("--json", action="store_true", help="one JSON object per setting")
    parser.add_argument("--excerpts-only", action="store_true",
                        help="SQuAD: only the sweep of excerpt choice")
    args = parser.parse_args()

    evalset = load_beir(args.beir, args.split) if args.beir else load_squad(args.squad)
    config = prepare(evalset, load_config(), store=args.store)
    retriever = Retriever.open(config)
    qids = list(evalset.queries)
    if args.limit:
        qids = qids[:: max(1, len(qids) // args.limit)][: args.limit]
    started = time.monotonic()
    scores = collect(retriever, evalset, qids)
    print(f"{evalset.name}: {len(qids)} questions, {scores.dense.shape[1]} chunks, "
          f"scored in {time.monotonic() - started:.0f} s", file=sys.stderr)
    depths = [int(d) for d in args.depths.split(",")]
    sweep = sweep_beir if evalset.kind == "beir" else sweep_squad
    results = [] if args.excerpts_only else sweep(scores, evalset, depths)
    if evalset.kind == "squad":
        for r in sweep_excerpts(retriever, scores, evalset, blend(minmax, 0.5), depths[0]):
            print(json.dumps(r) if args.json else
                  f"excerpt: lexical_weight={r['lexical_weight']:<5} join_margin="
                  f"{r['join_margin']:<5} excerpt_hit@1={r['excerpt_hit@1']:.4f} "
                  f"best_sentence_hit@1={r['best_sentence_hit@1']:.4f} "
                  f"sentences={r['sentences_quoted']}")
    if args.json or not results:
        for r in results:
            print(json.dumps({"dataset": evalset.name, **r}))
        return
    metrics = [k for k in results[0] if k not in ("fusion", "depth", "rest")]
    print(f"{'fusion':<30} {'depth':>5} {'rest':>5} " + " ".join(f"{m:>10}" for m in metrics))
    for r in results:
        print(f"{r['fusion']:<30} {r['depth']:>5} {r['rest']:>5} "
              + " ".join(f"{r[m]:>10.4f}" for m in metrics))


if __name__ == "__main__":
    main()
