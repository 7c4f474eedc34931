"""A persistent embedding cache keyed by chunk-text hash, one table per model.

Embedding is the expensive step, so every vector computed is kept here and a chunk
whose text was seen before is never embedded again, across builds and documents.
Rows are committed batch by batch: a build that is killed keeps what it finished.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np


class EmbeddingCache:
    """text_hash -> (chunk vector float32, sentence vectors float16) for one model."""

    def __init__(self, path: Path, fingerprint: str, dimension: int) -> None:
        self.path = path
        self.dimension = dimension
        self.table = f"emb_{fingerprint}"
        self.db = sqlite3.connect(path, timeout=60)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            "text_hash TEXT PRIMARY KEY, vector BLOB NOT NULL, sentences BLOB NOT NULL)"
        )
        self.db.commit()

    def get_many(self, hashes: Iterable[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The cached vectors for those of `hashes` that are present."""
        found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        wanted = list(dict.fromkeys(hashes))
        for i in range(0, len(wanted), 500):
            part = wanted[i:i + 500]
            marks = ",".join("?" * len(part))
            rows = self.db.execute(
                f"SELECT text_hash, vector, sentences FROM {self.table} "
                f"WHERE text_hash IN ({marks})", part)
            for text_hash, vector, sentences in rows:
                found[text_hash] = (
                    np.frombuffer(vector, dtype=np.float32),
                    np.frombuffer(sentences, dtype=np.float16).reshape(-1, self.dimension),
                )
        return found

    def put_many(self, items: Sequence[tuple[str, np.ndarray, np.ndarray]]) -> None:
        """Store (text_hash, chunk vector, sentence vectors) rows in one transaction."""
        with self.db:
            self.db.executemany(
                f"INSERT OR REPLACE INTO {self.table} VALUES (?, ?, ?)",
                [(h, np.asarray(v, np.float32).tobytes(), np.asarray(s, np.float16).tobytes())
                 for h, v, s in items],
            )

    def clear(self) -> None:
        """Forget this model's vectors (a `--full` rebuild re-embeds everything)."""
        with self.db:
            self.db.execute(f"DELETE FROM {self.table}")

    def close(self) -> None:
        self.db.close()
