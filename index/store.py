"""The on-disk store: immutable generations switched atomically, plus the reader.

Layout of the store folder:

    CURRENT              name of the live generation (replaced atomically)
    gen-000007/          one complete, never-modified index:
        manifest.json    model, dimension, fingerprint, chunking, counts
        meta.sqlite      documents (with text and hash) and chunks (text, offsets, sentences)
        vectors.faiss    FAISS index of chunk vectors under their int64 chunk ids (flat or
                         IVF, see index/vectors.py; the manifest names the type)
        bm25/            lexical index over the same chunks (same row order as `bm25_ids`)
    gen-000008.partial/  a build in progress (or one that was killed: removed by the next build)
    embeddings.sqlite    embedding cache shared by all generations
    models/<fingerprint>/  ONNX export of the embedding model, shared by all generations
                         (index/onnx_export.py)
    build.lock           held by the one running build

A build writes a new generation beside the live one and only then replaces CURRENT,
so readers never see a half-written index and a killed build leaves the old one whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.documents import Chunk, Document
from quotebot.config import IndexConfig

FORMAT_VERSION = 2  # 2: documents carry a vector (mean of their chunk vectors)
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
META = "meta.sqlite"
VECTORS = "vectors.faiss"
CACHE = "embeddings.sqlite"
LOCK = "build.lock"


_GENERATION = re.compile(r"gen-(\d{6,})(\.partial)?")


class StoreError(RuntimeError):
    """The store is missing, damaged or built for something else; the message says what to do."""


@dataclass
class Manifest:
    """What a generation was built with; a reader refuses a store it cannot use."""

    generation: int
    model_name: str
    model_fingerprint: str
    dimension: int
    max_tokens: int
    overlap_sentences: int
    window: int
    chunker_version: int
    n_documents: int = 0
    n_chunks: int = 0
    index_type: str = "flat"  # IndexPlan.name: "flat", "ivf1024-fp16", "ivf1024-sq8", ...
    index_trained_size: int = 0  # passages the IVF lists / SQ8 ranges were trained on
    embedding_precision: str = "fp32"  # model weights the chunks were embedded with
    created: str = ""
    format_version: int = FORMAT_VERSION
    extra: dict[str, Any] = field(default_factory=dict)
    # [size, sha256, mtime_ns] of every other file of the generation, checked when it is
    # opened (empty in stores written before checksums: then only presence is checked).
    files: dict[str, list[Any]] = field(default_factory=dict)

    def write(self, folder: Path) -> None:
        write_atomic(folder / MANIFEST, json.dumps(asdict(self), indent=2).encode())

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        try:
            data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            if data.get("format_version") != FORMAT_VERSION:
                raise StoreError(
                    f"store {folder} has format version {data.get('format_version')}, this "
                    f"quotebot reads version {FORMAT_VERSION}: "
                    "rebuild with `quotebot index --full`")
            known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
            return cls(**known)
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            raise StoreError(f"store manifest {folder / MANIFEST} is unreadable ({exc}): "
                             "rebuild with `quotebot index --full`") from exc


FileIdentity = tuple[int, int, int, int]  # device, inode, size, mtime_ns


def _identity(stat: os.stat_result) -> FileIdentity:
    """Stays the same while a file is unchanged, across renames."""
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns


def file_checksum(path: Path, summed: dict[FileIdentity, str] | None = None) -> list[Any]:
    """[size, sha256, mtime_ns] of a file, as manifests record it (noted in `summed`)."""
    with open(path, "rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    stat = path.stat()
    if summed is not None:
        summed[_identity(stat)] = digest
    return [stat.st_size, digest, stat.st_mtime_ns]


def file_damage(path: Path, expected: Sequence[Any], *, full: bool = False,
                summed: dict[FileIdentity, str] | None = None) -> str:
    """How `path` differs from its recorded [size, sha256, mtime_ns] ('' if it does not).

    A file whose size and mtime are still those recorded is trusted without hashing it
    (hashing a million-passage store takes seconds at every start); any write changes
    the mtime, so written damage is hashed. `full` hashes anyway, except a file `summed`
    (by `file_checksum`) as it is now. OSError when unreadable; TypeError or ValueError
    when `expected` is not such a record.
    """
    size, digest, *written = expected
    stat = path.stat()
    if stat.st_size != size:
        return f"{stat.st_size:,} bytes, expected {size:,}"
    if not full and written and stat.st_mtime_ns == written[0]:
        return ""  # untouched since it was summed
    if summed is not None and summed.get(_identity(stat)) == digest:
        return ""
    with open(path, "rb") as f:
        if hashlib.file_digest(f, "sha256").hexdigest() != digest:
            return "its content changed since it was written"
    return ""


def file_checksums(folder: Path) -> dict[str, list[Any]]:
    """`file_checksum` of every file of a generation folder but its manifest."""
    return {path.relative_to(folder).as_posix(): file_checksum(path)
            for path in sorted(folder.rglob("*"))
            if path.is_file() and path.name != MANIFEST}


def verify_files(folder: Path, manifest: Manifest, *, full: bool = False) -> None:
    """StoreError unless every file the manifest lists is present, whole and unchanged.

    Catches what opening alone misses: a truncated or overwritten file whose damage would
    otherwise surface as wrong results or an error deep in a search. See `file_damage`
    for when a file is hashed; builds pass `full`, as a scrub of the index they reuse.
    """
    rebuild = "rebuild with `quotebot index --full`"
    names = list(manifest.files) or [META, VECTORS]
    for name in names:
        path = folder / name
        if not path.is_file():
            raise StoreError(f"store {folder} lacks {name}: {rebuild}")
        if name not in manifest.files:
            continue
        try:
            why = file_damage(path, manifest.files[name], full=full)
        except (OSError, TypeError, ValueError) as exc:
            raise StoreError(f"store file {path} cannot be checked ({exc}): {rebuild}") from exc
        if why:
            raise StoreError(f"store file {path} is damaged ({why}): {rebuild}")


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file so that it is either the old content or the new one, never a mix."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
    """Flush every file under `folder` and the folders themselves to disk."""
    for root, _dirs, files in os.walk(folder):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                os.fsync(f.fileno())
        fsync_dir(Path(root))


def current_generation(store: Path) -> Path | None:
    """The live generation folder, or None when nothing was built yet."""
    try:
        name = (store / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"store {store}: CURRENT is unreadable ({exc}): "
                         "rebuild with `quotebot index --full`") from exc
    folder = store / name
    match = _GENERATION.fullmatch(name)
    if not match or match.group(2) or not folder.is_dir():
        raise StoreError(f"store {store}: CURRENT names {name[:80]!r}, which is not a "
                         "complete index: rebuild with `quotebot index --full`")
    return folder


def generation_number(folder: Path) -> int:
    return int(folder.name.split("-")[1].split(".")[0])


def _generations(store: Path) -> list[tuple[int, bool, Path]]:
    """(number, complete, folder) of every generation folder in the store."""
    found = []
    for folder in store.glob("gen-*"):
        match = _GENERATION.fullmatch(folder.name)
        if match and folder.is_dir():
            found.append((int(match.group(1)), match.group(2) is None, folder))
    return sorted(found)


def publish(store: Path, folder: Path) -> None:
    """Make a complete generation live: one atomic rename of the CURRENT pointer."""
    fsync_tree(folder)
    write_atomic(store / CURRENT, folder.name.encode())


def prune(store: Path, keep: int) -> None:
    """Remove unfinished generations and all but the newest `keep` complete ones.

    Readers that still hold an older generation keep reading it (open files outlive
    their names); keeping the previous one covers readers that are just opening it.
    """
    live = current_generation(store)
    generations = _generations(store)
    complete = [folder for _, done, folder in generations if done]
    keepers = {p for p in complete[-max(keep, 1):]} | ({live} if live else set())
    for _, _, folder in generations:
        if folder not in keepers:
            shutil.rmtree(folder, ignore_errors=True)


def discard_unpublished(store: Path, live: Path | None) -> None:
    """Remove what a killed or failed build left: partial generations, and complete ones
    newer than `live` that were never published (killed between their rename and the
    switch of CURRENT). Readers only open what CURRENT names, so none is in use.
    """
    live_number = generation_number(live) if live else 0
    for number, done, folder in _generations(store):
        if not done or number > live_number:
            shutil.rmtree(folder, ignore_errors=True)


# ---- metadata database -------------------------------------------------------------

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, path TEXT NOT NULL UNIQUE, title TEXT NOT NULL,
    format TEXT NOT NULL, content_hash TEXT NOT NULL, size INTEGER NOT NULL,
    mtime REAL NOT NULL, text TEXT NOT NULL, line_anchors TEXT NOT NULL,
    page_starts TEXT, n_chunks INTEGER NOT NULL, vector BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL, text TEXT NOT NULL, text_hash TEXT NOT NULL,
    line_start INTEGER NOT NULL, line_end INTEGER NOT NULL, page_start INTEGER, page_end INTEGER,
    heading_path TEXT NOT NULL, sentences TEXT NOT NULL, sentence_vectors BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id, ordinal);
CREATE TABLE IF NOT EXISTS skipped (path TEXT PRIMARY KEY, reason TEXT NOT NULL);
-- BM25 tokens of each chunk (space-separated), kept so that a build re-tokenizes only
-- new chunks; rows of another tokenizer version are ignored (index.lexical).
CREATE TABLE IF NOT EXISTS chunk_tokens (
    chunk_id INTEGER PRIMARY KEY, version INTEGER NOT NULL, tokens TEXT NOT NULL
);
"""


def open_meta(path: Path) -> sqlite3.Connection:
    """Open a generation's metadata database for writing (during a build only)."""
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    return db


def document_vector(chunk_vectors: Sequence[np.ndarray]) -> np.ndarray:
    """What a document is about as a whole: the normalised mean of its chunk vectors."""
    mean = np.mean(np.asarray(chunk_vectors, dtype=np.float32), axis=0)
    return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)


def insert_document(db: sqlite3.Connection, doc: Document, chunks: Sequence[Chunk],
                    sentence_vectors: Sequence[np.ndarray], doc_vector: np.ndarray) -> None:
    db.execute(
        "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (doc.doc_id, doc.path, doc.title, doc.format, doc.content_hash, doc.size, doc.mtime,
         doc.text, json.dumps(doc.line_anchors),
         None if doc.page_starts is None else json.dumps(doc.page_starts), len(chunks),
         np.asarray(doc_vector, np.float16).tobytes()),
    )
    db.executemany(
        "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [(c.chunk_id, c.doc_id, c.ordinal, c.start, c.end, c.text, c.text_hash, c.line_start,
          c.line_end, c.page_start, c.page_end, json.dumps(c.heading_path),
          json.dumps(c.sentences), np.asarray(v, np.float16).tobytes())
         for c, v in zip(chunks, sentence_vectors, strict=True)],
    )


def delete_documents(db: sqlite3.Connection, doc_ids: Iterable[str]) -> list[int]:
    """Remove documents and their chunks; return the chunk ids that left."""
    removed: list[int] = []
    for doc_id in doc_ids:
        removed += [r[0] for r in db.execute("SELECT chunk_id FROM chunks WHERE doc_id=?",
                                             (doc_id,))]
        db.execute("DELETE FROM chunk_tokens WHERE chunk_id IN "
                   "(SELECT chunk_id FROM chunks WHERE doc_id=?)", (doc_id,))
        db.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
        db.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))
    return removed


def write_skipped(db: sqlite3.Connection, skipped: Sequence[tuple[str, str]]) -> None:
    db.execute("DELETE FROM skipped")
    db.executemany("INSERT INTO skipped VALUES (?, ?)", skipped)


# ---- reading ------------------------------------------------------------------------

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


class StoreReader:
    """Read access to the live generation (or a given one): manifest, FAISS index, metadata.

    With `options` (the `[index]` config) the vectors are opened for answering:
    memory-mapped when `options.mmap` and FAISS allows it, IVF search depth set.
    """

    def __init__(self, store: Path, *, mmap: bool = False,
                 options: IndexConfig | None = None, folder: Path | None = None) -> None:
        # `folder`: a given generation (a reader following CURRENT opens the one it saw).
        folder = folder or current_generation(store)
        if folder is None:
            raise StoreError(f"no index in {store}: build one with `quotebot index`")
        self.store = store
        self.folder = folder
        self.manifest = Manifest.read(folder)
        verify_files(folder, self.manifest)
        self.db = sqlite3.connect(f"file:{folder / META}?mode=ro&immutable=1", uri=True,
                                  check_same_thread=False)
        try:
            self.db.execute("SELECT count(*) FROM chunks").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"store {folder / META} is damaged ({exc}): "
                             "rebuild with `quotebot index --full`") from exc
        self.index = read_vectors(folder / VECTORS, mmap=mmap or bool(options and options.mmap))
        if self.index.ntotal != self.manifest.n_chunks or self.index.d != self.manifest.dimension:
            raise StoreError(f"store {folder}: vectors do not match the manifest "
                             "(damaged?): rebuild with `quotebot index --full`")
        if options is not None:
            from index.vectors import configure_search

            configure_search(self.index, options)

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
        """The chunks with these ids and their documents' path and title, in one query."""
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        rows = self.db.execute(
            "SELECT c.chunk_id, c.doc_id, c.ordinal, c.start, c.end, c.text, c.line_start, "
            "c.line_end, c.page_start, c.page_end, c.heading_path, c.sentences, "
            "c.sentence_vectors, d.path, d.title FROM chunks c JOIN documents d USING (doc_id) "
            f"WHERE c.chunk_id IN ({marks})", [int(i) for i in chunk_ids])
        dim = self.manifest.dimension
        return {
            row[0]: StoredChunk(
                chunk_id=row[0], doc_id=row[1], ordinal=row[2], start=row[3], end=row[4],
                text=row[5], line_start=row[6], line_end=row[7], page_start=row[8],
                page_end=row[9], heading_path=json.loads(row[10]),
                sentences=[tuple(s) for s in json.loads(row[11])],
                sentence_vectors=np.frombuffer(row[12], dtype=np.float16).reshape(-1, dim),
                path=row[13], title=row[14])
            for row in rows
        }

    def document_vectors(self, chunk_ids: Sequence[int]) -> np.ndarray:
        """The vector of each chunk's document (rows in the order of `chunk_ids`), one query."""
        dim = self.manifest.dimension
        if not len(chunk_ids):
            return np.empty((0, dim), np.float32)
        marks = ",".join("?" * len(chunk_ids))
        found = dict(self.db.execute(
            f"SELECT c.chunk_id, d.vector FROM chunks c JOIN documents d USING (doc_id) "
            f"WHERE c.chunk_id IN ({marks})", [int(i) for i in chunk_ids]))
        zero = np.zeros(dim, np.float16).tobytes()
        blob = b"".join(found.get(int(i), zero) for i in chunk_ids)
        return np.frombuffer(blob, dtype=np.float16).reshape(-1, dim).astype(np.float32)

    def chunk_paths(self, chunk_ids: Sequence[int]) -> dict[int, str]:
        """chunk id -> its document's path, in one query."""
        marks = ",".join("?" * len(chunk_ids))
        return dict(self.db.execute(
            f"SELECT c.chunk_id, d.path FROM chunks c JOIN documents d USING (doc_id) "
            f"WHERE c.chunk_id IN ({marks})", [int(i) for i in chunk_ids])) if chunk_ids else {}

    def document_text(self, doc_id: str) -> str:
        row = self.db.execute("SELECT text FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        if row is None:
            raise KeyError(doc_id)
        return row[0]

    def counts(self) -> dict[str, int]:
        """Documents and chunks of the generation, and files its build skipped."""
        skipped = self.db.execute("SELECT count(*) FROM skipped").fetchone()[0]
        return {"documents": self.manifest.n_documents, "chunks": self.manifest.n_chunks,
                "skipped": skipped}

    def skipped(self) -> list[tuple[str, str]]:
        return list(self.db.execute("SELECT path, reason FROM skipped ORDER BY path"))

    def close(self) -> None:
        self.db.close()


def read_vectors(path: Path, *, mmap: bool = False) -> Any:
    """Load a FAISS index file (memory-mapped, read-only, with `mmap`); damage is a StoreError."""
    import faiss

    try:
        # IO_FLAG_MMAP_IFC maps flat codes and IVF lists in place (searches as fast as from
        # RAM); the older IO_FLAG_MMAP gives IVF on-disk lists, about 3x slower to search.
        flags = getattr(faiss, "IO_FLAG_MMAP_IFC", 0) if mmap else 0
        return faiss.read_index(str(path), flags)
    except RuntimeError as exc:
        raise StoreError(f"vector index {path} is damaged ({str(exc).splitlines()[0]}): "
                         "rebuild with `quotebot index --full`") from exc


def write_vectors(index: Any, path: Path) -> None:
    """Save a FAISS index file; a failed write (disk full, read-only) becomes an OSError."""
    import faiss

    try:
        faiss.write_index(index, str(path))
    except RuntimeError as exc:
        reason = re.search(r"\(([^()]*)\)\s*$", str(exc))  # faiss ends with "(strerror)"
        raise OSError(f"cannot write {path}: "
                      f"{reason.group(1) if reason else str(exc).splitlines()[0]}") from exc
