"""Has the corpus changed since the live index was built? A cheap check: names, sizes, mtimes.

The bot asks this at start: a file saved (or removed) while it was down is then indexed
without waiting for an admin's /reindex. Nothing is read or hashed; a file whose size or
modification time differs from the one stored is "changed", and the build itself then
compares contents (an unchanged file is not parsed or embedded again).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from index import store as st
from index.build import scan_corpus
from index.loaders import SUPPORTED_SUFFIXES
from quotebot.config import Config


@dataclass
class CorpusChanges:
    """Relative paths added, changed (size or mtime) and removed since the live index."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    no_index: bool = False  # no usable live index at all

    def __bool__(self) -> bool:
        return self.no_index or bool(self.added or self.changed or self.removed)

    def summary(self) -> str:
        if self.no_index:
            return "no index yet"
        return (f"{len(self.added)} added, {len(self.changed)} changed, "
                f"{len(self.removed)} removed")


def corpus_changes(config: Config) -> CorpusChanges:
    """What differs between `config.corpus` on disk and the live generation's documents.

    Files the live build skipped count as known (they are retried by the next build that
    runs for another reason).
    """
    try:
        live = st.current_generation(config.store)
    except st.StoreError:
        live = None
    if live is None:
        return CorpusChanges(no_index=True)
    try:
        db = sqlite3.connect(f"file:{live / st.META}?mode=ro", uri=True)
        try:
            stored = {path: (size, mtime) for path, size, mtime in
                      db.execute("SELECT path, size, mtime FROM documents")}
            skipped = {path for (path,) in db.execute("SELECT path FROM skipped")}
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return CorpusChanges(no_index=True)
    suffixes = {s.lower() for s in config.loading.extensions} & set(SUPPORTED_SUFFIXES)
    files, _, _ = scan_corpus(config.corpus, suffixes)
    changes = CorpusChanges()
    seen = set()
    for rel, path in files:
        seen.add(rel)
        if rel in skipped and rel not in stored:
            continue
        if rel not in stored:
            changes.added.append(rel)
            continue
        try:
            stat = path.stat()
        except OSError:
            continue  # gone since the scan: the build will see it
        size, mtime = stored[rel]
        if stat.st_size != size or abs(stat.st_mtime - mtime) > 1e-3:
            changes.changed.append(rel)
    changes.removed = sorted(set(stored) - seen)
    return changes
