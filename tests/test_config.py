"""The config keys of the store backends and of scoped chats: file, environment, validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from quotebot.config import ConfigError, load_config


def test_backend_qdrant_section_and_chat_scopes_load_from_the_file(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    file.write_text('backend = "qdrant"\n[qdrant]\nurl = "http://q:6333"\nshards = 4\n'
                    '[telegram.scopes]\n"-100123" = ["reports/2024", "hr"]\n', encoding="utf-8")
    config = load_config(file, environ={})
    assert config.backend == "qdrant" and config.qdrant.url == "http://q:6333"
    assert config.qdrant.shards == 4 and config.telegram.scopes == {-100123: ["reports/2024", "hr"]}


def test_environment_sets_backend_and_scopes() -> None:
    config = load_config(None, environ={
        "QUOTEBOT_BACKEND": "qdrant", "QUOTEBOT_TELEGRAM_SCOPES": "-1=a;b/c,42=d"})
    assert config.backend == "qdrant" and config.telegram.scopes == {-1: ["a", "b/c"], 42: ["d"]}


def test_unknown_backend_is_a_config_error() -> None:
    from store.factory import open_reader

    config = load_config(None, environ={"QUOTEBOT_BACKEND": "elastic"})
    with pytest.raises(ConfigError, match="backend must be one of faiss, qdrant"):
        open_reader(config)
