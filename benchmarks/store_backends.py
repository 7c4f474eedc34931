"""Search latency, memory, disk and load speed of the store backends at 10k and 100k passages.

FAISS (flat, as `auto` picks below 25k; and the same flat index at 100k for a like-for-like
figure) with bm25s, beside embedded Qdrant (`QdrantClient(path=...)`, what `qdrant.url = ""`
runs) with the same dense + BM25 sparse points the Qdrant backend writes. Vectors are random
unit vectors and passages random Zipf-distributed words (no embedding: the model's cost is
measured in BENCHMARKS.md), so only the store's own cost is measured. Each (backend, size)
runs in a fresh process, so its resident memory is its own.

    nice -n 10 python benchmarks/store_backends.py                 # 10k and 100k
    nice -n 10 python benchmarks/store_backends.py --sizes 10000   # quicker

A "question" is what `Retriever.ask` asks the store: a dense search and a BM25 search of
depth 100, then the scores of the other side's candidates (store.protocol.Reader).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    WORK,
    folder_bytes,
    log,
    machine,
    memory_mb,
    run_self,
    summary_ms,
    write_json,
)

DIM, DEPTH, QUESTIONS = 384, 100, 50
VOCAB = 30_000


def corpus(n: int, seed: int = 0) -> tuple[np.ndarray, list[list[str]]]:
    """n random unit vectors and n passages of 40-120 Zipf-distributed word tokens."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ranks = np.minimum(rng.zipf(1.2, size=n * 80), VOCAB) - 1
    lengths = rng.integers(40, 121, size=n)
    words, tokens, at = [f"w{i}" for i in range(VOCAB)], [], 0
    for length in lengths:
        tokens.append([words[r] for r in ranks[at:at + length]] if at + length <= len(ranks)
                      else [words[r] for r in rng.integers(0, 500, length)])
        at += length
    return vectors, tokens


def questions(seed: int = 1) -> tuple[np.ndarray, list[list[str]]]:
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((QUESTIONS, DIM)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return q, [[f"w{int(r)}" for r in rng.integers(5, 3000, 6)] for _ in range(QUESTIONS)]


def ask(reader: Any, vector: np.ndarray, tokens: list[str]) -> None:
    """The store calls of one question (retrieval/search.py), without fusion."""
    dense_ids, _ = reader.vector_search(vector, DEPTH)
    lexical_ids, _ = reader.lexical_search(tokens, DEPTH)
    order = np.array(list(dict.fromkeys([*dense_ids.tolist(), *lexical_ids.tolist()])),
                     dtype=np.int64)
    reader.lexical_scores(tokens, order)
    reader.vector_scores(vector, order[len(dense_ids):])


class FaissSearch:
    """The FAISS backend's search side (store/faiss.py), built from arrays."""

    def __init__(self, folder: Path, ids: np.ndarray, vectors: np.ndarray,
                 tokens: list[list[str]]) -> None:
        from quotebot.config import IndexConfig
        from store.bm25 import LexicalIndex, build_lexical_tokens
        from store.vectors import (
            IndexPlan,
            add_vectors,
            new_index,
            read_vectors,
            use_threads,
            write_vectors,
        )

        use_threads(1)
        index = new_index(DIM, IndexPlan.parse("flat"))
        add_vectors(index, ids, vectors)
        write_vectors(index, folder / "vectors.faiss")
        build_lexical_tokens(folder, ids.tolist(), tokens)
        del index
        self.options = IndexConfig()
        self.index = read_vectors(folder / "vectors.faiss", mmap=True)
        self.lexical = LexicalIndex(folder, mmap=True)

    def vector_search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores, found = self.index.search(query.reshape(1, -1), k)
        return found[0], scores[0]

    def vector_scores(self, query: np.ndarray, ids: np.ndarray) -> np.ndarray:
        return self.index.reconstruct_batch(ids) @ query if len(ids) else np.empty(0)

    def lexical_search(self, tokens: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        return self.lexical.search(tokens, k)

    def lexical_scores(self, tokens: list[str], ids: np.ndarray) -> np.ndarray:
        return self.lexical.scores_for(tokens, ids)


class QdrantSearch:
    """The Qdrant backend's search side (store/qdrant.py) in embedded mode."""

    def __init__(self, folder: Path, ids: np.ndarray, vectors: np.ndarray,
                 tokens: list[list[str]]) -> None:
        from qdrant_client import QdrantClient, models

        from store import qdrant as q

        self.q, self.models = q, models
        client = QdrantClient(path=str(folder / "qdrant"))
        client.create_collection(
            "bench", vectors_config={q.DENSE: models.VectorParams(
                size=DIM, distance=models.Distance.COSINE)},
            sparse_vectors_config={q.SPARSE: models.SparseVectorParams(
                modifier=models.Modifier.IDF)})
        avg = float(np.mean([len(t) for t in tokens]))
        for start in range(0, len(ids), q.UPSERT_BATCH):
            points = []
            for j in range(start, min(start + q.UPSERT_BATCH, len(ids))):
                indices, values = q.sparse_document(tokens[j], avg)
                points.append(models.PointStruct(
                    id=int(ids[j]), payload={"path": f"doc{j}.txt", "scopes": [f"doc{j}.txt"]},
                    vector={q.DENSE: vectors[j].tolist(),
                            q.SPARSE: models.SparseVector(indices=indices, values=values)}))
            client.upsert("bench", points=points, wait=True)
        client.close()
        started = time.perf_counter()
        self.client = QdrantClient(path=str(folder / "qdrant"))  # a reader opening the store
        self.open_seconds = time.perf_counter() - started

    def _one(self, request: Any) -> Any:
        (res,) = self.client.query_batch_points("bench", requests=[request])
        return res.points

    def vector_search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        pts = self._one(self.models.QueryRequest(query=query.tolist(), using=self.q.DENSE,
                                                 limit=k))
        return np.array([p.id for p in pts], np.int64), np.array([p.score for p in pts])

    def vector_scores(self, query: np.ndarray, ids: np.ndarray) -> np.ndarray:
        if not len(ids):
            return np.empty(0)
        pts = self._one(self.models.QueryRequest(
            query=query.tolist(), using=self.q.DENSE, limit=len(ids),
            filter=self.q._filter(self.models, None, ids.tolist())))
        return np.array([p.score for p in pts])

    def lexical_search(self, tokens: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        indices, values = self.q.sparse_query(tokens)
        pts = self._one(self.models.QueryRequest(
            query=self.models.SparseVector(indices=indices, values=values), using=self.q.SPARSE,
            limit=k))
        return np.array([p.id for p in pts], np.int64), np.array([p.score for p in pts])

    def lexical_scores(self, tokens: list[str], ids: np.ndarray) -> np.ndarray:
        indices, values = self.q.sparse_query(tokens)
        pts = self._one(self.models.QueryRequest(
            query=self.models.SparseVector(indices=indices, values=values), using=self.q.SPARSE,
            limit=len(ids), filter=self.q._filter(self.models, None, ids.tolist())))
        return np.array([p.score for p in pts])


def one(backend: str, n: int) -> dict[str, Any]:
    """Build, open and question one backend at one size (in this fresh process)."""
    folder = WORK / "store_backends" / f"{backend}-{n}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    vectors, tokens = corpus(n)
    ids = np.arange(1, n + 1, dtype=np.int64) * 7919  # sparse, like hashed chunk ids
    before = memory_mb()["rss_mb"]
    started = time.perf_counter()
    search = (FaissSearch if backend == "faiss" else QdrantSearch)(folder, ids, vectors, tokens)
    load_seconds = time.perf_counter() - started
    del vectors, tokens
    qv, qt = questions()
    ask(search, qv[0], qt[0])  # warm
    times = []
    for vector, words in zip(qv, qt, strict=True):
        t = time.perf_counter()
        ask(search, vector, words)
        times.append(time.perf_counter() - t)
    mem = memory_mb()
    return {"backend": backend if backend == "faiss" else "qdrant-embedded", "passages": n,
            "build_seconds": round(load_seconds, 1),
            "build_passages_per_s": round(n / load_seconds),
            "open_seconds": round(getattr(search, "open_seconds", 0.0), 2),
            "question": summary_ms(times), "rss_mb": mem["rss_mb"],
            "rss_over_data_mb": round(mem["rss_mb"] - before, 1),
            "peak_rss_mb": mem["peak_rss_mb"], "disk_mb": round(folder_bytes(folder) / 2**20, 1),
            "disk_bytes_per_passage": round(folder_bytes(folder) / n)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--backends", nargs="+", default=["faiss", "qdrant"])
    parser.add_argument("--one", nargs=2, metavar=("BACKEND", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=WORK / "store_backends.json")
    args = parser.parse_args()
    if args.one:
        write_json(None, one(args.one[0], int(args.one[1])))
        return
    rows = []
    for n in args.sizes:
        for backend in args.backends:
            log(f"{backend} at {n:,} passages")
            rows.append(run_self(Path(__file__), ["--one", backend, str(n)], timeout=7200))
            log(f"  {rows[-1]}")
    write_json(args.out, {"machine": machine(), "results": rows})


if __name__ == "__main__":
    main()
