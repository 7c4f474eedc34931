"""Candidate passages for a question: dense (FAISS) and lexical (BM25) search, fused.

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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from index.lexical import LexicalIndex

MODES = ("hybrid", "dense", "bm25")


@dataclass
class Candidate:
    """A chunk worth ranking, with its scores from each side and the fused one."""

    chunk_id: int
    dense: float  # cosine similarity to the question
    lexical: float  # BM25 score (0 when no question word matches)
    score: float = 0.0  # fused score used for ranking


def _minmax(values: np.ndarray) -> np.ndarray:
    if not len(values):
        return values
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-9:
        return np.ones_like(values) if high > 0 else np.zeros_like(values)
    return (values - low) / (high - low)


def dense_scores(index: Any, query: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Cosine of the question with the stored vectors of `ids` (normalised vectors)."""
    if not len(ids):
        return np.empty(0, np.float32)
    vectors = index.reconstruct_batch(np.ascontiguousarray(ids, dtype=np.int64))
    return vectors @ query


def search(index: Any, lexical: LexicalIndex, query_vector: np.ndarray, question: str, *,
           mode: str = "hybrid", depth: int = 100, dense_weight: float = 0.5,
           doc_weight: float = 0.0,
           document_vectors: Callable[[np.ndarray], np.ndarray] | None = None,
           keys: Sequence[str] = (), key_weight: float = 0.0) -> list[Candidate]:
    """Rank chunks for a question; returns up to about 2 x `depth` candidates, best first.

    `document_vectors(chunk_ids)` gives each chunk's document vector (hybrid mode only).
    `keys` are the question's numbers and names (index tokens): in hybrid mode a chunk
    gains `key_weight` x the share of them it holds exactly (1998 is not 2004).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    n = min(depth, index.ntotal)
    if n == 0:
        return []
    ids: dict[int, int] = {}
    dense_ids = lexical_ids = np.empty(0, np.int64)
    if mode in ("hybrid", "dense"):
        scores, found = index.search(query_vector.reshape(1, -1).astype(np.float32), n)
        keep = found[0] >= 0
        dense_ids, dense_found = found[0][keep], scores[0][keep]
    if mode in ("hybrid", "bm25"):
        lexical_ids, _ = lexical.search(question, n)
    for chunk_id in [*dense_ids.tolist(), *lexical_ids.tolist()]:
        ids.setdefault(int(chunk_id), len(ids))
    order = np.fromiter(ids, dtype=np.int64, count=len(ids))
    lex = lexical.scores_for(question, order)
    if mode == "bm25":
        dense = np.zeros(len(order), np.float32)
    else:
        dense = np.empty(len(order), np.float32)
        dense[: len(dense_ids)] = dense_found
        dense[len(dense_ids):] = dense_scores(index, query_vector, order[len(dense_ids):])
    if mode == "dense":
        fused = dense
    elif mode == "bm25":
        fused = lex
    else:
        context = dense
        if doc_weight and document_vectors is not None:
            context = dense + doc_weight * (document_vectors(order) @ query_vector)
        fused = dense_weight * _minmax(context) + (1 - dense_weight) * _minmax(lex)
        if keys and key_weight:
            held = sum((lexical.scores_for(key, order) > 0).astype(np.float32) for key in keys)
            fused = fused + key_weight * held / len(keys)
    ranked = np.argsort(-fused, kind="stable")
    return [Candidate(int(order[i]), float(dense[i]), float(lex[i]), float(fused[i]))
            for i in ranked]
