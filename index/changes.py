"""Has the corpus changed since the live index was built? A cheap check: names, sizes, mtimes.

The bot asks this at start: a file saved (or removed) while it was down is then indexed
without waiting for an admin's /reindex. A file whose size differs from the one stored is
"changed" without reading it; only a file with the same size and a new modification time
(touched, copied, restored from a backup) is hashed, so a file whose bytes did not change
is not reported as a pending change by `quotebot status` and does not start a build.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from index.loaders import indexed_suffixes
from index.scan import scan_corpus
from quotebot.config import Config
from quotebot.errors import StoreError
from store import generations as st
from store.meta import stored_files


@dataclass
class CorpusChanges:
    """Relative paths added, changed (size or mtime) and removed since the live index."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    no_index: bool = False  # no usable live index at all
    skipped: dict[str, str] = field(default_factory=dict)  # the live build's skips: why

    @property
    def any(self) -> bool:
        """Files differ from the index (with no index: the corpus has files)."""
        return bool(self.added or self.changed or self.removed)

    def __bool__(self) -> bool:
        return self.no_index or self.any

    def summary(self) -> str:
        if self.no_index:
            return "no index yet"
        return (f"{len(self.added)} added, {len(self.changed)} changed, "
                f"{len(self.removed)} removed")


def corpus_changes(config: Config) -> CorpusChanges:
    """What differs between `config.corpus` on disk and the live generation's documents.

    Files the live build skipped count as known (they are retried by the next build that
    runs for another reason), unless changed since it was made: a broken file replaced by a
    good one is "added", so the bot's start-up check builds it. With no usable index every
    file is "added".
    """
    stored: dict[str, tuple[int, float, str]] = {}
    skipped: dict[str, str] = {}
    changes = CorpusChanges()
    try:
        live = st.current_generation(config.store)
        if live is not None:
            stored, skipped = stored_files(live / st.META)
    except StoreError:
        live = None
    changes.no_index, changes.skipped = live is None, skipped
    built = st.checked_at(live) if live is not None else 0.0
    suffixes = indexed_suffixes(config.loading.extensions)
    files, _, _ = scan_corpus(config.corpus, suffixes)
    seen = set()
    for rel, path in files:
        seen.add(rel)
        if rel in skipped and rel not in stored and _modified(path) <= built:
            continue
        if rel not in stored:
            changes.added.append(rel)
            continue
        try:
            stat = path.stat()
        except OSError:
            continue  # gone since the scan: the build will see it
        size, mtime, digest = stored[rel]
        if stat.st_size != size or (abs(stat.st_mtime - mtime) > 1e-3
                                    and _content_hash(path) != digest):
            changes.changed.append(rel)
    changes.removed = sorted(set(stored) - seen)
    return changes


def _modified(path: Path) -> float:
    """When `path` was last written (0 when it cannot be read)."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _content_hash(path: Path) -> str | None:
    """The build's content hash of a file (sha256 of its bytes), None when unreadable."""
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None
