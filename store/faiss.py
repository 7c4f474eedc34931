"""The FAISS backend: vectors in a FAISS index, BM25 in bm25s, both files of the generation.

Today's store, unchanged: the FAISS-only settings (index type, IVF lists and probes,
fp16/SQ8, memory mapping, threads) live here and in store/vectors.py, nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from quotebot.config import IndexConfig
from quotebot.errors import StoreError
from store import generations as gen
from store.bm25 import LexicalIndex, build_lexical_tokens
from store.reader import GenerationReader
from store.vectors import (
    IndexPlan,
    add_vectors,
    all_vectors,
    configure_search,
    new_index,
    plan_index,
    read_vectors,
    retrain_reason,
    training_sample,
    use_threads,
    write_vectors,
)
from store.writer import GenerationWriter, Previous, SearchWrite, Tokenizer


def outdated(options: IndexConfig, manifest: gen.Manifest) -> str:
    """Why the settings now call for another FAISS index than the live one ('' if not)."""
    return retrain_reason(IndexPlan.parse(manifest.index_type), manifest.index_trained_size,
                          manifest.n_chunks, options)


class FaissWriter(GenerationWriter):
    """A build's new generation with a FAISS vector index and a bm25s index."""

    backend = "faiss"

    def __init__(self, store: Path, template: gen.Manifest, previous: Previous | None,
                 tokenizer: Tokenizer, options: IndexConfig) -> None:
        super().__init__(store, template, previous, tokenizer)
        self.options = options
        use_threads(options.build_threads)

    def _write_search(self, chunk_ids: list[int], tokens: list[list[str]], removed: np.ndarray,
                      added: np.ndarray, vectors: np.ndarray) -> SearchWrite:
        build_lexical_tokens(self.folder, chunk_ids, tokens)
        notes: list[str] = []
        index, plan, trained = self._vector_index(len(chunk_ids), removed, added, vectors, notes)
        if index.ntotal != len(chunk_ids):
            raise RuntimeError(f"internal error: {index.ntotal} vectors for "
                               f"{len(chunk_ids)} chunks")
        write_vectors(index, self.folder / gen.VECTORS)
        return SearchWrite(plan.name, trained, notes)

    def _vector_index(self, n_chunks: int, removed: np.ndarray, ids: np.ndarray,
                      vectors: np.ndarray, notes: list[str]) -> tuple[Any, IndexPlan, int]:
        """The generation's FAISS index, its plan and the corpus size it was trained on.

        The live index takes the changes in place when its type still fits the corpus;
        otherwise (first build, type change, IVF lists outgrown) a new index is trained
        on every vector: the live index's (exact for float indexes, decoded for SQ8) and
        the new ones.
        """
        previous, dimension = self.previous, self.template.dimension
        if previous is not None:
            old = read_vectors(previous.folder / gen.VECTORS)
            old_plan = IndexPlan.parse(previous.manifest.index_type)
            trained = previous.manifest.index_trained_size
            why = retrain_reason(old_plan, trained, n_chunks, self.options)
            if not why:
                if len(removed):
                    old.remove_ids(removed)
                add_vectors(old, ids, vectors)
                return old, old_plan, trained
            notes.append(why)
            kept_ids, kept = all_vectors(old)
            keep = ~np.isin(kept_ids, removed)
            ids = np.concatenate([kept_ids[keep], ids])
            vectors = np.concatenate([kept[keep], vectors]) if len(vectors) else kept[keep]
        plan = plan_index(n_chunks, self.options)
        index = new_index(dimension, plan, training_sample(vectors, plan))
        add_vectors(index, ids, vectors)
        return index, plan, (n_chunks if plan.trained else 0)


class FaissReader(GenerationReader):
    """The live FAISS generation, opened for answering (see `store.protocol.Reader`)."""

    backend = "faiss"

    def __init__(self, store: Path, options: IndexConfig | None = None, *,
                 mmap: bool = False, folder: Path | None = None) -> None:
        super().__init__(store, folder)
        self.options = options or IndexConfig()
        try:
            self.index = read_vectors(self.folder / gen.VECTORS,
                                      mmap=mmap or bool(options and options.mmap))
            if self.index.ntotal != self.manifest.n_chunks \
                    or self.index.d != self.manifest.dimension:
                raise StoreError(f"store {self.folder}: vectors do not match the manifest "
                                 "(damaged?): rebuild with `quotebot index --full`")
            if options is not None:
                configure_search(self.index, options)
            self.lexical = LexicalIndex(self.folder, mmap=self.options.mmap)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Close the database and let go of the memory-mapped indexes at once (not when
        the garbage collector finds them: a store's volume may be unmounted next)."""
        super().close()
        self.index = None
        self.lexical = None

    def vector_search(self, query: np.ndarray, k: int, *,
                      within: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        use_threads(self.options.search_threads)  # per calling thread (OpenMP)
        k = min(k, self.index.ntotal)
        allowed = self._within(within)
        if k <= 0 or (allowed is not None and not len(allowed)):
            return np.empty(0, np.int64), np.empty(0, np.float32)
        params = None
        if allowed is not None:
            import faiss

            selector = faiss.IDSelectorBatch(allowed)
            if isinstance(self.index, faiss.IndexIDMap2):  # flat: ids mapped outside
                params = faiss.SearchParameters(sel=selector)
            else:  # IVF keeps the ids in its lists
                nprobe = faiss.extract_index_ivf(self.index).nprobe
                params = faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)
        scores, found = self.index.search(query.reshape(1, -1).astype(np.float32), k,
                                          params=params)
        keep = found[0] >= 0  # FAISS pads with -1 when fewer than k exist
        return found[0][keep].astype(np.int64), scores[0][keep]

    def vector_scores(self, query: np.ndarray, chunk_ids: np.ndarray) -> np.ndarray:
        if not len(chunk_ids):
            return np.empty(0, np.float32)
        vectors = self.index.reconstruct_batch(np.ascontiguousarray(chunk_ids, dtype=np.int64))
        return (vectors @ query).astype(np.float32)

    def vectors(self, chunk_ids: np.ndarray) -> np.ndarray:
        return self.index.reconstruct_batch(np.ascontiguousarray(chunk_ids, dtype=np.int64))

    def lexical_search(self, tokens: Sequence[str], k: int, *,
                       within: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        return self.lexical.search(tokens, k, allowed=self._within(within))

    def lexical_scores(self, tokens: Sequence[str], chunk_ids: np.ndarray) -> np.ndarray:
        return self.lexical.scores_for(tokens, chunk_ids)

    def idf(self, tokens: Sequence[str]) -> dict[str, float]:
        return self.lexical.idf(tokens)
