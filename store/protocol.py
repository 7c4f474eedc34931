"""The store interface: what a published generation offers readers, and what a build needs.

Modelled on txtai's `ann/base.py` (a small base, one module per backend, a factory by
name: `store/factory.py`) and Haystack's `DocumentStore` protocol. Retrieval only ever
talks to a `Reader`; the build only to a `Writer`. Backends: `store/faiss.py` (FAISS +
bm25s + SQLite in the generation folder) and `store/qdrant.py` (a Qdrant collection with
a dense and a BM25 sparse vector per chunk, and the same SQLite for quotes).

Scores are the raw per-channel ones (cosine for vectors, BM25 for words) so that
fusion, excerpts and abstention stay quotebot's and do not depend on the backend.
`within` limits a search to documents under some folders or paths (scoped questions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from quotebot.documents import Chunk, Document


@dataclass
class StoredChunk:
    """A chunk as read back for a hit: text, offsets, sentences and its document's citation data."""

    chunk_id: int
    doc_id: str
    ordinal: int
    start: int
    end: int
    text: str
    line_start: int
    line_end: int
    page_start: int | None
    page_end: int | None
    heading_path: list[str]
    sentences: list[tuple[int, int]]
    sentence_vectors: np.ndarray
    path: str
    title: str


@dataclass
class Published:
    """What a writer published: its generation number and counts, for the build report."""

    generation: int
    documents: int
    chunks: int
    index_type: str
    notes: list[str] = field(default_factory=list)


@runtime_checkable
class Reader(Protocol):
    """A published generation, open for answering; safe to share between threads."""

    backend: str  # "faiss" | "qdrant"
    generation: str  # the generation's name; a newer published one differs
    dimension: int

    def check_model(self, name: str, fingerprint: str) -> None:
        """StoreError unless the vectors were made with this model."""

    def vector_search(self, query: np.ndarray, k: int, *,
                      within: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Up to `k` (chunk ids, cosines) nearest to `query`, best first."""

    def vector_scores(self, query: np.ndarray, chunk_ids: np.ndarray) -> np.ndarray:
        """Cosine of `query` with the stored vector of each chunk id (in order)."""

    def lexical_search(self, tokens: Sequence[str], k: int, *,
                       within: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Up to `k` (chunk ids, BM25 scores > 0) for the question's tokens, best first."""

    def lexical_scores(self, tokens: Sequence[str], chunk_ids: np.ndarray) -> np.ndarray:
        """BM25 score of the question's tokens for each chunk id (0 when none matches)."""

    def idf(self, tokens: Sequence[str]) -> dict[str, float]:
        """Inverse document frequency of each known token (unknown tokens left out)."""

    def chunks(self, chunk_ids: Sequence[int]) -> dict[int, StoredChunk]:
        """The chunks with these ids (missing ids are left out)."""

    def document(self, doc_id: str) -> Document:
        """A document's text with its line and page maps; KeyError if unknown."""

    def document_vectors(self, chunk_ids: Sequence[int]) -> np.ndarray:
        """The vector of each chunk's document, one row per id."""

    def chunk_paths(self, chunk_ids: Sequence[int]) -> dict[int, str]:
        """chunk id -> its document's path."""

    def chunk_ids(self) -> np.ndarray:
        """Every chunk id of the generation, ascending (evaluation and tools)."""

    def vectors(self, chunk_ids: np.ndarray) -> np.ndarray:
        """The stored vector of each chunk id, one row per id (evaluation and tools)."""

    def counts(self) -> dict[str, int]:
        """Documents and chunks of the generation."""

    def skipped(self) -> list[tuple[str, str]]:
        """Files the build skipped, with why."""

    def titles(self, limit: int) -> list[str]:
        """The first `limit` documents' titles by path (the path for an untitled one)."""

    def is_live(self) -> bool:
        """False once a newer generation was published (time to reopen)."""

    def close(self) -> None:
        """Release files and connections."""


@runtime_checkable
class Writer(Protocol):
    """One build's new generation: changes go in, then `publish` makes it live at once."""

    def remove_documents(self, doc_ids: Sequence[str]) -> None:
        """Take these documents and their chunks out."""

    def add_document(self, doc: Document, chunks: Sequence[Chunk],
                     chunk_vectors: Sequence[np.ndarray],
                     sentence_vectors: Sequence[np.ndarray]) -> None:
        """Put a document in with its chunks, their vectors and their sentences' vectors."""

    def set_skipped(self, skipped: Sequence[tuple[str, str]]) -> None:
        """Record the files this build skipped."""

    def publish(self) -> Published:
        """Make the new generation live atomically: readers see all of it or none."""

    def abort(self) -> None:
        """Give up the new generation; the live one is untouched."""

    def prune(self, keep: int) -> None:
        """Remove all but the newest `keep` complete generations (and unfinished ones)."""
