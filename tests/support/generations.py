"""Publishing generations quickly: copies of built ones, as a build would publish them."""

from __future__ import annotations

import shutil
from pathlib import Path

from store.generations import _generations, prune, publish


def publish_copy(store: Path, source: Path, *, keep: int = 2) -> Path:
    """Copy the generation folder `source` to the store's next number, make it live and
    prune as a build does (files keep their times, so their checksums still match)."""
    number = max(n for n, _, _ in _generations(store)) + 1
    folder = store / f"gen-{number:06d}"
    shutil.copytree(source, store / f"{folder.name}.partial")
    (store / f"{folder.name}.partial").rename(folder)
    publish(store, folder)
    prune(store, keep)
    return folder
