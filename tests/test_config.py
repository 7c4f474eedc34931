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


@pytest.mark.parametrize("environ", [
    {"QUOTEBOT_RETRIEVAL_K": "0"},  # every question "answered" with nothing
    {"QUOTEBOT_RETRIEVAL_K": "-3"},
    {"QUOTEBOT_MODEL_BATCH_SIZE": "0"},  # a ValueError traceback from range()
    {"QUOTEBOT_CHUNKING_MAX_TOKENS": "-1"},
    {"QUOTEBOT_LOADING_FILE_TIMEOUT_S": "-5"},
    {"QUOTEBOT_RETRIEVAL_MIN_CONFIDENCE": "nan"},  # every answer "found"
    {"QUOTEBOT_RETRIEVAL_MIN_CONFIDENCE": "7"},  # every answer "not sure"
    {"QUOTEBOT_INDEX_KEEP_GENERATIONS": "-1"},
    {"QUOTEBOT_STORE": ""},  # an unset shell variable: the index would go in the cwd
    {"QUOTEBOT_CORPUS": ""},
    {"QUOTEBOT_LOADING_MAX_FILE_MB": "inf"},  # an OverflowError traceback in a build
    {"QUOTEBOT_INDEX_WATCH_DEBOUNCE_S": "inf"},
    {"QUOTEBOT_LOADING_FILE_MEMORY_MB": "9223372036854775807"},  # overflowed setrlimit
    {"QUOTEBOT_LOADING_WORKERS": "100000"},  # never finished starting its workers
])
def test_values_out_of_range_are_config_errors_naming_the_key(environ) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(None, environ=environ)
    name = next(iter(environ)).removeprefix("QUOTEBOT_").lower()
    assert name.split("_")[0] in str(error.value)


@pytest.mark.parametrize("content", [
    b"\xff\xfe[retrieval]\x00k = 3",  # not UTF-8: a UnicodeDecodeError traceback
    b"store = 5\n",  # a TypeError traceback
    b"corpus = \"\"\n",
])
def test_a_config_file_that_cannot_be_used_is_a_config_error(tmp_path: Path, content) -> None:
    file = tmp_path / "config.toml"
    file.write_bytes(content)
    with pytest.raises(ConfigError, match="config.toml"):
        load_config(file, environ={})


def test_the_defaults_and_the_shipped_config_are_valid() -> None:
    load_config(None, environ={})
    load_config(Path(__file__).resolve().parents[1] / "config.toml", environ={})
