"""What every backend's reader does alike: the live generation's manifest and metadata.

Backends subclass `GenerationReader` with their search side (store/faiss.py,
store/qdrant.py); together they implement `store.protocol.Reader`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from quotebot.documents import Document
from quotebot.errors import StoreError
from store import generations as gen
from store.meta import MetaReader
from store.protocol import StoredChunk


class GenerationReader:
    """What both backends read alike: the live generation's manifest and metadata database."""

    backend = ""

    def __init__(self, store: Path, folder: Path | None = None) -> None:
        # `folder`: a given generation (a reader following CURRENT opens the one it saw).
        folder = folder or gen.current_generation(store)
        if folder is None:
            raise StoreError(f"no index in {store}: build one with `quotebot index`")
        self.store, self.folder = store, folder
        self.generation = folder.name
        self.manifest = gen.Manifest.read(folder)
        if self.manifest.backend != self.backend:
            raise StoreError(
                f"the index in {store} was built for the {self.manifest.backend} backend, "
                f"not {self.backend}: run `quotebot index --backend {self.backend}`, "
                f"or use --backend {self.manifest.backend}")
        gen.verify_files(folder, self.manifest)
        self.dimension = self.manifest.dimension
        self.meta = MetaReader(folder / gen.META, self.dimension)

    @property
    def db(self) -> Any:
        """The metadata database (for tools that inspect a store; retrieval does not)."""
        return self.meta.db

    def check_model(self, name: str, fingerprint: str) -> None:
        """Refuse to query with another model than the one the vectors were made with."""
        m = self.manifest
        if m.model_fingerprint != fingerprint:
            raise StoreError(
                f"the index in {self.store} was built with model {m.model_name!r} "
                f"(fingerprint {m.model_fingerprint}), but the configured model is {name!r} "
                f"(fingerprint {fingerprint}): rebuild with `quotebot index --full`, "
                f"or set model.name back to {m.model_name!r}")

    def chunks(self, chunk_ids: Sequence[int]) -> dict[int, StoredChunk]:
        return self.meta.chunks(chunk_ids)

    def document(self, doc_id: str) -> Document:
        return self.meta.document(doc_id)

    def document_text(self, doc_id: str) -> str:
        return self.meta.document_text(doc_id)

    def document_vectors(self, chunk_ids: Sequence[int]) -> np.ndarray:
        return self.meta.document_vectors(chunk_ids)

    def chunk_paths(self, chunk_ids: Sequence[int]) -> dict[int, str]:
        return self.meta.chunk_paths(chunk_ids)

    def chunk_ids(self) -> np.ndarray:
        return self.meta.chunk_ids()

    def counts(self) -> dict[str, int]:
        """Documents and chunks of the generation, and files its build skipped."""
        return {"documents": self.manifest.n_documents, "chunks": self.manifest.n_chunks,
                "skipped": len(self.meta.skipped())}

    def skipped(self) -> list[tuple[str, str]]:
        return self.meta.skipped()

    def titles(self, limit: int) -> list[str]:
        return self.meta.titles(limit)

    def is_live(self) -> bool:
        try:
            live = gen.current_generation(self.store)
        except StoreError:
            return True  # a damaged pointer: keep answering from what is open
        return live is None or live.name == self.generation

    def _within(self, within: Sequence[str] | None) -> np.ndarray | None:
        return None if within is None else self.meta.chunk_ids_within(within)

    def close(self) -> None:
        self.meta.db.close()
