"""Shared fixtures: a tiny corpus in every format, indexed once per session with the real model.

Tests that change a corpus work on a copy of the session's corpus and store
(`fresh_copy`): the copied embedding cache means they embed only what they change.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from support.corpus import make_config, make_corpus

from quotebot.config import Config

os.environ["HF_HUB_OFFLINE"] = "1"  # tests never touch the network
os.environ["TRANSFORMERS_OFFLINE"] = "1"

# Property tests without their own max_examples run this many; the soak script runs the
# same tests with QUOTEBOT_HYPOTHESIS=soak.
settings.register_profile("ci", max_examples=200)
settings.register_profile("soak", max_examples=5000)
settings.load_profile(os.environ.get("QUOTEBOT_HYPOTHESIS", "ci"))

@pytest.fixture(scope="session")
def session_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(corpus, store) of the session's tiny corpus, indexed once with the real model."""
    from index.build import build_index

    base = tmp_path_factory.mktemp("session")
    corpus = make_corpus(base / "corpus")
    store = base / "store"
    build_index(make_config(corpus, store), progress=False)
    return corpus, store


@pytest.fixture(scope="session")
def session_config(session_dirs: tuple[Path, Path]) -> Config:
    """Config of the session's indexed tiny corpus; do not modify its folders."""
    return make_config(*session_dirs)


@pytest.fixture
def fresh_copy(session_dirs: tuple[Path, Path], tmp_path: Path) -> Callable[[], Config]:
    """A private copy of the indexed corpus and store, for tests that change them."""

    def copy() -> Config:
        corpus, store = session_dirs
        shutil.copytree(corpus, tmp_path / "corpus")
        shutil.copytree(store, tmp_path / "store")
        return make_config(tmp_path / "corpus", tmp_path / "store")

    return copy


@pytest.fixture(scope="session")
def retriever(session_config: Config) -> Iterator[Any]:
    """One Retriever on the session's tiny corpus: the model is loaded once per session."""
    from retrieval import Retriever

    opened = Retriever.open(session_config)
    yield opened
    opened.close()
