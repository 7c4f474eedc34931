"""What every backend's build does alike: a new generation folder with its metadata database.

A `GenerationWriter` copies the live generation's database (incremental builds) or
starts an empty one, takes the build's removals and additions, and on `publish` hands
the chunk ids, vectors and BM25 tokens to its backend (`_write_search`), writes the
manifest with checksums, renames the folder complete and makes it live. Backends
subclass it (store/faiss.py, store/qdrant.py).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from quotebot.documents import Chunk, Document
from store import generations as gen
from store import meta
from store.protocol import Published


@dataclass
class Previous:
    """The live generation a build starts from (None: a build from scratch)."""

    folder: Path
    manifest: gen.Manifest


@dataclass
class Tokenizer:
    """How the build turns a chunk into BM25 tokens, and the version of those rules."""

    tokens_of: Callable[[str, list[str], str], list[str]]
    version: int


@dataclass
class SearchWrite:
    """What a backend wrote for a generation: index type, trained size, notes for the report."""

    index_type: str
    trained_size: int = 0
    notes: list[str] | None = None
    extra: dict | None = None


class GenerationWriter:
    """The shared part of a build's new generation; backends implement `_write_search`."""

    backend = ""

    def __init__(self, store: Path, template: gen.Manifest, previous: Previous | None,
                 tokenizer: Tokenizer) -> None:
        self.store, self.template, self.previous, self.tokenizer = store, template, previous, \
            tokenizer
        try:
            live = gen.current_generation(store)
        except gen.StoreError:
            live = None
        gen.discard_unpublished(store, live)
        self.number = (gen.generation_number(live) if live else 0) + 1
        self.folder = store / f"gen-{self.number:06d}.partial"
        self.folder.mkdir()
        if previous:
            shutil.copyfile(previous.folder / gen.META, self.folder / gen.META)
        self.db = meta.open_meta(self.folder / gen.META)
        self.removed: list[int] = []
        self.added: list[int] = []
        self.vectors: list[np.ndarray] = []

    def remove_documents(self, doc_ids: Sequence[str]) -> None:
        self.removed += meta.delete_documents(self.db, doc_ids)

    def add_document(self, doc: Document, chunks: Sequence[Chunk],
                     chunk_vectors: Sequence[np.ndarray],
                     sentence_vectors: Sequence[np.ndarray]) -> None:
        meta.insert_document(self.db, doc, chunks, sentence_vectors,
                             meta.document_vector(chunk_vectors))
        self.added += [c.chunk_id for c in chunks]
        self.vectors += list(chunk_vectors)

    def set_skipped(self, skipped: Sequence[tuple[str, str]]) -> None:
        meta.write_skipped(self.db, skipped)

    def publish(self) -> Published:
        self.db.commit()
        n_docs = self.db.execute("SELECT count(*) FROM documents").fetchone()[0]
        chunk_ids, tokens = meta.chunk_tokens(self.db, self.tokenizer.tokens_of,
                                              self.tokenizer.version)
        dimension = self.template.dimension
        written = self._write_search(
            chunk_ids, tokens, np.asarray(self.removed, dtype=np.int64),
            np.asarray(self.added, dtype=np.int64),
            np.asarray(self.vectors, dtype=np.float32).reshape(-1, dimension))
        self.db.close()
        manifest = replace(
            self.template, generation=self.number, n_documents=n_docs,
            n_chunks=len(chunk_ids), index_type=written.index_type,
            index_trained_size=written.trained_size, backend=self.backend,
            extra={**self.template.extra, **(written.extra or {})},
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            files=gen.file_checksums(self.folder))
        manifest.write(self.folder)
        final = self.store / f"gen-{self.number:06d}"
        os.replace(self.folder, final)
        self.folder = final
        self._switch(final, manifest)
        return Published(self.number, n_docs, len(chunk_ids), written.index_type,
                         list(written.notes or []))

    def _write_search(self, chunk_ids: list[int], tokens: list[list[str]], removed: np.ndarray,
                      added: np.ndarray, vectors: np.ndarray) -> SearchWrite:
        """Write the backend's search side of the generation (vectors and BM25)."""
        raise NotImplementedError

    def _switch(self, folder: Path, manifest: gen.Manifest) -> None:
        """Make the complete generation live (FAISS: the CURRENT pointer)."""
        gen.publish(self.store, folder)

    def abort(self) -> None:
        with contextlib.suppress(Exception):  # closing twice or after an error
            self.db.close()
        if self.folder.name.endswith(".partial"):
            shutil.rmtree(self.folder, ignore_errors=True)

    def prune(self, keep: int) -> None:
        gen.prune(self.store, keep)
