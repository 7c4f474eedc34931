"""Candidate passages for a question: dense and lexical (BM25) search, fused.

Both searches are the store backend's (`store.protocol.Reader`: FAISS or Qdrant), which
returns raw per-channel scores; the fusion here is the same on every backend.


Fusion is a convex blend of min-max normalised scores over the union of both
candidate lists. Each candidate gets its exact score from both sides (BM25 scores
are computed for the whole corpus anyway; dense scores of lexical-only candidates
are recomputed from their stored vectors), so no candidate is penalised for being
missed by one list's cut-off. In hybrid mode the dense side also counts how close the
chunk's whole document is to the question (`doc_weight` x cosine with the document
vector): a passage of a document that is about the question outranks a passage that
only shares words with it. The choices and weights come from `benchmarks/tune_retrieval.py`
(see BENCHMARKS.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from store.protocol import Reader

MODES = ("hybrid", "dense", "bm25")


@dataclass
class Candidate:
    """A chunk worth ranking, with its scores from each side and the fused one."""

    chunk_id: int
    dense: float  # cosine similarity to the question
    lexical: float  # BM25 score (0 when no question word matches)
    score: float = 0.0  # fused score used for ranking


def minmax(values: np.ndarray) -> np.ndarray:
    """Scale to [0, 1]; all equal: ones if positive, else zeros (the tuning script uses this)."""
    if not len(values):
        return values
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-9:
        return np.ones_like(values) if high > 0 else np.zeros_like(values)
    return (values - low) / (high - low)


def search(reader: Reader, query_vector: np.ndarray, tokens: Sequence[str], *,
           mode: str = "hybrid", depth: int = 100, dense_weight: float = 0.5,
           doc_weight: float = 0.0, within: Sequence[str] | None = None,
           keys: Sequence[str] = (), key_weight: float = 0.0) -> list[Candidate]:
    """Rank chunks for a question; returns up to about 2 x `depth` candidates, best first.

    `tokens` are the question's BM25 tokens; `within` limits the search to documents
    under these folders or paths. In hybrid mode with `doc_weight`, each chunk's
    document vector (from the reader) adds to its dense side. `keys` are the question's
    numbers and names (index tokens): in hybrid mode a chunk gains `key_weight` x the
    share of them it holds exactly (1998 is not 2004).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    n = min(depth, reader.counts()["chunks"])
    if n == 0:
        return []
    ids: dict[int, int] = {}
    dense_ids = lexical_ids = np.empty(0, np.int64)
    dense_found = np.empty(0, np.float32)
    if mode in ("hybrid", "dense"):
        dense_ids, dense_found = reader.vector_search(query_vector, n, within=within)
    if mode in ("hybrid", "bm25"):
        lexical_ids, _ = reader.lexical_search(tokens, n, within=within)
    for chunk_id in [*dense_ids.tolist(), *lexical_ids.tolist()]:
        ids.setdefault(int(chunk_id), len(ids))
    if not ids:
        return []
    order = np.fromiter(ids, dtype=np.int64, count=len(ids))
    lex = reader.lexical_scores(tokens, order)
    if mode == "bm25":
        dense = np.zeros(len(order), np.float32)
    else:
        dense = np.empty(len(order), np.float32)
        dense[: len(dense_ids)] = dense_found
        dense[len(dense_ids):] = reader.vector_scores(query_vector, order[len(dense_ids):])
    if mode == "dense":
        fused = dense
    elif mode == "bm25":
        fused = lex
    else:
        context = dense
        if doc_weight:
            context = dense + doc_weight * (reader.document_vectors(order) @ query_vector)
        fused = dense_weight * minmax(context) + (1 - dense_weight) * minmax(lex)
        if keys and key_weight:
            held = sum((reader.lexical_scores([key], order) > 0).astype(np.float32)
                       for key in keys)
            fused = fused + key_weight * held / len(keys)
    ranked = np.argsort(-fused, kind="stable")
    return [Candidate(int(order[i]), float(dense[i]), float(lex[i]), float(fused[i]))
            for i in ranked]
