"""Remember files that could not be parsed, by content hash, so they are not parsed again.

A file that timed out, ran out of memory, crashed its worker or was refused costs its
whole budget at every build unless its failure is remembered. The memory lives beside
the embedding cache in the store (`skipped.sqlite`), keyed by the file's SHA-256 and the
parser's key (`index.parsing.parser_key`: the parsing code and the limits), so a file is
tried again when it changes, when the parsers change, or when the limits are raised.
Like the cache it is only a cache: a damaged one is started afresh.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

SKIPS = "skipped.sqlite"


class SkipMemory:
    """content hash -> the reason its file was skipped, under one parser key."""

    def __init__(self, path: Path, key: str) -> None:
        self.path, self.key = path, key
        try:
            self.db = self._open()
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError):
                raise  # full, read-only, locked: not damage
            path.unlink(missing_ok=True)  # damaged: it only saves time, start again
            self.db = self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60)
        try:
            db.execute("CREATE TABLE IF NOT EXISTS skipped (content_hash TEXT NOT NULL, "
                       "parser TEXT NOT NULL, reason TEXT NOT NULL, "
                       "PRIMARY KEY (content_hash, parser))")
            db.execute("DELETE FROM skipped WHERE parser != ?", (self.key,))  # stale keys
            db.commit()
        except BaseException:
            db.close()
            raise
        return db

    def get(self, content_hash: str) -> str | None:
        """Why the file with this content was skipped, if it was under this parser key."""
        row = self.db.execute("SELECT reason FROM skipped WHERE content_hash=? AND parser=?",
                              (content_hash, self.key)).fetchone()
        return row[0] if row else None

    def put(self, content_hash: str, reason: str) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO skipped VALUES (?, ?, ?)",
                            (content_hash, self.key, reason))

    def clear(self) -> None:
        """Forget everything (a `--full` rebuild tries every file again)."""
        with self.db:
            self.db.execute("DELETE FROM skipped")

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.close()
