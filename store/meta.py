"""A generation's metadata database (SQLite): documents, chunks, sentences and their vectors.

Both backends keep it in the generation folder: it holds what a quote and its citation
need (document text, offsets, line and page maps, sentence vectors), while the search
itself (vectors and BM25) is the backend's. Only this module knows the schema.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from quotebot.documents import Chunk, Document
from quotebot.errors import StoreError
from store.protocol import StoredChunk

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
-- Chunks holding each BM25 token (Qdrant backend: the IDF quotes are scored with).
CREATE TABLE IF NOT EXISTS token_df (token TEXT PRIMARY KEY, df INTEGER NOT NULL);
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


def previous_state(path: Path) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str]]]:
    """What a build starts from: path -> (doc_id, content_hash) of every document of a
    generation's database, and the (path, reason) of the files it lists as skipped."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        hashes = {p: (d, h) for p, d, h in
                  db.execute("SELECT path, doc_id, content_hash FROM documents")}
        skipped = sorted(db.execute("SELECT path, reason FROM skipped"))
    finally:
        db.close()
    return hashes, skipped


def stored_files(path: Path) -> tuple[dict[str, tuple[int, float, str]], dict[str, str]]:
    """path -> (size, mtime, content hash) of every document of a generation's database,
    and path -> reason of the files it lists as skipped; StoreError when the database
    cannot be read."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            stored = {p: (size, mtime, digest) for p, size, mtime, digest in
                      db.execute("SELECT path, size, mtime, content_hash FROM documents")}
            skipped = dict(db.execute("SELECT path, reason FROM skipped"))
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"store {path} is unreadable ({exc})") from exc
    return stored, skipped


TokensOf = Callable[[str, list[str], str], list[str]]  # (title, headings, text) -> tokens


def chunk_tokens(db: sqlite3.Connection, tokens_of: TokensOf,
                 version: int) -> tuple[list[int], list[list[str]]]:
    """Chunk ids (ascending) and their BM25 tokens, tokenizing and keeping only new chunks.

    Tokenizing every chunk again is most of the time of a one-document update of a
    corpus of thousands; the tokens of unchanged chunks (of this tokenizer `version`)
    are read back instead.
    """
    rows = db.execute(
        "SELECT c.chunk_id, d.title, c.heading_path, c.text, t.tokens FROM chunks c "
        "JOIN documents d USING (doc_id) LEFT JOIN chunk_tokens t "
        "ON t.chunk_id = c.chunk_id AND t.version = ? ORDER BY c.chunk_id",
        (version,)).fetchall()
    tokens: list[list[str]] = []
    new: list[tuple[int, int, str]] = []
    for chunk_id, title, heading_path, text, kept in rows:
        if kept is None:
            tokens.append(tokens_of(title, json.loads(heading_path), text))
            new.append((chunk_id, version, " ".join(tokens[-1])))
        else:
            tokens.append(kept.split())
    db.executemany("INSERT OR REPLACE INTO chunk_tokens VALUES (?, ?, ?)", new)
    db.commit()
    return [r[0] for r in rows], tokens


def chunk_rows(db: sqlite3.Connection, chunk_ids: Sequence[int]) -> dict[int, dict]:
    """Payload of chunks for a search engine: document, path, offsets, lines, page."""
    found: dict[int, dict] = {}
    ids = [int(i) for i in chunk_ids]
    for i in range(0, len(ids), 500):
        part = ids[i:i + 500]
        rows = db.execute(
            "SELECT c.chunk_id, c.doc_id, d.path, c.start, c.end, c.line_start, c.line_end, "
            "c.page_start FROM chunks c JOIN documents d USING (doc_id) "
            f"WHERE c.chunk_id IN ({','.join('?' * len(part))})", part)
        found.update({r[0]: {"chunk_id": r[0], "doc_id": r[1], "path": r[2], "start": r[3],
                             "end": r[4], "line_start": r[5], "line_end": r[6], "page": r[7]}
                      for r in rows})
    return found


def write_token_df(db: sqlite3.Connection, tokens: Sequence[list[str]]) -> None:
    """Record in how many chunks each token occurs (for IDF without the search engine)."""
    from collections import Counter

    df = Counter(t for chunk in tokens for t in set(chunk))
    db.execute("DELETE FROM token_df")
    db.executemany("INSERT INTO token_df VALUES (?, ?)", df.items())
    db.commit()


class MetaReader:
    """Read-only access to a generation's metadata database, shared between threads."""

    def __init__(self, path: Path, dimension: int) -> None:
        self.dimension = dimension
        try:
            self.db = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True,
                                      check_same_thread=False)
        except sqlite3.Error as exc:  # no read permission (a store built by another user)
            raise StoreError(f"cannot open {path} ({exc}): is it readable by this user? "
                             "Else rebuild with `quotebot index --full`") from exc
        try:
            self.db.execute("SELECT count(*) FROM chunks").fetchone()
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise StoreError(f"store {path} is damaged ({exc}): "
                             "rebuild with `quotebot index --full`") from exc

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
        dim = self.dimension
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
        dim = self.dimension
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
        """chunk id -> its document's path (one query per 10,000 ids)."""
        found: dict[int, str] = {}
        ids = [int(i) for i in chunk_ids]
        for i in range(0, len(ids), 10_000):
            part = ids[i:i + 10_000]
            found.update(self.db.execute(
                f"SELECT c.chunk_id, d.path FROM chunks c JOIN documents d USING (doc_id) "
                f"WHERE c.chunk_id IN ({','.join('?' * len(part))})", part))
        return found

    def chunk_ids(self) -> np.ndarray:
        """Every chunk id, ascending."""
        return np.fromiter((r[0] for r in self.db.execute(
            "SELECT chunk_id FROM chunks ORDER BY chunk_id")), dtype=np.int64)

    def document_text(self, doc_id: str) -> str:
        row = self.db.execute("SELECT text FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        if row is None:
            raise KeyError(doc_id)
        return row[0]

    def skipped(self) -> list[tuple[str, str]]:
        return list(self.db.execute("SELECT path, reason FROM skipped ORDER BY path"))

    def titles(self, limit: int) -> list[str]:
        """The first `limit` documents' titles by path (the path for an untitled one)."""
        rows = self.db.execute("SELECT title, path FROM documents ORDER BY path LIMIT ?",
                               (limit,)).fetchall()
        return [title or path for title, path in rows]

    def close(self) -> None:
        self.db.close()

    def document(self, doc_id: str) -> Document:
        """A stored document's text and its line and page maps (no blocks)."""
        row = self.db.execute(
            "SELECT path, title, format, text, line_anchors, page_starts, content_hash "
            "FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        if row is None:
            raise KeyError(doc_id)
        return Document(doc_id=doc_id, path=row[0], title=row[1], format=row[2], text=row[3],
                        blocks=[], line_anchors=[tuple(a) for a in json.loads(row[4])],
                        page_starts=None if row[5] is None else json.loads(row[5]),
                        content_hash=row[6])

    def token_df(self, tokens: Sequence[str]) -> dict[str, int]:
        """Chunks holding each of these tokens (tokens in no chunk are left out)."""
        unique = sorted(set(tokens))
        if not unique:
            return {}
        return dict(self.db.execute(
            f"SELECT token, df FROM token_df WHERE token IN ({','.join('?' * len(unique))})",
            unique))

    def chunk_ids_within(self, prefixes: Sequence[str]) -> np.ndarray:
        """Ids of the chunks of documents under these folders or paths (sorted)."""
        clauses = " OR ".join("d.path = ? OR substr(d.path, 1, ?) = ?" for _ in prefixes)
        args: list[object] = []
        for p in prefixes:
            folder = p.rstrip("/") + "/"
            args += [p.rstrip("/"), len(folder), folder]
        rows = self.db.execute(f"SELECT c.chunk_id FROM chunks c JOIN documents d "
                               f"USING (doc_id) WHERE {clauses} ORDER BY c.chunk_id", args)
        return np.fromiter((r[0] for r in rows), dtype=np.int64)
