"""Small corpora indexed with the real model, for tests of ranking and quote choice."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from quotebot.config import Config
from retrieval import Retriever


@contextmanager
def indexed(base: Path, files: Mapping[str, str]) -> Iterator[Retriever]:
    """A Retriever over `files` (name -> text), written to base/corpus and indexed into
    base/store with the default configuration."""
    from index.build import build_index

    (base / "corpus").mkdir()
    for name, text in files.items():
        (base / "corpus" / name).write_text(text, encoding="utf-8")
    config = Config()
    config.corpus, config.store = base / "corpus", base / "store"
    build_index(config, progress=False)
    with Retriever.open(config) as opened:
        yield opened


@contextmanager
def settings_changed(retriever: Retriever, **changes: Any) -> Iterator[Retriever]:
    """The retriever with these `Settings` fields changed, restored afterwards."""
    default = retriever.settings
    retriever.settings = replace(default, **changes)
    try:
        yield retriever
    finally:
        retriever.settings = default
