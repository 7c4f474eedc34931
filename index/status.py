"""What state a store is in, for people (`quotebot status`, the bot's /stats) and scripts.

Cheap enough to run at any time: reads the live generation's manifest and its document
list (paths, sizes, times), walks the corpus folder with `stat` only (no file is read),
and reads the small progress files a running build and a watcher keep in the store.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from index.changes import CorpusChanges
from index.progress import read_progress, read_watching
from quotebot.config import Config
from quotebot.errors import StoreError
from store import generations as st
from store.meta import previous_state

EXAMPLES = 5  # changed paths listed by name (the rest are counted)


@dataclass
class StoreStatus:
    store: str
    corpus: str
    generation: int | None = None  # None: nothing built yet (or CURRENT damaged: `problem`)
    built: str = ""  # ISO time the live generation was built
    documents: int = 0
    passages: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    build: dict[str, Any] | None = None  # the running (or killed) build's progress
    pending: CorpusChanges = field(default_factory=CorpusChanges)
    watching: dict[str, Any] | None = None
    problem: str = ""
    corpus_problem: str = ""  # "not found" or "not a folder": no changes can be listed

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["skipped"] = [{"path": p, "reason": r} for p, r in self.skipped]
        data["pending"]["any"] = self.pending.any
        return data

    def lines(self) -> list[str]:
        """The status in plain words, one fact per line."""
        out = []
        if self.generation is None:
            out.append(f"Index: {self.problem or 'none yet'} (store {self.store})")
        else:
            out.append(f"Index: generation {self.generation}, built {self.built or '?'} "
                       f"(store {self.store})")
            out.append(f"Documents: {self.documents} ({self.passages} passages)")
        out.append(f"Skipped files: {len(self.skipped)}")
        out += [f"  {path}: {reason}" for path, reason in self.skipped[:10]]
        if len(self.skipped) > 10:
            out.append(f"  ... and {len(self.skipped) - 10} more")
        b = self.build
        if b and b.get("running"):
            total = f" {b.get('done', 0)}/{b['total']}" if b.get("total") else ""
            out.append(f"Build: running (pid {b.get('pid')}), {b.get('phase')}{total}")
        elif b:
            out.append(f"Build: none running (the last one, pid {b.get('pid')}, was "
                       f"interrupted while {b.get('phase')})")
        else:
            out.append("Build: none running")
        p = self.pending
        if self.corpus_problem:
            out.append(f"Corpus: {self.corpus_problem} ({self.corpus})")
        elif p.any:
            parts = [f"{len(v)} {k}" for k, v in
                     (("added", p.added), ("changed", p.changed), ("removed", p.removed)) if v]
            names = p.added + p.changed + p.removed
            more = ", ..." if len(names) > EXAMPLES else ""
            out.append(f"Corpus: changes not indexed yet ({', '.join(parts)}: "
                       f"{', '.join(names[:EXAMPLES])}{more})")
        else:
            out.append(f"Corpus: up to date ({self.corpus})")
        w = self.watching
        out.append(f"Watch mode: on (pid {w['pid']})" if w else "Watch mode: off")
        return out


def store_status(config: Config) -> StoreStatus:
    """The store's status now (never raises for a missing or damaged store: `problem`)."""
    from index.changes import corpus_changes

    store, corpus = Path(config.store), Path(config.corpus)
    status = StoreStatus(store=str(store), corpus=str(corpus), build=read_progress(store),
                         watching=read_watching(store))
    try:
        folder = st.current_generation(store)
        if folder is not None:
            manifest = st.Manifest.read(folder)
            st.verify_files(folder, manifest)  # what opening checks: a truncated file
            status.generation = st.generation_number(folder)
            status.built = manifest.created
            status.documents, status.passages = manifest.n_documents, manifest.n_chunks
            status.skipped = previous_state(folder / st.META)[1]
    except (StoreError, sqlite3.DatabaseError, OSError) as exc:
        status.generation = None
        status.problem = f"unusable ({exc})"
    if corpus.is_dir():
        status.pending = corpus_changes(config)
    else:
        status.corpus_problem = "not a folder" if corpus.exists() else "folder not found"
    return status
