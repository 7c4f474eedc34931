"""The store backends a test suite runs against: FAISS, embedded Qdrant, and a real Qdrant
server when QDRANT_URL is set (skipped otherwise, saying so)."""

from __future__ import annotations

import os
import uuid

import pytest

from quotebot.config import Config

QDRANT_URL = os.environ.get("QDRANT_URL", "")

BACKENDS = [
    pytest.param("faiss", id="faiss"),
    pytest.param("qdrant", id="qdrant-embedded"),
    pytest.param("qdrant-server", id="qdrant-server", marks=pytest.mark.skipif(
        not QDRANT_URL, reason="no Qdrant server: set QDRANT_URL=http://host:6333 to run the "
        "backend suite against one")),
]


def use_backend(config: Config, backend: str) -> Config:
    """`config` set to build and read with `backend` (a server gets its own collection)."""
    if backend == "qdrant-server":
        config.backend = "qdrant"
        config.qdrant.url = QDRANT_URL
        config.qdrant.collection = f"quotebot-test-{uuid.uuid4().hex[:8]}"
    else:
        config.backend = backend
    return config


def release(config: Config) -> None:
    """Close what a test opened on its store (the embedded Qdrant client) or on a server."""
    if config.backend != "qdrant":
        return
    from store.qdrant import close_embedded, connect

    if config.qdrant.url:
        client = connect(config.store, config.qdrant)
        for c in client.get_collections().collections:
            if c.name.startswith(config.qdrant.collection):
                client.delete_collection(c.name)
    else:
        close_embedded(config.store)
