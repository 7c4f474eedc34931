"""FAISS index construction: which index type, and adding vectors under stable chunk ids."""

from __future__ import annotations

from typing import Any

import numpy as np

from quotebot.config import IndexConfig


def new_index(dimension: int, config: IndexConfig) -> Any:
    """An empty index for inner-product search over normalised vectors, keyed by chunk id.

    `IndexIDMap2` keeps our 63-bit chunk ids and supports removal, so an incremental
    build removes a changed document's chunks and adds the new ones in place.
    """
    import faiss

    if config.faiss_index not in ("auto", "flat"):
        raise ValueError(f"unknown index.faiss_index {config.faiss_index!r} (use auto or flat)")
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))


def add_vectors(index: Any, ids: np.ndarray, vectors: np.ndarray) -> None:
    """Add vectors under their ids (no-op for none)."""
    if len(ids):
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                           np.ascontiguousarray(ids, dtype=np.int64))
