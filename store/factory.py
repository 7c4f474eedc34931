"""The store backends by name, like txtai's `ann/dense/factory.py`: "faiss" or "qdrant"."""

from __future__ import annotations

from pathlib import Path

from quotebot.config import Config
from quotebot.errors import ConfigError
from store import generations as gen
from store.protocol import Reader
from store.writer import GenerationWriter, Previous, Tokenizer

BACKENDS = ("faiss", "qdrant")


def check_backend(name: str) -> str:
    if name not in BACKENDS:
        raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}, not {name!r}")
    return name


def open_reader(config: Config, folder: Path | None = None) -> Reader:
    """A generation of `config.store` (the live one unless `folder` names another), opened
    with the configured backend."""
    backend = check_backend(config.backend)
    if backend == "qdrant":
        from store.qdrant import QdrantReader

        return QdrantReader(Path(config.store), config.qdrant, folder)
    from store.faiss import FaissReader

    return FaissReader(Path(config.store), config.index, folder=folder)


def open_writer(config: Config, template: gen.Manifest, previous: Previous | None,
                tokenizer: Tokenizer) -> GenerationWriter:
    """A new generation of `config.store` for a build, written by the configured backend."""
    backend = check_backend(config.backend)
    store = Path(config.store)
    if backend == "qdrant":
        from store.qdrant import QdrantWriter

        return QdrantWriter(store, template, previous, tokenizer, config.qdrant)
    from store.faiss import FaissWriter

    return FaissWriter(store, template, previous, tokenizer, config.index)
