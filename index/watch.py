"""Watch mode: keep the index up to date with the corpus folder, by itself.

`watch_corpus` builds once (to catch up), then waits for changes in the corpus folder
(watchfiles: inotify on Linux) and, once no change has come for `index.watch_debounce_s`
seconds, runs one incremental build for all of them: a copy of 500 files is one or two
builds, not 500. Editors' temporary and lock files, partial uploads, hidden files and
files of other extensions are ignored. If another build holds the store (a `quotebot
index` from a shell), the watcher waits for it and then builds.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

import watchfiles

from index.build import BuildBusy, BuildReport
from index.progress import mark_watching, unmark_watching
from quotebot.config import Config

logger = logging.getLogger(__name__)

# Temporary files of editors and downloaders (vim's .swp and its "4913" probe, emacs'
# "#x#" and ".#x", "x~" backups, partial downloads): never documents.
TEMP_SUFFIXES = {".swp", ".swx", ".swo", ".tmp", ".temp", ".part", ".partial", ".crdownload",
                 ".download", ".kate-swp", ".bak", ".lock"}
MAX_BATCH_S = 30.0  # a change stream that never pauses is still built every this often


def is_relevant(path: Path, corpus: Path, suffixes: set[str]) -> bool:
    """True for a change the index must follow: a document of a configured extension, or a
    folder (renaming or deleting a folder reports only the folder)."""
    try:
        parts = path.relative_to(corpus).parts
    except ValueError:
        return False
    if not parts or any(p.startswith(".") for p in parts):
        return False  # hidden files and folders (also .#lock files, .upload-*.part)
    name = parts[-1]
    if name.endswith("~") or (name.startswith("#") and name.endswith("#")) or name == "4913":
        return False
    suffix = Path(name).suffix.lower()
    if suffix in TEMP_SUFFIXES:
        return False
    if suffix in suffixes:
        return True
    return path.is_dir() or not suffix  # a folder (or a gone one: no suffix)


def corpus_filter(corpus: Path, suffixes: set[str]) -> Callable[[watchfiles.Change, str], bool]:
    """Keep the changes `is_relevant` keeps. The watcher reports paths under the folder as
    it was named, or as resolved: with a symlink on the way (`/home -> /data/home`) both
    forms are tried, else every change under it was dropped and no build followed."""
    roots = list(dict.fromkeys((Path(os.path.abspath(corpus)), Path(corpus).resolve())))

    def keep(change: watchfiles.Change, path: str) -> bool:
        return any(is_relevant(Path(path), root, suffixes) for root in roots)

    return keep


def build_after_others(build: Callable[[bool], BuildReport]) -> BuildReport:
    """Build now; if another build is running, wait for it, then build."""
    try:
        return build(False)
    except BuildBusy:
        logger.info("another build is running on the store: building after it")
        return build(True)


def watch_corpus(config: Config, build: Callable[[bool], BuildReport], *,
                 on_report: Callable[[BuildReport], None] | None = None,
                 on_error: Callable[[Exception], None] | None = None,
                 stop: threading.Event | None = None, catch_up: bool = True) -> None:
    """Build after each settled batch of corpus changes until `stop` is set (or Ctrl-C).

    `build(wait)` runs one incremental build (`wait`: queue behind a running one). A build
    that fails is reported to `on_error` and the watch goes on.
    """
    from index.loaders import indexed_suffixes

    corpus, store = Path(config.corpus), Path(config.store)
    suffixes = indexed_suffixes(config.loading.extensions)
    quiet_ms = max(int(config.index.watch_debounce_s * 1000), 50)
    mark_watching(store, corpus)

    def run() -> None:
        try:
            report = build_after_others(build)
        except Exception as exc:  # noqa: BLE001 - logged/reported; the watch goes on
            logger.error("index build failed: %s", exc)
            if on_error:
                on_error(exc)
            return
        if on_report:
            on_report(report)

    try:
        if catch_up:
            run()
        logger.info("watching %s for changes (indexed %.1f s after the last one)",
                    corpus, quiet_ms / 1000)
        for changes in watchfiles.watch(corpus, watch_filter=corpus_filter(corpus, suffixes),
                                        step=quiet_ms,
                                        debounce=max(int(MAX_BATCH_S * 1000), 2 * quiet_ms),
                                        stop_event=stop, raise_interrupt=False,
                                        rust_timeout=1000, yield_on_timeout=False):
            logger.info("%d change(s) in the corpus: updating the index", len(changes))
            run()
    finally:
        unmark_watching(store)
